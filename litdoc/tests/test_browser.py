"""Built pages in headless Chromium (the chromium on the PATH, Debian's here, driven by playwright), as a reader uses
them, at 390, 1000 and 1400 px: no console errors, no request leaving the machine, math laid out, wide
content never clipped, anchors, outline, previous/next, search from file://, copy, identifier marks,
the theme toggle, downloads, print, and the page without JavaScript. Screenshots go to
test-artifacts/browser/ (gitignored) for a person to look at.

One browser and one built site for the whole module: the checks share them, so the module runs in
well under a minute."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from litdoc.build import BuildOptions, build_site
from litdoc.config import load_config
from tests.sitefixtures import make_project

pytestmark = pytest.mark.browser

# The system's Chromium, wherever the PATH has it (LITDOC_CHROMIUM names another binary).
_FOUND = os.environ.get("LITDOC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM = Path(_FOUND) if _FOUND else None
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
# A site built with litdoc can run these checks on its own pages too: LITDOC_BROWSER_PAGES lists
# built .html files (os.pathsep between them). This repository's `make test-litdoc` passes its Adam page.
EXTRA_PAGES = [Path(p) for p in os.environ.get("LITDOC_BROWSER_PAGES", "").split(os.pathsep) if p]
WIDTHS = (390, 1000, 1400)
# A page script that records what the copy button writes to the clipboard, in `window.__copied`
CAPTURE_CLIPBOARD = (
    "window.__copied = []; Object.defineProperty(navigator, 'clipboard', {value: {writeText: t =>"
    " { window.__copied.push(t); return Promise.resolve(); }}});"
)

# A page with everything that used to be squeezed or clipped: a wide table, a figure, long display
# and inline math, a long code line, a fenced code block; and a paper in its front matter.
WIDE = r'''"""
---
title: Wide things
summary: Tables, figures and long formulas.
arxiv: 1412.6980
paper_title: "Adam: A Method for Stochastic Optimization"
authors: Diederik P. Kingma and Jimmy Ba
year: 2014
---

# Wide things

| Optimizer | Paper | State per parameter | What it changes, in a sentence long enough to need room |
|---|---|---|---|
| Adam | Kingma & Ba, 2014 | $2n$ ($m$, $v$) | bias-corrected first and second moments of the gradient |
| AdamW | Loshchilov & Hutter, 2019 | $2n$ | decoupled weight decay $\theta(1-\alpha_t\lambda)$ outside the adaptive step |

![a wide figure](wide.svg)

$$\theta_t \leftarrow \theta_{t-1} - \eta_t \operatorname{clip}\Big(\frac{m_t}{\rho h_t + \epsilon}, 1\Big) + \lambda \sum_{i=1}^{n} \frac{\partial^2 \mathcal{L}}{\partial \theta_i^2} \cdot \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \cdot \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}$$

The rule $\theta_t \leftarrow \theta_{t-1} - \eta_t \operatorname{sign}(m_t) \cdot \text{ratio} = \theta_{t-1} - \eta_t \operatorname{clip}\big(\frac{m_t}{\rho h_t + \epsilon}, 1\big)$, as written.

## How large is a step?

```python
step = lr * m / (v.sqrt() + eps)
```

:::: exercise The first step
Show that $|\Delta_1| = \alpha$ when $\epsilon = 0$.

::: answer
On the first step $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the ratio is $\pm 1$.
:::
::::
"""

import math


class Wide:
    """
    ## Wide

    A class with a method.
    """

    def rate(self, first_moment_estimate_of_the_gradient, second_moment_estimate_of_the_gradient, epsilon_value):
        # The step: $m / (\sqrt{v} + \epsilon)$
        return first_moment_estimate_of_the_gradient / (math.sqrt(second_moment_estimate_of_the_gradient) + epsilon_value)
'''

# A page whose code links to the definitions of another (litdoc.xref).
USES = '''"""
# Uses

The model's names, linked to their definitions.
"""

from .model import Square, norm


# A square's norm
def square_norm(x: float) -> float:
    return norm([Square()(x)])
'''

WIDE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="300" viewBox="0 0 1200 300">'
    '<rect width="1200" height="300" fill="white"/><text x="10" y="150" font-size="40">a wide figure</text></svg>\n'
)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or not CHROMIUM.exists():
        pytest.skip("no chromium on the PATH (`make browser` installs Debian's)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        # Never `playwright install`: the system Chromium is the one we test with.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = make_project(
        tmp_path_factory.mktemp("browser") / "proj",
        {"src/pkg/wide.py": WIDE, "src/pkg/wide.svg": WIDE_SVG, "src/pkg/uses.py": USES},
    )
    report = build_site(load_config(project), BuildOptions(jobs=1), stream=io.StringIO())
    assert report.ok, report.failed
    return project / "site"


@pytest.fixture(scope="module")
def fixture_page(site) -> Path:
    return site / "pkg" / "model.html"


def open_page(
    browser,
    path: Path,
    width: int,
    scheme: str = "light",
    fragment: str = "",
    javascript: bool = True,
    init_script: str = "",
):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, java_script_enabled=javascript
    )
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri() + fragment)
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return context, page, errors, requests


def pages_to_check(fixture_page):
    yield "fixture", fixture_page
    for path in EXTRA_PAGES:
        assert path.is_file(), f"LITDOC_BROWSER_PAGES names {path}, which does not exist"
        yield path.stem, path


def site_pages(site: Path):
    return sorted(p for p in site.rglob("*.html"))


# Every table, figure and display formula: is any part of it outside the box that shows it, with no
# way to scroll there? And does the page scroll sideways?
_CLIPPED = """() => {
  const clipped = [];
  for (const el of document.querySelectorAll('.docs table, .docs img, .docs math, .code pre')) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0) continue;
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible') continue;
      const scrolls = ['auto', 'scroll'].includes(style.overflowX);
      const outer = box.getBoundingClientRect();
      if (!scrolls && (rect.right > outer.right + 1 || rect.left < outer.left - 1))
        clipped.push(el.tagName + ' in ' + box.className);
      if (scrolls && box.scrollWidth > box.clientWidth + 1 && box.tabIndex < 0 && !box.querySelector('a, button'))
        clipped.push('unfocusable scroller ' + box.className);
      break;
    }
  }
  return {clipped, sideways: document.documentElement.scrollWidth > window.innerWidth};
}"""


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
            boxes = page.eval_on_selector_all(
                "math", "ms => ms.map(m => m.getBoundingClientRect()).map(r => [r.width, r.height])"
            )
            assert len(boxes) >= 3, name
            assert all(w > 0 and h > 0 for w, h in boxes), (name, boxes)
            # An align block: every row's right-hand side starts at the same x, rows go down the page.
            rows = page.eval_on_selector_all(
                "math mtable mtr",
                "rows => rows.map(r => { const c = r.querySelector('mtd.tml-left'); const b = r.getBoundingClientRect();"
                " return [c ? c.getBoundingClientRect().left : null, b.top, r.closest('mtable') === rows[0].closest('mtable')]; })",
            )
            first = [(left, top) for left, top, same in rows if same and left is not None]
            assert len(first) >= 2, (name, rows)
            lefts = [left for left, _ in first]
            assert max(lefts) - min(lefts) < 1.0, (name, lefts)
            tops = [top for _, top in first]
            assert tops == sorted(tops) and len(set(tops)) == len(tops), (name, tops)
            # No equation numbers by default (the seed page numbers none).
            assert page.evaluate("document.querySelectorAll('.tml-eqn').length") == 0, name
            # Side by side: a narrow section's code column starts right of its notes, on the same row.
            layout = page.evaluate(
                "() => { const s = Array.from(document.querySelectorAll('.section:not(.wide)'))"
                ".find(s => s.querySelector('.code .highlight')); const d = s.querySelector('.docs').getBoundingClientRect();"
                " const c = s.querySelector('.code').getBoundingClientRect(); return [d.right, c.left, d.top, c.top]; }"
            )
            assert layout[1] >= layout[0] - 1 and abs(layout[2] - layout[3]) < 1, (name, layout)
            page.screenshot(path=str(ARTIFACTS / f"{name}-wide.png"))
        finally:
            context.close()


def test_narrow_page_is_stacked(browser, fixture_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages_to_check(fixture_page):
        context, page, errors, _ = open_page(browser, path, 390)
        try:
            assert errors == [], (name, errors)
            docs_bottom, code_top, docs_left, code_left = page.evaluate(
                "() => { const s = Array.from(document.querySelectorAll('.section')).find(s => s.querySelector('.code .highlight'));"
                " const d = s.querySelector('.docs').getBoundingClientRect(), c = s.querySelector('.code').getBoundingClientRect();"
                " return [d.bottom, c.top, d.left, c.left]; }"
            )
            assert code_top >= docs_bottom - 1 and abs(code_left - docs_left) < 1
            # Long code lines wrap; the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=str(ARTIFACTS / f"{name}-narrow.png"))
        finally:
            context.close()


def _luminance(css_color: str) -> float:
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    red, green, blue = (float(p) / 255 for p in parts[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two `rgb(...)` colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_dark_mode_follows_the_system(browser, fixture_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme, dark in (("light", False), ("dark", True)):
        context, page, errors, _ = open_page(browser, fixture_page, 1400, scheme)
        try:
            assert errors == []
            background, text, code_bg, lineno = page.evaluate(
                "[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).color,"
                " getComputedStyle(document.querySelector('.code')).backgroundColor,"
                " getComputedStyle(document.querySelector('.lineno')).color]"
            )
            assert (_luminance(background) < 0.2) == dark and (_luminance(text) > 0.5) == dark
            assert (_luminance(code_bg) < 0.2) == dark
            # Line numbers meet WCAG AA (4.5:1) on the code's background, opacity included.
            assert page.evaluate("getComputedStyle(document.querySelector('.lineno')).opacity") == "1"
            assert _contrast(lineno, code_bg) >= 4.5, (scheme, lineno, code_bg)
            page.screenshot(path=str(ARTIFACTS / f"fixture-{scheme}.png"))
        finally:
            context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_content_fits_and_nothing_is_clipped(browser, site, width):
    for path in site_pages(site) + EXTRA_PAGES:
        # Dark mode changes colours, not sizes: it is checked at one width.
        for scheme in ("light", "dark") if width == 1000 else ("light",):
            context, page, errors, _ = open_page(browser, path, width, scheme)
            try:
                assert errors == [], (path, errors)
                facts = page.evaluate(_CLIPPED)
                assert facts == {"clipped": [], "sideways": False}, (path.name, width, scheme, facts)
                # A box that scrolls takes the keyboard focus (and so can be scrolled by it); one that
                # does not is no Tab stop (tests/test_reader.py). One in a folded <details> is left as it
                # is until the details opens.
                assert page.evaluate(
                    "Array.from(document.querySelectorAll('.code[role=region], .docs pre, .table-wrap, .math[tabindex]'))"
                    ".every(b => { const s = getComputedStyle(b); return b.closest('details:not([open])') || (b.tabIndex === 0) ==="
                    " (/auto|scroll/.test(s.overflowX) && b.scrollWidth > b.clientWidth ||"
                    " /auto|scroll/.test(s.overflowY) && b.scrollHeight > b.clientHeight); })"
                ), path
            finally:
                context.close()
    context, page, errors, _ = open_page(browser, site / "pkg" / "wide.html", width, "dark")
    try:
        # Table, figure and display math get the whole row: their section's notes are as wide as the section.
        widths = page.evaluate(
            "() => ['.docs table', '.docs img', '.docs div.math.display'].map(sel => { const el = document.querySelector(sel);"
            " const s = el.closest('.section'); return [s.classList.contains('wide'),"
            " el.closest('.docs').getBoundingClientRect().width / s.getBoundingClientRect().width]; })"
        )
        assert all(wide and share > 0.95 for wide, share in widths), widths
        # A figure opens at full size on click, and is not a white box in dark mode.
        assert page.eval_on_selector(".docs img", "i => i.closest('a').getAttribute('href')") == "wide.svg"
        assert "invert" in page.eval_on_selector(".docs img", "i => getComputedStyle(i).filter")
        # A long code line wraps under its code, not under its line number, and keeps that number.
        number, code = page.evaluate(
            "() => { const line = Array.from(document.querySelectorAll('.lineno')).find(n => n.nextSibling &&"
            " n.parentElement.textContent.includes('first_moment')); const pre = line.closest('pre');"
            " return [line.getBoundingClientRect().right, pre.getBoundingClientRect().left + parseFloat(getComputedStyle(pre).paddingLeft)]; }"
        )
        assert number <= code
        page.screenshot(path=str(ARTIFACTS / f"wide-{width}-dark.png"), full_page=True)
    finally:
        context.close()


def test_anchors_come_from_content_and_old_ones_still_land(browser, site):
    page_path = site / "pkg" / "wide.html"
    html = page_path.read_text(encoding="utf-8")
    ids = re.findall(r'\bid=["\']([^"\']+)["\']', html)
    assert len(ids) == len(set(ids)), "ids are unique on the page"
    assert {"wide-things", "how-large-is-a-step", "Wide", "Wide.rate"} <= set(ids)
    for width in WIDTHS:
        for fragment, expect in (
            ("#how-large-is-a-step", "How large is a step?"),
            ("#Wide.rate", "def rate"),
            ("#section-2", None),
        ):
            context, page, errors, _ = open_page(browser, page_path, width, fragment=fragment)
            try:
                assert errors == []
                # The target is at the top of the window: the browser scrolled to it.
                top, text = page.evaluate(
                    "id => { const el = document.getElementById(id); const s = el.closest('.section') || el;"
                    " return [el.getBoundingClientRect().top, s.textContent]; }",
                    fragment[1:],
                )
                assert abs(top) < 2 or page.evaluate(
                    "window.scrollY + innerHeight >= document.documentElement.scrollHeight - 1"
                ), (fragment, top)
                if expect:
                    assert expect in text
            finally:
                context.close()


def test_outline_beside_the_page_when_wide_and_collapsible_when_narrow(browser, site):
    path = site / "pkg" / "wide.html"
    for width in WIDTHS:
        context, page, errors, _ = open_page(browser, path, width)
        try:
            assert errors == []
            entries = page.eval_on_selector_all(
                ".outline a", "as => as.map(a => [a.textContent, a.getAttribute('href')])"
            )
            assert [title for title, _ in entries] == ["How large is a step?", "Wide", "Wide.rate"]
            assert all(page.evaluate("id => !!document.getElementById(id)", href[1:]) for _, href in entries)
            is_open = page.evaluate("document.getElementById('outline').open")
            if width >= 1400:
                nav, main = page.evaluate(
                    "[document.querySelector('.outline').getBoundingClientRect().right,"
                    " document.querySelector('#container').getBoundingClientRect().left]"
                )
                assert is_open and nav <= main + 1
            else:
                assert not is_open
                page.click(".outline summary")
                assert page.evaluate("document.getElementById('outline').open")
        finally:
            context.close()


def test_previous_next_and_breadcrumbs(browser, site):
    # The package index links model.py first ("Its [model](model.py)"), then the others follow by path.
    html = (site / "pkg" / "model.html").read_text(encoding="utf-8")
    assert '<link rel="prev" href="index.html">' in html and '<link rel="next" href="readme.html">' in html
    context, page, errors, _ = open_page(browser, site / "pkg" / "model.html", 1000)
    try:
        assert page.eval_on_selector(".breadcrumbs [aria-current=page]", "e => e.textContent") == "The model"
        page.click("a[rel=next]")
        page.wait_for_load_state("load")
        assert page.url.endswith("/pkg/readme.html")
        page.click("a[rel=prev]")
        page.wait_for_load_state("load")
        assert page.url.endswith("/pkg/model.html") and errors == []
    finally:
        context.close()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert '<span class="current" aria-current="page">Demo home</span>' in home


@pytest.mark.parametrize("width", WIDTHS)
def test_search_works_from_file_and_goes_to_the_section(browser, site, width):
    context, page, errors, requests = open_page(browser, site / "notes" / "index.html", width)
    try:
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "search-box"
        page.keyboard.type("large step")
        page.wait_for_selector("#search-results a")
        first = page.eval_on_selector("#search-results a", "a => [a.getAttribute('href'), a.textContent]")
        assert first[0] == "../pkg/wide.html#how-large-is-a-step", first
        page.click("#search-results a")
        page.wait_for_load_state("load")
        assert page.url.endswith("/pkg/wide.html#how-large-is-a-step")
        # Identifiers are searched too, and every request stayed on the disk.
        page.fill("#search-box", "Square")
        page.wait_for_selector("#search-results a")
        assert any(
            "model.html#Square" in href
            for href in page.eval_on_selector_all("#search-results a", "as => as.map(a => a.href)")
        )
        assert errors == [] and all(url.startswith("file://") for url in requests)
    finally:
        context.close()


def test_copy_button_copies_code_without_line_numbers_and_names_are_marked(browser, site):
    """The copy button, and a click on a name marking its other uses (as on nn.labml.ai)."""
    context, page, errors, _ = open_page(browser, site / "pkg" / "model.html", 1000, init_script=CAPTURE_CLIPBOARD)
    try:
        box = page.locator(".code").filter(has_text="def norm").first
        box.hover()
        box.locator(".copy-button").click()
        copied = page.evaluate("window.__copied")
        # Exactly the source's lines, without their numbers.
        source = (site.parent / "src" / "pkg" / "model.py").read_text(encoding="utf-8")
        assert len(copied) == 1 and "def norm(values):" in copied[0] and copied[0] in source
        # A click on a name marks its uses on the page.
        page.locator(".highlight .n", has_text="x").first.click()
        marked = page.eval_on_selector_all(".ident-mark", "els => els.map(e => e.textContent)")
        assert len(marked) >= 2 and set(marked) == {"x"}
        assert errors == []
    finally:
        context.close()


def test_a_name_links_to_its_definition_by_keyboard_and_copies_as_plain_code(browser, site):
    context, page, errors, _ = open_page(browser, site / "pkg" / "uses.html", 1000, init_script=CAPTURE_CLIPBOARD)
    try:
        box = page.locator(".code").filter(has_text="def square_norm").first
        box.focus()
        page.keyboard.press("Tab")  # from the code region to its first link
        focused = page.evaluate(
            "() => [document.activeElement.className, document.activeElement.textContent,"
            " document.activeElement.getAttribute('href'), document.activeElement.title]"
        )
        # `norm` has no notes of its own (its section's are those of the code before it): its full name.
        assert focused == ["xref", "norm", "model.html#norm", "src.pkg.model.norm"]
        box.hover()
        box.locator(".copy-button").click()
        copied = page.evaluate("window.__copied")
        source = (site.parent / "src" / "pkg" / "uses.py").read_text(encoding="utf-8")
        assert len(copied) == 1 and "return norm([Square()(x)])" in copied[0] and copied[0] in source
        page.keyboard.press("Escape")
        page.locator("a.xref", has_text="Square").last.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/pkg/model.html#Square")
        assert errors == []
    finally:
        context.close()


def test_theme_toggle_is_named_and_remembered(browser, site):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, color_scheme="light")
    try:
        page = context.new_page()
        page.goto((site / "pkg" / "model.html").as_uri())
        button = page.get_by_role("button", name=re.compile("theme", re.I))
        assert button.count() == 1
        button.click()  # system -> light
        button.click()  # light -> dark
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        page.goto((site / "pkg" / "readme.html").as_uri())
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert _luminance(background) < 0.2
        assert "dark" in page.get_by_role("button", name=re.compile("theme", re.I)).get_attribute("aria-label")
    finally:
        context.close()


def test_downloads_and_citation(site):
    html = (site / "pkg" / "wide.html").read_text(encoding="utf-8")
    assert 'href="wide.py" download' in html and 'href="wide.ipynb" download' in html
    assert (site / "pkg" / "wide.py").read_bytes().startswith(b'"""\n---\ntitle: Wide things')
    notebook = json.loads((site / "pkg" / "wide.ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    # The page cites itself and the paper its front matter names.
    assert "url          = {https://example.org/demo/pkg/wide.html}" in html
    assert "eprint        = {1412.6980}" in html and "author        = {Diederik P. Kingma and Jimmy Ba}" in html


def test_print_has_content_on_the_first_page_and_wraps_code(browser, site):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((site / "pkg" / "wide.html").as_uri())
        pdf = page.pdf(format="A4", print_background=False)
        pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
        assert 1 <= pages <= 4, pages
        # As printed: notes above their code, code wrapped, the title near the top of page one.
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 718, "height": 1000})  # A4 less Chromium's default margins, at 96 dpi
        facts = page.evaluate(
            "() => { const h1 = document.querySelector('h1').getBoundingClientRect();"
            " const s = document.getElementById('Wide.rate'); const d = s.querySelector('.docs').getBoundingClientRect();"
            " const c = s.querySelector('.code').getBoundingClientRect(); const pre = s.querySelector('.code pre');"
            " return [h1.top, d.bottom <= c.top + 1, pre.scrollWidth <= pre.clientWidth + 1,"
            " getComputedStyle(document.querySelector('.tools')).display]; }"
        )
        assert facts[0] < 300 and facts[1] and facts[2] and facts[3] == "none", facts
    finally:
        context.close()


def test_an_answer_is_folded_opens_on_click_and_prints_open(browser, site):
    context, page, errors, _ = open_page(browser, site / "pkg" / "wide.html", 1000)
    try:
        answer = page.locator("details.exercise-answer")
        assert errors == [] and answer.count() == 1
        assert page.is_visible(".exercise .block-title") and not page.is_visible("details.exercise-answer p")
        assert answer.evaluate("d => d.open") is False
        page.click("details.exercise-answer summary")
        assert answer.evaluate("d => d.open") is True and page.is_visible("details.exercise-answer p")
        page.click("details.exercise-answer summary")
        # On paper it is open, and back on screen folded again, as the reader left it.
        page.emulate_media(media="print")
        page.wait_for_function("() => document.querySelector('details.exercise-answer').open")
        assert page.is_visible("details.exercise-answer p")
        page.emulate_media(media="screen")
        page.wait_for_function("() => !document.querySelector('details.exercise-answer').open")
    finally:
        context.close()


def test_the_page_works_without_javascript(browser, site):
    for width in (390, 1400):
        context, page, errors, _ = open_page(browser, site / "pkg" / "wide.html", width, javascript=False)
        try:
            assert errors == []
            assert page.evaluate(_CLIPPED) == {"clipped": [], "sideways": False}
            # What needs the script (search, the toggle) is not offered without it.
            assert not page.is_visible("#search-box") and not page.is_visible("#theme-toggle")
            # The outline still opens by hand, links still work.
            page.click(".outline summary")
            assert page.is_visible(".outline a[href='#Wide.rate']")
            page.click(".outline a[href='#Wide.rate']")
            assert page.url.endswith("#Wide.rate")
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
        model.write_text(
            model.read_text(encoding="utf-8").replace("title: The model", "title: The reloaded model"), encoding="utf-8"
        )
        # No navigation by the test: the page's own script must notice the new build and reload.
        page.wait_for_function("document.title === 'The reloaded model'", timeout=30000)
        assert errors == []
    finally:
        context.close()
        server.stop()
