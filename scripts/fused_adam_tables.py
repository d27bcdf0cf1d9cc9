"""The Fused Adam page's training-loop tables, from the committed runs of `bench_training.py`.

    python scripts/fused_adam_tables.py                       # the runs in labml_nn/optimizers/fused_adam_results/
    python scripts/fused_adam_tables.py run1.json run2.json   # other runs

It prints, in the page's Markdown, exactly what the page's section "Against the baseline under
THP_MEM_ALLOC_ENABLE=1" shows: the runs' machine and load averages, the table of medians over the runs, the table
of ratios to `torch.optim.Adam(fused=True)` under `THP_MEM_ALLOC_ENABLE=1`, the run-by-run ratios, the table of
where the differences lie (forward and backward passes, or step), and the first row of the Goals table with its
verdict. `tests/optimizers/test_fused_adam_page.py` checks that the page holds
every one of them, so a number on the page that the JSON does not give fails the tests.

A cell of the first two tables is the median over the runs of each run's median (the ratios are those of these
medians), and the median over the runs of each run's median paired ratio, as `bench_training.py --combine` gives
them. The verdict compares `FusedAdam` against the baseline under THP with the control (`fused=True` again
against `fused=True`, two identical contenders): a model where every run's ratio, of the medians and paired, lies
below the lowest of the control's is "met"; above the highest, "not met"; otherwise "level within noise". Where
the control's own ratios leave 0.9x to 1.1x (a loaded machine), the verdict is "not determined".
"""

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import BASELINE, CONTROL, SMALL_PAGES, THP_BASELINE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "labml_nn" / "optimizers" / "fused_adam_results"
# The page's column headings, in its order
HEADINGS = {
    BASELINE: "`torch.optim.Adam(fused=True)`",
    THP_BASELINE: "`fused=True`, `THP_MEM_ALLOC_ENABLE=1`",
    "torch foreach=True": "`foreach=True`",
    "torch foreach=False": "`foreach=False`",
    "labml Adam": "our `Adam`",
    "FusedAdam": "`FusedAdam`",
    SMALL_PAGES: "`FusedAdam`, 4 KiB pages",
    CONTROL: "control: `fused=True` again",
}
KEYS = ("total", "fwd_bwd", "step", "paired", "paired_thp")


def load_runs(paths=None) -> list[dict]:
    """The runs, in the order of their file names (training-cpu-run1.json, ...)."""
    paths = [Path(p) for p in paths] if paths else sorted(RESULTS.glob("training-cpu-run*.json"))
    return [json.loads(p.read_text()) for p in paths]


def label(result: dict) -> str:
    return f"{result['model'].replace(' x ', ' × ')}: {result['params'] / 1e6:.1f}M in {result['tensors']}"


def combined(runs: list[dict]) -> list[dict]:
    """Per model, each contender's median over the runs of every figure of its runs (as `--combine`)."""
    rows = []
    for i, first in enumerate(runs[0]["results"]):
        times = {
            n: {
                k: statistics.median(run["results"][i]["times"][n][k] for run in runs)
                for k in KEYS
                if all(k in run["results"][i]["times"][n] for run in runs)
            }
            for n in first["times"]
        }
        rows.append({k: v for k, v in first.items() if k not in ("times", "samples")} | {"times": times})
    return rows


def ratio(t: dict, base: dict, paired: str) -> tuple[float, float]:
    return t["total"] / base["total"], t[paired]


def names_of(runs: list[dict]) -> list[str]:
    present = runs[0]["results"][0]["times"]
    return [n for n in HEADINGS if n in present]


def machine_line(runs: list[dict]) -> str:
    m = runs[0]["machine"]
    loads = "; ".join(
        f"run {i}: {run['load_start'].split()[0]} at the start, {run['load_end'].split()[0]} at the end"
        for i, run in enumerate(runs, 1)
    )
    return (
        f"Machine: {m['cpu']}, L2 {m['L2']}, L3 {m['L3']}, PyTorch {m['torch']}, Python {m['python']}, "
        f"{m['threads']} threads in each worker, transparent huge pages `{m['thp']}`. "
        f"One-minute load averages: {loads}."
    )


def environment_lines(runs: list[dict]) -> str:
    """The processes' environments as the first run printed them (the test checks that the other runs printed the
    same, up to the KiB of huge pages their probes found)."""
    return "\n".join(f"    {line}" for line in runs[0]["environment"])


def training_table(runs: list[dict]) -> str:
    """Medians over the runs: ms (ratio to fused=True; paired) [forward+backward / step]."""
    names = names_of(runs)
    lines = ["| model | " + " | ".join(HEADINGS[n] for n in names) + " |", "|---|" + "---|" * len(names)]
    for r in combined(runs):
        base = r["times"][BASELINE]
        cells = []
        for n in names:
            t = r["times"][n]
            total, paired = ratio(t, base, "paired")
            cell = (
                f"{t['total'] * 1e3:.1f} ({total:.2f}; {paired:.2f}) [{t['fwd_bwd'] * 1e3:.1f} / {t['step'] * 1e3:.1f}]"
            )
            cells.append(f"**{cell}**" if n == "FusedAdam" else cell)
        lines.append(f"| {label(r)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def thp_table(runs: list[dict]) -> str:
    """Medians over the runs, against fused=True under THP_MEM_ALLOC_ENABLE=1: ratio; paired."""
    names = [n for n in names_of(runs) if n != THP_BASELINE]
    lines = ["| model | " + " | ".join(HEADINGS[n] for n in names) + " |", "|---|" + "---|" * len(names)]
    for r in combined(runs):
        base = r["times"][THP_BASELINE]
        cells = []
        for n in names:
            total, paired = ratio(r["times"][n], base, "paired_thp")
            cell = f"{total:.2f}; {paired:.2f}"
            cells.append(f"**{cell}**" if n == "FusedAdam" else cell)
        lines.append(f"| {label(r)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_run(runs: list[dict], i: int, name: str, against: str) -> list[tuple[float, float]]:
    """Each run's (ratio of the medians, median paired ratio) of `name` against `against` on model i."""
    key = "paired_thp" if against == THP_BASELINE else "paired"
    return [ratio(run["results"][i]["times"][name], run["results"][i]["times"][against], key) for run in runs]


def pairs(values: list[tuple[float, float]]) -> str:
    return ", ".join(f"{a:.2f}; {b:.2f}" for a, b in values)


# The run-by-run table's columns: (heading, contender, against)
RUN_COLUMNS = (
    ("`FusedAdam` / THP baseline", "FusedAdam", THP_BASELINE),
    ("`FusedAdam` / `fused=True`", "FusedAdam", BASELINE),
    ("THP baseline / `fused=True`", THP_BASELINE, BASELINE),
    ("4 KiB `FusedAdam` / `fused=True`", SMALL_PAGES, BASELINE),
    ("control / `fused=True`", CONTROL, BASELINE),
)


def runs_table(runs: list[dict]) -> str:
    """Every run's ratios (of the medians; paired), run 1, 2, ... in order, per model."""
    present = runs[0]["results"][0]["times"]
    columns = [c for c in RUN_COLUMNS if c[1] in present and c[2] in present]
    lines = ["| model | " + " | ".join(c[0] for c in columns) + " |", "|---|" + "---|" * len(columns)]
    for i, r in enumerate(runs[0]["results"]):
        cells = [pairs(per_run(runs, i, name, against)) for _, name, against in columns]
        lines.append(f"| {r['model'].split(' ')[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# The gains table's columns: (heading, contender, against); each cell is contender minus against
GAIN_COLUMNS = (
    ("huge pages for PyTorch's tensors: THP baseline − `fused=True`", THP_BASELINE, BASELINE),
    ("one flat buffer, one kernel: 4 KiB `FusedAdam` − `fused=True`", SMALL_PAGES, BASELINE),
    ("huge pages for the flat buffers: `FusedAdam` − 4 KiB `FusedAdam`", "FusedAdam", SMALL_PAGES),
    ("in all: `FusedAdam` − THP baseline", "FusedAdam", THP_BASELINE),
    ("the noise: control − `fused=True`", CONTROL, BASELINE),
)


def signed(ms: float) -> str:
    """+1.2, -0.3, and 0.0 for what rounds to zero (never -0.0)."""
    return "0.0" if round(ms, 1) == 0 else f"{ms:+.1f}"


def gains_table(runs: list[dict]) -> str:
    """Where the differences lie: each column's difference of the medians over the runs, in ms, of
    forward+backward / of the step."""
    present = runs[0]["results"][0]["times"]
    columns = [c for c in GAIN_COLUMNS if c[1] in present and c[2] in present]
    lines = ["| model | " + " | ".join(c[0] for c in columns) + " |", "|---|" + "---|" * len(columns)]
    for r in combined(runs):
        cells = []
        for _, name, against in columns:
            a, b = r["times"][name], r["times"][against]
            cells.append(f"{signed((a['fwd_bwd'] - b['fwd_bwd']) * 1e3)} / {signed((a['step'] - b['step']) * 1e3)}")
        lines.append(f"| {r['model'].split(' ')[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# A control (two identical contenders) whose ratios leave this band shows a run too noisy to give any verdict
CONTROL_BAND = (0.9, 1.1)


def verdict(runs: list[dict], i: int) -> str:
    ours = [x for pair in per_run(runs, i, "FusedAdam", THP_BASELINE) for x in pair]
    control = [x for pair in per_run(runs, i, CONTROL, BASELINE) for x in pair]
    if min(control) < CONTROL_BAND[0] or max(control) > CONTROL_BAND[1]:
        return (
            f"**not determined**: the control's ratios, {min(control):.2f}x to {max(control):.2f}x, leave "
            f"{CONTROL_BAND[0]:.1f}x to {CONTROL_BAND[1]:.1f}x, so the runs cannot tell two identical contenders apart"
        )
    if max(ours) < min(control):
        return "met, below the control's spread"
    if min(ours) > max(control):
        return "**not met**, above the control's spread"
    return "**level within noise**, not met"


def goal_row(runs: list[dict]) -> str:
    """The Goals table's first row: FusedAdam against the baseline under THP, with the verdict per model."""
    rows = combined(runs)
    model = [r["model"].split(" ")[0] for r in rows]
    medians = ", ".join(
        f"{m} {ratio(r['times']['FusedAdam'], r['times'][THP_BASELINE], 'paired_thp')[0]:.2f}x"
        f" (paired {r['times']['FusedAdam']['paired_thp']:.2f}x)"
        for m, r in zip(model, rows)
    )
    by_run = ", ".join(
        f"{m} " + ", ".join(f"{a:.2f}x" for a, _ in per_run(runs, i, "FusedAdam", THP_BASELINE))
        for i, m in enumerate(model)
    )
    control = [x for i in range(len(rows)) for pair in per_run(runs, i, CONTROL, BASELINE) for x in pair]
    default = ", ".join(
        f"{m} {ratio(r['times']['FusedAdam'], r['times'][BASELINE], 'paired')[0]:.2f}x" for m, r in zip(model, rows)
    )
    verdicts = "; ".join(f"{m}: {verdict(runs, i)}" for i, m in enumerate(model))
    return (
        "| `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per training iteration, the baseline under "
        "`THP_MEM_ALLOC_ENABLE=1` (its best documented CPU setting) | "
        f"medians of {len(runs)} runs (`fused_adam_results/`): {medians}; run by run {by_run}; the control "
        f"(`fused=True` again, against `fused=True`, ratios of the medians and paired) {min(control):.2f}x to "
        f"{max(control):.2f}x; against `fused=True` in PyTorch's default environment {default} | "
        f"{verdicts} |"
    )


# The README's names of the models
README_MODELS = (
    "24 × Linear(512): 6.3M parameters in 48 tensors",
    "100 × Linear(64): 0.42M in 200",
    "8 transformer blocks: 25.2M in 96",
    "512 × Linear(32): 0.54M in 1,024",
)


def readme_table(runs: list[dict]) -> str:
    """The README's summary: per model, `FusedAdam` against the THP baseline run by run, the control's spread and
    the verdict."""
    lines = ["| model | `FusedAdam`, run by run | control | verdict |", "|---|---|---|---|"]
    for i, name in enumerate(README_MODELS):
        ours = ", ".join(f"{x:.2f}×" for x, _ in per_run(runs, i, "FusedAdam", THP_BASELINE))
        control = [x for pair in per_run(runs, i, CONTROL, BASELINE) for x in pair]
        word = verdict(runs, i).split(":")[0].split(",")[0].replace("*", "")
        lines.append(f"| {name} | {ours} | {min(control):.2f}× to {max(control):.2f}× | {word} |")
    return "\n".join(lines)


def render(runs: list[dict]) -> str:
    return "\n\n".join(
        [
            machine_line(runs),
            environment_lines(runs),
            training_table(runs),
            thp_table(runs),
            runs_table(runs),
            gains_table(runs),
            goal_row(runs),
        ]
    )


# ## The step benchmark (`bench_optimizers.py --no-sweep --ablate-huge-pages --json ...`)

# Its contenders in the page's order, with the page's names
STEP_HEADINGS = {
    BASELINE: "`torch.optim.Adam(fused=True)`",
    THP_BASELINE: "`fused=True`, `THP_MEM_ALLOC_ENABLE=1`",
    "torch foreach=True": "`foreach=True`",
    "torch foreach=False": "`foreach=False`",
    "labml Adam": "our `Adam`",
    "FusedAdam eager": "`FusedAdam(compiled=False)`",
    "FusedAdam": "`FusedAdam()`",
    SMALL_PAGES: "`FusedAdam()`, 4 KiB pages",
}


def load_step_runs(paths=None) -> list[dict]:
    """The step benchmark's runs, in the order of their file names (step-cpu-run1.json, ...)."""
    paths = [Path(p) for p in paths] if paths else sorted(RESULTS.glob("step-cpu-run*.json"))
    return [json.loads(p.read_text()) for p in paths]


def step_cases(run: dict) -> list[dict]:
    """A step run's fixed models, (a), (b) and the one larger than the cache, without the sweep's."""
    return [r for r in run["results"] if not r["sweep"]]


def step_case(result: dict) -> str:
    name = result["case"].split(",")[0].replace(" x ", " × ")
    return f"{name}: {result['params'] / 1e6:.1f}M in {result['tensors']}"


def step_table(run: dict) -> str:
    """One run of the step benchmark: per case, the reference time 28N/B, the time at the STREAM triad's bandwidth, and each
    contender's median step in ms (ratio to `fused=True`; ratio to `fused=True` under THP) [triad time / time]."""
    results = step_cases(run)
    m = run["machine"]
    stream = run["stream"]
    lines = [
        f"Machine: {m['cpu']}, PyTorch {m['torch']}; one-minute load average {run['load_start'].split()[0]} at the "
        f"start. STREAM-like bandwidth (`bandwidth.py`, float32 arrays of {stream['elements'] * 4 / 2**20:.0f} MiB, "
        f"medians of {stream['repeats']}): copy {stream['copy'] / 1e9:.1f} GB/s, triad {stream['triad'] / 1e9:.1f} "
        f"GB/s. Reference $B$ (`fused=True` on one large flat tensor): {run['bandwidth'] / 1e9:.1f} GB/s.",
        "",
        "| | " + " | ".join(step_case(r) for r in results) + " |",
        "|---|" + "---|" * len(results),
        "| reference time, $28N/B$ | " + " | ".join(f"{r['floor'] * 1e3:.2f}" for r in results) + " |",
        "| STREAM-triad time, $28N/B_{\\text{triad}}$ | "
        + " | ".join(f"{r['stream_floor'] * 1e3:.2f}" for r in results)
        + " |",
    ]
    for name, heading in STEP_HEADINGS.items():
        if name not in results[0]["times"]:
            continue
        cells = []
        for r in results:
            t, base, thp = r["times"][name], r["times"][BASELINE], r["times"].get(THP_BASELINE)
            against_thp = f"; {t / thp:.2f}x" if thp else ""
            cell = f"{t * 1e3:.2f} ({t / base:.2f}x{against_thp}) [{r['stream_floor'] / t:.2f}]"
            cells.append(f"**{cell}**" if name == "FusedAdam" else cell)
        lines.append(f"| {heading} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def step_summary(runs: list[dict]) -> str:
    """Every step run's ratios, run 1, 2, ...: `FusedAdam()` against `fused=True` and against the THP baseline,
    the 4 KiB `FusedAdam()` against `fused=True`, and the time at the STREAM triad's bandwidth over `FusedAdam()`'s step."""
    cases = [step_cases(run) for run in runs]
    lines = [
        "| | " + " | ".join(step_case(r) for r in cases[0]) + " |",
        "|---|" + "---|" * len(cases[0]),
    ]
    rows = (
        ("`FusedAdam()` / `fused=True`", lambda r: r["times"]["FusedAdam"] / r["times"][BASELINE]),
        ("`FusedAdam()` / THP baseline", lambda r: r["times"]["FusedAdam"] / r["times"][THP_BASELINE]),
        ("4 KiB `FusedAdam()` / `fused=True`", lambda r: r["times"][SMALL_PAGES] / r["times"][BASELINE]),
        ("THP baseline / `fused=True`", lambda r: r["times"][THP_BASELINE] / r["times"][BASELINE]),
        ("STREAM-triad time / `FusedAdam()`", lambda r: r["stream_floor"] / r["times"]["FusedAdam"]),
    )
    for heading, value in rows:
        cells = []
        for i in range(len(cases[0])):
            cells.append(", ".join(f"{value(run[i]):.2f}" for run in cases))
        lines.append(f"| {heading} | " + " | ".join(cells) + " |")
    triads = ", ".join(f"{run['stream']['triad'] / 1e9:.1f}" for run in runs)
    copies = ", ".join(f"{run['stream']['copy'] / 1e9:.1f}" for run in runs)
    references = ", ".join(f"{run['bandwidth'] / 1e9:.1f}" for run in runs)
    loads = ", ".join(run["load_start"].split()[0] for run in runs)
    lines += [
        "",
        f"STREAM-like copy {copies} GB/s and triad {triads} GB/s; reference $B$ {references} GB/s; one-minute load "
        f"average at the start {loads} (run by run).",
    ]
    return "\n".join(lines)


def step_goal_rows(runs: list[dict]) -> str:
    """The Goals table's rows for the step on the model larger than the cache, from the committed step runs."""
    big = [step_cases(run)[-1] for run in runs]

    def each(value) -> str:
        return ", ".join(f"{value(r):.2f}x" for r in big)

    ours = [r["times"]["FusedAdam"] / r["times"][BASELINE] for r in big]
    thp = [r["times"]["FusedAdam"] / r["times"][THP_BASELINE] for r in big]
    triad = [r["stream_floor"] / r["times"]["FusedAdam"] for r in big]
    working_set = big[0]["case"].split("working set ")[-1] if "working set" in big[0]["case"] else "4 x L3"
    return "\n".join(
        [
            f"| `FusedAdam` ≤ 1.0x `torch.optim.Adam(fused=True)` per step, interleaved, on the model larger than the "
            f"L3 cache, against both baselines | {len(runs)} runs (`fused_adam_results/step-cpu-run*.json`), "
            f"{step_case(big[0])} (working set {working_set.replace(' x ', ' × ')}): against `fused=True` "
            f"{each(lambda r: r['times']['FusedAdam'] / r['times'][BASELINE])}; against `fused=True` under "
            f"`THP_MEM_ALLOC_ENABLE=1` {each(lambda r: r['times']['FusedAdam'] / r['times'][THP_BASELINE])} | "
            + ("yes, in every run" if max(ours + thp) < 1 else "not in every run")
            + " |",
            f"| `FusedAdam`'s step against the time a STREAM-like triad's bandwidth allows for 28 bytes per parameter "
            f"(`bandwidth.py`) | the same runs: the triad's time over the step "
            f"{each(lambda r: r['stream_floor'] / r['times']['FusedAdam'])} | "
            + (
                "the step is faster than the triad in every run: the triad, as measured with PyTorch's operations, "
                "is not the memory's limit either, so no floor is claimed"
                if min(triad) > 1
                else "at or above the triad's time"
            )
            + " |",
        ]
    )


def main() -> None:
    runs = load_runs(sys.argv[1:])
    if not runs:
        sys.exit(f"no runs in {RESULTS}")
    print(render(runs))
    steps = load_step_runs()
    if steps:
        print(f"\nStep benchmark, run 1:\n\n{step_table(steps[0])}\n\nRun by run:\n\n{step_summary(steps)}")
        print(f"\nGoals rows:\n\n{step_goal_rows(steps)}")


if __name__ == "__main__":
    main()
