"""`litdoc.delimiters` against the tables it was first written with (one entry per position of the text,
kept here as the reference): the same spans for every text, at a cost that grows with the text's special
characters, not its length."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from litdoc import delimiters
from litdoc.delimiters import NONE, Delimiters, math_spans

# Texts made of what the tables react to: dollars, braces, backslashes, backticks, digits, spaces,
# environments, and a few letters.
_PIECES = [
    "$",
    "$$",
    "{",
    "}",
    "\\",
    "\\$",
    "\\{",
    "`",
    "``",
    "\\`",
    "1",
    "5",
    " ",
    "\n",
    "x",
    "ab",
    "\\begin{a}",
    "\\end{a}",
    "\\begin{b}",
    "\\end{b}",
    "\\\\begin{a}",
]
texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_every_position_opens_the_same_math_as_the_per_position_tables(text):
    new, old = Delimiters(text), ReferenceDelimiters(text)
    assert new.spans() == old.spans()
    for pos in range(len(text) + 1):
        for limit in (None, len(text) - 1, pos + 3):
            assert new.span_at(pos, limit) == old.span_at(pos, limit), (text, pos, limit)


def test_the_spans_of_prose_with_math_and_money():
    text = "At $3 the ratio is $2x + 1$; `$a$` is code, $\\text{a $ b}$ one formula, \\$5 a price, $$x$$."
    assert [text[start:end] for start, end in math_spans(text)] == ["$2x + 1$", "$\\text{a $ b}$", "$$x$$"]


def test_the_cost_grows_with_the_special_characters_not_the_length():
    """A long paragraph of plain prose with one formula costs little more than a short one."""

    def seconds(text: str) -> float:
        started = time.process_time()
        for _ in range(20):
            Delimiters(text).spans()
        return time.process_time() - started

    short, long = "word " * 100 + "$x$", "word " * 20_000 + "$x$"  # 200 times as long
    seconds(short)
    # The per-position tables took about 200 times as long on the long text; a regex pass over it is
    # C-speed (about 100 KB in well under a millisecond), so 20 builds stay far under the 50x allowed.
    assert seconds(long) < 50 * max(seconds(short), 0.002)


# -- the reference: litdoc 0.2.0's code, unchanged but for its name ------------------------------------


class ReferenceDelimiters:
    """litdoc 0.2.0's `Delimiters`: a table entry for every position of the text."""

    def __init__(self, text: str):
        self.text = text
        n = len(text)
        self._n = n
        brace_match = _match_braces(text)
        # close_single[p] / close_double[p]: the first `$` / `$$` closing a formula whose body
        # starts at p with brace depth zero (NONE if none). Built right to left, so each
        # position is visited once; a brace group is jumped over through its match.
        close_single = [NONE] * (n + 2)
        close_double = [NONE] * (n + 2)
        # bare_dollar[p]: the first `$` at depth zero from p, whatever follows it.
        bare_dollar = [NONE] * (n + 2)
        for p in range(n - 1, -1, -1):
            char = text[p]
            if char == "\\":
                after = p + 2 if p + 2 <= n else n + 1
                close_single[p], close_double[p], bare_dollar[p] = (
                    close_single[after],
                    close_double[after],
                    bare_dollar[after],
                )
            elif char == "{":
                match = brace_match.get(p)
                after = match + 1 if match is not None else n + 1
                close_single[p], close_double[p], bare_dollar[p] = (
                    close_single[after],
                    close_double[after],
                    bare_dollar[after],
                )
            elif char == "$":
                following = text[p + 1] if p + 1 < n else ""
                close_single[p] = close_single[p + 1] if following.isdigit() else p
                close_double[p] = p if following == "$" else close_double[p + 1]
                bare_dollar[p] = p
            else:
                close_single[p] = close_single[p + 1]
                close_double[p] = close_double[p + 1]
                bare_dollar[p] = bare_dollar[p + 1]
        self._close_single = close_single
        self._close_double = close_double
        self._bare_dollar = bare_dollar
        self._code_runs, self._next_code = _code_spans(text)
        self._environments = delimiters._environments(text)

    # -- what opens at a position ----------------------------------------------------------------

    def span_at(self, pos: int, limit: int | None = None) -> tuple[int, int, int, bool] | None:
        """Math opening at `pos`, ending at or before `limit`: (end, body start, body end, display),
        or None when what stands at `pos` is text."""
        text, limit = self.text, self._n if limit is None else limit
        if text.startswith("\\begin{", pos):
            return self._environment_at(pos, limit)
        if not text.startswith("$", pos):
            return None
        display = text.startswith("$$", pos)
        width = 2 if display else 1
        body = pos + width
        if display:
            close = self._close_double[body] if body <= self._n else NONE
        else:
            following = text[body] if body < self._n else ""
            if not following or following.isspace():
                return None
            close = self._close_single[body]
        if close == NONE or close == body or close + width > limit:
            return None
        if self._next_code[body] < close:
            return None  # Markdown would make a code span inside: the `$` is prose
        if not display and text[body].isdigit() and (text[close - 1].isspace() or self._bare_dollar[body] < close):
            # `$5 per hour on $n$`, `At $3 the ratio is $2x + 1$`: money, then math. A formula holds
            # no bare `$`; this one only skipped it because a digit followed.
            return None
        return close + width, body, close, display

    def _environment_at(self, pos: int, limit: int) -> tuple[int, int, int, bool] | None:
        entry = self._environments.get(pos)
        if entry is None or entry > limit:
            return None
        return entry, pos, entry, True

    # -- a paragraph, scanned as markdown-it's inline pass will scan it ------------------------

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) of every formula, left to right, skipping backslash escapes and code spans
        as Markdown's inline pass does. Used to tell which lines of a paragraph lie inside math."""
        text, n = self.text, self._n
        found: list[tuple[int, int]] = []
        i = 0
        while i < n:
            char = text[i]
            if char == "\\":
                span = self._environment_at(i, n) if text.startswith("\\begin{", i) else None
                if span:
                    found.append((i, span[0]))
                    i = span[0]
                else:
                    i += 2
            elif char == "`":
                i = self._code_runs.get(i, i + _run_length(text, i))
            elif char == "$":
                span = self.span_at(i)
                if span:
                    found.append((i, span[0]))
                    i = span[0]
                else:
                    i += 1
            else:
                i += 1
        return found


def _match_braces(text: str) -> dict[int, int]:
    """`{` position -> its `}`; escaped braces are text, an unmatched `}` is ignored (MathJax)."""
    match: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            stack.append(i)
        elif char == "}" and stack:
            match[stack.pop()] = i
        i += 1
    return match


def _run_length(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end] == "`":
        end += 1
    return end - pos


def _code_spans(text: str) -> tuple[dict[int, int], list[int]]:
    """({opening run position: end of its closing run}, next_code) where next_code[p] is the first
    position >= p where a code span opens (len(text) + 1 if none).

    A run of n backticks opens a code span when a later run of exactly n backticks closes it
    (CommonMark); the runs between are part of the span."""
    n = len(text)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if text[i] == "\\" and i + 1 < n and text[i + 1] == "`":
            i += 2  # an escaped backtick opens nothing
            continue
        if text[i] == "`":
            length = _run_length(text, i)
            runs.append((i, length))
            i += length
        else:
            i += 1
    # next_same[k]: the index of the next run with run k's length (None if none).
    next_same: list[int | None] = [None] * len(runs)
    latest: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1]
        next_same[index] = latest.get(length)
        latest[length] = index
    # Pair left to right: an opening run takes the next run of its length; runs inside a span open nothing.
    closes: dict[int, int] = {}
    consumed_until = -1
    for index, (position, length) in enumerate(runs):
        partner = next_same[index]
        if position < consumed_until or partner is None:
            continue
        closes[position] = runs[partner][0] + length
        consumed_until = closes[position]
    next_code = [n + 1] * (n + 2)
    for p in range(n - 1, -1, -1):
        next_code[p] = p if p in closes else next_code[p + 1]
    return closes, next_code
