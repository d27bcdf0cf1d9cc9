"""Markdown tables of a GPU check, from the JSON files that `scripts/gpu_check.sh` writes.

    python scripts/gpu_tables.py render OUT            # every table, from OUT/gpu_check.json and the benchmarks' JSON
    python scripts/gpu_tables.py render OUT --brief    # the few lines gpu_check.sh prints at its end
    python scripts/gpu_tables.py collect OUT --mode gpu   # (run by gpu_check.sh) the steps' results -> OUT/gpu_check.json

`collect` reads what the steps left in OUT/logs/ (steps.tsv: one line per step with its exit status and seconds;
tests.xml: pytest's JUnit report; the examples' logs) and asks torch for the versions. `render` needs only the
standard library and the JSON files, so the tables can be drawn again anywhere from a run's files:
OUT/gpu_check.json, OUT/bench_optimizers.json (`bench_optimizers.py --json`) and OUT/bench_training.json
(`bench_training.py --json`). A missing file (its step failed or was skipped) gives a line saying so, not an error.

A dry run (`gpu_check.sh --dry-run`, or a machine without CUDA) ran every step on the CPU at a tiny size. Its
tables start with the marker below, and so do the tables of any benchmark JSON measured on a CPU: those numbers
are no GPU result and must not be copied into a page as one.
"""

import argparse
import datetime
import json
import platform
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

MARKER = "NOT A GPU RESULT (dry run on CPU)"
BASELINE = "torch fused=True"
CONTROL = "control: fused=True again"
STEPS = ("tests", "bench_optimizers", "bench_training", "train_example", "experiment")


# ## Collect


def step_status(code: Optional[int]) -> str:
    """`timeout` exits 124 when the limit passed, 137 when it had to kill the command."""
    if code is None:
        return "skipped"
    return "ok" if code == 0 else "timed out" if code in (124, 137) else "failed"


def read_steps(path: Path) -> dict[str, dict]:
    """steps.tsv: name, status (an exit code, or `skipped`), seconds, time limit, note."""
    steps = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, status, seconds, limit, note = (line.split("\t") + [""] * 5)[:5]
            code = None if status == "skipped" else int(status)
            steps[name] = {
                "status": step_status(code),
                "exit_code": code,
                "seconds": int(seconds or 0),
                "limit": int(limit or 0),
                "note": note,
            }
    return steps


def read_junit(path: Path) -> Optional[dict]:
    """Counts from pytest's JUnit XML, overall and for the CUDA cases (test ids that name `cuda`)."""
    if not path.exists():
        return None
    counts = dict(passed=0, failed=0, errors=0, skipped=0)
    cuda = dict(passed=0, failed=0, errors=0, skipped=0)
    failed_ids = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag == "failure":
                outcome = "failed"
            elif child.tag == "error":
                outcome = "errors"
            elif child.tag == "skipped":
                outcome = "skipped"
        counts[outcome] += 1
        name = case.get("name", "")
        if "cuda" in name.lower():
            cuda[outcome] += 1
        if outcome in ("failed", "errors"):
            failed_ids.append(f"{case.get('classname', '')}::{name}")
    return dict(counts, cuda=cuda, failed_ids=failed_ids[:20])


def last_lines(path: Path, keep=lambda line: True, count: int = 1) -> list[str]:
    if not path.exists():
        return []
    lines = [line.rstrip() for line in path.read_text(errors="replace").splitlines() if line.strip() and keep(line)]
    return lines[-count:]


def environment() -> dict:
    """The versions and the device, from this interpreter's torch and (where present) nvidia-smi and git."""
    env: dict = {
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.version.cuda
        env["cuda_available"] = torch.cuda.is_available()
        env["device"] = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    except ImportError:
        env.update(torch=None, cuda=None, cuda_available=False, device="unknown")
    for key, command in (
        ("driver", ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]),
        ("commit", ["git", "rev-parse", "--short", "HEAD"]),
    ):
        try:
            env[key] = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            env[key] = None
    return env


def collect(out: Path, mode: str, reason: str, missing: list[str]) -> dict:
    logs = out / "logs"
    dry_run = mode != "gpu"
    report = {
        "dry_run": dry_run,
        "gpu_result": not dry_run,
        "marker": MARKER if dry_run else None,
        "reason": reason,
        "missing_packages": missing,
        "environment": environment(),
        "steps": read_steps(logs / "steps.tsv"),
        "tests": read_junit(logs / "tests.xml"),
        "tests_summary": (
            last_lines(logs / "tests.log", lambda line: " in " in line and ("passed" in line or "failed" in line))
            or [None]
        )[0],
        "examples": {
            "train_example": last_lines(logs / "train_example.log", lambda line: line.startswith(("step", "done")), 2),
            "experiment": last_lines(logs / "experiment.log", lambda line: line.startswith("|"), 40)
            + last_lines(logs / "experiment.log"),
        },
    }
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


# ## Render


def load(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def ms(seconds: Optional[float]) -> str:
    return "" if seconds is None else f"{seconds * 1e3:.3f}"


def headline_step(bench: dict) -> Optional[dict]:
    """FusedAdam on the case with the most parameters (the fewest tensors among equals), against the triad's floor.

    The floor is the time the step's 28 bytes per parameter take at the STREAM triad's bandwidth; `fraction` is
    floor / step time, the share of that bandwidth the step reaches (1.0: the step moves its bytes at triad speed).
    """
    rows = [r for r in bench.get("results", []) if "FusedAdam" in r["times"] and "stream_floor" in r]
    if not rows:
        return None
    r = max(rows, key=lambda r: (r["params"], -r["tensors"]))
    step, base = r["times"]["FusedAdam"], r["times"].get(BASELINE)
    return {
        "case": r["case"],
        "params": r["params"],
        "tensors": r["tensors"],
        "step": step,
        "baseline": base,
        "ratio": step / base if base else None,
        "floor": r["stream_floor"],
        "fraction": r["stream_floor"] / step,
    }


def is_cpu_result(report: Optional[dict], optimizers: Optional[dict], training: Optional[dict]) -> bool:
    if report is not None:
        return bool(report.get("dry_run")) or not report.get("gpu_result", False)
    devices = [b.get("args", {}).get("device") for b in (optimizers, training) if b]
    return any(d != "cuda" for d in devices)


def render(out: Path, brief: bool = False) -> str:
    report = load(out / "gpu_check.json")
    optimizers = load(out / "bench_optimizers.json")
    training = load(out / "bench_training.json")
    cpu = is_cpu_result(report, optimizers, training)
    return (render_brief if brief else render_tables)(report, optimizers, training, cpu)


def marker_line(report: Optional[dict], cpu: bool) -> list[str]:
    if not cpu:
        return []
    reason = (report or {}).get("reason") or "the benchmark JSON says device cpu"
    return [f"**{MARKER}**: {reason}. These numbers check that the scripts run; they measure no GPU.", ""]


def render_tables(report, optimizers, training, cpu: bool) -> str:
    lines = ["# GPU check", ""] + marker_line(report, cpu)
    if report:
        env = report["environment"]
        lines += ["| | |", "|---|---|"]
        for label, key in (
            ("device", "device"),
            ("torch", "torch"),
            ("CUDA", "cuda"),
            ("driver", "driver"),
            ("Python", "python"),
            ("date (UTC)", "date"),
            ("commit", "commit"),
        ):
            lines.append(f"| {label} | {env.get(key) or 'n/a'} |")
        if report.get("missing_packages"):
            lines.append(f"| missing packages | {', '.join(report['missing_packages'])} |")
        lines += ["", "## Steps", "", "| step | status | seconds | limit | note |", "|---|---|---:|---:|---|"]
        for name, s in report["steps"].items():
            status = s["status"] + (f" (exit {s['exit_code']})" if s["status"] in ("failed", "timed out") else "")
            lines.append(f"| {name} | {status} | {s['seconds']} | {s['limit']} | {s['note']} |")
        lines += ["", "## Tests: `pytest tests/optimizers`", ""]
        t = report.get("tests")
        if report["steps"].get("tests", {}).get("status") == "timed out":
            lines += ["Partial counts: the tests were stopped at their time limit.", ""]
        if t:
            c = t["cuda"]
            lines += [
                "| passed | failed | errors | skipped | CUDA cases passed | CUDA cases failed | CUDA cases skipped |",
                "|---:|---:|---:|---:|---:|---:|---:|",
                f"| {t['passed']} | {t['failed']} | {t['errors']} | {t['skipped']} | {c['passed']} | "
                f"{c['failed'] + c['errors']} | {c['skipped']} |",
            ]
            lines += [f"- failed: `{name}`" for name in t["failed_ids"]]
        else:
            lines.append("No test report (the step failed before pytest wrote one, or was skipped).")
    else:
        lines += ["No gpu_check.json: only the benchmarks' files are rendered."]

    lines += ["", "## Memory bandwidth and one Adam step: `bench_optimizers.py`", ""]
    if optimizers:
        stream = optimizers["stream"]
        lines += [
            "| device | copy GB/s | triad GB/s | array | Adam floor, 28 B/param at triad |",
            "|---|---:|---:|---:|---|",
            f"| {stream['device']} | {stream['copy'] / 1e9:.1f} | {stream['triad'] / 1e9:.1f} | "
            f"{stream['elements'] * 4 / 2**20:.0f} MiB | {28 / stream['triad'] * 1e12:.2f} ms per 1e9 parameters |",
            "",
            f"Median step time in ms; {optimizers['args']['steps']} steps per optimizer, interleaved. "
            "floor = the time 28 bytes per parameter take at the triad bandwidth; floor / time = the share of "
            "that bandwidth FusedAdam's step reaches.",
            "",
            f"| case | params | tensors | {BASELINE} | FusedAdam | FusedAdam / {BASELINE} | floor | floor / time |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in optimizers["results"]:
            fused, base = r["times"].get("FusedAdam"), r["times"].get(BASELINE)
            ratio = f"{fused / base:.2f}x" if fused and base else ""
            frac = f"{r['stream_floor'] / fused:.2f}" if fused and "stream_floor" in r else ""
            lines.append(
                f"| {r['case']} | {r['params'] / 1e6:.2f}M | {r['tensors']} | {ms(base)} | {ms(fused)} | {ratio} | "
                f"{ms(r.get('stream_floor'))} | {frac} |"
            )
        first = ", ".join(f"{t:.1f}" for t in optimizers.get("compile_times", []))
        lines += ["", f"FusedAdam's first step (buffers and torch.compile), s, per model: {first}"]
    else:
        lines.append("No bench_optimizers.json (the step failed or was skipped).")

    lines += ["", "## The training loop: `bench_training.py`", ""]
    if training:
        names = list(training["results"][0]["times"]) if training["results"] else []
        lines += [
            f"Median ms per iteration (zero_grad, forward, backward, step); (ratio of the medians to {BASELINE}; "
            "median of the paired ratios). The control is fused=True again.",
            "",
            "| model | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        for r in training["results"]:
            base = r["times"][BASELINE]["total"]
            cells = [
                f"{t['total'] * 1e3:.2f} ({t['total'] / base:.2f}; {t.get('paired', float('nan')):.2f})"
                for t in r["times"].values()
            ]
            lines.append(f"| {r['model']}: {r['params'] / 1e6:.2f}M in {r['tensors']} | " + " | ".join(cells) + " |")
    else:
        lines.append("No bench_training.json (the step failed or was skipped).")

    if report:
        lines += ["", "## Examples", ""]
        for name, example in report["examples"].items():
            lines.append(f"`{name}`:" if example else f"`{name}`: no output")
            if example:
                lines += ["", "```"] + example + ["```", ""]
    if cpu:
        lines += ["", f"**{MARKER}**"]
    return "\n".join(lines).rstrip() + "\n"


def render_brief(report, optimizers, training, cpu: bool) -> str:
    lines = []
    if report:
        env = report["environment"]
        lines.append(
            f"GPU check on {env.get('device')}: torch {env.get('torch')}, CUDA {env.get('cuda')}, {env.get('date')}"
        )
    if cpu:
        lines.append(f"{MARKER}: {(report or {}).get('reason', 'measured on a CPU')}")
    if report:
        lines.append(
            "steps: "
            + "; ".join(
                f"{n} skipped ({s['note']})" if s["status"] == "skipped" else f"{n} {s['status']} {s['seconds']}s"
                for n, s in report["steps"].items()
            )
        )
        t = report.get("tests")
        if t:
            c = t["cuda"]
            lines.append(
                f"tests: {t['passed']} passed, {t['failed']} failed, {t['errors']} errors, {t['skipped']} skipped; "
                f"CUDA cases: {c['passed']} passed, {c['failed'] + c['errors']} failed, {c['skipped']} skipped"
                + (
                    " (partial: stopped at the time limit)"
                    if report["steps"].get("tests", {}).get("status") == "timed out"
                    else ""
                )
            )
        else:
            lines.append("tests: no report")
    if optimizers:
        s = optimizers["stream"]
        lines.append(f"bandwidth: copy {s['copy'] / 1e9:.1f} GB/s, triad {s['triad'] / 1e9:.1f} GB/s")
        h = headline_step(optimizers)
        if h:
            vs = f", {h['ratio']:.2f}x {BASELINE}" if h["ratio"] else ""
            lines.append(
                f"FusedAdam step on {h['case']}: {ms(h['step'])} ms{vs}; the triad bandwidth allows {ms(h['floor'])} ms: "
                f"floor / time = {h['fraction']:.2f}"
            )
    else:
        lines.append("bench_optimizers: no JSON")
    if training:
        ratios = [
            f"{r['model']} {r['times']['FusedAdam']['total'] / r['times'][BASELINE]['total']:.2f}x"
            for r in training["results"]
            if "FusedAdam" in r["times"]
        ]
        lines.append(f"training loop, FusedAdam / {BASELINE}: " + ", ".join(ratios))
    else:
        lines.append("bench_training: no JSON")
    if report:
        for name, example in report["examples"].items():
            lines.append(f"{name}: " + (" | ".join(example[-2:]) if example else "no output"))
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("render", help="print the Markdown tables")
    r.add_argument("out", type=Path, help="the folder gpu_check.sh wrote")
    r.add_argument("--brief", action="store_true", help="a few lines instead of the tables")
    c = commands.add_parser("collect", help="gather the steps' results into OUT/gpu_check.json")
    c.add_argument("out", type=Path)
    c.add_argument("--mode", choices=["gpu", "dry-run"], required=True)
    c.add_argument("--reason", default="", help="why this is a dry run")
    c.add_argument("--missing", default="", help="space-separated optional packages that were not installed")
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.out, args.mode, args.reason, args.missing.split())
    else:
        sys.stdout.write(render(args.out, args.brief))


if __name__ == "__main__":
    main()
