"""Built pages in headless Chromium (Debian's /usr/bin/chromium, driven by playwright): no console errors,
no request leaving the machine, math laid out, side by side when wide, stacked when narrow, dark when
asked. Screenshots go to test-artifacts/browser/ (gitignored) for a person to look at."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from litdoc.build import BuildOptions, build_site
from litdoc.config import load_config
from tests.sitefixtures import make_project

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
# A site built with litdoc can run these checks on its own pages too: LITDOC_BROWSER_PAGES lists
# built .html files (os.pathsep between them). This repository's `make test-litdoc` passes its Adam page.
EXTRA_PAGES = [Path(p) for p in os.environ.get("LITDOC_BROWSER_PAGES", "").split(os.pathsep) if p]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (`make browser` installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        # Never `playwright install`: the system Chromium is the one we test with.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def fixture_page(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("browser") / "proj")
    report = build_site(load_config(project), BuildOptions(jobs=1), stream=io.StringIO())
    assert report.ok, report.failed
    return project / "site" / "pkg" / "model.html"


def open_page(browser, path: Path, width: int, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return context, page, errors, requests


def pages_to_check(fixture_page):
    yield "fixture", fixture_page
    for path in EXTRA_PAGES:
        assert path.is_file(), f"LITDOC_BROWSER_PAGES names {path}, which does not exist"
        yield path.stem, path


def test_wide_page_math_and_no_network(browser, fixture_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages_to_check(fixture_page):
        context, page, errors, requests = open_page(browser, path, 1400)
        try:
            assert errors == [], (name, errors)
            assert requests and all(url.startswith("file://") for url in requests), (name, requests)
            # The math font shipped with the site loaded (without it, Chromium falls back to a
            # font with no MATH table: no stretchy delimiters).
            fonts = page.evaluate("Array.from(document.fonts).map(f => [f.family, f.status])")
            assert ["NotoSans Math", "loaded"] in fonts, (name, fonts)
            assert any(url.endswith("/_litdoc/math/NotoSansMath-Regular.woff2") for url in requests), name
            boxes = page.eval_on_selector_all("math", "ms => ms.map(m => m.getBoundingClientRect()).map(r => [r.width, r.height])")
            assert len(boxes) >= 3, name
            assert all(w > 0 and h > 0 for w, h in boxes), (name, boxes)
            # An align block: every row's right-hand side starts at the same x, rows go down the page.
            rows = page.eval_on_selector_all(
                "math mtable mtr",
                "rows => rows.map(r => { const c = r.querySelector('mtd.tml-left'); const b = r.getBoundingClientRect();"
                " return [c ? c.getBoundingClientRect().left : null, b.top, r.closest('mtable') === rows[0].closest('mtable')]; })")
            first = [(left, top) for left, top, same in rows if same and left is not None]
            assert len(first) >= 2, (name, rows)
            lefts = [left for left, _ in first]
            assert max(lefts) - min(lefts) < 1.0, (name, lefts)
            tops = [top for _, top in first]
            assert tops == sorted(tops) and len(set(tops)) == len(tops), (name, tops)
            # Side by side: each section's code column starts right of its docs column, on the same row.
            layout = page.eval_on_selector(
                "#section-1", "s => [s.querySelector('.docs').getBoundingClientRect().right,"
                              " s.querySelector('.code').getBoundingClientRect().left,"
                              " s.querySelector('.docs').getBoundingClientRect().top,"
                              " s.querySelector('.code').getBoundingClientRect().top]")
            assert layout[1] >= layout[0] - 1 and abs(layout[2] - layout[3]) < 1, (name, layout)
            page.screenshot(path=str(ARTIFACTS / f"{name}-wide.png"))
        finally:
            context.close()


def test_narrow_page_is_stacked(browser, fixture_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages_to_check(fixture_page):
        context, page, errors, _ = open_page(browser, path, 400)
        try:
            assert errors == [], (name, errors)
            docs_bottom, code_top, docs_left, code_left = page.eval_on_selector(
                "#section-1", "s => [s.querySelector('.docs').getBoundingClientRect().bottom,"
                              " s.querySelector('.code').getBoundingClientRect().top,"
                              " s.querySelector('.docs').getBoundingClientRect().left,"
                              " s.querySelector('.code').getBoundingClientRect().left]")
            assert code_top >= docs_bottom - 1 and abs(code_left - docs_left) < 1
            # Long code lines scroll inside their column; the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=str(ARTIFACTS / f"{name}-narrow.png"))
        finally:
            context.close()


def _luminance(css_color: str) -> float:
    parts = css_color[css_color.index("(") + 1:css_color.index(")")].split(",")
    red, green, blue = (float(p) / 255 for p in parts[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_mode_follows_the_system(browser, fixture_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme, dark in (("light", False), ("dark", True)):
        context, page, errors, _ = open_page(browser, fixture_page, 1400, scheme)
        try:
            assert errors == []
            background, text, code_bg = page.evaluate(
                "[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).color,"
                " getComputedStyle(document.querySelector('.code')).backgroundColor]")
            assert (_luminance(background) < 0.2) == dark and (_luminance(text) > 0.7) == dark
            assert (_luminance(code_bg) < 0.2) == dark
            page.screenshot(path=str(ARTIFACTS / f"fixture-{scheme}.png"))
        finally:
            context.close()


def test_served_page_reloads_after_a_rebuild(browser, tmp_path):
    from litdoc.serve import SiteServer

    project = make_project(tmp_path / "served")
    server = SiteServer(lambda: load_config(project), BuildOptions(jobs=1), port=0, interval=0.05, stream=io.StringIO())
    server.start()
    context = browser.new_context()
    try:
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("response", lambda response: errors.append(response.url) if response.status >= 400 else None)
        page.goto(server.url + "pkg/model.html")
        assert page.title() == "The model"
        model = project / "src" / "pkg" / "model.py"
        model.write_text(model.read_text(encoding="utf-8").replace("title: The model", "title: The reloaded model"),
                         encoding="utf-8")
        # No navigation by the test: the page's own script must notice the new build and reload.
        page.wait_for_function("document.title === 'The reloaded model'", timeout=30000)
        assert errors == []
    finally:
        context.close()
        server.stop()
