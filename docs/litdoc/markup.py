# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Docs column: Markdown (CommonMark, by markdown-it-py) with TeX math.

Math is cut out by markdown-it rules that run before escaping and emphasis, so `_`, `*` and `\\\\`
inside math reach the math renderer untouched. Where math is follows MathJax's own rules for `$...$`,
`$$...$$` and `\\begin{...}...\\end{...}` (see `litdoc.delimiters`, which also lists our three
departures for money). Math may span lines: a paragraph does not end, and no list or heading starts,
on a line that lies inside a formula. A `$$` that starts a line and closes at the end of a line is a
block of its own, even in the middle of a paragraph. A dollar that nothing closes stays a dollar.

What a formula becomes is the site's math engine's business (`litdoc.mathengine`: MathML at build
time, or MathJax in the browser); this module only finds the math and hands it over.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, cast

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.container import container_plugin

from litdoc.config import DEFAULT_MATHJAX_URL
from litdoc.delimiters import Delimiters, math_spans
from litdoc.mathengine import MathEngine, math_engine
from litdoc.model import LitdocError

__all__ = ["BLOCKS", "MarkupRenderer", "markdown_parser"]

_BARE_ENVIRONMENT = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")

# Inline math whose TeX is this long is wider than a notes column: its section gets the whole row
# (`litdoc.anchors`), and on a phone it scrolls by itself.
LONG_INLINE_MATH = 80
# Display math whose TeX is this long may be wider than a 390 px screen.
LONG_DISPLAY_MATH = 40

# The tokens that hold a formula: inside a paragraph (`$...$`, a `$$...$$` within a line), or a block of its own
_MATH_INLINE = ("math_inline", "math_display_inline")
_MATH_BLOCKS = ("math_block", "amsmath")
_MATH_TOKENS = _MATH_INLINE + _MATH_BLOCKS

# Punctuation that must stay on the line of the math before it (`$x$,` never breaks before the comma).
_TRAILING_PUNCTUATION = re.compile(r"^[.,;:!?)\]\u2019\u201d'\"]+")


@dataclass(frozen=True)
class Block:
    """A fenced block of the notes (`::: name Title` ... `:::`): how it renders and where it may stand."""

    css_class: str
    folded: bool  # a `<details>` that the reader opens (and print opens), else a box that is always shown
    default_title: str  # the summary when the opening line gives no title
    label: str = ""  # shown before the title of a box
    inside: str = ""  # the block it must stand in, "" for anywhere


# The blocks any site may use, by name. A block inside another is fenced with fewer colons than the
# one around it (`::::` outside, `:::` inside), as the `container` plugin of mdit-py-plugins reads them.
BLOCKS: dict[str, Block] = {
    "exercise": Block("exercise", folded=False, default_title="", label="Exercise"),
    "answer": Block("exercise-answer", folded=True, default_title="Answer", inside="exercise"),
    "appendix": Block("appendix", folded=True, default_title="Appendix"),
}
_FENCE_LINE = re.compile(r"^\s*(:{3,})\s*(\S*)")


class MarkupRenderer:
    """Markdown + math -> HTML for the docs column.

    Build it once per process and call `render` for every section: it holds the Markdown parser and
    the math engine (`litdoc.mathengine`), which remembers expressions it has already converted.
    `math` is an engine, or the name of one (`mathml`, `mathjax`), made with `mathjax_url` and
    `numbered_equations`.
    """

    def __init__(
        self,
        math: str | MathEngine = "mathml",
        mathjax_url: str = DEFAULT_MATHJAX_URL,
        numbered_equations: bool = False,
        raw_html: bool = True,
    ):
        self.engine = math if isinstance(math, MathEngine) else math_engine(math, mathjax_url, numbered_equations)
        self.raw_html = raw_html
        self._md = _markdown_parser(escape_text_dollars=self.engine.escape_text_dollars)
        # Without raw HTML, an HTML tag in the notes is text: markdown-it escapes it.
        self._md.options["html"] = raw_html
        # Token streams parsed for a page's analysis (`shared_parser`), which `render` takes instead of
        # parsing the same notes again: notes text -> (tokens, env).
        self._parsed: dict[str, tuple[list[Token], dict[str, Any]]] = {}
        self._math_pending = False  # the page's formulas are not yet handed to the engine (`_prepare_math`)

    # -- public -------------------------------------------------------------------------------

    def shared_parser(self, structure_parser: MarkdownIt) -> MarkdownIt:
        """A parser for reading one page's structure (`litdoc.anchors.analyse_sections`) whose token streams
        `render` then takes instead of parsing each section's notes a second time. Only where the two
        parsers read Markdown alike (raw HTML on: `structure_parser` is `markdown_parser()`, whose options
        differ from this renderer's only in how text is rendered); otherwise `structure_parser` itself.
        Starts the page afresh: streams kept for an earlier page are dropped."""
        self._parsed = {}
        self._math_pending = True
        if not self.raw_html or structure_parser.options["html"] is not True:
            return structure_parser
        return cast(MarkdownIt, _SharedParser(self._md, self._parsed))  # its reader calls only `parse`

    def render(
        self,
        markdown: str,
        path: str,
        first_line: int = 1,
        line_numbers: Sequence[int] | None = None,
        heading_ids: Sequence[str] = (),
        heading_levels: Sequence[int] = (),
    ) -> str:
        """HTML for `markdown`, the docs of a section of `path`.

        Line numbers in errors are `first_line` + the line within `markdown`, or, when the caller
        has them (`Section.docs_line_numbers`), `line_numbers[line within markdown]`.
        `heading_ids` are the ids of the headings in order (`litdoc.anchors` makes them unique per page);
        `heading_levels`, the levels to give them (`litdoc.anchors.heading_levels`: no level skipped
        on the page), each keeping the look of the level written as a class `as-hN`.
        """
        parsed = self._parsed.pop(markdown, None)
        if parsed is not None:
            tokens, env = parsed
            if self._math_pending:  # the page's first section: every formula of the page, in one go
                self._math_pending = False
                self._prepare_math([tokens] + [stream for stream, _ in self._parsed.values()])
        else:
            env = {}
            tokens = self._md.parse(markdown, env)
        ids, levels = iter(heading_ids), iter(heading_levels)
        for position, token in enumerate(tokens):
            if token.type == "heading_open":
                heading_id, level = next(ids, None), next(levels, None)
                if heading_id:
                    token.attrSet("id", heading_id)
                if level is not None and f"h{level}" != token.tag:
                    token.attrSet("class", f"as-{token.tag}")
                    close = next(t for t in tokens[position:] if t.type == "heading_close" and t.level == token.level)
                    token.tag = close.tag = f"h{level}"
                inline = tokens[position + 1]
                children = inline.children or []
                if children and all(c.type in _MATH_TOKENS or not c.content.strip() for c in children):
                    # A heading that is only math: its name for assistive technology is what it shows, the
                    # formula's characters (`(ρGD, ρHB)`), as its slug and its outline entry are, not its TeX.
                    from litdoc.search import tex_text  # search imports anchors, which imports this module

                    shown = [tex_text(c.content) if c.type in _MATH_TOKENS else c.content for c in children]
                    token.attrSet("aria-label", " ".join(" ".join(shown).split()))

        def source_line(index: int) -> int:
            if line_numbers:
                return line_numbers[max(0, min(index, len(line_numbers) - 1))]
            return first_line + index

        _check_nesting(tokens, path, source_line)
        _check_blocks(tokens, markdown.split("\n"), path, source_line)
        for token in tokens:
            if token.type in _MATH_BLOCKS:
                token.meta["html"] = self._math_html(
                    token.content, True, path, source_line(token.map[0] if token.map else 0)
                )
            elif token.type == "inline" and token.children:
                self._inline_math(token, path, source_line)
                _keep_punctuation_with_math(token)
        return str(self._md.renderer.render(tokens, self._md.options, env))

    def head_html(self, root: str) -> str:
        """What the page `<head>` needs for the math; `root` is the page's relative path to the output
        root (e.g. `..`)."""
        return self.engine.head_html(root)

    # -- math ---------------------------------------------------------------------------------

    def _prepare_math(self, streams: Sequence[Sequence[Token]]) -> None:
        """Tell the engine every formula of `streams`, in the order `render` will ask for them."""
        formulas = []
        for tokens in streams:
            for token in tokens:
                if token.type in _MATH_BLOCKS:
                    formulas.append((token.content, True))
                elif token.type == "inline" and token.children:
                    for child in token.children:
                        if child.type in _MATH_INLINE:
                            formulas.append((child.content, child.type == "math_display_inline"))
        self.engine.prepare(formulas)

    def _inline_math(self, parent: Token, path: str, source_line: Callable[[int], int]) -> None:
        base = parent.map[0] if parent.map else 0
        for child in parent.children or ():
            if child.type in _MATH_INLINE:
                line = source_line(base + parent.content.count("\n", 0, child.meta.get("offset", 0)))
                child.meta["html"] = self._math_html(child.content, child.type == "math_display_inline", path, line)

    def _math_html(self, tex: str, display: bool, path: str, line: int) -> str:
        if not self.raw_html:
            found = _ACTIVE_TEX.search(tex)
            if found:
                raise LitdocError(
                    path, line, f"{found[0]} in math is not allowed with raw_html = false (it can link or style)"
                )
        return self.engine.render(tex, display, path, line)


# TeX macros that make a link or put attributes into the page (MathJax's `\href`, `\url`, and its html
# extension's `\class`, `\cssId`, `\style`, `\data`), or load code (`\require`): refused when the
# source is not trusted, for a MathJax site renders them in the reader's browser.
_ACTIVE_TEX = re.compile(r"\\(?:href|url|class|cssId|style|data|require|unicode)(?![A-Za-z])")


def escape_raw_html(markdown: str) -> str:
    """`markdown` with every `<` that could open HTML written `&lt;`, outside code spans and code blocks:
    what a notebook's Markdown cell holds when the site does not trust its sources' HTML. Jupyter's
    renderer is more lenient than CommonMark about what a tag is (`<img src=x onerror=f("a")>` is text to
    markdown-it and a tag to a browser), so every `<` of the notes' text goes, except an autolink's."""
    lines = markdown.split("\n")
    for token in markdown_parser().parse(markdown):
        if token.map and token.type in ("html_block", "inline"):
            for number in range(*token.map):
                parts = _CODE_SPAN.split(lines[number])
                # The odd parts are code spans, kept as written.
                lines[number] = "".join(
                    part if index % 2 else _OPENING_ANGLE.sub("&lt;", part) for index, part in enumerate(parts)
                )
    return "\n".join(lines)


_CODE_SPAN = re.compile(r"(`+[^`]*`+)")
_OPENING_ANGLE = re.compile(r"<(?!https?://|mailto:)")


def _keep_punctuation_with_math(parent: Token) -> None:
    """Moves punctuation that follows inline math into the math token (`meta["after"]`), which is
    rendered with it inside one `nowrap` span: a line never starts with the comma after `$x$`."""
    children = parent.children or []
    for index, child in enumerate(children[:-1]):
        following = children[index + 1]
        if child.type == "math_inline" and following.type == "text":
            match = _TRAILING_PUNCTUATION.match(following.content)
            if match:
                child.meta["after"] = match.group(0)
                following.content = following.content[match.end() :]


class _SharedParser:
    """`parse` as `MarkdownIt.parse`, keeping each stream for `MarkupRenderer.render` (which changes it as it
    renders: the reader of the structure is done with it by then)."""

    def __init__(self, md: MarkdownIt, parsed: dict[str, tuple[list[Token], dict[str, Any]]]):
        self.md = md
        self.parsed = parsed

    def parse(self, src: str, env: dict[str, Any] | None = None) -> list[Token]:
        env = {} if env is None else env
        tokens = self.md.parse(src, env)
        self.parsed[src] = (tokens, env)
        return tokens


@functools.cache
def markdown_parser() -> MarkdownIt:
    """A parser with litdoc's rules, to read a page's structure (headings, tables) without rendering math.
    One per process, shared by its callers, which only parse with it (no one changes its options)."""
    return _markdown_parser(escape_text_dollars=False)


def _highlight_fence(code: str, language: str, attrs: str) -> str:
    """A fenced code block in the notes, highlighted by Pygments with the code column's classes;
    a language Pygments does not know stays plain."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    language = (language or "").strip().split(" ")[0]
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, HtmlFormatter(nowrap=True)) if lexer else html.escape(code, quote=False)
    label = f' data-lang="{html.escape(language)}"' if language else ""
    # Focusable, so that a keyboard can scroll a long line; `<pre` first, so markdown-it keeps it as is.
    return f'<pre class="highlight" tabindex="0"{label}><code>{body}</code></pre>'


# ---------------------------------------------------------------------------------------------
# The Markdown parser and its math rules
# ---------------------------------------------------------------------------------------------

# markdown-it stops parsing blocks nested this deep and drops the rest of the section without a word
# (its commonmark preset says 20: ten levels of list, or 20 of quotes). We raise it to its default
# preset's 100 (each level costs the parser about three Python frames, far below the recursion limit)
# and fail a page that reaches it, rather than publish it with text missing (issue 9, bug 2).
_MAX_NESTING = 100


def _check_nesting(tokens: Sequence[Token], path: str, source_line: Callable[[int], int]) -> None:
    """Raise when markdown-it hit its nesting limit. It drops content only after an opening token
    has taken the level to the limit, so such a token is present whenever something was dropped (and
    otherwise only for content exactly at the limit)."""
    for token in tokens:
        if token.nesting == 1 and token.level >= _MAX_NESTING - 1:
            line = source_line(token.map[0]) if token.map else source_line(0)
            raise LitdocError(
                path,
                line,
                f"Markdown nested too deeply (markdown-it's limit is {_MAX_NESTING} open "
                "blocks: about 50 levels of list or 99 of quotes); what is deeper "
                "would be dropped, so the page is not built",
            )
    # Raw HTML passes through, and an HTML comment left open in one section's notes would hide
    # everything after it in the browser, the code column included (issue 9, bug 1).
    open_comment = None
    for token in tokens:
        pieces = (
            [(token, token)]
            if token.type == "html_block"
            else [(child, token) for child in token.children or () if child.type == "html_inline"]
        )
        for piece, block in pieces:
            text = piece.content
            opened, closed = text.rfind("<!--"), text.rfind("-->")
            if opened > closed and not text.startswith("-->", opened + 2):
                open_comment = block
            elif closed >= 0 and closed > opened:
                open_comment = None
    if open_comment is not None:
        line = source_line(open_comment.map[0]) if open_comment.map else source_line(0)
        raise LitdocError(
            path,
            line,
            "HTML comment '<!--' is not closed in these notes: it would hide the rest of the page, code included",
        )


def _check_blocks(tokens: Sequence[Token], lines: Sequence[str], path: str, source_line: Callable[[int], int]) -> None:
    """Raise on a fenced block (`BLOCKS`) that is not closed, stands outside the block it belongs in, or
    is misspelt; and on a closing fence that closes nothing. The `container` plugin would close an open
    block at the end of the notes without a word, taking the rest of the notes into it."""
    enclosing: list[tuple[str, int]] = []  # (name, line of its closing fence) of the blocks around a token
    for token in tokens:
        name = _block_name(token)
        if name and token.nesting == 1:
            start, end = token.map or (0, 0)
            block = BLOCKS[name]
            if block.inside and not any(outer == block.inside for outer, _ in enclosing):
                raise LitdocError(
                    path,
                    source_line(start),
                    f"'{token.markup} {name}' stands only inside a block '{block.inside}' (with more colons than its own, around it)",
                )
            fence = _FENCE_LINE.match(lines[end]) if end < len(lines) else None
            closed = (
                fence is not None
                and not fence.group(2)
                and len(fence.group(1)) >= len(token.markup)
                and all(end != outer_end for _, outer_end in enclosing)
            )
            if not closed:
                raise LitdocError(
                    path,
                    source_line(start),
                    f"'{token.markup} {name}' is not closed: end it with a line '{token.markup}' "
                    "(a block inside another takes fewer colons than the one around it: '::::' outside, ':::' inside)",
                )
            enclosing.append((name, end))
        elif name and token.nesting == -1:
            enclosing.pop()
        elif token.type == "inline" and token.map and token.content.startswith(":::"):
            # A paragraph that opens with a fence: a misspelt block, or a closing fence with no block.
            fence = _FENCE_LINE.match(token.content)
            word = fence.group(2) if fence else ""
            known = ", ".join(BLOCKS)
            reason = (
                f"unknown block '::: {word}' (litdoc's blocks are {known})" if word else "this ':::' closes no block"
            )
            raise LitdocError(path, source_line(token.map[0]), reason)


def _block_name(token: Token) -> str:
    """`exercise` for the tokens `container_exercise_open`/`_close`, "" for any other token."""
    if token.type.startswith("container_"):
        name = token.type[len("container_") :].rsplit("_", 1)[0]
        return name if name in BLOCKS else ""
    return ""


def _block_titles(state: StateCore) -> None:
    """After the block rules: the title on a block's opening line becomes an inline token of its own, so
    that its Markdown and math are read as any other text's (`block_title` opens and closes it)."""
    tokens: list[Token] = []
    for token in state.tokens:
        tokens.append(token)
        name = _block_name(token)
        if not name or token.nesting != 1:
            continue
        block = BLOCKS[name]
        title = token.info.strip()[len(name) :].strip() or block.default_title
        opening = Token("block_title_open", "summary" if block.folded else "p", 1)
        opening.meta["label"] = block.label + (": " if block.label and title else "")
        opening.map = token.map
        inline = Token("inline", "", 0)
        inline.content = title
        inline.map = [token.map[0], token.map[0] + 1] if token.map else None
        inline.children = []
        closing = Token("block_title_close", opening.tag, -1)
        tokens += [opening, inline, closing] if title else [opening, closing]
    state.tokens = tokens


def _add_blocks(md: MarkdownIt) -> None:
    """The fenced blocks of `BLOCKS`: an exercise is a box that is always shown, with its title; an
    answer or an appendix is a `<details>`, folded on screen and opened for print (the theme's CSS and
    script), with its title as the summary."""

    def render_block(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        block = BLOCKS[_block_name(token)]
        tag = "details" if block.folded else "div"
        return f'<{tag} class="{block.css_class}">\n' if token.nesting == 1 else f"</{tag}>\n"

    def render_title(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        if token.tag == "summary":
            return "<summary>" if token.nesting == 1 else "</summary>\n"
        label = html.escape(token.meta.get("label", ""))
        if token.nesting == 1:
            return (
                f'<p class="block-title"><span class="block-label">{label}</span>'
                if label
                else '<p class="block-title">'
            )
        return "</p>\n"

    for name in BLOCKS:
        container_plugin(
            md,
            name,
            validate=lambda params, *_, name=name: params.strip().split(" ", 1)[0] == name,
            render=render_block,
        )
    md.core.ruler.after("block", "block_titles", _block_titles)
    md.add_render_rule("block_title_open", render_title)
    md.add_render_rule("block_title_close", render_title)


def _markdown_parser(escape_text_dollars: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"highlight": _highlight_fence, "maxNesting": _MAX_NESTING}).enable("table")
    md.inline.ruler.before("escape", "math_inline", _math_inline_rule)
    md.block.ruler.before(
        "fence", "math_block", _math_block_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.block.ruler.at("paragraph", _paragraph_rule)
    amsmath_plugin(md)
    _add_blocks(md)

    def render_inline(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if len(tokens[idx].content) >= LONG_INLINE_MATH:
            # Wider than a phone's line: it scrolls on its own (focusable, so a keyboard can scroll it).
            math = f'<span class="math inline long" tabindex="0">{tokens[idx].meta["html"]}</span>'
        else:
            math = f'<span class="math inline">{tokens[idx].meta["html"]}</span>'
        after = tokens[idx].meta.get("after")
        return f'<span class="nowrap">{math}{html.escape(after, quote=False)}</span>' if after else math

    def focusable(token: Token) -> str:
        # A formula that may be wider than a phone scrolls in its box, which the keyboard must reach.
        # (MathML mode only: in MathJax mode the box is MathJax's, and its markup stays as MathJax expects.)
        return ' tabindex="0"' if len(token.content) >= LONG_DISPLAY_MATH and not escape_text_dollars else ""

    def render_display_inline(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f'<span class="math display"{focusable(tokens[idx])}>{tokens[idx].meta["html"]}</span>'

    def render_block(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f'<div class="math display"{focusable(tokens[idx])}>\n{tokens[idx].meta["html"]}\n</div>\n'

    def render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Figures are scaled down to the width of the notes column; a click opens them at full
        # size. An image that is already inside a link keeps that link.
        image = self.image(tokens, idx, options, env)
        if _link_depths(tokens, env)[idx] > 0:
            return image
        return f'<a class="image-link" href="{html.escape(str(tokens[idx].attrGet("src") or ""))}" title="open the figure full size">{image}</a>'

    def render_table_open(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # A table wider than the page scrolls inside this box, not the page; focusable for the keyboard.
        return '<div class="table-wrap" tabindex="0">\n' + self.renderToken(tokens, idx, options, env)

    def render_table_close(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return self.renderToken(tokens, idx, options, env) + "</div>\n"

    md.add_render_rule("image", render_image)

    def render_code_block(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        # An indented code block is shown as a fence without a language is: focusable, so a keyboard can
        # scroll a long line (axe's scrollable-region-focusable), and in the code column's look.
        return _highlight_fence(tokens[idx].content, "", "") + "\n"

    md.add_render_rule("code_block", render_code_block)

    def render_th(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # A header cell with nothing in it heads nothing: a plain cell, so a screen reader does not
        # announce an empty column header.
        token = tokens[idx]
        if token.type == "th_open" and idx + 1 < len(tokens) and not tokens[idx + 1].content.strip():
            return self.renderToken(tokens, idx, options, env).replace("<th", "<td", 1)
        if (
            token.type == "th_close"
            and idx >= 2
            and tokens[idx - 2].type == "th_open"
            and not tokens[idx - 1].content.strip()
        ):
            return "</td>\n"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("th_open", render_th)
    md.add_render_rule("th_close", render_th)
    md.add_render_rule("table_open", render_table_open)
    md.add_render_rule("table_close", render_table_close)
    md.add_render_rule("math_inline", render_inline)
    md.add_render_rule("math_display_inline", render_display_inline)
    md.add_render_rule("math_block", render_block)
    md.add_render_rule("amsmath", render_block)

    if escape_text_dollars:
        # MathJax scans all page text for `$`; a price left in the text would open math there.
        def render_text(
            self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            return html.escape(tokens[idx].content, quote=False).replace("$", "\\$")

        md.add_render_rule("text", render_text)
    return md


# The rules below use markdown-it-py's public parser state (`StateBlock`, `StateInline`) only.


def _link_depths(tokens: Sequence[Token], env: EnvType) -> list[int]:
    """How many links are open before each of `tokens` (an inline token's children), computed once per
    list and kept in `env`: counted afresh for each image, 10,000 images in a paragraph took 20 s."""
    cached = env.get("litdoc_link_depths")
    if cached is not None and cached[0] is tokens:
        known: list[int] = cached[1]
        return known
    depths, depth = [], 0
    for token in tokens:
        depths.append(depth)
        depth += 1 if token.type == "link_open" else -1 if token.type == "link_close" else 0
    env["litdoc_link_depths"] = (tokens, depths)
    return depths


def _delimiters(env: EnvType, src: str) -> Delimiters:
    """The delimiter tables of an inline text, computed once per text and render."""
    cache: dict[str, Delimiters] = env.setdefault("litdoc_delimiters", {})
    found = cache.get(src)
    if found is None:
        found = cache[src] = Delimiters(src)
    return found


def _math_inline_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] not in "$\\":
        return False
    if src[start] == "\\" and not src.startswith("\\begin{", start):
        return False
    span = _delimiters(state.env, src).span_at(start, state.posMax)
    if span is None:
        return False  # a literal `$`; MathJax, too, leaves a dollar that nothing closes
    end, body, close, display = span
    if not silent:
        environment = src[start] == "\\"
        token = state.push("math_display_inline" if display else "math_inline", "math", 0)
        token.content = src[start:end] if environment else src[body:close]
        token.markup = "" if environment else src[start:body]
        token.meta["offset"] = start
    state.pos = end
    return True


def _line_text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


_FENCE_OPENING = re.compile(r"(`{3,}|~{3,})")


# How many lines a formula may span. Each paragraph and each `$$` line looks this far ahead for the end
# of its math; looking to the next blank line instead made a 10,000-item list or 4,000 `$$` lines
# quadratic (minutes). A formula is rarely a tenth of this; a longer one reads as text.
MATH_WINDOW_LINES = 256


def _math_window(state: StateBlock, start_line: int, end_line: int) -> tuple[str, list[int]]:
    """The text of lines `start_line`... up to the first blank line or code fence (math never
    spans either), at most `MATH_WINDOW_LINES` of them, each without its indentation, and the offset of
    each line in that text."""
    parts: list[str] = []
    offsets: list[int] = []
    length = 0
    for line in range(start_line, min(end_line, start_line + MATH_WINDOW_LINES)):
        if state.isEmpty(line):
            break
        text = _line_text(state, line)
        if line > start_line and _FENCE_OPENING.match(text) and state.sCount[line] - state.blkIndent < 4:
            break
        offsets.append(length)
        parts.append(text)
        length += len(text) + 1
    return "\n".join(parts), offsets


def _math_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`$$` that starts a line and closes at the end of a line, on any number of lines: a block."""
    if state.sCount[start_line] - state.blkIndent >= 4 or not _line_text(state, start_line).startswith("$$"):
        return False
    # Most formulas close within a few lines: look 8 lines ahead, then twice as far, up to the window, so
    # that a run of one-line `$$` formulas costs each of them a few lines, not the whole window.
    reach = 8
    while True:
        text, offsets = _math_window(state, start_line, min(end_line, start_line + reach))
        span = Delimiters(text).span_at(0)
        if span is not None or reach >= MATH_WINDOW_LINES or len(offsets) < reach:
            break
        reach *= 2
    if span is None or not span[3]:
        return False
    end, body, close, _ = span
    rest = text.find("\n", end)
    if text[end : rest if rest != -1 else len(text)].strip():
        return False  # text follows on the closing line: display math inside a paragraph
    last_line = start_line + sum(1 for offset in offsets if offset < end) - 1
    if silent:
        return True
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = text[body:close]
    token.markup = "$$"
    token.map = [start_line, last_line + 1]
    state.line = last_line + 1
    return True


def _paragraph_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it's paragraph, except that a line inside a formula neither ends the paragraph nor
    starts another block: `$$\\gamma\n+ \\beta$$` is one formula, not a formula and a list."""
    text, offsets = _math_window(state, start_line, state.lineMax)
    inside: set[int] = set()
    for start, end in math_spans(text):
        # the lines whose first character lies strictly inside this formula
        first = bisect.bisect_right(offsets, start)
        last = bisect.bisect_left(offsets, end)
        inside.update(range(start_line + first, start_line + last))
    next_line = start_line + 1
    terminators = state.md.block.ruler.getRules("paragraph")
    old_parent = state.parentType
    state.parentType = "paragraph"
    while next_line < state.lineMax:
        if next_line in inside:
            next_line += 1
            continue
        if state.isEmpty(next_line):
            break
        # Indented lines and blockquote quirks continue the paragraph, as in markdown-it.
        if state.sCount[next_line] - state.blkIndent > 3 or state.sCount[next_line] < 0:
            next_line += 1
            continue
        if any(rule(state, next_line, state.lineMax, True) for rule in terminators):
            break
        next_line += 1
    content = state.getLines(start_line, next_line, state.blkIndent, False).strip(" \t\n\r\f\v")
    state.line = next_line
    token = state.push("paragraph_open", "p", 1)
    token.map = [start_line, next_line]
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [start_line, next_line]
    token.children = []
    state.push("paragraph_close", "p", -1)
    state.parentType = old_parent
    return True
