"""Fixtures of the browser tests: the built site served on 127.0.0.1 and opened in headless Chromium.

Every request that does not go to the local server is aborted and recorded, so a
page that needs the internet fails (see _browser.py for the site and the browser).
"""

from __future__ import annotations

import shutil

import pytest

from _browser import CHROMIUM, FLAGS, REPORT_JS, SITE, PageReport, pdf, require_site, wait_until_quiet


@pytest.fixture(scope="session")
def server():
    """Base URL of the site served from a thread on 127.0.0.1, on a free port."""
    require_site()
    with pdf.serve(SITE) as base:
        yield base


@pytest.fixture(scope="session")
def blocked() -> list[str]:
    """URLs the browser tried to fetch from off the machine (all aborted)."""
    return []


@pytest.fixture(scope="session")
def browser(server, blocked, tmp_path_factory):
    """One headless Chromium context with a fresh profile; only 127.0.0.1 is reachable."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (`apt-get install chromium`; .ci/run does it)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        context.set_default_timeout(60_000)  # generous: CI machines are shared and slow
        context.route("**/*", pdf.offline_router(blocked))
        yield context
        context.close()


@pytest.fixture(scope="session")
def load(browser, server, blocked):
    """load(path) → PageReport of the page, opened once per session and cached."""
    cache: dict[str, PageReport] = {}

    def _load(path: str) -> PageReport:
        if path in cache:
            return cache[path]
        page = browser.new_page()
        console, errors, failed = [], [], []
        page.on("console", lambda m: console.append(f"{m.text} ({m.location.get('url', '')})") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        pending: dict = {}
        page.on("request", lambda r: pending.__setitem__(id(r), r.url))
        page.on("requestfinished", lambda r: pending.pop(id(r), None))
        page.on("requestfailed", lambda r: pending.pop(id(r), None))
        before = len(blocked)
        response = page.goto(server + path, wait_until="load")
        wait_until_quiet(page, pending)
        data = page.evaluate(REPORT_JS)
        report = PageReport(
            path=path,
            status=response.status if response else None,
            console_errors=console,
            page_errors=errors,
            failed_requests=failed,
            blocked=blocked[before:],
            data=data,
        )
        page.close()
        cache[path] = report
        return report

    return _load
