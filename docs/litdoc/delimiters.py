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

import bisect
import re

__all__ = ["Delimiters", "math_spans"]

NONE = -1
_ENVIRONMENT = re.compile(r"\\(begin|end)\{([^{}\\]*)\}")


class Delimiters:
    """Tables for one text: where math that opens at a position would close.

    They are kept only at the text's special characters (`\\`, `{`, `$`, found by one regex): between two
    of them every position closes where the next one does, so `_after(table, p)` reads the entry of the
    first special character at or after p. A text's tables cost time in its special characters, not in
    its length."""

    def __init__(self, text: str):
        self.text = text
        n = len(text)
        self._n = n
        brace_match = _match_braces(text)
        # Positions of `\`, `{` and `$`, and per position (same index) three tables, built right to left:
        # close_single / close_double: the first `$` / `$$` closing a formula whose body starts there with
        # brace depth zero (NONE if none); bare_dollar: the first `$` at depth zero, whatever follows it.
        # A backslash pair is stepped over, a brace group jumped over through its match.
        specials = [found.start() for found in _SPECIAL.finditer(text)]
        count = len(specials)
        close_single = [NONE] * (count + 1)  # the entry at `count` stands for the end of the text
        close_double = [NONE] * (count + 1)
        bare_dollar = [NONE] * (count + 1)
        for index in range(count - 1, -1, -1):
            p = specials[index]
            char = text[p]
            if char == "$":
                following = text[p + 1] if p + 1 < n else ""
                close_single[index] = close_single[index + 1] if following.isdigit() else p
                close_double[index] = p if following == "$" else close_double[index + 1]
                bare_dollar[index] = p
                continue
            if char == "\\":
                # The entry for p + 2: the next special character, unless it is the escaped one at p + 1.
                after = index + 1 if index + 1 == count or specials[index + 1] >= p + 2 else index + 2
            else:  # "{"
                match = brace_match.get(p)
                after = bisect.bisect_left(specials, match + 1, index + 1) if match is not None else count
            close_single[index] = close_single[after]
            close_double[index] = close_double[after]
            bare_dollar[index] = bare_dollar[after]
        self._specials = specials
        self._close_single = close_single
        self._close_double = close_double
        self._bare_dollar = bare_dollar
        self._code_runs = _code_spans(text)
        self._code_opens = sorted(self._code_runs)
        self._environments = _environments(text)

    def _after(self, table: list[int], p: int) -> int:
        """`table`'s entry for position p: that of the first special character at or after p."""
        return table[bisect.bisect_left(self._specials, p)]

    def _next_code(self, p: int) -> int:
        """The first position >= p where a code span opens (past the end of the text if none)."""
        index = bisect.bisect_left(self._code_opens, p)
        return self._code_opens[index] if index < len(self._code_opens) else self._n + 1

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
            close = self._after(self._close_double, body) if body <= self._n else NONE
        else:
            following = text[body] if body < self._n else ""
            if not following or following.isspace():
                return None
            close = self._after(self._close_single, body)
        if close == NONE or close == body or close + width > limit:
            return None
        if self._next_code(body) < close:
            return None  # Markdown would make a code span inside: the `$` is prose
        if (
            not display
            and text[body].isdigit()
            and (text[close - 1].isspace() or self._after(self._bare_dollar, body) < close)
        ):
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
        search = _SCANNED.search
        i = 0
        while i < n:
            hit = search(text, i)
            if hit is None:
                break
            i = hit.start()
            char = text[i]
            if char == "\\":
                span = self._environment_at(i, n) if text.startswith("\\begin{", i) else None
                if span:
                    found.append((i, span[0]))
                    i = span[0]
                else:
                    i += 2
            elif char == "`":
                i = self._code_runs.get(i, hit.end())
            else:  # "$"
                span = self.span_at(i)
                if span:
                    found.append((i, span[0]))
                    i = span[0]
                else:
                    i += 1
        return found


_SPECIAL = re.compile(r"[\\{$]")
_SCANNED = re.compile(r"\\|`+|\$")  # what `spans` stops at: a backslash, a backtick run, a dollar
_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.DOTALL)
_BACKTICKS = re.compile(r"\\`|`+")


def math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every formula in `text`, delimiters included."""
    if "$" not in text and "\\begin{" not in text:
        return []
    return Delimiters(text).spans()


def _match_braces(text: str) -> dict[int, int]:
    """`{` position -> its `}`; escaped braces are text, an unmatched `}` is ignored (MathJax)."""
    match: dict[int, int] = {}
    stack: list[int] = []
    for found in _BRACE_OR_ESCAPE.finditer(text):
        char = found.group()
        if char == "{":
            stack.append(found.start())
        elif char == "}" and stack:
            match[stack.pop()] = found.start()
    return match


def _code_spans(text: str) -> dict[int, int]:
    """{opening run position: end of its closing run}.

    A run of n backticks opens a code span when a later run of exactly n backticks closes it
    (CommonMark); the runs between are part of the span."""
    runs = [(found.start(), len(found.group())) for found in _BACKTICKS.finditer(text) if found.group(0)[0] == "`"]
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
    return closes


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
