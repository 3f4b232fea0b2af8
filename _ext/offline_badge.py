"""Serve the notebooks' "Open in Colab" badge from the site itself.

The first cell of every notebook shows Google's badge image,
``https://colab.research.google.com/assets/colab-badge.svg``, which does not
load without internet. In the HTML output only, this extension points that
image at ``_static/open-in-colab.svg``, a badge drawn for this book, and keeps
the link around it. The notebooks are not changed: in Colab and on GitHub the
original badge still shows.

Two more fixes keep the browser console of every page free of errors (the
browser tests in tests/site fail on any):

* Sphinx 7.4 adds an inline script that an extension registers after the
  builder exists (sphinx-thebe's ``const THEBE_JS_URL = …``, sphinx-togglebutton's
  selector) twice: once as ``filename=None`` and once as ``''``, which its
  duplicate check sees as different. Declaring the ``const`` twice is a
  SyntaxError on every page. The page's script list is deduplicated here.
* pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit
  when the template variable ``default_mode`` is unset; it is set to ``auto``
  (what the theme falls back to anyway).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

REMOTE_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "open-in-colab.svg"  # in _ext/static, copied into the site's _static/
STATIC = Path(__file__).resolve().parent / "static"


def _add_static_path(app: Sphinx, config) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def _page_dir(app: Sphinx, docname: str) -> str:
    """The folder of the page's output file, relative to the site's root."""
    if app.builder.name == "singlehtml":  # every document ends up in the root page
        return ""
    return posixpath.dirname(app.builder.get_target_uri(docname))


def _replace_badge(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    local = posixpath.relpath(f"_static/{LOCAL_BADGE}", _page_dir(app, docname) or ".")
    for image in doctree.findall(nodes.image):
        if image.get("uri") == REMOTE_BADGE:
            image["uri"] = local
            image["candidates"] = {"*": local}


def _clean_page_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        seen, unique = set(), []
        for js in scripts:
            if not hasattr(js, "attributes"):  # a plain path: nothing to compare but itself
                key = js
            else:
                key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
            if key not in seen:
                seen.add(key)
                unique.append(js)
        scripts[:] = unique  # in place: the template reads this very list
    context.setdefault("default_mode", "auto")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _add_static_path)
    app.connect("doctree-resolved", _replace_badge)
    app.connect("html-page-context", _clean_page_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
