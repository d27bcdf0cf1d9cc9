# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Links in a page's rendered notes: each `<a href>` rewritten (a link to `adam.py` becomes `adam.html`)
by `litdoc.site.rewrite_link`, every other byte of the HTML kept as it was.

The tags are found as an HTML parser finds them (`litdoc.htmlscan` on litdoc's own HTML, `html.parser`
on anything else), so a `href` inside a code span or an attribute value is never taken for a link; only
the tags it changes are written again.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from typing import Callable

from litdoc import htmlscan

__all__ = ["rewrite_links"]


class _LinkRewriter(HTMLParser):
    """Rewrites the `href` of each `<a>` in rendered Markdown, keeping every other byte as it was."""

    def __init__(self, text: str, rewrite: Callable[[str], str]):
        super().__init__(convert_charrefs=True)
        self.text = text
        self.rewrite = rewrite
        self.line_starts = [0]
        position = text.find("\n")
        while position >= 0:
            self.line_starts.append(position + 1)
            position = text.find("\n", position + 1)
        self.edits: list[tuple[int, int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        raw = self.get_starttag_text() or ""
        rebuilt = _rebuilt(attrs, self.rewrite, raw.endswith("/>"))
        if rebuilt is None:
            return
        line, column = self.getpos()
        start = self.line_starts[line - 1] + column
        self.edits.append((start, start + len(raw), rebuilt))

    def result(self) -> str:
        self.feed(self.text)
        self.close()
        out, last = [], 0
        for start, end, replacement in self.edits:
            out.append(self.text[last:start])
            out.append(replacement)
            last = end
        out.append(self.text[last:])
        return "".join(out)


# An `<a` tag in any case, followed by what may end a tag's name (`<A HREF=...>` and `<a\nhref` too).
_MAY_LINK = re.compile(r"<a[\s/>]", re.IGNORECASE)


def _rebuilt(attrs: list[tuple[str, str | None]], rewrite: Callable[[str], str], closed: bool) -> str | None:
    """The `<a>` tag with its `href` rewritten, or None when that changes nothing."""
    if not any(name == "href" for name, _ in attrs):
        return None
    new_attrs = [(name, rewrite(value) if name == "href" and value is not None else value) for name, value in attrs]
    if new_attrs == attrs:
        return None
    return (
        "<a"
        + "".join(
            f' {name}="{escape(value, quote=True)}"' if value is not None else f" {name}" for name, value in new_attrs
        )
        + (" />" if closed else ">")
    )


def rewrite_links(html: str, rewrite: Callable[[str], str]) -> str:
    if _MAY_LINK.search(html) is None:  # most sections link nowhere; parsing them would be wasted
        return html
    events = htmlscan.scan(html)
    if events is None:  # outside litdoc's own grammar (an author's raw HTML): read as HTMLParser reads it
        return _LinkRewriter(html, rewrite).result()
    out, last = [], 0
    for event in events:
        if len(event) == 5 and event[2] == "a":
            start, end, _, attribute_text, closed = event
            rebuilt = _rebuilt(htmlscan.attributes(attribute_text), rewrite, closed)
            if rebuilt is not None:
                out += [html[last:start], rebuilt]
                last = end
    out.append(html[last:])
    return "".join(out)
