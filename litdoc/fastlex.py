"""A faster driver for Pygments' regex lexers that yields exactly the tokens Pygments' own does.

`RegexLexer.get_tokens_unprocessed` tries the rules of the current state one by one, in Python,
until one matches: on Python source that is some 35 failed `match` calls for every token, and most
of the time litdoc spends highlighting. This driver keeps Pygments' rules, order and state machine
and changes only how the first matching rule is found:

* a rule that cannot begin with the character at the current position is skipped. What a rule can
  begin with is read from the regex's parse (`re._parser`) and is an over-estimate: anything the
  analysis does not understand (case-insensitive rules, back-references, rules that can match the
  empty string) counts as "may begin with anything";
* the remaining rules are tried in one call of a regex that joins them in order as alternatives.
  An alternation takes the first alternative that matches at the position, which is the rule
  Pygments would take; a named group around each alternative says which one it was.

Rules that cannot be joined are tried one by one, as Pygments does; a lexer class that overrides
`get_tokens_unprocessed` is left to Pygments, and so is a process's first `WARM_UP_CHARS` of text.
The tokens are compared with Pygments' own in `tests/litdoc/test_fastlex.py`.
"""
from __future__ import annotations

import re
from functools import lru_cache
try:  # Python 3.11 moved the regex parser into the `re` package
    from re import _constants as sre, _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.9 and 3.10
    import sre_constants as sre
    import sre_parse
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from pygments.lexer import RegexLexer
from pygments.token import Error, Whitespace, _TokenType

__all__ = ["fast_lexer_class"]

Rule = Tuple[Callable, object, object]   # Pygments' processed rule: (regex.match, action, new state)
Test = Tuple[object, object]             # (sre opcode, argument) of what may come first
Joined = Tuple[Callable, Dict[int, Rule]]  # (joined regex.match, group number -> rule)

# Flags a scoped group `(?imsx-imsx:...)` can set; a rule with any other flag is not joined.
_SCOPED_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_JOINABLE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.UNICODE
# Flags written at the start of a pattern; the compiled regex's flags already say the same.
_LEADING_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")
# Group numbers shift when patterns are joined, so a pattern that may refer to one stays apart.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")
_RULE_GROUP = "_litdoc_rule_"
_CATEGORIES = {
    sre.CATEGORY_DIGIT: re.compile(r"\d"), sre.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre.CATEGORY_SPACE: re.compile(r"\s"), sre.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    sre.CATEGORY_WORD: re.compile(r"\w"), sre.CATEGORY_NOT_WORD: re.compile(r"\W"),
}


# A process lexes this many characters with Pygments' own loop before it sets this driver up: reading
# and joining the rules takes some 0.3 s for Python and pays off only over a lot of text (it saves
# about half a microsecond a character), so a rebuild of one page never waits for it.
WARM_UP_CHARS = 200_000


@lru_cache(maxsize=None)
def fast_lexer_class(lexer_class: type, warm_up_chars: int = WARM_UP_CHARS) -> type:
    """A subclass of `lexer_class` driven by this module, or `lexer_class` itself when it is not a
    plain `RegexLexer` (one with its own `get_tokens_unprocessed`, such as an `ExtendedRegexLexer`)."""
    if not issubclass(lexer_class, RegexLexer) or lexer_class.get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed:
        return lexer_class
    if "_tokens" not in lexer_class.__dict__:
        lexer_class()  # Pygments processes a class's rules when it first makes one
    if "_tokens" not in lexer_class.__dict__:
        return lexer_class  # rules processed later (`token_variants`): nothing to drive
    # The subclass shares the processed rules rather than processing them again.
    return type(lexer_class.__name__, (lexer_class,), {
        "_tokens": lexer_class._tokens,
        "_litdoc_driver": _Driver(warm_up_chars),
        "get_tokens_unprocessed": _get_tokens_unprocessed,
    })


# ---------------------------------------------------------------------------------------------
# What a rule may begin with
# ---------------------------------------------------------------------------------------------

class _Anything(Exception):
    """Raised by the analysis for a construct it does not follow: the rule may begin with anything."""


def _first_tests(items: Sequence[Tuple[object, object]]) -> Tuple[List[Test], bool]:
    """What the first character of a match of `items` (a parsed pattern) may be, as tests, and
    whether the match may be empty."""
    tests: List[Test] = []
    for op, arg in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: it can only rule characters out, never let more in
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN):
            tests.append((op, arg))
            return tests, False
        if op is sre.SUBPATTERN:
            _, add_flags, _, body = arg
            if add_flags & re.IGNORECASE:
                raise _Anything
            more, empty = _first_tests(body)
        elif op is sre.ATOMIC_GROUP:
            more, empty = _first_tests(arg)
        elif op is sre.BRANCH:
            more, empty = [], False
            for branch in arg[1]:
                branch_tests, branch_empty = _first_tests(branch)
                more += branch_tests
                empty = empty or branch_empty
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, _, body = arg
            more, empty = _first_tests(body)
            empty = empty or low == 0
        else:
            raise _Anything
        tests += more
        if not empty:
            return tests, False
    return tests, True


def _pattern(match: Callable) -> Optional[re.Pattern]:
    """The compiled regex behind a rule; None for a rule that matches some other way."""
    regex = getattr(match, "__self__", None)
    return regex if isinstance(regex, re.Pattern) else None


def _rule_tests(regex: Optional[re.Pattern]) -> Optional[List[Test]]:
    """Tests one of which the first character of any match passes; None: no such tests are known."""
    if regex is None or regex.flags & re.IGNORECASE:
        return None  # case folding has exceptions (the Kelvin sign is a "k"); not worth following
    try:
        tests, empty = _first_tests(sre_parse.parse(regex.pattern, regex.flags))
    except (_Anything, re.error):
        return None
    return None if empty else tests


def _in_class(items: Sequence[Tuple[object, object]], char: str) -> bool:
    code = ord(char)
    negate = hit = False
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            hit = hit or code == arg
        elif op is sre.RANGE:
            hit = hit or arg[0] <= code <= arg[1]
        elif op is sre.CATEGORY and arg in _CATEGORIES:
            hit = hit or _CATEGORIES[arg].match(char) is not None
        else:
            return True  # an item not followed here: assume it matches
    return hit != negate


def _may_begin(tests: Optional[List[Test]], char: str) -> bool:
    """False only when no match of the rule can begin with `char` ('' at the end of the text)."""
    if tests is None:
        return True
    if not char:
        return False  # a rule with tests cannot match the empty string
    for op, arg in tests:
        if op is sre.LITERAL and ord(char) == arg or op is sre.NOT_LITERAL and ord(char) != arg \
                or op is sre.IN and _in_class(arg, char):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Joining rules into one regex
# ---------------------------------------------------------------------------------------------

def _join(rules: Sequence[Rule]) -> Optional[Joined]:
    """One regex trying `rules` in order, or None when they cannot be joined without changing them."""
    parts = []
    for index, (match, _, _) in enumerate(rules):
        regex = _pattern(match)
        if regex is None or regex.flags & ~_JOINABLE_FLAGS or _GROUP_REFERENCE.search(regex.pattern):
            return None
        on = "".join(letter for flag, letter in _SCOPED_FLAGS if regex.flags & flag)
        off = "".join(letter for flag, letter in _SCOPED_FLAGS if not regex.flags & flag)
        # In verbose mode a `#` comment runs to the end of the line: end it before the `)`.
        end = "\n" if regex.flags & re.VERBOSE else ""
        parts.append(f"(?P<{_RULE_GROUP}{index}>(?{on}-{off}:{_LEADING_FLAGS.sub('', regex.pattern)}{end}))")
    try:
        joined = re.compile("|".join(parts) or "(?!)")
    except re.error:
        return None
    # The rule's group closes after any group inside it, so it is the match's `lastindex`.
    return joined.match, {joined.groupindex[f"{_RULE_GROUP}{i}"]: rule for i, rule in enumerate(rules)}


class _State:
    """One state's rules, with the joined regex of the rules that may begin with each character."""

    def __init__(self, rules: Sequence[Rule]):
        self.rules = rules
        self.tests: Optional[List[Optional[List[Test]]]] = None  # read on first use: most states never are
        self.by_char: Dict[str, Optional[Joined]] = {}
        self._by_subset: Dict[Tuple[int, ...], Optional[Joined]] = {}

    def joined(self, char: str) -> Optional[Joined]:
        if char not in self.by_char:
            if self.tests is None:
                self.tests = [_rule_tests(_pattern(match)) for match, _, _ in self.rules]
            subset = tuple(i for i, tests in enumerate(self.tests) if _may_begin(tests, char))
            if subset not in self._by_subset:
                self._by_subset[subset] = _join([self.rules[i] for i in subset])
            self.by_char[char] = self._by_subset[subset]
        return self.by_char[char]


class _Driver:
    """Per lexer class and process: the characters lexed so far, then the states once set up."""

    def __init__(self, warm_up_chars: int):
        self.warm_up_chars = warm_up_chars
        self.chars = 0
        self.states: Optional[Dict[str, _State]] = None


def _get_tokens_unprocessed(self, text, stack=("root",)):
    driver = self._litdoc_driver
    if driver.states is None:
        driver.chars += len(text)
        if driver.chars <= driver.warm_up_chars:
            return RegexLexer.get_tokens_unprocessed(self, text, stack)
        driver.states = {name: _State(rules) for name, rules in self._tokens.items()}
    return _fast_tokens(self, text, stack, driver.states)


def _fast_tokens(self, text, stack, states):
    """`RegexLexer.get_tokens_unprocessed` (Pygments 2.x), finding each state's first matching rule
    through `_State`; every other line does what Pygments' does."""
    pos = 0
    statestack = list(stack)
    state = states[statestack[-1]]
    while 1:
        char = text[pos:pos + 1]
        joined = state.by_char[char] if char in state.by_char else state.joined(char)
        if joined is not None:
            joined_match, rule_of_group = joined
            m = joined_match(text, pos)
            if m:
                rexmatch, action, new_state = rule_of_group[m.lastindex]
                if action is not None:
                    if type(action) is _TokenType:
                        yield pos, action, m.group()
                    else:
                        # A callback reads the rule's own groups: match the rule alone for it.
                        m = rexmatch(text, pos)
                        yield from action(self, m)
                pos = m.end()
        else:
            m = None
            for rexmatch, action, new_state in state.rules:
                m = rexmatch(text, pos)
                if m:
                    if action is not None:
                        if type(action) is _TokenType:
                            yield pos, action, m.group()
                        else:
                            yield from action(self, m)
                    pos = m.end()
                    break
        if m:
            if new_state is not None:
                # state transition
                if isinstance(new_state, tuple):
                    for name in new_state:
                        if name == '#pop':
                            if len(statestack) > 1:
                                statestack.pop()
                        elif name == '#push':
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(name)
                elif isinstance(new_state, int):
                    # pop, but keep at least one state on the stack
                    if abs(new_state) >= len(statestack):
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == '#push':
                    statestack.append(statestack[-1])
                else:
                    assert False, f"wrong state def: {new_state!r}"
                state = states[statestack[-1]]
        else:
            # No rule matched.
            try:
                if text[pos] == '\n':
                    # at EOL, reset state to "root"
                    statestack = ['root']
                    state = states['root']
                    yield pos, Whitespace, '\n'
                    pos += 1
                    continue
                yield pos, Error, text[pos]
                pos += 1
            except IndexError:
                break
