"""Search: what is indexed (the text a reader sees, code names, definitions), how the index is split,
and, in headless Chromium from file://, how a reader finds things: words and prefixes (not substrings),
one typo, math as shown, titles first, a count, combobox semantics, a panel inside the window at every
width, and hostile index text shown as text."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litdoc import anchors, search
from litdoc.build import BuildOptions, build_site
from litdoc.config import load_config
from litdoc.parse import parse_module
from tests.sitefixtures import make_project
from tests.test_browser import browser, open_page  # noqa: F401 (fixture)

# -- what is indexed ---------------------------------------------------------------------------------


def test_visible_text_reads_mathml_as_characters_and_skips_the_tex_annotation():
    html = (
        '<p>Decay <span class="math inline"><math><semantics><mrow><msub><mi>β</mi><mn>1</mn></msub>'
        "<msub><mi>β</mi><mn>2</mn></msub></mrow>"
        '<annotation encoding="application/x-tex">\\beta_1\\beta_2</annotation></semantics></math></span>.</p>'
        '<h2 id="eps">What <code>eps</code> is</h2><p>Under it &lt;b&gt;.</p>'
    )
    assert search.visible_chunks(html) == [("", "", "Decay β1 β2 ."), ("eps", "What eps is", "Under it <b>.")]
    # Under MathJax the page keeps TeX; the index gets the characters MathJax will show.
    assert search.tex_text(r"\eta_t / (\sqrt{G_t} + \epsilon)") == "ηt / (√ Gt + ϵ )"
    assert search.tex_text(r"\beta_1, \beta _2") == "β1, β2"
    chunks = search.visible_chunks('<p><span class="math inline">\\(\\beta_2\\)</span> x</p>')
    assert chunks == [("", "", "β2 x")]


def test_words_are_tokens_and_identifier_parts():
    assert search.tokens("Adam.step_param, β2 — ϵ") == ["adam", "step_param", "β2", "ε"]  # NFKC: ϵ is ε
    assert search.index_words("exp_avg_sq lerp_") == {"exp_avg_sq", "exp", "avg", "sq", "lerp_", "lerp"}


SOURCE = '''\
"""
---
summary: How steps are taken.
---

# Steps

Takes steps.

## The decay $\\beta_2$

Under the heading.
"""

import torch


class Adam:
    def step_param(self, m, x):
        """One step."""
        return torch.lerp_(m, x, 0.1)
'''


def test_page_rows_carry_rendered_text_code_names_and_definitions():
    module = parse_module(SOURCE, "steps.py")
    infos = anchors.analyse_sections(module, SOURCE)
    rendered = [
        '<h1 id="steps">Steps</h1><p>Takes steps.</p><h2 id="the-decay-β2">The decay '
        '<span class="math inline"><math><msub><mi>β</mi><mn>2</mn></msub></math></span></h2><p>Under the heading.</p>',
        "",
        "<p>One step.</p>",
    ][: len(module.sections)]
    _, _, rows = search.page_entry("steps.html", "Steps", module, infos, rendered)
    by_anchor = {row[0]: row for row in rows}
    assert by_anchor[""][3] == "How steps are taken."  # the page's summary
    assert by_anchor["the-decay-β2"][1:4] == ["The decay β2", 1, "Under the heading."]
    assert by_anchor["Adam.step_param"][1:4] == ["Adam.step_param", 1, "One step."]
    # The method's body, a section without notes, is found by the names its code uses, under its title.
    body = by_anchor["Adam.step_param-1"]
    assert body[1:3] == ["Adam.step_param", 0] and "lerp_" in str(body[4]).split()


# -- the split index -----------------------------------------------------------------------------------


def _decode(files: dict[str, bytes], name: str):
    text = files[name].decode("utf-8")
    prefix = "litdocSearchData("
    assert text.startswith(prefix) and text.endswith(");\n")
    label, _, body = text[len(prefix) : -3].partition(",")
    return json.loads(label), json.loads(body)


def _sums(deltas):
    out, at = [], 0
    for value in deltas:
        at += value
        out.append(at)
    return out


def test_index_is_split_into_word_ranges_and_entry_chunks(monkeypatch):
    monkeypatch.setattr(search, "SHARD_BYTES", 400)
    monkeypatch.setattr(search, "CHUNK_BYTES", 300)
    pages = [
        (
            f"p{n:02}.html",
            f"Page {n}",
            [["", "", 0, f"summary {n}", ""]]
            + [[f"s{k}", f"Heading {n} {k}", 1, f"word{n * 7 + k} common text {k}", f"name_{k}"] for k in range(4)],
        )
        for n in range(12)
    ]
    files = dict(search.index_files(reversed(pages)))  # the order given does not matter
    assert files == dict(search.index_files(pages))
    label, manifest = _decode(files, search.INDEX_PATH)
    assert label == "index" and manifest["entries"] == 12 * 5
    assert _sums(manifest["pages"]) == list(range(0, 60, 5))
    # Postings: sorted, contiguous word ranges, each word in one shard, each shard near the size asked.
    shards = manifest["shards"]
    assert len(shards) > 3 and shards == sorted(shards)
    seen: dict[str, list[list[int]]] = {}
    for number, first in enumerate(shards):
        name = f"{search.SHARD_DIR}/t{number}.js"
        _, postings = _decode(files, name)
        words = [posting[0] for posting in postings]
        assert words[0] == first and words == sorted(words)
        assert number + 1 == len(shards) or words[-1] < shards[number + 1]
        assert len(files[name]) < 400 + 200
        for word, titles, texts in postings:
            assert word not in seen
            seen[word] = [_sums(titles), _sums(texts)]
    assert seen["common"] == [[], [n * 5 + 1 + k for n in range(12) for k in range(4)]]
    assert seen["page"] == [[n * 5 for n in range(12)], []]
    assert seen["summary"] == [[], [n * 5 for n in range(12)]]  # a summary is its page entry's text
    assert set(seen["name"][1]) == {id for k in range(4) for id in seen[f"name_{k}"][1]}  # identifier parts
    # Text chunks: consecutive entries, all of them, each with the pages it needs.
    starts = _sums(manifest["chunks"])
    assert starts[0] == 0 and len(starts) > 3
    entries = []
    for number, start in enumerate(starts):
        _, chunk = _decode(files, f"{search.SHARD_DIR}/d{number}.js")
        assert len(entries) == start
        for offset, row in enumerate(chunk["e"]):
            page = max(p for p, s in enumerate(_sums(manifest["pages"])) if s <= start + offset)
            assert chunk["p"][str(page)] == [f"p{page:02}.html", f"Page {page}"]
            entries.append(row)
    assert len(entries) == 60 and entries[0] == ["", "", "summary 0"] and entries[1][:2] == ["s0", "Heading 0 0"]


def test_index_text_can_not_close_a_script():
    files = dict(search.index_files([("a.html", "</script><b>", [["x", "</script>", 1, "</script>", ""]])]))
    assert all(b"</script" not in data for data in files.values())


# -- in the browser --------------------------------------------------------------------------------------

HOSTILE = "<img src=x onerror=window.__pwned=1>"

PAGES = {
    "src/opt/adam.py": '''"""
---
title: Adam
summary: The Adam optimizer, with bias correction.
---

# Adam

The decay $\\beta_2$ of the second moment, and $\\epsilon$ (`eps`).
"""

import torch


class Adam:
    """
    ## Adam
    """

    def step_param(self, m, x):
        """One step on one parameter."""
        return torch.lerp_(m, x, 0.1)
''',
    "src/opt/rmsprop.py": '''"""
# RMSProp

Takes steps, many steps, with bias correction as an aside.
"""

X = 1
''',
    "src/opt/hostile.py": f'''"""
# Hostile

A row holding `{HOSTILE}` and a word, quarrelsome.
"""

Y = 2
''',
    # A file name with the characters a URL gives meaning to: its result must still lead to it.
    "src/opt/odd #1?%\t.md": "# Odd name\n\nA xylophone page.\n",
    "src/opt/widgets.py": '"""\n# Widgets\n\nA page of widgets.\n"""\n\n'
    + "\n\n".join(f"def part_{n}():\n    # Widget number {n}.\n    return {n}" for n in range(40))
    + "\n",
}


@pytest.fixture(scope="module")
def search_site(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("search") / "proj", PAGES)
    report = build_site(load_config(project), BuildOptions(jobs=1), stream=io.StringIO())
    assert report.ok, report.failed
    return project / "site"


def _query(page, text: str):
    """Types `text` and returns (count line, [[href, title, snippet], ...]) once the results are shown."""
    page.fill("#search-box", "")
    page.type("#search-box", text)
    page.wait_for_function(
        "q => document.getElementById('search-box').value === q && document.getElementById('search-count').textContent",
        arg=text,
    )
    page.wait_for_timeout(50)
    results = page.eval_on_selector_all(
        "#search-results [role=option]",
        "os => os.map(o => [o.getAttribute('href'), (o.querySelector('.result-title') || {}).textContent || '',"
        " (o.querySelector('.result-text') || {}).textContent || ''])",
    )
    return page.text_content("#search-count"), results


@pytest.mark.browser
def test_finds_words_math_code_and_typos_with_titles_first(browser, search_site):  # noqa: F811 (fixture)
    context, page, errors, requests = open_page(browser, search_site / "opt" / "rmsprop.html", 1000)
    try:
        # Math as the page shows it.
        _, found = _query(page, "β2")
        assert found and found[0][0] == "../opt/adam.html#adam" and "β2" in found[0][2] and "\\beta" not in found[0][2]
        # A typo, and the page's title ranks first.
        _, found = _query(page, "adm")
        assert found[0][:2] == ["../opt/adam.html", "Adam"]
        # Words and prefixes, not substrings: "eps" is not in "steps".
        _, found = _query(page, "eps")
        assert found and not any("rmsprop" in href for href, _, _ in found), found
        _, found = _query(page, "ste")
        assert any("rmsprop" in href for href, _, _ in found)
        # Code: a name only the code uses, and a definition by its qualified name.
        _, found = _query(page, "lerp_")
        assert found and found[0][0].startswith("../opt/adam.html#Adam.step_param"), found
        _, found = _query(page, "Adam.step_param")
        assert found[0][:2] == ["../opt/adam.html#Adam.step_param", "Adam.step_param"]
        # Titles, then headings, then text: the page about bias correction comes before a mention.
        _, found = _query(page, "bias correction")
        assert [href for href, _, _ in found][:2] == ["../opt/adam.html", "../opt/rmsprop.html#rmsprop"], found
        # More than 30 results: the count says so, and more can be shown.
        count, found = _query(page, "widget")
        total = int(count.split()[-2])
        assert count == f"Showing 30 of {total} results" and total > 40 and len(found) == 30
        assert found[0][:2] == ["../opt/widgets.html", "Widgets"]
        page.click(".search-more")
        page.wait_for_function(
            f"document.querySelectorAll('#search-results [role=option]').length === {min(60, total)}"
        )
        assert errors == [] and all(url.startswith("file://") for url in requests)
    finally:
        context.close()


@pytest.mark.browser
def test_hostile_index_text_is_shown_as_text(browser, search_site):  # noqa: F811 (fixture)
    context, page, errors, _ = open_page(browser, search_site / "index.html", 1000)
    try:
        _, found = _query(page, "quarrelsome")
        assert found and HOSTILE in found[0][2]
        assert page.evaluate("document.querySelectorAll('#search-panel img').length") == 0
        assert page.evaluate("window.__pwned") is None
        _, found = _query(page, "onerror")
        assert page.evaluate("document.querySelectorAll('#search-panel img').length") == 0
        assert page.evaluate("window.__pwned") is None and errors == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", (390, 430, 1000, 1400))
def test_results_panel_is_inside_the_window(browser, search_site, width):  # noqa: F811 (fixture)
    for path in (search_site / "opt" / "adam.html", search_site / "index.html"):
        context, page, errors, _ = open_page(browser, path, width)
        try:
            _query(page, "widget")
            left, right, top, box_bottom, inner = page.evaluate(
                "() => { const r = document.getElementById('search-panel').getBoundingClientRect();"
                " const b = document.getElementById('search-box').getBoundingClientRect();"
                " return [r.left, r.right, r.top, b.bottom, document.documentElement.clientWidth]; }"
            )
            assert 0 <= left and right <= inner and right - left >= min(300, inner - 16), (width, left, right)
            assert box_bottom <= top <= box_bottom + 8
            assert errors == []
        finally:
            context.close()


@pytest.mark.browser
def test_search_box_is_a_combobox_and_only_the_count_is_announced(browser, search_site):  # noqa: F811
    context, page, errors, _ = open_page(browser, search_site / "index.html", 1000)
    try:
        box = page.locator("#search-box")
        assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
        assert box.get_attribute("aria-controls") == "search-results"
        assert page.get_attribute("#search-results", "role") == "listbox"
        assert (
            page.evaluate("document.querySelectorAll('#search-panel [aria-live], #search-results[aria-live]').length")
            == 0
        )
        count, found = _query(page, "widget")
        assert box.get_attribute("aria-expanded") == "true"
        assert page.text_content("#search-status") == count
        # The arrows move the active option; focus stays in the box; Enter follows it.
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        active = box.get_attribute("aria-activedescendant")
        assert active == "search-option-1"
        assert page.get_attribute(f"#{active}", "aria-selected") == "true"
        assert page.evaluate("document.activeElement.id") == "search-box"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(found[1][0].lstrip("./")), (page.url, found[1])
        assert errors == []
    finally:
        context.close()


@pytest.mark.browser
def test_not_found_page_has_search_and_the_stored_theme(browser, search_site):  # noqa: F811 (fixture)
    context = browser.new_context(viewport={"width": 1000, "height": 900}, color_scheme="light")
    try:
        context.add_init_script("localStorage.setItem('litdoc-theme', 'dark')")
        page = context.new_page()
        page.goto((search_site / "404.html").as_uri())
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.is_visible("#search-box") and page.get_attribute("#search-box", "role") == "combobox"
        assert page.get_by_role("button", name="Colour theme: dark (change theme)").count() == 1
    finally:
        context.close()


@pytest.mark.browser
def test_a_result_for_a_file_name_with_url_characters_leads_to_it(browser, search_site):  # noqa: F811
    """The index holds raw paths; a `#`, `?`, `%` or tab in a file name used to cut or garble the link."""
    context, page, errors, _ = open_page(browser, search_site / "index.html", 1000)
    try:
        _, found = _query(page, "xylophone")
        assert found[0][:2] == ["./opt/odd%20%231%3F%25%09.html#odd-name", "Odd name"], found
        page.click("#search-results [role=option]")
        page.wait_for_load_state()
        assert page.title() == "Odd name" and errors == []
    finally:
        context.close()


# Pieces of notes as litdoc renders them (MathML, MathJax spans, headings, images) and of what an author's
# raw HTML may add (comments, a lone `<`, raw-text elements, odd attributes), which the strict reader
# must hand to HTMLParser.
_HTML_PIECES = [
    "<p>", "</p>", '<h2 id="a-b">', "</h2>", "<H3 ID=x>", "</h3 >", '<span class="math inline">', "</span>",
    '<math display="block">', "</math>", "<msub>", "</msub>", "<mi>", "</mi>", "<mo>", "</mo>", "<mn>", "</mn>",
    "<semantics>", "</semantics>", '<annotation encoding="application/x-tex">', "</annotation>",
    "β", "2", "x", " ", "\n", "&amp;", "&lt;", "&#x3b2;", "&beta", "&", ">", "\\(", "\\)", "$$",
    "<br/>", '<img alt="a &amp; b" src=x />', "<img alt>", '<p class="">', '<div data-x = "1">',
    "<a href='q'>", "</a>", "<td\tclass='m'>", "<x-y>", "<!-- c -->", "<", "</", "<p/ >", '<p a="<">',
    "<script>", "</script>", "<style>", "<title>",
]  # fmt: skip


def _events_by_html_parser(text: str) -> list[object]:
    parser = search._TextParser()
    parser.feed(text)
    parser.close()
    return [parser.chunks, parser.tex]


@given(st.lists(st.sampled_from(_HTML_PIECES), max_size=30))
def test_the_strict_reader_gives_what_html_parser_gives_or_steps_aside(pieces):
    text = "".join(pieces)
    parser = search._TextParser()
    if search._read_strict(parser, text):
        assert [parser.chunks, parser.tex] == _events_by_html_parser(text)
    else:  # only where the grammar ends: a comment, a lone `<`, a raw-text element, an odd attribute
        outside = ("<!-- c -->", "<", "</", "<p/ >", '<p a="<">', "<script>", "<style>", "<title>")
        assert any(piece in outside for piece in pieces)


def test_the_strict_reader_reads_rendered_math_notes():
    html = (
        '<h2 id="adam">Adam with <math><semantics><msub><mi>β</mi><mn>2</mn></msub>'
        '<annotation encoding="application/x-tex">\\beta_2</annotation></semantics></math></h2>'
        '<p>Step &amp; decay, <span class="math inline">\\(x^2\\)</span> <img alt="plot" src="p.png"/></p>'
    )
    parser = search._TextParser()
    assert search._read_strict(parser, html)
    assert search.visible_chunks(html) == [("", "", ""), ("adam", "Adam with β2", "Step & decay, x2 plot")]


def test_a_build_with_the_same_search_rows_keeps_the_index_without_making_it(capsys, tmp_path, monkeypatch):
    """A no-op build made the whole index again (most of its time on a 222-page site); now the index's
    files are carried over, all or none, while every page's row is the same."""
    from tests.sitefixtures import run, site_files

    project = make_project(tmp_path / "proj")
    code, _, err = run(capsys, "build", "--project", str(project), "-j1")
    assert code == 0, err
    output = project / "site"
    built = site_files(output)
    index = {rel for rel in built if rel.startswith("_litdoc/search")}
    assert search.INDEX_PATH in index and len(index) >= 3

    def not_again(rows):
        raise AssertionError("the index was made again")

    monkeypatch.setattr(search, "index_files", not_again)
    code, _, err = run(capsys, "build", "--project", str(project), "-j1")
    assert code == 0, err
    assert site_files(output) == built
    monkeypatch.undo()
    # A shard that went away: the whole index is made again, and comes out as it was.
    shard = sorted(index - {search.INDEX_PATH})[0]
    (output / shard).unlink()
    code, _, err = run(capsys, "build", "--project", str(project), "-j1")
    assert code == 0, err
    assert site_files(output) == built
    # New words on a page: the index is made again and finds them.
    page = next(p for p in (project / "src").rglob("*.py") if p.read_text(encoding="utf-8").startswith('"""'))
    page.write_text(page.read_text(encoding="utf-8").replace('"""', '"""\nZanzibarquux.\n', 1), encoding="utf-8")
    code, _, err = run(capsys, "build", "--project", str(project), "-j1")
    assert code == 0, err
    text = "".join(data.decode("utf-8") for rel, data in site_files(output).items() if rel.startswith("_litdoc/search"))
    assert "zanzibarquux" in text.lower()


def test_postings_stay_sorted_and_unique_whatever_order_entries_come_in():
    """`index_files` adds each word's entries in increasing order, which `_Postings` relies on to append;
    entries that came out of order would still be read back sorted, once each."""
    from litdoc.search import _Postings

    postings = _Postings()
    postings.add(["adam", "beta"], 3)
    postings.add(["adam"], 7)
    assert postings.deltas("adam") == "3,4" and "adam" not in postings.unsorted
    postings.add(["adam"], 5)
    postings.add(["adam"], 7)
    assert postings.deltas("adam") == "3,2,2"
    assert postings.deltas("beta") == "3" and postings.deltas("gamma") == ""
