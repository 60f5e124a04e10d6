"""pytest configuration shared by the unit tests and the notebook runs (nbval).

Sets the variables every notebook execution needs (``KERNEL_ENV`` in ``tools/series.py``,
which ``tools/run_notebooks.py`` and ``e2e/`` use too) before the kernel starts, and prints
each notebook's total run time at the end of the session.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from series import KERNEL_ENV, notebooks  # noqa: E402

for _name, _value in KERNEL_ENV.items():
    os.environ.setdefault(_name, _value)

_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _notebook_seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{path}: {seconds:.1f} s")


def pytest_collection_finish(session):
    """Nothing is skipped silently: with --nbval over notebooks/, every lesson and solutions
    notebook is collected."""
    config = session.config
    if not config.getoption("nbval", default=False):
        return
    notebooks_dir = (config.rootpath / "notebooks").resolve()
    asked = {(config.rootpath / arg.split("::")[0]).resolve() for arg in config.args}
    if notebooks_dir not in asked:
        return
    collected = {Path(str(item.fspath)).resolve() for item in session.items}
    missing = [str(p.relative_to(notebooks_dir)) for p in notebooks(config.rootpath)
               if p.resolve() not in collected]
    if missing:
        raise pytest.UsageError(f"nbval collected no cells from: {', '.join(missing)}")
