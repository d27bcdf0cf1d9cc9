"""From a source file's text to the HTML of its page: parse, markup, highlight, then the theme's templates.

`PageRenderer` holds what is costly to make (the Markdown/math renderer with its JS engine, the Jinja
environment), so `litdoc.build` makes one per worker process and reuses it for every page.
It does not touch the disk except to read templates.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import jinja2

from litdoc import anchors, site
from litdoc.config import Config
from litdoc.model import Breadcrumb, FrontMatter, LitdocError, OutlineItem, Page, ParsedModule, RenderedSection, Section
from litdoc.site import LISTING, PYTHON, SiteTree, SourceFile

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

THEME_DIR = Path(__file__).parent / "theme"
PAGE_TEMPLATE, LISTING_TEMPLATE = "page.html", "listing.html"


@dataclass(frozen=True)
class PageOutputs:
    """What rendering one source gives: its page, its search-index row (JSON, remembered in the
    build's cache so that the index is rebuilt without reading unchanged sources) and the files made beside
    it (`adam.ipynb`, `adam.py`), which share the page's key."""

    html: str
    title: str
    search: str
    companions: tuple[tuple[str, bytes], ...] = ()
    glyphs: str = ""  # the characters of its MathML, for the site's math font subset (litdoc.fontsubset)


def companion_paths(item: SourceFile) -> tuple[str, ...]:
    """The output paths of the files made beside a page: a Python page's notebook and `.py`."""
    if item.kind != PYTHON:
        return ()
    return (notebook_file(item.output_path, ".ipynb", full=True), notebook_file(item.output_path, ".py", full=True))


def template_dirs(config: Config) -> list[Path]:
    """The template search path: the project's overrides first, then litdoc's theme."""
    dirs = [config.templates] if config.templates else []
    return dirs + [THEME_DIR]


def make_environment(config: Config) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(config)])
    # StrictUndefined: a misspelt variable in a template is an error, not a silently empty string.
    return jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=False
    )


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
        self.edits: list[tuple[int, int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a" or not any(name == "href" for name, _ in attrs):
            return
        new_attrs = [
            (name, self.rewrite(value) if name == "href" and value is not None else value) for name, value in attrs
        ]
        if new_attrs == attrs:
            return
        line, column = self.getpos()
        start = self.line_starts[line - 1] + column
        raw = self.get_starttag_text() or ""
        rebuilt = (
            "<a"
            + "".join(
                f' {name}="{escape(value, quote=True)}"' if value is not None else f" {name}"
                for name, value in new_attrs
            )
            + (" />" if raw.endswith("/>") else ">")
        )
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
    """What every page of one build shares; picklable, so it can be sent to worker processes.

    `order`, `dates` and `output_prefix` come from `make_context`; a page depends on them (its
    previous/next links, its date, its Colab link), so `fingerprint` must be part of the build's key."""

    config: Config
    tree: SiteTree
    source_prefix: str  # the source root's path in the repository, for source links
    order: tuple[str, ...] = ()  # every page's output path in reading order (site.reading_order)
    dates: tuple[tuple[str, str], ...] = ()  # (source path, YYYY-MM-DD of its last commit)
    output_prefix: str = ""  # the output folder's path in the project ("docs"), for Colab
    short_titles: tuple[tuple[str, str], ...] = ()  # (output path, front matter title), for previous/next

    @property
    def display_root(self) -> Path:
        return self.config.project

    def fingerprint(self) -> str:
        return json.dumps(
            [list(self.order), [list(d) for d in self.dates], self.output_prefix, [list(t) for t in self.short_titles]]
        )


def make_context(config: Config, tree: SiteTree, source_prefix: str) -> SiteContext:
    """The shared context of a build: reads the index pages' sources (for the reading order) and git's
    history (for the dates); nothing else."""
    index_sources: dict[str, str] = {}
    for item in tree.pages:
        if posixpath.basename(item.output_path) == "index.html":
            try:
                index_sources[item.output_path] = (config.source / item.source_path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                pass  # the page itself reports the problem when it is rendered
    dates = site.git_dates(config.project, config.source)
    wanted = {item.source_path for item in tree.pages}
    try:
        output_prefix = config.output.relative_to(config.project).as_posix()
    except ValueError:
        output_prefix = ".."  # outside the project: not in the repository, so no Colab link
    titles = []
    for item in tree.pages:
        title = front_matter_title(config.source / item.source_path)
        if title:
            titles.append((item.output_path, title))
    return SiteContext(
        config=config,
        tree=tree,
        source_prefix=source_prefix,
        order=site.reading_order(tree, index_sources),
        dates=tuple(sorted((k, v) for k, v in dates.items() if k in wanted)),
        output_prefix=output_prefix,
        short_titles=tuple(titles),
    )


_FRONT_MATTER_TITLE = re.compile(r'\A\s*(?:[rRuU]?(?:"""|\'\'\'))?\s*---\s*\n(?:.*\n)*?\s*title:\s*(.+?)\s*\n', re.M)


def front_matter_title(path: Path) -> str:
    """The `title:` of a source's front matter, read from its first 4 KB (the pages render in parallel, so
    a page's previous/next links cannot wait for the other pages' titles); "" when it has none."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return ""
    match = _FRONT_MATTER_TITLE.match(head)
    if not match:
        return ""
    title = match.group(1)
    return title[1:-1] if len(title) >= 2 and title[0] == title[-1] and title[0] in "\"'" else title


def display_path(context: SiteContext, item: SourceFile) -> str:
    """The path a user sees in messages: relative to the project folder."""
    return posixpath.join(context.source_prefix, item.source_path) if context.source_prefix else item.source_path


def notebook_file(output_path: str, suffix: str, full: bool = False) -> str:
    """`optimizers/adam.html` -> `adam.ipynb` (beside the page), or the output-relative path when `full`.
    An index page's files are named after its package: `optimizers/index.html` -> `__init__.py`."""
    folder, name = posixpath.split(output_path)
    stem = posixpath.splitext(name)[0]
    if stem == "index" and suffix == ".py":
        stem = "__init__"
    return posixpath.join(folder, stem + suffix) if full else stem + suffix


def quote_name(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


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
        raise LitdocError(
            path, line, f"not {name}{declared}: byte 0x{data[error.start]:02x} cannot be decoded"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def markdown_module(text: str, path: str) -> ParsedModule:
    """A Markdown file is one section of notes with no code."""
    from litdoc.parse import python_newlines

    lines = python_newlines(text).split("\n")
    numbers = tuple(range(1, len(lines) + 1))
    section = Section(docs="\n".join(lines), doc_lines=numbers, docs_line_numbers=numbers)
    return ParsedModule(path=path, front_matter=FrontMatter(), sections=(section,))


def _template_frame(tb: object) -> tuple[str, int] | None:
    """(file, line) of the innermost template frame of a traceback: jinja2 rewrites the frames of
    template code to carry the template's file name and line."""
    found = None
    while tb is not None:
        frame = tb.tb_frame  # type: ignore[attr-defined]
        if "__jinja_exception__" in frame.f_globals or "__jinja_template__" in frame.f_globals:
            found = (frame.f_code.co_filename, tb.tb_lineno)  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


def _failing_template(tb: object) -> str | None:
    """The template file a loader was reading when it failed (the `filename` local of jinja2's loader)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_locals.get("filename")  # type: ignore[attr-defined]
        if isinstance(filename, str):
            found = filename
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


_HEADING = re.compile(r'<h[1-6][^>]*\bid="([^"]+)"[^>]*>(.*?)</h[1-6]>', re.S)
_LINK_TAG = re.compile(r"</?a\b[^>]*>")


def heading_html(docs_html: str) -> dict[str, str]:
    """Heading id -> the heading's inner HTML, links unwrapped (an outline entry is a link itself)."""
    return {match.group(1): _LINK_TAG.sub("", match.group(2)).strip() for match in _HEADING.finditer(docs_html)}


class PageRenderer:
    """Renders pages of one site. Make one per process: construction starts the math engine."""

    def __init__(self, context: SiteContext):
        from litdoc.markup import MarkupRenderer  # imported here: the JS engine is only needed by renderers

        self.context = context
        self.config = context.config
        self.markup = MarkupRenderer(self.config.math_engine())
        self.environment = make_environment(self.config)
        self.sources = context.tree.by_source()
        self.folder_index = context.tree.folder_index()
        self.by_output = {f.output_path: f for f in context.tree.files}
        self.dates = dict(context.dates)
        self.short_titles = dict(context.short_titles)
        self._parser: MarkdownIt | None = None

    @property
    def parser(self) -> MarkdownIt:
        """The Markdown parser without the math engine, for anchors and outlines."""
        if self._parser is None:
            from litdoc.markup import markdown_parser

            self._parser = markdown_parser()
        return self._parser

    def _neighbour(self, item: SourceFile, output: str | None) -> Breadcrumb | None:
        if output is None:
            return None
        # Titles of other pages are not known while this one renders (pages render in parallel), so a
        # neighbour is named by its file, or its folder for an index page.
        target = self.by_output.get(output)
        title = self.short_titles.get(output) or (
            site.fallback_title(target, self.config.title) if target is not None else output
        )
        return Breadcrumb(title, site.relative_url(item.output_path, output))

    def _base_page(
        self,
        item: SourceFile,
        title: str,
        summary: str,
        sections: tuple[RenderedSection, ...],
        outline: tuple[OutlineItem, ...] = (),
        front_matter: FrontMatter = FrontMatter(),
    ) -> Page:
        config = self.config
        before, after = site.neighbours(item.output_path, self.context.order)
        downloads: list[Breadcrumb] = []
        if item.kind == PYTHON:
            py_name = posixpath.basename(item.source_path)
            downloads.append(Breadcrumb(f"Download {py_name}", quote_name(notebook_file(item.output_path, ".py"))))
            downloads.append(Breadcrumb("Notebook (.ipynb)", quote_name(notebook_file(item.output_path, ".ipynb"))))
            colab = site.colab_url(
                config.repo_url, self.context.output_prefix, notebook_file(item.output_path, ".ipynb", full=True)
            )
            if colab:
                downloads.append(Breadcrumb("Open in Colab", colab))
        canonical = site.absolute_url(config.base_url, item.output_path)
        last_changed = self.dates.get(item.source_path, "")
        crumbs = site.breadcrumbs(item, self.folder_index) + (Breadcrumb(title, ""),)
        from litdoc.cite import page_bibtex, papers_bibtex

        paper = papers_bibtex(dict(front_matter.fields), display_path(self.context, item))
        return Page(
            source_path=item.source_path,
            output_path=item.output_path,
            title=title,
            summary=summary or title,
            sections=sections,
            breadcrumbs=crumbs,
            source_url=None
            if item.kind == LISTING
            else site.source_url(config.repo_url, self.context.source_prefix, item.source_path),
            canonical_url=canonical,
            root=site.root_of(item.output_path),
            outline=outline,
            previous=self._neighbour(item, before),
            next=self._neighbour(item, after),
            downloads=tuple(downloads),
            citation=page_bibtex(
                config.title,
                title,
                canonical or item.output_path,
                item.output_path,
                config.version,
                last_changed,
                config.authors,
            ),
            paper_citation=paper or "",
            version=config.version,
            last_changed=last_changed,
            is_home=item.output_path == "index.html",
            clone_url=config.effective_clone_url,
        )

    def build_page(self, item: SourceFile, data: bytes) -> Page:
        return self._build(item, data)[0]

    def _build(self, item: SourceFile, data: bytes) -> tuple[Page, ParsedModule, tuple[anchors.SectionInfo, ...], str]:
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

        infos = anchors.analyse_sections(module, text if item.kind == PYTHON else "", self.parser)
        rendered = []
        levels = anchors.heading_levels(infos)
        for index, (section, code, info) in enumerate(zip(module.sections, code_html, infos)):
            docs_html = ""
            if section.docs.strip():
                html = self.markup.render(
                    section.docs,
                    path,
                    line_numbers=section.docs_line_numbers,
                    heading_ids=[h.slug for h in info.headings],
                    heading_levels=levels[index],
                )
                docs_html = rewrite_links(html, rewrite)
            numbers = [n for n, _ in section.code_lines]
            rendered.append(
                RenderedSection(
                    index=index,
                    docs_html=docs_html,
                    code_html=code,
                    from_docstring=section.from_docstring,
                    anchor=info.anchor,
                    anchor_on_heading=info.anchor_on_heading,
                    wide=info.wide,
                    first_line=numbers[0] if numbers else 0,
                    last_line=numbers[-1] if numbers else 0,
                )
            )
        fallback = site.fallback_title(item, self.config.title)
        from litdoc.parse import page_title

        title = page_title(module.front_matter, module.sections, fallback)
        headings = heading_html("".join(section.docs_html for section in rendered))
        outline = tuple(
            OutlineItem(entry.level, entry.title, "#" + entry.anchor, headings.get(entry.anchor, ""))
            for entry in anchors.outline(infos)
        )
        page = self._base_page(
            item, title, module.front_matter.summary or "", tuple(rendered), outline, module.front_matter
        )
        if not any(heading.level == 1 for info in infos for heading in info.headings):
            from dataclasses import replace

            page = replace(page, has_heading_one=False)
        return page, module, infos, text

    def _render_template(self, name: str, page: Page, path: str, **extra: object) -> str:
        try:
            template = self.environment.get_template(name)
            return template.render(
                page=page,
                site=self.config,
                math_head=self.markup.head_html(page.root),
                theme_url=posixpath.join(page.root, site.THEME_DIR),
                **extra,
            )
        except jinja2.TemplateSyntaxError as error:
            raise LitdocError(
                error.filename or error.name or name, error.lineno or 1, f"template error: {error.message}"
            ) from None
        except jinja2.TemplateNotFound as error:
            searched = ", ".join(str(d) for d in template_dirs(self.config))
            raise LitdocError(path, 1, f"template '{error.name}' not found (searched {searched})") from None
        except jinja2.TemplateError as error:
            raise LitdocError(path, 1, f"template error in {name}: {error}") from None
        except UnicodeDecodeError as error:  # the loader reads templates as UTF-8
            raise LitdocError(
                _failing_template(error.__traceback__) or name,
                1,
                f"template is not UTF-8 (byte 0x{error.object[error.start]:02x})",
            ) from None
        except Exception as error:  # `{{ 1/0 }}`: an error while the template runs is the template's
            where = _template_frame(error.__traceback__)
            raise LitdocError(
                where[0] if where else name,
                where[1] if where else 1,
                f"template error: {type(error).__name__}: {error} (rendering {path})",
            ) from None

    def render_page_template(self, name: str, page: Page, path: str, **extra: object) -> str:
        """Any theme template with a hand-made `page` (e.g. the 404 page)."""
        return self._render_template(name, page, path, **extra)

    def render(self, item: SourceFile, data: bytes) -> tuple[str, str]:
        """The page's HTML and its title."""
        outputs = self.render_outputs(item, data)
        return outputs.html, outputs.title

    def render_outputs(self, item: SourceFile, data: bytes) -> PageOutputs:
        """The page's HTML and title, its row of the search index, and its companion files."""
        page, module, infos, text = self._build(item, data)
        html = self._render_template(PAGE_TEMPLATE, page, display_path(self.context, item))
        from litdoc import search

        entry = search.page_entry(item.output_path, page.title, module, infos)
        companions: list[tuple[str, bytes]] = []
        if item.kind == PYTHON:
            from litdoc import notebook

            root = self.config.source
            package = notebook.module_package((root / "__init__.py").is_file(), root.name, item.source_path)
            url = site.absolute_url(self.config.base_url, item.output_path) or ""
            install = self.config.notebook_install
            options = notebook.NotebookOptions(package, url, install, posixpath.basename(item.source_path))
            companions.append(
                (notebook_file(item.output_path, ".ipynb", full=True), notebook.notebook_bytes(module, text, options))
            )
            companions.append((notebook_file(item.output_path, ".py", full=True), notebook.script_bytes(data, install)))
        glyphs = self.markup.engine.glyphs(html)
        return PageOutputs(html, page.title, json.dumps(list(entry), ensure_ascii=False), tuple(companions), glyphs)

    def render_listing(self, item: SourceFile, entries: Sequence[tuple[str, str]]) -> str:
        """A generated index for a folder with no index page: `entries` are (title, output path)."""
        title = site.fallback_title(item, self.config.title)
        page = self._base_page(item, title, f"{title}: contents", ())
        links = [
            {"title": entry_title, "url": site.relative_url(item.output_path, target)}
            for entry_title, target in entries
        ]
        return self._render_template(LISTING_TEMPLATE, page, item.output_path, entries=links)
