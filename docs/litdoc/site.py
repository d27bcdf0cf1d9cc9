# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The site's shape: which source file becomes which output file, titles, breadcrumbs, links, sitemap.

Everything here is a pure function of paths and strings; `litdoc.build` is the part that reads and writes.

The output mirrors the source tree:

| source                                   | output                      |
|------------------------------------------|-----------------------------|
| `pkg/x.py`                               | `pkg/x.html`                |
| `pkg/__init__.py`                        | `pkg/index.html`            |
| `pkg/README.md` (no `__init__.py` there) | `pkg/index.html`            |
| `pkg/README.md` (beside `__init__.py`)   | `pkg/readme.html` (the package docstring stays the index) |
| `pkg/notes.md`                           | `pkg/notes.html`            |
| `pkg/figure.svg`, any other file         | `pkg/figure.svg`, copied    |

A folder holding pages but no index of its own gets a generated listing as `index.html`, so every
breadcrumb resolves. Hidden files, `__pycache__` and compiled files are skipped.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

from litdoc.model import Breadcrumb

PYTHON, MARKDOWN, ASSET, LISTING = "python", "markdown", "asset", "listing"

_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Where litdoc puts its own files in the output; a source folder of that name would collide.
THEME_DIR = "_litdoc"
SITEMAP = "sitemap.xml"


@dataclass(frozen=True)
class SourceFile:
    """One input of the site, or a generated folder listing (`kind == LISTING`, no source file)."""

    source_path: str  # relative to the source root, '/'-separated; the folder for a listing
    output_path: str  # relative to the output root
    kind: str


@dataclass(frozen=True)
class SiteTree:
    """Every file of the site, sorted by output path, with look-ups by source and output path."""

    files: tuple[SourceFile, ...]

    @property
    def pages(self) -> tuple[SourceFile, ...]:
        return tuple(f for f in self.files if f.kind in (PYTHON, MARKDOWN))

    @property
    def assets(self) -> tuple[SourceFile, ...]:
        return tuple(f for f in self.files if f.kind == ASSET)

    @property
    def listings(self) -> tuple[SourceFile, ...]:
        return tuple(f for f in self.files if f.kind == LISTING)

    def by_source(self) -> dict[str, SourceFile]:
        return {f.source_path: f for f in self.files if f.kind != LISTING}

    def folder_index(self) -> dict[str, str]:
        """Folder (source-relative, '' for the root) -> its index page's output path."""
        return {
            posixpath.dirname(f.output_path): f.output_path
            for f in self.files
            if posixpath.basename(f.output_path) == "index.html"
        }

    def fingerprint(self) -> list[str]:
        """What every page's links depend on: the mapping of sources to outputs."""
        return [f"{f.kind}:{f.source_path}>{f.output_path}" for f in self.files]


def _is_readme(name: str) -> bool:
    return name.lower() == "readme.md"


def _printable(name: str) -> str:
    """A file name for a message: bytes that are not UTF-8 (kept by os.fsdecode as surrogates) escaped."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _file_problem(path: str, real_source: str, follow_external_links: bool) -> tuple[str | None, bool]:
    """Why the file at `path` is not part of the site: (reason, is_error), or (None, False) when it is.

    The policy: a regular file, or a symlink to one inside the source tree, is an input. A broken
    symlink is an error (the author meant a file). A symlink to a file outside the tree is skipped with
    a warning unless `follow_external_links`, so that `ln -s /etc/passwd` is never published by
    accident. A FIFO, device or socket is skipped with a warning: reading one could block forever.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        if os.path.islink(path):
            return f"broken symlink to {_printable(os.readlink(path))} ({error.strerror})", True
        return f"cannot read: {error.strerror}", True
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "not a regular file"
        )
        return f"{kind}, not a file: skipped", False
    if os.path.islink(path) and not follow_external_links:
        real = os.path.realpath(path)
        if os.path.commonpath([real, real_source]) != real_source:
            return (
                f"symlink to {_printable(real)}, outside the source tree: skipped "
                f"(set follow_external_links = true in [tool.litdoc] to publish it)"
            ), False
    return None, False


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Whether a source path matches one of `[tool.litdoc] exclude`'s glob patterns (`theme`,
    `data/*.csv`, `**/private*`): matched against the path and against its last part."""
    name = posixpath.basename(rel)
    return any(fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def scan_tree(
    source: Path,
    follow_external_links: bool = False,
    warnings: list[tuple[str, str]] | None = None,
    exclude: Sequence[str] = (),
    companions: Callable[[SourceFile], Iterable[str]] | None = None,
    reserved: Mapping[str, str] | None = None,
) -> tuple[SiteTree, list[tuple[str, str]]]:
    """Walk `source` and map every file to its output. Returns the tree and `(path, reason)` conflicts:
    two sources wanting one output (e.g. `x.py` and `x.md`, or `x.py`, whose notebook is `x.ipynb`, and
    `x.ipynb`), an output that another needs as a folder (`foo.py` and `foo.html/a.svg`), an output
    that litdoc makes for the whole site (`reserved`: output path -> what it is; the sitemap and the
    theme's folder always), a broken symlink, a name that is not UTF-8. `companions` gives the other
    outputs a page makes beside itself. Inputs skipped on purpose (FIFOs, devices, sockets,
    symlinks leaving the tree, symlinked folders) are appended to `warnings` as `(path, reason)`.
    Paths (relative to `source`) that match a glob pattern of `exclude` are left out, folders whole."""
    found: list[SourceFile] = []
    conflicts: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = [] if warnings is None else warnings
    real_source = os.path.realpath(source)
    for folder, dirs, names in os.walk(source):
        rel_folder = Path(folder).relative_to(source).as_posix()
        rel_folder = "" if rel_folder == "." else rel_folder
        kept_dirs = []
        for name in sorted(dirs):
            rel = posixpath.join(rel_folder, name)
            if name.startswith(".") or name in _SKIPPED_DIRS or _excluded(rel, exclude):
                continue
            if not _valid_name(name):
                conflicts.append((_printable(rel), "folder name is not valid UTF-8: skipped (rename it)"))
            elif os.path.islink(os.path.join(folder, name)):
                # Following folder links could loop, or pull in another tree: say so rather than guess.
                skipped.append(
                    (
                        rel,
                        f"symlinked folder (to {_printable(os.path.realpath(os.path.join(folder, name)))}) "
                        "is not followed: skipped",
                    )
                )
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        has_init = "__init__.py" in names
        for name in sorted(names):
            if name.startswith(".") or name.endswith(_SKIPPED_SUFFIXES):
                continue
            rel = posixpath.join(rel_folder, name)
            if _excluded(rel, exclude):
                continue
            if not _valid_name(name):
                conflicts.append((_printable(rel), "file name is not valid UTF-8: skipped (rename it)"))
                continue
            reason, is_error = _file_problem(os.path.join(folder, name), real_source, follow_external_links)
            if reason is not None:
                (conflicts if is_error else skipped).append((rel, reason))
                continue
            stem, suffix = posixpath.splitext(name)
            if suffix == ".py":
                out = "index.html" if name == "__init__.py" else stem + ".html"
                found.append(SourceFile(rel, posixpath.join(rel_folder, out), PYTHON))
            elif suffix.lower() == ".md":
                if _is_readme(name):
                    out = "readme.html" if has_init else "index.html"
                else:
                    out = stem + ".html"
                found.append(SourceFile(rel, posixpath.join(rel_folder, out), MARKDOWN))
            else:
                found.append(SourceFile(rel, rel, ASSET))

    by_output: dict[str, SourceFile] = {}
    site_wide = {SITEMAP: "the sitemap litdoc generates", **(reserved or {})}
    claimed: dict[str, str] = {}  # every output path (companions too) -> the source that makes it
    folders: dict[str, str] = {}  # every folder those outputs need -> a source that needs it
    # Pages claim outputs before copied files, Python before Markdown, so the loser is the one reported.
    rank = {PYTHON: 0, MARKDOWN: 1, ASSET: 2}
    for item in sorted(found, key=lambda f: (rank[f.kind], f.source_path)):
        outputs = [item.output_path, *(companions(item) if companions is not None else ())]
        problem = _collision(item, outputs, claimed, folders, site_wide)
        if problem is not None:
            conflicts.append((item.source_path, problem))
            continue
        by_output[item.output_path] = item
        for output in outputs:
            claimed[output] = item.source_path
            for folder in _folders_of(output):
                folders.setdefault(folder, item.source_path)
    # Every folder on the way to a page needs an index page for the breadcrumbs to resolve.
    indexed = {posixpath.dirname(p) for p in by_output if posixpath.basename(p) == "index.html"}
    needed = set()
    for item in by_output.values():
        if item.kind in (PYTHON, MARKDOWN):
            folder = posixpath.dirname(item.output_path)
            while folder not in needed:  # a folder already needed has its parents needed too
                needed.add(folder)
                if not folder:
                    break
                folder = posixpath.dirname(folder)
    for folder in sorted(needed - indexed):
        out = posixpath.join(folder, "index.html")
        by_output[out] = SourceFile(folder, out, LISTING)
    return SiteTree(tuple(sorted(by_output.values(), key=lambda f: f.output_path))), conflicts


def _folders_of(output: str) -> list[str]:
    """'a/b/c.html' -> ['a', 'a/b']."""
    parts = output.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _collision(
    item: SourceFile, outputs: list[str], claimed: dict[str, str], folders: dict[str, str], site_wide: Mapping[str, str]
) -> str | None:
    """Why `item` cannot have `outputs`, naming the other source (or litdoc's own file); None if it can."""
    for output in outputs:
        what = "its output" if output == item.output_path else "the file it makes beside its page"
        if output.split("/", 1)[0] == THEME_DIR:
            return f"the folder '{THEME_DIR}' is reserved for litdoc's theme files"
        if output in site_wide:
            return f"{what}, {output}, is {site_wide[output]}: rename the source"
        if output in claimed:
            return f"would be written to {output}, which {claimed[output]} already produces"
        if output in folders:
            return f"{what}, {output}, is a folder of the site, which {folders[output]} needs"
        for folder in _folders_of(output):
            if folder in claimed:
                return f"{what}, {output}, needs a folder at {folder}, which {claimed[folder]} produces as a file"
    return None


def _relpath(path: str, start: str) -> str:
    """`posixpath.relpath(path, start)` for two output-root relative paths, without asking the file system
    for the working folder (relpath makes both absolute first: a `getcwd` per call, twice, on every link of
    every page)."""
    to_parts = [part for part in path.split("/") if part not in ("", ".")]
    from_parts = [part for part in start.split("/") if part not in ("", ".")]
    if ".." in to_parts or ".." in from_parts:
        return posixpath.relpath(path, start)
    common = 0
    for a, b in zip(to_parts, from_parts):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(from_parts) - common) + to_parts[common:]) or "."


def relative_url(from_output: str, to_output: str) -> str:
    """The link from page `from_output` to file `to_output`, both output-root relative."""
    return _link_from_folder(posixpath.dirname(from_output), to_output)


@lru_cache(maxsize=1 << 16)
def _link_from_folder(folder: str, to_output: str) -> str:
    """The link to `to_output` from any page in `folder`: each page links to its chapter tree, its
    neighbours and its folders' index pages, which its folder's other pages link to as well."""
    return quote(_relpath(to_output, folder))


def root_of(output_path: str) -> str:
    """The relative path from a page's folder to the output root ('.' or '../..')."""
    return _relpath(".", posixpath.dirname(output_path))


def breadcrumbs(item: SourceFile, folder_index: dict[str, str]) -> tuple[Breadcrumb, ...]:
    """`home` then each enclosing folder's index page, outermost first; never the page itself."""
    folder = posixpath.dirname(item.output_path)
    is_index = posixpath.basename(item.output_path) == "index.html"
    chain = []
    parts = folder.split("/") if folder else []
    # An index page's own folder is the page itself, so it stops one level higher.
    depth = len(parts) - 1 if is_index else len(parts)
    for level in range(depth + 1):
        if level == 0:
            if is_index and not folder:
                break
            title, target = "home", folder_index.get("")
        else:
            title, target = parts[level - 1], folder_index.get("/".join(parts[:level]))
        if target is not None:
            chain.append(Breadcrumb(title, relative_url(item.output_path, target)))
    return tuple(chain)


def rewrite_link(href: str, item: SourceFile, tree_sources: dict[str, SourceFile], folder_index: dict[str, str]) -> str:
    """Point a relative link written in a source (`../adam.py#x`, `README.md`, `sub/`) at the page made
    from it. Absolute URLs, fragments alone, and links to files that are not pages are left as written."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return href
    target = posixpath.normpath(posixpath.join(posixpath.dirname(item.source_path), unquote(parts.path)))
    if target == ".":
        target = ""
    if target.startswith("../") or target == "..":
        return href
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    query = f"?{parts.query}" if parts.query else ""
    page = tree_sources.get(target)
    if page is not None and page.kind in (PYTHON, MARKDOWN):
        return relative_url(item.output_path, page.output_path) + query + fragment
    if page is None and target in folder_index and (parts.path.endswith("/") or target == ""):
        # A folder link works on a web server but not from file://, so it names the index page.
        return relative_url(item.output_path, folder_index[target]) + query + fragment
    return href


def fallback_title(item: SourceFile, site_title: str) -> str:
    """A page without a title is named after its file (or its folder, for an index)."""
    if item.kind == LISTING:
        return posixpath.basename(item.source_path) or site_title
    name = posixpath.basename(item.source_path)
    if name == "__init__.py" or (posixpath.basename(item.output_path) == "index.html"):
        folder = posixpath.basename(posixpath.dirname(item.source_path))
        return folder or site_title
    return posixpath.splitext(name)[0]


def absolute_url(base_url: str, output_path: str) -> str | None:
    if not base_url:
        return None
    return base_url.rstrip("/") + "/" + quote(output_path)


def source_url(repo_url: str, source_prefix: str, source_path: str) -> str | None:
    """`repo_url` + the file's path in the repository (`source_prefix` is the source root's path there)."""
    if not repo_url:
        return None
    return repo_url.rstrip("/") + "/" + quote(posixpath.join(source_prefix, source_path))


def _xml_text(text: str) -> str:
    """`text` escaped for XML character data, as `xml.sax.saxutils.escape` does it (whose import pulls
    in urllib.request and http.client: a tenth of a no-op build's time)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def sitemap_xml(base_url: str, output_paths: Iterable[str]) -> str:
    """A sitemaps.org 0.9 sitemap of the pages, sorted so that two builds give the same bytes."""
    urls = sorted(absolute_url(base_url, p) or "" for p in output_paths)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"  <url><loc>{_xml_text(url)}</loc></url>" for url in urls]
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Reading order, previous/next, dates
# ---------------------------------------------------------------------------------------------

_MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")


def reading_order(tree: SiteTree, index_sources: dict[str, str]) -> tuple[str, ...]:
    """Every page's output path, chapter by chapter: a folder's index page first, then the pages its
    source links to, in the order it first links them (the chapter's table of contents), then the
    folder's other pages by path. `index_sources` maps an index page's output path to its source text."""
    by_output = {f.output_path: f for f in tree.pages + tree.listings}
    by_source = tree.by_source()
    folders: dict[str, list[str]] = {}
    for item in tree.pages + tree.listings:
        folders.setdefault(posixpath.dirname(item.output_path), []).append(item.output_path)
    order: list[str] = []
    for folder in sorted(folders):
        members = set(folders[folder])
        index = posixpath.join(folder, "index.html")
        chapter: list[str] = [index] if index in members else []
        for href in _MARKDOWN_LINK.findall(index_sources.get(index, "")):
            path = unquote(urlsplit(href).path)
            if urlsplit(href).scheme or not path:
                continue
            index_item = by_output.get(index)
            base = posixpath.dirname(index_item.source_path) if index_item and index_item.kind != LISTING else folder
            target = posixpath.normpath(posixpath.join(base, path))
            found = by_source.get(target)
            output = (
                found.output_path
                if found is not None and found.kind in (PYTHON, MARKDOWN)
                else posixpath.normpath(posixpath.join(folder, path))
            )
            if output in members and output not in chapter:
                chapter.append(output)
        chapter += sorted(members - set(chapter))
        order += chapter
    return tuple(order)


def neighbours(output_path: str, order: Sequence[str]) -> tuple[str | None, str | None]:
    """The pages before and after `output_path` in `order`, within its own folder (its chapter)."""
    if output_path not in order:
        return None, None
    folder = posixpath.dirname(output_path)
    chapter = [p for p in order if posixpath.dirname(p) == folder]
    position = chapter.index(output_path)
    before = chapter[position - 1] if position > 0 else None
    after = chapter[position + 1] if position + 1 < len(chapter) else None
    return before, after


def chapter_tree(current: str, order: Sequence[str]) -> list[tuple[int, str]]:
    """(depth, output path) of what a page's chapter tree lists: the site's top level, and the contents
    of each folder on the way to `current`, each folder's pages in reading order, then its sub-folders
    (by their index pages) by path. A folder off the way is one entry, its index page: the tree stays
    as long as the way down, not as the site."""
    children = _folder_children(tuple(order))
    way = set()
    folder = posixpath.dirname(current)
    while folder:
        way.add(folder)
        folder = posixpath.dirname(folder)
    out: list[tuple[int, str]] = [(0, "index.html")] if "index.html" in order else []

    def walk(folder: str, depth: int) -> None:
        for path in children.get(folder, ()):
            out.append((depth, path))
            sub = posixpath.dirname(path)
            if posixpath.basename(path) == "index.html" and sub in way:
                walk(sub, depth + 1)

    walk("", 0)
    return out


@lru_cache(maxsize=4)
def _folder_children(order: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each folder's entries in a chapter tree: its own pages in reading order, then the index pages of
    its sub-folders by path. Made once per build (every page asks with the same order)."""
    own: dict[str, list[str]] = {}
    subs: dict[str, list[str]] = {}
    for path in order:
        folder = posixpath.dirname(path)
        if posixpath.basename(path) != "index.html":
            own.setdefault(folder, []).append(path)
        elif folder:
            subs.setdefault(posixpath.dirname(folder), []).append(path)
    return {folder: tuple(own.get(folder, []) + sorted(subs.get(folder, []))) for folder in set(own) | set(subs)}


def git_dates(project: Path, source: Path) -> dict[str, str]:
    """Source path (relative to `source`) -> `YYYY-MM-DD` (UTC) of the last commit that changed it.

    From git's history, never from the clock or the file's mtime, so two builds of one commit give the
    same bytes. Without git, or outside a repository, the map is empty and pages show no date. A file's
    date is that of its last *commit*: build the docs after committing the sources they show."""
    import subprocess
    from datetime import datetime, timezone

    try:
        top = subprocess.run(
            ["git", "-C", str(project), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=30
        )
        if top.returncode != 0:
            return {}
        root = Path(top.stdout.strip()).resolve()
        prefix = source.resolve().relative_to(root).as_posix()
        log = subprocess.run(
            ["git", "-C", str(root), "log", "--format=%x00%ct", "--name-only", "--no-renames", "--", prefix or "."],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    if log.returncode != 0:
        return {}
    dates: dict[str, str] = {}
    stamp = ""
    for line in log.stdout.splitlines():
        if line.startswith("\0"):
            stamp = datetime.fromtimestamp(int(line[1:]), tz=timezone.utc).strftime("%Y-%m-%d")
        elif line and stamp:
            rel = line[len(prefix) + 1 :] if prefix else line
            dates.setdefault(rel, stamp)  # newest first: the first date seen is the last change
    return dates


def colab_url(repo_url: str, output_prefix: str, notebook_path: str) -> str | None:
    """`https://colab.research.google.com/github/o/r/blob/branch/<output>/<page>.ipynb` for a GitHub
    `repo_url` of the form `https://github.com/o/r/blob/branch`, when the output is committed inside
    the repository (`output_prefix` is its path there); otherwise None."""
    parts = repo_url.rstrip("/").split("/")
    if (
        not repo_url.startswith("https://github.com/")
        or len(parts) < 7
        or parts[5] != "blob"
        or output_prefix.startswith("..")
    ):
        return None
    path = posixpath.join(output_prefix, notebook_path) if output_prefix else notebook_path
    return "https://colab.research.google.com/github/" + "/".join(parts[3:]) + "/" + quote(path)
