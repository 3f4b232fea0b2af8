"""Print the built site to one PDF with headless Chromium (no TeX).

    python scripts/pdf.py [--site _build/html] [--out SITE/rnnbook.pdf] [--chromium /usr/bin/chromium]

The site is served on 127.0.0.1 and opened in Debian's Chromium, driven by
Playwright (``executable_path``; no browser download). On the home page, the
pages of the book are fetched in the order of the site's navigation and put one
after the other into the article, each starting on a new sheet under its part's
caption; ids are made unique per page and links between pages become links
inside the PDF. MathJax (the site's own copy) typesets everything, and Chromium
prints it to A4 with page numbers, after a Contents sheet whose entries are links. Nothing leaves the
machine: every request that is not for 127.0.0.1 is aborted.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import pathlib
import re
import shutil
import sys
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

A4_MM, MARGIN_MM = (210, 297), {"top": 16, "bottom": 16, "left": 12, "right": 12}
SHEET_WIDTH_PX = round((A4_MM[0] - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)

# Runs in the home page. Returns the number of pages merged.
MERGE_JS = r"""
async () => {
  const nav = document.querySelector('nav.bd-docs-nav');
  if (!nav) throw new Error('no navigation (nav.bd-docs-nav) on the home page');
  const home = new URL(location.href); home.hash = ''; home.search = '';
  const entries = [{url: home.href, caption: null}];
  let caption = null;
  for (const el of nav.querySelectorAll('p.caption, a.reference.internal')) {
    if (el.matches('p.caption')) { caption = el.innerText.trim(); continue; }
    const url = new URL(el.getAttribute('href'), location.href);
    if (url.hash.length > 1) continue;  // a section of a page, not a page
    url.hash = '';
    if (!entries.some(e => e.url === url.href)) { entries.push({url: url.href, caption}); caption = null; }
  }
  const key = u => { const x = new URL(u); x.hash = ''; x.search = ''; return x.href; };
  const index = new Map(entries.map((e, i) => [key(e.url), i]));

  const book = document.createElement('div');
  book.id = 'pdf-book';
  for (const [i, entry] of entries.entries()) {
    const response = await fetch(entry.url);
    if (!response.ok) throw new Error(`${entry.url}: HTTP ${response.status}`);
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    const article = doc.querySelector('article.bd-article');
    if (!article) throw new Error(`${entry.url}: no article.bd-article`);
    const section = document.createElement('section');
    section.className = 'pdf-page';
    section.id = `p${i}`;
    if (entry.caption) {
      const part = document.createElement('h1');
      part.className = 'pdf-part';
      part.textContent = entry.caption;
      section.appendChild(part);
    }
    for (const el of article.querySelectorAll('[id]')) el.id = `p${i}-${el.id}`;
    for (const el of article.querySelectorAll('[src]')) el.src = new URL(el.getAttribute('src'), entry.url).href;
    for (const a of article.querySelectorAll('a[href]')) {
      const target = new URL(a.getAttribute('href'), entry.url);
      const page = index.get(key(target.href));
      if (target.origin === location.origin && page !== undefined) {
        const frag = decodeURIComponent(target.hash.slice(1));
        a.setAttribute('href', frag ? `#p${page}-${frag}` : `#p${page}`);
      } else if (target.origin === location.origin) {
        a.removeAttribute('href');  // a file of the site that is not in the book (e.g. a notebook download)
      } else {
        a.setAttribute('href', target.href);
      }
    }
    section.append(...article.childNodes);
    book.appendChild(section);
  }
  // Contents, after the home page: parts, pages and their sections, each a link inside the PDF.
  const toc = document.createElement('section');
  toc.className = 'pdf-page pdf-contents';
  toc.innerHTML = '<h1>Contents</h1>';
  let list = null;
  for (const section of [...book.children].slice(1)) {
    const part = section.querySelector(':scope > h1.pdf-part');
    if (part || !list) {
      if (part) { const h = document.createElement('h2'); h.textContent = part.textContent; toc.appendChild(h); }
      list = toc.appendChild(document.createElement('ul'));
    }
    const title = section.querySelector('h1:not(.pdf-part)');
    const item = list.appendChild(document.createElement('li'));
    item.innerHTML = `<a href="#${section.id}"></a>`;
    item.firstChild.textContent = title ? title.textContent.replace(/#$/, '') : section.id;
    const subs = [...section.querySelectorAll('section > h2')];
    if (subs.length) {
      const ul = item.appendChild(document.createElement('ul'));
      for (const h2 of subs) {
        const li = ul.appendChild(document.createElement('li'));
        li.innerHTML = `<a href="#${h2.parentElement.id}"></a>`;
        li.firstChild.textContent = h2.textContent.replace(/#$/, '');
      }
    }
  }
  book.children[0].after(toc);
  // The book replaces the whole page: the theme's nested flex layout (sidebars, header)
  // keeps Chromium from splitting sections across sheets where it should.
  const root = document.createElement('main');
  root.id = 'pdf-root';
  const article = document.createElement('article');
  article.className = 'bd-article';
  article.appendChild(book);
  root.appendChild(article);
  document.body.replaceChildren(root);
  document.getElementById('jb-print-docs-body')?.remove();
  // Solutions and "Going deeper" blocks are part of the book; folded plotting code (hide-input) is not.
  document.querySelectorAll('details.hide.above-input').forEach(d => d.remove());
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  if (window.MathJax) {
    await MathJax.startup.promise;
    MathJax.typesetClear();
    await MathJax.typesetPromise([book]);
  }
  // Chromium cannot scroll a PDF: display math and tables wider than the sheet are shrunk to fit
  // (measured in the print layout: the caller sets the viewport to the sheet's width).
  for (const el of book.querySelectorAll('mjx-container[display="true"], table')) {
    const avail = el.matches('table') ? el.parentElement.clientWidth : el.clientWidth;
    if (avail > 0 && el.scrollWidth > avail + 1) {
      el.style.fontSize = `${Math.max(45, Math.floor(100 * avail / el.scrollWidth) - 1)}%`;
    }
  }
  await Promise.all([...book.querySelectorAll('img')].map(img => img.decode().catch(() => {
    throw new Error(`image did not load: ${img.src}`);
  })));
  await document.fonts.ready;
  return entries.length;
}
"""

# Print layout, added before the pages are merged so that widths are measured as printed.
PRINT_CSS = """
    @media print {
      .pdf-page { break-before: page; }
      .pdf-page:first-child { break-before: auto; }
      body { display: block !important; }
      #pdf-root h1 { font-size: 2em; margin: 0 0 .8em; }
      #pdf-root h1, #pdf-root h2, #pdf-root h3, #pdf-root h4 { break-after: avoid; color: #000; }
      #pdf-root a.headerlink { display: none; }
      .pdf-contents ul { list-style: none; padding-left: 0; margin: 0 0 .6em; }
      .pdf-contents ul ul { padding-left: 1.5em; font-size: .9em; }
      .pdf-contents h2 { font-size: 1.1em; margin: 1em 0 .3em; }
      .pdf-contents a { text-decoration: none; }
      #pdf-root h1.pdf-part { font-size: 1.2em; text-transform: uppercase; letter-spacing: .08em; color: #666 !important;
                    border-bottom: 1px solid #ccc; padding-bottom: .3em; margin: 0 0 1.5em; }
      .prev-next-area { display: none !important; }
      .cell_output img, figure img { break-inside: avoid; }
      /* long code lines wrap instead of running off the sheet; code and tables may span sheets */
      pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
      .bd-main .bd-content table, div.cell, div.cell_input, div.highlight, div[class*=highlight-], pre,
      .admonition, div.admonition { break-inside: auto !important; }
      /* Chromium never splits a scrolling box across sheets: let them all overflow visibly */
      .pst-scrollable-table-container, pre, div.math, .cell_output, div.output { overflow: visible !important; }
      html, body { width: auto !important; }
    }
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@contextlib.contextmanager
def serve(site: pathlib.Path):
    """Serve the folder ``site`` from a thread on 127.0.0.1, on a free port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def offline_router(blocked: list[str]):
    """A Playwright route handler: requests for 127.0.0.1 go through, all others are aborted and listed."""

    def route(r):
        if urllib.parse.urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    return route


def pdf_pages(data: bytes) -> int:
    """Number of pages of a PDF written by Chromium (page objects are not compressed there)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def root_page(site: pathlib.Path) -> str:
    """The home page: Jupyter Book's index.html only redirects to it."""
    index = (site / "index.html").read_text(encoding="utf-8")
    m = re.search(r"""http-equiv=["']?refresh["']?\s+content=["'][^"']*url=([^"']+)["']""", index, re.I)
    return m.group(1).strip() if m else "index.html"


def build_pdf(site: pathlib.Path, out: pathlib.Path, chromium: str = "/usr/bin/chromium") -> dict:
    """Print the site at ``site`` to ``out``; returns {"pages": sheets, "chapters": pages merged, "seconds": …}."""
    site, out = pathlib.Path(site), pathlib.Path(out)
    if not (site / "index.html").is_file():
        raise ValueError(f"site: no index.html in {site}; run `make book` first")
    if not shutil.which(chromium):
        raise ValueError(f"chromium: {chromium} not found; install Debian's chromium")
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    blocked: list[str] = []
    errors: list[str] = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            # The viewport is the printable width of the sheet (A4 less the margins, in CSS px),
            # so that what is measured before printing is what is printed.
            page = browser.new_page(viewport={"width": SHEET_WIDTH_PX, "height": 1000})
            page.set_default_timeout(180_000)
            page.route("**/*", offline_router(blocked))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + root_page(site), wait_until="load")
            page.emulate_media(media="print")
            page.add_style_tag(content=PRINT_CSS)
            t0 = time.monotonic()
            chapters = page.evaluate(MERGE_JS)
            t_merge = time.monotonic() - t0
            if errors:
                raise RuntimeError(f"JavaScript errors while assembling the book: {errors}")
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".pdf.part")
            page.pdf(
                path=str(tmp),
                format="A4",
                print_background=True,
                margin={k: f"{v}mm" for k, v in MARGIN_MM.items()},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center;color:#666">'
                    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
                ),
                # An outline (bookmarks) needs a tagged PDF in Chromium, which doubles size and time:
                # the Contents sheet links to every page and section instead.
                outline=False,
                tagged=False,
            )
            t_print = time.monotonic() - t0 - t_merge
        finally:
            browser.close()
    if blocked:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"the book asked for files outside the site: {sorted(set(blocked))}")
    tmp.replace(out)
    return {
        "pages": pdf_pages(out.read_bytes()),
        "chapters": chapters,
        "seconds": round(time.monotonic() - started, 1),
        "assemble_and_typeset_s": round(t_merge, 1),
        "print_s": round(t_print, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html", help="the built site (default: _build/html)")
    parser.add_argument("--out", type=pathlib.Path, help="the PDF to write (default: SITE/rnnbook.pdf)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable (default: /usr/bin/chromium)")
    args = parser.parse_args(argv)
    out = args.out or args.site / "rnnbook.pdf"
    try:
        stats = build_pdf(args.site, out, args.chromium)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{out}: {stats['pages']} pages from {stats['chapters']} site pages, {out.stat().st_size / 1e6:.1f} MB, {stats['seconds']} s "
          f"(assembling and typesetting {stats['assemble_and_typeset_s']} s, printing {stats['print_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
