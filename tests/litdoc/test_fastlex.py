"""`litdoc.fastlex`: the same tokens as Pygments' own `RegexLexer`, on real and generated text."""
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_by_name
from pygments.lexers.data import YamlLexer

from litdoc.fastlex import _may_begin, _rule_tests, fast_lexer_class

REPO = Path(__file__).resolve().parents[2]
OPTIONS = dict(stripnl=False, stripall=False, ensurenl=True)


def both(name: str):
    pygments_lexer = get_lexer_by_name(name, **OPTIONS)
    # No warm-up: every character goes through litdoc's driver, not Pygments' own loop.
    return pygments_lexer, fast_lexer_class(type(pygments_lexer), warm_up_chars=0)(**OPTIONS)


def tokens(lexer, text: str):
    return list(lexer.get_tokens_unprocessed(text))


def real_sources():
    import torch.optim

    folders = [REPO / "labml_nn", REPO / "litdoc", Path(torch.optim.__file__).parent]
    return sorted(p for folder in folders for p in folder.rglob("*.py"))


def test_python_tokens_match_pygments_on_real_files():
    pygments_lexer, fast = both("python")
    files = real_sources()
    assert len(files) > 40
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert tokens(fast, text) == tokens(pygments_lexer, text), path


# Python's syntax characters, string prefixes, and letters whose case folds oddly (Kelvin sign,
# long s, dotted I), which a first-character test must not get wrong.
python_text = st.lists(st.sampled_from([
    "def ", "class ", "f", "rb", "Rf", "u", "b", "'", '"', "'''", '"""', "{", "}", "{{", "(", ")",
    "[", "]", ":", "=", "!r", "\\", "\\n", "\n", "    ", "\t", "#", " x", "_", "0x1F", "1_0.5e-3j",
    "@", "->", ":=", "lambda", "import", "from", "match", "case", "print", "self", "__init__",
    "\u212a", "\u017f", "\u0130", "é", "λ", "$", "`", "?", ";", "%", "*", "**",
]), max_size=60).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(python_text)
def test_python_tokens_match_pygments_on_generated_text(text):
    pygments_lexer, fast = both("python")
    assert tokens(fast, text) == tokens(pygments_lexer, text)


SNIPPETS = {
    # Bash's heredoc rule refers back to a group; C and JavaScript have verbose and multi-line rules.
    "bash": 'cat <<EOF\n$HOME ${x:-1} "a $(ls)" `pwd`\nEOF\nif [[ -n "$1" ]]; then echo \'hi\'; fi # c\n',
    "c": '#include <stdio.h>\n/* block\n comment */\nint main(void) { char *s = "a\\n"; return 0x1fUL; }\n',
    "javascript": 'const re = /a[/]b/gi; let t = `x ${y + `z`}`; // c\nclass A extends B { #p = 1; }\n',
    "html": '<!DOCTYPE html><script>var x = "<b>";</script><style>a { color: red }</style><p a=b>t</p>\n',
    "ini": "[section]\nkey = value ; comment\n",
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_other_lexers_match_pygments(name):
    pygments_lexer, fast = both(name)
    assert tokens(fast, SNIPPETS[name]) == tokens(pygments_lexer, SNIPPETS[name])


def test_pygments_lexes_until_the_warm_up_is_over():
    lexer = fast_lexer_class(type(get_lexer_by_name("python")), warm_up_chars=10)()
    driver = lexer._litdoc_driver
    assert tokens(lexer, "x = 1\n") and driver.states is None
    assert tokens(lexer, "y = 2\n") and driver.states is not None


def test_a_lexer_with_its_own_driver_is_left_to_pygments():
    assert fast_lexer_class(YamlLexer) is YamlLexer  # an ExtendedRegexLexer


def test_first_character_tests():
    digits = _rule_tests(re.compile(r"(?<!\.)\d+(?:_\d+)*", re.M))
    assert _may_begin(digits, "7") and not _may_begin(digits, "x") and not _may_begin(digits, "")
    keyword = _rule_tests(re.compile(r"(def|class)\b"))
    assert [c for c in "dcx" if _may_begin(keyword, c)] == ["d", "c"]
    spaced = _rule_tests(re.compile(r"^(\s*)([rb]{,2})(\"\"\")", re.M))
    assert [c for c in ' \tr"x' if _may_begin(spaced, c)] == [" ", "\t", "r", '"']
    not_newline = _rule_tests(re.compile(r"[^\S\n]+"))
    assert _may_begin(not_newline, " ") and not _may_begin(not_newline, "\n") and not _may_begin(not_newline, "a")
    # Unknown: a rule that may match nothing, or folds case, may begin with anything.
    assert _rule_tests(re.compile(r"a*")) is None
    assert _rule_tests(re.compile(r"(?i)k")) is None
