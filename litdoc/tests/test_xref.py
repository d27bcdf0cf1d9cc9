"""Go to definition (`litdoc.xref`): a name in the code column that the site defines links to its
definition, with the first line of its notes as the link's title; shadowed names and names the site does
not define do not link; a page is rebuilt when a definition it links to changes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from litdoc import xref
from tests.sitefixtures import dedent, make_project, run, summary_counts

SHAPES = dedent('''
    """
    # Shapes
    """

    import math


    class Circle:
        """
        ## A circle

        Its radius is `r`.
        """

        def __init__(self, r):
            self.r = r


    # ## The area
    #
    # Of any shape with a radius.
    def area(shape):
        return math.pi * shape.r**2
    ''')

USE = dedent('''
    """
    # Using shapes
    """

    import math

    from .shapes import Circle
    from src.pkg.shapes import area


    # The total area
    def total(radii):
        return sum(area(Circle(r)) for r in radii) + len(radii) + math.pi


    # A parameter named like the class
    def shadowed(Circle):
        return Circle


    # A local named like the function
    def local():
        area = 3
        return area
    ''')


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj", {"src/pkg/shapes.py": SHAPES, "src/pkg/use.py": USE})


def build(capsys, project: Path):
    return run(capsys, "build", "--project", str(project), "-j1")


LINK = re.compile(r'<a class="xref" href="([^"]*)"(?: title="([^"]*)")?><span class="[a-z]+">(\w+)</span></a>')


def links(page: Path) -> list[tuple[str, str, str]]:
    """(name, href, title) of each go-to-definition link on the page, in order."""
    return [(name, href, title) for href, title, name in LINK.findall(page.read_text(encoding="utf-8"))]


def name_spans(page: Path, name: str) -> int:
    return page.read_text(encoding="utf-8").count(f'<span class="n">{name}</span>')


def test_imported_names_link_to_their_definition_with_its_first_note_line(capsys, project):
    code, _, err = build(capsys, project)
    assert code == 0, err
    use = project / "site" / "pkg" / "use.html"
    circle = ("Circle", "shapes.html#Circle", "A circle")
    area = ("area", "shapes.html#area", "The area")
    # The import lines, then `total`: a relative import and an absolute one (the source root is a package).
    assert links(use) == [circle, area, area, circle]
    # Names the site does not define do not link: a module of another project, builtins, locals.
    html = use.read_text(encoding="utf-8")
    for name in ("math", "sum", "len", "radii", "r"):
        assert not re.search(rf'<a class="xref"[^>]*><span class="[a-z]+">{name}</span>', html), name
    # A parameter and a local variable named like the imports shadow them: 4 uses each, 2 of them linked.
    assert name_spans(use, "Circle") == 4 and name_spans(use, "area") == 4


def test_names_defined_on_the_page_link_to_their_anchor(capsys, project):
    (project / "src" / "pkg" / "shapes.py").write_text(SHAPES + "\n\n# The unit circle\nUNIT = Circle(1)\n")
    code, _, err = build(capsys, project)
    assert code == 0, err
    shapes = project / "site" / "pkg" / "shapes.html"
    assert links(shapes) == [("Circle", "#Circle", "A circle")]
    html = shapes.read_text(encoding="utf-8")
    assert "id='Circle'" in html


def test_a_page_is_rebuilt_when_a_definition_it_links_to_changes(capsys, project):
    assert build(capsys, project)[0] == 0
    shapes = project / "src" / "pkg" / "shapes.py"
    shapes.write_text(SHAPES.replace("## A circle", "## A round shape"), encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 0, err
    # The page of the definition and the page that links to it; no other.
    assert summary_counts(err)[:1] == [2]
    assert ("Circle", "shapes.html#Circle", "A round shape") in links(project / "site" / "pkg" / "use.html")
    # The definition moves to another module, which the package re-exports: the link follows it.
    (project / "src" / "pkg" / "round.py").write_text(
        '"""\n# Round things\n"""\n\n\nclass Circle:\n    """\n    ## Moved here\n    """\n', encoding="utf-8"
    )
    shapes.write_text(SHAPES.replace("class Circle:", "from .round import Circle\n\n\nclass Old:"), encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert ("Circle", "round.html#Circle", "Moved here") in links(project / "site" / "pkg" / "use.html")
    # Nothing changed: nothing is rebuilt.
    code, _, err = build(capsys, project)
    assert code == 0 and summary_counts(err)[0] == 0


def test_module_tables_round_trip_through_the_cache():
    table = xref.ModuleTable((("A", "A", "note"),), (("b", 1, "m", "b"),), "summary")
    assert xref.ModuleTable.from_json(table.to_json()) == table
    assert xref.ModuleTable.from_json(["not", "a table"]) is None


def scoped_links(source: str, names: tuple[str, ...] = ("Y", "f")) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    lines = source.split("\n")
    targets = {name: xref.Target("other.html", name, "") for name in names}
    found = xref.code_links(tree, targets, lambda n: lines[n - 1])
    return sorted((line, name) for (line, _), (name, _) in found.items())


def test_scopes_that_shadow_a_module_level_name():
    source = dedent("""
        from m import Y, f
        def g(x=Y):                   # 2: a default is the enclosing scope's
            return [Y for Y in x]     # 3: a comprehension's target
        h = lambda Y: Y               # 4: a lambda's parameter
        class C:
            Y = 1
            z = Y                     # 7: the class body's own Y
            def k(self):
                return Y              # 9: a method does not see the class body
        def outer():
            f = 2
            def inner():
                return f              # 13: the enclosing function's f
            return inner
        def uses():
            return Y(f())             # 16: both
        """)
    assert scoped_links(source) == [(1, "Y"), (1, "f"), (2, "Y"), (9, "Y"), (16, "Y"), (16, "f")]


def test_a_module_level_name_bound_twice_or_declared_global_is_not_a_definition(tmp_path):
    from litdoc import anchors
    from litdoc.markup import markdown_parser
    from litdoc.parse import parse_module

    source = dedent("""
        # One
        A = 1

        # Two
        try:
            import numpy as B
        except ImportError:
            B = None

        # Three
        def C():
            global D
            D = 3

        # Four
        D = 4
        """)
    module = parse_module(source, "x.py")
    parser = markdown_parser()
    table = xref.module_table(module, anchors.analyse_sections(module, source, parser), parser)
    assert [name for name, _, _ in table.defs] == ["A", "C"]
    assert table.imports == ()


def test_imports_resolve_through_packages_relative_imports_and_submodules():
    def module(name: str, output: str, defs=(), imports=(), package=False) -> xref.SiteModule:
        return xref.SiteModule(name, output, package, xref.ModuleTable(tuple(defs), tuple(imports), name + " notes"))

    names = xref.site_names(
        [
            module("p", "index.html", imports=[("Thing", 1, "a", "Thing"), ("b", 1, "", "b")], package=True),
            module("p.a", "a.html", defs=[("Thing", "Thing", "A thing")]),
            module(
                "p.b", "b.html", imports=[("Thing", 0, "p", "Thing"), ("mod", 0, "p.a", ""), ("np", 0, "numpy", "")]
            ),
            module("p.c", "c.html", imports=[("x", 2, "", "Thing"), ("loop", 1, "c", "loop")]),
        ]
    )
    b = dict(names["b.html"])
    assert b["Thing"] == xref.Target("a.html", "Thing", "A thing")
    assert b["mod"] == xref.Target("a.html", "", "p.a notes")
    assert "np" not in b
    assert dict(names["index.html"])["b"] == xref.Target("b.html", "", "p.b notes")
    assert names["c.html"] == ()  # above the top package; an import of itself


def test_imported_names_are_found_without_alias_positions_as_on_python_3_9():
    """Python 3.9's `ast.alias` has no position: the names are then found among the statement's tokens,
    at the same places 3.10's positions give."""
    import ast

    from litdoc.xref import _alias_places

    source = "if True:\n    from m import (A as B,\n        Cé, D)\nfrom n import E\n"
    lines = source.split("\n")
    for node in [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]:
        with_positions = _alias_places(node, lambda number: lines[number - 1])
        for alias in node.names:
            for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                if hasattr(alias, attribute):
                    delattr(alias, attribute)
        assert _alias_places(node, lambda number: lines[number - 1]) == with_positions
        assert None not in with_positions


def test_a_first_build_with_workers_reads_the_names_in_its_pool_and_links_alike(capsys, tmp_path):
    # A fresh clone's first build reads every source's names before any page renders; with -j 2 and
    # eight sources or more that pass runs in a pool of workers, and must find what one process finds.
    files = {"src/pkg/shapes.py": SHAPES, "src/pkg/use.py": USE}
    files.update(
        {f"src/pkg/more{n}.py": f'"""\n# More {n}\n"""\n\nfrom .shapes import area\n\nX{n} = area\n' for n in range(8)}
    )
    sites = {}
    for jobs in ("1", "2"):
        project = make_project(tmp_path / f"j{jobs}", files)
        code, _, err = run(capsys, "build", "--project", str(project), "-j", jobs)
        assert code == 0, err
        assert (project / ".litdoc-cache" / xref.TABLES_NAME).is_file()  # the tables the pass made, kept
        sites[jobs] = {p.relative_to(project / "site"): p.read_bytes() for p in (project / "site").rglob("*.html")}
    assert sites["1"] == sites["2"] and len(sites["2"]) >= 10
    assert links(tmp_path / "j2" / "site" / "pkg" / "more3.html") == [("area", "shapes.html#area", "The area")] * 2
