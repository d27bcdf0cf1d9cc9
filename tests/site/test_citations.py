"""Every page's "Cite this page" block: each page that implements published work names it in its
front matter, under the site's one year convention (litdoc/README.md, "Cite a paper"): a venue's
type and year for work that appeared at one, `misc` and the first arXiv version's year for work only
on arXiv. The entries litdoc makes from it read back through a BibTeX parser as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from litdoc import cite
from litdoc.config import load_config
from litdoc.parse import parse_module

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labml_nn"
PAGES = sorted(path for path in SOURCE.rglob("*.py") if "__pycache__" not in path.parts)

# Pages that implement no paper of their own, and why; every other page must name at least one.
NO_PAPER = {
    "__init__.py": "the site's home page",
    "figures.py": "how this site draws its figures",
    "optimizers/__init__.py": "the chapter's index and base classes; each optimizer page cites its paper",
    "optimizers/registry.py": "the chapter's bookkeeping of its optimizers",
    "optimizers/experiment.py": "this project's own experiment",
    "optimizers/experiment_data.py": "the data of this project's experiment",
    "optimizers/experiment_models.py": "the models of this project's experiment",
    "optimizers/experiment_plots.py": "the figures of this project's experiment",
    "optimizers/lr_schedules.py": "plots the schedules of the Noam and cosine-decay pages, which cite their papers",
    "optimizers/train_example.py": "a usage example of the chapter's optimizers",
    "optimizers/try_it.py": "the demo the optimizer pages end with",
    "optimizers/choosing.py": "a guide across the chapter's pages, which cite the papers; it cites its sources in its notes",
    "optimizers/torch_internals.py": "how Fused Adam uses torch.compile's internals, which no paper describes",
}


def front_matter(path: Path) -> dict[str, str]:
    relative = path.relative_to(ROOT).as_posix()
    return dict(parse_module(path.read_text(encoding="utf-8"), relative).front_matter.fields)


def papers(path: Path) -> tuple[cite.Paper, ...]:
    return cite.papers_from_front_matter(front_matter(path), path.relative_to(ROOT).as_posix())


def page_id(path: Path) -> str:
    return path.relative_to(SOURCE).as_posix()


def test_the_exemptions_are_pages():
    assert set(NO_PAPER) <= {page_id(path) for path in PAGES}


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_each_page_names_its_papers_under_the_year_convention(path):
    found = papers(path)
    if page_id(path) in NO_PAPER:
        assert not found, f"{page_id(path)} cites a paper now: take it off NO_PAPER"
        return
    assert found, f"{page_id(path)} names no paper; give it paper_ front matter or a reason in NO_PAPER"
    for paper in found:
        assert paper.title and paper.authors and re.fullmatch(r"\d{4}", paper.year), paper
        # The legacy short keys (arxiv, authors, year) still work, but this site writes paper_ keys.
        assert not {"arxiv", "authors", "year"} & set(front_matter(path)), page_id(path)
        if paper.type == "misc" and paper.arxiv:
            # Only on arXiv: the year of its first version, which the new-style id carries (YYMM).
            assert paper.year == "20" + paper.arxiv[:2], paper
        if paper.type in ("article", "inproceedings"):
            # At a venue: the venue's year, which a conference's name carries when it is written in.
            years = re.findall(r"\b(?:19|20)\d\d\b", paper.venue)
            assert all(year == paper.year for year in years), paper
        if paper.arxiv:
            assert paper.arxiv_class, f"{paper.title}: give paper_arxiv_class for its primaryClass"
        assert paper.doi or paper.url or paper.arxiv, f"{paper.title}: nothing a reader can follow"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_every_entry_reads_back_as_written(path):
    bibtexparser = pytest.importorskip("bibtexparser", reason="litdoc's test extra installs bibtexparser")
    config = load_config(ROOT)
    assert config.authors == ("The labml_nn contributors",)
    page = cite.page_bibtex(
        config.title, "A page", "https://x.org/a.html", "a.html", config.version, "", config.authors
    )
    entries = [page] + [cite.paper_bibtex(paper) for paper in papers(path)]
    library = bibtexparser.parse_string("\n\n".join(entries))
    assert not library.failed_blocks and len(library.entries) == len(entries)
    page_entry, *paper_entries = library.entries
    assert page_entry["author"] == "{The labml\\_nn contributors}"
    for paper, entry in zip(papers(path), paper_entries):
        assert entry.entry_type == paper.type and entry.key == paper.key
        # The site's values hold no TeX specials, so each field is the text as written (braces
        # aside, which keep a title's acronyms capitalised).
        assert entry["title"].replace("{", "").replace("}", "") == paper.title
        assert entry["author"] == " and ".join(paper.authors)
        assert entry["year"] == paper.year
        if paper.venue:
            assert entry[{"article": "journal", "inproceedings": "booktitle", "misc": "howpublished"}[paper.type]] == (
                paper.venue
            )
        if paper.doi:
            assert entry["doi"] == paper.doi
        if paper.arxiv:
            assert (entry["eprint"], entry["archivePrefix"], entry["primaryClass"]) == (
                paper.arxiv,
                "arXiv",
                paper.arxiv_class,
            )


@pytest.mark.parametrize("path", [p for p in PAGES if page_id(p) not in NO_PAPER], ids=page_id)
def test_each_page_gives_reference_managers_its_papers(path):
    """The built page's `citation_*` meta tags (what Zotero and Google Scholar read): the page, the
    project's authors, its permanent URL, and one `citation_reference` for each paper it names."""
    from html.parser import HTMLParser

    built = ROOT / "docs" / page_id(path).replace(".py", ".html").replace("__init__.html", "index.html")
    tags: list[tuple[str, str]] = []

    class Meta(HTMLParser):
        def handle_starttag(self, tag, attrs):
            values = dict(attrs)
            if tag == "meta" and (values.get("name") or "").startswith("citation_"):
                tags.append((values["name"] or "", values.get("content") or ""))

    Meta().feed(built.read_text(encoding="utf-8"))
    names = [name for name, _ in tags]
    assert names.count("citation_title") == 1 and ("citation_author", "The labml_nn contributors") in tags
    assert dict(tags)["citation_public_url"] == load_config(ROOT).base_url + built.relative_to(ROOT / "docs").as_posix()
    assert re.fullmatch(r"\d{4}/\d\d/\d\d", dict(tags)["citation_publication_date"])
    references = [content for name, content in tags if name == "citation_reference"]
    assert references == [cite.paper_reference(paper) for paper in papers(path)]
    for paper, reference in zip(papers(path), references):
        assert f"citation_publication_date={paper.year}" in reference
        assert all(f"citation_author={name}" in reference for name in paper.authors)


def test_each_page_cites_its_source_at_the_release_tag():
    """The page's BibTeX `note`: the version and the permalink of its source at the release tag (CHANGELOG.md)."""
    config = load_config(ROOT)
    assert config.versioned_url == f"https://github.com/labml-nn/annotated/blob/v{config.version}"
    page = (ROOT / "docs" / "optimizers" / "adam.html").read_text(encoding="utf-8")
    source = f"{config.versioned_url}/labml_nn/optimizers/adam.py".replace("_", "\\_")
    assert f"note         = {{Version {config.version}, source at {source}}}," in page
    assert f"## {config.version} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
