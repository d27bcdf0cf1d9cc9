"""Benchmark: litdoc's site build against pycco on a large real corpus, measured in the same run.

The corpus is every `.py` file of the installed `torch` package (or the first `--files` of them, in
sorted order) plus this repository's `labml_nn` pages, which are heavy on math, so the build renders
MathML the whole time. Four litdoc builds are timed, each as a fresh `python -m litdoc` process:

* fresh: a fresh clone's first build, with no output and no cache folder: it also reads every source's
  names for go to definition and cuts the math font;
* cold: into an empty output folder, the project's cache folder (`.litdoc-cache`) kept as a user's
  checkout keeps it (the names and the cut font are found there; no page is);
* no-op: again, with nothing changed;
* one touched file: after appending a line to one source file;

and two pycco runs over the same files, in one process as its command line runs it: the first is the
baseline, the second an A/A control (how far two runs of one program differ on the machine now).
pycco's own `process()` recurses once per file and dies of RecursionError after about a thousand files,
so the benchmark calls its per-file entry, `generate_documentation`, in a loop instead (the same work,
minus that bug), and skips the files pycco cannot read. Each figure is the median of `--runs` runs,
the builds interleaved run by run. The aims: cold <= 0.5x pycco's wall time, no-op < 0.05x, one file
< 0.3 s. `PYTHONPATH=<another checkout>/litdoc/src` measures another commit of litdoc; the JSON names
the commit that ran.

Both programs run from bytecode, as pip installs them: pip byte-compiles pycco's wheel at install, but an
editable litdoc (`make install`) has no `.pyc` until Python writes one, and never where
`PYTHONDONTWRITEBYTECODE` is set (then every process compiles litdoc's ~30 modules again, about 50 ms).
So the litdoc that runs is byte-compiled first (`compileall`, into its own `__pycache__` folders,
which git ignores); the JSON says so (`litdoc_bytecode`).

`--corpus FOLDER` uses another project's sources instead (every `.py` file under FOLDER, copied as
`src/<FOLDER's name>/...`): labml-nn's `labml_nn` folder (math on most pages), or a package folder of
requests, click, attrs, more-itertools or rich (code with docstrings; the aim there: cold <= 1.0x pycco
with `-j 1`). The file touched is then the corpus's first file in sorted order. `--json FILE` writes
every run's seconds, the medians, the ratios, the machine and the load to FILE.

    .venv/bin/python scripts/bench_build.py [--files N | --corpus FOLDER] [--runs 3] [--jobs 0] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = '[tool.litdoc]\nsource = "src"\noutput = "site"\ntitle = "torch, as litdoc pages"\nmath = "mathml"\n'


@dataclass(frozen=True)
class Corpus:
    project: Path
    files: list[Path]  # the copied sources, absolute

    @property
    def source(self) -> Path:
        return self.project / "src"


def copy_corpus(root: Path, folder: Path) -> Corpus:
    """Copy every .py file under `folder` into `root/src/<folder's name>`, keeping its sub-folders."""
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.replace("torch, as", f"{folder.name}, as"), encoding="utf-8")
    copied = []
    for source in sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts):
        target = project / "src" / folder.name / source.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    return Corpus(project, copied)


def make_corpus(root: Path, limit: int | None) -> Corpus:
    """Copy torch's .py files (and labml_nn's) into `root/src`, keeping their folders."""
    import torch  # only its location: the benchmark never runs torch code

    torch_dir = Path(torch.__file__).resolve().parent
    torch_files = sorted(p for p in torch_dir.rglob("*.py") if "__pycache__" not in p.parts)
    if limit:
        torch_files = torch_files[:limit]
    pairs = [(p, Path("torch") / p.relative_to(torch_dir)) for p in torch_files]
    labml = REPO / "labml_nn"
    pairs += [
        (p, Path("labml_nn") / p.relative_to(labml))
        for p in sorted(labml.rglob("*.py"))
        if "__pycache__" not in p.parts
    ]
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    copied = []
    for source, rel in pairs:
        target = project / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    return Corpus(project, copied)


# pycco's `process()` minus its recursion: the file list comes on stdin, the page count goes to stdout.
PYCCO_RUNNER = """
import os, sys
from pycco.main import destination, generate_documentation, pycco_css
outdir = sys.argv[1]
os.makedirs(outdir, exist_ok=True)
with open(os.path.join(outdir, "pycco.css"), "w", encoding="utf8") as css:
    css.write(pycco_css)
written = failed = 0
for source in sys.stdin.read().split("\\n"):
    if not source:
        continue
    target = destination(source, preserve_paths=True, outdir=outdir)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        html = generate_documentation(source, preserve_paths=True, outdir=outdir, encoding="utf8")
    except (ValueError, UnicodeDecodeError, RecursionError):
        failed += 1
        continue
    with open(target, "wb") as handle:
        handle.write(html)
    written += 1
print(written, failed)
"""


def timed(command: list[str], cwd: Path, stdin: str | None = None) -> (float, str):
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, input=stdin)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):  # 1: some pages failed, which the summary line reports
        raise SystemExit(f"{' '.join(command[:3])} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return seconds, result.stderr + result.stdout


def litdoc_build(corpus: Corpus, jobs: int) -> (float, str):
    seconds, stderr = timed([sys.executable, "-m", "litdoc", "build", "-j", str(jobs)], corpus.project)
    summary = [line for line in stderr.splitlines() if line.startswith("litdoc: ")]
    return seconds, summary[-1] if summary else stderr[-500:]


def pycco_build(corpus: Corpus, output: Path) -> (float, str):
    shutil.rmtree(output, ignore_errors=True)
    relative = "\n".join(str(p.relative_to(corpus.project)) for p in corpus.files)
    seconds, out = timed([sys.executable, "-c", PYCCO_RUNNER, str(output)], corpus.project, stdin=relative)
    written, failed = out.split()[-2:]
    return seconds, f"pycco: {written} pages written, {failed} failed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=0, help="use the first N torch files (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--jobs", type=int, default=0, help="litdoc worker processes (default: one per CPU)")
    parser.add_argument("--corpus", default="", help="a folder of Python sources to use instead of torch + labml_nn")
    parser.add_argument("--json", default="", help="also write the runs, medians, machine and load to this file")
    args = parser.parse_args()

    compiled = _byte_compile_litdoc()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="litdoc-bench-") as temporary:
        if args.corpus:
            corpus = copy_corpus(Path(temporary), Path(args.corpus).resolve())
            touched = corpus.files[0]
            described = f"{Path(args.corpus).resolve().name} ({args.corpus})"
        else:
            corpus = make_corpus(Path(temporary), args.files or None)
            touched = corpus.source / "labml_nn" / "optimizers" / "adam.py"
            described = f"{args.files or 'all'} torch files + labml_nn"
        output = corpus.project / "site"
        cold, fresh, noop, one, pycco, control = [], [], [], [], [], []
        summaries = []
        for run in range(args.runs):
            # A fresh clone's build: no output, no cache folder (the names pass and the font cut included).
            shutil.rmtree(output, ignore_errors=True)
            shutil.rmtree(corpus.project / ".litdoc-cache", ignore_errors=True)
            fresh.append(litdoc_build(corpus, args.jobs)[0])
            # Cold: the output folder emptied, the cache folder kept as a checkout keeps it.
            shutil.rmtree(output, ignore_errors=True)
            seconds, summary = litdoc_build(corpus, args.jobs)
            cold.append(seconds)
            summaries.append(summary)
            noop.append(litdoc_build(corpus, args.jobs)[0])
            with touched.open("a", encoding="utf-8") as handle:
                handle.write(f"\n# touched by the benchmark, run {run}\n")
            seconds, summary = litdoc_build(corpus, args.jobs)
            one.append(seconds)
            summaries.append(summary)
            seconds, summary = pycco_build(corpus, Path(temporary) / "pycco")
            pycco.append(seconds)
            summaries.append(summary)
            # The A/A control: pycco again, timed as the baseline is; its ratio to the first says how far
            # two runs of one program differ on this machine now.
            control.append(pycco_build(corpus, Path(temporary) / "pycco")[0])

    pages = len(corpus.files)
    med = statistics.median
    load_after = os.getloadavg()[0]
    print(
        f"corpus: {pages} files ({described}), {os.cpu_count()} CPUs ({cpu_model()}), "
        f"litdoc -j {args.jobs or os.cpu_count()}, math = mathml, medians of {args.runs} runs"
    )
    # Other work on the machine skews a parallel build more than pycco's single process: say how busy it was.
    print(f"load average before / after: {load_before:.2f} / {load_after:.2f}")
    for run in range(args.runs):
        print(
            f"  run {run + 1}: pycco {pycco[run]:.2f} s (again: {control[run] / pycco[run]:.3f}x), "
            f"litdoc fresh {fresh[run]:.2f} s ({fresh[run] / pycco[run]:.3f}x), cold {cold[run]:.2f} s "
            f"({cold[run] / pycco[run]:.3f}x), no-op {noop[run]:.2f} s, one file {one[run]:.2f} s"
        )
    for summary in summaries[:3]:
        print(f"  {summary}")
    print(f"pycco cold build        {med(pycco):8.2f} s  {pages / med(pycco):7.1f} pages/s")
    print(f"pycco again (A/A)       {med(control):8.2f} s  {'':16} {med(control) / med(pycco):.3f}x pycco")
    print(
        f"litdoc fresh clone      {med(fresh):8.2f} s  {pages / med(fresh):7.1f} pages/s  "
        f"{med(fresh) / med(pycco):.3f}x pycco (no cache folder)"
    )
    print(
        f"litdoc cold build       {med(cold):8.2f} s  {pages / med(cold):7.1f} pages/s  "
        f"{med(cold) / med(pycco):.3f}x pycco (aim <= 0.5)"
    )
    print(f"litdoc no-op rebuild    {med(noop):8.2f} s  {'':16} {med(noop) / med(pycco):.3f}x pycco (aim < 0.05)")
    print(f"litdoc one file touched {med(one):8.2f} s  {'':16} (aim < 0.3 s)")
    if args.json:
        record = {
            "corpus": described,
            "files": pages,
            "jobs": args.jobs or os.cpu_count(),
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "python": sys.version.split()[0],
            "litdoc_commit": _commit(),
            "litdoc_bytecode": compiled,
            "load_before": round(load_before, 2),
            "load_after": round(load_after, 2),
            "seconds": {
                "pycco": pycco,
                "pycco_again": control,
                "litdoc_fresh": fresh,
                "litdoc_cold": cold,
                "litdoc_noop": noop,
                "litdoc_one_file": one,
            },
            "median_seconds": {
                "pycco": med(pycco),
                "pycco_again": med(control),
                "litdoc_fresh": med(fresh),
                "litdoc_cold": med(cold),
                "litdoc_noop": med(noop),
                "litdoc_one_file": med(one),
            },
            "control_over_pycco": med(control) / med(pycco),
            "fresh_over_pycco": med(fresh) / med(pycco),
            "cold_over_pycco": med(cold) / med(pycco),
            "noop_over_pycco": med(noop) / med(pycco),
            "summaries": summaries[:3],
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


def _litdoc_folder() -> str:
    """Where the `litdoc` that `python -m litdoc` runs lives (PYTHONPATH may name another checkout)."""
    return subprocess.run(
        [sys.executable, "-c", "import litdoc, os; print(os.path.dirname(litdoc.__file__))"],
        capture_output=True,
        text=True,
    ).stdout.strip()


def _byte_compile_litdoc() -> bool:
    """Byte-compile the litdoc that runs, as pip does at install; True when every module compiled."""
    import compileall

    return bool(compileall.compile_dir(_litdoc_folder(), quiet=1))


def _commit() -> str:
    """The commit of the litdoc the builds ran (`python -m litdoc` as they run it: PYTHONPATH may point at
    another checkout, to measure an older commit), with `+` when its working tree differs from it."""
    try:
        where = _litdoc_folder()
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True).stdout
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=where, capture_output=True, text=True
        ).stdout
    except OSError:
        return ""
    return head.strip() + ("+" if dirty.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
