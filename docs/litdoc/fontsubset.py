# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The math font cut down to the glyphs a site's math uses.

Noto Sans Math is 270 KB; a page of optimizer math uses a few hundred of its 4,060 glyphs. fontTools
keeps, for every character kept, the glyphs the MATH table reaches from it (larger sizes and the
pieces of stretched parentheses, roots and arrows), so stretchy math still stretches. The result is
WOFF2 again, under the same name, so the stylesheet is unchanged.

The characters come from the rendered MathML of every page (`math_characters`, kept per page in the
build's manifest), never from the TeX: Temml decides which characters the MathML holds. The head table's
dates are kept as shipped, so the same characters give the same bytes.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable

FONT_NAME = "NotoSansMath-Regular.woff2"
# Characters a page may show in math without them being in its MathML: the equation number that
# Temml's stylesheet writes with `content: "(" counter(tmlEqnNo) ")"`.
# Chromium sets a one-letter <mi> in italic by drawing the letter's Mathematical Italic code point
# (MathML Core's `text-transform: math-auto`), which is in no page's text: the italic Latin and Greek
# alphabets are always kept (U+210E is the italic h, which Unicode placed early).
ALWAYS = (
    "()0123456789\u221a\u210e"
    + "".join(chr(c) for c in range(0x1D434, 0x1D468))
    + "".join(chr(c) for c in range(0x1D6E2, 0x1D71C))
)
# Glyphs that MathML elements draw without a character: the radical sign of <msqrt> and <mroot>.

_MATH = re.compile(r"<math\b.*?</math>", re.S)
_ANNOTATION = re.compile(r"<annotation\b.*?</annotation>", re.S)
_TAG = re.compile(r"<[^>]*>")


def math_characters(page_html: str) -> str:
    """The characters inside a page's `<math>` elements (not their TeX annotation), sorted, unique."""
    found: set[str] = set()
    for math in _MATH.findall(page_html):
        found.update(html.unescape(_TAG.sub("", _ANNOTATION.sub("", math))))
    found.discard("\n")
    return "".join(sorted(found))


def subset_font(font_data: bytes, characters: Iterable[str]) -> bytes:
    """`font_data` (WOFF2) keeping only `characters` and what the MATH table reaches from them."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    text = "".join(sorted(set("".join(characters)) | set(ALWAYS)))
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # ssty (script sizes), and the rest that MathML layout asks for
    options.name_IDs = ["*"]  # the licence and the names stay as shipped
    options.notdef_outline = True
    options.drop_tables = []
    font = TTFont(io.BytesIO(font_data), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out, reorderTables=True)
    return out.getvalue()
