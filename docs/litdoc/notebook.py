"""A page's module as a Jupyter notebook (nbformat 4): notes become Markdown cells, code becomes code cells.

Running the cells top to bottom must do what importing the module does, so a code cell never ends
inside a statement: sections are grouped until the next code line starts at column 0 (a new
top-level statement). The notes of a group's sections come first, each its own Markdown cell with
its math as written (`$...$` is Jupyter's own math syntax), then the group's code.

The code is the code column's lines (comments that became notes are not repeated). When that text
does not compile on its own (a function whose body was only a docstring), the cell holds the
source's own lines for the group instead. Relative imports (`from .base import X`) are made absolute
with the page's package, since a notebook has no package.

Pure: text in, bytes out; the same module gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from litdoc.model import ParsedModule, Section

_RELATIVE_IMPORT = re.compile(r"^(\s*from\s+)(\.+)([\w.]*)(\s+import\b)", re.MULTILINE)


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


def _groups(sections: Sequence[Section]) -> list[list[Section]]:
    """Sections grouped so that each group's code is whole top-level statements."""
    groups: list[list[Section]] = []
    for section in sections:
        starts_statement = bool(section.code_lines) and not section.code_lines[0][1][:1].isspace()
        if not groups or (starts_statement and any(s.code_lines for s in groups[-1])):
            groups.append([section])
        else:
            groups[-1].append(section)
    return groups


def _cell(kind: str, text: str) -> dict[str, object]:
    lines = text.split("\n")
    source = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    cell: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    return cell


def notebook_cells(module: ParsedModule, source: str, package: str = "") -> list[dict[str, object]]:
    source_lines = source.split("\n")
    cells: list[dict[str, object]] = []
    title = module.front_matter.title
    for group in _groups(module.sections):
        for section in group:
            if section.docs.strip():
                cells.append(_cell("markdown", section.docs.strip("\n")))
        code_lines = [line for section in group for line in section.code_lines]
        if not code_lines:
            continue
        code = "\n".join(text for _, text in code_lines).strip("\n")
        try:
            compile(code, "<cell>", "exec", dont_inherit=True)
        except SyntaxError:
            first, last = code_lines[0][0], code_lines[-1][0]
            code = "\n".join(source_lines[first - 1 : last]).strip("\n")
        if code.strip():
            cells.append(_cell("code", _absolute_imports(code, package)))
    first_source = cells[0]["source"] if cells else None
    opens_with_heading = isinstance(first_source, list) and str(first_source[0]).startswith("#")
    if title and not (cells and cells[0]["cell_type"] == "markdown" and opens_with_heading):
        cells.insert(0, _cell("markdown", f"# {title}"))
    return cells


def notebook_bytes(module: ParsedModule, source: str, package: str = "", page_url: str = "") -> bytes:
    """The notebook of `module` as JSON bytes (sorted keys, one-space indent, as Jupyter writes it)."""
    cells = notebook_cells(module, source, package)
    if page_url:
        cells.insert(0, _cell("markdown", f"This notebook is made from [{page_url}]({page_url})."))
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


def module_package(source_root_is_package: bool, root_name: str, source_path: str) -> str:
    """The package a module lives in, for its relative imports: `labml_nn.optimizers` for
    `optimizers/adam.py` under a source root `labml_nn` that is itself a package."""
    folders = [part for part in source_path.split("/")[:-1] if part]
    parts = ([root_name] if source_root_is_package else []) + folders
    return ".".join(parts)
