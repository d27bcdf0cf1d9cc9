"""Where a litdoc build's time goes: one cold build with one process, each second given to one stage.

The corpus is copied as `bench_build.py --corpus` copies it. One build fills the project's cache
folder; then, for each of `--runs` runs, the output folder is emptied (and with `--fresh` the cache
folder too, as in a fresh clone) and the build runs again in this process with `-j 1`, its stages
timed. A stage is a set of litdoc's functions; time spent in a stage's function counts for that stage
only (a formula converted while the notes render is math, not markup), and what no stage claims is
"other" (startup, the scan of the tree, planning, templates' data). The stages:

    parse      reading the source: tokens, AST, sections (litdoc.parse)
    anchors    the notes parsed as Markdown for headings, anchors and plain text (litdoc.anchors)
    markup     the notes rendered to HTML, links rewritten (litdoc.markup, litdoc.links)
    math       TeX to MathML in V8 (Temml), and the characters each page's math uses
    highlight  the code column (litdoc.pylex, then lines and links)
    xref       go to definition: the pass over every source's names, and each page's links
    notebook   the .ipynb and .py beside each page
    template   the page's HTML from the theme's Jinja templates
    search     each page's index rows and the index files
    font       the math font cut to the site's characters
    writing    files written, hashed, fsynced; the manifest and cache

    .venv/bin/python scripts/profile_build.py --corpus FOLDER [--runs 3] [--fresh] [--json FILE]

Each stage's seconds are the median over the runs. Timing adds a few microseconds per call, so the
total is a little above an untimed build's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_build import copy_corpus
from machine import cpu_model

# stage -> (module, qualified name) of the functions it owns
STAGES: dict[str, list[tuple[str, str]]] = {
    "parse": [("litdoc.parse", "parse_module")],
    "anchors": [("litdoc.anchors", "analyse_sections")],
    "markup": [("litdoc.markup", "MarkupRenderer.render"), ("litdoc.links", "rewrite_links")],
    "math": [
        ("litdoc.mathengine", "MathML.prepare"),
        ("litdoc.mathengine", "MathML.render"),
        ("litdoc.mathengine", "MathML.glyphs"),
    ],
    "highlight": [("litdoc.highlight", "highlight_sections")],
    "xref": [("litdoc.build", "_Build._site_names"), ("litdoc.pages", "PageRenderer._code_links")],
    "notebook": [("litdoc.emitters", "NotebookEmitter.emit"), ("litdoc.emitters", "ScriptEmitter.emit")],
    "template": [("litdoc.templating", "Theme.render")],
    "search": [("litdoc.search", "page_entry"), ("litdoc.search", "index_files")],
    "font": [("litdoc.fontsubset", "subset_font")],
    "writing": [("litdoc.store", "Store.write"), ("litdoc.store", "Store.commit"), ("litdoc.store", "Store.refusal")],
}


class Clock:
    """Exclusive time per stage: entering a stage's function pauses the stage it was called from."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.stack: list[tuple[str, float]] = []

    def wrap(self, stage: str, function):
        clock = self

        def timed(*args, **kwargs):
            now = time.perf_counter()
            if clock.stack:
                outer, since = clock.stack[-1]
                clock.seconds[outer] += now - since
            clock.stack.append((stage, now))
            try:
                return function(*args, **kwargs)
            finally:
                now = time.perf_counter()
                _, since = clock.stack.pop()
                clock.seconds[stage] += now - since
                if clock.stack:
                    clock.stack[-1] = (clock.stack[-1][0], now)

        timed.__wrapped__ = function  # type: ignore[attr-defined]
        return timed


def install(clock: Clock) -> list[tuple[object, str, object]]:
    """Wrap every stage function where litdoc's modules hold it; returns what to restore."""
    import importlib

    restore = []
    for stage, functions in STAGES.items():
        for module_name, qualified in functions:
            module = importlib.import_module(module_name)
            owner: object = module
            *outer, name = qualified.split(".")
            for part in outer:
                owner = getattr(owner, part)
            original = getattr(owner, name)
            wrapped = clock.wrap(stage, original)
            restore.append((owner, name, original))
            setattr(owner, name, wrapped)
            if not outer:  # a function other modules imported by name: theirs too
                for other in list(sys.modules.values()):
                    if getattr(other, "__name__", "").startswith("litdoc") and getattr(other, name, None) is original:
                        restore.append((other, name, original))
                        setattr(other, name, wrapped)
    return restore


def profile_once(project: Path, fresh: bool) -> tuple[float, dict[str, float], str]:
    from litdoc.build import BuildOptions, build_site
    from litdoc.config import load_config

    shutil.rmtree(project / "site", ignore_errors=True)
    if fresh:
        shutil.rmtree(project / ".litdoc-cache", ignore_errors=True)
    clock = Clock()
    restore = install(clock)
    try:
        started = time.perf_counter()
        report = build_site(load_config(project, {}), BuildOptions(jobs=1, progress=False), stream=io.StringIO())
        total = time.perf_counter() - started
    finally:
        for owner, name, original in reversed(restore):
            setattr(owner, name, original)
    summary = f"{len(report.built)} pages built, {len(report.failed)} failed"
    return total, clock.seconds, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="a folder of Python sources (see bench_build.py)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="empty the cache folder too before each run")
    parser.add_argument("--json", default="", help="also write every run's stages, the machine and the load here")
    args = parser.parse_args()

    from litdoc.build import BuildOptions, build_site
    from litdoc.config import load_config

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="litdoc-profile-") as temporary:
        corpus = copy_corpus(Path(temporary), Path(args.corpus).resolve())
        build_site(load_config(corpus.project, {}), BuildOptions(jobs=1, progress=False), stream=io.StringIO())
        runs = [profile_once(corpus.project, args.fresh) for _ in range(args.runs)]
    totals = [total for total, _, _ in runs]
    med = statistics.median
    stages = {stage: med(seconds[stage] for _, seconds, _ in runs) for stage in STAGES}
    total = med(totals)
    stages["other"] = max(0.0, total - sum(stages.values()))
    import litdoc

    print(
        f"corpus: {len(corpus.files)} files ({Path(args.corpus).resolve().name}), litdoc {litdoc.__version__} from "
        f"{Path(litdoc.__file__).parent}, -j 1, {'no cache folder' if args.fresh else 'cache folder kept'}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs ({cpu_model()}), load {load_before:.2f}"
    )
    print(f"  {runs[0][2]}; build seconds per run: {', '.join(f'{t:.2f}' for t in totals)}")
    for stage, seconds in sorted(stages.items(), key=lambda pair: -pair[1]):
        print(f"  {stage:10s} {seconds:6.2f} s  {seconds / total * 100:5.1f}%")
    print(f"  {'total':10s} {total:6.2f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "corpus": Path(args.corpus).resolve().name,
                    "files": len(corpus.files),
                    "fresh": args.fresh,
                    "python": sys.version.split()[0],
                    "cpus": os.cpu_count(),
                    "cpu": cpu_model(),
                    "load_before": round(load_before, 2),
                    "load_after": round(os.getloadavg()[0], 2),
                    "runs": [{"total": t, "stages": s} for t, s, _ in runs],
                    "median_seconds": {**stages, "total": total},
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
