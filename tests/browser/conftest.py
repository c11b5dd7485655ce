"""Session fixtures of the browser tests: the session's HTML build of the book (``built``,
tests/conftest.py), served over HTTP on localhost, and every page of it opened once in headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright; no browser is downloaded).

Each page is opened in a fresh browser context (empty storage: every page is a first visit),
and what the tests check is recorded in a :class:`PageVisit`: console messages, page errors,
failed requests, images, tables, the dataset notice, the links and axe-core's WCAG 2 A/AA
violations. The results pages are also
saved as screenshots in ``_build/screenshots/`` of the working tree, for a person to look at.
"""
from __future__ import annotations

import functools
import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from book_build_support import DATASETS

from analysis import build as runner
from analysis import paths

CHROMIUM = Path("/usr/bin/chromium")
#: Flags that let Chromium run headless as root on a machine without network (Playwright adds
#: --headless and a fresh --user-data-dir of its own).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = paths.BUILD / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}

#: What the page reports about itself once loaded (run in the page).
INSPECT_PAGE = """() => {
  const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const text = (el) => el ? el.innerText.replace(/\\s+/g, " ").trim() : "";
  const notice = document.querySelector(".bd-header-announcement");
  return {
    images: Array.from(document.images).map((img) => ({src: img.getAttribute("src"), complete: img.complete,
                                                      naturalWidth: img.naturalWidth, alt: img.alt})),
    tables: Array.from(document.querySelectorAll("table")).map((table) => ({
      id: table.id, visible: visible(table),
      caption: text(table.querySelector("caption")),
      header: text(table.querySelector("thead")),
      headerVisible: visible(table.querySelector("thead")),
      bodyRows: table.querySelectorAll("tbody tr").length})),
    notice: notice ? {text: text(notice), visible: visible(notice), top: notice.getBoundingClientRect().top} : null,
    links: Array.from(document.querySelectorAll("a[href]")).map((a) => a.href),
    ids: Array.from(document.querySelectorAll("[id]")).map((el) => el.id),
  };
}"""


@dataclass
class PageVisit:
    """What one page showed and reported in the browser."""

    path: str  # relative to the HTML root, e.g. "generated/safety.html"
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    screenshot: Path | None = None
    #: axe-core's WCAG 2 A and AA violations: rule id -> (impact, the failing elements' selectors)
    accessibility: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture(scope="session")
def html_build(built):
    """The HTML build the browser opens: the synthetic cohort's when it is in this checkout."""
    return built(DATASETS[-1])


@pytest.fixture(scope="session")
def site(html_build):
    """Base URL of the built HTML, served by a local HTTP server for the session."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Handler, directory=str(html_build.html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run `make system-deps` (Debian package chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def html_pages(html_root: Path) -> list[str]:
    """Every page of the build (the theme's and Sphinx's support folders left out)."""
    return sorted(p.relative_to(html_root).as_posix() for p in html_root.rglob("*.html")
                  if not p.relative_to(html_root).parts[0].startswith("_"))


def results_pages(root: Path) -> list[str]:
    """The pages of the run plan's executed notebooks (the *Results* and later parts)."""
    return [f"{run.page}.html" for run in runner.load_run_plan(root / "book" / "runplan.yml")]


#: axe-core rule sets run on every page: WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def check_accessibility(page) -> dict[str, tuple[str, list[str]]]:
    """axe-core (bundled by axe-playwright-python) on the loaded page, WCAG 2 A and AA rules:
    rule id -> (impact, selectors of the failing elements)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    return {violation["id"]: (violation.get("impact") or "", [" ".join(node["target"]) for node in violation["nodes"]])
            for violation in results.response["violations"]}


def visit(browser, base: str, path: str, screenshot: Path | None, redirect: bool = False) -> PageVisit:
    """Open one page in a fresh context and record what it reports (of the page it redirects
    to, for a redirect page)."""
    record = PageVisit(path, base + path)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()

    def on_console(message):
        if message.type == "error":
            where = message.location.get("url", "")
            # the browser's own guess at /favicon.ico (the book declares no icon) is not the page's
            if urlsplit(where).path != "/favicon.ico":
                record.console_errors.append(message.text)

    def on_route(route):
        # The machine has no network: a request that leaves localhost is recorded and answered
        # with an empty body, so that the page is judged on its own files.
        if route.request.url.startswith(base):
            route.continue_()
        else:
            record.external_requests.append(route.request.url)
            route.fulfill(status=200, body="")

    def on_page_error(error):
        record.page_errors.append(str(error))

    def on_request_failed(request):
        record.failed_requests.append(f"{request.url} ({request.failure})")

    def on_response(response):
        if response.status >= 400:
            record.failed_requests.append(f"{response.url} (HTTP {response.status})")

    listeners = {"console": on_console, "pageerror": on_page_error, "requestfailed": on_request_failed,
                 "response": on_response}
    for event, listener in listeners.items():
        page.on(event, listener)
    page.route("**/*", on_route)
    page.goto(record.url, wait_until="load")
    if redirect:  # index.html: a <meta http-equiv="Refresh"> to the first page
        page.wait_for_url(lambda url: urlsplit(url).path != "/" + path)
        page.wait_for_load_state("load")
    page.wait_for_load_state("networkidle")
    record.report = page.evaluate(INSPECT_PAGE)
    record.report["final_path"] = urlsplit(page.url).path.lstrip("/")
    # What axe-core does is not the page's: its own fetch of the stylesheets (for its CSSOM)
    # resolves the theme's `@import "../basic.css"` against the page and asks for /basic.css.
    for event, listener in listeners.items():
        page.remove_listener(event, listener)
    record.accessibility = check_accessibility(page)
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
        record.screenshot = screenshot
    context.close()
    return record


@pytest.fixture(scope="session")
def visits(browser, site, html_build) -> dict[str, PageVisit]:
    """Every page of the build, opened once: ``{path: PageVisit}``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):  # no screenshot of a page the book no longer has
        old.unlink()
    shots = {path: SCREENSHOTS / f"{Path(path).stem}.png" for path in results_pages(html_build.root)}
    visits = {}
    for path in html_pages(html_build.html):
        redirect = 'http-equiv="Refresh"' in (html_build.html / path).read_text(encoding="utf-8")
        visits[path] = visit(browser, site, path, shots.get(path), redirect)
    return visits
