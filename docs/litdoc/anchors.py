# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Stable anchors, the page outline and the text of each section, from a parsed module.

An anchor comes from content, never from position, so a link keeps landing on the same thing
when a section is added elsewhere on the page:

| section                                    | anchor                                   |
|--------------------------------------------|------------------------------------------|
| its code defines a class or function       | the qualified name: `Adam`, `Adam.get_mv` |
| else its notes have a heading              | the heading's slug: `how-large-is-a-step` |
| else                                       | the previous anchor + `-k` (k-th since)   |

Every heading gets its slug as id too; a repeated slug gets `-2`, `-3`, ... in page order, so ids
are unique per page. A heading's slug is made from its text as a reader sees it: its math as the
characters it shows (`## $(\rho_{\text{GD}}, \rho_{\text{HB}})$` -> `ρ-gd-ρ-hb`, not the TeX's
`rho_-textgd-rho_-texthb`). Old ids stay as aliases (empty elements at the top of the section), so
links made before still land: the positional `section-N` of each section (litdoc's own numbering,
stable only while the page keeps its sections), and the TeX slug of each heading with math that
earlier versions gave it, unless another id on the page has it. A page that descends from another
site declares that site's anchors in its front matter, `legacy_anchors: section-3: how-large-is-a-step`
(pairs, on folded lines too); a declared `section-N` replaces the page's own.

This stage is pure and needs no math engine: the Markdown is parsed (not rendered) by the same
parser as `litdoc.markup`, so the renderer, the outline and the search index agree on every id.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from litdoc.model import LitdocError, ParsedModule, Section
from litdoc.parse import statement_lists

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# The same threshold as the renderer's (litdoc.markup imports the math engine lazily, so this is cheap).
LONG_INLINE_MATH = 80

# Block tokens that make a section's notes wider than a notes column can hold.
_WIDE_TOKENS = frozenset({"table_open", "math_block", "amsmath"})
_WIDE_INLINE = frozenset({"image", "math_display_inline"})
_MATH_INLINE = frozenset({"math_inline", "math_display_inline"})


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # plain text; math as its TeX
    slug: str


@dataclass(frozen=True)
class SectionInfo:
    """What the page needs to know about a section's notes besides their HTML."""

    anchor: str  # the section's stable id (see the module table)
    anchor_on_heading: bool  # the anchor is the first heading's id, so the section's div does not carry it
    headings: tuple[Heading, ...]
    qualname: str  # "" when the section's code defines nothing
    wide: bool  # a table, a figure or display math: the notes get the whole row
    text: str  # the notes as plain text, for search
    # The notes cut at their headings, for search: (anchor, title, text); the text before the first
    # heading belongs to the section's own anchor, each heading's text to the heading's.
    parts: tuple[tuple[str, str, str], ...] = ()
    # Earlier ids that land on it: its positional `section-N`, the TeX slugs of its math headings, and
    # those the front matter's `legacy_anchors` give it.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutlineEntry:
    level: int  # 1-3 for headings; 2 for a class, 3 for a method without a heading of its own
    title: str
    anchor: str


_SLUG_DROP = re.compile(r"[^\w\s.-]")
_SLUG_SPACE = re.compile(r"[\s-]+")


def slugify(text: str) -> str:
    """`How large is a step?` -> `how-large-is-a-step`; TeX commands lose their backslash."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\\", " ")
    text = _SLUG_DROP.sub("", text)
    return _SLUG_SPACE.sub("-", text).strip("-.") or "section"


def definitions(source: str | ast.Module) -> dict[int, str]:
    """Line number of each `class`/`def` statement -> its qualified name (`Adam.get_mv`), from the
    module's tree (or its text, parsed here)."""
    if isinstance(source, ast.Module):
        tree = source
    else:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return {}
    found: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for statements in statement_lists(node):  # a `def` is a statement: the expressions are not searched
            for child in statements:
                if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = prefix + child.name
                    found.setdefault(child.lineno, name)
                    visit(child, name + ".")
                else:
                    visit(child, prefix)

    visit(tree, "")
    return found


class _Unique:
    """Hands out ids, adding `-2`, `-3`... to one already taken on the page."""

    def __init__(self) -> None:
        self.taken: dict[str, int] = {}

    def __call__(self, wanted: str) -> str:
        candidate, count = wanted, max(self.taken.get(wanted, 1), 1)
        while candidate in self.taken:
            count += 1
            candidate = f"{wanted}-{count}"
        self.taken[wanted] = count
        self.taken.setdefault(candidate, 0)
        return candidate


def _inline_text(token: Token, shown_math: bool = False) -> str:
    """The inline's text; its math as TeX, or with `shown_math` as the characters it shows (`β2`)."""
    parts = []
    for child in token.children or ():
        if child.type in _MATH_INLINE and shown_math:
            from litdoc.search import tex_text  # search imports this module

            parts.append(tex_text(child.content))
        elif child.type in ("text", "code_inline") or child.type in _MATH_INLINE:
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def _analyse_docs(parser: MarkdownIt, docs: str) -> tuple[list[tuple[int, str, str]], bool, list[str]]:
    """(headings as (level, text, text with its math as shown), wide, plain text before the first heading
    and under each heading)."""
    if not docs.strip():
        return [], False, [""]
    tokens = parser.parse(docs, {})
    headings: list[tuple[int, str, str]] = []
    wide = False
    chunks: list[list[str]] = [[]]
    for index, token in enumerate(tokens):
        if token.type in _WIDE_TOKENS:
            wide = True
        if token.type in ("math_block", "amsmath", "fence", "code_block"):
            chunks[-1].append(token.content.strip())
        if token.type == "inline":
            content = _inline_text(token)
            if any(
                child.type in _WIDE_INLINE or (child.type == "math_inline" and len(child.content) >= LONG_INLINE_MATH)
                for child in token.children or ()
            ):
                wide = True
            if index and tokens[index - 1].type == "heading_open":
                shown = _inline_text(token, shown_math=True)
                headings.append((int(tokens[index - 1].tag[1]), content.strip(), shown.strip()))
                chunks.append([])
            chunks[-1].append(content)
    return headings, wide, [" ".join(" ".join(chunk).split()) for chunk in chunks]


def analyse_sections(module: ParsedModule, source: str, parser: MarkdownIt | None = None) -> tuple[SectionInfo, ...]:
    """One `SectionInfo` per section of `module` (whose text is `source`)."""
    if parser is None:
        from litdoc.markup import markdown_parser

        parser = markdown_parser()
    defined = definitions(module.tree if module.tree is not None else source) if source else {}
    unique = _Unique()
    for index in range(len(module.sections)):
        unique(f"section-{index}")  # the positional ids each section keeps for old links
    out: list[SectionInfo] = []
    old_slugs: list[list[str]] = []  # per section, the TeX slugs of its math headings
    last, since = "top", 0
    for section in module.sections:
        heading_pairs, wide, chunks = _analyse_docs(parser, section.docs)
        text = " ".join(filter(None, chunks))
        qualname = next((defined[n] for n, _ in section.code_lines if n in defined), "")
        # Headings first, in page order, so that the first "Adam" heading keeps the plain slug.
        headings = tuple(Heading(level, title, unique(slugify(shown))) for level, title, shown in heading_pairs)
        old_slugs.append([slugify(title) for _, title, shown in heading_pairs if shown != title])
        on_heading = False
        if qualname:
            anchor = unique(qualname)
        elif headings:
            anchor, on_heading = headings[0].slug, True
        else:
            since += 1
            anchor = unique(f"{last}-{since}")
        if qualname or headings:
            last, since = anchor, 0
        parts = [(anchor, qualname, chunks[0])] if chunks[0] or not headings else []
        parts += [(heading.slug, heading.text, chunk) for heading, chunk in zip(headings, chunks[1:])]
        out.append(SectionInfo(anchor, on_heading, headings, qualname, wide, text, tuple(parts)))
    # The aliases last, so that no id made above changes for them; a TeX slug another id has is dropped.
    legacy = legacy_anchors(module, out, unique)
    aliases = []
    for index, olds in enumerate(old_slugs):
        positional = [] if f"section-{index}" in legacy else [f"section-{index}"]
        tex = [unique(old) for old in olds if old not in unique.taken]
        declared = [old for old, target in legacy.items() if target == index]
        aliases.append(tuple(positional + tex + declared))
    return tuple(replace(info, aliases=names) for info, names in zip(out, aliases))


_LEGACY_PAIR = re.compile(r"([^\s:,]+)\s*:\s*([^\s,]+)")
_POSITIONAL = re.compile(r"section-\d+")


def legacy_anchors(module: ParsedModule, infos: Sequence[SectionInfo], unique: _Unique) -> dict[str, int]:
    """The front matter's `legacy_anchors` (`old: anchor` pairs, e.g. `section-3: how-large-is-a-step`):
    each old id -> the index of the section whose anchor or heading it names. A page that descends from
    another site (nn.labml.ai numbered its sections its own way) declares there the anchors that site's
    links use; a declared `section-N` replaces this page's own positional one."""
    text = module.front_matter.get("legacy_anchors")
    if not text.strip():
        return {}
    where: dict[str, int] = {}
    for index, info in enumerate(infos):
        for name in (info.anchor, *(heading.slug for heading in info.headings)):
            where.setdefault(name, index)
    pairs = _LEGACY_PAIR.findall(text)
    leftover = _LEGACY_PAIR.sub("", text).replace(",", " ").split()
    if leftover:
        raise LitdocError(module.path, 1, f"legacy_anchors: {leftover[0]!r} is not an 'old: anchor' pair")
    out: dict[str, int] = {}
    for old, target in pairs:
        if target not in where:
            raise LitdocError(
                module.path, 1, f"legacy_anchors: {old!r} names {target!r}, which is no anchor of this page"
            )
        if old in out or (old in unique.taken and not _POSITIONAL.fullmatch(old)):
            raise LitdocError(module.path, 1, f"legacy_anchors: {old!r} is already an id of this page")
        out[old] = where[target]
    return out


def outline(infos: Sequence[SectionInfo]) -> tuple[OutlineEntry, ...]:
    """Headings (below the page title) and class/method sections that have no heading of their own."""
    entries: list[OutlineEntry] = []
    for info in infos:
        for heading in info.headings:
            if heading.level >= 2 and heading.level <= 3:
                entries.append(OutlineEntry(heading.level, heading.text, heading.slug))
        if info.qualname and not info.headings:
            entries.append(OutlineEntry(2 if "." not in info.qualname else 3, info.qualname, info.anchor))
    return tuple(entries)


def heading_levels(infos: Sequence[SectionInfo]) -> list[list[int]]:
    """The level each heading is rendered at, per section: as written, but never more than one below the
    heading that encloses it (`#`, `###`, `###` render as h1, h2, h2), so assistive technology sees no
    skipped level; the theme keeps the written level's look."""
    levels: list[list[int]] = []
    open_levels: list[int] = []  # the written levels of the headings that enclose this point
    for info in infos:
        section_levels = []
        for heading in info.headings:
            while open_levels and open_levels[-1] >= heading.level:
                open_levels.pop()
            section_levels.append(len(open_levels) + 1)
            open_levels.append(heading.level)
        levels.append(section_levels)
    return levels


def section_title(info: SectionInfo, page_title: str) -> str:
    """What a search result calls a section: its heading, its definition, or the page."""
    if info.headings:
        return info.headings[0].text
    return info.qualname or page_title


def identifiers(section: Section) -> list[str]:
    """Names a section's code defines or assigns at its start (`class Adam`, `def get_mv`, `x =`)."""
    names = []
    for _, line in section.code_lines:
        match = _DEFINES.match(line)
        if match:
            names.append(match.group(1))
    return names


_DEFINES = re.compile(r"\s*(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")


def first_text(infos: Sequence[SectionInfo]) -> str | None:
    return next((info.text for info in infos if info.text), None)
