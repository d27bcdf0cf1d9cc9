# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""How a page's math reaches the reader: one interface, one class per way of showing it.

`litdoc.markup` finds the math in the notes (`litdoc.delimiters`) and hands each formula to the
site's engine; nothing else in litdoc asks which engine is on. An engine says

* what a formula becomes in the page's HTML (`render`),
* what the page's `<head>` needs (`head_html`) and which files the site must carry (`assets`),
* whether a `$` in the text must be escaped, because the engine reads the page's text,
* which characters of the math font a page uses (`glyphs`), and the font cut to a site's characters
  (`site_font`).

Two engines, chosen by `math` in `[tool.litdoc]`:

* `mathml` (default): Temml turns TeX into MathML at build time, in an embedded JS engine (V8, from
  the `mini-racer` wheel), so a page needs no script and no network. Its CSS and a math font cut to
  the site's characters are copied into the site.
* `mathjax`: the TeX is passed through, HTML-escaped, between its delimiters, for MathJax to typeset
  in the browser from `mathjax_url`.

A new engine is one more class here and one more line in `ENGINES`.
"""

from __future__ import annotations

import atexit
import hashlib
import html
import json
import re
from collections.abc import Iterable
from typing import Callable, ClassVar, cast

from litdoc import math_assets as _assets
from litdoc.model import LitdocError

__all__ = ["ENGINES", "MathEngine", "MathJax", "MathML", "math_engine"]

# The font file and how to make it: (output path, cache key, make).
FontOutput = tuple[str, str, Callable[[], bytes]]
# A formula an engine converted: (TeX, display, the HTML it became).
Converted = tuple[str, bool, str]

# `\mathop{Word}` makes Temml set each letter as its own operator, stacked under a limit;
# wrapped in \mathrm it is one upright word, as LaTeX prints it.
_MATHOP_WORD = re.compile(r"\\mathop\s*\{\s*([A-Za-z]{2,})\s*\}")
# LaTeX numbers every row of these; the starred form numbers none.
_NUMBERED_ENVIRONMENT = re.compile(r"\\(begin|end)\{(align|alignat|equation|gather|multline|flalign)\}")
# A lone surrogate would not cross JSON into V8 as it crosses a direct call: such a formula is converted alone.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Temml underlines the offending text with U+0332; in a one-line error message it is noise.
_COMBINING_LOW_LINE = "\u0332"
# An expression quoted in an error message is cut to this many characters.
_QUOTE_LIMIT = 80
_ANNOTATION_OPEN = '<annotation encoding="application/x-tex">'

# Calls Temml and turns its exception into a string, so that Python sees the message only.
# `annotate`: the MathML carries its TeX (<annotation encoding="application/x-tex">), for copying
# and for screen readers.
TEMML_CALL = """
function litdocTemml(tex, display) {
  try {
    return "ok:" + temml.renderToString(tex, {displayMode: display, throwOnError: true, annotate: true});
  } catch (e) {
    return "error:" + (e && e.message ? e.message : String(e));
  }
}
function litdocTemmlMany(json) {
  return JSON.stringify(JSON.parse(json).map(function (item) { return litdocTemml(item[0], item[1]); }));
}
"""


def formula_id(tex: str, display: bool) -> str:
    """A formula's name in a page's remembered list and in the build's cache of conversions (`litdoc.build`):
    the SHA-256 of its mode and its TeX, cut to 24 hex digits."""
    return hashlib.sha256(("D" if display else "I").encode() + tex.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line (as every litdoc error), cut to `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        return line[: limit - 1] + "\u2026"
    return line


class MathEngine:
    """The interface (see the module's notes); `name` is the `math` setting that chooses it."""

    name: ClassVar[str] = ""
    # MathJax reads the page's text for `$`: a dollar the notes mean as money must reach it escaped.
    escape_text_dollars: ClassVar[bool] = False

    def render(self, tex: str, display: bool, path: str, line: int) -> str:
        """The HTML of one formula; a `LitdocError` at `path:line` when the engine refuses the TeX."""
        raise NotImplementedError

    def head_html(self, root: str) -> str:
        """What the page's `<head>` needs; `root` is the page's relative path to the output root."""
        raise NotImplementedError

    def assets(self) -> list[tuple[str, bytes]]:
        """(output path, bytes) of every file the site must carry, but the font (`site_font`)."""
        return []

    def prepare(self, formulas: Iterable[tuple[str, bool]]) -> None:
        """A hint: the formulas (TeX, display) that `render` will be asked for next, in order. An engine may
        convert them together and remember them; `render` still reports any error, in its turn."""

    def glyphs(self, page_html: str) -> str:
        """The characters of a page's math, for the site's font; "" when the engine ships no font."""
        return ""

    def recall(self, converted: Iterable[Converted]) -> None:
        """Formulas an earlier build converted (kept in the cache folder): `render` gives each as it is,
        without converting it again. An engine that converts nothing ignores them."""

    def page_formulas(self) -> tuple[tuple[str, ...], tuple[Converted, ...]]:
        """Since the last call: the `formula_id` of each formula rendered, and the formulas converted anew
        (not recalled, not converted before in this process). A page's renderer calls it before and after
        the page; the build remembers both, so that the next build converts none of them again."""
        return (), ()

    def site_font(self, glyphs: Iterable[str]) -> FontOutput | None:
        """The math font cut to the characters of every page (`glyphs` of each); None for none."""
        return None


class _Temml:
    """Temml in a V8 context: built once per process, then a few tens of microseconds per expression.

    The context is closed when the process exits: left to the garbage collector at interpreter
    shutdown, mini-racer can block on its own event-loop thread, and a build must never hang."""

    def __init__(self) -> None:
        from py_mini_racer import MiniRacer  # imported here so that MathJax mode never starts V8

        self._context = MiniRacer()
        atexit.register(self._context.close)
        self._context.eval(_assets.temml_js())
        self._context.eval(TEMML_CALL)
        # A JS function; mini-racer types every evaluated value as a union of what JS can return.
        self._call = cast(Callable[[str, bool], str], self._context.eval("litdocTemml"))
        self._call_many = cast(Callable[[str], str], self._context.eval("litdocTemmlMany"))

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        """(MathML, None) or (None, Temml's error message)."""
        return self._result(str(self._call(tex, display)))

    def render_many(self, formulas: list[tuple[str, bool]]) -> list[tuple[str | None, str | None]]:
        """`render` of each formula, in one call into V8 (a call costs about a millisecond, most formulas
        less than half of that). The TeX goes in and the results come out as JSON, which carries every
        string that has no lone surrogate unchanged (the caller sends none)."""
        results = json.loads(str(self._call_many(json.dumps(formulas))))
        return [self._result(str(result)) for result in results]

    @staticmethod
    def _result(result: str) -> tuple[str | None, str | None]:
        if result.startswith("ok:"):
            return result[3:], None
        message = result[len("error:") :].replace(_COMBINING_LOW_LINE, "")
        return None, one_line(message)


def _annotate_with(mathml: str, tex: str) -> str:
    """The MathML with `tex`, the author's TeX, as its annotation, in place of the TeX that Temml was
    given (`align*` for `align`, `\\mathop{\\mathrm{..}}`): copying gives back what was written."""
    head, found, tail = mathml.rpartition(_ANNOTATION_OPEN)
    end = tail.find("</annotation>")
    if not found or end < 0:
        return mathml
    return head + found + html.escape(tex, quote=False) + tail[end:]


class MathML(MathEngine):
    """MathML at build time, by Temml; remembers each formula it has converted, or was given (`recall`)."""

    name = "mathml"

    def __init__(self, numbered_equations: bool = False):
        # LaTeX numbers every row of `align`; the seed pages number none and nothing refers to the
        # numbers, so by default the starred form is used and only `\tag` numbers a row.
        self.numbered_equations = numbered_equations
        self._temml: _Temml | None = None
        self._cache: dict[tuple[str, bool], str] = {}
        # Since the last `page_formulas`: the formulas rendered, and those of them Temml converted.
        self._rendered: dict[tuple[str, bool], None] = {}
        self._converted: dict[tuple[str, bool], None] = {}

    def render(self, tex: str, display: bool, path: str, line: int) -> str:
        key = (tex, display)
        self._rendered[key] = None
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        tex_in = self._temml_input(tex)
        mathml, error = self._engine().render(tex_in, display)
        if error is not None or mathml is None:
            # Quoted on one line and cut short: a 6 KB generated formula is not an error message.
            delimiter = "$$" if display else "$"
            raise LitdocError(
                path,
                line,
                f"TeX error in {delimiter}{one_line(tex, _QUOTE_LIMIT)}{delimiter}: "
                f"{one_line(error or 'no MathML', 2 * _QUOTE_LIMIT)}",
            )
        return self._remember(key, tex_in, mathml)

    def _engine(self) -> _Temml:
        """Temml in V8, started at the site's first formula."""
        if self._temml is None:
            self._temml = _Temml()
        return self._temml

    def _remember(self, key: tuple[str, bool], tex_in: str, mathml: str) -> str:
        """Temml's MathML for the formula `key`, annotated with the author's TeX where Temml was given
        another (`_temml_input`), kept for the next time it is asked for."""
        if tex_in != key[0]:
            mathml = _annotate_with(mathml, key[0])
        self._cache[key] = mathml
        self._converted[key] = None
        return mathml

    def recall(self, converted: Iterable[Converted]) -> None:
        for tex, display, mathml in converted:
            self._cache[(tex, display)] = mathml

    def page_formulas(self) -> tuple[tuple[str, ...], tuple[Converted, ...]]:
        rendered = tuple(formula_id(tex, display) for tex, display in self._rendered)
        converted = tuple((tex, display, self._cache[tex, display]) for tex, display in self._converted)
        self._rendered, self._converted = {}, {}
        return rendered, converted

    def _temml_input(self, tex: str) -> str:
        tex_in = _MATHOP_WORD.sub(r"\\mathop{\\mathrm{\1}}", tex)
        if not self.numbered_equations:
            tex_in = _NUMBERED_ENVIRONMENT.sub(r"\\\1{\2*}", tex_in)
        return tex_in

    def prepare(self, formulas: Iterable[tuple[str, bool]]) -> None:
        """Converts the formulas not yet remembered in one call into V8 and remembers those Temml accepts
        (each as `render` would: the same input, the same annotation); `render` converts a refused one again
        and reports its error where it stands on the page."""
        todo = [
            formula
            for formula in dict.fromkeys(formulas)
            if formula not in self._cache and not _LONE_SURROGATE.search(formula[0])
        ]
        if len(todo) < 2:
            return
        inputs = [(self._temml_input(tex), display) for tex, display in todo]
        for key, (tex_in, _), (mathml, error) in zip(todo, inputs, self._engine().render_many(inputs)):
            if error is None and mathml is not None:
                self._remember(key, tex_in, mathml)

    def head_html(self, root: str) -> str:
        base = f"{root.rstrip('/')}/{_assets.MATH_DIR}" if root not in ("", ".") else _assets.MATH_DIR
        return "\n".join(f'<link rel="stylesheet" href="{html.escape(base)}/{name}">' for name in _assets.STYLESHEETS)

    def assets(self) -> list[tuple[str, bytes]]:
        from litdoc.fontsubset import FONT_NAME

        font = f"{_assets.MATH_DIR}/{FONT_NAME}"
        return [(rel, data) for rel, data in _assets.mathml_assets() if rel != font]

    def glyphs(self, page_html: str) -> str:
        from litdoc.fontsubset import math_characters

        return math_characters(page_html)

    def site_font(self, glyphs: Iterable[str]) -> FontOutput:
        """The key names the characters and the shipped font's bytes. It also names fontTools' version,
        which decides the cut font's bytes; the key is the cache's (never committed: `litdoc.store`)."""
        import hashlib

        import fontTools

        from litdoc.fontsubset import FONT_NAME, subset_font

        rel = f"{_assets.MATH_DIR}/{FONT_NAME}"
        shipped = dict(_assets.mathml_assets())[rel]
        characters = "".join(sorted(set("".join(glyphs))))
        key = hashlib.sha256(
            "\0".join([characters, hashlib.sha256(shipped).hexdigest(), fontTools.version]).encode()
        ).hexdigest()
        if not characters:
            # No page shows math, so no browser asks for the font: it goes as shipped, not cut (cutting
            # reads all 4,060 glyphs, most of a math-free site's first build).
            return rel, key, lambda: shipped
        return rel, key, lambda: subset_font(shipped, characters)


class MathJax(MathEngine):
    """The TeX between its delimiters, HTML-escaped, for MathJax 2 in the browser."""

    name = "mathjax"
    escape_text_dollars = True

    def __init__(self, url: str):
        self.url = url

    def render(self, tex: str, display: bool, path: str, line: int) -> str:
        # MathJax finds the math by its delimiters in the page text; escaping keeps `<` and `&` out of
        # the HTML parser's way and the browser hands MathJax the original text.
        if tex.lstrip().startswith("\\begin{") and display:
            return html.escape(tex, quote=False)
        delimiter = "$$" if display else "$"
        return f"{delimiter}{html.escape(tex, quote=False)}{delimiter}"

    def head_html(self, root: str) -> str:
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
            f'<script async src="{html.escape(self.url)}"></script>'
        )


# The `math` setting's values, and the engine each one names.
ENGINES: dict[str, Callable[[str, bool], MathEngine]] = {
    "mathml": lambda url, numbered: MathML(numbered),
    "mathjax": lambda url, numbered: MathJax(url),
}


def math_engine(name: str, mathjax_url: str, numbered_equations: bool = False) -> MathEngine:
    """The engine that `math = name` chooses; a one-line error for a name litdoc does not know."""
    make = ENGINES.get(name)
    if make is None:
        raise LitdocError("[tool.litdoc]", 0, f"math = {name!r}: expected one of {', '.join(ENGINES)}")
    return make(mathjax_url, numbered_equations)
