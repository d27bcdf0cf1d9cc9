"""Write CITATION.cff from what the project already states: the version, authors, repository and site
of `pyproject.toml`, and, as its references, every paper that a page's front matter names (the same
fields the pages' BibTeX is made from, `litdoc.cite`).

    python scripts/citation_cff.py            # rewrite CITATION.cff
    python scripts/citation_cff.py --check    # exit 1 when CITATION.cff is not what it would write

A release is cited by its version; the page of a given version is its tag's tree, so `url` and
`repository-code` are the site and the repository, and the version says which. The output is a pure
function of the sources: no date is written (the file has no release date until a release is tagged).
Every value is written as a JSON string, which YAML reads as the same double-quoted scalar.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "CITATION.cff"
# Front matter's entry types, as CFF's reference types
CFF_TYPES = {"article": "article", "inproceedings": "conference-paper", "misc": "generic"}


def q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def person(name: str, indent: str) -> list[str]:
    """A CFF person: the last word is the family name, the rest the given names; one word, an alias."""
    words = name.split()
    if len(words) == 1:
        return [f"{indent}- alias: {q(words[0])}"]
    return [f"{indent}- family-names: {q(words[-1])}", f"{indent}  given-names: {q(' '.join(words[:-1]))}"]


def papers() -> list:
    """Each paper the pages name, once (by title), in the order of the pages' paths."""
    from litdoc import cite
    from litdoc.parse import parse_module

    found: dict[str, cite.Paper] = {}
    for path in sorted((REPO / "labml_nn").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        fields = dict(parse_module(path.read_text(encoding="utf-8"), relative).front_matter.fields)
        for paper in cite.papers_from_front_matter(fields, relative):
            found.setdefault(paper.title, paper)
    return sorted(found.values(), key=lambda paper: (paper.year, paper.title))


def reference(paper, indent: str = "  ") -> list[str]:
    lines = [f"{indent}- type: {CFF_TYPES[paper.type]}", f"{indent}  title: {q(paper.title)}", f"{indent}  authors:"]
    for name in paper.authors:
        lines += person(name, indent + "    ")
    lines.append(f"{indent}  year: {int(paper.year)}")
    if paper.venue:
        key = {"article": "journal", "inproceedings": "conference"}.get(paper.type)
        if key == "conference":
            lines.append(f"{indent}  conference:")
            lines.append(f"{indent}    name: {q(paper.venue)}")
        elif key == "journal":
            lines.append(f"{indent}  journal: {q(paper.venue)}")
        else:
            lines.append(f"{indent}  notes: {q(paper.venue)}")
    if paper.volume:
        lines.append(f"{indent}  volume: {q(paper.volume)}")
    if paper.number:
        lines.append(f"{indent}  issue: {q(paper.number)}")
    if paper.pages:
        first, _, last = paper.pages.replace("\u2013", "-").replace("--", "-").partition("-")
        lines.append(f"{indent}  start: {q(first.strip())}")
        if last:
            lines.append(f"{indent}  end: {q(last.strip())}")
    if paper.doi:
        lines.append(f"{indent}  doi: {q(paper.doi)}")
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv}" if paper.arxiv else "")
    if url:
        lines.append(f"{indent}  url: {q(url)}")
    if paper.arxiv:
        lines += [
            f"{indent}  identifiers:",
            f"{indent}    - type: other",
            f"{indent}      value: {q('arXiv:' + paper.arxiv)}",
            f"{indent}      description: {q('arXiv identifier')}",
        ]
    return lines


def citation_cff() -> str:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    meta, site = project["project"], project["tool"]["litdoc"]
    title = site["title"]
    authors = [author["name"] for author in meta["authors"]]
    # The repository itself, not the blob URL that the pages' source links start with
    repository = site["repo_url"].split("/blob/", 1)[0]
    common = [
        f"title: {q(title)}",
        "type: software",
        "license: MIT",
        f"version: {q(meta['version'])}",
        f"url: {q(site['base_url'])}",
        f"repository-code: {q(repository)}",
    ]
    lines = [
        "# Written by scripts/citation_cff.py from pyproject.toml and the pages' front matter; do not edit.",
        "cff-version: 1.2.0",
        'message: "If you cite these annotated implementations or the litdoc generator, please cite them as below."',
        *common,
        "authors:",
        *(f"  - name: {q(name)}" for name in authors),
        "keywords:",
        *(f"  - {q(word)}" for word in ("deep learning", "optimizers", "literate programming", "PyTorch")),
        "preferred-citation:",
        *("  " + line for line in common),
        "  authors:",
        *(f"    - name: {q(name)}" for name in authors),
        "references:",
    ]
    for paper in papers():
        lines += reference(paper)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed CITATION.cff")
    args = parser.parse_args()
    text = citation_cff()
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print("CITATION.cff is not what scripts/citation_cff.py writes: run it and commit", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
