"""The committed site (docs/): every formula of every page became MathML, none is left as TeX."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
# A TeX control word in the text a reader sees (outside <math>, <code>, <pre>, <script>, <annotation>).
RAW_TEX = re.compile(r"\\(?:frac|sqrt|alpha|beta|theta|hat|sum|begin|end|mathbb|text|cdot|odot)\b|\$\$")


class VisibleText(HTMLParser):
    SKIP = {"math", "code", "pre", "script", "style", "annotation"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.text.append(data)


PAGES = sorted(p for p in DOCS.rglob("*.html") if "litdoc" not in p.relative_to(DOCS).parts[:1])


def test_the_site_has_pages_with_math():
    with_math = [p for p in PAGES if "<math" in p.read_text(encoding="utf-8")]
    assert len(with_math) >= 15, len(with_math)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_no_tex_left_in_the_visible_text(page):
    parser = VisibleText()
    parser.feed(page.read_text(encoding="utf-8"))
    text = "".join(parser.text)
    assert not RAW_TEX.search(text), RAW_TEX.search(text).group(0)
