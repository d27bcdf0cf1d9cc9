"""Benchmark of Adam implementations in the training loop users write, against `torch.optim.Adam(fused=True)`.

    python scripts/bench_training.py                  # CPU, all models
    python scripts/bench_training.py --quick          # a sanity run: small models, few iterations
    python scripts/bench_training.py --tiny --json t.json   # a check that it runs: model (b), 4 iterations
    python scripts/bench_training.py --device cuda    # the same on a GPU
    python scripts/bench_training.py --combine a.json b.json c.json   # medians of several runs, one table
    python scripts/bench_training.py --ablate-huge-pages --models a,c  # and FusedAdam in 4 KiB pages
    python scripts/bench_training.py --no-thp-baseline   # without the worker under THP_MEM_ALLOC_ENABLE=1

Each iteration is what a training script does, with PyTorch's defaults and nothing tuned:

    optimizer.zero_grad()        # set_to_none=True, the default
    loss = (model(x) - y).square().mean()
    loss.backward()
    optimizer.step()

The target `y` is a fixed random tensor, so the gradients never vanish (with `model(x).square().mean()` the
ReLU stacks learn to output zeros within some 40 steps, and every gradient is zero from then on).

The contenders are `torch.optim.Adam` with `fused=True`, `foreach=True` and `foreach=False`, labml_nn's `Adam`
and `FusedAdam`, a control: `fused=True` again, and `fused=True` under `THP_MEM_ALLOC_ENABLE=1`, the baseline's
best documented configuration on a CPU: with it PyTorch's allocator marks every allocation of 2 MiB or more for
transparent huge pages, as `FusedAdam` marks its own buffers. All take PyTorch's hyper-parameters: labml_nn's two are given
`eps=1e-8` (their own default is 1e-16) and keep their default form of the update, which adds eps to the root of
the uncorrected second moment rather than of the corrected one, so every copy of the model trains alike (after 45
iterations on (a), the losses under `fused=True` and `FusedAdam` were 0.99152 and 0.99177). Each contender trains
its own copy of the model on the same batch, and they take turns one iteration at a time, in an order that rotates from round to
round (A B C D E F, B C D E F A, ...), so that a busy moment on a shared machine hits all of them alike and none
always follows the same neighbour.

Where a model lies in memory changes its forward and backward passes by a few percent (which cache sets and
pages its weights fall on), and the copy made first or last can be the slow one. So the copies are made afresh
`--placements` times (3 by default), in a creation order rotated each time, and the timed iterations are split
between the placements.

Every cell is the median over the timed iterations; the iteration is split into `zero_grad()` + forward +
backward and `step()`. Next to the ratio of the medians, each cell gives the median of the paired ratios: in every
round, the contender's iteration over the baseline's in the same round. The control's ratios show how far two
identical contenders differ in the same run; a difference smaller than that is not one the run can show. Every
cell also has its ratios to `fused=True` under `THP_MEM_ALLOC_ENABLE=1`, in a second table.

PyTorch reads `THP_MEM_ALLOC_ENABLE` once per process, so that contender needs a process of its own. So does
every other one: the script starts one worker process per contender (`envworkers.py`), each started in its
environment (the default one, with the variable removed, or `THP_MEM_ALLOC_ENABLE=1`), and drives the rounds
itself, asking one worker at a time for one iteration, in the rotated order. Then every contender is alone in its
process, as in a user's training script, and every comparison is one between processes, the control's too: it
shows how far two identical contenders in two processes differ (a first version that kept the default-environment
contenders in one process found the lone THP worker's forward and backward passes 28% slower on (a), where its
1 MiB weights are below PyTorch's 2 MiB threshold, and 12% faster on (d): a difference of processes, which an
in-process control cannot show; see the gap below). Every
worker builds the same model from the same seed, pins nothing, and keeps PyTorch's default thread count (the
script stops if they differ). Otherwise the environment is the one the script was started in: no allocator
tuning, no thread settings. The system's THP mode and each contender's THP_MEM_ALLOC_ENABLE, glibc allocator
variables and threads are printed with the table, and whether a fresh 8 MiB tensor of its worker lies in huge
pages.

Between two iterations the script waits `--gap` ms (10 by default). PyTorch's OpenMP runtime (libgomp) lets a
thread that has finished a parallel region spin for a while before it sleeps, about 4 ms of CPU time after each
region on the development machine; an iteration that starts in another process while those threads spin shares
the two cores with them. Without the gap every contender that followed another process paid for it: in the first
version above, the two contenders that came right after a switch of process (the rotation keeps the cyclic order,
so always the same two) had their forward and backward passes 3 ms slower on (a), 10.9 against 14.0 and 13.7 ms.
The gap lets the spinning end, so each iteration starts as in a training script of its own: the same for every
contender, at the cost of waking the sleeping thread once per iteration.

The models are
(a) 24 x (Linear(512, 512), ReLU): 6.3M parameters in 48 tensors,
(b) 100 x (Linear(64, 64), ReLU): 0.42M parameters in 200 tensors,
(c) 8 transformer encoder blocks (d_model 512, 8 heads, MLP 2048, LayerNorm): 25.2M parameters in 96 tensors,
(d) 512 x (Linear(32, 32), ReLU): 0.54M parameters in 1,024 tensors.

The machine is printed with the table: CPU model, L2 and L3 cache sizes, threads, and the load average at the
start and the end (other processes on a shared machine slow every contender, but not equally).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

from envworkers import ENVIRONMENTS, Worker, describe_environments, serve, thp_mode, worker_report
from machine import cache_sizes, cpu_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "torch fused=True"
# A second copy of the baseline: two identical contenders differ by this much in the run (the model's memory, its
# place in the order), which a ratio of another contender has to exceed to mean something
CONTROL = "control: fused=True again"
# With --ablate-huge-pages: FusedAdam with its buffers in ordinary 4 KiB pages, to measure what the huge pages give
SMALL_PAGES = "FusedAdam, 4 KiB pages"
# The baseline in its best documented CPU configuration, in a worker process started with THP_MEM_ALLOC_ENABLE=1
THP_BASELINE = "torch fused=True, THP_MEM_ALLOC_ENABLE=1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="small models, few iterations: a sanity run")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="only model (b), 4 iterations in one placement: checks that the script runs, measures nothing",
    )
    parser.add_argument(
        "--iters", type=int, default=None, help="timed iterations per contender, over all placements (default 36)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="untimed iterations per contender and placement (default 5)"
    )
    parser.add_argument(
        "--placements", type=int, default=None, help="times the models are made afresh, in a rotated order (default 3)"
    )
    parser.add_argument(
        "--ablate-huge-pages",
        action="store_true",
        help=f"add the contender '{SMALL_PAGES}': FusedAdam with huge_pages = False",
    )
    parser.add_argument(
        "--no-thp-baseline",
        action="store_true",
        help=f"leave out the contender '{THP_BASELINE}' (and its worker process)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=10.0,
        help="ms to wait after every iteration, so that the last process's OpenMP threads stop spinning (default 10)",
    )
    parser.add_argument("--models", default=None, help="comma-separated subset of a,b,c,d")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", "--json", dest="out", default=None, help="JSON file for the results (default bench-results/...)"
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        default=None,
        metavar="JSON",
        help="print one table of the medians of the given runs' JSON files, and exit",
    )
    args = parser.parse_args()
    args.iters = args.iters or (4 if args.tiny else 6 if args.quick else 36)
    args.warmup = args.warmup or (1 if args.tiny else 2 if args.quick else 5)
    args.placements = args.placements or (1 if args.tiny else 2 if args.quick else 3)
    if args.placements > args.iters:
        parser.error("--placements cannot exceed --iters: every placement needs a timed iteration")
    return args


def machine(reports: dict[str, dict]) -> dict[str, str]:
    """The facts a reader needs to compare this table with theirs; `reports`: each worker's `info`."""
    first = next(iter(reports.values()))
    info = {"torch": first["torch"], "python": platform.python_version(), "threads": str(first["threads"])}
    info["cpu"] = cpu_model()
    info.update(cache_sizes())
    for key in ("gpu", "cuda"):
        if key in first:
            info[key] = first[key]
    info["thp"] = thp_mode()
    return info


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def build_model(torch, name: str, quick: bool):
    """The model and a batch for it; the shapes are in the module docstring."""
    from torch import nn

    if name == "a":
        width, layers, batch = 512, 24, 32
        model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.ReLU())])
        x = torch.randn(batch, width)
        label = "(a) 24 x Linear(512)"
    elif name == "b":
        width, layers, batch = 64, 100, 32
        model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.ReLU())])
        x = torch.randn(batch, width)
        label = "(b) 100 x Linear(64)"
    elif name == "c":
        # quick: 2 blocks instead of 8, the same width
        blocks, d_model, batch, seq = (2 if quick else 8), 512, 4, 16
        layer = lambda: nn.TransformerEncoderLayer(
            d_model, nhead=8, dim_feedforward=4 * d_model, dropout=0.0, batch_first=True
        )
        model = nn.Sequential(*[layer() for _ in range(blocks)])
        x = torch.randn(batch, seq, d_model)
        label = f"(c) {blocks} transformer blocks"
    elif name == "d":
        width, layers, batch = 32, 512, 32
        model = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.ReLU())])
        x = torch.randn(batch, width)
        label = "(d) 512 x Linear(32)"
    else:
        raise ValueError(f"unknown model {name!r}")
    return label, model, x


def environment_of(args) -> dict[str, str]:
    """Which worker's environment each contender runs in, in the order of the tables."""
    names = [BASELINE, "torch foreach=True", "torch foreach=False", "labml Adam", "FusedAdam", CONTROL]
    where = {n: "default" for n in names}
    if not args.no_thp_baseline:
        where[THP_BASELINE] = "THP=1"
    if args.ablate_huge_pages:
        where[SMALL_PAGES] = "default"
    return where


def contenders(torch, ablate_huge_pages: bool = False) -> dict[str, Callable]:
    sys.path.insert(0, str(ROOT))
    from labml_nn.optimizers.adam import Adam
    from labml_nn.optimizers.fused_adam import FusedAdam

    def small_pages(p):
        opt = FusedAdam(p, eps=1e-8)
        opt.huge_pages = False
        return opt

    extra = {SMALL_PAGES: small_pages} if ablate_huge_pages else {}
    return {
        BASELINE: lambda p: torch.optim.Adam(p, fused=True),
        "torch foreach=True": lambda p: torch.optim.Adam(p, foreach=True),
        "torch foreach=False": lambda p: torch.optim.Adam(p, foreach=False),
        # PyTorch's eps, so that all copies of the model train alike
        "labml Adam": lambda p: Adam(p, eps=1e-8),
        "FusedAdam": lambda p: FusedAdam(p, eps=1e-8),
        CONTROL: lambda p: torch.optim.Adam(p, fused=True),
        # The same optimizer as the baseline; what differs is its worker's environment
        THP_BASELINE: lambda p: torch.optim.Adam(p, fused=True),
    } | extra


def rotated(names: list[str], shift: int) -> list[str]:
    """`names` rotated left by `shift` places (A B C, 1: B C A)."""
    shift %= len(names)
    return names[shift:] + names[:shift]


class Trainer:
    """A worker's side: the model, its batch, and one copy of the model per contender of this worker's environment."""

    def __init__(self, torch, args):
        self.torch, self.args = torch, args
        self.device = torch.device(args.device)
        self.makers = contenders(torch, args.ablate_huge_pages)
        self.runs: dict[str, tuple] = {}

    def setup(self, model: str) -> dict:
        torch = self.torch
        # The same seed in every worker: every process builds the same model and batch
        torch.manual_seed(0)
        label, self.model, x = build_model(torch, model, self.args.quick)
        self.model, self.x = self.model.to(self.device), x.to(self.device)
        # Every model maps x to a tensor of x's shape
        self.y = torch.randn_like(self.x)
        params = list(self.model.parameters())
        return {"model": label, "params": sum(p.numel() for p in params), "tensors": len(params)}

    def place(self, order: list[str]) -> None:
        """Fresh copies of the model for this worker's contenders in `order`; the previous placement's are freed
        first."""
        import copy

        self.runs = {}
        for cname in order:
            m = copy.deepcopy(self.model)
            self.runs[cname] = (m, self.makers[cname](list(m.parameters())))

    def iteration(self, name: str, timed: bool) -> dict:
        torch, (m, opt) = self.torch, self.runs[name]
        cuda = self.device.type == "cuda"
        if cuda:
            events = [torch.cuda.Event(enable_timing=True) for _ in range(3)]
            events[0].record()
        else:
            start = time.perf_counter()
        opt.zero_grad()
        (m(self.x) - self.y).square().mean().backward()
        if cuda:
            events[1].record()
        else:
            mid = time.perf_counter()
        opt.step()
        if cuda:
            events[2].record()
            torch.cuda.synchronize()
            t = (events[0].elapsed_time(events[1]) / 1e3, events[1].elapsed_time(events[2]) / 1e3)
        else:
            t = (mid - start, time.perf_counter() - mid)
        return {"t": t} if timed else {}

    def free(self) -> None:
        self.runs = {}
        del self.model, self.x, self.y


def run_worker(args) -> None:
    import torch

    trainer = Trainer(torch, args)

    def info() -> dict:
        report = worker_report(torch)
        if args.device == "cuda":
            report.update(gpu=torch.cuda.get_device_name(), cuda=str(torch.version.cuda))
        return report

    serve(
        args.worker,
        {
            "info": info,
            "setup": trainer.setup,
            "place": trainer.place,
            "iter": trainer.iteration,
            "free": trainer.free,
            "sync": lambda: torch.cuda.synchronize() if args.device == "cuda" else None,
        },
    )


def paired(ts: list, base: list) -> float:
    """The median, over the rounds, of a contender's iteration over a baseline's in the same round: a paired
    comparison, which a slow moment shared by the round cancels out of."""
    return statistics.median((a + b) / (c + d) for (a, b), (c, d) in zip(ts, base))


def bench_model(workers: dict[str, Worker], name: str, args) -> dict[str, object]:
    """One model's rounds; `workers`: contender -> its worker process."""
    names = list(workers)
    result: dict = {}
    for w in workers.values():
        result = w.call(cmd="setup", model=name)

    def iteration(cname: str, timed: bool = False):
        t = workers[cname].call(cmd="iter", name=cname, timed=timed).get("t")
        # The gap: the worker's idle OpenMP threads stop spinning before the next process starts
        time.sleep(args.gap / 1e3)
        return t

    times: dict[str, list] = {c: [] for c in names}
    rounds = 0
    for placement in range(args.placements):
        # Fresh copies, each in its worker, made in an order rotated by a share of the contenders each time
        for cname in rotated(names, placement * len(names) // args.placements):
            workers[cname].call(cmd="place", order=[cname])
        # Warm-up: the first steps make the state, FusedAdam's buffers and (in the first placement) its compiled
        # kernel.
        for _ in range(args.warmup):
            for cname in names:
                iteration(cname)
        for w in workers.values():
            w.call(cmd="sync")
        for _ in range(args.iters * (placement + 1) // args.placements - args.iters * placement // args.placements):
            # The order rotates from round to round (A B C D E, B C D E A, ...) across the workers: each
            # contender's forward pass follows each other contender's step equally often, so none inherits one
            # neighbour's cache and allocator state (a step that allocates and frees large temporaries makes the
            # next forward pass pay page faults) in every round.
            for cname in rotated(names, rounds):
                times[cname].append(iteration(cname, timed=True))
            rounds += 1
    for w in workers.values():
        w.call(cmd="free")
    result["times"] = {}
    for cname, ts in times.items():
        result["times"][cname] = {
            "total": statistics.median(a + b for a, b in ts),
            "fwd_bwd": statistics.median(a for a, _ in ts),
            "step": statistics.median(b for _, b in ts),
            "paired": paired(ts, times[BASELINE]),
        }
        if THP_BASELINE in times:
            result["times"][cname]["paired_thp"] = paired(ts, times[THP_BASELINE])
    # Every round's (zero_grad+forward+backward, step) in seconds, per contender, in the order timed
    result["samples"] = times
    return result


def format_table(results: list[dict], names: list[str]) -> str:
    lines = [
        "Median ms per iteration (ratio of the medians to torch fused=True; median of the paired ratios, round by round)"
        " [median of zero_grad+forward+backward / median of step]",
        "",
        "| model | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for r in results:
        base = r["times"][BASELINE]["total"]
        cells = []
        for n in names:
            t = r["times"][n]
            paired = f"; {t['paired']:.2f}" if "paired" in t else ""
            cells.append(
                f"{t['total'] * 1e3:.1f} ({t['total'] / base:.2f}{paired})"
                f" [{t['fwd_bwd'] * 1e3:.1f} / {t['step'] * 1e3:.1f}]"
            )
        lines.append(f"| {r['model']}: {r['params'] / 1e6:.2f}M in {r['tensors']} | " + " | ".join(cells) + " |")
    if all(THP_BASELINE in r["times"] for r in results):
        lines += [
            "",
            f"Ratio of the medians to {THP_BASELINE}; median of the paired ratios, round by round",
            "",
            "| model | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for r in results:
            base = r["times"][THP_BASELINE]["total"]
            cells = []
            for n in names:
                t = r["times"][n]
                paired = f"; {t['paired_thp']:.2f}" if "paired_thp" in t else ""
                cells.append(f"{t['total'] / base:.2f}{paired}")
            lines.append(f"| {r['model']}: {r['params'] / 1e6:.2f}M in {r['tensors']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def combine(paths: list[str]) -> None:
    """One table whose cells are the medians, over the runs, of each run's medians."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    names = list(runs[0]["results"][0]["times"])
    results = []
    for i, first in enumerate(runs[0]["results"]):
        times = {
            n: {
                k: statistics.median(run["results"][i]["times"][n][k] for run in runs)
                for k in ("total", "fwd_bwd", "step", "paired", "paired_thp")
                if all(k in run["results"][i]["times"][n] for run in runs)
            }
            for n in names
        }
        results.append({k: v for k, v in first.items() if k != "samples"} | {"times": times})
    for run in runs:
        print(f"run: {run['machine']}; load average at start {run['load_start']}, at end {run['load_end']}")
        for line in run.get("environment", []):
            print(f"  {line}")
    print(f"medians of {len(runs)} runs\n")
    print(format_table(results, names))


def main():
    args = parse_args()
    if args.combine:
        combine(args.combine)
        return
    if args.worker:
        run_worker(args)
        return
    where = environment_of(args)
    # One worker process per contender, each a copy of this script with the same arguments, started in the
    # contender's environment; they start (and import torch) side by side
    argv = list(sys.argv[1:])
    workers = {c: Worker(__file__, c, ENVIRONMENTS[env], argv) for c, env in where.items()}
    try:
        run(args, workers)
    finally:
        for w in workers.values():
            w.close()


def run(args, workers: dict[str, Worker]) -> None:
    reports = {c: w.call(cmd="info") for c, w in workers.items()}
    if len({r["threads"] for r in reports.values()}) > 1:
        sys.exit(f"the workers' thread counts differ: { {e: r['threads'] for e, r in reports.items()} }")
    if args.device == "cuda" and "gpu" not in next(iter(reports.values())):
        sys.exit("--device cuda: CUDA is not available on this machine")
    info = machine(reports)
    environment = describe_environments(reports, {c: [c] for c in workers})
    load_start = load_average()
    print(f"machine: {info}", flush=True)
    for line in environment:
        print(line, flush=True)
    print(f"load average at the start: {load_start}", flush=True)
    print(
        f"timing: {args.placements} placements of the models, each with {args.warmup} warm-up iterations; "
        f"{args.iters} timed iterations per contender in all, interleaved across the contenders' processes, "
        f"{args.gap:g} ms apart; medians",
        flush=True,
    )
    models = args.models.split(",") if args.models else (["b"] if args.tiny else ["a", "b", "c", "d"])
    size = "-tiny" if args.tiny else "-quick" if args.quick else ""
    out = Path(args.out) if args.out else ROOT / "bench-results" / f"training-{args.device}{size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for name in models:
        r = bench_model(workers, name, args)
        results.append(r)
        # Each model's row as soon as it is measured, and the JSON so far: a run cut short keeps what it measured.
        print(f"  {r['model']} done (load {load_average()})", flush=True)
        print(format_table([r], list(r["times"])).splitlines()[4], flush=True)
        out.write_text(
            json.dumps(
                dict(
                    machine=info,
                    environment=environment,
                    workers=reports,
                    load_start=load_start,
                    load_end=load_average(),
                    args=vars(args),
                    results=results,
                ),
                indent=1,
            )
        )
    names = list(results[0]["times"])
    load_end = load_average()
    print(f"load average at the end: {load_end}\n")
    print(format_table(results, names))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
