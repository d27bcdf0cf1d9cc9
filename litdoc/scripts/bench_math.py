"""Math conversion throughput: TeX expressions -> MathML with Temml, per JavaScript engine.

    python litdoc/scripts/bench_math.py [SOURCE_DIR ...] [--extra 3000] [--repeats 5]

The expressions are every formula in the notes of the `.py` and `.md` files under SOURCE_DIR
(default: this repository's `labml_nn`), plus `--extra` generated ones (sums, fractions, matrices,
environments built from the site's own symbols), so the figure is not a cache-warm microbenchmark of
a dozen formulas. Each engine converts every expression once per run (no memoising); engines are
interleaved run by run, each run in a fresh process (as a build worker starts one engine), and the
median is reported, with the machine.

Engines: `mini-racer` (V8; what litdoc uses) and, when installed, `quickjs` (what litdoc used
before 0.2; kept here only as the baseline).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from litdoc.delimiters import Delimiters, math_spans
from litdoc.math_assets import temml_js
from litdoc.mathengine import TEMML_CALL as _TEMML_CALL
from litdoc.pages import markdown_module
from litdoc.parse import parse_module


def site_expressions(folders):
    found = []
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix not in (".py", ".md"):
                continue
            text = path.read_text(encoding="utf-8")
            module = parse_module(text, str(path)) if path.suffix == ".py" else markdown_module(text, str(path))
            for section in module.sections:
                delimiters = Delimiters(section.docs)
                for start, _ in math_spans(section.docs):
                    end, body, close, display = delimiters.span_at(start)
                    found.append((section.docs[body:close], display))
    return found


def generated_expressions(count, seed=0):
    rng = random.Random(seed)
    symbols = ["x", "\\theta_t", "m_t", "v_t", "\\hat{m}_t", "\\beta_1^t", "g_{t,i}", "\\epsilon", "\\alpha", "W_{ij}"]
    ops = ["+", "-", "\\cdot", "\\odot", "="]

    def term(depth=0):
        choice = rng.randrange(6 if depth < 3 else 2)
        a = rng.choice(symbols)
        if choice == 2:
            return f"\\frac{{{term(depth + 1)}}}{{{term(depth + 1)}}}"
        if choice == 3:
            return f"\\sqrt{{{term(depth + 1)}}}"
        if choice == 4:
            return f"\\sum_{{i=1}}^{{n}} {term(depth + 1)}"
        if choice == 5:
            return f"\\left( {term(depth + 1)} {rng.choice(ops)} {term(depth + 1)} \\right)"
        return a

    out = []
    for index in range(count):
        if index % 10 == 0:
            rows = " \\\\\n".join(f"{term()} &= {term()}" for _ in range(rng.randint(2, 4)))
            out.append((f"\\begin{{align}}\n{rows}\n\\end{{align}}", True))
        else:
            out.append(
                (" ".join(f"{term()} {rng.choice(ops)}" for _ in range(rng.randint(1, 4))) + " 0", index % 3 == 0)
            )
    return out


class MiniRacerEngine:
    name = "mini-racer"

    def __init__(self):
        from py_mini_racer import MiniRacer

        self.context = MiniRacer()
        self.context.eval(temml_js())
        self.context.eval(_TEMML_CALL)
        self.call = self.context.eval("litdocTemml")

    def render(self, tex, display):
        return self.call(tex, display)

    def close(self):
        self.context.close()


class QuickJSEngine:
    name = "quickjs"

    def __init__(self):
        import quickjs

        self.context = quickjs.Context()
        self.context.eval(temml_js())
        self.context.eval(_TEMML_CALL)
        self.call = self.context.get("litdocTemml")

    def render(self, tex, display):
        return self.call(tex, display)

    def close(self):
        pass


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}"


ENGINES = {"mini-racer": MiniRacerEngine, "quickjs": QuickJSEngine}


def one_run(name, folders, extra):
    """Child process: start one engine, convert every expression once, print seconds and errors."""
    expressions = site_expressions(folders) + generated_expressions(extra)
    started = time.perf_counter()
    engine = ENGINES[name]()
    startup = time.perf_counter() - started
    started = time.perf_counter()
    results = [engine.render(tex, display) for tex, display in expressions]
    took = time.perf_counter() - started
    errors = sum(1 for r in results if r.startswith("error:"))
    digest = hashlib.sha256("\0".join(results).encode()).hexdigest()[:16]
    engine.close()
    print(
        json.dumps({"seconds": took, "startup": startup, "count": len(expressions), "errors": errors, "digest": digest})
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", default=[str(Path(__file__).resolve().parents[2] / "labml_nn")])
    parser.add_argument("--extra", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one-run", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_run:
        one_run(args.one_run, args.folders, args.extra)
        return 0
    # Each run is a fresh process (one engine per process, as in a build worker), engines interleaved.
    available = [name for name in ENGINES if importlib.util.find_spec({"mini-racer": "py_mini_racer"}.get(name, name))]
    print(f"machine: {machine()}")
    runs = {name: [] for name in available}
    for _ in range(args.repeats):
        for name in available:
            out = subprocess.run(
                [sys.executable, __file__, "--one-run", name, "--extra", str(args.extra), *args.folders],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = runs[available[0]][0]
    print(
        f"expressions: {first['count']} ({first['count'] - args.extra} from {', '.join(args.folders)}, {args.extra} generated)"
    )
    baseline = statistics.median(r["seconds"] for r in runs[available[-1]])
    for name in available:
        median = statistics.median(r["seconds"] for r in runs[name])
        startup = statistics.median(r["startup"] for r in runs[name])
        print(
            f"{name:>10}: {first['count'] / median:8.0f} expressions/s (median of {args.repeats}: {median:.3f} s; "
            f"start-up {1000 * startup:.0f} ms; {baseline / median:.2f}x {available[-1]}; {runs[name][0]['errors']} TeX errors)"
        )
    if len(available) == 2:
        print("identical MathML from both engines:", runs[available[0]][0]["digest"] == runs[available[1]][0]["digest"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
