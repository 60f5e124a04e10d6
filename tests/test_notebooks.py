"""Checks of the stored notebooks themselves (nbval compares their outputs; this checks
that what it compares is complete and honest)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from series import lessons, solutions  # noqa: E402

LESSONS = lessons()
SOLUTIONS = solutions()
NOTEBOOKS = LESSONS + SOLUTIONS  # every check below that takes `notebook` runs on both
NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
# No raises-exception: deliberate errors are caught by helpers.expect_error, so "Run All"
# runs every cell in editors that ignore the tag (Colab, VS Code, Positron).
ALLOWED_TAGS = {"nbval-ignore-output", "nbval-skip"}
# A progress bar's text form: "epochs:  40%|####      | 2/5 [...]"
BAR = re.compile(r"(\d+)%\|[^|\n]*\|\s*(\d+)/(\d+)")
SKIP_REASON_KEY = "nbval_skip_reason"


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_numbered_without_gaps():
    numbers = []
    for path in LESSONS:
        match = NAME.match(path.name)
        assert match, f"{path.name}: expected a name like 00_topic.ipynb"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(len(numbers))), f"notebook numbers {numbers} have gaps"


def test_valid_nbformat_and_kernel_metadata(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    kernelspec = nb.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec {kernelspec}"
    assert nb.metadata.get("language_info", {}).get("name") == "python"


def test_executed_in_order_from_a_fresh_kernel(notebook):
    path, nb = notebook
    counts = [c.execution_count for c in _code_cells(nb)]
    assert None not in counts, f"{path.name}: some code cells were never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..N; "
        "run it top to bottom in a fresh kernel (tools/run_notebooks.py)"
    )


def test_no_stored_errors_and_no_raises_exception_tag(notebook):
    """Deliberate errors are shown through helpers.expect_error, never left uncaught."""
    path, nb = notebook
    for i, cell in enumerate(_code_cells(nb)):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, (
            f"{path.name} code cell {i + 1}: a stored error; show deliberate errors with "
            "`with helpers.expect_error(...)`"
        )
        assert "raises-exception" not in _tags(cell), (
            f"{path.name} code cell {i + 1}: the raises-exception tag is retired "
            "(Colab and VS Code ignore it); use helpers.expect_error"
        )


def _bar_states(text: str) -> list[tuple[int, int, int]]:
    """The progress-bar states a stored text ends on: per line, the last redraw after '\\r'."""
    states = []
    for line in text.split("\n"):
        redraws = [part for part in line.split("\r") if part.strip()]
        if redraws:
            states += [(int(m[1]), int(m[2]), int(m[3])) for m in BAR.finditer(redraws[-1])]
    return states


def test_bar_pattern_reads_a_finished_and_an_unfinished_bar():
    assert _bar_states("epochs: 100%|##########| 6/6 [00:03<00:00]") == [(100, 6, 6)]
    assert _bar_states("epochs:   0%|          | 0/6 [00:00<?, ?it/s]") == [(0, 0, 6)]
    assert _bar_states("a:  50%|#  | 1/2\ra: 100%|###| 2/2\n") == [(100, 2, 2)]


def test_no_stored_progress_bar_below_100_percent(notebook):
    """On GitHub, nbviewer or the site, a stored bar must read as a finished run."""
    path, nb = notebook
    for i, cell in enumerate(_code_cells(nb)):
        for out in cell.outputs:
            if out.output_type == "stream":
                text = out.text
            else:
                text = out.get("data", {}).get("text/plain", "")
            for percent, done, total in _bar_states(text):
                assert percent == 100 and done == total, (
                    f"{path.name} code cell {i + 1}: a stored progress bar reads {percent}% "
                    f"({done}/{total}); use helpers.progress_bar (or fit), which stores 100%"
                )


def test_tags_are_known_and_skips_have_reasons(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        tags = _tags(cell)
        assert tags <= ALLOWED_TAGS, f"{path.name} cell {i}: unknown tags {tags - ALLOWED_TAGS}"
        if "nbval-skip" in tags:
            reason = cell.metadata.get(SKIP_REASON_KEY, "")
            assert reason.strip(), f"{path.name} cell {i}: nbval-skip without {SKIP_REASON_KEY}"
        assert "# NBVAL_" not in cell.source, f"{path.name} cell {i}: use a cell tag, not # NBVAL_"


def test_outputs_are_clean(notebook):
    """PNG figures only, no stray Figure reprs, no warnings left in stored stderr."""
    path, nb = notebook
    for i, cell in enumerate(_code_cells(nb)):
        for out in cell.outputs:
            data = out.get("data", {})
            assert "image/svg+xml" not in data, f"{path.name} cell {i + 1}: SVG output (use PNG)"
            text = data.get("text/plain", "") if out.output_type != "stream" else out.text
            # plt.show() stores a display_data with the PNG and, as its text fallback, the
            # Figure repr: that is expected. A repr anywhere else (a cell ending on a Figure
            # or an Axes call) is output the learner should not see.
            is_shown_figure = out.output_type == "display_data" and "image/png" in data
            assert is_shown_figure or not re.search(r"<Figure size \d+", text), (
                f"{path.name} cell {i + 1}: a '<Figure ...>' repr is stored; end with plt.show()"
            )
            if out.output_type == "execute_result":
                assert not re.search(r"^(Text|\[<matplotlib|<matplotlib)", text), (
                    f"{path.name} cell {i + 1}: a matplotlib object repr is stored; "
                    "end with plt.show()"
                )
            if out.output_type == "stream" and out.name == "stderr":
                if "nbval-ignore-output" not in _tags(cell):
                    assert "Warning" not in out.text, (
                        f"{path.name} cell {i + 1}: a warning is stored in stderr"
                    )


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_opening_cell_introduces_the_lesson(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell must be a markdown title"
    )
    assert "What you'll learn" in first.source, f"{path.name}: no \"What you'll learn\""
    last_md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in last_md and "## Exercises" in last_md, (
        f"{path.name}: needs '## Summary' and '## Exercises' sections"
    )


# --- figures have alt text (the site shows it to screen readers) -----------------------------

def figure_cells_without_alt(nb) -> list[int]:
    """Indexes of code cells that store an image but have no alt text in their metadata.

    The alt text lives in the cell's metadata, ``{"mystnb": {"image": {"alt": "..."}}}``
    (myst-nb's own key, which the website renders as the figure's ``alt``), so regenerating
    the outputs keeps it.
    """
    missing = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not any(mime.startswith("image/") for out in cell.get("outputs", [])
                   for mime in out.get("data", {})):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if not isinstance(alt, str) or len(alt.split()) < 3 or re.search(r"\.(png|jpe?g)\b", alt):
            missing.append(i)
    return missing


def test_alt_check_finds_a_figure_without_alt_text():
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    figure = nbformat.v4.new_output("display_data", data=png)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("plot()", outputs=[figure]),
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="1\n")]),
        nbformat.v4.new_code_cell("plot()", outputs=[figure], metadata={
            "mystnb": {"image": {"alt": "training and validation loss over 15 epochs"}}}),
        nbformat.v4.new_code_cell("plot()", outputs=[figure], metadata={
            "mystnb": {"image": {"alt": "6c0c.png"}}}),
    ])
    assert figure_cells_without_alt(nb) == [0, 3]


def test_every_figure_has_alt_text(notebook):
    path, nb = notebook
    missing = figure_cells_without_alt(nb)
    assert not missing, (
        f"{path.name}: code cells {missing} store a figure without alt text; give each one "
        'cell metadata {"mystnb": {"image": {"alt": "<what the figure shows>"}}} (at least '
        "three words, not a file name)"
    )


# --- a lesson, not a reference manual: the core path and "Going deeper" ---------------------

CORE_CELL_LIMIT = 60
GOING_DEEPER = "Going deeper:"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def headings(cell) -> list[tuple[int, str]]:
    """(level, text) of each Markdown heading line in a markdown cell, outside code fences."""
    if cell.cell_type != "markdown":
        return []
    found, fenced = [], False
    for line in cell.source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append((len(match[1]), match[2]))
    return found


def sections(nb) -> list[tuple[int, bool]]:
    """Per cell: (index, whether it lies inside a Going deeper section).

    A markdown cell's heading is its first Markdown heading, as JupyterLab reads it to
    collapse sections. A Going deeper section runs from a heading cell whose
    heading text starts with "Going deeper:" up to, not including, the next heading cell of
    the same or a higher level (a smaller number of #).
    """
    marks, deep_level = [], None
    for i, cell in enumerate(nb.cells):
        found = headings(cell)
        if found:
            level, text = found[0]
            if deep_level is not None and level <= deep_level:
                deep_level = None
            if deep_level is None and text.startswith(GOING_DEEPER):
                deep_level = level
        marks.append((i, deep_level is not None))
    return marks


def core_cells(nb) -> int:
    """How many cells, markdown and code, lie outside every Going deeper section."""
    return sum(not deep for _, deep in sections(nb))


def uncollapsed_going_deeper(nb) -> list[int]:
    """Cells with a "Going deeper:" heading that JupyterLab would not show collapsed."""
    wrong = []
    for i, cell in enumerate(nb.cells):
        found = headings(cell)
        deep = [n for n, (_, text) in enumerate(found) if text.startswith(GOING_DEEPER)]
        if not deep:
            continue
        collapsed = cell.metadata.get("jp-MarkdownHeadingCollapsed") is True
        # JupyterLab collapses a cell by its first heading: a Going deeper heading further
        # down a cell cannot be collapsed, so it must be the cell's first heading.
        if deep != [0] or not collapsed:
            wrong.append(i)
    return wrong


def _md(source, **metadata):
    return nbformat.v4.new_markdown_cell(source, metadata=metadata)


def test_core_path_and_going_deeper_checks_read_the_convention():
    code = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[
        _md("# 02 · A lesson"), code("x = 1"),                             # core: 0, 1
        _md("## 1. Tensors"), code("y = 2"),                               # core: 2, 3
        _md("### Going deeper: the clamp", **{"jp-MarkdownHeadingCollapsed": True}),
        code("z = 3"), _md("#### A detail inside"), code("w = 4"),         # deep: 4-7
        _md("### Back on the path"), code("v = 5"),                        # core: 8, 9
        _md("## Going deeper: speed\n\nwords"), _md("```\n# not a heading\n```"),  # deep
        _md("## Summary"),                                                 # core: 12
        _md("## Exercises\n\n### Going deeper: buried"),                   # core, but wrong
    ])
    assert [deep for _, deep in sections(nb)] == (
        [False] * 4 + [True] * 4 + [False] * 2 + [True] * 2 + [False] * 2)
    assert core_cells(nb) == 8
    # the second Going deeper heading is not collapsed, the last is not the first heading
    assert uncollapsed_going_deeper(nb) == [10, 13]


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_core_path_is_at_most_60_cells(path):
    """A learner who skips every Going deeper section reads at most 60 cells."""
    nb = nbformat.read(path, as_version=4)
    count = core_cells(nb)
    assert count <= CORE_CELL_LIMIT, (
        f"{path.name}: {count} cells outside Going deeper sections (limit {CORE_CELL_LIMIT}); "
        'move expert asides into sections headed "Going deeper: ..."'
    )


def test_every_going_deeper_heading_is_collapsed(notebook):
    path, nb = notebook
    wrong = uncollapsed_going_deeper(nb)
    assert not wrong, (
        f"{path.name}: cells {wrong} hold a 'Going deeper:' heading that JupyterLab does not "
        'show collapsed: make it the first heading of its own cell and set the cell metadata '
        '"jp-MarkdownHeadingCollapsed": true'
    )


def _colab_cell(nb) -> str:
    return _code_cells(nb)[0].source


def test_first_code_cell_is_the_same_colab_cell_everywhere():
    sources = {path.name: _colab_cell(nbformat.read(path, as_version=4)) for path in NOTEBOOKS}
    reference = next(iter(sources.values()))
    assert "google.colab" in reference and "REPO_URL" in reference
    for name, source in sources.items():
        assert source == reference, f"{name}: the Colab cell differs from the others"


def test_lesson_07_copies_lesson_06s_stored_scratch_result():
    """Lesson 07 compares transfer learning with lesson 06's from-scratch test result, copied
    as ``SCRATCH_CORRECT``; regenerating 06 with another result must fail here until 07 is
    updated (06's cell ignores its output, so nbval alone would not notice)."""
    folder = REPO / "notebooks"
    lesson06 = nbformat.read(folder / "06_custom_datasets.ipynb", as_version=4)
    stored = "".join(output.get("text", "") for cell in _code_cells(lesson06)
                     for output in cell.get("outputs", []))
    found = re.findall(r"test accuracy [\d.]+ \((\d+) of 153\)", stored)
    lesson07 = nbformat.read(folder / "07_transfer_learning.ipynb", as_version=4)
    source = "\n".join(cell.source for cell in _code_cells(lesson07))
    copied = re.findall(r"^SCRATCH_CORRECT = (\d+)", source, flags=re.MULTILINE)
    assert len(found) == 1, f"lesson 06 should print its test result once, found {found}"
    assert len(copied) == 1, f"lesson 07 should set SCRATCH_CORRECT once, found {copied}"
    assert int(copied[0]) == int(found[0]), (
        f"lesson 07 copies {copied[0]} correct from lesson 06, which now stores {found[0]}")
