# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""From a source file's bytes to its page: decode, parse, markup, highlight, then the theme's template;
and the files made beside it (`litdoc.emitters`).

`PageRenderer` holds what is costly to make (the Markdown renderer with its math engine, the theme's
templates), so `litdoc.build` makes one per worker process and reuses it for every page. It does not
touch the disk except to read templates. What it needs from the rest of the site comes in a
`litdoc.context.SiteContext`; links are rewritten by `litdoc.links`, templates rendered by
`litdoc.templating`, citations made by `litdoc.cite` and search rows by `litdoc.search`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litdoc import anchors, site
from litdoc.context import SiteContext, display_path
from litdoc.emitters import EMITTERS, Source, notebook_file, quote_name
from litdoc.links import rewrite_links
from litdoc.model import (
    Breadcrumb,
    ChapterEntry,
    FrontMatter,
    LitdocError,
    OutlineItem,
    Page,
    ParsedModule,
    RenderedSection,
    Section,
)
from litdoc.site import LISTING, PYTHON, SourceFile
from litdoc.templating import LISTING_TEMPLATE, PAGE_TEMPLATE, Theme

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from litdoc.mathengine import Converted


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
    formulas: str = ""  # the `formula_id`s of its math, space-separated: what the cache of conversions keeps
    converted: tuple[Converted, ...] = ()  # its formulas the math engine converted anew (litdoc.mathengine)


# Byte-order marks of encodings whose text is full of NUL bytes; UTF-32's first, since UTF-32LE's mark
# begins with UTF-16LE's. Python cannot run such a file, and a page of it is text saved wide by an editor.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 little-endian"),
    (b"\x00\x00\xfe\xff", "UTF-32 big-endian"),
    (b"\xff\xfe", "UTF-16 little-endian"),
    (b"\xfe\xff", "UTF-16 big-endian"),
)


def decode_source(data: bytes, path: str) -> str:
    """Source bytes to text, or a one-line error for a binary or non-UTF-8 file."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise LitdocError(path, 1, f"{name} text (byte-order mark {bom.hex(' ').upper()}): save it as UTF-8")
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


_HEADING = re.compile(r'<h[1-6][^>]*\bid="([^"]+)"[^>]*>(.*?)</h[1-6]>', re.S)
_LINK_TAG = re.compile(r"</?a\b[^>]*>")


def heading_html(docs_html: str) -> dict[str, str]:
    """Heading id -> the heading's inner HTML, links unwrapped (an outline entry is a link itself)."""
    return {match.group(1): _LINK_TAG.sub("", match.group(2)).strip() for match in _HEADING.finditer(docs_html)}


def outline_title(title: str, title_html: str) -> str:
    """An outline entry's plain title: as the reader sees it when its heading holds math (the theme
    gives that as the link's accessible name, which MathML alone does not give), else as written."""
    if "<math" not in title_html:
        return title
    from litdoc.search import html_text

    return html_text(title_html)


class PageRenderer:
    """Renders pages of one site. Make one per process: construction starts the math engine."""

    def __init__(self, context: SiteContext):
        from litdoc.markup import MarkupRenderer  # imported here: the JS engine is only needed by renderers

        self.context = context
        self.config = context.config
        self.markup = MarkupRenderer(self.config.math_engine(), raw_html=self.config.raw_html)
        self.theme = Theme(self.config)
        self.sources = context.tree.by_source()
        self.folder_index = context.tree.folder_index()
        self.by_output = {f.output_path: f for f in context.tree.files}
        self.dates = dict(context.dates)
        self.short_titles = dict(context.short_titles)
        self.site_names = dict(context.names)
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

    def _chapters(self, item: SourceFile, title: str) -> tuple[ChapterEntry, ...]:
        """The page's chapter tree (`site.chapter_tree`), each entry named as previous/next are."""
        out = []
        for depth, output in site.chapter_tree(item.output_path, self.context.order):
            current = output == item.output_path
            neighbour = None if current else self._neighbour(item, output)
            if neighbour is None:
                out.append(ChapterEntry(depth, title, site.relative_url(item.output_path, output), current))
            else:
                out.append(ChapterEntry(depth, neighbour.title, neighbour.url, current))
        return tuple(out) if len(out) > 1 else ()

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
        from litdoc.cite import citation_meta, page_bibtex, papers_entries, papers_from_front_matter

        papers = papers_from_front_matter(dict(front_matter.fields), display_path(self.context, item))
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
            chapters=self._chapters(item, title),
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
                ""
                if item.kind == LISTING
                else site.source_url(config.versioned_url, self.context.source_prefix, item.source_path) or "",
            ),
            paper_citation=papers_entries(papers),
            citation_meta=citation_meta(config.title, title, canonical or "", last_changed, config.authors, papers),
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

        if item.kind == PYTHON:
            code_html = highlight_sections(module.sections, links=self._code_links(item, module))
        else:
            code_html = ["" for _ in module.sections]

        def rewrite(href: str) -> str:
            return site.rewrite_link(href, item, self.sources, self.folder_index)

        # The notes are parsed once: `render` below takes the streams the analysis parsed.
        infos = anchors.analyse_sections(
            module, text if item.kind == PYTHON else "", self.markup.shared_parser(self.parser)
        )
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
                    aliases=info.aliases,
                    first_line=numbers[0] if numbers else 0,
                    last_line=numbers[-1] if numbers else 0,
                )
            )
        fallback = site.fallback_title(item, self.config.title)
        from litdoc.parse import page_title

        title = page_title(module.front_matter, module.sections, fallback)
        headings = heading_html("".join(section.docs_html for section in rendered))
        outline = tuple(
            OutlineItem(
                entry.level,
                outline_title(entry.title, headings.get(entry.anchor, "")),
                "#" + entry.anchor,
                headings.get(entry.anchor, ""),
            )
            for entry in anchors.outline(infos)
        )
        page = self._base_page(
            item, title, module.front_matter.summary or "", tuple(rendered), outline, module.front_matter
        )
        if not any(heading.level == 1 for info in infos for heading in info.headings):
            from dataclasses import replace

            page = replace(page, has_heading_one=False)
        return page, module, infos, text

    def _code_links(self, item: SourceFile, module: ParsedModule) -> dict[tuple[int, int], tuple[str, str, str]]:
        """(line, column) -> (name, href, title) of each name in the page's code that the site defines."""
        names = dict(self.site_names.get(item.output_path, ()))
        if not names:
            return {}
        from litdoc.xref import code_links

        lines = {number: text for section in module.sections for number, text in section.code_lines}
        try:
            found = code_links(module.tree, names, lambda number: lines.get(number, ""))
        except RecursionError:  # nesting Python itself could parse: the page goes without links
            return {}
        links = {}
        for position, (name, target) in found.items():
            if target.output_path == item.output_path:
                if not target.anchor:
                    continue  # the page itself
                href = "#" + target.anchor
            else:
                href = site.relative_url(item.output_path, target.output_path)
                href += "#" + target.anchor if target.anchor else ""
            links[position] = (name, href, target.title)
        return links

    def _render_template(self, name: str, page: Page, path: str, **extra: object) -> str:
        return self.theme.render(
            name,
            page,
            path,
            math_head=self.markup.head_html(page.root),
            theme_url=posixpath.join(page.root, site.THEME_DIR),
            **extra,
        )

    def render_page_template(self, name: str, page: Page, path: str, **extra: object) -> str:
        """Any theme template with a hand-made `page` (e.g. the 404 page)."""
        return self._render_template(name, page, path, **extra)

    def render(self, item: SourceFile, data: bytes) -> tuple[str, str]:
        """The page's HTML and its title."""
        outputs = self.render_outputs(item, data)
        return outputs.html, outputs.title

    def render_outputs(self, item: SourceFile, data: bytes) -> PageOutputs:
        """The page's HTML and title, its row of the search index, and its companion files."""
        engine = self.markup.engine
        engine.page_formulas()  # forget what a page that failed in this process left
        page, module, infos, text = self._build(item, data)
        html = self._render_template(PAGE_TEMPLATE, page, display_path(self.context, item))
        from litdoc import search

        entry = search.page_entry(
            item.output_path, page.title, module, infos, [section.docs_html for section in page.sections]
        )
        source = Source(item, data, text, module)
        companions = tuple(
            (emitter.path(item), emitter.emit(source, self.config)) for emitter in EMITTERS if emitter.applies(item)
        )
        glyphs = engine.glyphs(html)
        formulas, converted = engine.page_formulas()
        return PageOutputs(
            html,
            page.title,
            json.dumps(list(entry), ensure_ascii=False),
            companions,
            glyphs,
            " ".join(sorted(formulas)),  # each once: the engine names each formula once a page
            converted,
        )

    def render_listing(self, item: SourceFile, entries: Sequence[tuple[str, str]]) -> str:
        """A generated index for a folder with no index page: `entries` are (title, output path)."""
        title = site.fallback_title(item, self.config.title)
        page = self._base_page(item, title, f"{title}: contents", ())
        links = [
            {"title": entry_title, "url": site.relative_url(item.output_path, target)}
            for entry_title, target in entries
        ]
        return self._render_template(LISTING_TEMPLATE, page, item.output_path, entries=links)
