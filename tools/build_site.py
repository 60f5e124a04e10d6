"""Build the series' website from the stored notebooks (never re-executed) into site/_build/html.

    python tools/build_site.py          # then open site/_build/html/index.html

Sphinx with myst-nb renders every notebook's stored outputs (``nb_execution_mode = "off"``:
``pytest --nbval`` has already verified them) with sphinx-book-theme; the configuration,
templates and CSS are in ``site/``. Warnings are errors (``sphinx-build -W``).

What the script does:
1. stages the sources in ``site/_build/src``: the README as the home page (``index.md``) with
   a sidebar of the lessons and their solutions, in order (``tools/series.py``), and a copy
   of every notebook; links to repository files that are not pages (``helpers/``, a ``.py``
   file) point to the repository on GitHub (``tools/set_repo_url.py``'s ``repo_url()``);
2. runs Sphinx on it (``site/conf.py``), output in ``site/_build/html``;
3. writes empty table header cells (pandas' corner cell) as plain cells, puts each stored
   ``.ipynb`` beside its page (the page's "Download .ipynb" link) and
   copies MathJax 3 from the ``sphinx-mathjax-offline`` wheel into ``_static/mathjax``, so
   the site shows its maths offline, from disk or from any local server.

Accessibility: each figure's ``alt`` text comes from its cell's metadata
``{"mystnb": {"image": {"alt": "..."}}}``, which myst-nb applies to the cell's images
(tests/test_notebooks.py checks every figure has one); "Going deeper" sections are marked
optional and closed (``site/conf.py``); e2e/test_site.py runs axe-core on every page.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "site"
BUILD = SITE / "_build"
sys.path.insert(0, str(REPO / "tools"))
from series import notebooks  # noqa: E402
from set_repo_url import repo_url  # noqa: E402

# The parts of MathJax 3 that tex-chtml.js loads (on demand included: TeX extensions, fonts,
# the menu and its accessibility tools); the other combined builds are left out.
MATHJAX_PARTS = ["tex-chtml.js", "input", "output", "ui", "a11y", "sre", "adaptors"]
# [text](target) in Markdown: target without spaces, balanced parentheses allowed.
MD_LINK = re.compile(r"(\]\()((?:[^()\s]|\([^()\s]*\))+)((?:\s+\"[^\"]*\")?\))")


def _github_url(path: Path) -> str:
    kind = "tree" if path.is_dir() else "blob"
    return f"{repo_url()}/{kind}/main/{path.relative_to(REPO).as_posix()}"


def rewrite_links(markdown: str, where: Path) -> str:
    """Point links to repository files that are not pages (not .ipynb/.md) at GitHub.

    ``where`` is the folder the Markdown lives in, in the repository. Links to notebooks,
    anchors and absolute URLs are left as they are (Sphinx resolves notebook links).
    """

    def fix(match: re.Match) -> str:
        target = match[2]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return match[0]
        path_part = target.split("#", 1)[0]
        resolved = (where / path_part).resolve()
        if resolved.suffix in (".ipynb", ".md") or not resolved.exists():
            return match[0]  # a page, or missing: Sphinx (and tests/test_prose.py) report it
        if not resolved.is_relative_to(REPO):
            return match[0]
        return match[1] + _github_url(resolved) + match[3]

    return MD_LINK.sub(fix, markdown)


# An empty header cell: pandas writes one in the corner of every DataFrame's table and, for a
# named index (df.set_index("model")), one per column in the index-name row; a Markdown table
# with an empty corner (| | a | b |) gives <th class="head"><p></p></th>.
EMPTY_HEADER = re.compile(r"<th(\s[^>]*)?>(\s*(?:<p>\s*</p>)?\s*)</th>")


def fix_empty_headers(html: str) -> str:
    """Write empty table header cells as plain cells, ``<th></th>`` -> ``<td></td>``.

    A header with no text heads nothing, and a screen reader announces it as an unnamed
    header (axe-core's rule ``empty-table-header``). Applied to the built pages; the
    notebooks are left as stored.
    """
    return EMPTY_HEADER.sub(r"<td\1>\2</td>", html)


def stage(src: Path) -> dict[Path, str]:
    """Write the Sphinx sources: index.md from the README, and the notebooks.

    Returns each notebook's text as read (other people may be saving notebooks meanwhile:
    the page and the .ipynb beside it come from the same read).
    """
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    lessons, solutions = [], []
    stored = {}
    for path in notebooks():
        relative = path.relative_to(REPO)
        (lessons if path.parent.name == "notebooks" else solutions).append(
            relative.with_suffix("").as_posix())
        stored[relative] = path.read_text(encoding="utf-8")
        nb = json.loads(stored[relative])
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                cell["source"] = rewrite_links(text, path.parent)
        target = src / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    readme = rewrite_links((REPO / "README.md").read_text(encoding="utf-8"), REPO)
    toctrees = [
        "", "```{toctree}", ":hidden:", ":caption: Lessons", "", *lessons, "```",
        "", "```{toctree}", ":hidden:", ":caption: Exercise solutions", "", *solutions, "```", "",
    ]
    (src / "index.md").write_text(readme.rstrip("\n") + "\n" + "\n".join(toctrees),
                                  encoding="utf-8")
    return stored


def mathjax_source() -> Path:
    """MathJax 3 as the sphinx-mathjax-offline wheel ships it (what a CDN would serve)."""
    dist = importlib.metadata.distribution("sphinx-mathjax-offline")
    folder = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))
    if not (folder / "tex-chtml.js").is_file():
        raise SystemExit(f"MathJax not found in {folder}: pip install -r requirements.txt")
    return folder


def finish(out: Path, stored: dict[Path, str]) -> None:
    """Empty table headers fixed, each notebook beside its page, MathJax in _static/mathjax."""
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        fixed = fix_empty_headers(html)
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")
    for relative, text in stored.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    source, dest = mathjax_source(), out / "_static" / "mathjax"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, dest / part)
        else:
            shutil.copy2(source / part, dest / part)


def build(out: Path, jobs: str) -> int:
    from sphinx.cmd.build import build_main

    src = BUILD / "src"
    stored = stage(src)
    for stale in (out, BUILD / "doctrees"):  # a clean build: every page re-read, every warning
        if stale.exists():
            shutil.rmtree(stale)
    status = build_main(["-b", "html", "-W", "--keep-going", "-q", "-j", jobs,
                         "-c", str(SITE), "-d", str(BUILD / "doctrees"), str(src), str(out)])
    if status != 0:
        return status
    finish(out, stored)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="output folder")
    parser.add_argument("-j", "--jobs", default="auto", help="Sphinx parallel jobs")
    args = parser.parse_args()
    started = time.monotonic()
    status = build(args.out.resolve(), args.jobs)
    if status != 0:
        print("site build failed (warnings are errors)", file=sys.stderr)
        return status
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"site built in {time.monotonic() - started:.1f} s: {args.out} "
          f"({size / 2**20:.1f} MiB); open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
