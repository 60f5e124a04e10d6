"""What the series is made of, written once: its notebooks, and the kernel environment.

Everything that needs the list of lessons or solutions asks here: ``conftest.py`` (the
guard that nbval collected every notebook), ``tools/`` (running notebooks, the Colab cell,
the website), ``tests/`` and ``e2e/``. A new lesson (``notebooks/NN_topic.ipynb``) and its
solutions (``notebooks/solutions/NN_topic_solutions.ipynb``) are picked up by all of them
without another edit.

This module imports nothing but the standard library (no pytest, no Jupyter), so the tools
can use it in any environment.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The environment of every notebook kernel: pytest --nbval (conftest.py), the regeneration
# script (tools/run_notebooks.py) and the JupyterLab browser test (e2e/) all use it.
KERNEL_ENV = {
    # Warnings would otherwise name a random temporary file; the debugger would warn on 3.11.
    "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # Small models spend most of their time handing work between OpenMP threads; with the
    # default busy-wait policy that hand-off slows down badly when other processes share
    # the CPU. Outputs are the same either way.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def _ipynb(folder: Path) -> list[Path]:
    # Hidden files are editors' and tools' temporary copies (".00_x.ipynb.tmp" never matches,
    # but ".~00_x.ipynb" would), never lessons.
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def lessons(repo: Path = REPO) -> list[Path]:
    """The lessons, in order: ``notebooks/NN_topic.ipynb``."""
    return _ipynb(repo / "notebooks")


def solutions(repo: Path = REPO) -> list[Path]:
    """The exercise solutions, in order: ``notebooks/solutions/NN_topic_solutions.ipynb``."""
    return _ipynb(repo / "notebooks" / "solutions")


def notebooks(repo: Path = REPO) -> list[Path]:
    """Every lesson, then every solutions notebook."""
    return lessons(repo) + solutions(repo)


if __name__ == "__main__":  # python tools/series.py [lessons|solutions|notebooks]: one path a line
    import sys

    which = sys.argv[1] if len(sys.argv) > 1 else "notebooks"
    if which not in ("lessons", "solutions", "notebooks"):
        sys.exit(f"usage: python tools/series.py [lessons|solutions|notebooks], not {which!r}")
    for path in {"lessons": lessons, "solutions": solutions, "notebooks": notebooks}[which]():
        print(path.relative_to(REPO).as_posix())
