"""Every lesson's exercises have solutions, one for one, in notebooks/solutions/.

The lesson's `## Exercises` cell numbers its items `N. **Title.** ...` and links the
solutions notebook; the solutions notebook has a `## N. Title` section per exercise, each
with code that asserts its answer. nbval runs the solutions like the lessons.
"""

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
SOLUTIONS_DIR = REPO / "notebooks" / "solutions"
EXERCISE_ITEM = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.MULTILINE)
SOLUTION_HEADING = re.compile(r"^## (\d+)\. (.+?)\s*$", re.MULTILINE)


def solutions_path(lesson: Path) -> Path:
    return SOLUTIONS_DIR / f"{lesson.stem}_solutions.ipynb"


def lesson_exercises(nb) -> tuple[list[tuple[int, str]], str]:
    cells = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercises")]
    assert len(cells) == 1, "expected exactly one markdown cell starting with '## Exercises'"
    source = cells[0].source
    return [(int(n), title.strip().rstrip(".")) for n, title in EXERCISE_ITEM.findall(source)], source


def solution_sections(nb) -> list[tuple[tuple[int, str], list]]:
    """(number, title) of each `## N. Title` section with the cells up to the next one."""
    sections: list[tuple[tuple[int, str], list]] = []
    for cell in nb.cells:
        match = SOLUTION_HEADING.match(cell.source) if cell.cell_type == "markdown" else None
        if match:
            sections.append(((int(match[1]), match[2].rstrip(".")), []))
        elif sections:
            sections[-1][1].append(cell)
    return sections


def test_exercise_parsers_read_the_agreed_format():
    lesson = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "## Exercises\n\n1. **Shapes.** Do this.\n2. **Why float32?** Explain.\n   3. not an item"
    )])
    assert lesson_exercises(lesson)[0] == [(1, "Shapes"), (2, "Why float32?")]
    solutions = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## 1. Shapes\nrestated"),
        nbformat.v4.new_code_cell("assert 1"),
        nbformat.v4.new_markdown_cell("## 2. Why float32?"),
    ])
    sections = solution_sections(solutions)
    assert [key for key, _ in sections] == [(1, "Shapes"), (2, "Why float32?")]
    assert len(sections[0][1]) == 1 and sections[1][1] == []


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.name for p in LESSONS])
def test_every_lesson_has_solutions_that_match_its_exercises(lesson):
    exercises, source = lesson_exercises(nbformat.read(lesson, as_version=4))
    assert exercises, f"{lesson.name}: no exercise items like '1. **Title.** ...'"
    numbers = [n for n, _ in exercises]
    assert numbers == list(range(1, len(numbers) + 1)), f"{lesson.name}: exercises {numbers}"
    path = solutions_path(lesson)
    assert f"(solutions/{path.name})" in source, f"{lesson.name}: Exercises must link {path.name}"
    assert path.is_file(), f"{lesson.name} has no solutions notebook {path.relative_to(REPO)}"

    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {lesson.stem[:2]} "), (
        f"{path.name}: the first cell must be a title like '# {lesson.stem[:2]} · ...'"
    )
    assert f"(../{lesson.name})" in first.source, f"{path.name}: link back to ../{lesson.name}"
    sections = solution_sections(nb)
    heading_text = {(int(m[1]), m[2].rstrip(".")): c.source for c in nb.cells
                    if c.cell_type == "markdown" and (m := SOLUTION_HEADING.match(c.source))}
    assert [key for key, _ in sections] == exercises, (
        f"{path.name}: sections {[key for key, _ in sections]} do not match the lesson's "
        f"exercises {exercises}"
    )
    for (number, title), cells in sections:
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        assert re.search(r"^\s*assert\b", code, re.MULTILINE), (
            f"{path.name}, exercise {number} ({title}): no assert checks the answer"
        )
        first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
        before_code = [heading_text[(number, title)]] + [c.source for c in cells[:first_code]]
        words = len(re.sub(r"^## .*$", "", "\n".join(before_code), flags=re.MULTILINE).split())
        assert words >= 20, (
            f"{path.name}, exercise {number}: restate the exercise and explain the solution "
            f"in prose before its code ({words} words there)"
        )


def test_no_solutions_without_a_lesson():
    lessons = {solutions_path(p).name for p in LESSONS}
    orphans = [p.name for p in solutions() if p.name not in lessons]
    assert not orphans, f"solutions notebooks without a lesson: {orphans}"


def test_readme_links_every_solutions_notebook():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for lesson in LESSONS:
        link = f"](notebooks/solutions/{solutions_path(lesson).name})"
        assert link in readme, f"README's lesson table lacks {link}"
