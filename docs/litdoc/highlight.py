# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Syntax-highlight the code column: one lexer pass per file, split back into sections.

Lexing each section on its own would lose context (a string or bracket opened in one section
and closed in the next); lexing the whole file once and cutting the token stream at line ends
keeps it. Lines are rendered from tokens directly. The tokens are `litdoc.pylex`'s, which carry
Pygments' class names, so that Pygments' styles (`pygments_css`) colour them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from litdoc.model import Section
from litdoc.pylex import python_tokens

__all__ = ["highlight_sections", "line_html", "pygments_css", "split_lines"]

# Pygments' own escaping (HtmlFormatter): quotes too, so a line is safe inside any element.
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})

Line = list[tuple[str, str]]  # (css class, text) pieces of one source line


def highlight_sections(
    sections: Sequence[Section],
    links: Mapping[tuple[int, int], tuple[str, str, str]] | None = None,
) -> list[str]:
    """HTML for the code column of each section, in order.

    Each line is a `<span class="line">` that starts with `<span class="lineno">N</span>`, N being its
    line in the source file (see `line_html`).
    A section without code gets an empty string. `links`: (line, column) -> (name, href, title) of the
    names that go to their definition (`litdoc.xref`); the token there, if it is that name, is wrapped in
    `<a class="xref">` (its span inside, so that the identifier marking of litdoc.js still finds it).
    """
    code_lines = [text for section in sections for _, text in section.code_lines]
    lines = _lex_lines("\n".join(code_lines), len(code_lines))
    out: list[str] = []
    position = 0
    for section in sections:
        if not section.code_lines:
            out.append("")
            continue
        rendered = []
        for number, _ in section.code_lines:
            rendered.append(line_html(lines[position], number, links))
            position += 1
        out.append('<div class="highlight"><pre>' + "\n</span>".join(rendered) + "</span></pre></div>")
    return out


def line_html(pieces: Line, number: int, links: Mapping[tuple[int, int], tuple[str, str, str]] | None = None) -> str:
    """A line in its own box, `<span class="line">` (closed by the caller, after the line's newline), so
    that the theme can wrap it with a hanging indent: its leading whitespace, in `<span class="indent">`,
    is its statement's depth, given in columns (tabs at 8) as `--indent` too, where its continuation
    lines start. The line's text, copied, is unchanged."""
    text = "".join(part for _, part in pieces)
    width = len(text) - len(text.lstrip(" \t"))
    head = f'<span class="line"><span class="lineno">{number}</span>'
    if width:
        head = (
            f'<span class="line" style="--indent:{len(text[:width].expandtabs(8))}"><span class="lineno">{number}</span>'
            f'<span class="indent">{text[:width]}</span>'
        )
        pieces = _without_prefix(pieces, width)
    return head + _render_line(pieces, number, links, width)


def _without_prefix(pieces: Line, width: int) -> Line:
    """The pieces of a line less its first `width` characters."""
    out: Line = []
    for css, text in pieces:
        cut = min(width, len(text))
        width -= cut
        if text[cut:]:
            out.append((css, text[cut:]))
    return out


def pygments_css(light: str = "default", dark: str = "github-dark", scope: str = ".highlight") -> str:
    """Token colours for the light scheme, and the dark ones under `prefers-color-scheme: dark`."""
    from pygments.formatters import HtmlFormatter

    light_css = HtmlFormatter(style=light).get_style_defs(scope)
    dark_css = HtmlFormatter(style=dark).get_style_defs(scope)
    dark_block = "\n".join("  " + line for line in dark_css.splitlines())
    lineno = (
        f"{scope} .lineno {{ display: inline-block; min-width: 3em; padding-right: 1em; "
        f"text-align: right; user-select: none; opacity: 0.5; }}"
    )
    return f"{light_css}\n{lineno}\n@media (prefers-color-scheme: dark) {{\n{dark_block}\n}}\n"


def _lex_lines(code: str, count: int) -> list[Line]:
    """The (class, text) pieces of each of the first `count` lines of `code`."""
    return split_lines(python_tokens(code), count)


def split_lines(tokens: Iterable[tuple[str, str]], count: int) -> list[Line]:
    """(class, text) tokens cut at line ends: the pieces of each of the first `count` lines, a run of
    one class joined into one piece."""
    lines: list[Line] = [[]]
    current = lines[0]
    for css, value in tokens:
        if "\n" not in value:  # most tokens: a piece of the current line
            if value:
                if current and current[-1][0] == css:
                    current[-1] = (css, current[-1][1] + value)  # one span for a run of one class
                else:
                    current.append((css, value))
            continue
        for index, part in enumerate(value.split("\n")):
            if index:
                current = []
                lines.append(current)
            if part:
                if current and current[-1][0] == css:
                    current[-1] = (css, current[-1][1] + part)
                else:
                    current.append((css, part))
    # The lexer adds a final newline, so there is one trailing empty line past `count`.
    while len(lines) < count:
        lines.append([])
    return lines[:count]


def _render_line(
    pieces: Line,
    number: int = 0,
    links: Mapping[tuple[int, int], tuple[str, str, str]] | None = None,
    column: int = 0,
) -> str:
    html = []
    for css, text in pieces:
        escaped = text.translate(_ESCAPE)
        piece = f'<span class="{css}">{escaped}</span>' if css else escaped
        link = links.get((number, column)) if links else None
        if link is not None and link[0] == text:
            _, href, title = link
            title_attr = f' title="{title.translate(_ESCAPE)}"' if title else ""
            piece = f'<a class="xref" href="{href.translate(_ESCAPE)}"{title_attr}>{piece}</a>'
        html.append(piece)
        column += len(text)
    return "".join(html)
