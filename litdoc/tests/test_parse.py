"""`litdoc.parse`: every case of the labml convention, each against hand-written sections."""

import ast
import sys
import sysconfig
import textwrap
import tokenize
import warnings
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from litdoc.model import FrontMatter, LitdocError, Section
from litdoc.parse import parse_module


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def sections(text: str, path: str = "pkg/mod.py"):
    return list(parse_module(src(text), path).sections)


def S(docs="", doc_lines=(), code=(), from_docstring=False):
    return Section(docs=docs, doc_lines=tuple(doc_lines), from_docstring=from_docstring, code_lines=tuple(code))


def test_comment_run_documents_the_code_that_follows():
    assert sections("""
        # Learning rate $\\alpha$
        # for every group
        lr = 1e-3
        betas = (0.9, 0.999)
        # Second section
        eps = 1e-8
    """) == [
        S("Learning rate $\\alpha$\nfor every group", [1, 2], [(3, "lr = 1e-3"), (4, "betas = (0.9, 0.999)")]),
        S("Second section", [5], [(6, "eps = 1e-8")]),
    ]


def test_comment_inside_a_body_strips_indentation_and_hash_but_keeps_markdown_indent():
    assert sections("""
        def f(x):
            y = x
            # A list:
            #
            # * item one
            #   continued
            return y
    """) == [
        S("", [], [(1, "def f(x):"), (2, "    y = x")]),
        S("A list:\n\n* item one\n  continued", [3, 4, 5, 6], [(7, "    return y")]),
    ]


def test_comment_runs_separated_by_blank_lines_are_one_section_with_paragraphs():
    assert sections("""
        # First paragraph

        # Second paragraph
        x = 1
    """) == [S("First paragraph\n\nSecond paragraph", [1, 2, 3], [(4, "x = 1")])]


@pytest.mark.parametrize(
    "opening, closing",
    [
        ('"""', '"""'),
        ("'''", "'''"),
        ('r"""', '"""'),
        ("R'''", "'''"),
        ('u"""', '"""'),
    ],
)
def test_function_docstring_of_every_triple_quote_style(opening, closing):
    assert sections(f"""
        def f(x):
            {opening}
            ### Compute $f$

            Returns `x`.
            {closing}
            return x
    """) == [
        S("### Compute $f$\n\nReturns `x`.", [2, 3, 4, 5, 6], [(1, "def f(x):")], True),
        S("", [], [(7, "    return x")]),
    ]


@pytest.mark.parametrize(
    "literal", ['"Square $x$."', "'Square $x$.'", 'r"Square $x$."', '"""Square $x$."""', "r'''Square $x$.'''"]
)
def test_one_line_docstrings(literal):
    assert sections(f"""
        def square(x):
            {literal}
            return x * x
    """) == [
        S("Square $x$.", [2], [(1, "def square(x):")], True),
        S("", [], [(3, "    return x * x")]),
    ]


def test_closing_quotes_on_the_text_line_and_text_on_the_opening_line():
    assert sections('''
        class Adam:
            """## Adam
            We extend the base class."""
            lr = 1
    ''') == [
        S("## Adam\nWe extend the base class.", [2, 3], [(1, "class Adam:")], True),
        S("", [], [(4, "    lr = 1")]),
    ]


def test_docstring_text_is_taken_raw_so_backslashes_survive():
    # In a non-raw string "\f" is a form feed and "\\" a single backslash; the page needs the TeX.
    parsed = sections('''
        def f():
            """$\\frac{a}{b}$ and $a \\\\ b$"""
    ''')
    assert parsed == [S("$\\frac{a}{b}$ and $a \\\\ b$", [2], [(1, "def f():")], True)]


def test_decorators_stay_with_their_def():
    assert sections('''
        x = 1

        @torch.no_grad()
        @staticmethod
        def step():
            """Take a step."""
            pass
    ''') == [
        S("", [], [(1, "x = 1")]),
        S("Take a step.", [2, 6], [(3, "@torch.no_grad()"), (4, "@staticmethod"), (5, "def step():")], True),
        S("", [], [(7, "    pass")]),
    ]


def test_def_without_docstring_is_plain_code_and_keeps_its_decorator():
    assert sections("""
        # Helpers
        @cache
        def f():
            return 1
    """) == [S("Helpers", [1], [(2, "@cache"), (3, "def f():"), (4, "    return 1")])]


def test_inline_comments_and_hash_in_strings_stay_code():
    assert sections("""
        x = 1  # inline
        s = "# not a comment"
        t = '#' + "#"
    """) == [S("", [], [(1, "x = 1  # inline"), (2, 's = "# not a comment"'), (3, "t = '#' + \"#\"")])]


def test_triple_quoted_strings_that_are_not_docstrings_stay_code():
    assert sections('''
        def f():
            x = 1
            """not a docstring"""
            s = """
            # not a comment either
            """
            return s
    ''') == [
        S(
            "",
            [],
            [
                (1, "def f():"),
                (2, "    x = 1"),
                (3, '    """not a docstring"""'),
                (4, '    s = """'),
                (5, "    # not a comment either"),
                (6, '    """'),
                (7, "    return s"),
            ],
        )
    ]


def test_docstring_on_the_def_line_cannot_be_split_and_stays_code():
    assert sections("""
        def f(): "doc"
        x = 1
    """) == [S("", [], [(1, 'def f(): "doc"'), (2, "x = 1")])]


def test_blank_lines_do_not_start_sections():
    # Between code lines a blank line stays code; at a section's edge it is counted with the docs.
    assert sections("""
        # Imports
        import math

        import torch


        # Next
        y = 2
    """) == [
        S("Imports", [1], [(2, "import math"), (3, ""), (4, "import torch")]),
        S("Next", [5, 6, 7], [(8, "y = 2")]),
    ]


def test_blank_lines_after_a_docstring_go_with_the_docs():
    assert sections('''
        class A:
            """Doc."""

            x = 1
    ''') == [
        S("Doc.", [2], [(1, "class A:")], True),
        S("", [3], [(4, "    x = 1")]),
    ]


def test_empty_sections_are_dropped_and_their_lines_move_on():
    # An empty comment run and an empty docstring carry no docs and no code.
    assert sections("""
        #
        #

        x = 1
    """) == [S("", [1, 2, 3], [(4, "x = 1")])]
    assert sections('''
        """"""
        # Real docs
        y = 2
    ''') == [S("Real docs", [1, 2], [(3, "y = 2")])]


def test_comment_after_a_docstring_starts_a_body_section():
    assert sections('''
        def f(x):
            """Doc."""
            # Square it
            return x * x
    ''') == [
        S("Doc.", [2], [(1, "def f(x):")], True),
        S("Square it", [3], [(4, "    return x * x")]),
    ]


def test_comment_inside_a_signature_joins_the_docs_so_the_header_stays_whole():
    assert sections('''
        @decorate
        # why we decorate
        def f(a,
              # b is optional
              b=None):
            """Doc."""
    ''') == [
        S(
            "why we decorate\n\nb is optional\n\nDoc.",
            [2, 4, 6],
            [(1, "@decorate"), (3, "def f(a,"), (5, "      b=None):")],
            True,
        )
    ]


def test_nested_class_and_method_docstrings():
    assert sections('''
        class A:
            """A."""
            def m(self):
                """M."""
                return 1
    ''') == [
        S("A.", [2], [(1, "class A:")], True),
        S("M.", [4], [(3, "    def m(self):")], True),
        S("", [], [(5, "        return 1")]),
    ]


def test_module_docstring_documents_the_code_after_it():
    parsed = parse_module(
        src('''
        """
        # Adam

        Text.
        """

        import math
    '''),
        "optimizers/adam.py",
    )
    assert parsed.sections == (S("# Adam\n\nText.", [1, 2, 3, 4, 5, 6], [(7, "import math")], True),)
    assert parsed.front_matter == FrontMatter(title="Adam", summary=None)


def test_shebang_and_coding_cookie_are_code():
    assert sections("""
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        # Doc
        x = 1
    """) == [
        S("", [], [(1, "#!/usr/bin/env python"), (2, "# -*- coding: utf-8 -*-")]),
        S("Doc", [3], [(4, "x = 1")]),
    ]


def test_front_matter_sets_title_and_summary_and_is_not_shown():
    parsed = parse_module(
        src('''
        """
        ---
        title: Adam Optimizer
        summary: >
          A simple PyTorch implementation
          of Adam.
        ---

        # Adam Optimizer

        Body.
        """
        import math
    '''),
        "labml_nn/optimizers/adam.py",
    )
    assert parsed.front_matter == FrontMatter(
        title="Adam Optimizer", summary="A simple PyTorch implementation of Adam."
    )
    assert parsed.sections == (S("# Adam Optimizer\n\nBody.", range(1, 13), [(13, "import math")], True),)


def test_front_matter_values_may_be_quoted():
    parsed = parse_module('"""---\ntitle: "Adam: a method"\nsummary: \'short\'\n---\n"""\n', "a.py")
    assert parsed.front_matter == FrontMatter(title="Adam: a method", summary="short")
    assert parsed.sections == ()  # nothing but front matter: no docs, no code


def test_title_falls_back_to_first_heading_outside_code_fences():
    parsed = parse_module(
        src('''
        """
        ```
        # not a heading
        ```
        Intro.
        """
        # ## The Real Title ##
        x = 1
    '''),
        "pkg/x.py",
    )
    assert parsed.front_matter.title == "The Real Title"


@pytest.mark.parametrize(
    "path, title", [("labml_nn/optimizers/adam.py", "adam"), ("labml_nn/optimizers/__init__.py", "optimizers")]
)
def test_title_falls_back_to_file_name(path, title):
    assert parse_module("x = 1\n", path).front_matter == FrontMatter(title=title, summary=None)


def test_front_matter_errors_name_the_line():
    with pytest.raises(LitdocError) as err:
        parse_module('"""\n---\ntitle: A\nsummary B\n---\n"""\n', "m.py")
    assert (err.value.path, err.value.line) == ("m.py", 4)
    assert "key: value" in err.value.reason
    with pytest.raises(LitdocError) as err:
        parse_module('"""\n---\ntitle: A\n"""\n', "m.py")
    assert (err.value.line, err.value.reason) == (2, "front matter opened with '---' is never closed")


def test_syntax_error_reports_its_line():
    with pytest.raises(LitdocError) as err:
        parse_module("x = 1\n\ndef f(:\n    pass\n", "bad.py")
    assert (err.value.path, err.value.line) == ("bad.py", 3)
    assert str(err.value).startswith("bad.py:3: syntax error")


def test_unterminated_triple_quote_reports_where_the_string_starts():
    with pytest.raises(LitdocError) as err:
        parse_module('x = 1\ns = """abc\n\ny = 2\n', "bad.py")
    assert err.value.line == 2
    assert "unterminated triple-quoted string" in err.value.reason


def test_bad_indentation_and_nul_byte():
    with pytest.raises(LitdocError) as err:
        parse_module("if x:\n    y = 1\n        z = 2\n", "bad.py")
    assert err.value.line == 3
    with pytest.raises(LitdocError) as err:
        parse_module("a = 1\nb = '\0'\n", "bad.py")
    assert err.value.line == 2


def test_crlf_and_missing_final_newline():
    assert parse_module("# Doc\r\nx = 1", "m.py").sections == (S("Doc", [1], [(2, "x = 1")]),)


def test_empty_file_has_no_sections():
    parsed = parse_module("", "pkg/empty.py")
    assert parsed.sections == ()
    assert parsed.front_matter.title == "empty"


def test_docs_line_numbers_map_each_docs_line_to_its_source_line():
    parsed = parse_module(
        src('''
        """
        ---
        title: T
        ---

        Intro $x$.
        """
        # First

        # Second
        x = 1
        @decorate
        # why
        def f():
            """
            Doc line one
            Doc line two
            """
    '''),
        "m.py",
    )
    assert [(s.docs, s.docs_line_numbers) for s in parsed.sections] == [
        ("Intro $x$.", (6,)),
        ("First\n\nSecond", (8, 9, 10)),
        ("why\n\nDoc line one\nDoc line two", (13, 13, 16, 17)),
    ]


def test_a_lone_carriage_return_ends_a_line_as_it_does_for_python():
    """Issue 9, bug 1: `# <!--\\rprint(...)` is a comment and then a call for Python, which runs the call."""
    text = 'x = 1\n# <!--\rprint("HIDDEN CODE RAN")\r# -->\ny = 2\n'
    module = parse_module(text, "cr.py")
    code = [line for section in module.sections for line in section.code_lines]
    assert code == [(1, "x = 1"), (3, 'print("HIDDEN CODE RAN")'), (5, "y = 2")]
    assert [(s.docs, s.doc_lines) for s in module.sections if s.docs] == [("<!--", (2,)), ("-->", (4,))]
    # The numbers are the compiler's own.
    import ast

    assert [node.lineno for node in ast.parse(text).body] == [1, 3, 5]
    # Form feeds and Unicode line separators end no line for Python, so they end none here either.
    module = parse_module("x = 1  # a\x0cb\u2028c\ny = 2\n", "ff.py")
    assert [line for section in module.sections for line in section.code_lines] == [
        (1, "x = 1  # a\x0cb\u2028c"),
        (2, "y = 2"),
    ]


def test_an_expression_nested_too_deeply_for_the_parser_is_a_users_error_with_its_line():
    """`x = 1 + 1 + ...` with 200,000 terms segfaulted Python 3.9 and 3.10 in `ast.parse` (exit 139, no
    message); on 3.11 and later the RecursionError was reported as litdoc's internal error."""
    from litdoc import parse

    deep = '"""\n# Deep\n"""\n\nY = 2\nX = ' + " + ".join(["1"] * 200_000) + "\n"
    with pytest.raises(LitdocError) as caught:
        parse_module(deep, "deep.py")
    assert caught.value.line == 6 and "too deeply nested" in caught.value.reason
    # The check that runs before the parser on 3.9 and 3.10 (where the parser would crash), on this Python too.
    for chain in ("f" + "()" * 5000, "a" + ".b" * 5000, "a" + "[0]" * 5000, "-" * 5000 + "1"):
        with pytest.raises(LitdocError) as caught:
            parse._check_nesting(f"Y = 1\nX = {chain}\n", "deep.py")
        assert caught.value.line == 2
    # A long flat table is not deep, however many items it has.
    parse._check_nesting("T = [" + ", ".join(f"(-{i}, f({i}), a.b[{i}])" for i in range(20_000)) + "]\n", "t.py")


# --- The scanner that stands in for tokenize on Python 3.9-3.11 -----------------------------------


def _reading(tokens) -> tuple:
    """What parse takes from a token pass: code rows, comments, strings, and which token opens and
    closes each row (a string's start, or "code")."""

    def who(token):
        return ("string", token.start) if token.type == tokenize.STRING else "code"

    return (
        sorted(tokens.code_rows),
        [(comment.start, comment.string) for comment in tokens.comments],
        {start: (token.end, token.string) for start, token in tokens.strings.items()},
        {row: who(token) for row, token in tokens.first_on_row.items()},
        {row: who(token) for row, token in tokens.last_on_row.items()},
    )


def _standard_library_sample() -> list[Path]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    tests = [lib / "test" / f"{name}.py" for name in ("test_grammar", "test_tokenize", "test_fstring", "test_patma")]
    return sorted(lib.glob("*.py")) + sorted((lib / "email").glob("*.py")) + [path for path in tests if path.exists()]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 parse reads tokenize's C tokenizer itself")
def test_the_scanner_reads_the_standard_library_as_tokenize_does():
    """On 3.9-3.11 tokenize is pure Python and took two thirds of parse's time; `_scan_tokens` reads
    valid source 6x faster. The same reading as tokenize on every module here (all 13,341 files of the
    standard library and site-packages of 3.9, 3.10 and 3.11 were checked when it was written)."""
    from litdoc.parse import _scan_tokens, _tokenize_tokens, python_newlines

    files = _standard_library_sample()
    assert len(files) > 150
    for path in files:
        text = python_newlines(path.read_text(encoding="utf-8"))
        try:
            ast.parse(text)
        except SyntaxError:  # test files that hold invalid source on purpose
            continue
        assert _reading(_scan_tokens(text)) == _reading(_tokenize_tokens(text, str(path))), path


# Pieces of source at the scanner's edges: every string prefix and quote, escapes and continued lines,
# f-strings with the other quote inside, `#` inside strings, a keyword right before a string.
# fmt: off
_PIECES = [
    "x = ", "f(", ")", "[", "]", ",", ":", " ", "\n", "\t", "\\\n", "# c\n", "#'\n", "'a'", '"a"', "'''a\nb'''",
    '"""a\n"b"\n"""', "r'\\'", "rb'\\''", "Rb'x'", "bR'x'", "u'x'", "f'{a}'", "f'{a[\"k\"]}'", "F'{a!r:>{w}}'",
    'fr"{a}\\d"', "RF'x'", "br'\\\n'", "'\\\n'", "'#'", '"\\""', "'''#'''", "if", "or", "else", "not", "in", "1",
    "1if 1 else", "b", "rb", "u", "fr", "\f", ";", "@", "==", "lambda: ", "async", "é",
]
# fmt: on


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 parse reads tokenize's C tokenizer itself")
@settings(max_examples=1000)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_the_scanner_reads_any_valid_source_as_tokenize_does(text):
    """1,000 valid sources (about nine in ten generated are not Python and are skipped)."""
    from litdoc.parse import _scan_tokens, _tokenize_tokens

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError):
        assume(False)
    assert _reading(_scan_tokens(text)) == _reading(_tokenize_tokens(text, "g.py"))
