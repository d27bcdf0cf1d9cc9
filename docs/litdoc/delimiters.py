# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Where the math is: TeX delimiters found the way MathJax finds them, in linear time.

Authors write for MathJax configured with `$...$` and `$$...$$` (and `processEscapes`,
`processEnvironments`), so litdoc accepts what MathJax typesets there, and leaves as text what
MathJax leaves as text:

* An opening delimiter is closed by the first matching delimiter **outside braces**: MathJax
  counts `{` and `}` (skipping `\\{`, `\\}` and every other backslash pair) and only accepts a
  closing delimiter at depth zero, so `$\\text{a $ b}$` is one formula.
* Math may span lines, and the closing `$` may follow a space (`$(x V + b) $`).
* A backslash escapes the next character: `\\$` is a literal dollar.
* `\\begin{name} ... \\end{name}` is display math wherever it stands.
* A dollar that nothing closes is a literal dollar, with no error, as MathJax leaves it.

Three departures, each because Markdown prose uses `$` for money far more often than it
writes math that these rules would reject:

* `$` followed by a space does not open math (`costs $ 5`); MathJax would open there.
* `$` followed by a digit does not close math (`$5 and $10` stays text), as Pandoc rules.
* A `$` followed by a digit that would close after a space, or past another bare `$`
  (`$5 per hour on $n$ GPUs`, `At $3 the ratio is $2x + 1$`), is money: it stays text, and
  the formula after it is math.

Markdown's code spans win over math, as they do when Markdown runs first: math whose body
holds a backtick run that Markdown would pair into a code span is not math. A lone backtick
(`$\\tau_{S`}$`) is just a character of the formula.

Everything here is computed once per paragraph in a few passes over its text, so finding all
the math of a paragraph costs time linear in its length, however many `$` it holds.
"""

from __future__ import annotations

import re

__all__ = ["Delimiters", "math_spans"]

NONE = -1
_ENVIRONMENT = re.compile(r"\\(begin|end)\{([^{}\\]*)\}")


class Delimiters:
    """Precomputed tables for one text: where math that opens at a position would close."""

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
        self._environments = _environments(text)

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


def math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every formula in `text`, delimiters included."""
    if "$" not in text and "\\begin{" not in text:
        return []
    return Delimiters(text).spans()


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


def _environments(text: str) -> dict[int, int]:
    """`\\begin{name}` position -> end of its `\\end{name}`, nesting of the same name counted."""
    if "\\begin{" not in text:
        return {}
    result: dict[int, int] = {}
    open_by_name: dict[str, list[int]] = {}
    for match in _ENVIRONMENT.finditer(text):
        if match.start() > 0 and text[match.start() - 1] == "\\":
            continue  # `\\begin`: a line break, then the word
        kind, name = match.group(1), match.group(2)
        if kind == "begin":
            open_by_name.setdefault(name, []).append(match.start())
        elif open_by_name.get(name):
            start = open_by_name[name].pop()
            if not open_by_name[name]:
                result[start] = match.end()  # only outermost environments are spans of their own
    return result
