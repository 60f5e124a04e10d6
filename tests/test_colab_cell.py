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
sys.path.insert(0, str(REPO / "tools"))
from series import lessons  # noqa: E402

NOTEBOOKS = lessons()


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


# --- one home for the repository URL (pyproject.toml) --------------------------------------

sys.path.insert(0, str(REPO / "tools"))
import set_repo_url  # noqa: E402


def test_every_notebook_installs_from_the_url_in_pyproject():
    wanted = set_repo_url.colab_cell(set_repo_url.repo_url())
    paths = set_repo_url.notebooks()
    assert len(paths) >= 7
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.source == wanted, (
            f"{path.name}: its Colab cell disagrees with pyproject.toml's Repository URL; "
            "run python tools/set_repo_url.py"
        )


def test_readme_has_an_open_in_colab_link_per_lesson_built_from_the_same_url():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    url = set_repo_url.repo_url()
    for path in NOTEBOOKS:
        link = set_repo_url.colab_link(url, f"notebooks/{path.name}")
        assert f"]({link})" in readme, f"README lacks the Colab link {link}"
    assert set_repo_url.sync(url, check=True) == []


def test_set_repo_url_rewrites_a_fork_and_check_fails_before(tmp_path, monkeypatch):
    """Changing only pyproject makes --check fail; the script then brings everything in line."""
    fork = tmp_path / "fork"
    (fork / "notebooks").mkdir(parents=True)
    (fork / "tools").mkdir()
    for name in ("pyproject.toml", "README.md"):
        (fork / name).write_text((REPO / name).read_text())
    for path in NOTEBOOKS:
        (fork / "notebooks" / path.name).write_text(path.read_text())
    monkeypatch.setattr(set_repo_url, "REPO", fork)
    monkeypatch.setattr(set_repo_url, "PYPROJECT", fork / "pyproject.toml")
    monkeypatch.setattr(set_repo_url, "README", fork / "README.md")
    text = (fork / "pyproject.toml").read_text()
    new = "https://github.com/someone/my-fork"
    (fork / "pyproject.toml").write_text(set_repo_url.URL_LINE.sub(
        lambda m: m[1] + new + m[3], text))
    stale = set_repo_url.sync(new, check=True)
    assert "README.md" in stale and len(stale) == len(NOTEBOOKS) + 1
    set_repo_url.sync(new, check=False)
    assert set_repo_url.sync(new, check=True) == []
    assert "someone/my-fork/blob/main/notebooks/00_tensors.ipynb" in (fork / "README.md").read_text()


def test_colab_link_rejects_a_url_colab_cannot_open():
    with pytest.raises(ValueError, match="github.com/OWNER/REPO"):
        set_repo_url.colab_link("https://gitlab.com/a/b", "notebooks/00_tensors.ipynb")
