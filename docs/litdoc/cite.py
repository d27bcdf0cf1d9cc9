# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""BibTeX for a page, and for the papers a page implements.

Pure functions of strings: the date is the source's last commit date (`litdoc.site.git_dates`), never
the clock, so the same commit gives the same bytes.

Front-matter values are plain text, not TeX: every character means itself, and `text_field` writes the
TeX that prints it. BibTeX counts every brace, backslashed or not, so a lone `{` cannot be written `\\{`
(that leaves the entry unbalanced); it becomes `\\textbraceleft{}`. URLs, DOIs and arXiv ids are
verbatim fields (styles print them with `\\url`), so only what BibTeX itself cannot hold is
percent-encoded there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from litdoc.model import LitdocError

_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_:-]+")
# Plain text -> TeX. `\` first in spirit: each character is replaced once, so no replacement is re-read.
_TEX_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "$": r"\$",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)
# What a verbatim field (url, doi, eprint) cannot hold: BibTeX's own delimiters, and space.
_VERBATIM_ESCAPES = str.maketrans({"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20"})
# A word whose capitals a sentence-casing style (plain, abbrv, ...) must not lower: "LLM", "AdaBelief".
_INNER_CAPITAL = re.compile(r"^\W*\w.*[A-Z]")


def text_field(value: str, *, protect_capitals: bool = False) -> str:
    """Plain text as a BibTeX value that prints it: whitespace runs folded, TeX's specials escaped.
    `protect_capitals` braces each word with a capital after its first letter, for titles."""
    words = value.split()
    if not protect_capitals:
        return " ".join(words).translate(_TEX_ESCAPES)
    return " ".join(
        f"{{{word.translate(_TEX_ESCAPES)}}}" if _INNER_CAPITAL.match(word) else word.translate(_TEX_ESCAPES)
        for word in words
    )


def verbatim_field(value: str) -> str:
    """A URL, DOI or arXiv id as it is, less what would end the field early."""
    return value.strip().translate(_VERBATIM_ESCAPES)


def _entry(kind: str, key: str, fields: Sequence[tuple[str, str]]) -> str:
    fields = [(name, value) for name, value in fields if value]
    width = max(len(name) for name, _ in fields)
    lines = [f"@{kind}{{{key},"]
    lines += [f"  {name.ljust(width)} = {{{value}}}," for name, value in fields]
    return "\n".join(lines) + "\n}"


def page_key(site_title: str, output_path: str) -> str:
    """`labml_nn:optimizers/adam`: the site's first word and the page's path without `.html`."""
    first = (site_title.split() or ["site"])[0].rstrip(":")
    path = output_path[: -len(".html")] if output_path.endswith(".html") else output_path
    return _KEY_CHARACTERS.sub("_", f"{first}:{path}")


def page_bibtex(
    site_title: str,
    title: str,
    url: str,
    output_path: str,
    version: str,
    date: str,
    authors: Sequence[str] = (),
    permalink: str = "",
) -> str:
    """An `@misc` entry: title, the project's authors, site, URL, version and the date the page's
    source last changed. `url` is the page's; the page's script appends the section anchor the reader
    is looking at. Each of `authors` is braced whole, so "The X contributors" is not read as a person
    whose surname is "contributors".

    `version` and `date` are biblatex fields, which classic BibTeX styles (plain, alpha, natbib's)
    ignore; so `note` says the version again, with `permalink` (the page's source at its release tag,
    which does not move when the site changes), in words every style prints."""
    note = ", ".join(
        part
        for part in (f"version {version}" if version else "", f"source at {permalink}" if permalink else "")
        if part
    )
    fields = [
        ("title", text_field(title, protect_capitals=True)),
        ("author", " and ".join(f"{{{text_field(name)}}}" for name in authors if name.strip())),
        ("howpublished", text_field(site_title)),
        ("url", verbatim_field(url)),
        ("version", text_field(version)),
        ("note", text_field(note[:1].upper() + note[1:])),
    ]
    if date:
        fields += [("year", date[:4]), ("date", date)]
    return _entry("misc", page_key(site_title, output_path), fields)


# ---------------------------------------------------------------------------------------------
# Papers
# ---------------------------------------------------------------------------------------------

# Entry type -> the BibTeX field the front matter's `venue` fills, and whether a venue is required.
# `@online` is left out on purpose: classic BibTeX styles do not know it; `@misc` with `howpublished`
# and `url` prints in every style.
PAPER_TYPES: dict[str, tuple[str, bool]] = {
    "article": ("journal", True),
    "inproceedings": ("booktitle", True),
    "misc": ("howpublished", False),
}
# The fields a paper's front matter may give, after its prefix (`paper_`, `paper2_`, ...).
PAPER_FIELDS = (
    "title",
    "authors",
    "year",
    "type",
    "venue",
    "series",
    "volume",
    "number",
    "pages",
    "publisher",
    "note",
    "doi",
    "url",
    "arxiv",
    "arxiv_class",
)
# The first paper's short names, kept from before there were several papers per page.
_ALIASES = {"arxiv": "arxiv", "authors": "authors", "year": "year"}
_PAPER_KEY = re.compile(r"^paper(\d*)_(.+)$")
_CHECKS: dict[str, tuple[re.Pattern[str], str]] = {
    "year": (re.compile(r"^\d{4}$"), "a four-digit year"),
    "arxiv": (re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$"), "an arXiv id like 1412.6980"),
    "arxiv_class": (re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$"), "an arXiv category like cs.LG"),
    "doi": (re.compile(r"^10\.\d{4,9}/\S+$"), "a DOI like 10.1016/0041-5553(64)90137-5 (no https://doi.org/)"),
    "url": (re.compile(r"^https?://\S+$"), "an http(s) URL"),
    "pages": (re.compile(r"^\w+(\s*(-{1,2}|\u2013)\s*\w+)?$"), "a page or a range like 1-17"),
}


@dataclass(frozen=True)
class Paper:
    """One work a page implements, as its front matter gives it (plain text, checked)."""

    title: str = ""
    authors: tuple[str, ...] = ()
    year: str = ""
    type: str = "misc"
    venue: str = ""
    series: str = ""
    volume: str = ""
    number: str = ""
    pages: str = ""
    publisher: str = ""
    note: str = ""
    doi: str = ""
    url: str = ""
    arxiv: str = ""
    arxiv_class: str = ""

    @property
    def key(self) -> str:
        """`kingma2015_1412_6980`: first author's surname, year, and the arXiv id when there is one."""
        surname = re.sub(r"[^A-Za-z]", "", self.authors[0].split()[-1]).lower() if self.authors else ""
        key = f"{surname or 'paper'}{self.year}" + (f"_{self.arxiv.replace('.', '_')}" if self.arxiv else "")
        return _KEY_CHARACTERS.sub("_", key)


def split_authors(authors: str) -> tuple[str, ...]:
    """ "A. One, B. Two and C. Three" (or BibTeX's "A. One and B. Two") -> each name."""
    return tuple(name.strip() for name in re.split(r"\s*(?:,|\band\b)\s*", authors) if name.strip())


def paper_bibtex(paper: Paper) -> str:
    """One paper's entry. The entry type and its year follow the version of record: `@article`
    (journal) or `@inproceedings` (booktitle) with the venue's year, `@misc` with the arXiv year for
    a paper only on arXiv. An arXiv id is given as `eprint` on any type, so the free copy is found."""
    venue_field, _ = PAPER_TYPES[paper.type]
    pages = re.sub(r"\s*(?:-{1,2}|\u2013)\s*", "--", paper.pages)
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else "")
    fields = [
        ("title", text_field(paper.title, protect_capitals=True)),
        ("author", " and ".join(text_field(name) for name in paper.authors)),
        (venue_field, text_field(paper.venue)),
        ("series", text_field(paper.series)),
        ("volume", text_field(paper.volume)),
        ("number", text_field(paper.number)),
        ("pages", text_field(pages)),
        ("publisher", text_field(paper.publisher)),
        ("year", paper.year),
        ("note", text_field(paper.note)),
        ("doi", verbatim_field(paper.doi)),
    ]
    if paper.arxiv:
        fields += [
            ("eprint", verbatim_field(paper.arxiv)),
            ("archivePrefix", "arXiv"),
            ("primaryClass", verbatim_field(paper.arxiv_class)),
        ]
    fields.append(("url", verbatim_field(url)))
    return _entry(paper.type, paper.key, fields)


def papers_from_front_matter(front_matter: Mapping[str, str], path: str = "front matter") -> tuple[Paper, ...]:
    """The papers a page's front matter names: `paper_title`, `paper_venue`, ... for the first
    (`arxiv`, `authors`, `year` also name its fields), `paper2_title`, ... for the second, and so on.
    A misspelt key, a bad value or a gap in the numbering is a `LitdocError` naming `path`."""
    grouped: dict[int, dict[str, str]] = {}
    for key, value in front_matter.items():
        match = _PAPER_KEY.match(key)
        if key in _ALIASES:
            number, name = 1, _ALIASES[key]
        elif match is not None:
            digits, name = match.groups()
            if digits in ("0", "1") or digits.startswith("0"):
                raise LitdocError(path, 1, f"front matter key '{key}': the first paper is paper_..., then paper2_...")
            number = int(digits) if digits else 1
            if name not in PAPER_FIELDS:
                known = ", ".join(PAPER_FIELDS)
                raise LitdocError(path, 1, f"unknown front matter key '{key}' (a paper's fields: {known})")
        else:
            continue
        fields = grouped.setdefault(number, {})
        if name in fields:
            raise LitdocError(path, 1, f"front matter gives the first paper's {name} twice (paper_{name} and {key})")
        fields[name] = " ".join(value.split())
    papers = []
    for number in range(1, len(grouped) + 1):
        if number not in grouped:
            raise LitdocError(path, 1, f"front matter names papers {sorted(grouped)}: number them 1 (paper_), 2, ...")
        papers.append(_paper(grouped[number], "paper_" if number == 1 else f"paper{number}_", path))
    return tuple(papers)


def _paper(fields: dict[str, str], prefix: str, path: str) -> Paper:
    def fail(reason: str) -> LitdocError:
        return LitdocError(path, 1, f"front matter: {reason}")

    if not (fields.get("title") or fields.get("arxiv")):
        raise fail(f"{prefix}title is missing")
    for name, (pattern, what) in _CHECKS.items():
        if fields.get(name) and not pattern.match(fields[name]):
            raise fail(f"{prefix}{name} '{fields[name]}' is not {what}")
    kind = fields.get("type") or ("misc" if not fields.get("venue") else "")
    if kind not in PAPER_TYPES:
        wanted = " or ".join(PAPER_TYPES)
        raise fail(f"{prefix}type {'is missing beside a venue' if not kind else repr(kind) + ' is unknown'}: {wanted}")
    if PAPER_TYPES[kind][1] and not (fields.get("venue") and fields.get("year")):
        raise fail(f"an {kind} needs {prefix}venue and {prefix}year")
    values = {name: value for name, value in fields.items() if name not in ("authors", "type")}
    return Paper(authors=split_authors(fields.get("authors", "")), type=kind, **values)


def papers_entries(papers: Sequence[Paper]) -> str:
    """An entry for each of `papers`, a blank line between; "" for none."""
    return "\n\n".join(paper_bibtex(paper) for paper in papers)


def papers_bibtex(front_matter: Mapping[str, str], path: str = "front matter") -> str:
    """Every paper the front matter names, one entry each, a blank line between; "" for none."""
    return papers_entries(papers_from_front_matter(front_matter, path))


# ---------------------------------------------------------------------------------------------
# Citation meta tags
# ---------------------------------------------------------------------------------------------

# Highwire Press's `citation_*` tags, which Google Scholar indexes and Zotero's "Embedded Metadata"
# reads (https://scholar.google.com/intl/en/scholar/inclusion.html#indexing). Each paper the page
# implements is a `citation_reference`: the same fields, `; `-separated in one value, so a `;` inside
# a value would start a field of its own and is written `,`.
_VENUE_TAG = {"article": "citation_journal_title", "inproceedings": "citation_conference_title"}


def _reference_value(value: str) -> str:
    return " ".join(value.replace(";", ",").split())


def _scholar_date(date: str) -> str:
    """`2026-12-07` -> `2026/12/07`, the form Scholar's inclusion guide gives; a bare year stays."""
    return date.replace("-", "/")


def paper_reference(paper: Paper) -> str:
    """One paper as a `citation_reference` value."""
    fields = [("citation_title", paper.title)]
    fields += [("citation_author", name) for name in paper.authors]
    fields += [("citation_publication_date", paper.year)]
    if paper.type in _VENUE_TAG:
        fields.append((_VENUE_TAG[paper.type], paper.venue))
    fields += [
        ("citation_volume", paper.volume),
        ("citation_issue", paper.number),
        ("citation_doi", paper.doi),
        ("citation_arxiv_id", paper.arxiv),
    ]
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else "")
    fields.append(("citation_public_url", url))
    return "; ".join(f"{name}={_reference_value(value)}" for name, value in fields if value.strip())


def citation_meta(
    site_title: str,
    title: str,
    url: str,
    date: str,
    authors: Sequence[str] = (),
    papers: Sequence[Paper] = (),
) -> tuple[tuple[str, str], ...]:
    """The page's `(name, content)` meta tags: its title, the project's authors, the date its source
    last changed, its URL, the site as publisher, and one `citation_reference` per paper it implements.
    Values are plain text; the template escapes them. No URL (no `base_url`): no URL tag, since a
    reference manager needs an absolute one."""
    tags: list[tuple[str, str]] = [("citation_title", " ".join(title.split()))]
    tags += [("citation_author", " ".join(name.split())) for name in authors if name.strip()]
    if date:
        tags.append(("citation_publication_date", _scholar_date(date)))
    tags.append(("citation_publisher", " ".join(site_title.split())))
    if url:
        tags.append(("citation_public_url", url))
    tags += [("citation_reference", paper_reference(paper)) for paper in papers]
    return tuple(tags)
