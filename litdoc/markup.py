"""Docs column: Markdown (CommonMark, by markdown-it-py) with TeX math.

Math is cut out by markdown-it rules that run before escaping and emphasis, so `_`, `*` and `\\\\`
inside math reach the math renderer untouched:

* `$inline$`: an opening `$` must be followed by a non-space, a closing `$` preceded by a
  non-space and not followed by a digit (Pandoc's rule), so `$5 and $10` stays currency;
* `$$display$$`, on its own lines or inside a paragraph;
* bare amsmath environments (`\\begin{align}...\\end{align}`) on their own lines.

An opening `$` or `$$` that is never closed is an error, except `$` before a digit (a price).

Two ways to show the math, chosen by `math`:

* `mathml` (default): Temml turns TeX into MathML at build time, in an embedded JS engine, so a
  page needs no script and no network. Its CSS and a math font are copied into the site.
* `mathjax`: the TeX is passed through, HTML-escaped, between its delimiters, for MathJax to
  typeset in the browser.
"""
from __future__ import annotations

import html
import re
from typing import Dict, List, Optional, Sequence, Tuple

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar

from litdoc import math_assets as _assets
from litdoc.model import LitdocError

__all__ = ["MarkupRenderer", "math_assets", "MATH_MODES", "DEFAULT_MATHJAX_URL"]

MATH_MODES = ("mathml", "mathjax")
# MathJax 2, whose tex2jax configuration the seed page uses.
DEFAULT_MATHJAX_URL = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.9/MathJax.js?config=TeX-AMS_HTML"

# `\mathop{Word}` makes Temml set each letter as its own operator, stacked under a limit;
# wrapped in \mathrm it is one upright word, as LaTeX prints it.
_MATHOP_WORD = re.compile(r"\\mathop\s*\{\s*([A-Za-z]{2,})\s*\}")
_BARE_ENVIRONMENT = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
# Temml underlines the offending text with U+0332; in a one-line error message it is noise.
_COMBINING_LOW_LINE = "\u0332"

_MATH_TOKENS = ("math_inline", "math_display_inline", "math_block", "amsmath")

# Calls Temml and turns its exception into a string, so that Python sees the message only.
_TEMML_CALL = """
function litdocTemml(tex, display) {
  try {
    return "ok:" + temml.renderToString(tex, {displayMode: display, throwOnError: true});
  } catch (e) {
    return "error:" + (e && e.message ? e.message : String(e));
  }
}
"""


def math_assets(math: str) -> List[Tuple[str, bytes]]:
    """(destination relative to the output root, content) of every third-party file the
    site must copy for this math mode: Temml's CSS and the math font for `mathml`, none for
    `mathjax` (it loads from its URL)."""
    _check_mode(math)
    return _assets.mathml_assets() if math == "mathml" else []


def _check_mode(math: str) -> None:
    if math not in MATH_MODES:
        raise LitdocError("[tool.litdoc]", 0, f"math = {math!r}: expected one of {', '.join(MATH_MODES)}")


class _Temml:
    """Temml in a QuickJS context: built once, then a few tens of microseconds per expression."""

    def __init__(self) -> None:
        import quickjs  # a C extension; imported here so that mathjax mode never needs it

        self._context = quickjs.Context()
        self._context.eval(_assets.temml_js_path().read_text(encoding="utf-8"))
        self._context.eval(_TEMML_CALL)
        self._call = self._context.get("litdocTemml")

    def render(self, tex: str, display: bool) -> Tuple[Optional[str], Optional[str]]:
        """(MathML, None) or (None, Temml's error message)."""
        result = self._call(tex, display)
        if result.startswith("ok:"):
            return result[3:], None
        message = result[len("error:"):].replace(_COMBINING_LOW_LINE, "")
        return None, " ".join(message.split())  # one line, as every litdoc error


class MarkupRenderer:
    """Markdown + math -> HTML for the docs column.

    Build it once per process and call `render` for every section: it holds the Markdown parser
    and, in `mathml` mode, the JS engine, and remembers expressions it has already converted.
    """

    def __init__(self, math: str = "mathml", mathjax_url: str = DEFAULT_MATHJAX_URL):
        _check_mode(math)
        self.math = math
        self.mathjax_url = mathjax_url
        self._md = _markdown_parser(escape_text_dollars=(math == "mathjax"))
        self._temml: Optional[_Temml] = None
        self._cache: Dict[Tuple[str, bool], str] = {}

    # -- public -------------------------------------------------------------------------------

    def render(self, markdown: str, path: str, first_line: int = 1,
               line_numbers: Optional[Sequence[int]] = None) -> str:
        """HTML for `markdown`, the docs of a section of `path`.

        Line numbers in errors are `first_line` + the line within `markdown`, or, when the caller
        has them (`Section.docs_line_numbers`), `line_numbers[line within markdown]`.
        """
        env: dict = {}
        tokens = self._md.parse(markdown, env)

        def source_line(index: int) -> int:
            if line_numbers:
                return line_numbers[max(0, min(index, len(line_numbers) - 1))]
            return first_line + index

        for token in tokens:
            if token.type in ("math_block", "amsmath"):
                token.meta["html"] = self._math_html(token.content, True, path, source_line(token.map[0]))
            elif token.type == "inline" and token.children:
                self._inline_math(token, path, source_line)
        return self._md.renderer.render(tokens, self._md.options, env)

    def head_html(self, root: str) -> str:
        """What the page `<head>` needs for this math mode; `root` is the page's relative path
        to the output root (e.g. `..`)."""
        if self.math == "mathml":
            base = f"{root.rstrip('/')}/{_assets.MATH_DIR}" if root not in ("", ".") else _assets.MATH_DIR
            return "\n".join(f'<link rel="stylesheet" href="{html.escape(base)}/{name}">'
                             for name in _assets.STYLESHEETS)
        return (
            '<script type="text/x-mathjax-config">\n'
            "MathJax.Hub.Config({\n"
            "  tex2jax: {\n"
            "    inlineMath: [['$', '$']],\n"
            "    displayMath: [['$$', '$$']],\n"
            "    processEscapes: true,\n"
            "    processEnvironments: true\n"
            "  },\n"
            "  displayAlign: 'center',\n"
            "  'HTML-CSS': {fonts: ['TeX']}\n"
            "});\n"
            "</script>\n"
            f'<script async src="{html.escape(self.mathjax_url)}"></script>'
        )

    def assets(self) -> List[Tuple[str, bytes]]:
        return math_assets(self.math)

    # -- math ---------------------------------------------------------------------------------

    def _inline_math(self, parent: Token, path: str, source_line) -> None:
        base = parent.map[0] if parent.map else 0
        for child in parent.children:
            if child.type not in ("math_inline", "math_display_inline", "math_unclosed", "text"):
                continue
            offset = child.meta.get("offset", 0)
            line = source_line(base + parent.content.count("\n", 0, offset))
            if child.type == "math_unclosed":
                raise LitdocError(path, line, f"unclosed math: {child.content!r} has no closing "
                                              f"{child.markup!r} (write \\{child.markup[0]} for a literal dollar)")
            if child.type == "text":
                environment = _BARE_ENVIRONMENT.search(child.content)
                if environment:
                    raise LitdocError(path, source_line(base), f"\\begin{{{environment.group(1)}}} inside a "
                                      "paragraph: put the environment on lines of its own, or inside $$...$$")
                continue
            child.meta["html"] = self._math_html(child.content, child.type == "math_display_inline", path, line)

    def _math_html(self, tex: str, display: bool, path: str, line: int) -> str:
        if self.math == "mathjax":
            # MathJax finds the math by its delimiters in the page text; escaping keeps `<` and `&`
            # out of the HTML parser's way and the browser hands MathJax the original text.
            if tex.lstrip().startswith("\\begin{") and display:
                return html.escape(tex, quote=False)
            delimiter = "$$" if display else "$"
            return f"{delimiter}{html.escape(tex, quote=False)}{delimiter}"
        key = (tex, display)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._temml is None:
            self._temml = _Temml()
        mathml, error = self._temml.render(_MATHOP_WORD.sub(r"\\mathop{\\mathrm{\1}}", tex), display)
        if error is not None:
            expression = " ".join(tex.split())
            raise LitdocError(path, line, f"TeX error in {'$$' if display else '$'}{expression}"
                                          f"{'$$' if display else '$'}: {error}")
        self._cache[key] = mathml
        return mathml


# ---------------------------------------------------------------------------------------------
# The Markdown parser and its math rules
# ---------------------------------------------------------------------------------------------

def _markdown_parser(escape_text_dollars: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    md.inline.ruler.before("escape", "math_inline", _math_inline_rule)
    md.block.ruler.before("fence", "math_block", math_block_dollar(allow_labels=False, allow_blank_lines=False))
    amsmath_plugin(md)

    def render_inline(self, tokens, idx, options, env):
        return f'<span class="math inline">{tokens[idx].meta["html"]}</span>'

    def render_display_inline(self, tokens, idx, options, env):
        return f'<span class="math display">{tokens[idx].meta["html"]}</span>'

    def render_block(self, tokens, idx, options, env):
        return f'<div class="math display">\n{tokens[idx].meta["html"]}\n</div>\n'

    def render_image(self, tokens, idx, options, env):
        # Figures are scaled down to the width of the notes column; a click opens them at full
        # size. An image that is already inside a link keeps that link.
        image = self.image(tokens, idx, options, env)
        depth = sum(1 if t.type == "link_open" else -1 if t.type == "link_close" else 0 for t in tokens[:idx])
        if depth > 0:
            return image
        return f'<a class="image-link" href="{html.escape(tokens[idx].attrGet("src") or "")}">{image}</a>'

    md.add_render_rule("image", render_image)
    md.add_render_rule("math_inline", render_inline)
    md.add_render_rule("math_display_inline", render_display_inline)
    md.add_render_rule("math_block", render_block)
    md.add_render_rule("amsmath", render_block)

    if escape_text_dollars:
        # MathJax scans all page text for `$`; a price left in the text would open math there.
        def render_text(self, tokens, idx, options, env):
            return html.escape(tokens[idx].content, quote=False).replace("$", "\\$")
        md.add_render_rule("text", render_text)
    return md


def _is_escaped(src: str, pos: int) -> bool:
    backslashes = 0
    while pos - 1 - backslashes >= 0 and src[pos - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _find_closing(src: str, start: int, end: int, double: bool) -> int:
    """Index of the closing delimiter at or after `start`, or -1."""
    delimiter = "$$" if double else "$"
    position = start
    while True:
        found = src.find(delimiter, position, end)
        if found == -1:
            return -1
        if "`" in src[start:found]:
            return -1  # TeX has no use for a backtick: the `$` belongs to a code span or to prose
        if _is_escaped(src, found):
            position = found + 1
            continue
        if not double:
            after = src[found + 1] if found + 1 < end else ""
            if src[found - 1].isspace() or after.isdigit() or after == "$":
                position = found + 1
                continue
        return found


def _math_inline_rule(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    if src[start] != "$":
        return False
    double = src.startswith("$$", start) and start + 1 < end
    width = 2 if double else 1
    following = src[start + width] if start + width < end else ""
    if not double and (not following or following.isspace()):
        return False  # `$ ` or a trailing `$`: a literal dollar sign
    closing = _find_closing(src, start + width, end, double)
    if closing == -1 or closing == start + width:
        if not double and following.isdigit():
            return False  # `$5`: a price
        if not silent:
            token = state.push("math_unclosed", "", 0)
            token.content = src[start:min(end, start + 40)]
            token.markup = "$$" if double else "$"
            token.meta["offset"] = start
        state.pos = start + width
        return True
    if not silent:
        token = state.push("math_display_inline" if double else "math_inline", "math", 0)
        token.content = src[start + width:closing]
        token.markup = "$$" if double else "$"
        token.meta["offset"] = start
    state.pos = closing + width
    return True
