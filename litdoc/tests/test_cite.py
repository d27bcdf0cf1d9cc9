"""BibTeX from front matter: every entry litdoc makes is read back by a real BibTeX parser
(bibtexparser), its braces balance the way BibTeX counts them, and each field decodes to the text the
front matter gave."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litdoc import cite
from litdoc.model import LitdocError

if sys.version_info < (3, 10):  # pragma: no cover - bibtexparser 2 needs 3.10; the rest of the suite runs
    pytest.skip("bibtexparser 2 needs Python 3.10", allow_module_level=True)

import bibtexparser
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

# pylatexenc lacks the LaTeX kernel's \textbraceleft and \textbraceright and prints \textasciicircum
# as U+02C6; these are the kernel's meanings.
_CONTEXT = get_default_latex_context_db().filter_context()
_CONTEXT.add_context_category(
    "litdoc-test",
    prepend=True,
    macros=[
        MacroTextSpec("textbraceleft", "{"),
        MacroTextSpec("textbraceright", "}"),
        MacroTextSpec("textasciicircum", "^"),
    ],
)
_DECODER = LatexNodes2Text(latex_context=_CONTEXT, math_mode="verbatim")
VERBATIM = {"url", "doi", "eprint", "archiveprefix", "primaryclass", "year", "date"}


def bibtex_balanced(text: str) -> bool:
    """BibTeX's own rule: every `{` and `}` counts, backslash or not, and depth never goes below 0."""
    depth = 0
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def read_back(bibtex: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, {field: decoded value}) for each entry; fails on anything BibTeX would refuse."""
    for entry_text in bibtex.split("\n\n"):
        assert bibtex_balanced(entry_text), entry_text
    library = bibtexparser.parse_string(bibtex)
    assert not library.failed_blocks, [block.error for block in library.failed_blocks]
    assert len(library.entries) == bibtex.count("\n@") + bibtex.startswith("@")
    entries = []
    for entry in library.entries:
        fields = {}
        for field in entry.fields:
            assert bibtex_balanced(field.value), (field.key, field.value)
            name = field.key.lower()
            fields[name] = field.value if name in VERBATIM else _DECODER.latex_to_text(field.value)
        entries.append((entry.entry_type, entry.key, fields))
    return entries


def folded(text: str) -> str:
    return " ".join(text.split())


# Values that broke entries or could: lone and doubled braces, trailing and doubled backslashes, TeX's
# specials, TeX the author may have meant (`{A}dam` is text: it prints with its braces), non-ASCII.
NASTY = [
    "Adam: A Method for Stochastic Optimization",
    "An unclosed { brace",
    "A closing } brace first",
    "}{ reversed }}}",
    "ends with a backslash \\",
    "\\",
    "a \\} escaped-looking brace and \\{",
    "{A}dam and {LLM}s",
    "50% of 100$ & #1 in a_b ~ x^2",
    "\\textbf{bold} and \\",
    "Łukasz Kaiser and Jürgen's ÆØÅ",
    "  spaces\tand\nnewlines  ",
    "@misc{inject, title={x}}",
    'a "quoted" title',
]


@pytest.mark.parametrize("value", NASTY)
def test_every_field_reads_back_as_written(value):
    front_matter = {
        "paper_title": value,
        "paper_authors": f"{value} and B. Two",
        "paper_venue": value,
        "paper_type": "inproceedings",
        "paper_year": "2015",
        "paper_note": value,
        "paper_url": "https://example.org/a{b}c\\d",
    }
    [(kind, key, fields)] = read_back(cite.papers_bibtex(front_matter))
    assert kind == "inproceedings" and re.fullmatch(r"[a-z]*2015", key), key
    assert fields["author"] == " and ".join(folded(name) for name in cite.split_authors(f"{value} and B. Two"))
    assert fields["title"] == folded(value)
    assert fields["booktitle"] == folded(value)
    assert fields["note"] == folded(value)
    assert fields["url"] == "https://example.org/a%7Bb%7Dc%5Cd"
    page = cite.page_bibtex(value, value, "https://x.org/p}.html", "p.html", value, "2026-01-02", [value, "Ann"])
    [(kind, _, fields)] = read_back(page)
    assert kind == "misc"
    assert fields["title"] == fields["howpublished"] == fields["version"] == folded(value)
    assert fields["url"] == "https://x.org/p%7D.html"
    # Each project author is one braced name, so BibTeX never splits "The X contributors".
    assert fields["author"] == f"{folded(value)} and Ann"


# TeX's ligatures (`--`, ``, '') are typography the text keeps on purpose; everything else is literal.
_PLAIN_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40).filter(
    lambda text: not re.search(r"--|``|''|!`|\?`|,,|<<|>>", text)
)


@given(_PLAIN_TEXT)
def test_any_text_reads_back(value):
    title = value if value.strip() else "x"  # a blank title is refused as missing (see the next test)
    [(_, _, fields)] = read_back(cite.papers_bibtex({"paper_title": title, "paper_note": value}))
    assert fields["title"] == folded(title)
    assert fields.get("note", "") == folded(value)


def test_entry_types_and_the_year_convention():
    sgd = {
        "paper_title": "Some methods of speeding up the convergence of iteration methods",
        "paper_authors": "Boris T. Polyak",
        "paper_year": "1964",
        "paper_type": "article",
        "paper_venue": "USSR Computational Mathematics and Mathematical Physics",
        "paper_volume": "4",
        "paper_number": "5",
        "paper_pages": "1-17",
        "paper_doi": "10.1016/0041-5553(64)90137-5",
        "paper2_title": "On the importance of initialization and momentum in deep learning",
        "paper2_authors": "Ilya Sutskever, James Martens, George Dahl and Geoffrey Hinton",
        "paper2_year": "2013",
        "paper2_type": "inproceedings",
        "paper2_venue": "Proceedings of the 30th International Conference on Machine Learning",
        "paper2_series": "Proceedings of Machine Learning Research",
        "paper2_volume": "28",
        "paper2_number": "3",
        "paper2_pages": "1139–1147",
        "paper2_url": "https://proceedings.mlr.press/v28/sutskever13.html",
    }
    bibtex = cite.papers_bibtex(sgd)
    assert bibtex.splitlines()[:10] == [
        "@article{polyak1964,",
        "  title   = {Some methods of speeding up the convergence of iteration methods},",
        "  author  = {Boris T. Polyak},",
        "  journal = {USSR Computational Mathematics and Mathematical Physics},",
        "  volume  = {4},",
        "  number  = {5},",
        "  pages   = {1--17},",
        "  year    = {1964},",
        "  doi     = {10.1016/0041-5553(64)90137-5},",
        "}",
    ]
    [(_, _, polyak), (kind, key, sutskever)] = read_back(bibtex)
    assert polyak["doi"] == "10.1016/0041-5553(64)90137-5" and "url" not in polyak
    assert (kind, key) == ("inproceedings", "sutskever2013")
    assert sutskever["author"] == "Ilya Sutskever and James Martens and George Dahl and Geoffrey Hinton"
    assert sutskever["pages"] == "1139\u20131147"  # written `1139--1147`: TeX's en dash
    assert sutskever["series"] == "Proceedings of Machine Learning Research"

    # A paper only on arXiv: @misc, the arXiv year, eprint with its class, the abstract page as url.
    arxiv_only = {
        "arxiv": "1706.02677",
        "paper_title": "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
        "authors": "Priya Goyal and Kaiming He",
        "year": "2017",
        "paper_arxiv_class": "cs.CV",
    }
    [(kind, key, fields)] = read_back(cite.papers_bibtex(arxiv_only))
    assert (kind, key) == ("misc", "goyal2017_1706_02677")
    assert fields["eprint"] == "1706.02677" and fields["archiveprefix"] == "arXiv" and fields["primaryclass"] == "cs.CV"
    assert fields["url"] == "https://arxiv.org/abs/1706.02677"
    # Words a sentence-casing style would lower are braced ("{SGD:}", "{ImageNet}"); text reads the same.
    assert "{ImageNet}" in cite.papers_bibtex(arxiv_only) and fields["title"] == arxiv_only["paper_title"]
    assert cite.papers_bibtex({"title": "A page", "summary": "not a paper"}) == ""


def test_page_entry_has_the_project_authors():
    entry = cite.page_bibtex(
        "labml_nn: annotated", "Adam Optimizer", "https://x.org/a.html", "a.html", "0.1.0", "", ["The X contributors"]
    )
    assert "  author       = {{The X contributors}}," in entry.splitlines()
    assert "author" not in cite.page_bibtex("s", "t", "u", "p.html", "1", "")


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        ({"paper_title": "T", "paper_venu": "V"}, "unknown front matter key 'paper_venu'"),
        ({"paper1_title": "T"}, "the first paper is paper_"),
        ({"paper_title": "T", "paper3_title": "U"}, "number them 1 (paper_), 2"),
        ({"paper_title": "T", "year": "2014", "paper_year": "2015"}, "year twice"),
        ({"paper_title": "T", "paper_venue": "V", "paper_year": "2015"}, "paper_type is missing beside a venue"),
        ({"paper_title": "T", "paper_type": "online"}, "paper_type 'online' is unknown"),
        ({"paper_title": "T", "paper_type": "article", "paper_year": "2015"}, "an article needs paper_venue"),
        ({"paper_title": "T", "paper_year": "'15"}, "is not a four-digit year"),
        ({"paper_title": "T", "paper_doi": "https://doi.org/10.1/x"}, "is not a DOI"),
        ({"paper_title": "T", "arxiv": "arXiv:1412.6980"}, "is not an arXiv id"),
        ({"paper_title": "T", "paper_url": "kellerjordan.github.io"}, "is not an http(s) URL"),
        ({"paper_title": "T", "paper2_venue": "V"}, "paper2_title is missing"),
        ({"paper_title": " \t ", "paper_year": "2015"}, "paper_title is missing"),
    ],
)
def test_bad_front_matter_is_one_clear_error(front_matter, message):
    with pytest.raises(LitdocError, match=re.escape(message)) as raised:
        cite.papers_bibtex(front_matter, "pkg/page.py")
    assert str(raised.value).startswith("pkg/page.py:1: ")


def test_the_project_authors_come_from_pyproject(tmp_path):
    from litdoc.config import load_config

    (tmp_path / "src").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1.0"\n'
        'authors = [{ name = "The X contributors" }, { email = "a@b.org" }, { name = "Ann Lee", email = "a@b.org" }]\n'
        '[tool.litdoc]\nsource = "src"\noutput = "out"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.authors == ("The X contributors", "Ann Lee") and config.version == "1.0"
    # A page renders differently with other authors, so a cached page must not survive the change.
    assert config.fingerprint()["authors"] == "The X contributors and Ann Lee"


# -- citation_* meta tags ---------------------------------------------------------------------------


def test_citation_meta_names_the_page_its_authors_and_its_papers():
    papers = cite.papers_from_front_matter(
        {
            "paper_title": "Adam: A Method; for Stochastic Optimization",
            "paper_authors": "Diederik P. Kingma and Jimmy Ba",
            "paper_year": "2015",
            "paper_type": "inproceedings",
            "paper_venue": "ICLR",
            "arxiv": "1412.6980",
        }
    )
    tags = cite.citation_meta(
        "labml_nn: annotated", "Adam  Optimizer", "https://x.org/a.html", "2026-12-07", ["The X contributors"], papers
    )
    assert tags == (
        ("citation_title", "Adam Optimizer"),
        ("citation_author", "The X contributors"),
        ("citation_publication_date", "2026/12/07"),
        ("citation_publisher", "labml_nn: annotated"),
        ("citation_public_url", "https://x.org/a.html"),
        (
            "citation_reference",
            # The title's `;` would end its field inside the reference: it is written `,`.
            "citation_title=Adam: A Method, for Stochastic Optimization; citation_author=Diederik P. Kingma; "
            "citation_author=Jimmy Ba; citation_publication_date=2015; citation_conference_title=ICLR; "
            "citation_arxiv_id=1412.6980; citation_public_url=https://arxiv.org/abs/1412.6980",
        ),
    )
    # No base_url: no URL a reference manager could use, so none; no date, authors or papers: none either.
    assert cite.citation_meta("S", "T", "", "", ()) == (("citation_title", "T"), ("citation_publisher", "S"))


def test_page_entry_notes_the_version_and_the_release_permalink_in_fields_bibtex_prints():
    """`version` and `date` are biblatex's; classic BibTeX styles print `note` (issue 22)."""
    permalink = "https://github.com/o/r_x/blob/v0.1.0/pkg/adam.py"
    entry = cite.page_bibtex("S", "Adam", "https://x.org/a.html", "a.html", "0.1.0", "2026-12-07", ["A"], permalink)
    [(kind, _, fields)] = read_back(entry)
    assert kind == "misc" and fields["note"] == f"Version 0.1.0, source at {permalink}"
    assert fields["version"] == "0.1.0" and fields["year"] == "2026"
    # Without a release URL the note still says the version; without either there is no note
    [(_, _, fields)] = read_back(cite.page_bibtex("S", "Adam", "u", "a.html", "0.1.0", ""))
    assert fields["note"] == "Version 0.1.0"
    assert "note" not in cite.page_bibtex("S", "Adam", "u", "a.html", "", "")
