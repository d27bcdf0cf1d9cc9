"""`litdoc.pages`: the helpers between the stages and the templates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litdoc.links import _LinkRewriter, rewrite_links
from litdoc.model import LitdocError
from litdoc.pages import decode_source, markdown_module


def test_rewrite_links_changes_only_hrefs_of_anchors():
    html = (
        '<p>See <a href="a.py">a</a>, <a title="x &amp; y" href="b.py#s-1">b</a>\n'
        '<img src="c.py"> <a name="n">n</a> <a href=\'d.py\'>d</a></p>\n<pre>href="e.py"</pre>'
    )
    out = rewrite_links(html, lambda url: url.replace(".py", ".html"))
    assert out == (
        '<p>See <a href="a.html">a</a>, <a title="x &amp; y" href="b.html#s-1">b</a>\n'
        '<img src="c.py"> <a name="n">n</a> <a href="d.html">d</a></p>\n<pre>href="e.py"</pre>'
    )


def test_rewritten_hrefs_are_escaped_and_untouched_html_is_returned_as_is():
    html = "<p>no links here &amp; <em>none</em></p>"
    assert rewrite_links(html, lambda url: 1 / 0) is html
    assert rewrite_links('<a href="x">x</a>', lambda url: 'a"b<c') == '<a href="a&quot;b&lt;c">x</a>'


def test_decode_source_names_the_line_of_bad_bytes():
    assert decode_source("\ufeffx = 1\n".encode("utf-8"), "a.py") == "x = 1\n"
    with pytest.raises(LitdocError) as error:
        decode_source(b"x = 1\ny = '\xff'\n", "a.py")
    assert str(error.value) == "a.py:2: not UTF-8: byte 0xff cannot be decoded"
    with pytest.raises(LitdocError) as error:
        decode_source(b"x\n\n\x00\x01", "b.py")
    assert str(error.value).startswith("b.py:3: binary file")


def test_a_markdown_file_is_one_section_with_its_line_numbers():
    module = markdown_module("# T\r\n\r\nText\r\n", "n.md")
    (section,) = module.sections
    assert section.docs == "# T\n\nText\n" and section.code_lines == ()
    assert section.docs_line_numbers == (1, 2, 3, 4)


def test_a_markdown_page_splits_lines_where_python_does():
    # A lone CR ends a line, so an error on the third line is reported on line 3.
    module = markdown_module("# Title\rtext\r\nmore", "notes.md")
    assert module.sections[0].docs == "# Title\ntext\nmore"
    assert module.sections[0].docs_line_numbers == (1, 2, 3)


def test_outline_headings_keep_their_rendered_math():
    from litdoc.pages import heading_html

    html = '<h2 id="the-rate-alpha">The rate <span class="math inline"><math><mi>α</mi></math></span> and <a href="x.html">a link</a></h2>'
    assert heading_html(html) == {
        "the-rate-alpha": 'The rate <span class="math inline"><math><mi>α</mi></math></span> and a link'
    }


_LINK_PIECES = [
    "<p>", "</p>", '<a href="x.py">', "<a href='y.py#q' title=\"t &amp; u\">", "<A HREF=z.py>", "</a>",
    "<a name=n>", "<a href>", '<a href="x.py"/>', '<a  href = "w.py" >', "text", "&amp;", "<code>", "</code>",
    '<a href="&quot;.py">', '<a href="http://e.py">', '<a data-x="1" href="k.py">', '<span class="math">',
    "</span>", "\n", "<!-- c -->", "<", "<script>",
]  # fmt: skip


@given(st.lists(st.sampled_from(_LINK_PIECES), max_size=25))
def test_links_are_rewritten_as_html_parser_reads_them(pieces):
    # litdoc's own HTML is read by htmlscan's strict grammar; what leaves it goes to HTMLParser, as all did.
    text = "".join(pieces)

    def rewrite(href):
        return href if href.startswith("http") else href.replace(".py", ".html")

    expected = _LinkRewriter(text, rewrite).result()
    assert rewrite_links(text, rewrite) == expected


def test_a_link_in_capitals_or_across_lines_is_rewritten_too():
    # An author's raw HTML: `<A HREF=...>` and `<a` then a newline were left pointing at the .py source.
    def rewrite(href):
        return href.replace(".py", ".html")

    assert rewrite_links('<A HREF="x.py">x</A>', rewrite) == '<a href="x.html">x</A>'
    assert rewrite_links('<a\nhref="y.py">y</a>', rewrite) == '<a href="y.html">y</a>'
