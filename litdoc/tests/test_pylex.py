"""`litdoc.pylex`: the code column's tokens, written out for each rule, and the same page as Pygments'
`PythonLexer` (whose rules pylex restates) gives, on the standard library and on generated text."""

from __future__ import annotations

import re
import sysconfig
import time
from pathlib import Path

import pygments
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import PythonLexer
from pygments.token import STANDARD_TYPES

from litdoc.highlight import line_html, split_lines
from litdoc.pylex import python_tokens

# Each rule, on the smallest text that shows it, with the tokens a reader's page gets (classes are
# Pygments' short names: the page's colours come from Pygments' style sheets).
# fmt: off
CASES = [
    (
        "def f(x):\n",
        [("k", "def"), ("w", " "), ("nf", "f"), ("p", "("), ("n", "x"), ("p", ")"), ("p", ":"), ("w", "\n")],
    ),
    (  # a magic method keeps `fm`
        "def __init__(self):\n",
        [("k", "def"), ("w", " "), ("fm", "__init__"), ("p", "("), ("bp", "self"), ("p", ")"), ("p", ":"), ("w", "\n")],
    ),
    (
        "class Adam(Optimizer):\n",
        [("k", "class"), ("w", " "), ("nc", "Adam"), ("p", "("), ("n", "Optimizer"), ("p", ")"), ("p", ":"), ("w", "\n")],
    ),
    (
        "from torch.optim import Adam as A\n",
        [
            ("kn", "from"), ("w", " "), ("nn", "torch"), ("nn", "."), ("nn", "optim"), ("w", " "), ("kn", "import"),
            ("", " "), ("n", "Adam"), ("", " "), ("k", "as"), ("", " "), ("n", "A"), ("w", "\n"),
        ],
    ),
    (
        "import numpy as np, math\n",
        [
            ("kn", "import"), ("w", " "), ("nn", "numpy"), ("w", " "), ("k", "as"), ("w", " "), ("nn", "np"),
            ("o", ","), ("w", " "), ("nn", "math"), ("w", "\n"),
        ],
    ),
    (  # `from None` is never a module
        "raise X from None\n",
        [("k", "raise"), ("", " "), ("n", "X"), ("", " "), ("kn", "from"), ("w", " "), ("kc", "None"), ("w", "\n")],
    ),
    ("yield from it\n", [("k", "yield from"), ("", " "), ("n", "it"), ("w", "\n")]),
    (
        "@torch.no_grad()\n",
        [("nd", "@torch"), ("o", "."), ("n", "no_grad"), ("p", "("), ("p", ")"), ("w", "\n")],
    ),
    ("a @ b\n", [("n", "a"), ("", " "), ("o", "@"), ("", " "), ("n", "b"), ("w", "\n")]),
    (  # a builtin's name as an attribute is a plain name
        "x.print(len(x))\n",
        [
            ("n", "x"), ("o", "."), ("n", "print"), ("p", "("), ("nb", "len"), ("p", "("), ("n", "x"), ("p", ")"),
            ("p", ")"), ("w", "\n"),
        ],
    ),
    (
        "x.__dict__, self, ValueError\n",
        [
            ("n", "x"), ("o", "."), ("vm", "__dict__"), ("p", ","), ("", " "), ("bp", "self"), ("p", ","), ("", " "),
            ("ne", "ValueError"), ("w", "\n"),
        ],
    ),
    (  # Pygments' rules read `2j` as an integer and a name; so does pylex
        "0x1F + 0o7 + 0b1 + 1_000 + 1.5e-3 + .5 + 2j\n",
        [
            ("mh", "0x1F"), ("", " "), ("o", "+"), ("", " "), ("mo", "0o7"), ("", " "), ("o", "+"), ("", " "),
            ("mb", "0b1"), ("", " "), ("o", "+"), ("", " "), ("mi", "1_000"), ("", " "), ("o", "+"), ("", " "),
            ("mf", "1.5e-3"), ("", " "), ("o", "+"), ("", " "), ("mf", ".5"), ("", " "), ("o", "+"), ("", " "),
            ("mi", "2"), ("n", "j"), ("w", "\n"),
        ],
    ),
    (  # escapes in bytes and strings, none in raw strings
        "b'\\x41' + r'\\d' + u'\\N{DASH}'\n",
        [
            ("sa", "b"), ("s1", "'"), ("se", "\\x41"), ("s1", "'"), ("", " "), ("o", "+"), ("", " "), ("sa", "r"),
            ("s1", "'"), ("s1", "\\"), ("s1", "d"), ("s1", "'"), ("", " "), ("o", "+"), ("", " "), ("sa", "u"),
            ("s1", "'"), ("se", "\\N{DASH}"), ("s1", "'"), ("w", "\n"),
        ],
    ),
    (  # %-formatting and str.format fields
        "'%(n)d of %s' % n\n",
        [
            ("s1", "'"), ("si", "%(n)d"), ("s1", " of "), ("si", "%s"), ("s1", "'"), ("", " "), ("o", "%"), ("", " "),
            ("n", "n"), ("w", "\n"),
        ],
    ),
    ('"{0.x!r:>10}"\n', [("s2", '"'), ("si", "{0.x!r:>10}"), ("s2", '"'), ("w", "\n")]),
    (  # an f-string's fields are expressions, nested fields and other quotes included
        "f\"{x!r:>{w}} {{lit}} {d['k']}\"\n",
        [
            ("sa", "f"), ("s2", '"'), ("si", "{"), ("n", "x"), ("si", "!r:"), ("s2", ">"), ("si", "{"), ("n", "w"),
            ("si", "}"), ("si", "}"), ("s2", " "), ("se", "{{"), ("s2", "lit"), ("se", "}}"), ("s2", " "),
            ("si", "{"), ("n", "d"), ("p", "["), ("s1", "'"), ("s1", "k"), ("s1", "'"), ("p", "]"), ("si", "}"),
            ("s2", '"'), ("w", "\n"),
        ],
    ),
    (
        'f"{(yield from x)}"\n',
        [
            ("sa", "f"), ("s2", '"'), ("si", "{"), ("p", "("), ("k", "yield from"), ("w", " "), ("n", "x"),
            ("p", ")"), ("si", "}"), ("s2", '"'), ("w", "\n"),
        ],
    ),
    ('"""Doc\nstring."""\n', [("sd", '"""Doc\nstring."""'), ("w", "\n")]),
    (  # soft keywords, and the wildcard of a case pattern
        "match p:\n    case [x, _]:\n        pass\n",
        [
            ("k", "match"), ("", " "), ("n", "p"), ("p", ":"), ("w", "\n"), ("", "    "), ("k", "case"), ("w", " "),
            ("p", "["), ("n", "x"), ("p", ","), ("", " "), ("k", "_"), ("p", "]"), ("p", ":"), ("w", "\n"),
            ("", "        "), ("k", "pass"), ("w", "\n"),
        ],
    ),
    ("match = 1\n", [("n", "match"), ("", " "), ("o", "="), ("", " "), ("mi", "1"), ("w", "\n")]),
    (  # a string left open ends at its line; the next line starts afresh
        's = "open\nx\n',
        [
            ("n", "s"), ("", " "), ("o", "="), ("", " "), ("s2", '"'), ("s2", "open"), ("w", "\n"), ("n", "x"),
            ("w", "\n"),
        ],
    ),
    ("a = 1 # note\n", [("n", "a"), ("", " "), ("o", "="), ("", " "), ("mi", "1"), ("", " "), ("c1", "# note"), ("w", "\n")]),
    ("x = $\n", [("n", "x"), ("", " "), ("o", "="), ("", " "), ("err", "$"), ("w", "\n")]),
    (
        "async for x in y:\n",
        [
            ("k", "async"), ("", " "), ("k", "for"), ("", " "), ("n", "x"), ("", " "), ("ow", "in"), ("", " "),
            ("n", "y"), ("p", ":"), ("w", "\n"),
        ],
    ),
    ("\ufeffx\r\ny", [("n", "x"), ("w", "\n"), ("n", "y"), ("w", "\n")]),  # as Pygments prepares text
]
# fmt: on


@pytest.mark.parametrize(("text", "tokens"), CASES, ids=[text.splitlines()[0] for text, _ in CASES])
def test_each_rule_gives_its_tokens(text, tokens):
    assert python_tokens(text) == tokens


def test_no_token_is_empty_and_every_character_is_kept():
    text = "".join(text for text, _ in CASES[:-1])
    tokens = python_tokens(text)
    assert all(value for _, value in tokens)
    assert "".join(value for _, value in tokens) == text


# --- The same tokens as Pygments' PythonLexer ------------------------------------------------------
_PYGMENTS = PythonLexer(stripnl=False, stripall=False, ensurenl=True)


def _pygments_class(ttype) -> str:
    suffix = ""
    name = STANDARD_TYPES.get(ttype)
    while name is None:
        suffix = ttype[-1] + suffix
        ttype = ttype.parent
        name = STANDARD_TYPES.get(ttype)
    return name + suffix


def _page_lines(tokens, text: str) -> list[str]:
    """The code column's lines as a page shows them (`litdoc.highlight`), from (class, text) tokens."""
    count = text.count("\n") + 1
    return [line_html(pieces, number) for number, pieces in enumerate(split_lines(tokens, count), start=1)]


def _both(text: str) -> tuple[list[str], list[str]]:
    """The page's lines from pylex and from Pygments."""
    pygments_tokens = ((_pygments_class(ttype), value) for ttype, value in _PYGMENTS.get_tokens(text))
    return _page_lines(python_tokens(text), text), _page_lines(pygments_tokens, text)


# pylex restates the rules of Pygments 2.21's PythonLexer. Another release may change a rule (2.21
# added `lazy` imports, t-strings and `frozendict`): then the classes of at least 99% of the characters
# must still agree, which any broken rule would fail on this corpus.
_SAME_RULES = pygments.__version__.startswith("2.21.")


def _stdlib_sample() -> list[Path]:
    """The standard library's top-level modules, and the tests of its grammar, f-strings, pattern
    matching and string literals: every construct of the language, on the running Python."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    tests = [
        lib / "test" / f"{name}.py" for name in ("test_grammar", "test_fstring", "test_patma", "test_string_literals")
    ]
    return sorted(lib.glob("*.py")) + [path for path in tests if path.exists()]


def test_the_page_is_pygments_on_the_standard_library():
    files = _stdlib_sample()
    assert len(files) > 150
    total = differing = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        ours, theirs = _both(text)
        total += len(ours)
        if ours != theirs:
            first = next(index for index, (a, b) in enumerate(zip(ours, theirs)) if a != b)
            assert not _SAME_RULES, f"{path}:{first + 1}: {ours[first]!r} != {theirs[first]!r}"
            differing += sum(a != b for a, b in zip(ours, theirs))
    assert differing <= total / 100, f"{differing} of {total} lines differ from Pygments {pygments.__version__}"


# Pieces that meet every rule's edges: prefixes and quotes, escapes, fields, soft keywords, statement
# heads, continuation lines, line ends of three kinds.
# fmt: off
_PIECES = [
    "def ", "class ", "import ", "from ", "lazy ", "as ", " ", "\n", "\t", "\\\n", "\\", '"', "'", '"""', "'''",
    "f", "r", "b", "u", "rb", "fr", "t", "{", "}", "{{", "}}", "(", ")", "[", "]", ":", "=", "!r", "%s", "%(x)d",
    "\\n", "\\x41", "\\N{DASH}", "x", "self", "print", ".", "_", "match", "case", "yield from", "async for",
    "None", "1", "0x1f", "1.5e3", ".5", "1_0", "@", "#c", "é", "__init__", "in", "not", "if", "else", "lambda",
    ",", "\r", "\r\n", "\ufeff", "0o7", "0b1", "j", "e",
]
# fmt: on


@settings(max_examples=1500)
@given(st.one_of(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join), st.text(max_size=40)))
def test_the_page_is_pygments_on_any_text(text):
    tokens = python_tokens(text)
    assert all(value for _, value in tokens)
    ours, theirs = _both(text)
    if _SAME_RULES and all(character.isascii() or character in "é\ufeff" for character in text):
        assert ours == theirs
    else:
        # Names: Pygments' tables of identifier characters are its own (an older Unicode), pylex's
        # `\w` is Python's (see pylex._NAME). Each line keeps its text.
        assert [re.sub("<[^>]*>", "", line) for line in ours] == [re.sub("<[^>]*>", "", line) for line in theirs]


@pytest.mark.parametrize("piece", ["  \n", "(", "'", 'f"{', "x.", "\\\n", '"""\n', 'f"{x:{'])
def test_the_work_is_linear_in_the_text(piece):
    """Pygments' docstring rule looked past every following blank line at each of them: 20,000 blank
    lines took 30 s. Regex work is not counted in Python lines, so this compares CPU time: eight times
    the text in under 24 times the time (a quadratic rule takes 64 times), best of three each."""

    def seconds(count: int) -> float:
        text = piece * count
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            python_tokens(text)
            best = min(best, time.process_time() - start)
        return best

    small, large = seconds(2500), seconds(20000)
    assert large < 24 * max(small, 0.002), (small, large)


def test_a_case_line_of_much_white_space_is_linear():
    text = "case" + " " * 50000 + "x\n"
    assert python_tokens(text)[:2] == [("k", "case"), ("", " " * 50000)]
