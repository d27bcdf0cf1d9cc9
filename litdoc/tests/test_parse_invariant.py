"""The page shows every source line exactly once: code in order in the code column, comments and
docstrings in the docs column. Checked on generated sources and on real files (Python's own standard library)."""

import ast
import io
import tokenize
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litdoc.parse import parse_module

DOC, CODE, ANY = "doc", "code", "any"


def check_invariant(text: str, sections) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # Python's line ends, no others
    if lines[-1] == "":
        lines.pop()
    code_rows = [row for section in sections for row, _ in section.code_lines]
    doc_rows = [row for section in sections for row in section.doc_lines]
    assert code_rows == sorted(code_rows), "code lines out of order"
    for section in sections:
        assert list(section.doc_lines) == sorted(section.doc_lines)
        assert len(section.docs_line_numbers) == (len(section.docs.split("\n")) if section.docs else 0)
        assert set(section.docs_line_numbers) <= set(section.doc_lines)
        for row, code in section.code_lines:
            assert code == lines[row - 1]
    if not sections:
        assert all(not line.strip() or line.strip() == "#" for line in lines)
        return
    assert sorted(code_rows + doc_rows) == list(range(1, len(lines) + 1)), "a line is missing or repeated"


# ---------------------------------------------------------------------------------------------
# Generated sources: each generated line carries the column it must land in
# ---------------------------------------------------------------------------------------------

Lines = list[tuple[str, str]]  # (text, DOC | CODE | ANY)

words = st.text(alphabet="abcxyz_$\\*#'\" ", min_size=0, max_size=12)
names = st.sampled_from(["f", "g", "step", "init_state", "_helper"])


def indent(block: Lines, by: str = "    ") -> Lines:
    return [(by + text if text else text, role) for text, role in block]


@st.composite
def comment_run(draw) -> Lines:
    return [("# " + draw(words).replace("\n", " "), DOC) for _ in range(draw(st.integers(1, 3)))]


@st.composite
def simple_statement(draw) -> Lines:
    kind = draw(st.sampled_from(["assign", "inline", "hash_string", "triple", "call", "expr_string"]))
    if kind == "assign":
        return [("x = 1", CODE)]
    if kind == "inline":
        return [("y = 2  # " + draw(words), CODE)]
    if kind == "hash_string":
        return [("s = '# not a comment " + draw(words).replace("'", "").replace("\\", "") + "'", CODE)]
    if kind == "triple":
        return [('t = """', CODE), ("# inside a string", CODE), ('"""', CODE)]
    if kind == "call":
        return [("z = max(", CODE), ("    # a comment inside brackets", DOC), ("    1, 2)", CODE)]
    # After another statement, so that it is never the first one of a body (a docstring).
    return [("w = 0", CODE), ('"""a string statement, not a docstring"""', CODE)]


@st.composite
def docstring(draw) -> Lines:
    style = draw(st.sampled_from(['"""', "'''", 'r"""', "r'''", '"', "'"]))
    close = style.lstrip("r")
    body = draw(st.text(alphabet="abc $\\_*", max_size=10)).replace("\\", "\\\\")
    if len(close) == 1 or draw(st.booleans()):
        return [(f"{style}{body.strip() or 'doc'}{close}", DOC)]
    return [(style, DOC), (body, DOC), (f"more {body}{close}", DOC)]


@st.composite
def function(draw, depth: int) -> Lines:
    head: Lines = [("@staticmethod", CODE)] if draw(st.booleans()) else []
    head.append((f"def {draw(names)}(a,", CODE))
    if draw(st.booleans()):
        head.append(("      # the second argument", DOC))
    head.append(("      b=None):", CODE))
    body: Lines = draw(docstring()) if draw(st.booleans()) else []
    body += draw(block(depth + 1))
    return head + indent(body)


@st.composite
def klass(draw, depth: int) -> Lines:
    body: Lines = draw(docstring()) if draw(st.booleans()) else []
    body += draw(function(depth + 1))
    return [("class A:", CODE)] + indent(body)


@st.composite
def block(draw, depth: int = 0) -> Lines:
    pieces = [comment_run(), simple_statement(), st.just([("", ANY)]), st.just([("#", DOC)])]
    if depth < 2:
        pieces += [function(depth), klass(depth)]
    out: Lines = []
    for _ in range(draw(st.integers(1, 5))):
        out += draw(st.one_of(pieces))
    if all(role != CODE for _, role in out):
        out.append(("pass", CODE))  # a body needs a statement
    return out


@st.composite
def module(draw) -> Lines:
    out: Lines = []
    if draw(st.booleans()):
        out += draw(docstring())
    out += draw(block())
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module(), st.booleans())
def test_generated_sources_keep_every_line_in_its_column(generated: Lines, final_newline: bool):
    text = "\n".join(line for line, _ in generated) + ("\n" if final_newline else "")
    compile(text, "<generated>", "exec")  # the generator only makes valid Python
    sections = parse_module(text, "gen.py").sections
    check_invariant(text, sections)
    code_rows = {row for section in sections for row, _ in section.code_lines}
    doc_rows = {row for section in sections for row in section.doc_lines}
    for row, (line, role) in enumerate(generated, start=1):
        if role == CODE:
            assert row in code_rows, f"line {row} {line!r} should be code"
        elif role == DOC:
            assert row in doc_rows, f"line {row} {line!r} should be docs"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module(), st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=8))
def test_every_line_python_runs_is_in_the_code_column_whatever_the_line_ends(generated: Lines, ends: list[str]):
    """Issue 9, bug 1: Python ends a line at "\r\n", "\r" or "\n"; each line here gets one of them."""
    pieces = []
    for row, (line, _) in enumerate(generated):
        end = ends[row % len(ends)]
        if pieces and pieces[-1].endswith("\r") and not line and end.startswith("\n"):
            end = "\r\n"  # "\r" then an empty line's "\n" would be one "\r\n": one line, not two
        pieces.append(line + end)
    text = "".join(pieces)
    sections = parse_module(text, "gen.py").sections
    check_invariant(text, sections)
    code_rows = {row for section in sections for row, _ in section.code_lines}
    # What the compiler runs, with the line numbers it gives: every statement's line is code, but a
    # docstring (shown as notes, and running it does nothing).
    tree = ast.parse(text)
    docstrings = {
        id(body[0])
        for node in ast.walk(tree)
        for body in [getattr(node, "body", None)]
        if isinstance(body, list)
        and body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and id(node) not in docstrings:
            assert node.lineno in code_rows, f"statement at line {node.lineno} is not in the code column"
    for row, (line, role) in enumerate(generated, start=1):
        if role == CODE:
            assert row in code_rows, f"line {row} {line!r} should be code"


# ---------------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------------


def real_files():
    """Real, well-commented code that every Python ships: its own json, email, asyncio and unittest
    packages (about a hundred files), so the check runs on every interpreter litdoc supports."""
    import asyncio
    import email
    import json
    import unittest

    files = sorted(
        p for package in (json, email, asyncio, unittest) for p in Path(package.__file__).parent.rglob("*.py")
    )
    assert len(files) > 60, files
    return files


def docstring_rows(text: str):
    """Lines of every docstring that fills its own lines, found independently with ast."""
    rows = set()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                rows.update(range(first.lineno, first.end_lineno + 1))
    return rows


def full_line_comment_rows(text: str):
    lines = text.split("\n")
    return {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.COMMENT and not lines[tok.start[0] - 1][: tok.start[1]].strip()
    }


@pytest.mark.parametrize("path", real_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_file(path: Path):
    text = path.read_text(encoding="utf-8")
    sections = parse_module(text, str(path)).sections
    check_invariant(text, sections)
    lines = text.split("\n")
    doc_rows = {row for section in sections for row in section.doc_lines}
    code_rows = {row for section in sections for row, _ in section.code_lines}
    comments = full_line_comment_rows(text)
    docstrings = docstring_rows(text)
    for row in doc_rows:
        assert row in comments or row in docstrings or not lines[row - 1].strip(), (
            f"{path.name}:{row} is code but was put in the docs"
        )
    for row in comments - {1}:
        assert row in doc_rows, f"{path.name}:{row} is a comment but was put in the code"
    # A docstring stays code only when it shares a line with other code.
    for row in docstrings & code_rows:
        stripped = lines[row - 1].strip()
        assert not (stripped.startswith(('"', "'", 'r"', "r'")) and stripped.endswith(('"', "'"))) or ";" in stripped, (
            f"{path.name}:{row} is a docstring line but was put in the code"
        )
