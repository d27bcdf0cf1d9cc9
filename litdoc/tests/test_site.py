"""`litdoc.site`: the pure mapping of a source tree to pages, breadcrumbs, links and the sitemap."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from litdoc.model import Breadcrumb, FrontMatter, Section
from litdoc.pages import markdown_module
from litdoc.parse import page_title
from litdoc.site import (
    ASSET,
    LISTING,
    MARKDOWN,
    PYTHON,
    SourceFile,
    _relpath,
    breadcrumbs,
    relative_url,
    rewrite_link,
    root_of,
    scan_tree,
    sitemap_xml,
    source_url,
)


def write(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n" if rel.endswith(".py") else "# T\n", encoding="utf-8")


def test_outputs_mirror_the_sources(tmp_path):
    write(
        tmp_path,
        "__init__.py",
        "a.py",
        "pkg/__init__.py",
        "pkg/README.md",
        "pkg/b.py",
        "pkg/fig.png",
        "notes/readme.md",
        "notes/extra.md",
        "deep/er/c.py",
        "pkg/__pycache__/b.cpython-311.pyc",
        ".hidden/x.py",
        "pkg/.secret.py",
    )
    tree, conflicts = scan_tree(tmp_path)
    assert conflicts == []
    mapping = {f.source_path: (f.output_path, f.kind) for f in tree.files}
    assert mapping == {
        "__init__.py": ("index.html", PYTHON),
        "a.py": ("a.html", PYTHON),
        "pkg/__init__.py": ("pkg/index.html", PYTHON),
        "pkg/README.md": ("pkg/readme.html", MARKDOWN),
        "pkg/b.py": ("pkg/b.html", PYTHON),
        "pkg/fig.png": ("pkg/fig.png", ASSET),
        "notes/readme.md": ("notes/index.html", MARKDOWN),
        "notes/extra.md": ("notes/extra.html", MARKDOWN),
        "deep/er/c.py": ("deep/er/c.html", PYTHON),
        # Folders on the way to a page without an index page of their own get a listing.
        "deep": ("deep/index.html", LISTING),
        "deep/er": ("deep/er/index.html", LISTING),
    }
    assert [f.output_path for f in tree.files] == sorted(f.output_path for f in tree.files)


def test_two_sources_for_one_output_is_a_conflict(tmp_path):
    write(tmp_path, "x.py", "x.md", "_litdoc/y.py", "sitemap.xml", "sub/sitemap.xml")
    tree, conflicts = scan_tree(tmp_path)
    assert ("x.md", "would be written to x.html, which x.py already produces") in conflicts
    assert any(path == "_litdoc/y.py" and "reserved" in reason for path, reason in conflicts)
    assert any(path == "sitemap.xml" and "generates" in reason for path, reason in conflicts)
    assert {f.source_path for f in tree.files} == {"x.py", "sub/sitemap.xml", ""}


def test_every_output_collision_is_found_when_the_tree_is_scanned(tmp_path):
    """Issue: one output claimed by two writers went unreported (a page's notebook and a copied
    notebook, the 404 page, a page where a folder is needed); the manifest then recorded the wrong
    hash, and every build from the second on failed with "changed since litdoc wrote it"."""
    from litdoc.emitters import companion_paths

    write(
        tmp_path,
        "x.py",
        "x.ipynb",  # x.py's notebook is x.ipynb
        "pkg/__init__.py",
        "pkg/index.ipynb",  # pkg/__init__.py's notebook
        "404.md",  # the 404 page litdoc makes for the site
        "foo.py",
        "foo.html/a.svg",  # foo.py's page is the file foo.html
        "bar.html/b.py",  # a page inside the folder bar.html ...
        "bar.py",  # ... so bar.py's page cannot be that file
        "ok.py",
    )
    tree, conflicts = scan_tree(tmp_path, companions=companion_paths, reserved={"404.html": "the 404 page"})
    reasons = dict(conflicts)
    assert reasons == {
        "x.ipynb": "would be written to x.ipynb, which x.py already produces",
        "pkg/index.ipynb": "would be written to pkg/index.ipynb, which pkg/__init__.py already produces",
        "404.md": "its output, 404.html, is the 404 page: rename the source",
        "foo.html/a.svg": "its output, foo.html/a.svg, needs a folder at foo.html, which foo.py produces as a file",
        "bar.py": "its output, bar.html, is a folder of the site, which bar.html/b.py needs",
    }
    outputs = {f.output_path for f in tree.files}
    assert {"x.html", "pkg/index.html", "foo.html", "bar.html/b.html", "ok.html"} <= outputs
    assert not {"x.ipynb", "pkg/index.ipynb", "404.html", "foo.html/a.svg", "bar.html"} & outputs


def test_breadcrumbs_climb_to_home(tmp_path):
    write(tmp_path, "__init__.py", "a/__init__.py", "a/b/__init__.py", "a/b/c.py", "a/b/README.md")
    tree, _ = scan_tree(tmp_path)
    index = tree.folder_index()
    by_source = tree.by_source()
    assert breadcrumbs(by_source["a/b/c.py"], index) == (
        Breadcrumb("home", "../../index.html"),
        Breadcrumb("a", "../index.html"),
        Breadcrumb("b", "index.html"),
    )
    assert breadcrumbs(by_source["a/b/__init__.py"], index) == (
        Breadcrumb("home", "../../index.html"),
        Breadcrumb("a", "../index.html"),
    )
    assert breadcrumbs(by_source["a/b/README.md"], index)[-1] == Breadcrumb("b", "index.html")
    assert breadcrumbs(by_source["__init__.py"], index) == ()


def test_links_to_sources_become_links_to_pages(tmp_path):
    write(tmp_path, "__init__.py", "opt/__init__.py", "opt/adam.py", "opt/README.md", "notes/README.md", "opt/fig.svg")
    tree, _ = scan_tree(tmp_path)
    sources, index = tree.by_source(), tree.folder_index()
    adam = sources["opt/adam.py"]

    def link(href: str, page: SourceFile = adam) -> str:
        return rewrite_link(href, page, sources, index)

    assert link("__init__.py") == "index.html"
    assert link("README.md#usage") == "readme.html#usage"
    assert link("../notes/README.md") == "../notes/index.html"
    assert link("../notes/") == "../notes/index.html"
    assert link("../__init__.py#section-2") == "../index.html#section-2"
    assert link("adam.py?x=1#a") == "adam.html?x=1#a"
    assert link("fig.svg") == "fig.svg"  # an asset keeps its place
    assert link("index.html") == "index.html"
    assert link("#section-3") == "#section-3"
    assert link("https://example.org/a.py") == "https://example.org/a.py"
    assert link("/abs/a.py") == "/abs/a.py"
    assert link("../../outside.py") == "../../outside.py"
    assert link("opt/adam.py", sources["__init__.py"]) == "opt/adam.html"


def test_paths_and_urls():
    assert relative_url("a/b/c.html", "index.html") == "../../index.html"
    assert relative_url("index.html", "a/b c.html") == "a/b%20c.html"
    assert root_of("a/b/c.html") == "../.." and root_of("index.html") == "."
    assert (
        source_url("https://git.example.org/r/blob/main/", "src", "a/b.py")
        == "https://git.example.org/r/blob/main/src/a/b.py"
    )
    assert source_url("", "src", "a.py") is None


def sections(*docs: str):
    return [Section(docs=text) for text in docs]


def test_title_comes_from_front_matter_then_heading_then_name():
    assert page_title(FrontMatter(title="Front"), sections("# Heading"), "file") == "Front"
    assert page_title(FrontMatter(), sections("text", "intro\n# Heading one\n## two"), "file") == "Heading one"
    assert page_title(FrontMatter(), sections("no heading"), "file") == "file"


def test_a_markdown_page_title_skips_comments_in_fenced_code():
    # One title rule for .py and .md pages: a shell comment in a fence is not a heading.
    text = "```bash\n# make a venv first\npython -m venv .venv\n```\n\n# The real title\n"
    module = markdown_module(text, "notes/setup.md")
    assert page_title(module.front_matter, module.sections, "setup") == "The real title"


def test_sitemap_is_sorted_escaped_and_valid():
    xml = sitemap_xml("https://example.org/site", ["b.html", "a&b.html", "index.html"])
    root = ET.fromstring(xml.encode("utf-8"))
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [u.find(f"{ns}loc").text for u in root.findall(f"{ns}url")]
    assert locs == [
        "https://example.org/site/a%26b.html",
        "https://example.org/site/b.html",
        "https://example.org/site/index.html",
    ]
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_excluded_paths_are_left_out(tmp_path):
    write(
        tmp_path, "pkg/__init__.py", "pkg/model.py", "pkg/data/big.csv", "pkg/theme/base.html", "notes.csv", "keep.md"
    )
    tree, conflicts = scan_tree(tmp_path, exclude=("theme", "*.csv", "pkg/data"))
    assert conflicts == []
    assert sorted(item.source_path for item in tree.files if item.kind != LISTING) == [
        "keep.md",
        "pkg/__init__.py",
        "pkg/model.py",
    ]


def test_a_pages_short_title_is_read_by_the_pages_own_front_matter_reader(tmp_path):
    """Issue 24: a second, regex reader of front matter showed a folded `title: >` as ">" in the
    previous/next links of the neighbouring pages."""
    from litdoc.context import front_matter_title
    from litdoc.parse import parse_module

    source = '# a comment first\nr"""\n---\ntitle: >\n  A folded\n  title\nsummary: s\n---\n\n# Heading\n"""\n\nX = 1\n'
    page = tmp_path / "folded.py"
    page.write_text(source, encoding="utf-8")
    assert front_matter_title(page) == "A folded title" == parse_module(source, "folded.py").front_matter.title
    plain = tmp_path / "plain.py"
    plain.write_text('X = """---\ntitle: not front matter\n---"""\n', encoding="utf-8")
    assert front_matter_title(plain) == ""  # a string that is not the module's docstring
    broken = tmp_path / "broken.py"
    broken.write_text('"""\n---\ntitle: never closed\n"""\n', encoding="utf-8")
    assert front_matter_title(broken) == ""  # its page reports the error


def test_the_chapter_tree_is_the_top_level_and_the_way_down_to_the_page():
    from litdoc.site import chapter_tree

    order = (
        "index.html",
        "figures.html",
        "a/index.html",
        "a/one.html",
        "b/index.html",
        "b/second.html",
        "b/first.html",
        "b/c/index.html",
        "b/c/deep.html",
    )
    assert chapter_tree("b/c/deep.html", order) == [
        (0, "index.html"),
        (0, "figures.html"),
        (0, "a/index.html"),
        (0, "b/index.html"),
        (1, "b/second.html"),  # reading order, not the alphabet
        (1, "b/first.html"),
        (1, "b/c/index.html"),
        (2, "b/c/deep.html"),
    ]
    assert chapter_tree("figures.html", order) == [
        (0, "index.html"),
        (0, "figures.html"),
        (0, "a/index.html"),
        (0, "b/index.html"),
    ]


_PART = st.sampled_from(["a", "b", "pkg", "index.html", "x.py", "."])


@given(st.lists(_PART, max_size=4), st.lists(_PART, max_size=4))
def test_relative_paths_match_posixpaths_relpath(to_parts, from_parts):
    # relative_url and root_of compute the path without the file system; posixpath.relpath is the reference.
    to, start = "/".join(to_parts) or ".", "/".join(from_parts)
    assert _relpath(to, start) == posixpath.relpath(to, start or ".")
