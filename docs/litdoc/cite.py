# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""BibTeX for a page, and for the paper a page implements.

Pure functions of strings: the date is the source's last commit date (`litdoc.site.git_dates`), never
the clock, so the same commit gives the same bytes.
"""

from __future__ import annotations

import re

_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_:-]+")
# BibTeX's special characters in a field value; braces are balanced by escaping them.
_BIBTEX_ESCAPES = str.maketrans({"{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$"})


def _field(value: str) -> str:
    return " ".join(value.split()).translate(_BIBTEX_ESCAPES)


def _entry(kind: str, key: str, fields: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in fields)
    lines = [f"@{kind}{{{key},"]
    lines += [f"  {name.ljust(width)} = {{{value}}}," for name, value in fields if value]
    return "\n".join(lines) + "\n}"


def page_key(site_title: str, output_path: str) -> str:
    """`labml_nn:optimizers/adam`: the site's first word and the page's path without `.html`."""
    first = (site_title.split() or ["site"])[0].rstrip(":")
    path = output_path[: -len(".html")] if output_path.endswith(".html") else output_path
    return _KEY_CHARACTERS.sub("_", f"{first}:{path}")


def page_bibtex(site_title: str, title: str, url: str, output_path: str, version: str, date: str) -> str:
    """An `@misc` entry: title, site, URL, version and the date the page's source last changed.
    `url` is the page's; the page's script appends the section anchor the reader is looking at."""
    fields = [
        ("title", _field(title)),
        ("howpublished", _field(site_title)),
        ("url", url.replace("}", "%7D")),
        ("version", _field(version)),
    ]
    if date:
        fields += [("year", date[:4]), ("date", date)]
    return _entry("misc", page_key(site_title, output_path), fields)


def paper_bibtex(arxiv: str = "", title: str = "", authors: str = "", year: str = "") -> str | None:
    """An arXiv paper's entry from the page's front matter (`arxiv`, `paper_title`, `authors` as
    "A. One and B. Two" or comma-separated, `year`); None when it names no paper."""
    if not (arxiv or title):
        return None
    names = [n.strip() for n in re.split(r"\s*(?:,|\band\b)\s*", authors) if n.strip()]
    surname = re.sub(r"[^A-Za-z]", "", names[0].split()[-1]).lower() if names else "paper"
    key = f"{surname}{year}" + (f"_{arxiv.replace('.', '_')}" if arxiv else "")
    fields = [("title", _field(title)), ("author", _field(" and ".join(names))), ("year", _field(year))]
    if arxiv:
        fields += [("eprint", _field(arxiv)), ("archivePrefix", "arXiv"), ("url", f"https://arxiv.org/abs/{arxiv}")]
    return _entry("article" if not arxiv else "misc", _KEY_CHARACTERS.sub("_", key), fields)
