"""What the browser tests share: where the site is, how Chromium is started, what is read off a page.

The site is ``_build/html`` (``make book``), or the folder named by ``RNNBOOK_SITE``.
The browser is Debian's ``chromium`` driven by Playwright (``executable_path``;
Playwright's own browser downloads are never used). The server, Chromium's flags
and the offline router are the ones scripts/pdf.py prints the book with.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # `import book` (tests/book.py)
sys.path.insert(0, str(ROOT / "scripts"))  # `import pdf` (scripts/pdf.py)

import pdf  # noqa: E402

SITE = pathlib.Path(os.environ.get("RNNBOOK_SITE", ROOT / "_build" / "html")).resolve()
#: Screenshots go next to the site, into <build>/screenshots (_build/screenshots by default).
SCREENSHOTS = SITE.parent / "screenshots"
CHROMIUM = os.environ.get("RNNBOOK_CHROMIUM", "/usr/bin/chromium")
FLAGS = pdf.FLAGS
#: Folders of the site that hold no pages (webpack macros under _static are template fragments).
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}


def site_pages() -> list[str]:
    """Every HTML page of the built site, as a path relative to the site's root."""
    if not (SITE / "index.html").is_file():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not NOT_PAGES & set(p.relative_to(SITE).parts[:-1])
    )


def require_site() -> None:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first (or point RNNBOOK_SITE at a built _build/html)", pytrace=False)


# What a page holds once loaded and typeset, read in the page. Code (pre, code,
# highlighted blocks) and MathJax's own output are left out of the visible text,
# so TeX that shows there is TeX MathJax did not typeset.
REPORT_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const prose = document.querySelector('main') || document.body;
  const clone = prose.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight').forEach(e => e.remove());
  const imgs = [...document.images].map(img => ({
    src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth}));
  const maths = [...document.querySelectorAll('.math')];
  return {
    title: document.title,
    mathjax: !!(window.MathJax && MathJax.version),
    math: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    containers: document.querySelectorAll('mjx-container').length,
    merrors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e =>
      e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80)),
    prose: clone.innerText,
    outputs: [...document.querySelectorAll('.cell_output, .output')].map(e => e.innerText),
    tracebacks: document.querySelectorAll('.highlight-ipythontb, .output.traceback, .output.error').length,
    imgs: imgs,
    hrefs: [...document.querySelectorAll('a[href]')].map(a => a.href),
    badges: [...document.querySelectorAll('a[href^="https://colab.research.google.com/"] img')]
      .filter(i => !i.closest('.dropdown-launch-buttons'))
      .map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth, link: i.closest('a').href})),
    launch: [...document.querySelectorAll('.dropdown-launch-buttons a[href]')].map(a => a.href),
  };
}
"""


@dataclass
class PageReport:
    path: str
    status: int | None
    console_errors: list[str]
    page_errors: list[str]
    failed_requests: list[str]
    blocked: list[str]
    data: dict


def wait_until_quiet(page, pending: dict, quiet_ms: int = 500, timeout_s: float = 60) -> None:
    """Wait until no request has been open for ``quiet_ms`` (fonts, MathJax's lazy parts).

    Playwright's own "networkidle" state was missed now and then here, with nothing open.
    """
    deadline, quiet_since = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)  # lets Playwright deliver the request events
        if pending:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
    raise AssertionError(f"{page.url}: requests still open after {timeout_s} s: {sorted(pending.values())}")


