"""`litdoc.markup`: Markdown with math, as MathML (Temml) or passed through for MathJax."""

import hashlib
import json
import re

import pytest

from litdoc import math_assets as assets
from litdoc.config import DEFAULT_MATHJAX_URL
from litdoc.markup import MarkupRenderer
from litdoc.math_assets import mathml_assets
from litdoc.mathengine import MathJax, MathML
from litdoc.model import LitdocError

# TeX left in the HTML outside the MathML's <annotation> (which carries the source on purpose).
_RAW_TEX = re.compile(r"\\[A-Za-z]+")
_ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">.*?</annotation>', re.S)


class RAW_TEX:
    @staticmethod
    def search(html: str):
        return _RAW_TEX.search(_ANNOTATION.sub("", html))


@pytest.fixture(scope="module")
def mathml():
    return MarkupRenderer("mathml")


@pytest.fixture(scope="module")
def mathjax():
    return MarkupRenderer("mathjax", mathjax_url="https://example.org/MathJax.js?config=TeX-AMS_HTML")


def math_spans(html: str):
    return re.findall(r'<span class="math (inline|display)">(.*?)</span>', html, re.S)


# -- math that Markdown would mangle ------------------------------------------------------------


def test_underscores_and_stars_inside_inline_math_are_not_emphasis(mathml, mathjax):
    source = "Here $a_1 * b_2$ and $x_i * y_i$ are *emphasised* only outside."
    assert mathjax.render(source, "m.py") == (
        '<p>Here <span class="math inline">$a_1 * b_2$</span> and '
        '<span class="math inline">$x_i * y_i$</span> are <em>emphasised</em> only outside.</p>\n'
    )
    html = mathml.render(source, "m.py")
    assert html.count("<math>") == 2 and "<em>emphasised</em>" in html
    assert "<msub><mi>a</mi><mn>1</mn></msub><mo>∗</mo><msub><mi>b</mi><mn>2</mn></msub>" in html


def test_align_rows_keep_their_double_backslash(mathml, mathjax):
    source = "\\begin{align}\nm_t &= \\beta_1 m_{t-1} \\\\\nv_t &= \\beta_2 v_{t-1}\n\\end{align}"
    assert mathjax.render(source, "m.py") == (
        '<div class="math display">\n\\begin{align}\nm_t &amp;= \\beta_1 m_{t-1} \\\\\n'
        "v_t &amp;= \\beta_2 v_{t-1}\n\\end{align}\n</div>\n"
    )
    html = mathml.render(source, "m.py")
    assert html.count("<mtr>") == 2  # two rows: the \\ reached Temml
    assert 'class="tml-display"' in html and "<mi>β</mi>" in html
    assert not RAW_TEX.search(html)


def test_display_math_inside_a_paragraph(mathml, mathjax):
    source = "The step is\n$$\\Delta = \\alpha \\cdot \\frac{m_t}{v_t}$$\nwhich is bounded."
    # `$$` that starts a line and closes at the end of one is a block, even inside a paragraph.
    assert mathjax.render(source, "m.py") == (
        '<p>The step is</p>\n<div class="math display">\n$$\\Delta = \\alpha \\cdot \\frac{m_t}{v_t}$$\n</div>\n'
        "<p>which is bounded.</p>\n"
    )
    html = mathml.render(source, "m.py")
    assert html.count('<div class="math display">') == 1
    # Text after the closing `$$` on its line keeps the formula inside the paragraph.
    assert (
        mathjax.render("So $$x$$ is\nbounded.", "m.py")
        == '<p>So <span class="math display">$$x$$</span> is\nbounded.</p>\n'
    )
    assert '<math display="block"' in html and "<mfrac>" in html and not RAW_TEX.search(html)


def test_display_math_block_on_its_own_lines(mathml):
    html = mathml.render("Before.\n\n$$\n\\sum_{i=1}^n x_i^2\n$$\n\nAfter.", "m.py")
    assert html.startswith('<p>Before.</p>\n<div class="math display">\n<math display="block"')
    assert "<munderover>" in html and html.endswith("</div>\n<p>After.</p>\n")


def test_dollars_in_code_spans_and_prices_are_not_math(mathml, mathjax):
    source = "Run `echo $HOME $PATH` for $5 and $10, or ` $x$ `."
    html = mathml.render(source, "m.py")
    assert "<math" not in html
    assert html == ("<p>Run <code>echo $HOME $PATH</code> for $5 and $10, or <code>$x$</code>.</p>\n")
    # MathJax would read the prices as delimiters, so they are escaped for it.
    assert "for \\$5 and \\$10" in mathjax.render(source, "m.py")


def test_escaped_dollar_is_literal(mathml):
    assert mathml.render("It costs \\$x and $y$.", "m.py").startswith("<p>It costs $x and <span")


def test_mathop_word_is_set_upright_as_one_word(mathml):
    html = mathml.render("$\\mathop{Var}(x)$", "m.py")
    assert "<mi>Var</mi>" in html and "<mi>V</mi>" not in html


# -- errors ---------------------------------------------------------------------------------------


def test_a_dollar_that_nothing_closes_stays_a_dollar(mathml, mathjax):
    # As MathJax leaves it: no error, the dollar is text.
    assert (
        mathml.render("First line.\nThen $a_1 + b\nand more.", "m.py")
        == "<p>First line.\nThen $a_1 + b\nand more.</p>\n"
    )
    assert mathml.render("Intro.\n\n$$\nx = 1\n\nlater", "m.py") == "<p>Intro.</p>\n<p>$$\nx = 1</p>\n<p>later</p>\n"
    # In MathJax mode a text dollar is written `\$`, so MathJax in the browser leaves it too.
    assert mathjax.render("Then $a_1 + b", "m.py") == "<p>Then \\$a_1 + b</p>\n"


def test_tex_error_reports_line_expression_and_engine_message(mathml):
    with pytest.raises(LitdocError) as err:
        mathml.render("ok $x$\n\nbroken $\\frac{a}{b} + \\nosuchmacro$ here", "m.py", line_numbers=[40, 41, 42])
    assert err.value.line == 42
    assert err.value.reason == (
        "TeX error in $\\frac{a}{b} + \\nosuchmacro$: "
        "Unsupported function name: \\nosuchmacro at position 15: "
        "\\frac{a}{b} + \\nosuchmacro"
    )
    assert "\n" not in str(err.value)


def test_an_environment_inside_a_paragraph_is_display_math(mathml, mathjax):
    # MathJax's processEnvironments typesets \\begin{...}...\\end{...} wherever it stands.
    source = "text \\begin{align} a &= b \\\\ c &= d \\end{align} more"
    assert (
        mathjax.render(source, "m.py")
        == '<p>text <span class="math display">\\begin{align} a &amp;= b \\\\ c &amp;= d \\end{align}</span> more</p>\n'
    )
    html = mathml.render(source, "m.py")
    assert '<math display="block"' in html and "<mtable" in html and not RAW_TEX.search(html)


def test_unknown_math_mode():
    with pytest.raises(LitdocError, match="math = 'katex'"):
        MarkupRenderer("katex")


# -- head HTML and assets -------------------------------------------------------------------------


def test_mathml_head_links_the_copied_css_under_the_root(mathml):
    assert mathml.head_html("..") == (
        '<link rel="stylesheet" href="../_litdoc/math/Temml-NotoSans.css">\n'
        '<link rel="stylesheet" href="../_litdoc/math/litdoc-math.css">'
    )
    assert mathml.head_html(".").startswith('<link rel="stylesheet" href="_litdoc/math/Temml-NotoSans.css">')


def test_mathjax_head_configures_delimiters_escapes_and_environments(mathjax):
    head = mathjax.head_html("..")
    assert '<script async src="https://example.org/MathJax.js?config=TeX-AMS_HTML"></script>' in head
    for setting in (
        "inlineMath: [['$', '$']]",
        "displayMath: [['$$', '$$']]",
        "processEscapes: true",
        "processEnvironments: true",
    ):
        assert setting in head
    engine = MarkupRenderer("mathjax").engine
    assert isinstance(engine, MathJax) and engine.url == DEFAULT_MATHJAX_URL


def test_math_assets_are_real_files_that_the_css_refers_to():
    files = dict(mathml_assets())
    assert set(files) == {
        f"_litdoc/math/{name}"
        for name in (
            "Temml-NotoSans.css",
            "litdoc-math.css",
            "NotoSansMath-Regular.woff2",
            "LICENSE-temml.txt",
            "LICENSE-NotoSansMath.txt",
        )
    }
    assert all(len(content) > 0 for content in files.values())
    assert files["_litdoc/math/NotoSansMath-Regular.woff2"][:4] == b"wOF2"
    # Every url() of the stylesheets resolves to a shipped file beside them (data: URLs aside):
    # Temml publishes its CSS pointing at a .ttf that no package ships, so litdoc repoints it.
    for name in ("Temml-NotoSans.css", "litdoc-math.css"):
        # Inline SVG masks are data: URLs with url() references of their own inside; drop them first.
        css = re.sub(r"""url\(\s*(["'])data:.*?\1\s*\)""", "", files[f"_litdoc/math/{name}"].decode())
        for url in re.findall(r"""url\(\s*['"]?([^'")]+)""", css):
            assert f"_litdoc/math/{url}" in files, (name, url)
    assert (
        "src: url('NotoSansMath-Regular.woff2') format('woff2');" in files["_litdoc/math/Temml-NotoSans.css"].decode()
    )
    # The engines: MathML copies all of them but the font, which the build cuts to the site's glyphs;
    # MathJax copies none and cuts no font.
    assert {rel for rel, _ in MathML().assets()} == set(files) - {"_litdoc/math/NotoSansMath-Regular.woff2"}
    assert MathJax("u").assets() == [] and MathJax("u").site_font(["x"]) is None and MathJax("u").glyphs("<math>") == ""


def test_a_changed_temml_stylesheet_is_refused():
    css = b"@font-face { font-family: NotoSans Math; src: url('Other.otf'); }"
    with pytest.raises(LitdocError, match="Temml-NotoSans.css:1: expected the font declaration"):
        assets._temml_css(css)


def test_shipped_math_files_match_their_pins():
    # What the wheel carries is what SOURCES.json pins: versions, and the SHA-256 of every file.
    assert assets.pinned_packages() == {"temml": "0.13.5", "@fontsource/noto-sans-math": "5.3.0"}
    sources = json.loads(assets.SOURCES.read_text())["packages"]
    for entry in sources.values():
        assert entry["integrity"].startswith("sha512-")
        for name, digest in entry["files"].items():
            assert hashlib.sha256((assets.VENDORED_DIR / name).read_bytes()).hexdigest() == digest, name
    assert "0.13.5" in assets.temml_js()[:400] or "temml" in assets.temml_js()[:4000].lower()


def test_a_damaged_math_file_is_reported(tmp_path, monkeypatch):
    for name in ("temml.min.js", "SOURCES.json"):
        (tmp_path / name).write_bytes((assets.VENDORED_DIR / name).read_bytes())
    (tmp_path / "temml.min.js").write_bytes(b"// edited by hand")
    monkeypatch.setattr(assets, "VENDORED_DIR", tmp_path)
    with pytest.raises(LitdocError, match="does not match the SHA-256 in SOURCES.json"):
        assets.temml_js()


def test_images_open_at_full_size_unless_already_linked():
    renderer = MarkupRenderer("mathjax")
    assert (
        renderer.render("![A plot](plot.svg)", "f.py")
        == '<p><a class="image-link" href="plot.svg" title="open the figure full size"><img src="plot.svg" alt="A plot" /></a></p>\n'
    )
    assert (
        renderer.render("[![A plot](plot.svg)](page.html)", "f.py")
        == '<p><a href="page.html"><img src="plot.svg" alt="A plot" /></a></p>\n'
    )


# -- fenced blocks: exercises, their answers, appendices ----------------------------------------------

EXERCISE = r"""Before.

:::: exercise Adam's first step, $|\Delta_1|$
Show that $|\Delta_1| = \alpha$.

::: answer
On the first step $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so

$$|\Delta_1| = \alpha \frac{|g_1|}{\sqrt{g_1^2}} = \alpha$$

* whatever the sign of $g_1$
:::
::::

::: appendix Where we differ
Maintenance notes, with $\epsilon$.
:::
"""


def test_an_exercise_is_a_box_and_its_answer_a_folded_details(mathml):
    html = mathml.render(EXERCISE, "p.py")
    start = html.index('<div class="exercise">')
    title = html[start : html.index("</p>", start)]
    assert title.startswith(
        '<div class="exercise">\n<p class="block-title"><span class="block-label">Exercise: </span>Adam\'s first step, '
    )
    assert "<math>" in title  # the title's math, rendered
    # The answer: folded (no `open`), its summary first, then the Markdown and math inside it.
    answer = html[html.index('<details class="exercise-answer">') : html.index("</details>")]
    assert answer.startswith('<details class="exercise-answer">\n<summary>Answer</summary>\n<p>On the first step')
    assert "open" not in answer.split("\n")[0]
    assert '<div class="math display"' in answer and "<li>whatever the sign of" in answer
    # Nesting: the answer's details closes before the exercise's box.
    assert html.index("</details>") < html.index('</div>\n<details class="appendix">')
    # Every formula became MathML: in the title, the question, the answer, the appendix.
    assert not RAW_TEX.search(html) and html.count("<math") == 7
    assert '<details class="appendix">\n<summary>Where we differ</summary>\n<p>Maintenance notes' in html


def test_block_math_goes_through_the_same_engine(mathjax):
    html = mathjax.render(EXERCISE, "p.py")
    start = html.index('<p class="block-title">')
    title = html[start : html.index("</p>", start)]
    assert '<span class="math inline">$|\\Delta_1|$</span>' in title
    assert "$$|\\Delta_1| = \\alpha \\frac{|g_1|}{\\sqrt{g_1^2}} = \\alpha$$" in html


def test_an_exercise_without_title_or_answer_and_blocks_inside_lists(mathml):
    html = mathml.render(":::: exercise\nQ\n::::\n\n- item\n\n  ::: appendix\n  Folded in a list.\n  :::\n", "p.py")
    assert '<p class="block-title"><span class="block-label">Exercise</span></p>' in html
    assert '<li>\n<p>item</p>\n<details class="appendix">\n<summary>Appendix</summary>' in html


@pytest.mark.parametrize(
    "markdown, line, reason",
    [
        # the inner block needs fewer colons: its ':::' closed the exercise
        ("intro\n\n::: exercise T\nQ\n::: answer\nA\n:::\n:::\n", 14, "'::: answer' is not closed"),
        (":::: exercise T\nQ\n::: answer\nA\n::::\n", 12, "'::: answer' is not closed"),
        ("::: appendix T\nnever closed\n", 10, "'::: appendix' is not closed"),
        ("::: answer\nA\n:::\n", 10, "'::: answer' stands only inside a block 'exercise'"),
        ("::: exercize T\nQ\n:::\n", 10, "unknown block '::: exercize'"),
        ("text\n\n:::\n", 12, "this ':::' closes no block"),
    ],
)
def test_a_malformed_block_is_one_line_naming_path_and_line(mathml, markdown, line, reason):
    with pytest.raises(LitdocError) as err:
        mathml.render(markdown, "pkg/page.py", first_line=10)
    message = str(err.value)
    assert message.startswith(f"pkg/page.py:{line}: {reason}") and "\n" not in message, message


def test_an_indented_code_block_is_focusable_like_a_fence():
    """axe's scrollable-region-focusable: a long line in an indented block scrolled, and a keyboard could
    not reach it (a fence was already focusable)."""
    from litdoc.markup import MarkupRenderer

    html = MarkupRenderer(math="mathjax").render("Text\n\n    code <b> & x\n\nAfter\n", "x.md")
    assert '<pre class="highlight" tabindex="0"><code>code &lt;b&gt; &amp; x\n</code></pre>' in html


def test_math_prepared_in_one_call_is_what_render_makes_alone() -> None:
    alone, batched = MathML(), MathML()
    good = [(r"\mathop{argmin}_x f", False), (r"\begin{align} a &= b \\ c &= d \end{align}", True), ("x^2", False)]
    bad = (r"\frac{1}{", False)
    batched.prepare(good + [bad, good[0]])
    for tex, display in good:
        assert batched._cache[(tex, display)] == alone.render(tex, display, "p.py", 1)
    assert bad not in batched._cache  # refused: converted again by render, which reports it
    with pytest.raises(LitdocError, match="p.py:7"):
        batched.render(*bad, "p.py", 7)


def test_the_engine_names_each_pages_formulas_and_recalls_conversions(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a build keeps in its cache folder (`litdoc.build.FormulaCache`): per page, the ids of the
    formulas rendered and the conversions made anew; given back by `recall`, they are rendered without V8."""
    from litdoc import mathengine
    from litdoc.mathengine import formula_id

    engine = MathML()
    engine.prepare([("x^2", False), ("y", True)])
    first = [engine.render(tex, display, "p.py", 1) for tex, display in (("x^2", False), ("y", True))]
    ids, converted = engine.page_formulas()
    assert ids == (formula_id("x^2", False), formula_id("y", True)) and ids[0] != formula_id("x^2", True)
    assert converted == (("x^2", False, first[0]), ("y", True, first[1])) and first[0].startswith("<math")
    # The next page: a formula met before is named again, but not converted again.
    engine.render("y", True, "q.py", 1)
    assert engine.page_formulas() == ((formula_id("y", True),), ())

    class NoV8:
        def __init__(self) -> None:
            raise AssertionError("V8 started for a recalled formula")

    monkeypatch.setattr(mathengine, "_Temml", NoV8)
    recalled = MathML()
    recalled.recall(converted)
    assert [recalled.render(tex, display, "p.py", 1) for tex, display in (("x^2", False), ("y", True))] == first
    assert recalled.page_formulas() == (ids, ())  # recalled, so not converted anew
    with pytest.raises(AssertionError, match="V8 started"):
        recalled.render("z", False, "p.py", 1)  # one it was not given is converted
    assert MathJax("u").page_formulas() == ((), ())  # an engine that converts nothing keeps nothing


def test_a_page_converts_its_math_in_one_call_and_renders_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from litdoc.markup import markdown_parser

    notes = [
        "# Adam\n\n$m_t$ and $v_t$, then\n\n$$\\hat{m}_t = \\frac{m_t}{1-\\beta_1^t}$$",
        "Step $\\alpha$, $$x$$ inline.",
    ]
    expected = [MarkupRenderer().render(docs, "p.py") for docs in notes]
    renderer = MarkupRenderer()
    calls = []
    real = renderer.engine.prepare
    monkeypatch.setattr(renderer.engine, "prepare", lambda formulas: calls.append(list(formulas)) or real(calls[-1]))
    shared = renderer.shared_parser(markdown_parser())
    for docs in notes:
        shared.parse(docs, {})
    assert [renderer.render(docs, "p.py") for docs in notes] == expected
    assert calls == [
        [
            ("m_t", False),
            ("v_t", False),
            ("\\hat{m}_t = \\frac{m_t}{1-\\beta_1^t}", True),
            ("\\alpha", False),
            ("x", True),
        ]
    ]


def test_the_math_font_is_cut_to_the_sites_characters_and_shipped_whole_without_math():
    shipped = dict(mathml_assets())["_litdoc/math/NotoSansMath-Regular.woff2"]
    rel, key, make = MathML().site_font(["", ""])  # no page shows math: no browser asks for the font
    assert rel == "_litdoc/math/NotoSansMath-Regular.woff2" and make() == shipped
    cut_rel, cut_key, cut = MathML().site_font(["β", "∑"])
    font = cut()
    assert cut_rel == rel and cut_key != key and font[:4] == b"wOF2" and len(font) < len(shipped) // 5
