"""Heading anchors as JupyterLab makes them: the heading's text, spaces replaced by '-'."""


def jupyterlab_slug(text: str) -> str:
    return text.strip().replace(" ", "-")
