"""The notebooks' first code cell, run as if on Colab, installs `helpers` from a git URL.

The cell is taken from notebook 00 (tests/test_notebooks.py checks every notebook has the
same one); its REPO_URL is pointed at this repository through a file:// URL, a fake
`google.colab` module makes it take the Colab branch, and pip installs into a temporary
folder (without dependencies, which Colab already has), all offline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _colab_cell() -> str:
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and c.source.strip())


def test_colab_cell_does_nothing_outside_colab():
    source = _colab_cell()
    code = "import sys\nsys.modules.pop('google.colab', None)\n" + source
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_colab_cell_installs_helpers_from_the_repository(tmp_path):
    if not (REPO / ".git").exists():
        pytest.fail("this test needs a git checkout of the repository (pip clones it)")
    source = _colab_cell()
    pattern = re.compile(r'^REPO_URL = ".*"$', re.MULTILINE)
    assert pattern.search(source), "the Colab cell must set REPO_URL on one line"
    source = pattern.sub(f'REPO_URL = "file://{REPO}"', source)
    fake_colab = textwrap.dedent("""
        import sys, types
        sys.modules["google"] = types.ModuleType("google")
        sys.modules["google.colab"] = types.ModuleType("google.colab")
    """)
    site = tmp_path / "site"
    env = {**os.environ, "PIP_TARGET": str(site), "PIP_NO_DEPS": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run([sys.executable, "-c", fake_colab + source], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "helpers" / "__init__.py").is_file()

    # The installed copy imports, and (not being a checkout) keeps data in ./data.
    check = "import helpers; print(helpers.__file__); print(helpers.data_root())"
    env = {k: v for k, v in os.environ.items() if k != "TUTORIAL_DATA_DIR"}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    module_file, root = result.stdout.split()
    assert Path(module_file).is_relative_to(site)
    assert Path(root) == (tmp_path / "data").resolve()
