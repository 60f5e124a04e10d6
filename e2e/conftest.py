"""What both browser tests share: one headless Chromium, and the list of notebooks.

Both files (``test_jupyterlab.py`` and ``test_site.py``) drive the same Chromium, started once
per session. Its network is limited to 127.0.0.1 (JupyterLab and the site's server both live
there): anything else goes to a closed proxy port and fails, so a page that needs the
internet fails its test instead of passing on a connected machine.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and
``selenium`` from PyPI; no browser is downloaded.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_addoption(parser):
    parser.addoption(
        "--run-all", choices=("all", "lessons"), default="all",
        help="which notebooks e2e/test_jupyterlab.py runs in JupyterLab: every lesson and "
             "solutions notebook (default), or the lessons only (.ci/run, for time: the "
             "solutions are run strictly by pytest --nbval on two Pythons)")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (selenium), its network limited to 127.0.0.1, with its console and
    network logs readable (``driver.get_log("browser")`` / ``("performance")``)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"missing {missing}: apt-get install chromium chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--disable-gpu",
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
