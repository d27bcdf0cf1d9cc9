"""Time and memory per MB of source: one generated file of 1-5 MB against an ordinary annotated page.

Issue 9 asks that a generated file cost, per MB of source, within 3x of what an ordinary page costs.
Each build runs in a fresh `python -m litdoc build -j1` process (as users run it), into a fresh output,
with no cache; its wall time and peak resident memory (ru_maxrss of the child) are measured. The
ordinary page is repeated (`--copies`) so that its fixed costs (interpreter, imports, the math engine's
start) are shared as they are in a site; the fixed cost itself is measured on an empty page and
subtracted from both, so that the ratio compares what each MB of source costs.

    python litdoc/scripts/bench_big_file.py [--sizes 1 5] [--ordinary labml_nn/optimizers/adam.py]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYPROJECT = '[tool.litdoc]\nsource = "src"\noutput = "site"\ncache = ""\n'


def generated(size: int) -> str:
    """A generated Python file of about `size` bytes: a header, then a long literal table of rows and
    a comment every thousand rows, as a code generator writes them."""
    lines = ['"""\n# Generated table\n\nRows of $(i, i^2)$ pairs, made by a script.\n"""\n', "TABLE = [\n"]
    total, i = sum(map(len, lines)), 0
    while total < size:
        line = f"    ({i}, {i * i}, {i * 0.5!r}, 'row-{i}'),\n"
        if i % 1000 == 0:
            line = f"    # rows from {i}\n" + line
        lines.append(line)
        total += len(line)
        i += 1
    lines.append("]\n")
    return "".join(lines)


def build(files: dict) -> tuple:
    """(seconds, peak RSS in bytes, HTML bytes) of one build of a project holding `files`."""
    with tempfile.TemporaryDirectory(prefix="litdoc-bench-") as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        for rel, text in files.items():
            (root / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "src" / rel).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "litdoc", "build", "-j1"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        err = process.stderr.read()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(err)
        html = sum(p.stat().st_size for p in (root / "site").rglob("*.html"))
        # ru_maxrss: kilobytes on Linux, bytes on macOS.
        peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return seconds, peak, html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5], help="generated file sizes in MB")
    parser.add_argument("--ordinary", type=Path, default=Path("labml_nn/optimizers/adam.py"))
    parser.add_argument("--copies", type=int, default=40, help="copies of the ordinary page in its site")
    args = parser.parse_args()
    ordinary = args.ordinary.read_text(encoding="utf-8")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}")
    # The fixed cost: a page with one formula, so that the math engine starts as it does for any page.
    base_t, base_m, _ = build({"empty.py": "# The square $x^2$\nX = 1\n"})
    print(f"fixed cost (a one-formula page): {base_t:.2f} s, peak {base_m / 2**20:.1f} MB")
    # Time: many copies, so the per-MB cost stands above the fixed cost's noise. Memory: one copy, since
    # pages are rendered one after another and the peak is that of the largest one.
    mb = len(ordinary.encode()) * args.copies / 2**20
    t, _, html = build({f"p{i}.py": ordinary for i in range(args.copies)})
    ordinary_t = (t - base_t) / mb
    _, m, _ = build({"p.py": ordinary})
    ordinary_m = max(m - base_m, 0) / (len(ordinary.encode()) / 2**20)
    print(
        f"ordinary: {args.copies} x {args.ordinary} = {mb:.2f} MB: {t:.2f} s, HTML {html / 2**20:.1f} MB -> "
        f"{ordinary_t:.1f} s/MB; one copy peaks at {m / 2**20:.1f} MB -> {ordinary_m / 2**20:.0f} MB/MB "
        "above the fixed cost"
    )
    for size in args.sizes:
        text = generated(int(size * 2**20))
        mb = len(text.encode()) / 2**20
        t, m, html = build({"table.py": text})
        per_t, per_m = (t - base_t) / mb, (m - base_m) / mb
        print(
            f"generated {mb:.1f} MB: {t:.2f} s, peak {m / 2**20:.0f} MB, HTML {html / 2**20:.1f} MB -> "
            f"{per_t:.1f} s/MB ({per_t / ordinary_t:.2f}x ordinary), {per_m / 2**20:.0f} MB/MB "
            f"({per_m / max(ordinary_m, 1):.2f}x ordinary)"
        )


if __name__ == "__main__":
    main()
