# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""`litdoc check`: every internal link, `#anchor` and referenced asset of a built site must resolve.

Links with a scheme or a host (`https:`, `mailto:`, `//cdn...`) are external and not fetched; anything
else is resolved against the file that holds it, inside the output folder. A link that climbs out of
the output folder is itself a problem: the site would not work once published on its own.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Attributes that make a browser fetch or navigate to another file.
_LINK_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "track": ("src",),
    "input": ("src",),
}


@dataclass
class _Scan:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[int, str]] = field(default_factory=list)  # (line, url)


class _HtmlScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = _Scan()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.scan.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.scan.ids.add(values["name"] or "")
        for name in _LINK_ATTRIBUTES.get(tag, ()):
            value = values.get(name)
            if value is not None and not (
                tag == "link" and (values.get("rel") or "") in ("canonical", "alternate") and urlsplit(value).scheme
            ):
                self.scan.links.append((self.getpos()[0], value))
        srcset = values.get("srcset")
        if srcset:
            for candidate in srcset.split(","):
                if candidate.strip():
                    self.scan.links.append((self.getpos()[0], candidate.split()[0]))

    handle_startendtag = handle_starttag


def _css_urls(text: str) -> list[tuple[int, str]]:
    """`url(...)` references in a stylesheet, with their lines (enough for fonts and images)."""
    found: list[tuple[int, str]] = []
    position = 0
    while True:
        start = text.find("url(", position)
        if start < 0:
            return found
        end = text.find(")", start)
        if end < 0:
            return found
        value = text[start + 4 : end].strip().strip("'\"")
        found.append((text.count("\n", 0, start) + 1, value))
        position = end + 1


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def _page_sources(output: Path, project: Path | None) -> dict[str, tuple[str, Path]]:
    """Page (output path) -> (its source as shown, the source file), from the manifest's `source`
    fields (relative to the project folder); empty without a project or a readable manifest."""
    if project is None:
        return {}
    from litdoc.model import LitdocError
    from litdoc.store import read_manifest

    try:
        manifest = read_manifest(output)
    except LitdocError:
        return {}
    if manifest is None:
        return {}
    return {
        rel: (entry["source"], project / entry["source"])
        for rel, entry in manifest.files.items()
        if entry.get("source")
    }


def _source_line(source: Path, url: str) -> int | None:
    """The first line of `source` where the link `url` is written: as a Markdown link target
    (`](url`, `]: url`, `<url>`) or an HTML attribute if it is written so, else anywhere."""
    try:
        lines = (
            source.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        )
    except OSError:
        return None
    written = set()
    for form in _source_spellings(url):
        written |= {form, unquote(form), form.replace("&", "&amp;")}
    marked = [prefix + form for form in written for prefix in ("](", "]: ", "<", '="', "='")]
    for candidates in (marked, list(written)):
        for number, line in enumerate(lines, start=1):
            if any(candidate in line for candidate in candidates):
                return number
    return None


def _source_spellings(url: str) -> list[str]:
    """`url` as the page has it, and as its author may have written it: litdoc rewrites a link to a
    source (`adam.py#x`, `notes/README.md`, `pkg/`) to the page made from it (`adam.html#x`,
    `notes/index.html`), so a broken anchor on another page is found by the source's spelling."""
    path, hash_mark, fragment = url.partition("#")
    suffix = hash_mark + fragment
    forms = [url]
    if path.endswith(".html"):
        stem = path[: -len(".html")]
        forms += [stem + extension + suffix for extension in (".py", ".md", ".ipynb")]
        if stem == "index" or stem.endswith("/index"):
            folder = stem[: -len("index")]
            forms += [folder + name + suffix for name in ("__init__.py", "README.md", "index.md")]
            forms += [folder + suffix] if folder else []
        elif stem == "readme" or stem.endswith("/readme"):
            forms.append(stem[: -len("readme")] + "README.md" + suffix)
    return forms


def check_site(output: Path, project: Path | None = None) -> list[str]:
    """Every problem found in `output`, one `path:line: reason` line each, sorted; empty when all resolve.
    With the `project` folder, a broken link in a page also names the source line it was written on."""
    output = output.resolve()
    if not output.is_dir():
        return [f"{output}: no such folder (build the site first)"]
    scans: dict[str, _Scan] = {}
    stylesheets: dict[str, list[tuple[int, str]]] = {}
    unreadable: list[tuple[str, str]] = []  # (path, reason)
    sources = _page_sources(output, project)
    for folder, dirs, names in os.walk(output):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            rel = path.relative_to(output).as_posix()
            if not name.endswith((".html", ".htm", ".css")):
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as error:  # a dangling symlink, a folder's permissions
                kind = "broken symlink" if path.is_symlink() else "unreadable"
                unreadable.append((rel, f"{kind}: {error.strerror}"))
                continue
            if name.endswith(".css"):
                stylesheets[rel] = _css_urls(text)
                continue
            scanner = _HtmlScanner()
            scanner.feed(text)
            scanner.close()
            scans[rel] = scanner.scan

    def display(rel: str) -> str:
        try:
            shown = os.path.relpath(output / rel)
        except ValueError:  # another drive, on Windows
            return str(output / rel)
        return str(output / rel) if shown.startswith("..") else shown

    problems: list[str] = [f"{display(rel)}: {reason}" for rel, reason in unreadable]

    def where(rel: str, url: str) -> str:
        """` (source: path:line)`, the notes line a broken link was written on, when it can be found."""
        source = sources.get(rel)
        if source is None:
            return ""
        found = _source_line(source[1], url)
        return f" (source: {source[0]}:{found})" if found else ""

    def resolve(rel: str, line: int, url: str) -> None:
        if _is_external(url) or url.startswith(("data:", "mailto:", "javascript:")):
            return
        parts = urlsplit(url)
        path = unquote(parts.path)
        if not path:
            target = rel
        else:
            base = "" if path.startswith("/") else posixpath.dirname(rel)
            target = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
            if target == ".." or target.startswith("../"):
                problems.append(f"{display(rel)}:{line}: link '{url}' points outside the site{where(rel, url)}")
                return
            if target == ".":
                target = ""
            full = output / target
            if path.endswith("/") or full.is_dir():
                target = posixpath.join(target, "index.html")
                full = output / target
            if not full.is_file():
                problems.append(f"{display(rel)}:{line}: broken link '{url}': no file {target}{where(rel, url)}")
                return
        fragment = unquote(parts.fragment)
        if fragment and target in scans and fragment not in scans[target].ids:
            problems.append(
                f"{display(rel)}:{line}: broken anchor '{url}': no id '{fragment}' in {target}{where(rel, url)}"
            )

    for rel, scan in scans.items():
        for line, url in scan.links:
            resolve(rel, line, url)
    for rel, urls in stylesheets.items():
        for line, url in urls:
            if not url.startswith("#"):
                resolve(rel, line, url)
    # One report per line and target: a figure's `<img src>` and the link around it are one problem.
    return sorted(set(problems))
