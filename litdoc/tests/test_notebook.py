"""A page's notebook and `.py` download: cells that are whole statements with their notes, nothing of the
source lost, and a first cell that makes the notebook run in a fresh kernel (issue 20)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from litdoc import notebook
from litdoc.parse import parse_module
from tests.test_anchors import NOTEBOOK_SOURCE

ONLY_A_DOCSTRING = '''

# A class that is only a docstring.

# It still needs its body.
class Interrupted(Exception):
    """Raised when a run is stopped."""
'''

DEMO = textwrap.dedent(
    '''
    """
    ---
    title: Demo
    notebook_args: --quick --steps 3
    ---

    See [the index](index.html#top), ![a plot](plot.svg) and [elsewhere](https://example.org/x).
    """

    from pathlib import Path

    HERE = Path(__file__).parent

    if __name__ == "__main__":
        print(HERE)
    '''
)


def cells(source: str, **options: str) -> list[tuple[str, str]]:
    module = parse_module(source, "counter.py")
    data = json.loads(notebook.notebook_bytes(module, source, notebook.NotebookOptions(**options)))
    return [(cell["cell_type"], "".join(cell["source"])) for cell in data["cells"]]


def test_cells_are_whole_statements_with_their_notes_and_docstrings():
    source = NOTEBOOK_SOURCE + ONLY_A_DOCSTRING
    found = cells(source, package="pkg")
    code = [text for kind, text in found if kind == "code"]
    markdown = [text for kind, text in found if kind == "markdown"]
    counter = next(text for text in code if text.startswith("class Counter"))
    assert '"""Add one."""' in counter and "# Start at $0$" in counter and "# $n \\leftarrow n + 1$" in counter
    assert any(text.startswith("## Counter") for text in markdown)  # the class's docstring heads its cell
    assert 'class Interrupted(Exception):\n    """Raised when a run is stopped."""' in code
    # Notes above a class and the class's own docstring make one Markdown cell.
    assert "A class that is only a docstring.\n\nIt still needs its body.\n\nRaised when a run is stopped." in markdown
    kinds = [kind for kind, _ in found]
    assert all(not (a == b == "markdown") for a, b in zip(kinds, kinds[1:]))  # runs of notes merged
    namespace: dict[str, object] = {"__name__": "counter"}
    for text in code:
        exec(compile(text, "<cell>", "exec"), namespace)
    assert issubclass(namespace["Interrupted"], Exception)  # type: ignore[arg-type]


def test_no_line_of_the_source_is_lost():
    source = NOTEBOOK_SOURCE + ONLY_A_DOCSTRING
    everything = "\n".join(text for _, text in cells(source, package="pkg"))
    for line in source.splitlines():
        text = line.strip().lstrip("#").strip()
        if text in ('r"""', '"""', "---") or text.startswith("title:"):
            continue  # the module docstring's quotes and its front matter, which gives the title
        assert text in everything, line


def test_set_up_cell_installs_sets_argv_and_file_and_links_are_absolute():
    found = cells(
        DEMO,
        package="pkg.sub",
        page_url="https://site.example/sub/demo.html",
        install="mypkg[extra] @ git+https://example.org/repo",
        script="demo.py",
    )
    setup = next(text for kind, text in found if kind == "code")
    assert "importlib.metadata.version('mypkg')" in setup
    assert "'mypkg[extra] @ git+https://example.org/repo'" in setup
    assert "sys.argv = ['demo.py', '--quick', '--steps', '3']" in setup
    assert "__file__ = importlib.util.find_spec('pkg.sub.demo').origin" in setup
    notes = "".join(text for kind, text in found if kind == "markdown")
    assert "(https://site.example/sub/index.html#top)" in notes and "(https://site.example/sub/plot.svg)" in notes
    assert "(https://example.org/x)" in notes
    assert [text for kind, text in cells("x = 1\n") if kind == "code"] == ["x = 1"]  # nothing to set up


def test_the_set_up_cell_runs_and_skips_an_installed_distribution(monkeypatch):
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran for an installed distribution"))
    setup = notebook.setup_code("pytest>=1", "demo.py", "--quick", runs_main=True)
    exec(compile(setup, "<cell>", "exec"), {})
    assert sys.argv == ["demo.py", "--quick"]


def test_script_download_names_its_install_after_shebang_and_coding():
    line = b"# To run this file, first install the code it imports:  pip install 'a @ git+https://h/r'\n"
    assert notebook.script_bytes(b"x = 1\n", "a @ git+https://h/r") == line + b"x = 1\n"
    assert notebook.script_bytes(b"#!/usr/bin/env python\nx\n", "a @ git+https://h/r") == (
        b"#!/usr/bin/env python\n" + line + b"x\n"
    )
    coded = b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nx\n"
    assert notebook.script_bytes(coded, "a @ git+https://h/r").split(b"\n")[2] == line.rstrip(b"\n")
    assert notebook.script_bytes(b"x\n", "") == b"x\n"


def test_blocks_read_in_jupyter_and_keep_their_lines():
    source = textwrap.dedent(
        '''
        """
        # Page

        :::: exercise The first step
        Show that $|\\Delta_1| = \\alpha$.

        ::: answer
        It is $\\alpha$.
        :::
        ::::
        """

        x = 1
        '''
    )
    markdown = "\n".join(text for kind, text in cells(source) if kind == "markdown")
    assert "**Exercise: The first step**" in markdown
    assert '<details class="exercise-answer"><summary>Answer</summary>' in markdown
    # The answer's Markdown is separated from the HTML by blank lines, so Jupyter renders it.
    assert "<!-- ::: answer -->\n\nIt is $\\alpha$.\n\n</details>" in markdown
    for fence in (":::: exercise The first step", "::: answer", ":::", "::::"):
        assert f"<!-- {fence} -->" in markdown
