"""A small annotated project on disk, and a way to run the `litdoc` command on it, for the site/build tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from litdoc.cli import main

PYPROJECT = """\
[tool.litdoc]
source = "src"
output = "site"
title = "Demo site"
base_url = "https://example.org/demo/"
repo_url = "https://git.example.org/demo/blob/main"
math = "mathml"
"""

HOME = '''\
"""
---
title: Demo home
summary: A tiny annotated package for litdoc's tests.
---

# Demo home

See [the model](pkg/model.py#section-1), [the package notes](pkg/README.md),
[the notes folder](notes/) and [the paper](https://arxiv.org/abs/1412.6980).
"""

VERSION = "1"
'''

MODEL = '''\
r"""
---
title: The model
summary: Squares with math.
---

# The model

We compute $y = x^2$ for every $x$, so that

\\begin{align}
y_i &= x_i^2 \\\\
\\sum_i y_i &= \\|x\\|_2^2
\\end{align}

![a figure](figure.svg)
"""

import math


class Square:
    """
    ## Square

    Returns $x^2$; see [the home page](../__init__.py).
    """

    def __call__(self, x: float) -> float:
        # Multiply $x$ by itself
        return x * x


def norm(values):
    # $\\sqrt{\\sum_i x_i^2}$
    return math.sqrt(sum(v * v for v in values))
'''

FILES: dict[str, str] = {
    "src/__init__.py": HOME,
    "src/pkg/__init__.py": '"""\n# The package\n\nIts [model](model.py).\n"""\n',
    "src/pkg/model.py": MODEL,
    "src/pkg/README.md": "# Package notes\n\nBack to [the model](model.py) and [home](../__init__.py).\n",
    "src/pkg/figure.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n',
    "src/notes/README.md": "# Notes\n\nRead [the model](../pkg/model.py#section-2) and [the figure](../pkg/figure.svg).\n",
    "src/plain/other.py": "# Just a comment\nX = 1\n",
}


def make_project(root: Path, files: dict[str, str] | None = None, pyproject: str = PYPROJECT) -> Path:
    """Write the demo project (plus or minus `files`; a value of None deletes) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    merged = dict(FILES)
    merged.update(files or {})
    for rel, text in merged.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`litdoc ARGS` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# A program that starts a thread, then runs litdoc's command line in the same process: its builds spawn
# their workers (`build.pool_start_method`), where `python -m litdoc` forks them.
WITH_A_THREAD = (
    "import sys, threading\n"
    "from litdoc import build, cli\n"
    "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
    "assert build.pool_start_method() == 'spawn'\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


def litdoc_command(spawn: bool = False) -> list[str]:
    """How to run litdoc's command line in a fresh interpreter: `python -m litdoc`, as a user runs it
    (a parallel build forks its workers on Linux), or with `spawn`, from a program that has started a
    thread, so that the pool spawns them."""
    return [sys.executable, "-c", WITH_A_THREAD] if spawn else [sys.executable, "-m", "litdoc"]


def run_subprocess(*args: str, cwd: Path | None = None, spawn: bool = False) -> subprocess.CompletedProcess:
    """`python -m litdoc ARGS` in a fresh interpreter, as a user would run it (`litdoc_command`)."""
    return subprocess.run([*litdoc_command(spawn), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def site_files(output: Path) -> dict[str, bytes]:
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in sorted(output.rglob("*")) if p.is_file()}


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def summary_counts(stderr: str) -> list[int]:
    """(built, unchanged, failed) from the summary line `litdoc: B pages built, U unchanged, F failed in S`."""
    line = [text for text in stderr.splitlines() if text.startswith("litdoc: ") and " pages built" in text][-1]
    words = line.replace(",", "").split()
    return [int(words[1]), int(words[4]), int(words[6])]


def python_lines_run(call: Callable[[], object]) -> int:
    """How many Python lines `call()` executes: a count of work that, unlike a time, is the same on a
    loaded machine, so a test of linear growth can compare two sizes without a benchmark's noise."""
    executed = 0

    def tracer(frame: object, event: str, arg: object) -> object:
        nonlocal executed
        executed += event == "line"
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return executed
