# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""HTML that litdoc rendered, read fast: its tags in a strict grammar, or None where the text leaves it.

The notes' HTML is read twice per page after it is rendered: for the text the search index holds, and
for the links that are rewritten (`adam.py` to `adam.html`). Both were read by `html.parser`, which
costs about ten times what this does. The grammar covers what litdoc writes: a start tag
`<name attr="value" ...>` (or `/>`), an end tag `</name>`, text between them. On it, the events here are
those HTMLParser gives: the same tags (lower-cased), attributes (names lower-cased, values unescaped, a
bare one None), and text. Anything else (a comment, a declaration, a lone `<`, an element whose content
HTMLParser reads as raw text, an attribute the grammar does not cover) returns None, and the caller reads
that fragment with HTMLParser as before.
"""

from __future__ import annotations

import html
import re
from typing import Union

__all__ = ["Data", "EndTag", "StartTag", "attributes", "scan"]

_START_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
    r"""(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s"'=<>`]+))?)*)\s*(/?)>"""
)
_ATTRIBUTE = re.compile(r"""\s+([^\s=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s]+))?""")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
# Elements whose content HTMLParser reads as raw text (and which later Pythons read as RCDATA).
_RAW_TEXT = frozenset("script style textarea title xmp iframe noembed noframes noscript plaintext".split())

Data = tuple[int, int]  # (start, end) of text, entities not yet replaced
StartTag = tuple[int, int, str, str, bool]  # (start, end, tag, its attributes' text, ends with />)
EndTag = tuple[int, int, str]
Event = Union[Data, StartTag, EndTag]


def scan(text: str) -> list[Event] | None:
    """The events of `text` in order, or None if some of it is outside the grammar."""
    events: list[Event] = []
    position, end = 0, len(text)
    find, start_tag, end_tag = text.find, _START_TAG.match, _END_TAG.match
    while position < end:
        lt = find("<", position)
        if lt < 0:
            lt = end
        if lt > position:
            events.append((position, lt))
        if lt == end:
            break
        found = start_tag(text, lt)
        if found is not None:
            tag = found.group(1).lower()
            if tag in _RAW_TEXT:
                return None
            events.append((lt, found.end(), tag, found.group(2), bool(found.group(3))))
        else:
            found = end_tag(text, lt)
            if found is None:
                return None
            events.append((lt, found.end(), found.group(1).lower()))
        position = found.end()
    return events


def attributes(text: str) -> list[tuple[str, str | None]]:
    """A start tag's attributes as HTMLParser gives them, from the text `scan` returned for them."""
    out: list[tuple[str, str | None]] = []
    for found in _ATTRIBUTE.finditer(text):
        value = found.group(2)
        if value is not None:
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            value = html.unescape(value)
        out.append((found.group(1).lower(), value))
    return out
