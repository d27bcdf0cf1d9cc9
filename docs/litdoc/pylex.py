# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Python source to (css class, text) tokens, with one regular expression per lexer state.

The code column is coloured with Pygments' style sheets, so its tokens carry Pygments' short class
names (`k` keyword, `nf` function name, `s2` double-quoted string, ...). The rules are those of
Pygments' `PythonLexer` as of Pygments 2.21 (BSD-2-Clause; its states, in the same order, are named in
the comments below), written out here for two reasons:

- **Speed.** Pygments tries a state's rules one regular expression at a time, ~30 tries at a name in
  the root state. Here each state's rules are one alternation, `rule0()|rule1()|...`, so one match
  finds the first rule that matches, which is the rule Pygments picks (the order is kept), and the
  empty group that closes it (`lastindex`) says which. Each alternative starts with a literal or a
  character class where it can, which lets the regex engine skip it by its first character. A name is
  matched once and looked up in sets instead of trying each word list in turn.
- **Reproducible pages.** The colours no longer depend on which Pygments release the builder has:
  the rules are fixed here, and nothing reads the running Python's tokenizer or keyword list.

`tests/test_pylex.py` checks the tokens against Pygments' `PythonLexer` on the standard library and on
constructs written for each rule.
"""

from __future__ import annotations

import re
from typing import Callable, Union

__all__ = ["python_tokens"]

Token = tuple[str, str]  # (Pygments' short css class, text)

# How a rule turns its match into tokens: one class for the whole match, one class per group (None:
# that group is not emitted; an empty group never is), or a function of the match and the number of
# the rule's first own group in it.
# Pushed state names, or "#pop", applied in order after the rule's tokens.
Transition = tuple[str, ...]
# A function may also go on past the match and change state: it returns (transition, new position).
Action = Union[
    str,
    tuple[Union[str, None], ...],
    Callable[["re.Match[str]", int, list[Token]], Union[tuple[Transition, int], None]],
]

# An identifier. Pygments uses Unicode's XID_Start XID_Continue*; this is Python's `\w` word not
# starting with a digit, which differs only on rare characters: a combining mark or variation selector
# inside a name (XID_Continue, not `\w`) is `err` here, and a superscript digit or vulgar fraction (`\w`,
# not XID) is part of the name.
_NAME = r"[^\W\d]\w*"
_SPACE = r"(?:\s|\\\s)+"
_SPACE_AFTER = re.compile(_SPACE).match

# --- The classifications of a name (Pygments' word lists, matched as whole names) -------------------
# Keywords of the root state (statements), and of expressions (also inside f-string replacements).
_ROOT_KEYWORDS = frozenset(
    "assert async await break continue del elif else except finally for global if lambda pass raise "
    "nonlocal return try while yield as with".split()
)
_EXPR_KEYWORDS = frozenset("await else for if lambda yield".split())
_CONSTANTS = frozenset(("True", "False", "None"))
_OPERATOR_WORDS = frozenset("in is and or not".split())
_BUILTINS = frozenset(
    "__import__ abs aiter all any bin bool bytearray breakpoint bytes callable chr classmethod compile "
    "complex delattr dict dir divmod enumerate eval filter float format frozendict frozenset getattr "
    "globals hasattr hash hex id input int isinstance issubclass iter len list locals map max memoryview "
    "min next object oct open ord pow print property range repr reversed round sentinel set setattr "
    "slice sorted staticmethod str sum super tuple type vars zip".split()
)
_PSEUDO = frozenset(("self", "Ellipsis", "NotImplemented", "cls"))
_EXCEPTIONS = frozenset(
    "ArithmeticError AssertionError AttributeError BaseException BufferError BytesWarning "
    "DeprecationWarning EOFError EnvironmentError Exception FloatingPointError FutureWarning "
    "GeneratorExit IOError ImportError ImportWarning IndentationError IndexError KeyError "
    "KeyboardInterrupt LookupError MemoryError NameError NotImplementedError OSError OverflowError "
    "PendingDeprecationWarning ReferenceError ResourceWarning RuntimeError RuntimeWarning StopIteration "
    "SyntaxError SyntaxWarning SystemError SystemExit TabError TypeError UnboundLocalError "
    "UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError UnicodeWarning UserWarning "
    "ValueError VMSError Warning WindowsError ZeroDivisionError BlockingIOError ChildProcessError "
    "ConnectionError BrokenPipeError ConnectionAbortedError ConnectionRefusedError ConnectionResetError "
    "FileExistsError FileNotFoundError InterruptedError IsADirectoryError NotADirectoryError "
    "PermissionError ProcessLookupError TimeoutError StopAsyncIteration ModuleNotFoundError "
    "RecursionError EncodingWarning".split()
)
_MAGIC_FUNCTIONS = frozenset(
    "__abs__ __add__ __aenter__ __aexit__ __aiter__ __and__ __anext__ __await__ __bool__ __bytes__ "
    "__call__ __complex__ __contains__ __del__ __delattr__ __delete__ __delitem__ __dir__ __divmod__ "
    "__enter__ __eq__ __exit__ __float__ __floordiv__ __format__ __ge__ __get__ __getattr__ "
    "__getattribute__ __getitem__ __gt__ __hash__ __iadd__ __iand__ __ifloordiv__ __ilshift__ "
    "__imatmul__ __imod__ __imul__ __index__ __init__ __instancecheck__ __int__ __invert__ __ior__ "
    "__ipow__ __irshift__ __isub__ __iter__ __itruediv__ __ixor__ __le__ __len__ __length_hint__ "
    "__lshift__ __lt__ __matmul__ __missing__ __mod__ __mul__ __ne__ __neg__ __new__ __next__ __or__ "
    "__pos__ __pow__ __prepare__ __radd__ __rand__ __rdivmod__ __repr__ __reversed__ __rfloordiv__ "
    "__rlshift__ __rmatmul__ __rmod__ __rmul__ __ror__ __round__ __rpow__ __rrshift__ __rshift__ "
    "__rsub__ __rtruediv__ __rxor__ __set__ __setattr__ __setitem__ __str__ __sub__ __subclasscheck__ "
    "__truediv__ __xor__".split()
)
_MAGIC_VARIABLES = frozenset(
    "__annotations__ __bases__ __class__ __closure__ __code__ __defaults__ __dict__ __doc__ __file__ "
    "__func__ __globals__ __kwdefaults__ __module__ __mro__ __name__ __objclass__ __qualname__ __self__ "
    "__slots__ __weakref__".split()
)
# Python's lowercase keywords: after `match` or `case` they mean it is a name, not a soft keyword.
_LOWER_KEYWORDS = (
    "and as assert async await break class continue def del elif else except finally for from global if "
    "import in is lambda nonlocal not or pass raise return try while with yield"
)


def _expression_class(text: str, start: int, name: str) -> str:
    """The class Pygments' `expr` rules give a name at `start`: operator words, expression keywords,
    constants, then builtins, pseudo-builtins and exceptions unless an attribute (after a `.`), then
    magic methods and variables, else a plain name."""
    if name in _OPERATOR_WORDS:
        return "ow"
    if name in _EXPR_KEYWORDS:
        return "k"
    if name in _CONSTANTS:
        return "kc"
    if start == 0 or text[start - 1] != ".":
        if name in _BUILTINS:
            return "nb"
        if name in _PSEUDO:
            return "bp"
        if name in _EXCEPTIONS:
            return "ne"
    if name in _MAGIC_FUNCTIONS:
        return "fm"
    if name in _MAGIC_VARIABLES:
        return "vm"
    return "n"


# The root state's rules that start with a word and go on with white space: the word's class and the
# state they enter (Pygments' `(def)((?:\s|\\\s)+)` and its kin, tried before the `expr` rules).
_HEADS = {
    "def": ("k", "funcname"),
    "class": ("k", "classname"),
    "from": ("kn", "fromimport"),
    "import": ("kn", "import"),
}


def _root_name(match: re.Match[str], group: int, out: list[Token]) -> tuple[Transition, int] | None:
    """A name in the root state: a statement's head (`def f`), Pygments' `keywords`, or an expression's
    name. (A name rule is the whole match, so `match.group()` is the name.)"""
    name = match.group()
    head = _HEADS.get(name)
    if head is not None:
        space = _SPACE_AFTER(match.string, match.end())
        if space is not None:
            out.append((head[0], name))
            out.append(("w", space.group()))
            return (head[1],), space.end()
    if name in _ROOT_KEYWORDS:
        out.append(("k", name))
    elif name in _CONSTANTS:
        out.append(("kc", name))
    else:
        out.append((_expression_class(match.string, match.start(), name), name))
    return None


def _expr_name(match: re.Match[str], group: int, out: list[Token]) -> None:
    name = match.group()
    out.append((_expression_class(match.string, match.start(), name), name))


def _function_name(match: re.Match[str], group: int, out: list[Token]) -> tuple[Transition, int]:
    """Pygments' `funcname` state: a magic method's name is `fm` and the state stays (to pop at what
    follows, by its default rule); any other name is `nf` and pops it."""
    name = match.group()
    if name in _MAGIC_FUNCTIONS:
        out.append(("fm", name))
        return (), match.end()
    out.append(("nf", name))
    return ("#pop",), match.end()


_WHITE_RUN = re.compile(r"\s+").match
_TO_UNDERSCORE = re.compile(r"[^\n_]*").match
_WORD_CHARACTER = re.compile(r"\w").match


def _soft_keyword(match: re.Match[str], group: int, out: list[Token]) -> tuple[Transition, int]:
    """`match` or `case` opening a line (after its indentation), then Pygments' `soft-keywords-inner`,
    `(\\s+)([^\\n_]*)(_\\b)`: the white space, the text before the first `_` of the line (lexed on
    its own from the root state) and that `_`, if it stands alone; else nothing. Found without the
    regex's backtracking, which is quadratic in the white space: the longest white space is the only
    one that can match (`[^\\n_]*` takes any shorter one's rest up to the same character)."""
    text = match.string
    head = match.group()
    keyword = head.lstrip(" \t")
    if len(keyword) < len(head):
        out.append(("", head[: len(head) - len(keyword)]))
    out.append(("k", keyword))
    white = _WHITE_RUN(text, match.end())
    if white is None:
        return (), match.end()
    middle = _TO_UNDERSCORE(text, white.end())
    assert middle is not None  # `*`: it always matches
    underscore = middle.end()
    if text[underscore : underscore + 1] != "_" or _WORD_CHARACTER(text, underscore + 1):
        return (), match.end()
    out.append(("w", white.group()))
    if middle.group():
        out.extend(python_tokens(middle.group(), final_newline=False))
    out.append(("k", "_"))
    return (), underscore + 1


# A string's quote, and the state of its body by prefix, as Pygments' rules choose it in this order:
# raw f- and t-strings, f- and t-strings, raw strings and bytes, strings, bytes.
_QUOTES = {'"""': "tdq", "'''": "tsq", '"': "dq", "'": "sq"}


def _string_opening(match: re.Match[str], group: int, out: list[Token]) -> tuple[Transition, int]:
    text = match.group()
    prefix = text.rstrip("\"'")
    quote = text[len(prefix) :]
    kind = _QUOTES[quote]
    lower = prefix.lower()
    if lower in ("rf", "fr", "rt", "tr"):
        body = f"rfstringescape+{kind}f"
    elif lower in ("f", "t"):
        body = f"fstringescape+{kind}f"
    elif lower in ("r", "rb", "br"):
        body = f"{kind}s"
    elif lower == "b":
        body = f"bytesescape+{kind}s"
    else:
        body = f"stringescape+{kind}s"
    if prefix:
        out.append(("sa", prefix))
    out.append(("s2" if quote[0] == '"' else "s1", quote))
    return (body,), match.end()


# --- The rules, state by state ---------------------------------------------------------------------
_Rule = tuple[str, Action, Transition]
_QUOTE = "(?:\"\"\"|'''|\"|')"
_EXPONENT = r"(?:[eE][+-]?\d(?:_?\d)*)?"


def _expr(name_action: Action, two_words: list[str]) -> list[_Rule]:
    """Pygments' `expr` state; names are one rule, classified by `name_action`. A rule whose regex
    would start with a group or a `|` is split, so that each alternative starts with a character or a
    character class."""
    return [
        # strings: legal prefixes only (`ub"x"` is the name `ub`, then a string)
        (rf"[rR][fFtTbB]?{_QUOTE}", _string_opening, ()),
        (rf"[fFtTbB][rR]?{_QUOTE}", _string_opening, ()),
        (rf"[uU]{_QUOTE}", _string_opening, ()),
        ('"(?:"")?', _string_opening, ()),
        ("'(?:'')?", _string_opening, ()),
        (r"[^\S\n]+", "", ()),
        # numbers; Pygments' first float rule, `(\d…\.(\d…)?|(\d…)?\.\d…)(exponent)?`, is the first two
        (rf"\d(?:_?\d)*\.(?:\d(?:_?\d)*)?{_EXPONENT}", "mf", ()),
        (rf"\.\d(?:_?\d)*{_EXPONENT}", "mf", ()),
        (r"\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*j?", "mf", ()),
        (r"0[oO](?:_?[0-7])+", "mo", ()),
        (r"0[bB](?:_?[01])+", "mb", ()),
        (r"0[xX](?:_?[a-fA-F0-9])+", "mh", ()),
        (r"\d(?:_?\d)*", "mi", ()),
        *((re.escape(operator), "o", ()) for operator in ("!=", "==", "<<", ">>", ":=")),
        (r"[-~+/*%=<>&^|.]", "o", ()),
        (r"[]{}:(),;[]", "p", ()),
        *((rf"{re.escape(words)}\b", "k", ()) for words in two_words),  # keywords of two words
        (_NAME, name_action, ()),
        ("@" + _NAME, "nd", ()),
        ("@", "o", ()),
    ]


_STRING_ESCAPES: list[_Rule] = [(r"\\(?:N\{.*?\}|u[a-fA-F0-9]{4}|U[a-fA-F0-9]{8})", "se", ())]
_BYTES_ESCAPES: list[_Rule] = [(r"\\(?:[\\abfnrtv\"']|\n|x[a-fA-F0-9]{2}|[0-7]{1,3})", "se", ())]
_BRACE_ESCAPES: list[_Rule] = [(r"\{\{", "se", ()), (r"\}\}", "se", ())]


def _string_body(css: str) -> list[_Rule]:
    """Pygments' `innerstring_rules`: %-formatting and str.format fields are interpolations."""
    return [
        (r"%(?:\(\w+\))?[-#0 +]*(?:[0-9]+|[*])?(?:\.(?:[0-9]+|[*]))?[hlL]?[E-GXc-giorsaux%]", "si", ()),
        (
            r"\{(?:\w+(?:\.\w+|\[[^\]]+\])*)?(?:\![sra])?(?:\:(?:.?[<>=\^])?[-+ ]?#?0?(?:\d+)?,?(?:\.\d+)?"
            r"[E-GXb-gnosx%]?)?\}",
            "si",
            (),
        ),
        (r"[^\\'\"%{\n]+", css, ()),
        (r"['\"\\]", css, ()),
        ("%", css, ()),
        (r"\{{1,2}", css, ()),
    ]


def _fstring_body(css: str) -> list[_Rule]:
    """Pygments' `fstring_rules`: a `{` opens a replacement field, lexed as an expression."""
    return [
        (r"\}", "si", ()),
        (r"\{", "si", ("expr-inside-fstring",)),
        (r"[^\\'\"{}\n]+", css, ()),
        (r"['\"\\]", css, ()),
    ]


def _quoted(kind: str) -> list[_Rule]:
    """The body of one kind of string: `dqs`, `tsqf`, ... (quote, then `s` plain or `f` formatted)."""
    quote = next(quote for quote, body in _QUOTES.items() if body == kind[:-1])
    css = "s2" if quote[0] == '"' else "s1"
    body = _fstring_body(css) if kind.endswith("f") else _string_body(css)
    if len(quote) == 3:
        return [(re.escape(quote), css, ("#pop",)), *body, (r"\n", css, ())]
    escapes: list[_Rule] = [(re.escape(escape), "se", ()) for escape in ("\\\\", "\\" + quote, "\\\n")]
    return [(re.escape(quote), css, ("#pop",)), *escapes, *body]


def _rules() -> dict[str, list[_Rule]]:
    lower_keywords = "|".join(_LOWER_KEYWORDS.split())
    expr_in_fstring = _expr(_expr_name, ["async for", "yield from"])
    states: dict[str, list[_Rule]] = {
        "root": [
            (r"\n", "w", ()),
            # A docstring opening a line. Pygments' `^(\s*)` also takes the white space of blank lines
            # before it, looking ahead past every blank line at each of them (quadratic in a run of
            # blank lines); here it is the line's own indentation, which is what the page differs by:
            # the white space of blank lines, in another class, never shown (see highlight.line_html).
            (r'^([^\S\n]*)([rRuUbB]{,2})("""[\s\S]*?""")', ("w", "sa", "sd"), ()),
            (r"^([^\S\n]*)([rRuUbB]{,2})('''[\s\S]*?''')", ("w", "sa", "sd"), ()),
            (r"\A#!.+$", "ch", ()),
            (r"#.*$", "c1", ()),
            (r"\\\n", "", ()),
            (r"\\", "", ()),
            # soft keywords: `match` or `case` opening a line, unless what follows makes it a name
            (
                rf"^[ \t]*(?:match|case)\b(?![ \t]*(?:[:,;=^&|@~)\]}}]|(?:{lower_keywords})\b))",
                _soft_keyword,
                (),
            ),
            (rf"^(lazy)({_SPACE})(from)({_SPACE})", ("kn", "w", "kn", "w"), ("fromimport",)),
            (rf"^(lazy)({_SPACE})(import)({_SPACE})", ("kn", "w", "kn", "w"), ("import",)),
            *_expr(_root_name, ["yield from"]),  # def, class, from and import: see _root_name
        ],
        "expr-inside-fstring": [
            (r"[{([]", "p", ("expr-inside-fstring-inner",)),
            (r"(?:=\s*)?(?:\![sraf])?\}", "si", ("#pop",)),
            (r"(?:=\s*)?(?:\![sraf])?:", "si", ("#pop",)),
            (r"\s+", "w", ()),
            *expr_in_fstring,
        ],
        "expr-inside-fstring-inner": [
            (r"[{([]", "p", ("expr-inside-fstring-inner",)),
            (r"[])}]", "p", ("#pop",)),
            (r"\s+", "w", ()),
            *expr_in_fstring,
        ],
        "funcname": [(_NAME, _function_name, ()), ("", "", ("#pop",))],
        "classname": [(_NAME, "nc", ("#pop",))],
        "import": [
            (r"(\s+)(as)(\s+)", ("w", "k", "w"), ()),
            (r"\.", "nn", ()),
            (_NAME, "nn", ()),
            (r"(\s*)(,)(\s*)", ("w", "o", "w"), ()),
            ("", "", ("#pop",)),
        ],
        "fromimport": [
            (r"(\s+)(import)\b", ("w", "kn"), ("#pop",)),
            (r"\.", "nn", ()),
            (r"None\b", "kc", ("#pop",)),
            (_NAME, "nn", ()),
            ("", "", ("#pop",)),
        ],
    }
    escapes = {
        "rfstringescape": _BRACE_ESCAPES,
        "fstringescape": _BRACE_ESCAPES + _STRING_ESCAPES + _BYTES_ESCAPES,
        "stringescape": _STRING_ESCAPES + _BYTES_ESCAPES,
        "bytesescape": _BYTES_ESCAPES,
    }
    for kind in ("tdq", "tsq", "dq", "sq"):
        states[f"{kind}s"] = _quoted(f"{kind}s")
        for escape in ("rfstringescape", "fstringescape"):
            states[f"{escape}+{kind}f"] = escapes[escape] + _quoted(f"{kind}f")
        for escape in ("stringescape", "bytesescape"):
            states[f"{escape}+{kind}s"] = escapes[escape] + _quoted(f"{kind}s")
    return states


class _State:
    """One state's rules as one alternation `rule0(?P<end0>)|rule1(?P<end1>)|...`: the empty group closing an
    alternative is the last group to close when it matches, so `lastindex` names the rule, and the
    rule's own groups are the ones just before it. `rules[g]`: (the rule's first own group, its
    action, its transition) for the closing group g."""

    __slots__ = ("match", "rules")

    def __init__(self, rules: list[_Rule]) -> None:
        # Named closing groups: the compiled alternation numbers them, and each rule's own groups are
        # the ones after the previous rule's closing group (no rule is compiled on its own).
        pattern = re.compile("|".join(f"{rule}(?P<end{index}>)" for index, (rule, _, _) in enumerate(rules)), re.M)
        self.rules: list[tuple[int, Action, Transition]] = [(0, "", ())] * (pattern.groups + 1)
        first = 1
        for index, (_, action, transition) in enumerate(rules):
            end = pattern.groupindex[f"end{index}"]
            self.rules[end] = (first, action, transition)
            first = end + 1
        self.match = pattern.match


_STATES: dict[str, _State] = {}


def python_tokens(text: str, final_newline: bool = True) -> list[Token]:
    """(css class, text) tokens covering `text` (as Pygments prepares it when `final_newline`: a byte
    order mark is dropped, `\\r\\n` and `\\r` become `\\n`, and a final `\\n` is added). Every character is in exactly
    one token, in order; a character no rule takes is `err`, and a line end it meets goes back to the
    root state, as in Pygments."""
    if not _STATES:
        _STATES.update((name, _State(rules)) for name, rules in _rules().items())
    if final_newline:
        if text.startswith("\ufeff"):
            text = text[1:]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text.endswith("\n"):
            text += "\n"
    states = _STATES
    root = states["root"]
    stack = [root]
    state = root
    out: list[Token] = []
    append = out.append
    position = 0
    end = len(text)
    while position < end:
        match = state.match(text, position)
        if match is None:
            if text[position] == "\n":
                stack = [root]
                state = root
                append(("w", "\n"))
            else:
                append(("err", text[position]))
            position += 1
            continue
        first, action, transition = state.rules[match.lastindex]  # type: ignore[index]
        if type(action) is str:
            if match.end() > position:
                append((action, match.group()))
            position = match.end()
        elif type(action) is tuple:
            for offset, css in enumerate(action):
                if css is not None:
                    value = match.group(first + offset)
                    if value:
                        append((css, value))
            position = match.end()
        else:
            moved = action(match, first, out)  # type: ignore[operator]
            if moved is None:
                position = match.end()
            else:
                transition, position = moved
        if transition:
            for step in transition:
                if step == "#pop":
                    if len(stack) > 1:
                        stack.pop()
                else:
                    stack.append(states[step])
            state = stack[-1]
    return out
