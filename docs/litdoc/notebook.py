# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""A page's module as a Jupyter notebook (nbformat 4) that reads like the page and runs top to bottom.

* **Cells follow the statements.** Each code cell holds whole top-level statements, as the source
  writes them: a function or a class is a cell of its own, with its docstrings and its comments (the
  notes inside it, math and all) kept where they are; consecutive simple statements (an import block,
  a few assignments) share a cell. Before a cell comes one Markdown cell with the notes written above
  it at the top level and, for a class or a function, its docstring (which its code keeps too): runs
  of notes merged, math as written (`$...$` is Jupyter's own syntax). So no line of the source is
  dropped: every line of it is in a code cell, or it is a top-level note, in a Markdown cell.
* **It runs where the page is not.** Relative imports (`from .base import X`) are made absolute with
  the page's package. Relative links and images in the notes are made absolute from the page's URL,
  since a notebook opened in Colab has no site beside it. When the site says how to install its code
  (`notebook_install` in `[tool.litdoc]`, a pip requirement), the first code cell installs it unless
  its distribution is already there, so that the page's imports work in a fresh kernel.
* **Its blocks read in Jupyter.** An exercise's title is a bold line; an answer or an appendix (litdoc's
  `::: answer`, `::: appendix`) is an HTML `<details>`, folded, which Jupyter renders with the Markdown
  inside it. The fence lines stay in HTML comments, so no line of the source is lost.
* **Its `__main__` block is its demo.** A kernel runs `if __name__ == "__main__":` (its `__name__`
  is `"__main__"`), but its `sys.argv` holds the kernel's own arguments. A module with such a block
  gets, in the first code cell, the command line it would have as a script: its file name, then the
  page's `notebook_args` (front matter, e.g. `notebook_args: --quick` for a shorter run).

Pure: text in, bytes out; the same module gives the same bytes.
"""

from __future__ import annotations

import ast
import html
import json
import re
import shlex
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin

from litdoc.markup import BLOCKS, escape_raw_html, markdown_parser
from litdoc.model import ParsedModule

_RELATIVE_IMPORT = re.compile(r"^(\s*from\s+)(\.+)([\w.]*)(\s+import\b)", re.MULTILINE)
# A Markdown link or image target `](target)` or `](target "title")`, and a reference definition
# `[label]: target`; the target is made absolute when it is relative.
_INLINE_TARGET = re.compile(r"(\]\()(<[^>\n]*>|[^)\s]+)")
_REFERENCE_TARGET = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.MULTILINE)
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# The distribution a requirement names: `name[extras] @ url` or `name>=1` -> `name`.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")


@dataclass(frozen=True)
class NotebookOptions:
    """What a notebook needs to know beyond its module. `package`: the module's package, for its
    relative imports; `page_url`: the page's absolute URL ("" when the site has no `base_url`);
    `install`: a pip requirement that installs the site's code ("" for no set-up cell); `script`: the
    module's file name, `sys.argv[0]` of its `__main__` block."""

    package: str = ""
    page_url: str = ""
    install: str = ""
    script: str = ""
    raw_html: bool = True  # False: the notes' HTML is written as text in the Markdown cells


def _absolute_imports(code: str, package: str) -> str:
    """`from .base import X` in package `a.b` -> `from a.b.base import X`; `..` goes one level up."""
    if not package:
        return code

    def replace(match: re.Match[str]) -> str:
        parts = package.split(".")
        up = len(match.group(2)) - 1
        base = parts[: len(parts) - up] if up else parts
        target = ".".join(base + ([match.group(3)] if match.group(3) else []))
        return f"{match.group(1)}{target}{match.group(4)}"

    return _RELATIVE_IMPORT.sub(replace, code)


def absolute_links(markdown: str, page_url: str) -> str:
    """Relative link and image targets made absolute from `page_url` (`adam.html` ->
    `https://site/optimizers/adam.html`, `#x` -> the page's own anchor). Targets with a scheme stay."""
    if not page_url:
        return markdown

    def absolute(target: str) -> str:
        bracketed = target.startswith("<") and target.endswith(">")
        bare = target[1:-1] if bracketed else target
        if not bare or _HAS_SCHEME.match(bare) or bare.startswith("//"):
            return target
        joined = urljoin(page_url, bare)
        return f"<{joined}>" if bracketed else joined

    text = _INLINE_TARGET.sub(lambda m: m.group(1) + absolute(m.group(2)), markdown)
    return _REFERENCE_TARGET.sub(lambda m: m.group(1) + absolute(m.group(2)), text)


@dataclass(frozen=True)
class _Statement:
    first: int  # 1-based, its first decorator included
    last: int
    compound: bool  # a function or a class: a cell of its own
    is_main: bool  # `if __name__ == "__main__":`


def jupyter_blocks(markdown: str) -> str:
    """`markdown` with litdoc's fenced blocks (`litdoc.markup.BLOCKS`) written as Jupyter renders them:
    an exercise's opening line becomes its bold title, an answer or appendix a folded `<details>`."""
    if ":::" not in markdown:
        return markdown
    lines = markdown.split("\n")
    for token in markdown_parser().parse(markdown):
        name = token.type[len("container_") : -len("_open")] if token.type.startswith("container_") else ""
        if name not in BLOCKS or token.nesting != 1 or not token.map:
            continue
        block = BLOCKS[name]
        start, end = token.map
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        title = token.info.strip()[len(name) :].strip()
        fence = f"<!-- {lines[start].strip()} -->"
        if block.folded:
            summary = html.escape(title or block.default_title, quote=False)
            lines[start] = f'{indent}<details class="{block.css_class}"><summary>{summary}</summary> {fence}\n'
            closing = f"\n{indent}</details>"
        else:
            label = block.label + (": " + title if title else "")
            lines[start] = f"{indent}{fence}\n{indent}**{label}**\n" if label else f"{indent}{fence}\n"
            closing = ""
        if end < len(lines):
            lines[end] = closing + (
                f" <!-- {lines[end].strip()} -->" if closing else f"{indent}<!-- {lines[end].strip()} -->"
            )
    return "\n".join(lines)


def _parse(source: str) -> ast.Module:
    """The module's tree, for a module made without one (a test's, say). litdoc's parser has read this
    source already and reported its problems, so a `SyntaxWarning` is not printed a second time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(source)


def _statements(tree: ast.Module) -> list[_Statement]:
    """The module's top-level statements, string expressions (the notes litdoc reads from docstrings)
    left out."""
    statements = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno] + [decorator.lineno for decorator in decorators])
        compound = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        is_main = (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        )
        statements.append(_Statement(first, node.end_lineno or node.lineno, compound, is_main))
    return statements


def _cell(kind: str, text: str) -> dict[str, object]:
    lines = text.split("\n")
    source = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    cell: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    return cell


def setup_code(install: str, script: str, args: str, runs_main: bool, module_name: str = "") -> str:
    """The first code cell: install the site's code where it is missing, give the `__main__` block the
    command line it has as a script, and, for a module that reads `__file__` (to find its package's
    files), the installed module's file (`module_name`), which a kernel does not define."""
    lines: list[str] = []
    if install:
        match = _REQUIREMENT_NAME.match(install)
        distribution = match.group(1) if match else install
        lines += [
            f"# Set-up: installs {distribution} when this kernel lacks it (a fresh Colab kernel, say); where it is",
            "# installed already, this cell changes nothing.",
            "import importlib.metadata",
            "import subprocess",
            "import sys",
            "",
            "try:",
            f"    importlib.metadata.version({distribution!r})",
            "except importlib.metadata.PackageNotFoundError:",
            f'    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {install!r}], check=True)',
        ]
    if module_name:
        lines += [""] if lines else []
        lines += [
            "# This module finds its package's files from `__file__`, which a kernel does not set: use the",
            "# installed module's.",
            "import importlib.util",
            "",
            f"__file__ = importlib.util.find_spec({module_name!r}).origin",
        ]
    if runs_main:
        argv = [script or "page.py"] + shlex.split(args)
        if lines:
            lines.append("")
        if not install:
            lines += ["import sys", ""]
        lines += [
            "# The `__main__` block at the end runs here as it runs from a shell, with this command line",
            "# rather than the kernel's own arguments.",
            f"sys.argv = {argv!r}",
        ]
    return "\n".join(lines)


def notebook_cells(
    module: ParsedModule, source: str, options: NotebookOptions = NotebookOptions()
) -> list[dict[str, object]]:
    source_lines = source.split("\n")
    tree = module.tree if module.tree is not None else _parse(source)  # parse_module's, when it kept one
    statements = _statements(tree)

    def statement_at(line: int) -> _Statement | None:
        return next((s for s in statements if s.first <= line <= s.last), None)

    # Events in source order: top-level notes, and the statements. Notes inside a statement stay in
    # its code, where the source has them; a top-level class's or function's own docstring is also
    # its Markdown cell, so that the notebook's headings are the page's.
    events: list[tuple[int, int, str, _Statement | None]] = []
    for section in module.sections:
        if not section.docs.strip():
            continue
        lines = section.docs_line_numbers or section.doc_lines
        where = lines[0] if lines else 0
        owner = statement_at(where)
        if owner is not None:
            if not (section.from_docstring and section.code_lines and section.code_lines[0][0] == owner.first):
                continue
            where = owner.first
        # The author's HTML is escaped before litdoc's own (the `<details>` of its fenced blocks) is added.
        docs = section.docs if options.raw_html else escape_raw_html(section.docs)
        events.append((where, 0, absolute_links(jupyter_blocks(docs).strip("\n"), options.page_url), None))
    for statement in statements:
        events.append((statement.first, 1, "", statement))
    events.sort(key=lambda event: (event[0], event[1]))

    cells: list[dict[str, object]] = []
    notes: list[str] = []
    block: list[_Statement] = []

    def flush_code() -> None:
        if block:
            code = "\n".join(source_lines[block[0].first - 1 : block[-1].last]).strip("\n")
            cells.append(_cell("code", _absolute_imports(code, options.package)))
            block.clear()

    def flush_notes() -> None:
        if notes:
            cells.append(_cell("markdown", "\n\n".join(notes)))
            notes.clear()

    for _, _, text, item in events:
        if item is None:
            flush_code()
            notes.append(text)
            continue
        flush_notes()
        if block and (item.compound or block[-1].compound or item.is_main):
            flush_code()
        block.append(item)
    flush_code()
    flush_notes()

    title = module.front_matter.title
    first_source = cells[0]["source"] if cells else None
    opens_with_heading = isinstance(first_source, list) and str(first_source[0]).startswith("#")
    if title and not (cells and cells[0]["cell_type"] == "markdown" and opens_with_heading):
        cells.insert(0, _cell("markdown", f"# {title if options.raw_html else title.replace('<', '&lt;')}"))
    args = dict(module.front_matter.fields).get("notebook_args", "")
    module_name = ""
    # The text first: walking every node of a big module is the slow part, and most never name __file__.
    if "__file__" in source and any(isinstance(node, ast.Name) and node.id == "__file__" for node in ast.walk(tree)):
        stem = options.script[: -len(".py")] if options.script.endswith(".py") else options.script
        module_name = ".".join(part for part in (options.package, "" if stem == "__init__" else stem) if part)
    setup = setup_code(options.install, options.script, args, any(s.is_main for s in statements), module_name)
    if setup:
        first_code = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "code"), len(cells))
        cells.insert(first_code, _cell("code", setup))
    return cells


def notebook_bytes(module: ParsedModule, source: str, options: NotebookOptions = NotebookOptions()) -> bytes:
    """The notebook of `module` as JSON bytes (sorted keys, one-space indent, as Jupyter writes it)."""
    cells = notebook_cells(module, source, options)
    if options.page_url:
        url = options.page_url
        cells.insert(0, _cell("markdown", f"This notebook is made from [{url}]({url})."))
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    # nbformat 4.5 wants a unique id per cell; the position makes it stable across builds.
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def script_bytes(data: bytes, install: str) -> bytes:
    """A page's `.py` download: its source, with one comment line saying how to install what it imports,
    put after a leading `#!` line and coding declaration (which must stay on the first two lines)."""
    if not install:
        return data
    header = f"# To run this file, first install the code it imports:  pip install {shlex.quote(install)}\n".encode()
    lines = data.split(b"\n", 2)
    keep = 0
    while keep < min(2, len(lines) - 1) and ((keep == 0 and lines[0].startswith(b"#!")) or _CODING.match(lines[keep])):
        keep += 1
    offset = sum(len(line) + 1 for line in lines[:keep])
    return data[:offset] + header + data[offset:]


def module_package(source_root_is_package: bool, root_name: str, source_path: str) -> str:
    """The package a module lives in, for its relative imports: `labml_nn.optimizers` for
    `optimizers/adam.py` under a source root `labml_nn` that is itself a package."""
    folders = [part for part in source_path.split("/")[:-1] if part]
    parts = ([root_name] if source_root_is_package else []) + folders
    return ".".join(parts)
