"""From a source file's text to the HTML of its page: parse, markup, highlight, then the theme's templates.

`PageRenderer` holds what is costly to make (the Markdown/math renderer with its JS engine, the Jinja
environment), so `litdoc.build` makes one per worker process and reuses it for every page.
It does not touch the disk except to read templates.
"""
from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import jinja2

from litdoc.config import Config
from litdoc.model import FrontMatter, LitdocError, Page, ParsedModule, RenderedSection, Section
from litdoc import site
from litdoc.site import LISTING, PYTHON, SiteTree, SourceFile

THEME_DIR = Path(__file__).parent / "theme"
PAGE_TEMPLATE, LISTING_TEMPLATE = "page.html", "listing.html"


def template_dirs(config: Config) -> List[Path]:
    """The template search path: the project's overrides first, then litdoc's theme."""
    dirs = [config.templates] if config.templates else []
    return dirs + [THEME_DIR]


def make_environment(config: Config) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(config)])
    # StrictUndefined: a misspelt variable in a template is an error, not a silently empty string.
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=False)


def templates_fingerprint(config: Config) -> str:
    """A hash of every file that can shape a page's HTML through the theme (templates and static files)."""
    digest = hashlib.sha256()
    for position, folder in enumerate(template_dirs(config)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{position}:{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class _LinkRewriter(HTMLParser):
    """Rewrites the `href` of each `<a>` in rendered Markdown, keeping every other byte as it was."""

    def __init__(self, text: str, rewrite: Callable[[str], str]):
        super().__init__(convert_charrefs=True)
        self.text = text
        self.rewrite = rewrite
        self.line_starts = [0]
        position = text.find("\n")
        while position >= 0:
            self.line_starts.append(position + 1)
            position = text.find("\n", position + 1)
        self.edits: List[Tuple[int, int, str]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag != "a" or not any(name == "href" for name, _ in attrs):
            return
        new_attrs = [(name, self.rewrite(value) if name == "href" and value is not None else value)
                     for name, value in attrs]
        if new_attrs == attrs:
            return
        line, column = self.getpos()
        start = self.line_starts[line - 1] + column
        raw = self.get_starttag_text() or ""
        rebuilt = "<a" + "".join(f' {name}="{escape(value, quote=True)}"' if value is not None else f" {name}"
                                 for name, value in new_attrs) + (" />" if raw.endswith("/>") else ">")
        self.edits.append((start, start + len(raw), rebuilt))

    def result(self) -> str:
        self.feed(self.text)
        self.close()
        out, last = [], 0
        for start, end, replacement in self.edits:
            out.append(self.text[last:start])
            out.append(replacement)
            last = end
        out.append(self.text[last:])
        return "".join(out)


def rewrite_links(html: str, rewrite: Callable[[str], str]) -> str:
    if "<a " not in html:  # most sections link nowhere; parsing them would be wasted
        return html
    return _LinkRewriter(html, rewrite).result()


@dataclass(frozen=True)
class SiteContext:
    """What every page of one build shares; picklable, so it can be sent to worker processes."""
    config: Config
    tree: SiteTree
    source_prefix: str      # the source root's path in the repository, for source links

    @property
    def display_root(self) -> Path:
        return self.config.project


def display_path(context: SiteContext, item: SourceFile) -> str:
    """The path a user sees in messages: relative to the project folder."""
    return posixpath.join(context.source_prefix, item.source_path) if context.source_prefix else item.source_path


def decode_source(data: bytes, path: str) -> str:
    """Source bytes to text, or a one-line error for a binary or non-UTF-8 file."""
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise LitdocError(path, line, "binary file (contains a NUL byte), not a source file")
    encoding, declared = "utf-8", ""
    if path.endswith(".py"):
        # Python honours a PEP 263 declaration (`# -*- coding: latin-1 -*-`) in the first two lines,
        # so litdoc reads the file as Python runs it.
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as error:  # an unknown encoding, one that contradicts a BOM, or bytes not UTF-8
            if "invalid or missing" not in error.msg:
                raise LitdocError(path, error.lineno or 1, f"coding declaration: {error.msg}") from None
        if encoding not in ("utf-8", "utf-8-sig"):
            declared = f" (the file's coding declaration says {encoding})"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise LitdocError(path, line, f"not {name}{declared}: byte 0x{data[error.start]:02x} cannot be decoded") from None
    return text[1:] if text.startswith("\ufeff") else text


def markdown_module(text: str, path: str) -> ParsedModule:
    """A Markdown file is one section of notes with no code."""
    lines = text.replace("\r\n", "\n").split("\n")
    numbers = tuple(range(1, len(lines) + 1))
    section = Section(docs="\n".join(lines), doc_lines=numbers, docs_line_numbers=numbers)
    return ParsedModule(path=path, front_matter=FrontMatter(), sections=(section,))


def _template_frame(tb: object) -> Optional[Tuple[str, int]]:
    """(file, line) of the innermost template frame of a traceback: jinja2 rewrites the frames of
    template code to carry the template's file name and line."""
    found = None
    while tb is not None:
        frame = tb.tb_frame  # type: ignore[attr-defined]
        if "__jinja_exception__" in frame.f_globals or "__jinja_template__" in frame.f_globals:
            found = (frame.f_code.co_filename, tb.tb_lineno)  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


def _failing_template(tb: object) -> Optional[str]:
    """The template file a loader was reading when it failed (the `filename` local of jinja2's loader)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_locals.get("filename")  # type: ignore[attr-defined]
        if isinstance(filename, str):
            found = filename
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


class PageRenderer:
    """Renders pages of one site. Make one per process: construction starts the math engine."""

    def __init__(self, context: SiteContext):
        from litdoc.markup import MarkupRenderer  # imported here: the JS engine is only needed by renderers

        self.context = context
        self.config = context.config
        self.markup = MarkupRenderer(math=self.config.math, mathjax_url=self.config.mathjax_url)
        self.environment = make_environment(self.config)
        self.sources = context.tree.by_source()
        self.folder_index = context.tree.folder_index()

    def _base_page(self, item: SourceFile, title: str, summary: str,
                   sections: Tuple[RenderedSection, ...]) -> Page:
        config = self.config
        return Page(
            source_path=item.source_path,
            output_path=item.output_path,
            title=title,
            summary=summary or title,
            sections=sections,
            breadcrumbs=site.breadcrumbs(item, self.folder_index),
            source_url=None if item.kind == LISTING else site.source_url(config.repo_url, self.context.source_prefix, item.source_path),
            canonical_url=site.absolute_url(config.base_url, item.output_path),
            root=site.root_of(item.output_path),
        )

    def build_page(self, item: SourceFile, data: bytes) -> Page:
        path = display_path(self.context, item)
        text = decode_source(data, path)
        if item.kind == PYTHON:
            from litdoc.parse import parse_module
            module = parse_module(text, path)
        else:
            module = markdown_module(text, path)
        from litdoc.highlight import highlight_sections
        code_html = highlight_sections(module.sections) if item.kind == PYTHON else ["" for _ in module.sections]

        def rewrite(href: str) -> str:
            return site.rewrite_link(href, item, self.sources, self.folder_index)

        rendered = []
        for index, (section, code) in enumerate(zip(module.sections, code_html)):
            docs_html = ""
            if section.docs.strip():
                html = self.markup.render(section.docs, path, line_numbers=section.docs_line_numbers)
                docs_html = rewrite_links(html, rewrite)
            rendered.append(RenderedSection(index=index, docs_html=docs_html, code_html=code,
                                            from_docstring=section.from_docstring))
        fallback = site.fallback_title(item, self.config.title)
        from litdoc.parse import page_title
        title = page_title(module.front_matter, module.sections, fallback)
        return self._base_page(item, title, module.front_matter.summary or "", tuple(rendered))

    def _render_template(self, name: str, page: Page, path: str, **extra: object) -> str:
        try:
            template = self.environment.get_template(name)
            return template.render(page=page, site=self.config, math_head=self.markup.head_html(page.root),
                                   theme_url=posixpath.join(page.root, site.THEME_DIR), **extra)
        except jinja2.TemplateSyntaxError as error:
            raise LitdocError(error.filename or error.name or name, error.lineno or 1, f"template error: {error.message}") from None
        except jinja2.TemplateNotFound as error:
            searched = ", ".join(str(d) for d in template_dirs(self.config))
            raise LitdocError(path, 1, f"template '{error.name}' not found (searched {searched})") from None
        except jinja2.TemplateError as error:
            raise LitdocError(path, 1, f"template error in {name}: {error}") from None
        except UnicodeDecodeError as error:  # the loader reads templates as UTF-8
            raise LitdocError(_failing_template(error.__traceback__) or name, 1,
                              f"template is not UTF-8 (byte 0x{error.object[error.start]:02x})") from None
        except Exception as error:  # `{{ 1/0 }}`: an error while the template runs is the template's
            where = _template_frame(error.__traceback__)
            raise LitdocError(where[0] if where else name, where[1] if where else 1,
                              f"template error: {type(error).__name__}: {error} (rendering {path})") from None

    def render(self, item: SourceFile, data: bytes) -> Tuple[str, str]:
        """The page's HTML and its title."""
        page = self.build_page(item, data)
        return self._render_template(PAGE_TEMPLATE, page, display_path(self.context, item)), page.title

    def render_listing(self, item: SourceFile, entries: Sequence[Tuple[str, str]]) -> str:
        """A generated index for a folder with no index page: `entries` are (title, output path)."""
        title = site.fallback_title(item, self.config.title)
        page = self._base_page(item, title, f"{title}: contents", ())
        links = [{"title": entry_title, "url": site.relative_url(item.output_path, target)}
                 for entry_title, target in entries]
        return self._render_template(LISTING_TEMPLATE, page, item.output_path, entries=links)
