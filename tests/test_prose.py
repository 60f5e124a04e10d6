"""The series' prose: spelling, and every link between lessons, solutions, sections and files.

- Spelling: codespell over every Markdown cell of ``notebooks/*.ipynb`` and
  ``notebooks/solutions/*.ipynb``, the README and every docstring in ``helpers/``. Words
  codespell wrongly flags go in ``site/wordlist.txt`` (genuine technical terms only).
- Links: every relative link in those Markdown cells and the README must resolve: another
  lesson, a solutions notebook, a section of a notebook (``#Heading-text``, the anchor
  JupyterLab gives a heading: its text with spaces replaced by ``-``; the site uses the same),
  a section of a Markdown file (GitHub's anchors), or a file or folder of the repository.
  External links are listed (``pytest -s`` prints them) and checked for form only: no network.

The last tests plant a misspelling and a broken anchor in temporary copies and check that
the checks report them, so the checks cannot silently pass on everything.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from series import lessons, notebooks  # noqa: E402

WORDLIST = REPO / "site" / "wordlist.txt"


def notebook_paths(repo: Path = REPO) -> list[Path]:
    return notebooks(repo)


@dataclass(frozen=True)
class Text:
    """A piece of prose: where it comes from (for messages), its folder (for links)."""

    where: str  # "notebooks/00_tensors.ipynb, cell 12" or "README.md" or "helpers/x.py:10"
    text: str
    path: Path  # the file it is in; relative links start from its folder
    first_line: int = 1  # the line of the file where the text starts (docstrings)


def markdown_cells(path: Path, repo: Path = REPO) -> list[Text]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    name = path.relative_to(repo).as_posix()
    return [Text(f"{name}, cell {i}", "".join(c["source"]), path)
            for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


def docstrings(path: Path, repo: Path = REPO) -> list[Text]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                line = node.body[0].lineno
                found.append(Text(f"{path.relative_to(repo).as_posix()}:{line}", doc,
                                  path, line))
    return found


def prose(repo: Path = REPO) -> list[Text]:
    """Everything the spelling check reads."""
    texts = [Text("README.md", (repo / "README.md").read_text(encoding="utf-8"), repo / "README.md")]
    for path in notebook_paths(repo):
        texts += markdown_cells(path, repo)
    for path in sorted((repo / "helpers").glob("*.py")):
        texts += docstrings(path, repo)
    return texts


# --- spelling ---------------------------------------------------------------------------

def project_words(wordlist: Path = WORDLIST) -> list[str]:
    """The word list's words (its '#' lines are comments)."""
    lines = wordlist.read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#")]


def misspellings(texts: list[Text], tmp: Path, wordlist: Path = WORDLIST) -> list[str]:
    """codespell's findings, as 'where, line N: word ==> suggestion'."""
    tmp = Path(tempfile.mkdtemp(dir=tmp))
    ignore = tmp / "ignore-words.txt"  # codespell's own format: no comments
    ignore.write_text("".join(f"{w}\n" for w in project_words(wordlist)), encoding="utf-8")
    tmp = tmp / "texts"
    tmp.mkdir()
    files = {}
    for i, text in enumerate(texts):
        file = tmp / f"text{i:05d}.txt"
        file.write_text(text.text, encoding="utf-8")
        files[file.name] = text
    command = [sys.executable, "-m", "codespell_lib", "--disable-colors",
               "--ignore-words", str(ignore), str(tmp)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
    if result.returncode not in (0, 65):  # 65: misspellings found
        raise RuntimeError(f"codespell failed ({result.returncode}):\n{result.stderr}")
    found = []
    for line in result.stdout.splitlines():
        match = re.match(r"^(.*?):(\d+): (.*)$", line)
        if not match:
            continue
        text = files[Path(match[1]).name]
        found.append(f"{text.where}, line {int(match[2]) + text.first_line - 1}: {match[3]}")
    return found


def test_wordlist_is_short_and_sorted():
    words = project_words()
    assert words == sorted(set(words)), "site/wordlist.txt: one word a line, sorted, no repeats"
    assert all(w == w.lower() for w in words), "codespell compares lower-case words"
    assert len(words) <= 40, "a short list of real terms, not a way to silence the check"


def test_spelling(tmp_path):
    found = misspellings(prose(), tmp_path)
    assert not found, "misspelt (fix it, or add a real term to site/wordlist.txt):\n" + \
        "\n".join(found)


# --- links ------------------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.S | re.M)
CODE = re.compile(FENCE.pattern + r"|`[^`\n]*`", re.S | re.M)
# [text](target "title"): the target may hold balanced parentheses, as in #4.-backward()-...
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?"
                         r"(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]*)\"", re.I)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)=\"([^\"]+)\"", re.I)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def links(markdown: str) -> list[str]:
    """Every link target in ``markdown``, code spans and blocks left out."""
    text = CODE.sub("", markdown)
    return (INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
            + HTML_LINK.findall(text))


def _heading_text(heading: str) -> str:
    """A heading's text as a browser shows it (its textContent): Markdown markup removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links -> their text
    text = re.sub(r"`([^`]*)`", r"\1", text)  # code -> its content
    text = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", text)  # emphasis
    return re.sub(r"<[^>]+>", "", text).strip()


def notebook_anchors(path: Path) -> set[str]:
    """The anchors JupyterLab gives a notebook's headings (and explicit <a id=...>)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    anchors = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = FENCE.sub("", "".join(cell["source"]))
        anchors |= {_heading_text(h).replace(" ", "-") for _, h in HEADING.findall(text)}
        anchors |= set(HTML_ANCHOR.findall(text))
    return anchors


def github_slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, '-' for spaces."""
    text = _heading_text(heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def markdown_anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    anchors = set(HTML_ANCHOR.findall(text))
    for _, heading in HEADING.findall(text):
        slug = github_slug(heading)
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def anchors_of(path: Path) -> set[str] | None:
    if path.suffix == ".ipynb":
        return notebook_anchors(path)
    if path.suffix == ".md":
        return markdown_anchors(path)
    return None  # other files: an anchor cannot be checked


def external_form_problem(url: str) -> str | None:
    """What is wrong with an external link's form (None: nothing). No network."""
    parts = urlsplit(url)
    if parts.scheme == "mailto":
        return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", parts.path) else "bad address"
    if parts.scheme != "https":
        return "not https" if parts.scheme == "http" else f"unexpected scheme {parts.scheme!r}"
    host = parts.hostname or ""
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host):
        return f"bad host {host!r}"
    if re.search(r"[\s<>\"]", url) or url[-1] in ".,;:!?'":
        return "stray character"
    return None


def check_links(texts: list[Text], repo: Path = REPO) -> tuple[list[str], list[str]]:
    """(broken relative links, external links) of ``texts``; every problem says where."""
    broken, external = [], []
    for text in texts:
        for target in links(text.text):
            where = f"{text.where}: ({target})"
            if not target:
                broken.append(f"{where} empty link")
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                problem = external_form_problem(target)
                external.append(target)
                if problem:
                    broken.append(f"{where} {problem}")
                continue
            path_part, _, anchor = target.partition("#")
            if path_part:
                resolved = (text.path.parent / unquote(path_part)).resolve()
                if not resolved.is_relative_to(repo.resolve()):
                    broken.append(f"{where} points outside the repository")
                    continue
                if not resolved.exists():
                    broken.append(f"{where} no such file {resolved.relative_to(repo)}")
                    continue
            else:
                resolved = text.path.resolve()
            if anchor:
                anchors = anchors_of(resolved)
                if anchors is not None and unquote(anchor) not in anchors:
                    broken.append(f"{where} no section #{anchor} in "
                                  f"{resolved.relative_to(repo)}")
    return broken, sorted(set(external))


def link_texts(repo: Path = REPO) -> list[Text]:
    texts = [Text("README.md", (repo / "README.md").read_text(encoding="utf-8"), repo / "README.md")]
    for path in notebook_paths(repo):
        texts += markdown_cells(path, repo)
    return texts


def test_links():
    broken, external = check_links(link_texts())
    print("\nexternal links (form checked, not fetched):\n  " + "\n  ".join(external))
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_lesson_links_its_solutions():
    for lesson in lessons():
        solutions = REPO / "notebooks" / "solutions" / f"{lesson.stem}_solutions.ipynb"
        if not solutions.exists():
            continue  # tests/test_solutions.py says which solutions are missing
        targets = [t for text in markdown_cells(lesson) for t in links(text.text)]
        assert f"solutions/{solutions.name}" in targets, f"{lesson.name} does not link {solutions.name}"


# --- the checks fail on planted mistakes -------------------------------------------------

def _notebook(path: Path, *markdown: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in markdown]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_spelling_check_reports_a_planted_misspelling(tmp_path):
    repo = tmp_path / "repo"
    path = _notebook(repo / "notebooks" / "00_x.ipynb", "# Title\n\nFine words.",
                     "## 1. Shapes\n\nA tensor has a shape; broadcasting is\nseperate from it.")
    found = misspellings(markdown_cells(path, repo), tmp_path)
    assert found == ["notebooks/00_x.ipynb, cell 1, line 4: seperate ==> separate"], found
    path.write_text(path.read_text().replace("seperate", "separate"))
    assert misspellings(markdown_cells(path, repo), tmp_path) == []


def test_link_check_reports_a_planted_broken_link(tmp_path):
    repo = tmp_path / "repo"
    (repo / "helpers").mkdir(parents=True)
    (repo / "helpers" / "engine.py").write_text("")
    _notebook(repo / "notebooks" / "00_a.ipynb", "# 00 · A\n\n## 2. The `view()` of a tensor")
    lesson = _notebook(repo / "notebooks" / "01_b.ipynb",
                       "# 01 · B\n\nSee [views](00_a.ipynb#2.-The-view()-of-a-tensor), "
                       "[below](#Exercises), [the engine](../helpers/engine.py) and "
                       "[the docs](https://docs.pytorch.org/docs/stable/index.html).",
                       "## Exercises\n\n`[not a link](nowhere.ipynb)` in code is ignored.")
    texts = markdown_cells(lesson, repo)
    assert check_links(texts, repo) == ([], ["https://docs.pytorch.org/docs/stable/index.html"])
    lesson.write_text(lesson.read_text().replace("#2.-The-view", "#2.-The-vew")
                      .replace("engine.py", "engines.py").replace("https://docs", "http://docs"))
    broken, _ = check_links(markdown_cells(lesson, repo), repo)
    assert [b.split(": ", 1)[1] for b in broken] == [
        "(00_a.ipynb#2.-The-vew()-of-a-tensor) no section #2.-The-vew()-of-a-tensor in "
        "notebooks/00_a.ipynb",
        "(../helpers/engines.py) no such file helpers/engines.py",
        "(http://docs.pytorch.org/docs/stable/index.html) not https",
    ], broken


@pytest.mark.parametrize("heading, jupyterlab, github", [
    ("## 4. `backward()` and the chain rule", "4.-backward()-and-the-chain-rule",
     "4-backward-and-the-chain-rule"),
    ("### What you'll **learn**", "What-you'll-learn", "what-youll-learn"),
])
def test_anchor_forms(heading, jupyterlab, github):
    text = HEADING.match(heading)[2]
    assert _heading_text(text).replace(" ", "-") == jupyterlab
    assert github_slug(text) == github
