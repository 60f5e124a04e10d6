"""tools/run_notebooks.py (how every stored output is made) and the conftest guard that no
notebook is skipped silently, each run for real on small notebooks in a temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_NOTEBOOKS = REPO / "tools" / "run_notebooks.py"


def _notebook(path: Path, *sources: str, markdown: str = "# A notebook") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _run_tool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TUTORIAL_DATA_DIR"}
    return subprocess.run([sys.executable, str(RUN_NOTEBOOKS), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# --- tools/run_notebooks.py -------------------------------------------------------------------

def test_run_notebooks_executes_in_place_on_a_writable_copy_of_the_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "set").mkdir(parents=True)
    (mirror / "set" / "x.txt").write_text("data")
    os.chmod(mirror / "set" / "x.txt", 0o444)  # a read-only mirror, as a shared one may be
    os.chmod(mirror / "set", 0o555)
    path = _notebook(
        tmp_path / "lesson" / "nb.ipynb",
        "import os, stat\nroot = os.environ['TUTORIAL_DATA_DIR']\nprint(os.getcwd())",
        "copy = os.path.join(root, 'set', 'x.txt')\n"
        "print(open(copy).read(), oct(stat.S_IMODE(os.stat(copy).st_mode)))\n"
        "open(os.path.join(root, 'set', 'new.txt'), 'w').write('written')",
        "print(os.environ['IPYKERNEL_CELL_NAME'], os.environ['PYDEVD_DISABLE_FILE_VALIDATION'])",
    )
    try:
        result = _run_tool("--mirror", str(mirror), str(path), cwd=tmp_path)
    finally:
        os.chmod(mirror / "set", 0o755)
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    texts = [c.outputs[0]["text"] for c in code]
    assert texts[0].strip() == str(path.parent)  # the kernel runs in the notebook's folder
    assert texts[1].split() == ["data", "0o644"]  # the copy is writable, the mirror is not
    assert texts[2].split() == ["<IPY-INPUT>", "1"]  # the settings series.KERNEL_ENV names
    assert sorted(p.name for p in (mirror / "set").iterdir()) == ["x.txt"]  # mirror untouched
    assert sorted(p.name for p in path.parent.iterdir()) == ["nb.ipynb"]  # no temporary file
    lines = result.stdout.splitlines()
    copy_root = Path(lines[0].removeprefix("data root: "))
    assert copy_root.name == "data" and not copy_root.exists()  # the copy is gone afterwards
    assert lines[1].startswith(f"{path}: ") and lines[1].endswith(" s")


def test_run_notebooks_leaves_the_notebook_as_it_was_when_a_cell_fails(tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", "x = 1", "raise ValueError('on purpose')")
    before = path.read_bytes()
    result = _run_tool(str(path), cwd=tmp_path)
    assert result.returncode != 0
    assert "ValueError" in result.stderr and "on purpose" in result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]


def _run_tools_main(monkeypatch, *args: str) -> None:
    """Run tools/run_notebooks.py's main() in this process (no kernel starts for bad args)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_notebooks", RUN_NOTEBOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["run_notebooks.py", *args])
    module.main()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["missing.ipynb"], "expected an existing .ipynb file"),
     (["notes.txt"], "expected an existing .ipynb file"),
     (["--mirror", "nowhere", "nb.ipynb"], "--mirror must be a folder")],
)
def test_run_notebooks_rejects_bad_arguments_before_running_anything(
        tmp_path, monkeypatch, capsys, args, message):
    _notebook(tmp_path / "nb.ipynb", "print('ran')")
    (tmp_path / "notes.txt").write_text("not a notebook")
    before = (tmp_path / "nb.ipynb").read_bytes()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUTORIAL_DATA_DIR", raising=False)
    with pytest.raises(SystemExit) as info:
        _run_tools_main(monkeypatch, *args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "nb.ipynb").read_bytes() == before


# --- the conftest guard: nbval over notebooks/ collects every notebook -------------------------

@pytest.fixture
def project(tmp_path):
    """A copy of the repository's conftest.py beside a notebooks/ folder with a lesson and
    its solutions, both with code cells."""
    shutil.copy(REPO / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "tools").mkdir()
    shutil.copy(REPO / "tools" / "series.py", tmp_path / "tools" / "series.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    _notebook(tmp_path / "notebooks" / "00_a.ipynb", "print(1)")
    _notebook(tmp_path / "notebooks" / "solutions" / "00_a_solutions.ipynb", "print(2)")
    return tmp_path


def _collect(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
                          cwd=project, capture_output=True, text=True, timeout=300)


def test_the_guard_passes_when_every_notebook_is_collected(project):
    result = _collect(project, "--nbval", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "00_a.ipynb" in result.stdout and "00_a_solutions.ipynb" in result.stdout


def test_the_guard_stops_a_run_that_would_skip_a_notebook(project):
    for where in ("notebooks/01_b.ipynb", "notebooks/solutions/01_b_solutions.ipynb"):
        _notebook(project / where)  # markdown only: nbval collects no cell from it
    result = _collect(project, "--nbval", "notebooks")
    assert result.returncode == 4  # a usage error: nothing runs
    assert ("nbval collected no cells from: 01_b.ipynb, solutions/01_b_solutions.ipynb"
            in result.stdout + result.stderr)
    # asked for one notebook, the guard has nothing to say
    single = _collect(project, "--nbval", "notebooks/00_a.ipynb")
    assert single.returncode == 0, single.stdout + single.stderr


# --- tools/series.py: the one list of notebooks, and no pytest in the tools ----------------

def test_the_tools_import_neither_pytest_nor_conftest():
    code = ("import sys; sys.path.insert(0, 'tools')\n"
            "import series, run_notebooks, set_repo_url, build_site, refresh_pins\n"
            "bad = sorted({'pytest', 'conftest', '_pytest'} & set(sys.modules))\n"
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_new_lesson_is_listed_everywhere_without_another_edit(tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    import series

    for name in ("notebooks/00_a.ipynb", "notebooks/07_transfer_learning.ipynb",
                 "notebooks/solutions/07_transfer_learning_solutions.ipynb",
                 "notebooks/solutions/00_a_solutions.ipynb", "notebooks/.~00_a.ipynb",
                 "notebooks/.ipynb_checkpoints/00_a-checkpoint.ipynb"):
        _notebook(tmp_path / name)
    assert [p.relative_to(tmp_path).as_posix() for p in series.notebooks(tmp_path)] == [
        "notebooks/00_a.ipynb", "notebooks/07_transfer_learning.ipynb",
        "notebooks/solutions/00_a_solutions.ipynb",
        "notebooks/solutions/07_transfer_learning_solutions.ipynb"]
    assert series.lessons(tmp_path) + series.solutions(tmp_path) == series.notebooks(tmp_path)


def test_the_site_writes_empty_table_headers_as_plain_cells():
    sys.path.insert(0, str(REPO / "tools"))
    from build_site import fix_empty_headers

    html = ('<tr><th></th><th>loss</th></tr><tr><th>model</th><th> </th></tr>'
            '<tr class="row-odd"><th class="head"><p></p></th><th class="head"><p>a</p></th></tr>')
    assert fix_empty_headers(html) == (
        '<tr><td></td><th>loss</th></tr><tr><th>model</th><td> </td></tr>'
        '<tr class="row-odd"><td class="head"><p></p></td><th class="head"><p>a</p></th></tr>')
