# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Go to definition: the names in a page's code column that the site defines link to their definition.

Three steps, each small:

1. **A module's table** (`module_table`), from its syntax tree and the anchors of its sections (the same
   pass as `litdoc.anchors`): the names it binds at module level, each once and only once, as a
   definition (class, function, `NAME = ...`: the anchor of the section that holds it and the first line
   of that section's notes when the definition opens the section) or as an import (`from m import Y`,
   `import m`). It does not depend on where the file lies, so the build remembers it by the source's hash.
2. **The site's names** (`site_names`): each page's module-level names resolved to a page, an anchor and a
   title, following imports (and a package's re-exports) through the site's modules, named as Python
   names them (`notebook.module_package`). Computed once per build, before any page renders; a page's
   key holds the digest of its own names (`names_digest`), so a page is rebuilt when a definition it
   links to moves, and only then.
3. **The page's links** (`code_links`): the positions of the `Name`s of its code (and of the names in its
   module-level `from ... import` lines) that resolve at module level and that no enclosing function,
   lambda, comprehension or class body binds (a parameter or local of the same name shadows them).
   Attributes (`self.x`, `module.Y`) are not followed. `litdoc.highlight` wraps each in an `<a>`.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import posixpath
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from litdoc.model import ParsedModule
from litdoc.store import read_cache_table, write_cache_table

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from litdoc.anchors import SectionInfo

__all__ = [
    "ModuleTable",
    "Target",
    "code_links",
    "first_note_line",
    "module_name",
    "module_table",
    "names_digest",
    "site_names",
]

# A title longer than this is cut, with an ellipsis.
TITLE_LIMIT = 160


@dataclass(frozen=True)
class ModuleTable:
    """What one Python source binds at module level, whatever its path (so it is cached by the source's hash).

    `defs`: (name, anchor, note) of each class, function and constant; `note` is "" when the definition
    does not open its section. `imports`: (bound name, level, module, imported name), the imported name
    "" when the module itself is bound (`import a.b` binds `a` to module `a`)."""

    defs: tuple[tuple[str, str, str], ...] = ()
    imports: tuple[tuple[str, int, str, str], ...] = ()
    summary: str = ""  # the first line of the page's notes, for a link to the module itself

    def to_json(self) -> list[object]:
        return [[list(d) for d in self.defs], [list(i) for i in self.imports], self.summary]

    @classmethod
    def from_json(cls, data: object) -> ModuleTable | None:
        """None for anything not written by `to_json` (an old or damaged cache)."""
        try:
            defs, imports, summary = cast("list[Any]", data)
            table = cls(
                tuple((str(n), str(a), str(t)) for n, a, t in defs),
                tuple((str(b), int(lv), str(m), str(n)) for b, lv, m, n in imports),
                str(summary),
            )
        except (TypeError, ValueError):
            return None
        return table


@dataclass(frozen=True)
class Target:
    """Where a name is defined: a page (output path), an anchor on it ("" for the page) and a title."""

    output_path: str
    anchor: str
    title: str


# ---------------------------------------------------------------------------------------------
# Module names
# ---------------------------------------------------------------------------------------------


def module_name(package: str, source_path: str) -> str:
    """`labml_nn.optimizers.adam` for `optimizers/adam.py` in package `labml_nn.optimizers`; a package's
    `__init__.py` is the package itself."""
    stem = posixpath.basename(source_path)[: -len(".py")]
    if stem == "__init__":
        return package
    return f"{package}.{stem}" if package else stem


def _absolute(module: str, is_package: bool, level: int, name: str) -> str | None:
    """The module a (relative) import names, seen from `module`; None when it climbs above the top."""
    if level == 0:
        return name
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 >= len(parts):
        return None  # beyond the top-level package
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([name] if name else []))


# ---------------------------------------------------------------------------------------------
# 1. A module's table
# ---------------------------------------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# `match` patterns that bind a name (Python 3.10 and later; on 3.9 there are none, and no such nodes)
_MATCH_CAPTURES: tuple[type, ...] = tuple(getattr(ast, name) for name in ("MatchAs", "MatchStar") if hasattr(ast, name))
_MATCH_MAPPINGS: tuple[type, ...] = tuple(getattr(ast, name) for name in ("MatchMapping",) if hasattr(ast, name))


# Fields that hold only leaves with nothing to visit: a name's load/store context, an operator.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.iter_child_nodes(node)` less the contexts and operators (a third of a module's nodes, each a
    leaf that no pass here looks at)."""
    for field in node._fields:
        if field in _LEAF_FIELDS:
            continue
        value = getattr(node, field, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


def _bindings(body: Iterable[ast.AST]) -> Iterator[tuple[str, ast.AST]]:
    """Every (name, node) that the statements `body` bind in their own scope: assignments, loop and
    `with` targets, imports, `except ... as`, `match` captures, nested definitions' names, `nonlocal`;
    the insides of nested functions, classes and lambdas are another scope. A walrus in a comprehension
    binds in the enclosing scope, and is counted too."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node
            stack.extend(node.decorator_list)
            if isinstance(node, ast.ClassDef):
                stack.extend(node.bases)
                stack.extend(node.keywords)
            else:
                stack.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.Lambda):
            stack.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id, node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    yield (alias.asname or alias.name.split(".")[0]), node
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name, node
        elif isinstance(node, _MATCH_CAPTURES) and getattr(node, "name", None):
            yield node.name, node  # type: ignore[attr-defined]
        elif isinstance(node, _MATCH_MAPPINGS) and getattr(node, "rest", None):
            yield node.rest, node  # type: ignore[attr-defined]
        elif isinstance(node, ast.Nonlocal):
            for name in node.names:
                yield name, node
        if isinstance(node, _COMPREHENSIONS):
            # Only a walrus inside reaches this scope; the loop targets are the comprehension's own.
            stack.extend(
                sub.target
                for sub in ast.walk(node)
                if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name)
            )
            continue
        stack.extend(_children(node))


def _declared_global(tree: ast.Module) -> set[str]:
    return {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}


def _inline_text(parser: MarkdownIt, docs: str) -> str:
    """The first line of the first paragraph or heading of `docs`, as plain text (math as its TeX)."""
    for token in parser.parse(docs, {}):
        if token.type != "inline":
            continue
        parts: list[str] = []
        for child in token.children or ():
            if child.type in ("softbreak", "hardbreak"):
                if "".join(parts).strip():
                    break
            elif child.type in ("text", "code_inline", "math_inline", "math_display_inline") or child.type == "image":
                parts.append(child.content)
        text = " ".join("".join(parts).split())
        if text:
            return text
    return ""


def first_note_line(parser: MarkdownIt, docs: str) -> str:
    """A section's notes in one short line: the first line of their first paragraph or heading."""
    text = _inline_text(parser, docs) if docs.strip() else ""
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "…"


def module_table(module: ParsedModule, infos: Iterable[SectionInfo], parser: MarkdownIt) -> ModuleTable:
    """The table of a parsed Python module whose sections' anchors are `infos` (`anchors.analyse_sections`)."""
    tree = module.tree
    if tree is None:
        return ModuleTable()
    infos = tuple(infos)
    counts = Counter(name for name, _ in _bindings(tree.body))
    shadowed = _declared_global(tree)
    section_of: dict[int, int] = {}
    first_line: list[int] = []
    for index, section in enumerate(module.sections):
        lines = [number for number, text in section.code_lines if text.strip()]
        first_line.append(lines[0] if lines else 0)
        for number, _ in section.code_lines:
            section_of[number] = index
    notes: dict[int, str] = {}

    def note(index: int) -> str:
        if index not in notes:
            notes[index] = first_note_line(parser, module.sections[index].docs)
        return notes[index]

    defs: list[tuple[str, str, str]] = []
    imports: list[tuple[str, int, str, str]] = []
    for name, node in _bindings(tree.body):
        if counts[name] != 1 or name in shadowed:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname == name:
                    imports.append((name, 0, alias.name, ""))
                elif alias.asname is None and alias.name.split(".")[0] == name:
                    imports.append((name, 0, name, ""))
            continue
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    imports.append((name, node.level, node.module or "", alias.name))
            continue
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Name)):
            continue  # a loop target, `with ... as`, `except ... as`: nothing to point at
        line = node.lineno
        where = section_of.get(line)
        if where is None or where >= len(infos):
            continue
        # The section's notes are the definition's when it opens the section (its decorators first).
        start = min([line] + [d.lineno for d in getattr(node, "decorator_list", ())])
        text = note(where) if first_line[where] == start else ""
        if not text and not isinstance(node, ast.Name):
            docstring = ast.get_docstring(node)
            text = first_note_line(parser, docstring) if docstring else ""
        defs.append((name, infos[where].anchor, text))
    summary = next((note(index) for index, section in enumerate(module.sections) if section.docs.strip()), "")
    return ModuleTable(tuple(sorted(defs)), tuple(sorted(imports)), summary)


# ---------------------------------------------------------------------------------------------
# 2. The site's names
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteModule:
    name: str
    output_path: str
    is_package: bool
    table: ModuleTable


def site_names(modules: Iterable[SiteModule]) -> dict[str, tuple[tuple[str, Target], ...]]:
    """For each module's page (by output path), its module-level names that resolve in the site, sorted."""
    by_name = {module.name: module for module in modules}
    defs = {
        module.name: {name: (anchor, note) for name, anchor, note in module.table.defs} for module in by_name.values()
    }
    imports = {
        module.name: {bound: (level, source, name) for bound, level, source, name in module.table.imports}
        for module in by_name.values()
    }

    def module_target(name: str) -> Target | None:
        module = by_name.get(name)
        return Target(module.output_path, "", module.table.summary or name) if module is not None else None

    def resolve_import(module: SiteModule, bound: str, seen: frozenset[tuple[str, str]]) -> Target | None:
        level, source, name = imports[module.name][bound]
        absolute = _absolute(module.name, module.is_package, level, source)
        if absolute is None:
            return None
        if not name:
            return module_target(absolute)
        return resolve(absolute, name, seen)

    def resolve(module_path: str, name: str, seen: frozenset[tuple[str, str]] = frozenset()) -> Target | None:
        """`name` as an attribute of module `module_path`: its definition, what it imports, or a submodule."""
        if (module_path, name) in seen:
            return None
        seen = seen | {(module_path, name)}
        module = by_name.get(module_path)
        if module is not None:
            if name in defs[module_path]:
                anchor, note = defs[module_path][name]
                return Target(module.output_path, anchor, note or f"{module_path}.{name}")
            if name in imports[module_path]:
                target = resolve_import(module, name, seen)
                if target is not None:
                    return target
        # `from . import b` in package `p`: the submodule `p.b`.
        return module_target(f"{module_path}.{name}")

    out: dict[str, tuple[tuple[str, Target], ...]] = {}
    for module in sorted(by_name.values(), key=lambda m: m.output_path):
        names: dict[str, Target] = {}
        for name in defs[module.name]:
            target = resolve(module.name, name)
            if target is not None:
                names[name] = target
        for bound in imports[module.name]:
            target = resolve_import(module, bound, frozenset())
            if target is not None:
                names[bound] = target
        out[module.output_path] = tuple(sorted(names.items()))
    return out


def names_digest(names: Iterable[tuple[str, Target]]) -> str:
    """What a page's key holds of the site's names: the digest of its own."""
    data = json.dumps([[name, t.output_path, t.anchor, t.title] for name, t in names], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# 3. The page's links
# ---------------------------------------------------------------------------------------------


def _char_column(line: str, byte_offset: int) -> int:
    """The syntax tree's column (UTF-8 bytes) as a column in characters."""
    if line.isascii():
        return byte_offset
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "ignore"))


def _params(args: ast.arguments) -> set[str]:
    every = args.posonlyargs + args.args + args.kwonlyargs
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return {arg.arg for arg in every}


def code_links(
    tree: ast.Module | None, names: dict[str, Target], line_text: Callable[[int], str]
) -> dict[tuple[int, int], tuple[str, Target]]:
    """(line, column in characters) -> (the name written there, its target), for each use of a module-level
    name of `names` that no enclosing scope shadows; `line_text(n)` is the source's line n."""
    links: dict[tuple[int, int], tuple[str, Target]] = {}
    if tree is None or not names:
        return links

    def add(name: str, line: int, col: int) -> None:
        links[(line, _char_column(line_text(line), col))] = (name, names[name])

    # Scopes enclosing the node: (names bound there, is a class body); a class body is seen only from
    # its own statements, not from the functions within it (Python's rule).
    def visible(name: str, scopes: tuple[tuple[frozenset[str], bool], ...]) -> bool:
        for depth, (bound, is_class) in enumerate(reversed(scopes)):
            if is_class and depth > 0:
                continue
            if name in bound:
                return False
        return name in names

    def visit(node: ast.AST, scopes: tuple[tuple[frozenset[str], bool], ...]) -> None:
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and visible(node.id, scopes):
                add(node.id, node.lineno, node.col_offset)
            return
        if isinstance(node, ast.ImportFrom) and not scopes:
            places = _alias_places(node, line_text)
            for alias, place in zip(node.names, places):
                bound = alias.asname or alias.name
                if bound in names and "." not in alias.name and place is not None:
                    links[place] = (alias.name, names[bound])
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            outer: list[ast.AST] = [d for d in args.defaults + args.kw_defaults if d is not None]
            inner: list[ast.AST]
            if isinstance(node, ast.Lambda):
                inner = [node.body]
            else:
                outer += node.decorator_list
                outer += [a.annotation for a in args.posonlyargs + args.args + args.kwonlyargs if a.annotation]
                outer += [a.annotation for a in (args.vararg, args.kwarg) if a is not None and a.annotation]
                outer += [node.returns] if node.returns is not None else []
                inner = list(node.body)
            for child in outer:
                visit(child, scopes)
            local = frozenset(_params(args) | {name for name, _ in _bindings(inner)})
            for child in inner:
                visit(child, scopes + ((local, False),))
            return
        if isinstance(node, ast.ClassDef):
            for child in [*node.decorator_list, *node.bases, *node.keywords]:
                visit(child, scopes)
            local = frozenset(name for name, _ in _bindings(node.body))
            for child in node.body:
                visit(child, scopes + ((local, True),))
            return
        if isinstance(node, _COMPREHENSIONS):
            targets = frozenset(
                sub.id
                for generator in node.generators
                for sub in ast.walk(generator.target)
                if isinstance(sub, ast.Name)
            )
            for child in _children(node):
                visit(child, scopes + ((targets, False),))
            return
        for child in _children(node):
            visit(child, scopes)

    for statement in tree.body:
        visit(statement, ())
    return links


# ---------------------------------------------------------------------------------------------
# The build's pass over the sources, and its cache
# ---------------------------------------------------------------------------------------------


def source_table(data: bytes, path: str, parser: MarkdownIt) -> ModuleTable:
    """The table of a Python source's bytes; an empty one when the source cannot be read as Python (its
    page reports why when it renders). Python's warnings about it are the page's to report, not this pass's."""
    from litdoc import anchors
    from litdoc.pages import decode_source
    from litdoc.parse import parse_module

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = decode_source(data, path)
            module = parse_module(text, path)
            return module_table(module, anchors.analyse_sections(module, text, parser), parser)
    except Exception:  # a user's mistake or litdoc's bug: the page's render says which
        return ModuleTable()


TABLES_NAME = "definitions.json"
TABLES_FORMAT = "litdoc-definitions/1"


class TableCache:
    """Module tables remembered in the cache folder by their source's hash (and litdoc's own code, which
    decides the anchors), so that a rebuild parses only the sources that changed. One JSON file, written
    atomically; without a cache folder, or when it cannot be written, every source is parsed."""

    def __init__(self, folder: Path | None, code: str):
        self.path = folder / TABLES_NAME if folder is not None else None
        self.code = code
        self.known: dict[str, object] = read_cache_table(self.path, TABLES_FORMAT, "tables", litdoc=code)
        self.used: dict[str, list[object]] = {}

    def get(self, digest: str) -> ModuleTable | None:
        table = ModuleTable.from_json(self.known[digest]) if digest in self.known else None
        if table is not None:
            self.used[digest] = table.to_json()
        return table

    def put(self, digest: str, table: ModuleTable) -> None:
        self.used[digest] = table.to_json()

    def save(self) -> None:
        if self.path is None or self.used == self.known:
            return
        write_cache_table(self.path, TABLES_FORMAT, "tables", self.used, litdoc=self.code)


def _alias_places(node: ast.ImportFrom, line_text: Callable[[int], str]) -> list[tuple[int, int] | None]:
    """(line, column in characters) of each imported name of `node`, in order. Python 3.10 and later give
    an alias its position; on 3.9 the names are found among the statement's tokens after `import`."""
    if all(hasattr(alias, "lineno") for alias in node.names):
        return [(alias.lineno, _char_column(line_text(alias.lineno), alias.col_offset)) for alias in node.names]
    last = getattr(node, "end_lineno", None) or node.lineno
    text = "\n".join(line_text(number) for number in range(node.lineno, last + 1)) + "\n"
    names: list[tuple[str, int, int]] = []
    seen_import = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME and token.string == "import":
                seen_import = True
            elif seen_import and token.type == tokenize.NAME:
                names.append((token.string, node.lineno + token.start[0] - 1, token.start[1]))
    except (tokenize.TokenError, IndentationError):
        return [None] * len(node.names)
    places: list[tuple[int, int] | None] = []
    position = 0
    for alias in node.names:
        while position < len(names) and names[position][0] != alias.name:
            position += 1
        if position == len(names):
            places.append(None)
            continue
        places.append(names[position][1:])
        position += 1
        if alias.asname and position + 1 < len(names) and names[position][0] == "as":
            position += 2  # past `as NAME`
    return places
