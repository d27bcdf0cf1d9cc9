# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The typed objects that flow through litdoc's pipeline.

```
file.py --parse--> ParsedModule[Section] --markup/highlight--> Page[RenderedSection] --theme--> file.html
```

Every stage takes these objects and returns new ones; nothing is mutated after it is made.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


class LitdocError(Exception):
    """A problem with a user's input: reported as one line ``path:line: reason``, never a traceback."""

    def __init__(self, path: str, line: int, reason: str):
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """One doc/code pair of a page, as cut from the source by `litdoc.parse`.

    * `docs` is the Markdown of the docs column, dedented, exactly as written in the source
      (for docstrings: the raw source text between the quotes, so `\\frac` stays `\\frac`).
    * `doc_lines` are the 1-based source line numbers that the docs came from.
    * `from_docstring` is true when the docs came from a docstring (the page marks them `doc-strings`).
    * `code_lines` holds `(line_number, text)` for every code line, in source order, text without newline.
    * `docs_line_numbers` gives, for each line of `docs`, the source line it came from, so that an
      error in the Markdown or math can name the right line (`MarkupRenderer.render(line_numbers=...)`).
    """

    docs: str = ""
    doc_lines: tuple[int, ...] = ()
    from_docstring: bool = False
    code_lines: tuple[tuple[int, str], ...] = ()
    docs_line_numbers: tuple[int, ...] = field(default=(), compare=False)

    @property
    def code(self) -> str:
        return "\n".join(text for _, text in self.code_lines)


@dataclass(frozen=True)
class FrontMatter:
    title: str | None = None
    summary: str | None = None
    # Every `key: value` of the block, keys lower-cased, sorted; e.g. the paper a page implements
    # (`arxiv`, `paper_title`, `authors`, `year`), which the page's "Cite this page" block cites.
    fields: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def get(self, key: str) -> str:
        return dict(self.fields).get(key, "")


@dataclass(frozen=True)
class ParsedModule:
    """A parsed source file: its front matter and its sections, and, for Python, the syntax tree they
    were cut with, so that no later stage parses the source again (and warns again)."""

    path: str
    front_matter: FrontMatter = field(default_factory=FrontMatter)
    sections: tuple[Section, ...] = ()
    tree: ast.Module | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RenderedSection:
    """A section ready for the template: HTML for both columns.

    `anchor` is its stable id (`litdoc.anchors`); when `anchor_on_heading` the id is on its first
    heading, not on the section. `wide`: its notes hold a table, a figure or display math, so they get
    the whole row and the code goes below them."""

    index: int
    docs_html: str
    code_html: str
    from_docstring: bool
    anchor: str = ""
    anchor_on_heading: bool = False
    wide: bool = False
    aliases: tuple[str, ...] = ()  # earlier ids that still land here (`litdoc.anchors`)
    first_line: int = 0  # the section's first code line in the source, 0 without code
    last_line: int = 0


@dataclass(frozen=True)
class Breadcrumb:
    title: str
    url: str  # relative to the page


@dataclass(frozen=True)
class ChapterEntry:
    """A line of a page's chapter tree (`litdoc.site.chapter_tree`): a page, or a folder by its index page."""

    depth: int  # 0 for the site's top level
    title: str
    url: str  # relative to the page
    current: bool = False  # the page itself


@dataclass(frozen=True)
class Page:
    """Everything a template needs to render one output file."""

    source_path: str  # relative to the source root, with '/' separators
    output_path: str  # relative to the output root, e.g. 'optimizers/adam.html'
    title: str
    summary: str
    sections: tuple[RenderedSection, ...]
    breadcrumbs: tuple[Breadcrumb, ...] = ()
    source_url: str | None = None
    canonical_url: str | None = None
    root: str = "."  # relative path from the page's folder to the output root
    outline: tuple[OutlineItem, ...] = ()  # headings and class/method sections, in page order
    chapters: tuple[ChapterEntry, ...] = ()  # the site's pages in their folders, down to this one
    previous: Breadcrumb | None = None  # the page before this one in its chapter (rel="prev")
    next: Breadcrumb | None = None  # and after it (rel="next")
    downloads: tuple[Breadcrumb, ...] = ()  # the page's .py, its notebook, "Open in Colab"
    citation: str = ""  # BibTeX for this page
    paper_citation: str = ""  # BibTeX for the paper the page implements, when its front matter names one
    # `citation_*` meta tags (name, content) for reference managers and Google Scholar
    citation_meta: tuple[tuple[str, str], ...] = ()
    version: str = ""  # the project's version
    last_changed: str = ""  # YYYY-MM-DD of the last commit that changed the source; "" when unknown
    is_home: bool = False
    clone_url: str = ""
    has_heading_one: bool = True  # False: the notes have no `#` heading, so the theme shows the title as one


@dataclass(frozen=True)
class OutlineItem:
    level: int  # 2 for a chapter of the page (## or a class), 3 below it
    title: str
    url: str  # "#anchor"
    # The heading as the page renders it (its math as MathML, links taken out), "" when the entry
    # is not a heading of the notes; the theme shows it in place of `title`, whose math is TeX.
    title_html: str = ""


def forget_interrupt_in_string_code() -> None:
    """After a KeyboardInterrupt has been handled: keep the interpreter from exiting by SIGINT anyway.

    CPython (3.8 and later) notes a KeyboardInterrupt that ends code it runs from a string (`eval` or `exec` of
    text, which `collections.namedtuple` and `dataclasses` use) as "unhandled", and at exit kills its own process
    with SIGINT, whatever the program did with the exception: a Ctrl-C during `import concurrent.futures` made
    litdoc print its line and then die with -2 instead of exiting 130. The note is cleared by the start of the
    next such code, so running one empty string clears it.
    """
    exec("")
