"""The built website, page by page, in headless Chromium served from 127.0.0.1.

Build the site first (``python tools/build_site.py``; ``.ci/run`` does), then
``pytest e2e/test_site.py``. The home page, every lesson page, every solutions page and the
search page are opened from a local HTTP server on 127.0.0.1 with the browser's network
limited to it. A lesson is also opened straight from disk
(``file://``). A page fails if it has no title, an image that did not load (naturalWidth 0),
maths left unrendered (a raw ``$...$`` or ``\\(...\\)`` in the text, or a MathJax error), a
console error, or a request to anywhere but the local server (the site must work offline).
Accessibility: axe-core (npm's ``axe-core``, pinned in ``e2e/package.json``, installed with
``npm ci --prefix e2e`` and injected from disk) runs on every page with its default rules and
any violation fails the page; a figure whose alt text is missing or a file name fails too;
every "Going deeper" section must be marked optional and closed (``site/conf.py``).
Screenshots go to ``e2e/screenshots/site-*.png`` (ignored by git): each page at its first
displayed formula, and at its first figure as ``site-<page>-figure.png``.

The browser is the one Chromium ``e2e/conftest.py`` starts for both browser tests.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from series import notebooks  # noqa: E402
from set_repo_url import colab_link, repo_url  # noqa: E402

SITE = REPO / "site" / "_build" / "html"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
NOTEBOOKS = notebooks()
PAGES = ["index.html"] + [p.relative_to(REPO).with_suffix(".html").as_posix() for p in NOTEBOOKS]

# Every <img> on the page, made to load now (not lazily), and whether each did.
IMAGES_JS = """
const imgs = Array.from(document.querySelectorAll('img'));
imgs.forEach(img => { img.loading = 'eager'; });
return imgs.map(img => ({src: img.getAttribute('src'), complete: img.complete,
                         width: img.naturalWidth}));
"""
# Wait for MathJax's first typesetting pass, then report what it made.
MATHJAX_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) {
  done({loaded: false}); return;
}
MathJax.startup.promise.then(() => done({
  loaded: true,
  rendered: document.querySelectorAll('mjx-container').length,
  errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
               .map(e => e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5),
})).catch(e => done({loaded: true, rendered: 0, errors: [String(e)]}));
"""
# The article's visible text outside code, scripts and rendered maths.
PROSE_TEXT_JS = """
const main = document.querySelector('article') || document.body;
const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
const skip = 'PRE, CODE, SCRIPT, STYLE, MJX-CONTAINER, .cell_output';
const parts = [];
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (node.parentElement && !node.parentElement.closest(skip)) { parts.push(node.nodeValue); }
}
return parts.join('');
"""
# axe-core on the whole page, default rules (WCAG A/AA and best practices); the violations.
AXE_RUN_JS = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.html.slice(0, 160)),
    count: v.nodes.length}))))
  .catch(e => done([{id: 'axe-error', impact: null, help: String(e), nodes: [], count: 1}]));
"""
# Every figure of a notebook output, with its alt text.
FIGURES_JS = """
return Array.from(document.querySelectorAll('.cell_output img'))
  .map(img => ({src: img.getAttribute('src'), alt: img.getAttribute('alt')}));
"""
# The "Going deeper" sections as the page shows them.
GOING_DEEPER_JS = """
return Array.from(document.querySelectorAll('article section')).filter(s => {
  const h = s.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6');
  return h && h.textContent.trim().startsWith('Going deeper:');
}).map(s => {
  const d = s.querySelector(':scope > details');
  return {id: s.id, marked: s.classList.contains('going-deeper'), closed: !!d && !d.open,
          summary: d ? d.querySelector('summary').textContent.trim() : null};
});
"""
RAW_MATH = re.compile(r"\\\(|\\\[|\$\$|\$[^\s$][^$\n]*\$")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The built site over HTTP on 127.0.0.1 (a free port), for the module's tests."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no index.html: build the site first (python tools/build_site.py)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def axe_violations(driver) -> list[str]:
    """Run axe-core on the page open in ``driver``; one line per violated rule."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE}): npm ci --prefix e2e (.ci/run does)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(AXE_RUN_JS)
    return [f"axe {v['id']} ({v['impact']}, {v['count']}x): {v['help']}; "
            + " | ".join(v["nodes"]) for v in found]


def _going_deeper_headings(page: str) -> int:
    nb = _built_notebook(page)
    return sum(bool(re.search(r"^#{1,6}\s+Going deeper:", "".join(c["source"]), re.MULTILINE))
               for c in nb["cells"] if c["cell_type"] == "markdown")


def _requests(driver) -> list[str]:
    """URLs the browser requested since the last call (from the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _wait_for_images(driver, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        images = driver.execute_script(IMAGES_JS)
        if all(i["complete"] for i in images) or time.monotonic() > deadline:
            return images
        time.sleep(0.2)


def _screenshot(driver, name: str, selector: str | None) -> Path | None:
    """Scroll the first element matching ``selector`` to the top and save a screenshot."""
    if selector is not None:
        found = driver.execute_script(
            "const el = document.querySelector(arguments[0]);"
            "if (!el) { return false; }"
            "el.scrollIntoView({block: 'center'}); return true;", selector)
        if not found:
            return None
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / f"site-{name}.png"
    driver.save_screenshot(str(shot))
    return shot


def _built_notebook(page: str) -> dict:
    """The notebook the page was built from: its copy beside the page in the site."""
    return json.loads((SITE / page).with_suffix(".ipynb").read_text(encoding="utf-8"))


def _has_maths(page: str) -> bool:
    """Whether the page's source (README or notebook Markdown) writes LaTeX."""
    if page == "index.html":
        texts = [(SITE.parent / "src" / "index.md").read_text(encoding="utf-8")]
    else:
        nb = _built_notebook(page)
        texts = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    without_code = [re.sub(r"```.*?```|`[^`\n]*`", "", t, flags=re.S) for t in texts]
    return any(RAW_MATH.search(t) for t in without_code)


@pytest.mark.parametrize("page", PAGES)
def test_page(server, browser, page):
    _requests(browser)
    browser.get_log("browser")  # only this page's messages count
    browser.get(f"{server}/{page}")
    problems = []
    title = browser.title.strip()
    heading = browser.execute_script(
        "const h = document.querySelector('article h1'); return h ? h.textContent.trim() : '';")
    if not title or not heading:
        problems.append(f"no title (<title> {title!r}, <h1> {heading!r})")

    images = _wait_for_images(browser)
    problems += [f"image did not load: {i['src']}" for i in images if i["width"] == 0]
    if page != "index.html":
        stored = sum("image/png" in o.get("data", {})
                     for c in _built_notebook(page)["cells"] for o in c.get("outputs", []))
        shown = browser.execute_script(
            "return document.querySelectorAll('.cell_output img').length;")
        if shown != stored:
            problems.append(f"{stored} stored figures but {shown} shown")

    maths = browser.execute_async_script(MATHJAX_JS)
    if maths["loaded"]:
        problems += [f"MathJax error: {e}" for e in maths["errors"]]
    if _has_maths(page) and maths.get("rendered", 0) == 0:
        problems.append("the page writes LaTeX but MathJax rendered none"
                        + ("" if maths["loaded"] else " (MathJax did not load)"))
    raw = RAW_MATH.findall(browser.execute_script(PROSE_TEXT_JS))
    if raw:
        problems.append(f"unrendered maths in the text: {raw[:5]}")

    if page != "index.html":
        notebook = page.removesuffix(".html") + ".ipynb"
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('.notebook-link'))"
            ".map(a => [a.textContent.trim(), a.href]);")
        wanted = [["Open in Colab", colab_link(repo_url(), notebook)],
                  ["Download .ipynb", f"{server}/{notebook}"]]
        if links != wanted:
            problems.append(f"notebook links {links}, expected {wanted}")
        with urllib.request.urlopen(f"{server}/{notebook}", timeout=10) as response:
            downloaded = json.loads(response.read())
        if downloaded != _built_notebook(page):
            problems.append(f"the download {notebook} is not the notebook the page shows")

        for figure in browser.execute_script(FIGURES_JS):
            alt = (figure["alt"] or "").strip()
            if not alt or alt == figure["src"] or re.search(r"\.(png|jpe?g|svg)$", alt):
                problems.append(f"figure {figure['src']} has alt {figure['alt']!r}: give its "
                                'cell metadata {"mystnb": {"image": {"alt": "..."}}}')
        sections = browser.execute_script(GOING_DEEPER_JS)
        problems += [f"Going deeper section #{s['id']} is not marked optional and closed: {s}"
                     for s in sections if not (s["marked"] and s["closed"]
                                               and s["summary"].startswith("Optional"))]
        if len(sections) < _going_deeper_headings(page):
            problems.append(f"{_going_deeper_headings(page)} Going deeper headings in the "
                            f"notebook, {len(sections)} sections on the page")

    external = [u for u in _requests(browser)
                if not u.startswith((server + "/", "data:", "blob:", "about:"))]
    if external:
        problems.append(f"requests outside the local server: {external[:5]}")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    problems += [f"console error: {m}" for m in errors]
    problems += axe_violations(browser)

    name = Path(page).stem
    shot = _screenshot(browser, name, "mjx-container[display='true']") or _screenshot(
        browser, name, "mjx-container") or _screenshot(browser, name, None)
    figure = _screenshot(browser, f"{name}-figure", ".cell_output img")
    print(f"{page}: {maths.get('rendered', 0)} formulas, {len(images)} images; "
          f"screenshots {shot}" + (f", {figure}" if figure else ""))
    assert not problems, f"{page}:\n" + "\n".join(problems)


def test_search(server, browser):
    """The search page finds a lesson from the offline index."""
    browser.get_log("browser")
    browser.get(f"{server}/search.html?q=broadcasting")
    deadline = time.monotonic() + 30
    hits: list[str] = []
    while time.monotonic() < deadline and not hits:
        hits = browser.execute_script(
            "return Array.from(document.querySelectorAll('#search-results li a'))"
            ".map(a => a.getAttribute('href'));")
        time.sleep(0.3)
    _screenshot(browser, "search", None)
    assert any("00_tensors" in h for h in hits), f"search for 'broadcasting' found {hits}"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_lesson_from_disk(browser):
    """Opened as a file (no server at all), a lesson still shows its maths and figures."""
    page = PAGES[2]  # a lesson with maths and a figure
    browser.get_log("browser")
    browser.get((SITE / page).as_uri())
    maths = browser.execute_async_script(MATHJAX_JS)
    images = _wait_for_images(browser)
    assert maths["loaded"] and maths["rendered"] > 0 and not maths["errors"], maths
    assert images and all(i["width"] > 0 for i in images), images
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_axe_fails_a_page_with_a_figure_without_alt_text(server, browser):
    """The accessibility check can fail: a lesson page with one figure's alt removed."""
    page = next(p for p in PAGES[1:] if 'class="cell_output' in (SITE / p).read_text()
                and "<img " in (SITE / p).read_text())
    html = (SITE / page).read_text(encoding="utf-8")
    planted = re.sub(r'(<div class="cell_output[^"]*">.*?<img) alt="[^"]*"', r"\1", html,
                     count=1, flags=re.S)
    assert planted != html, f"{page}: found no figure to plant"
    target = (SITE / page).with_name("_planted-no-alt.html")  # beside it: same relative links
    target.write_text(planted, encoding="utf-8")
    try:
        browser.get(f"{server}/{target.relative_to(SITE).as_posix()}")
        violations = axe_violations(browser)
    finally:
        target.unlink()
    assert any(v.startswith("axe image-alt ") for v in violations), violations
