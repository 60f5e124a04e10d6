"""Checks of the stored notebooks themselves (nbval compares their outputs; this checks
that what it compares is complete and honest)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
ALLOWED_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception"}
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
    for path in NOTEBOOKS:
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


def test_errors_only_where_tagged(notebook):
    path, nb = notebook
    for i, cell in enumerate(_code_cells(nb)):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        tagged = "raises-exception" in _tags(cell)
        assert bool(errors) == tagged, (
            f"{path.name} code cell {i + 1}: "
            + ("an error is stored without the raises-exception tag" if errors
               else "tagged raises-exception but stores no error")
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


def test_opening_cell_introduces_the_lesson(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell must be a markdown title"
    )
    assert "What you'll learn" in first.source, f"{path.name}: no \"What you'll learn\""
    last_md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in last_md and "## Exercises" in last_md, (
        f"{path.name}: needs '## Summary' and '## Exercises' sections"
    )


def _colab_cell(nb) -> str:
    return _code_cells(nb)[0].source


def test_first_code_cell_is_the_same_colab_cell_everywhere():
    sources = {path.name: _colab_cell(nbformat.read(path, as_version=4)) for path in NOTEBOOKS}
    reference = next(iter(sources.values()))
    assert "google.colab" in reference and "REPO_URL" in reference
    for name, source in sources.items():
        assert source == reference, f"{name}: the Colab cell differs from the others"
