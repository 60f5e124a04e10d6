"""Run All in a real JupyterLab, in headless Chromium, for every lesson and solutions notebook.

This is what a learner does: open the notebook in JupyterLab, Run All, wait. It fails on any
error output, any code cell left unexecuted, and any stderr output. The state is read from
JupyterLab's own notebook model (``window.jupyterapp``, exposed with
``--LabApp.expose_app_in_browser``), not from screen pixels. One screenshot per notebook
goes to ``e2e/screenshots/`` (ignored by git).

Run it with ``pytest e2e`` after ``pytest --nbval`` (``.ci/run`` does). The browser is the
one Chromium ``e2e/conftest.py`` starts for both browser tests. The notebooks are copied to
a temporary folder first, so JupyterLab's autosave never writes the stored notebooks. The
data root is ``TUTORIAL_DATA_DIR`` as for ``pytest --nbval``. JupyterLab is started with
``--ServerApp.port_retries=0``: if the free port it was given is taken meanwhile it stops at
once (and the fixture tries another port) instead of serving elsewhere unseen.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from series import KERNEL_ENV, lessons, notebooks  # noqa: E402

NOTEBOOKS = notebooks()
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
NOTEBOOK_TIMEOUT_S = 600
START_ATTEMPTS = 3

# Reads the open notebook from JupyterLab's model: kernel status, and per code cell its
# execution count and outputs (type, stream name, error name and value).
STATE_JS = """
const app = window.jupyterapp;
if (!app) { return {ready: false, why: 'no window.jupyterapp yet'}; }
const widget = app.shell.currentWidget;
if (!widget || !widget.content || !widget.content.model || !widget.sessionContext) {
  return {ready: false, why: 'no notebook panel yet'};
}
const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
const cells = [];
const model = widget.content.model;
for (let i = 0; i < model.cells.length; i++) {
  const cell = model.cells.get(i);
  if (cell.type !== 'code') { continue; }
  const outputs = [];
  for (let j = 0; j < cell.outputs.length; j++) {
    const out = cell.outputs.get(j).toJSON();
    outputs.push({type: out.output_type, name: out.name || null,
                  ename: out.ename || null, evalue: out.evalue || null,
                  text: out.output_type === 'stream' ? String(out.text).slice(0, 500) : null});
  }
  cells.push({index: i, count: cell.executionCount, source: cell.sharedModel.getSource().slice(0, 80),
              outputs: outputs});
}
return {ready: true, path: widget.context.path, kernel: kernel ? kernel.status : null,
        busy: widget.sessionContext.kernelDisplayStatus, cells: cells};
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(root: Path, env: dict, token: str) -> tuple[subprocess.Popen, str]:
    """Start JupyterLab on a free port and wait until it answers; another port if the one
    picked was taken meanwhile (port_retries=0 makes JupyterLab exit instead of moving)."""
    for _attempt in range(START_ATTEMPTS):
        port = _free_port()
        with (root / "lab.log").open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                 f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                 f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                 "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
                 "--ServerApp.allow_root=True"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    return server, base
            except OSError:
                if server.poll() is not None:
                    break  # it stopped: a taken port, or a real failure (the log says)
                if time.monotonic() > deadline:
                    server.kill()
                    pytest.fail("JupyterLab did not answer in 120 s:\n"
                                + (root / "lab.log").read_text())
                time.sleep(0.5)
        if "already in use" not in (root / "lab.log").read_text():
            break
    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a token, serving a copy of notebooks/."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    token = secrets.token_hex(16)
    # No "news" pop-up over the screenshots: a user setting in a private settings folder.
    news = root / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {**os.environ, **KERNEL_ENV, "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces")}
    server, base = _start(root, env, token)
    try:
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _command(name: str) -> str:
    """JavaScript that starts a JupyterLab command without waiting for its promise."""
    return f"window.jupyterapp.commands.execute('{name}').catch(() => null); return null;"


def _state(driver) -> dict:
    return driver.execute_script(STATE_JS)


def _wait(driver, what, predicate, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        driver.get_log("performance")  # the shared browser logs the network: keep it drained
        state = _state(driver)
        if predicate(state):
            return state
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last state: "
                         f"{json.dumps(state)[:2000]}")


def _problems(state: dict) -> list[str]:
    problems = []
    for cell in state["cells"]:
        where = f"cell {cell['index']} ({cell['source']!r})"
        if not cell["source"].strip():
            continue
        if cell["count"] is None:
            problems.append(f"{where}: not executed")
        for out in cell["outputs"]:
            if out["type"] == "error":
                problems.append(f"{where}: {out['ename']}: {out['evalue']}")
            elif out["type"] == "stream" and out["name"] == "stderr":
                problems.append(f"{where}: stderr: {out['text']!r}")
    return problems


def pytest_generate_tests(metafunc):
    """Every notebook, or with ``--run-all=lessons`` (e2e/conftest.py) the lessons only."""
    if "path" in metafunc.fixturenames:
        paths = lessons() if metafunc.config.getoption("run_all") == "lessons" else NOTEBOOKS
        metafunc.parametrize("path", paths,
                             ids=[str(p.relative_to(REPO / "notebooks")) for p in paths])


def test_run_all_in_jupyterlab(lab, browser, path):
    base, token, _root = lab
    relative = path.relative_to(REPO).as_posix()
    browser.get(f"{base}/lab/tree/{relative}?token={token}&reset")
    _wait(browser, "the notebook and its kernel",
          lambda s: s.get("ready") and s.get("path") == relative and s.get("kernel") == "idle",
          120)
    # Start from a clean slate, as after "Clear All Outputs": the stored execution counts and
    # outputs must not be mistaken for this run's.
    browser.execute_script(
        _command("notebook:clear-all-cell-outputs"))
    _wait(browser, "the stored outputs to be cleared",
          lambda s: s.get("ready") and all(c["count"] is None and not c["outputs"]
                                           for c in s["cells"]), 30)
    browser.execute_script(_command("notebook:run-all-cells"))
    started = time.monotonic()

    def finished(state: dict) -> bool:
        if not state.get("ready"):
            return False
        if any(o["type"] == "error" for c in state["cells"] for o in c["outputs"]):
            return True  # an error stops Run All: report it instead of waiting
        return state["kernel"] == "idle" and all(
            c["count"] is not None for c in state["cells"] if c["source"].strip())

    state = _wait(browser, "Run All to finish", finished, NOTEBOOK_TIMEOUT_S)
    seconds = time.monotonic() - started
    browser.execute_script(  # show the end of the notebook: the last cells ran too
        "const nb = window.jupyterapp.shell.currentWidget.content;"
        "nb.activeCellIndex = nb.widgets.length - 1;"
        "return nb.scrollToItem(nb.widgets.length - 1, 'end');")
    time.sleep(1)
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / f"{path.stem}.png"
    browser.save_screenshot(str(shot))
    print(f"{relative}: Run All took {seconds:.1f} s in JupyterLab; screenshot {shot}")
    problems = _problems(state)
    browser.execute_script(_command("kernelmenu:shutdown"))
    # Leave JupyterLab (its beforeunload handler logs a console message on the way out) and
    # drain the logs, so that the next user of the shared browser starts clean.
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get_log("performance")
    assert not problems, f"{relative}:\n" + "\n".join(problems)
