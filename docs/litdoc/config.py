# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Site configuration: the `[tool.litdoc]` table of `pyproject.toml`, overridden by command-line flags.

```toml
[tool.litdoc]
source = "labml_nn"          # the annotated source tree
output = "docs"              # where the site goes
title = "My notes"           # the site's name (home breadcrumb, Open Graph site name)
base_url = "https://example.org/notes/"   # absolute URLs: canonical links, sitemap.xml
repo_url = "https://github.com/me/notes/blob/main"   # + the file's path = its "source" link
templates = "templates"      # this site's overrides of litdoc's theme, searched first
math = "mathml"              # "mathml" (build-time, no network) or "mathjax" (loaded from mathjax_url)
cache = ".litdoc-cache"      # what builds keep to save work next time (hashes, formulas); "" for none
version = "1.2"              # shown and cited on every page; default: [project] version of pyproject.toml
release_url = "https://github.com/me/notes/blob/v{version}"   # + the file's path = the cited permalink
clone_url = "https://github.com/me/notes.git"   # `git clone` line of the home page; default: from a GitHub repo_url
numbered_equations = false   # number every display equation (otherwise only where the TeX has \tag)
raw_html = true              # false: HTML in a source's notes is shown as text (for sources you do not trust)
follow_external_links = false   # publish the files that symlinks in the source lead to outside it
exclude = ["theme", "*.csv"]     # glob patterns of source paths (files or folders) to leave out
```

Relative paths are relative to the folder holding `pyproject.toml`.
"""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from litdoc.mathengine import ENGINES, MathEngine, math_engine
from litdoc.model import LitdocError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the older Pythons only
    import tomli as tomllib

MATH_MODES = tuple(ENGINES)  # the math engines litdoc has (litdoc.mathengine)
# Beside pyproject.toml, and in .gitignore: what builds remember about the sources (see litdoc.build).
DEFAULT_CACHE = ".litdoc-cache"
# The same MathJax 2 as litdoc.markup, whose page configuration (tex2jax) is written for it.
DEFAULT_MATHJAX_URL = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.9/MathJax.js?config=TeX-AMS_HTML"


@dataclass(frozen=True)
class Config:
    """A resolved configuration: every path absolute, every value validated once, here."""

    project: Path  # the folder holding pyproject.toml (paths in the source link are relative to it)
    source: Path
    output: Path
    title: str = "litdoc"
    base_url: str = ""  # empty: no canonical links and no sitemap (both need absolute URLs)
    repo_url: str = ""  # empty: pages carry no source link
    templates: Path | None = None
    math: str = "mathml"
    mathjax_url: str = DEFAULT_MATHJAX_URL
    cache: Path | None = None  # None: every build reads and hashes every source
    # False: a symlink to a file outside the source tree is skipped with a warning, so that a link to
    # /etc/passwd (or a home folder) is never published by accident.
    follow_external_links: bool = False
    version: str = ""  # the project's version, shown and cited on each page; "" for none
    # Where this version's sources stay for good (a release tag's tree): "{version}" in it is replaced by
    # `version`, and a page's BibTeX cites it + the file's path in its `note`. "": no permalink.
    release_url: str = ""
    # The names of pyproject.toml's [project] authors: the `author` of each page's BibTeX entry.
    authors: tuple[str, ...] = ()
    clone_url: str = ""  # "" : derived from a GitHub repo_url, else no clone line
    numbered_equations: bool = False  # the seed pages number none; \tag still numbers one
    # False: the notes' HTML is text, and math may not link or style (for sources the builder does not trust)
    raw_html: bool = True
    # Glob patterns (fnmatch) of paths relative to the source; a matching folder is left out whole.
    exclude: tuple[str, ...] = ()
    # A pip requirement that installs the site's code (`name[extras] @ git+https://...`): a page's
    # notebook installs it in its first cell when its distribution is missing, and a page's `.py`
    # download names it in its first line. "": neither.
    notebook_install: str = ""

    def math_engine(self) -> MathEngine:
        """The engine that shows this site's math (cheap to make: MathML starts V8 at its first formula)."""
        return math_engine(self.math, self.mathjax_url, self.numbered_equations)

    @property
    def effective_clone_url(self) -> str:
        """`clone_url`, or `https://github.com/o/r.git` when `repo_url` is a GitHub blob URL."""
        if self.clone_url:
            return self.clone_url
        parts = self.repo_url.split("/")
        if self.repo_url.startswith("https://github.com/") and len(parts) >= 5:
            return "/".join(parts[:5]) + ".git"
        return ""

    @property
    def versioned_url(self) -> str:
        """`release_url` with its "{version}" replaced (a plain replacement: configuration is trusted, but nothing
        in it is formatted as a template)."""
        return self.release_url.replace("{version}", self.version)

    def fingerprint(self) -> dict[str, str]:
        """The settings a rendered page depends on (paths excluded, so moving a checkout keeps the cache)."""
        return {
            "title": self.title,
            "base_url": self.base_url,
            "repo_url": self.repo_url,
            "math": self.math,
            "mathjax_url": self.mathjax_url,
            "version": self.version,
            "release_url": self.release_url,
            "authors": " and ".join(self.authors),
            "clone_url": self.clone_url,
            "numbered_equations": str(self.numbered_equations),
            "raw_html": str(self.raw_html),
            "notebook_install": self.notebook_install,
        }


# Keys a user may write in [tool.litdoc], with the type each must have.
_KEYS: dict[str, type] = {
    "source": str,
    "output": str,
    "title": str,
    "base_url": str,
    "repo_url": str,
    "templates": str,
    "math": str,
    "mathjax_url": str,
    "cache": str,
    "version": str,
    "release_url": str,
    "clone_url": str,
    "numbered_equations": bool,
    "raw_html": bool,
    "follow_external_links": bool,
    "exclude": list,
    "notebook_install": str,
}


# Settings that become links or a script's source on every page: each must be an http(s) URL or a
# relative one. Anything else (`javascript:`, `data:`) would run or load what the author did not mean.
_URL_KEYS = ("base_url", "repo_url", "release_url", "mathjax_url")


def _bad_url(value: str) -> str:
    """Why `value` cannot be one of `_URL_KEYS`, or "" when it can. Browsers drop tabs, newlines and
    leading spaces from a URL before reading its scheme, so those are refused rather than parsed."""
    if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in value):
        return "must not contain spaces or control characters"
    scheme = urllib.parse.urlsplit(value).scheme.lower()
    if scheme and scheme not in ("http", "https"):
        return f"must be an http(s) URL or a relative one, not a '{scheme}:' URL"
    return ""


def _key_line(text: str, key: str) -> int:
    """The line of `key = ...` inside [tool.litdoc], so a config error points at it."""
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.replace(" ", "") == "[tool.litdoc]"
        elif in_table and stripped.split("=", 1)[0].strip() == key:
            return number
    return 1


def read_text(pyproject: Path) -> str:
    """pyproject.toml's text; TOML is UTF-8 by definition, so anything else is one clear error."""
    try:
        data = pyproject.read_bytes()
    except OSError as error:
        raise LitdocError(str(pyproject), 0, f"cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LitdocError(
            str(pyproject), line, f"not UTF-8 (byte 0x{data[error.start]:02x}); TOML files must be UTF-8"
        ) from None


def _table_line(text: str, dotted: str) -> int:
    """The first line that sets `dotted` (`tool.litdoc = 5`, `[[tool.litdoc]]`, `[tool]` ...)."""
    last = dotted.rsplit(".", 1)[-1]
    for number, line in enumerate(text.splitlines(), start=1):
        bare = line.replace(" ", "")
        if bare.startswith((f"[{dotted}]", f"[[{dotted}]]", f"{dotted}=")) or (
            bare.startswith(f"{last}=") and "." in dotted
        ):
            return number
    return 1


def read_table(pyproject: Path) -> dict[str, Any]:
    """The raw `[tool.litdoc]` table, type-checked; an absent file or table is an empty table."""
    if not pyproject.is_file():
        return {}
    text = read_text(pyproject)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or 1
        raise LitdocError(str(pyproject), line, f"invalid TOML: {error}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise LitdocError(str(pyproject), _table_line(text, "tool"), "'tool' must be a table")
    table = tool.get("litdoc", {})
    if not isinstance(table, dict):
        shape = "an array of tables ([[tool.litdoc]])" if isinstance(table, list) else f"a {type(table).__name__}"
        raise LitdocError(
            str(pyproject), _table_line(text, "tool.litdoc"), f"[tool.litdoc] must be a table of settings, not {shape}"
        )
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise LitdocError(
                str(pyproject), _key_line(text, key), f"unknown key '{key}' in [tool.litdoc] (known: {known})"
            )
        if not isinstance(value, _KEYS[key]):
            raise LitdocError(str(pyproject), _key_line(text, key), f"'{key}' must be a {_KEYS[key].__name__}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise LitdocError(str(pyproject), _key_line(text, key), f"'{key}' must be a list of strings")
    return dict(table)


def _project_table(pyproject: Path) -> dict[str, Any]:
    """`[project]` of pyproject.toml; empty when there is none (a bad file is read_table's error)."""
    if not pyproject.is_file():
        return {}
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError:
        return {}
    return project if isinstance(project, dict) else {}


def _project_version(project: Mapping[str, Any]) -> str:
    """`[project] version` when it is written there (not `dynamic`), else ""."""
    version = project.get("version", "")
    return version if isinstance(version, str) else ""


def _project_authors(project: Mapping[str, Any]) -> tuple[str, ...]:
    """The `name` of each `[project] authors` entry (PEP 621: `{name, email}` tables; one with only
    an email has no name to cite)."""
    authors = project.get("authors", [])
    if not isinstance(authors, list):
        return ()
    names = (author.get("name") for author in authors if isinstance(author, dict))
    return tuple(name.strip() for name in names if isinstance(name, str) and name.strip())


def load_config(project: Path, overrides: Mapping[str, str | None] | None = None) -> Config:
    """Merge defaults < pyproject.toml < command-line `overrides` (None values mean "not given")."""
    project = project.resolve()
    pyproject = project / "pyproject.toml"
    values: dict[str, Any] = read_table(pyproject)
    from_file = dict(values)
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})

    def where(key: str) -> tuple[str, int]:
        # A bad value is blamed on the file only when the file supplied it.
        if key in from_file and values[key] == from_file[key]:
            return str(pyproject), _key_line(read_text(pyproject), key)
        return "command line", 0

    for key in ("source", "output"):
        if key not in values:
            place = (str(pyproject), 1) if pyproject.is_file() else ("litdoc", 0)
            raise LitdocError(*place, f"no '{key}' given: set it in [tool.litdoc] or pass --{key}")
    source = (project / values["source"]).resolve()
    if not source.is_dir():
        raise LitdocError(*where("source"), f"source folder '{values['source']}' does not exist")
    output = (project / values["output"]).resolve()
    if output == source or source in output.parents or output in source.parents:
        raise LitdocError(*where("output"), "output folder must be outside the source folder, and not contain it")
    templates = None
    if values.get("templates"):
        templates = (project / values["templates"]).resolve()
        if not templates.is_dir():
            raise LitdocError(*where("templates"), f"templates folder '{values['templates']}' does not exist")
    for key in _URL_KEYS:
        reason = _bad_url(values.get(key) or "")
        if reason:
            raise LitdocError(*where(key), f"'{key}' {reason}")
    math = values.get("math", "mathml")
    if math not in MATH_MODES:
        raise LitdocError(*where("math"), f"math must be one of {', '.join(MATH_MODES)}, not '{math}'")
    cache_name = values.get("cache", DEFAULT_CACHE)
    cache = (project / cache_name).resolve() if cache_name else None  # `cache = ""`: no cache
    # Inside the source the cache would be read as part of the site, inside the output written into it.
    if cache is not None and any(cache == folder or folder in cache.parents for folder in (source, output)):
        if "cache" in values:
            raise LitdocError(*where("cache"), "cache folder must be outside the source and output folders")
        cache = None  # the default place is inside the source (a project that is its own source): go without
    project_table = _project_table(pyproject)
    if "version" not in values:
        values["version"] = _project_version(project_table)
    values["authors"] = _project_authors(project_table)
    config = Config(
        project=project,
        source=source,
        output=output,
        templates=templates,
        math=math,
        cache=cache,
        follow_external_links=bool(values.get("follow_external_links", False)),
        exclude=tuple(values.get("exclude", ())),
    )
    plain = {f.name for f in fields(Config)} - {
        "project",
        "source",
        "output",
        "templates",
        "math",
        "cache",
        "follow_external_links",
        "exclude",
    }
    return replace(config, **{key: values[key] for key in plain if key in values})
