"""Every page of the built site, opened in headless Chromium with no internet.

Run by ``make test-site`` after ``make book``. Each page is loaded once (see
``conftest.load``) and then checked for one thing per test: it loads, its math is
typeset by the local MathJax, nothing goes to the console as an error, no request
leaves 127.0.0.1, no cell output holds a traceback, every image loads. Notebook
pages must launch Colab on their own notebook; the search page must find
"forget gate". A few screenshots are saved for people to look at.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from _browser import SCREENSHOTS, SITE, pdf, require_site, site_pages

import book  # tests/book.py, put on sys.path by _browser

PAGES = site_pages()
REPO = book.config()["repository"]
SLUG = REPO["url"].rstrip("/").removeprefix("https://github.com/")
BRANCH = REPO.get("branch", "main")
COLAB = "https://colab.research.google.com/"
TOC = set(book.toc_files())
NOTEBOOKS = [p.relative_to(book.ROOT).as_posix() for p in book.notebooks()]
NOTEBOOKS = [nb for nb in NOTEBOOKS if nb.removesuffix(".ipynb") in TOC]

# TeX that MathJax should have replaced: display/inline delimiters, environments
# and control words followed by an argument or a subscript (\frac{, \sigma_), in the
# visible prose (code blocks and typeset math are excluded by the page report).
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(?:begin|end)\{|\\[A-Za-z]+[{_^]|\$\\[A-Za-z]")
# Python's and IPython's tracebacks both carry this line; a printed error message does not.
TRACEBACK = "Traceback (most recent call last)"


def test_site_is_built():
    require_site()
    assert PAGES, f"no HTML page under {SITE}"
    for nb in NOTEBOOKS:
        page = SITE / nb.replace(".ipynb", ".html")
        assert page.is_file(), f"{nb} is in _toc.yml but {page} was not built"


@pytest.mark.parametrize("path", PAGES)
class TestPage:
    def test_loads(self, load, path):
        r = load(path)
        assert r.status == 200, f"HTTP {r.status}"
        assert not r.failed_requests, f"requests that failed: {r.failed_requests}"
        assert not r.page_errors, f"uncaught JavaScript errors: {r.page_errors}"

    def test_no_console_errors(self, load, path):
        assert not load(path).console_errors

    def test_works_offline(self, load, path):
        assert not load(path).blocked, "the page asked for files outside the site (blocked, as on a machine offline)"

    def test_math_typeset(self, load, path):
        d = load(path).data
        if d["math"]:
            assert d["mathjax"], f"{d['math']} math elements but MathJax did not load"
            assert not d["untypeset"], f"math MathJax left as TeX: {d['untypeset'][:5]}"
            assert d["containers"] >= d["math"]
        assert not d["merrors"], f"MathJax errors: {d['merrors'][:5]}"
        raw = sorted({m.group(0) for m in RAW_TEX.finditer(d["prose"])})
        assert not raw, f"raw TeX in the page's text: {raw} … e.g. {_around(d['prose'], RAW_TEX)}"

    def test_no_traceback(self, load, path):
        d = load(path).data
        assert not d["tracebacks"], f"{d['tracebacks']} error/traceback output blocks"
        shown = [o[:300] for o in d["outputs"] if TRACEBACK in o]
        assert not shown, f"cell outputs with a traceback: {shown}"

    def test_links_inside_the_site_resolve(self, load, server, path):
        missing = set()
        for href in load(path).data["hrefs"]:
            if href.startswith(server):
                target = urllib.parse.unquote(urllib.parse.urlsplit(href).path).lstrip("/")
                file = SITE / target
                if not (file.is_file() or (file / "index.html").is_file()):
                    missing.add(target)
        assert not missing, f"links to files the site does not have: {sorted(missing)}"

    def test_images_load(self, load, path):
        broken = [i["src"] for i in load(path).data["imgs"] if not (i["complete"] and i["width"] > 0)]
        assert not broken, f"images that did not load: {broken}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_page_launches_colab_on_itself(load, server, notebook):
    expected = f"{COLAB}github/{SLUG}/blob/{BRANCH}/{notebook}"
    page = notebook.replace(".ipynb", ".html")
    if not (SITE / page).is_file():
        pytest.fail(f"{notebook} is in _toc.yml but {page} was not built: rebuild the site (`make book`)")
    d = load(page).data
    assert d["launch"] == [expected], "the launch button (rocket) must open this page's notebook in Colab"
    colab = {h for h in d["hrefs"] if h.startswith(COLAB)}
    assert colab == {expected}, f"Colab links to other notebooks: {sorted(colab - {expected})}"
    # The badge of the first cell: the book's own image, served by the site (offline_badge).
    badges = d["badges"]
    assert badges, "no Open-in-Colab badge (an image linking to Colab) on the page"
    assert all(b["src"] == server + "_static/open-in-colab.svg" and b["width"] > 0 for b in badges), (
        f"the Open-in-Colab badge must be the site's own image, loaded: {badges}"
    )


PDF = SITE / "rnnbook.pdf"


def test_pdf_of_the_book_is_current():
    assert PDF.is_file(), f"no {PDF}: run `make pdf` (`make test-site` does)"
    data = PDF.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), "not a complete PDF"
    pages = pdf.pdf_pages(data)
    # At least one sheet per page of the book, plus the Contents (the book prints to ~230 sheets).
    assert pages >= len(NOTEBOOKS) + 2, f"only {pages} sheets"
    assert b"127.0.0.1" not in data, "the PDF links to the local server it was printed from"
    built = max(p.stat().st_mtime for p in SITE.rglob("*.html"))
    assert PDF.stat().st_mtime >= built, "the PDF is older than the site: run `make pdf`"


def test_pdf_is_linked_from_the_home_page(load):
    home = pdf.root_page(SITE)
    hrefs = {urllib.parse.urlsplit(h).path.lstrip("/") for h in load(home).data["hrefs"]}
    assert PDF.name in hrefs, f"{home} has no link to {PDF.name}"


def test_pdf_script_rejects_a_missing_site(tmp_path):
    with pytest.raises(ValueError, match="site"):
        pdf.build_pdf(tmp_path, tmp_path / "x.pdf")


def _search(browser, server, query):
    """Search as a reader does: Ctrl+K on the home page, type, Enter. Returns (summary, result hrefs)."""
    page = browser.new_page()
    try:
        page.goto(server + "intro.html", wait_until="load")
        page.keyboard.press("Control+k")
        box = page.locator("#pst-search-dialog input[type=search]")
        box.fill(query)
        box.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q="))
        # Sphinx's searchtools fills the (empty) summary once every result is shown.
        page.wait_for_function("() => document.querySelector('#search-results .search-summary')?.innerText")
        summary = page.locator("#search-results .search-summary")
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / ("search-" + re.sub(r"\W+", "-", query) + ".png")))
        return summary.inner_text(), hrefs
    finally:
        page.close()


def test_search_finds_forget_gate(browser, server):
    summary, hrefs = _search(browser, server, "forget gate")
    assert re.search(r"found [1-9]\d* page", summary), summary
    pages = {urllib.parse.urlsplit(h).path.lstrip("/") for h in hrefs}
    assert any(p.startswith("chapters/02-lstm/") for p in pages), f"the LSTM chapter is not among the results: {sorted(pages)}"


def test_search_finds_nothing_for_nonsense(browser, server):
    # The check above can fail: a word the book does not contain finds no page.
    summary, hrefs = _search(browser, server, "zyxwvutsrq")
    assert not hrefs, f"nonsense found pages: {hrefs}"
    assert "did not match any" in summary, summary


#: name → (page, element scrolled to the middle of the view, or None for the top).
SHOTS = {
    "intro": ("intro.html", None),
    "lstm-gates-top": ("chapters/02-lstm/01-gates.html", None),
    "lstm-gates-equation": ("chapters/02-lstm/01-gates.html", "div.math:has(.eqno)"),
    "roc-auc-figure": ("chapters/05-evaluation/02-roc-auc.html", ".cell_output img"),
}


@pytest.mark.parametrize("name", SHOTS)
def test_screenshot(browser, server, name):
    path, target = SHOTS[name]
    if not (SITE / path).is_file():
        pytest.fail(f"{path} was not built")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    try:
        page.goto(server + path, wait_until="load")
        page.evaluate("async () => { if (window.MathJax) await MathJax.startup.promise; await document.fonts.ready; }")
        if target:
            page.locator(target).first.evaluate("e => e.scrollIntoView({block: 'center'})")
        out = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(out))
    finally:
        page.close()
    assert out.stat().st_size > 10_000, f"{out} is suspiciously small"


def _around(text: str, pattern: re.Pattern, width: int = 60) -> str:
    m = pattern.search(text)
    return repr(text[max(0, m.start() - width): m.end() + width]) if m else ""
