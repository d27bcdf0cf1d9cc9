"""Notes written for MathJax (`$...$`, `$$...$$`, processEscapes, processEnvironments) render as
MathJax renders them. Each case is the Markdown an author wrote and the formulas MathJax finds in it,
in order, with their kind; every other dollar must reach the reader as a dollar.

The cases come from the patterns real pages use (the issue that introduced this file lists them)
and from the rules MathJax's documentation gives for its TeX delimiters:
  * the text between delimiters is the formula, and may run over several lines;
  * a closing delimiter only counts outside braces (`{...}` is balanced first);
  * `\\$` is a literal dollar when escapes are processed;
  * `\\begin{env}...\\end{env}` is math without delimiters when environments are processed;
  * a delimiter that is never closed is left in the page as text.
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litdoc.delimiters import math_spans
from litdoc.markup import MarkupRenderer
from litdoc.model import LitdocError
from tests.sitefixtures import python_lines_run

INLINE, DISPLAY = "inline", "display"

# (name, markdown, [(kind, tex as MathJax receives it)], literal dollars left in the text)
CORPUS = [
    # -- the patterns of real pages -------------------------------------------------------------
    (
        "display math opening inside a paragraph, over lines",
        "For $K$-Lipschitz functions,\n$$\nW(P_r, P_g) =\n \\sup_{\\|f\\|_L \\le K} \\mathbb{E}_{x \\sim P_r}[f(x)]\n$$",
        [(INLINE, "K"), (DISPLAY, "\nW(P_r, P_g) =\n\\sup_{\\|f\\|_L \\le K} \\mathbb{E}_{x \\sim P_r}[f(x)]\n")],
        0,
    ),
    (
        "a line of a formula that looks like a list item",
        "$$\\text{BN}(X) = \\gamma\n\\frac{X - \\mathbb{E}[X]}{\\sqrt{Var[X] + \\epsilon}}\n+ \\beta$$",
        [(DISPLAY, "\\text{BN}(X) = \\gamma\n\\frac{X - \\mathbb{E}[X]}{\\sqrt{Var[X] + \\epsilon}}\n+ \\beta")],
        0,
    ),
    (
        "a formula whose lines look like a quote, a numbered list and list items",
        "We have $$a\n> c\n1. d\n* e\n- f$$ here.",
        [(DISPLAY, "a\n> c\n1. d\n* e\n- f")],
        0,
    ),
    (
        "a space before the closing dollar",
        "If gated, $f(x W_1 + b_1) \\otimes (x V + b) $",
        [(INLINE, "f(x W_1 + b_1) \\otimes (x V + b) ")],
        0,
    ),
    (
        "a backtick and quotes inside math",
        "$\\tau_{S`}, \\tau_{S' - 1}, \\dots$ and $x''$",
        [(INLINE, "\\tau_{S`}, \\tau_{S' - 1}, \\dots"), (INLINE, "x''")],
        0,
    ),
    ("money next to math", "It costs $5 per hour on $n$ GPUs.", [(INLINE, "n")], 1),
    ("two prices", "Between $5 and $10 a month.", [], 2),
    ("a price and a formula that starts with a digit", "At $3 the ratio is $2x + 1$.", [(INLINE, "2x + 1")], 1),
    # -- MathJax's rules ------------------------------------------------------------------------
    (
        "a dollar inside braces does not close",
        "$f(x) = \\text{$x$ if $x > 0$}$ done",
        [(INLINE, "f(x) = \\text{$x$ if $x > 0$}")],
        0,
    ),
    ("an escaped dollar is text", "Pay \\$5, then $x$.", [(INLINE, "x")], 1),
    ("an escaped dollar inside math stays in the formula", "$a \\$ b$", [(INLINE, "a \\$ b")], 0),
    (
        "an environment without delimiters, inside a paragraph",
        "so \\begin{align} a &= b \\\\ c &= d \\end{align} holds",
        [(DISPLAY, "\\begin{align} a &= b \\\\ c &= d \\end{align}")],
        0,
    ),
    (
        "an environment on lines of its own",
        "\\begin{align}\nm_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t \\\\\nv_t &= \\beta_2 v_{t-1}\n\\end{align}",
        [
            (
                DISPLAY,
                "\\begin{align}\nm_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t \\\\\nv_t &= \\beta_2 v_{t-1}\n\\end{align}",
            )
        ],
        0,
    ),
    ("an unclosed dollar is text", "The variable $x is never closed.", [], 1),
    ("an unclosed double dollar is text", "Display $$x = 1 never closed.", [], 2),
    ("display math on its own lines is a block", "Before.\n\n$$\nx = 1\n$$\n\nAfter.", [(DISPLAY, "\nx = 1\n")], 0),
    ("inline math may span lines", "The sum $a +\nb$ is finite.", [(INLINE, "a +\nb")], 0),
    (
        "emphasis and underscores inside math are TeX",
        "$a_1 * b_2 * c_{*}$ and *real emphasis*",
        [(INLINE, "a_1 * b_2 * c_{*}")],
        0,
    ),
    ("a code span wins over math", "Use `$x$` in code and $y$ in prose.", [(INLINE, "y")], 0),
    ("a dollar inside a code span opens nothing", "Run `echo $HOME` and then $z$.", [(INLINE, "z")], 0),
    (
        "math in a list item and a quote",
        "- first $a$\n- second $$b$$\n\n> quoted $c$",
        [(INLINE, "a"), (DISPLAY, "b"), (INLINE, "c")],
        0,
    ),
    ("math in a table cell", "| x | y |\n|---|---|\n| $a_1$ | $b^2$ |", [(INLINE, "a_1"), (INLINE, "b^2")], 0),
    ("adjacent formulas", "$a$$b$", [(INLINE, "a"), (INLINE, "b")], 0),
    ("a dollar followed by a space is text", "It costs $ 5, or $x$.", [(INLINE, "x")], 1),
]

SPAN = re.compile(r'<(span|div) class="math (inline|display)"[^>]*>\n?(.*?)\n?</\1>', re.S)


def found_math(rendered: str):
    """(kind, TeX) of each formula in MathJax-mode HTML, delimiters taken off."""
    out = []
    for _, kind, body in SPAN.findall(rendered):
        tex = html.unescape(body)
        if tex.startswith("$$") and tex.endswith("$$"):
            tex = tex[2:-2]
        elif tex.startswith("$") and tex.endswith("$"):
            tex = tex[1:-1]
        out.append((kind, tex))
    return out


def text_dollars(rendered: str) -> int:
    """Dollars the reader sees as text (MathJax mode writes them `\\$`)."""
    outside = SPAN.sub("", rendered)
    return outside.count("\\$")


@pytest.fixture(scope="module")
def mathjax():
    return MarkupRenderer("mathjax")


@pytest.fixture(scope="module")
def mathml():
    return MarkupRenderer("mathml")


def normalise(tex: str) -> str:
    # The block rule reads a block's lines without their indentation; spaces are not TeX's concern.
    return "\n".join(line.strip() for line in tex.split("\n"))


@pytest.mark.parametrize("name, markdown, expected, dollars", CORPUS, ids=[case[0] for case in CORPUS])
def test_mathjax_corpus(mathjax, mathml, name, markdown, expected, dollars):
    rendered = mathjax.render(markdown, "corpus.md")
    assert [(kind, normalise(tex)) for kind, tex in found_math(rendered)] == [
        (kind, normalise(tex)) for kind, tex in expected
    ], rendered
    assert text_dollars(rendered) == dollars, rendered
    # The same formulas convert to MathML without a TeX error, and none is left as TeX.
    converted = mathml.render(markdown, "corpus.md")
    assert converted.count("<math") == len(expected), converted
    assert "\\frac" not in SPAN.sub("", converted)


def test_a_tex_error_is_still_an_error(mathml):
    # What MathJax itself rejects (a missing argument, an unknown macro) fails the page.
    for bad in ("A ratio $\\frac{1}$ here.", "A $\\nosuchmacro{x}$ here."):
        with pytest.raises(LitdocError, match="TeX error"):
            mathml.render(bad, "bad.md")


def test_the_error_message_quotes_a_long_formula_briefly(mathml):
    deep = "$" + "{" * 3000 + "\\frac{1}" + "}" * 3000 + "$"
    with pytest.raises(LitdocError) as error:
        mathml.render(deep, "deep.md")
    assert len(str(error.value)) < 400 and "\u2026" in str(error.value)


def test_finding_math_is_linear_in_the_paragraph():
    """8,000 prices and formulas in one paragraph: a quadratic search would take minutes. Counted, not
    timed (a timing fails on a loaded machine, and belongs in a benchmark): ten times the text runs
    about ten times the Python lines when the scan is linear, a hundred times when it is quadratic;
    12x leaves room for fixed costs."""
    paragraph = " ".join(["$5 and $x_1$ cost"] * 8000)
    assert len(math_spans(paragraph)) == 8000
    small = python_lines_run(lambda: math_spans(" ".join(["$5 and $x_1$ cost"] * 800)))
    large = python_lines_run(lambda: math_spans(paragraph))
    assert small > 800  # the scan is Python code that the tracer sees
    assert large < 12 * small, (small, large)


# Markdown pieces, some math, some prose with dollars; whatever the mix, each formula the
# delimiter scan finds reaches MathJax exactly as written (nothing Markdown can mangle).
pieces = st.lists(
    st.sampled_from(
        [
            "$a_1*b_2$",
            "$$x_{*}^2$$",
            "$5",
            " and ",
            "\\$",
            "*em*",
            "_u_",
            "`code $`",
            "\n",
            "$\\{x\\}$",
            "$a +\nb$",
            "- ",
            "# ",
            "$",
            "{",
            "}",
            "\\\\",
            "text",
            "$ ",
            "$$",
            "\\begin{align}a\\end{align}",
        ]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(pieces)
def test_formulas_reach_mathjax_intact(text):
    renderer = MarkupRenderer("mathjax")
    rendered = renderer.render(text, "gen.md")
    for _kind, tex in found_math(rendered):
        assert "<em>" not in tex and "<strong>" not in tex and "<code>" not in tex
