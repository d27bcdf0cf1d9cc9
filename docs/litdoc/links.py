# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Links in a page's rendered notes: each `<a href>` rewritten (a link to `adam.py` becomes `adam.html`)
by `litdoc.site.rewrite_link`, every other byte of the HTML kept as it was.

An HTML parser finds the tags, so a `href` inside a code span or an attribute value is never taken
for a link; only the tags it changes are written again.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from typing import Callable

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
        if tag != "a" or not any(name == "href" for name, _ in attrs):
            return
        new_attrs = [
            (name, self.rewrite(value) if name == "href" and value is not None else value) for name, value in attrs
        ]
        if new_attrs == attrs:
            return
        line, column = self.getpos()
        start = self.line_starts[line - 1] + column
        raw = self.get_starttag_text() or ""
        rebuilt = (
            "<a"
            + "".join(
                f' {name}="{escape(value, quote=True)}"' if value is not None else f" {name}"
                for name, value in new_attrs
            )
            + (" />" if raw.endswith("/>") else ">")
        )
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


def rewrite_links(html: str, rewrite: Callable[[str], str]) -> str:
    if "<a " not in html:  # most sections link nowhere; parsing them would be wasted
        return html
    return _LinkRewriter(html, rewrite).result()
