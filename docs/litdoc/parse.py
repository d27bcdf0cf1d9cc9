# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Cut a Python source file into doc/code sections.

Which line is a comment, which string is a docstring and where a `def` starts are
questions for Python's own `ast` and tokenizer, never for a line regex: `#` inside a string,
a triple-quoted string that is only an expression, and `"\\frac"` in a non-raw docstring
are all cases a line regex gets wrong. The tokens are read only once `ast.parse` has accepted
the source: from 3.12 by `tokenize` (Python's C tokenizer), before it by `_scan_tokens`, a
scanner of valid source that reads comments and strings as `tokenize` does, in far less time than
that version's pure-Python `tokenize` (tests/test_parse.py holds the two to the same reading).

The labml convention, as on the seed page:

* a run of full-line `#` comments documents the code that follows it;
* a `def`/`class` with a docstring forms a section of its own: decorators and signature in the
  code column, the docstring in the docs column; the body after the docstring starts a new section;
* the module docstring documents the code that follows it, and may open with front matter.

Every source line lands in exactly one section, either as a code line (with its original
number) or as a docs line (`Section.doc_lines`). Blank lines never start a section: a blank line
between two code lines of one section stays in the code, any other blank line is counted with
the docs, so the code column never opens or closes on empty lines.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Union

from litdoc.model import FrontMatter, LitdocError, ParsedModule, Section

__all__ = ["parse_module"]

# Token types that carry no code of their own: a line holding only these is blank or a comment.
_LAYOUT_TOKENS = frozenset(
    {
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
        tokenize.COMMENT,
        tokenize.ENCODING,
    }
)
_STRING_PREFIX = re.compile(r"^[rRuU]*")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$")

_CODE, _COMMENT, _DOCSTRING, _BLANK = "code", "comment", "docstring", "blank"


@dataclass(frozen=True)
class _Docstring:
    """A docstring that fills whole source lines, with the node it documents."""

    first: int  # first source line of the string token
    last: int  # last source line of the string token
    raw: str  # the token exactly as written, prefix and quotes included
    header_first: int  # first line of the decorators / `def` / `class`; == first for a module
    is_module: bool


def python_newlines(text: str) -> str:
    """`text` with every line ending written `\\n`, the ends being exactly Python's.

    Python ends a line at "\\r\\n", "\\r" or "\\n", and at nothing else (not at "\\f", "\\x85" or
    "\\u2028", which str.splitlines would also split at). A lone "\\r" read as part of a comment would
    hide the code after it from the code column while Python runs it; splitting exactly as Python's
    tokenizer does keeps every line Python executes, with its true number. Markdown pages use the
    same rule, so their line numbers in errors are the ones an editor shows.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_module(text: str, path: str) -> ParsedModule:
    """Parse `text` (the contents of `path`) into front matter and sections.

    Raises `LitdocError(path, line, reason)` when the source is not valid Python.
    """
    text = python_newlines(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the terminator of the last line, not a line of its own

    tree = _parse_ast(text, path)
    tokens = _read_tokens(text, path)
    kinds = _classify_lines(lines, tokens)
    docstrings = _find_docstrings(tree, tokens, lines)
    for doc in docstrings.values():
        for row in range(doc.first, doc.last + 1):
            kinds[row] = _DOCSTRING

    builder = _SectionBuilder(lines, kinds, docstrings, path)
    sections, front_matter = builder.build()
    title = page_title(front_matter, sections, _title_from_path(path))
    return ParsedModule(
        path=path,
        front_matter=FrontMatter(title=title, summary=front_matter.summary, fields=front_matter.fields),
        sections=tuple(sections),
        tree=tree,
    )


# ---------------------------------------------------------------------------------------------
# Reading the source with Python's own tools
# ---------------------------------------------------------------------------------------------


# How deep an expression may nest (operators chained without brackets, calls, subscripts and
# attributes one after the other, brackets) before the page is refused. Python 3.9 and 3.10 convert
# the parser's tree to `ast` objects by unguarded C recursion: `1 + 1 + ...` with 200,000 terms
# overflows the C stack and kills the process with SIGSEGV (no exception to catch). Python 3.12 and
# later refuse such code at about 3,000 ("maximum recursion depth exceeded during ast construction"),
# so no page that runs on them nests deeper; the bound leaves room for 3.9's threads on a 512 KiB stack.
MAX_NESTING = 3000
_TOO_DEEP = "too deeply nested to parse (Python's parser stack would overflow); split the expression"


def _parse_ast(text: str, path: str) -> ast.Module:
    if "\0" in text:  # the parser rejects NUL bytes without saying where they are
        line = text.count("\n", 0, text.index("\0")) + 1
        raise LitdocError(path, line, "syntax error: source contains a NUL byte")
    if sys.version_info < (3, 11):
        _check_nesting(text, path)  # before the parser can crash the interpreter
    try:
        # An invalid escape such as "\m" warns at compile time: the warning is given again with the
        # page's path (a warning from the parser names no file on 3.12 and later), once per line.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tree = ast.parse(text, filename=path)
    except SyntaxError as e:
        line, reason = e.lineno or 1, e.msg
        if "triple-quoted" in e.msg and "EOF while scanning" in e.msg:
            # Python 3.9 reports the end of the file, in its own words; 3.10+ (and the reader) want
            # where the string opens, which the tokenizer knows.
            line = _unterminated_string_row(text) or line
            reason = "unterminated triple-quoted string literal"
        raise LitdocError(path, line, f"syntax error: {reason}") from None
    except (RecursionError, MemoryError):
        # 3.11+: "maximum recursion depth exceeded during ast construction"; 3.9+: "parser stack
        # overflow" (a MemoryError). The source is too complex, which is the author's to fix.
        raise LitdocError(path, _deepest_row(text), _TOO_DEEP) from None
    seen = set()
    for warning in caught:
        # SyntaxWarning on 3.12 and later; before, an invalid escape is a DeprecationWarning.
        about_source = issubclass(warning.category, SyntaxWarning) or str(warning.message).startswith(
            "invalid escape sequence"
        )
        if about_source and (warning.lineno, str(warning.message)) not in seen:
            seen.add((warning.lineno, str(warning.message)))
            warnings.warn_explicit(warning.message, warning.category, path, warning.lineno)
    return tree


# Tokens that make the expression they follow one level deeper: binary and unary operators, a call or
# subscript ("(" / "[" after an operand), an attribute, and the keywords that nest their operands.
_DEEPENING = frozenset("+ - * / // % @ ** << >> & | ^ ~ . ( [ { not lambda if await".split())
# Tokens after which a new operand starts at the same level (a list item, a keyword argument, a slice).
_SEPARATORS = frozenset(", : ; = += -= *= /= //= %= @= **= <<= >>= &= |= ^= -> := and or".split())


def _nesting_rows(text: str) -> Iterator[tuple[int, int]]:
    """(row, an upper bound of the expression depth there) for each token, in one tokenize pass. The
    depth counts the deepening tokens since the last separator at each open bracket level; a syntax
    error stops the pass (the parser reports it)."""
    chain = [0]  # per open bracket: deepening tokens since its last separator
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            value = tok.string
            if tok.type == tokenize.NEWLINE:
                chain = [0]
                continue
            if tok.type not in (tokenize.OP, tokenize.NAME):
                continue
            if value in _SEPARATORS:
                chain[-1] = 0
            elif value in (")", "]", "}"):
                if len(chain) > 1:
                    chain.pop()
            elif value in _DEEPENING:
                chain[-1] += 1
                if value in ("(", "[", "{"):
                    chain.append(0)
            yield tok.start[0], sum(chain) + len(chain)
    except (tokenize.TokenError, SyntaxError):
        return


def _check_nesting(text: str, path: str) -> None:
    for row, depth in _nesting_rows(text):
        if depth > MAX_NESTING:
            raise LitdocError(path, row, _TOO_DEEP)


def _deepest_row(text: str) -> int:
    """The row most likely to hold the expression the parser gave up on: the one with the most
    operators and brackets. (Not `_nesting_rows`: tokenize takes time quadratic in a line's length on
    Python 3.12, and such a line is long.)"""
    lines = text.split("\n")
    scores = [sum(line.count(char) for char in "+-*/%@&|^~.([{") for line in lines]
    return max(range(len(lines)), key=scores.__getitem__) + 1 if lines else 1


def _unterminated_string_row(text: str) -> int | None:
    """The row where the string that never closes starts, from the tokenizer's own error."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError as error:
        if len(error.args) > 1 and isinstance(error.args[1], tuple):
            return int(error.args[1][0])
    except SyntaxError:
        return None
    return None


@dataclass
class _Tokens:
    """What the sections need from the token stream, gathered in one pass over it.

    The stream itself is not kept: a big file has hundreds of thousands of tokens, and holding
    them all only to read them again costs more (in allocation and garbage collection) than this.
    """

    code_rows: set[int] = field(default_factory=set)  # rows that some code token covers
    comments: list[tokenize.TokenInfo] = field(default_factory=list)
    strings: dict[tuple[int, int], tokenize.TokenInfo] = field(default_factory=dict)  # by start
    # The first and the last code token that starts or ends on each row.
    first_on_row: dict[int, tokenize.TokenInfo] = field(default_factory=dict)
    last_on_row: dict[int, tokenize.TokenInfo] = field(default_factory=dict)

    def add_code(self, tok: tokenize.TokenInfo, first_row: int, last_row: int) -> None:
        """A code token from `first_row` to `last_row` (tokens in order): the rows it covers are code,
        and it is the first or last token of the rows it starts and ends on."""
        first_on_row, last_on_row = self.first_on_row, self.last_on_row
        if first_row not in first_on_row:
            first_on_row[first_row] = tok
        last_on_row[first_row] = tok
        if last_row == first_row:
            self.code_rows.add(first_row)
            return
        self.code_rows.update(range(first_row, last_row + 1))
        if last_row not in first_on_row:
            first_on_row[last_row] = tok
        last_on_row[last_row] = tok


def _read_tokens(text: str, path: str) -> _Tokens:
    """The comments, strings and code rows of `text`, which `ast.parse` has accepted."""
    if sys.version_info < (3, 12):
        return _scan_tokens(text)
    return _tokenize_tokens(text, path)


# Valid Python as Python 3.9-3.11 tokenize it, in the pieces `_Tokens` needs: white space, line ends,
# continuation lines, comments, string literals (an f-string is one literal before 3.12, its fields
# holding no quote of its own kind, no comment and no backslash), and runs of other code. A prefix
# counts only where no word character comes before it (`or"x"` is `or` and a string, as tokenize reads
# it); a word right before a quote is then taken one character at a time.
_PIECE = re.compile(
    r"""
    (?P<space>[ \t\f]+)
    | (?P<newline>\n | \\\n)
    | (?P<comment>\#[^\n]*)
    | (?P<string>(?:(?<!\w)(?:[rR][bBfF]?|[bBfF][rR]?|[uU]))?
        (?: '{3}[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'{3}
          | "{3}[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"{3}
          | '[^\n'\\]*(?:\\[\s\S][^\n'\\]*)*'
          | "[^\n"\\]*(?:\\[\s\S][^\n"\\]*)*" ))
    | (?P<code>(?:[^\s'"\#\\\w] | \w+(?![\w'"])) (?:[^\n'"\#\\\w] | \w+(?![\w'"]))*)
    | (?P<other>[\s\S])
    """,
    re.VERBOSE,
)


def _scan_tokens(text: str) -> _Tokens:
    """`_tokenize_tokens` for valid source on Python 3.9-3.11, whose tokenize is pure Python: the same
    comments and strings (as TokenInfo), code rows, and first and last token of each row as far as a
    docstring's test needs them (a run of other code is one object, never a string's token). Checked
    against tokenize on the standard library and on generated code (tests/test_parse.py)."""
    found = _Tokens()
    strings, comments, add_code = found.strings, found.comments, found.add_code
    row, line_start = 1, 0
    for match in _PIECE.finditer(text):
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "newline":
            row += 1
            line_start = match.end()
            continue
        start = match.start()
        value = match.group()
        if kind == "comment":
            comments.append(
                tokenize.TokenInfo(
                    tokenize.COMMENT, value, (row, start - line_start), (row, match.end() - line_start), ""
                )
            )
            continue
        if kind == "string":
            breaks = value.count("\n")
            if breaks:
                last_break = value.rindex("\n")
                end = (row + breaks, len(value) - last_break - 1)
            else:
                end = (row, match.end() - line_start)
            tok = tokenize.TokenInfo(tokenize.STRING, value, (row, start - line_start), end, "")
            strings[tok.start] = tok
        else:
            tok = _OTHER_CODE
            end = (row, 0)
        add_code(tok, row, end[0])
        if end[0] != row:
            row = end[0]
            line_start = start + value.rindex("\n") + 1
    return found


# Any code but a string, in `_scan_tokens`' rows: never the token of a docstring.
_OTHER_CODE = tokenize.TokenInfo(tokenize.OP, "", (0, 0), (0, 0), "")


def _tokenize_tokens(text: str, path: str) -> _Tokens:
    found = _Tokens()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in _LAYOUT_TOKENS:
                if tok.type == tokenize.COMMENT:
                    found.comments.append(tok)
                continue
            found.add_code(tok, tok.start[0], tok.end[0])
            if tok.type == tokenize.STRING:
                found.strings[tok.start] = tok
    except tokenize.TokenError as e:
        line = e.args[1][0] if len(e.args) > 1 and e.args[1] else 1
        raise LitdocError(path, line, f"tokenize error: {e.args[0]}") from None
    except SyntaxError as e:  # IndentationError and friends, raised by tokenize itself
        raise LitdocError(path, e.lineno or 1, f"tokenize error: {e.msg}") from None
    return found


def _classify_lines(lines: Sequence[str], tokens: _Tokens) -> dict[int, str]:
    """Map each 1-based line to code, comment or blank (docstrings are marked later)."""
    kinds: dict[int, str] = dict.fromkeys(tokens.code_rows, _CODE)
    for tok in tokens.comments:
        row, col = tok.start
        if kinds.get(row) == _CODE or lines[row - 1][:col].strip():
            continue  # an inline comment belongs to its code line
        # A shebang or coding cookie is an instruction to the interpreter, not prose.
        if row <= 2 and (tok.string.startswith("#!") and row == 1 or _is_coding_cookie(tok.string)):
            kinds[row] = _CODE
            continue
        kinds[row] = _COMMENT
    for row in range(1, len(lines) + 1):
        if row not in kinds:
            # A line no token claims is blank, unless it holds something such as a lone `\`.
            kinds[row] = _BLANK if not lines[row - 1].strip() else _CODE
    return kinds


def _is_coding_cookie(comment: str) -> bool:
    return re.match(r"^#.*?coding[:=]", comment) is not None


# The nodes whose body may open with a docstring, and those that hold lists of statements.
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# `match` statements (3.10+) hold their bodies in `case`s; 3.9's ast has no such node.
_STATEMENT_LIKE = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())


_DocumentedNode = Union[ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef]


def _documented_nodes(body: Sequence[ast.AST]) -> Iterator[_DocumentedNode]:
    """Every class and function in a list of statements, at any depth.

    A `def` or `class` is a statement, so only lists of statements (bodies, `else` and `finally`
    blocks, `except` handlers and `case`s) are searched: never the expressions, which are most of
    the tree and which `ast.walk` would visit one by one.
    """
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        for statements in statement_lists(node):
            yield from _documented_nodes(statements)


def statement_lists(node: ast.AST) -> Iterator[list[ast.AST]]:
    """The lists of statements `node` holds (its body, `else`, `finally`, `except` handlers, `case`s), in
    field order: where a `def` or `class` can be, and the expressions, most of a tree, left out."""
    for name in node._fields:
        value = getattr(node, name)
        if isinstance(value, list) and value and isinstance(value[0], _STATEMENT_LIKE):
            yield value


def _find_docstrings(tree: ast.Module, tokens: _Tokens, lines: Sequence[str]) -> dict[int, _Docstring]:
    """Docstrings keyed by their first line.

    Only a docstring that is a single string token filling its lines on its own counts:
    `def f(): "doc"` or `"doc"; x = 1` cannot be split across the two columns, so they stay code.
    """
    found: dict[int, _Docstring] = {}
    nodes: Iterator[_DocumentedNode] = itertools.chain((tree,), _documented_nodes(tree.body))
    for node in nodes:
        if not node.body:
            continue
        first = node.body[0]
        if not (
            isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
        ):
            continue
        value = first.value
        # ast columns are UTF-8 byte offsets, tokenize's are characters.
        col = len(lines[value.lineno - 1].encode("utf-8")[: value.col_offset].decode("utf-8"))
        tok = tokens.strings.get((value.lineno, col))
        if tok is None or tok.end[0] != value.end_lineno:
            continue  # implicit concatenation of several literals: leave it as code
        if tokens.first_on_row[tok.start[0]] is not tok:
            continue  # code before it on its first line
        if tokens.first_on_row[tok.end[0]] is not tok or tokens.last_on_row[tok.end[0]] is not tok:
            continue  # code after it on its last line
        is_module = isinstance(node, ast.Module)
        if isinstance(node, ast.Module):
            header_first = tok.start[0]
        else:
            header_first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        found[tok.start[0]] = _Docstring(tok.start[0], tok.end[0], tok.string, header_first, is_module)
    return found


Numbered = list[tuple[int, str]]  # (source line, text) of docs lines


def _docstring_lines(raw: str, first_row: int) -> Numbered:
    """The text between the quotes, exactly as written, dedented the way `inspect.cleandoc` does."""
    match = _STRING_PREFIX.match(raw)
    prefix = match.group(0) if match else ""
    body = raw[len(prefix) :]
    quote = 3 if body[:3] in ('"""', "'''") else 1
    text_lines = body[quote:-quote].expandtabs().split("\n")
    indents = [len(line) - len(line.lstrip()) for line in text_lines[1:] if line.strip()]
    margin = min(indents) if indents else 0
    cleaned = [text_lines[0].strip()] + [line[margin:].rstrip() for line in text_lines[1:]]
    return _trim_blank_ends([(first_row + i, line) for i, line in enumerate(cleaned)])


def _trim_blank_ends(lines: Numbered) -> Numbered:
    start, end = 0, len(lines)
    while start < end and not lines[start][1].strip():
        start += 1
    while end > start and not lines[end - 1][1].strip():
        end -= 1
    return lines[start:end]


def _comment_text(line: str) -> str:
    """A comment line without its indentation and `#`; the block is dedented afterwards."""
    stripped = line.lstrip()
    return stripped[1:].rstrip()


def _dedent_block(block: Numbered) -> Numbered:
    indents = [len(text) - len(text.lstrip()) for _, text in block if text.strip()]
    margin = min(indents) if indents else 0
    return _trim_blank_ends([(row, text[margin:]) for row, text in block])


# ---------------------------------------------------------------------------------------------
# Front matter and the page title
# ---------------------------------------------------------------------------------------------


def _split_front_matter(docs: Numbered, path: str) -> tuple[FrontMatter, Numbered]:
    """Take `--- / key: value / ---` off the top of the module docstring."""
    if not docs or docs[0][1].strip() != "---":
        return FrontMatter(), docs
    values: dict[str, str] = {}
    last_key: str | None = None
    for offset, (row, line) in enumerate(docs[1:], start=1):
        if line.strip() == "---":
            rest = _trim_blank_ends(docs[offset + 1 :])
            return FrontMatter(
                title=values.get("title"), summary=values.get("summary"), fields=tuple(sorted(values.items()))
            ), rest
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and last_key is not None:
            # A folded continuation of the previous value.
            values[last_key] = f"{values[last_key]} {line.strip()}".strip()
            continue
        match = _FRONT_MATTER_KEY.match(line)
        if match is None:
            raise LitdocError(path, row, f"front matter line is not 'key: value': {line.strip()!r}")
        last_key = match.group(1).lower()
        value = match.group(2).strip()
        # YAML's block indicators: the value is the indented lines that follow.
        values[last_key] = "" if value in (">", "|", ">-", "|-") else _unquote(value)
    raise LitdocError(path, docs[0][0], "front matter opened with '---' is never closed")


def read_front_matter(text: str, path: str) -> FrontMatter:
    """The front matter of a module's docstring, without parsing the rest of the module: for what the
    whole site needs before the pages render (their titles, for previous/next links). It is read by
    `_split_front_matter`, the same reader as the page's own, so the two never disagree (a folded
    `title: >` included). A source whose front matter cannot be read gives none here; its page says why."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(python_newlines(text)).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING):
                continue
            if token.type != tokenize.STRING:
                return FrontMatter()  # the module has no docstring
            front_matter, _ = _split_front_matter(_docstring_lines(token.string, token.start[0]), path)
            return front_matter
    except (tokenize.TokenError, SyntaxError, LitdocError):
        pass
    return FrontMatter()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def page_title(front_matter: FrontMatter, sections: Sequence[Section], fallback: str) -> str:
    """The one rule for a page's title, for Python and Markdown pages alike: the front matter's
    `title`, else the first ATX heading (`#` to `######`) outside fenced code, else `fallback`."""
    return front_matter.title or _first_heading(sections) or fallback


def _first_heading(sections: Sequence[Section]) -> str | None:
    for section in sections:
        in_fence: str | None = None
        for line in section.docs.split("\n"):
            fence = _FENCE.match(line)
            if fence:
                marker = fence.group(1)
                if in_fence is None:
                    in_fence = marker[0] * len(marker)
                elif marker.startswith(in_fence):
                    in_fence = None
                continue
            if in_fence is None:
                heading = _ATX_HEADING.match(line)
                if heading:
                    return heading.group(1).strip()
    return None


def _title_from_path(path: str) -> str:
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.stem == "__init__" and pure.parent.name:
        return pure.parent.name
    return pure.stem


# ---------------------------------------------------------------------------------------------
# Grouping lines into sections
# ---------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A section being assembled; frozen into a `Section` when the next one starts."""

    blocks: list[tuple[str, Numbered]] = field(default_factory=list)  # (kind, numbered lines)
    doc_lines: list[int] = field(default_factory=list)
    code_lines: list[tuple[int, str]] = field(default_factory=list)
    from_docstring: bool = False
    last_column: str | None = None  # "docs" or "code": where the last non-blank line went
    split_before_code: bool = False  # the docstring is done; body code starts a new section

    @property
    def empty(self) -> bool:
        return not self.blocks and not self.code_lines and not self.doc_lines

    def docs_text(self) -> tuple[str, tuple[int, ...]]:
        """The docs Markdown, blocks separated by a blank line, and the source line of each line."""
        lines: Numbered = []
        for kind, block in self.blocks:
            numbered = _dedent_block(block) if kind == _COMMENT else _trim_blank_ends(block)
            if not numbered:
                continue
            if lines:
                lines.append((lines[-1][0], ""))
            lines.extend(numbered)
        return "\n".join(text for _, text in lines), tuple(row for row, _ in lines)


class _SectionBuilder:
    def __init__(self, lines: Sequence[str], kinds: dict[int, str], docstrings: dict[int, _Docstring], path: str):
        self.lines = lines
        self.kinds = kinds
        self.docstrings = docstrings
        self.path = path
        self.header_starts = {d.header_first: d for d in docstrings.values() if not d.is_module}
        self.drafts: list[_Draft] = []
        self.current = _Draft()
        self.pending_blanks: list[int] = []
        self.front_matter = FrontMatter()

    def build(self) -> tuple[list[Section], FrontMatter]:
        row = 1
        last_row = len(self.lines)
        while row <= last_row:
            kind = self.kinds[row]
            if kind == _BLANK:
                self.pending_blanks.append(row)
                row += 1
            elif kind == _DOCSTRING:
                row = self._docstring(self.docstrings[row])
            elif kind == _COMMENT:
                self._comment(row)
                row += 1
            else:
                self._code(row)
                row += 1
        self._flush_blanks_at_end()
        self.drafts.append(self.current)
        return self._freeze(), self.front_matter

    # -- one handler per kind of line ---------------------------------------------------------

    def _code(self, row: int) -> None:
        header = self.header_starts.get(row)
        if header is not None:
            self._start_section(from_docstring=True)
        elif self.current.split_before_code:
            self._start_section(from_docstring=False)
        self._place_blanks("code" if self.current.last_column == "code" else "docs")
        self.current.code_lines.append((row, self.lines[row - 1]))
        self.current.last_column = "code"

    def _comment(self, row: int) -> None:
        draft = self.current
        inside_header = (
            draft.from_docstring
            and not draft.split_before_code
            and draft.code_lines
            and not any(kind == _DOCSTRING for kind, _ in draft.blocks)
        )
        continues_run = (
            not draft.code_lines and not draft.from_docstring and draft.blocks and draft.blocks[-1][0] == _COMMENT
        )
        if inside_header:
            # A comment between a decorator and its `def`, or inside a signature: cutting the
            # header in two would separate the `def` from its docstring, so it joins the docs.
            self._place_blanks("docs")
            draft.blocks.append((_COMMENT, [(row, _comment_text(self.lines[row - 1]))]))
        elif continues_run:
            block = draft.blocks[-1][1]
            block.extend((blank, "") for blank in self.pending_blanks)  # a new paragraph
            self._place_blanks("docs")
            block.append((row, _comment_text(self.lines[row - 1])))
        else:
            if draft.code_lines or draft.from_docstring or draft.blocks:
                self._start_section(from_docstring=False)
            self._place_blanks("docs")
            self.current.blocks.append((_COMMENT, [(row, _comment_text(self.lines[row - 1]))]))
        self.current.doc_lines.append(row)
        self.current.last_column = "docs"

    def _docstring(self, doc: _Docstring) -> int:
        draft = self.current
        if doc.is_module:
            if not draft.empty and (draft.code_lines or draft.blocks):
                self._start_section(from_docstring=True)
            else:
                draft.from_docstring = True
        # For a def/class the header's first line already opened the section in `_code`.
        self._place_blanks("docs")
        numbered = _docstring_lines(doc.raw, doc.first)
        if doc.is_module:
            self.front_matter, numbered = _split_front_matter(numbered, self.path)
        self.current.blocks.append((_DOCSTRING, numbered))
        self.current.doc_lines.extend(range(doc.first, doc.last + 1))
        self.current.last_column = "docs"
        self.current.split_before_code = bool(self.current.code_lines)
        return doc.last + 1

    # -- bookkeeping --------------------------------------------------------------------------

    def _start_section(self, from_docstring: bool) -> None:
        if not self.current.empty:
            self.drafts.append(self.current)
        self.current = _Draft(from_docstring=from_docstring)

    def _place_blanks(self, column: str) -> None:
        if column == "code":
            self.current.code_lines.extend((row, self.lines[row - 1]) for row in self.pending_blanks)
        else:
            self.current.doc_lines.extend(self.pending_blanks)
        self.pending_blanks = []

    def _flush_blanks_at_end(self) -> None:
        self._place_blanks("code" if self.current.last_column == "code" else "docs")

    def _freeze(self) -> list[Section]:
        """Turn drafts into sections, dropping those with neither docs nor code.

        A dropped section can still own blank or empty-comment lines; they move to the next
        kept section (or the previous one at the end) so that every line stays on the page.
        """
        sections: list[Section] = []
        carried: list[int] = []
        for draft in self.drafts:
            docs, docs_rows = draft.docs_text()
            if not docs.strip() and not draft.code_lines:
                carried.extend(draft.doc_lines)
                continue
            sections.append(
                Section(
                    docs=docs,
                    doc_lines=tuple(sorted(carried + draft.doc_lines)),
                    from_docstring=draft.from_docstring,
                    code_lines=tuple(draft.code_lines),
                    docs_line_numbers=docs_rows,
                )
            )
            carried = []
        if carried and sections:
            sections[-1] = replace(sections[-1], doc_lines=tuple(sorted(sections[-1].doc_lines + tuple(carried))))
        return sections
