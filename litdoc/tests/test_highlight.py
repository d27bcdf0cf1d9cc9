"""`litdoc.highlight`: one pass per file, original line numbers, escaping."""

import re

from litdoc.highlight import highlight_sections, pygments_css
from litdoc.model import Section
from litdoc.parse import parse_module

SOURCE = '''\
"""Module."""
import math

# Compare
if a < b & c:
    s = """
    <tag> & more
    """


def f(x):
    """Doc."""
    return x
'''


def line_numbers(html: str):
    return [int(n) for n in re.findall(r'<span class="lineno">(\d+)</span>', html)]


def visible_text(html: str) -> str:
    text = re.sub(r'<span class="lineno">\d+</span>', "", html)
    text = re.sub(r"<[^>]+>", "", text)
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&amp;", "&")
    )


def test_each_section_shows_its_original_line_numbers():
    sections = parse_module(SOURCE, "m.py").sections
    html = highlight_sections(sections)
    assert [line_numbers(h) for h in html] == [[2], [5, 6, 7, 8], [11], [13]]
    assert all(h.startswith('<div class="highlight"><pre>') and h.endswith("</pre></div>") for h in html)


def test_code_text_round_trips_and_is_escaped():
    sections = parse_module(SOURCE, "m.py").sections
    html = highlight_sections(sections)
    assert "<tag>" not in html[1] and "&lt;tag&gt; &amp; more" in html[1]
    assert 'a</span> <span class="o">&lt;</span>' in html[1]
    inner = html[1][len('<div class="highlight"><pre>') : -len("</pre></div>")]
    assert visible_text(inner) == "\n".join(text for _, text in sections[1].code_lines)


def test_one_pass_keeps_context_across_sections():
    # The string opened in the first section is still a string in the second: a per-section
    # lexer would read `# not docs` as a comment and `"""` as an opening quote.
    sections = [
        Section(code_lines=((1, 's = """'),)),
        Section(docs="between", doc_lines=(2,)),
        Section(code_lines=((3, "# not docs"), (4, '"""'))),
    ]
    html = highlight_sections(sections)
    assert html[1] == ""
    assert html[2] == (
        '<div class="highlight"><pre><span class="line"><span class="lineno">3</span>'
        '<span class="s2"># not docs</span>\n</span>'
        '<span class="line"><span class="lineno">4</span><span class="s2">&quot;&quot;&quot;</span></span></pre></div>'
    )


def test_a_lines_leading_whitespace_is_its_hanging_indent():
    # The theme hangs a wrapped line at its statement's depth: the whitespace is set apart (and kept, so
    # the text is unchanged) and its width in columns, tabs at 8, is the line's --indent.
    sections = [Section(code_lines=((1, "def f(x):"), (2, "    return x"), (3, "\tif x:"), (4, "  "), (5, "")))]
    html = highlight_sections(sections)[0]
    assert '<span class="line"><span class="lineno">1</span><span class="k">def</span>' in html
    assert (
        '<span class="line" style="--indent:4"><span class="lineno">2</span><span class="indent">    </span>'
        '<span class="k">return</span>'
    ) in html
    assert '<span class="line" style="--indent:8"><span class="lineno">3</span><span class="indent">\t</span>' in html
    assert '<span class="line" style="--indent:2"><span class="lineno">4</span><span class="indent">  </span>\n' in html
    inner = html[len('<div class="highlight"><pre>') : -len("</pre></div>")]
    assert visible_text(inner) == "def f(x):\n    return x\n\tif x:\n  \n"


def test_blank_code_lines_keep_their_numbers():
    html = highlight_sections([Section(code_lines=((7, "x = 1"), (8, ""), (9, "y = 2")))])
    assert line_numbers(html[0]) == [7, 8, 9]
    assert '<span class="lineno">8</span>\n' in html[0]


def test_css_has_light_and_dark_token_colours():
    css = pygments_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    assert ".highlight .k " in light and ".highlight .k " in dark
    assert ".highlight .lineno" in light
    keyword = re.compile(r"\.highlight \.k \{[^}]*color: (#[0-9A-Fa-f]+)")
    assert keyword.search(light).group(1) != keyword.search(dark).group(1)
