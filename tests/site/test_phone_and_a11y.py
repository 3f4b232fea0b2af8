"""Every page on a phone (390 × 844) and with an accessibility checker (axe-core).

On a 390-px-wide screen a page must not scroll sideways, every display equation
must be visible whole (MathJax 4 breaks long ones into lines), its number must not
sit on top of it, no inline formula may run past the screen, and anything wider
than the screen (a table, a code block, a figure) must scroll inside its own box.
Figures must not be shrunk until their labels cannot be read.

axe-core, from the npm registry (`make` puts it in .venv; AXE_JS names the file),
is injected into every page, at desktop width and at phone width: no violation of
impact "serious" or "critical" may remain. Each page's figures go to
<build>/site-checks.json, and a phone screenshot of a few pages to <build>/screenshots.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from _browser import SCREENSHOTS, SITE, site_pages, wait_until_quiet

PAGES = site_pages()
PHONE = {"width": 390, "height": 844}
AXE_JS = os.environ.get("AXE_JS", str(pathlib.Path(__file__).resolve().parents[2] / ".venv/share/axe-core/axe.min.js"))
CHECKS = SITE.parent / "site-checks.json"
#: Smallest share of its drawn width that a figure may be shown at on a phone: a label drawn
#: at 10 pt (14 px at 100 dpi) is then shown at 7 px or more, about the smallest text one can read.
MIN_FIGURE_SCALE = 0.5

PHONE_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await document.fonts.ready;
  const vw = document.documentElement.clientWidth;
  const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const scrolls = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return a; } return null; };
  const name = e => (e.closest('[id]') ? '#' + e.closest('[id]').id : e.tagName.toLowerCase()) + ' ' +
                    (e.textContent || '').trim().slice(0, 50);
  const display = [...document.querySelectorAll('mjx-container[display="true"]')].filter(visible);
  const cut = display.filter(m => { const r = m.getBoundingClientRect();
      const box = m.closest('div.math') || m.parentElement;
      return r.left < -1 || r.right > vw + 1 || m.scrollWidth > m.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1; });
  const overlap = [...document.querySelectorAll('div.math')].filter(visible).filter(d => {
      const n = d.querySelector('.eqno'), m = d.querySelector('mjx-container mjx-math') || d.querySelector('mjx-container');
      if (!n || !m) return false;
      const a = n.getBoundingClientRect(), b = m.getBoundingClientRect();
      return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1; });
  const inline = [...document.querySelectorAll('mjx-container:not([display="true"])')].filter(visible)
      .filter(m => m.getBoundingClientRect().right > vw + 1 && !scrolls(m));
  // Drawers (the theme's sidebars on a phone) are fixed boxes parked off screen: no page scrolls for them.
  const fixed = e => { for (let a = e; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).position === 'fixed') return true; } return false; };
  const main = document.querySelector('main') || document.body;
  const sticking = [...main.querySelectorAll('*')].filter(visible).filter(e => {
      const r = e.getBoundingClientRect(); return r.right > vw + 1 && !scrolls(e) && !fixed(e); });
  const outermost = sticking.filter(e => !sticking.includes(e.parentElement));
  const figures = [...document.querySelectorAll('.cell_output img, figure img')].filter(visible).map(i => ({
      src: i.getAttribute('src'), scale: i.getBoundingClientRect().width / i.naturalWidth, natural: i.naturalWidth}));
  return {
    viewport: vw,
    sideways: document.documentElement.scrollWidth - vw,
    display: display.length,
    cut: cut.map(name),
    overlap: overlap.map(name),
    inline: inline.map(name),
    sticking: outermost.slice(0, 8).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' ' + name(e)),
    small_figures: figures.filter(f => f.natural > 200 && f.scale < %(min_scale)s),
    figures: figures.length,
  };
}
""" % {"min_scale": MIN_FIGURE_SCALE}

AXE_RUN = """
async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n')[1])}));
}
"""

PHONE_SHOTS = {
    "intro.html": "phone-intro",
    "chapters/02-lstm/01-gates.html": "phone-lstm-gates",
    "chapters/03-gru/01-gru.html": "phone-gru",
    "chapters/06-parallel/02-scan.html": "phone-scan",
    "chapters/07-lab/01-data.html": "phone-lab-data",
    "appendix/instructors.html": "phone-instructors",
}


def _record(path: str, key: str, value) -> None:
    data = json.loads(CHECKS.read_text()) if CHECKS.is_file() else {}
    data.setdefault(path, {})[key] = value
    CHECKS.write_text(json.dumps(data, indent=1, sort_keys=True))


def _open(browser, server, path, viewport):
    page = browser.new_page()
    page.set_viewport_size(viewport)
    pending: dict = {}
    page.on("request", lambda r: pending.__setitem__(id(r), r.url))
    page.on("requestfinished", lambda r: pending.pop(id(r), None))
    page.on("requestfailed", lambda r: pending.pop(id(r), None))
    page.goto(server + path, wait_until="load")
    wait_until_quiet(page, pending)
    return page


@pytest.fixture(scope="session")
def phone(browser, server):
    """phone(path) → (layout report, axe violations) of the page at 390 × 844, cached."""
    cache: dict[str, tuple] = {}

    def _phone(path: str):
        if path not in cache:
            page = _open(browser, server, path, PHONE)
            try:
                report = page.evaluate(PHONE_JS)
                page.add_script_tag(path=AXE_JS)
                violations = page.evaluate(AXE_RUN)
                if path in PHONE_SHOTS:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SCREENSHOTS / f"{PHONE_SHOTS[path]}.png"))
            finally:
                page.close()
            cache[path] = (report, violations)
        return cache[path]

    return _phone


def test_axe_core_is_installed():
    assert pathlib.Path(AXE_JS).is_file(), f"no axe-core at {AXE_JS}: `make test-site` fetches it from the npm registry"


@pytest.mark.parametrize("path", PAGES)
class TestPhone:
    def test_no_sideways_scrolling(self, phone, path):
        report, _ = phone(path)
        _record(path, "sideways_px", report["sideways"])
        assert report["sideways"] <= 1, f"the page is {report['sideways']} px wider than the phone: {report['sticking']}"
        assert not report["sticking"], f"elements past the screen's edge, outside any scrolling box: {report['sticking']}"

    def test_display_equations_visible_whole(self, phone, path):
        report, _ = phone(path)
        _record(path, "display_equations", report["display"])
        _record(path, "cut_equations", len(report["cut"]))
        assert not report["cut"], f"display equations cut off or scrolling at 390 px: {report['cut']}"

    def test_equation_numbers_do_not_overlap(self, phone, path):
        report, _ = phone(path)
        _record(path, "overlapping_numbers", len(report["overlap"]))
        assert not report["overlap"], f"equation numbers drawn over their equation: {report['overlap']}"

    def test_inline_math_fits(self, phone, path):
        report, _ = phone(path)
        assert not report["inline"], f"inline formulas running past the screen: {report['inline']}"

    def test_figures_readable(self, phone, path):
        report, _ = phone(path)
        _record(path, "figures", report["figures"])
        assert not report["small_figures"], f"figures shown at under {MIN_FIGURE_SCALE:.0%} of their size: {report['small_figures']}"


@pytest.mark.parametrize("path", PAGES)
def test_axe_no_serious_or_critical_violation(browser, server, phone, path):
    page = _open(browser, server, path, {"width": 1280, "height": 900})
    try:
        page.add_script_tag(path=AXE_JS)
        desktop = page.evaluate(AXE_RUN)
    finally:
        page.close()
    _, mobile = phone(path)
    count = sum(v["count"] for v in desktop) + sum(v["count"] for v in mobile)
    _record(path, "axe_serious_or_critical", count)
    assert not desktop, f"axe-core at desktop width: {json.dumps(desktop, indent=1)}"
    assert not mobile, f"axe-core at 390 px: {json.dumps(mobile, indent=1)}"
