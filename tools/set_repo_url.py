"""Keep the repository URL in one place: ``[project.urls] Repository`` in pyproject.toml.

Every notebook's first code cell (the Colab install cell) and the README's "Open in Colab"
links are generated from that URL. After forking, point them at your fork with one command:

    python tools/set_repo_url.py https://github.com/YOU/YOUR-FORK   # writes pyproject.toml too
    python tools/set_repo_url.py                                    # re-sync from pyproject.toml
    python tools/set_repo_url.py --check                            # exit 1 if anything differs

``tests/test_colab_cell.py`` fails while any notebook or the README disagrees with pyproject.
Only the first code cell's source and the README's Colab links are rewritten; stored
outputs are untouched (the Colab cell prints nothing outside Colab).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import series  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"
README = REPO / "README.md"
URL_LINE = re.compile(r'^(Repository = ")([^"]*)(")$', re.MULTILINE)
GITHUB_URL = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]*/blob/main/"
                        r"(notebooks/[\w/.-]+\.ipynb)")

COLAB_CELL = '''\
# On Google Colab only: install this project's `helpers` package (and torchinfo).
# Anywhere else this cell does nothing. Working from a fork? See "Forks" in the README.
REPO_URL = "{url}"
try:
    import google.colab  # noqa: F401
except ImportError:
    pass
else:
    import subprocess
    import sys

    # Colab already has setuptools, so pip builds the package without fetching it again.
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                              "--no-build-isolation", f"git+{{REPO_URL}}"],
                             capture_output=True, text=True)
    if install.returncode != 0:
        raise RuntimeError(
            f"pip could not install the tutorial's helpers from {{REPO_URL}}:\\n"
            f"{{install.stderr[-1500:]}}\\nCheck that this runtime is online and that "
            "REPO_URL names a public git repository of this project (your fork's URL if "
            "you work from a fork), then run this cell again.")'''


def repo_url() -> str:
    """The URL in pyproject.toml's [project.urls] Repository."""
    with PYPROJECT.open("rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def colab_cell(url: str) -> str:
    """The first code cell every notebook carries, for ``url``."""
    return COLAB_CELL.format(url=url)


def colab_link(url: str, notebook: str) -> str:
    """The "Open in Colab" address of ``notebook`` (a path like notebooks/00_tensors.ipynb)."""
    match = GITHUB_URL.match(url)
    if not match:
        raise ValueError(f"Colab opens notebooks from GitHub: expected https://github.com/OWNER/"
                         f"REPO, got {url!r}")
    return f"https://colab.research.google.com/github/{match[1]}/{match[2]}/blob/main/{notebook}"


def notebooks() -> list[Path]:
    """Every lesson and solutions notebook (of REPO, which the tests point at a copy)."""
    return series.notebooks(REPO)


def first_code_cell(nb: dict) -> dict:
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def sync(url: str, check: bool) -> list[str]:
    """Rewrite (or, with ``check``, only list) everything that disagrees with ``url``."""
    stale = []
    wanted = colab_cell(url)
    for path in notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = first_code_cell(nb)
        if "".join(cell["source"]) != wanted:
            stale.append(str(path.relative_to(REPO)))
            if not check:
                cell["source"] = wanted.splitlines(keepends=True)
                _write(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    readme = README.read_text(encoding="utf-8")
    new_readme = COLAB_LINK.sub(lambda m: colab_link(url, m[1]), readme)
    if new_readme != readme:
        stale.append("README.md")
        if not check:
            _write(README, new_readme)
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", help="a new repository URL (written to pyproject.toml)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    if args.url:
        colab_link(args.url, "x.ipynb")  # validates the form
        text = PYPROJECT.read_text(encoding="utf-8")
        if not URL_LINE.search(text):
            parser.error("pyproject.toml has no 'Repository = \"...\"' line under [project.urls]")
        _write(PYPROJECT, URL_LINE.sub(lambda m: m[1] + args.url + m[3], text))
    stale = sync(repo_url(), args.check)
    verb = "out of date" if args.check else "rewritten"
    for name in stale:
        print(f"{verb}: {name}")
    if not stale:
        print(f"everything uses {repo_url()}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
