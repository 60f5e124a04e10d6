"""Sphinx configuration of the series' website (built by ``python tools/build_site.py``).

The build script stages the sources first (the README as ``index.md``, the stored notebooks,
MathJax copied from a PyPI package) and runs Sphinx on that staging folder with this file as
its configuration. Notebooks are rendered from their stored outputs and never executed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes

SITE = Path(__file__).resolve().parent
REPO = SITE.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(SITE))
from set_repo_url import colab_link, repo_url  # noqa: E402

project = "PyTorch, one runnable notebook at a time"
author = "The PyTorch tutorials authors"
copyright = "the PyTorch tutorials authors"  # noqa: A001

extensions = ["myst_nb"]
templates_path = ["_templates"]
html_static_path = ["_static"]  # site.css; MathJax is copied in after the build
exclude_patterns = ["**/.ipynb_checkpoints", "**/models", "**/runs"]

# Notebooks: stored outputs only, never executed (pytest --nbval verified them).
nb_execution_mode = "off"
nb_output_stderr = "show"
# Progress bars stored as widgets: no widget JavaScript from a CDN, show their text form.
nb_ipywidgets_js: dict = {}
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/vnd.jupyter.widget-state+json", None),
]
nb_merge_streams = True

# Markdown: $...$ and $$...$$ maths; heading anchors as JupyterLab makes them, so that a
# link like [x](01_autograd.ipynb#The-chain-rule) works in JupyterLab and on the site.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 4
myst_heading_slug_func = "slugs.jupyterlab_slug"

# Maths: MathJax 3 served from the site itself (tools/build_site.py copies it from the
# sphinx-mathjax-offline wheel into _static/mathjax); nothing is fetched from a CDN.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "PyTorch, one runnable notebook at a time"
html_copy_source = False  # the .ipynb is offered for download beside each page instead
html_show_sourcelink = False
html_last_updated_fmt = None
html_css_files = ["site.css"]
html_favicon = "_static/favicon.svg"
html_theme_options = {
    "repository_url": repo_url(),
    "use_repository_button": True,
    "use_download_button": False,  # our own "Download .ipynb" link (templates)
    "home_page_in_toc": False,
    "show_navbar_depth": 1,
    "article_header_end": ["notebook-links.html", "article-header-buttons.html"],
    "show_toc_level": 2,
    "navbar_persistent": [],  # search sits in the sidebar (and Ctrl+K), not in a top bar too
}
html_context = {"default_mode": "light"}


def _page_context(app, pagename, templatename, context, doctree):
    """Colab and download links for every notebook page (see _templates/notebook-links.html)."""
    if pagename.startswith("notebooks/"):
        notebook = f"{pagename}.ipynb"
        context["colab_url"] = colab_link(repo_url(), notebook)
        context["ipynb_name"] = Path(notebook).name


# "Going deeper" sections (a heading whose text starts with "Going deeper:", up to the next
# heading of the same or a higher level; JupyterLab shows them collapsed) are optional on
# the site too: the section keeps its heading (in the page's table of contents, and as a
# link target) and gets the class "going-deeper" (site.css); its body sits in a closed
# <details> whose summary says it is optional. A browser opens it when a link or a search
# in the page lands inside. e2e/test_site.py checks every such section is marked.
GOING_DEEPER = "Going deeper:"
GOING_DEEPER_SUMMARY = ("Optional: expert depth that the rest of the lesson does not need. "
                        "Show this section")


def _mark_going_deeper(app, doctree):
    for section in list(doctree.findall(nodes.section)):
        title = section.children[0] if section.children else None
        if not isinstance(title, nodes.title) or not title.astext().startswith(GOING_DEEPER):
            continue
        section["classes"].append("going-deeper")
        section.insert(1, nodes.raw(
            "", f'<details class="going-deeper-body"><summary>{GOING_DEEPER_SUMMARY}</summary>',
            format="html"))
        section.append(nodes.raw("", "</details>", format="html"))


def setup(app):
    app.connect("html-page-context", _page_context)
    app.connect("doctree-read", _mark_going_deeper)
