"""Benchmark of Adam implementations in the training loop users write, against `torch.optim.Adam(fused=True)`.

    python scripts/bench_training.py                  # CPU, all models
    python scripts/bench_training.py --quick          # a sanity run: small models, few iterations
    python scripts/bench_training.py --tiny --json t.json   # a check that it runs: model (b), 4 iterations
    python scripts/bench_training.py --device cuda    # the same on a GPU
    python scripts/bench_training.py --combine a.json b.json c.json   # medians of several runs, one table
    python scripts/bench_training.py --ablate-huge-pages --models a,c  # and FusedAdam in 4 KiB pages

Each iteration is what a training script does, with PyTorch's defaults and nothing tuned:

    optimizer.zero_grad()        # set_to_none=True, the default
    loss = (model(x) - y).square().mean()
    loss.backward()
    optimizer.step()

The target `y` is a fixed random tensor, so the gradients never vanish (with `model(x).square().mean()` the
ReLU stacks learn to output zeros within some 40 steps, and every gradient is zero from then on).

The contenders are `torch.optim.Adam` with `fused=True`, `foreach=True` and `foreach=False`, labml_nn's `Adam`
and `FusedAdam`, and a control: `fused=True` again. All take PyTorch's hyper-parameters: labml_nn's two are given
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
identical contenders differ in the same run; a difference smaller than that is not one the run can show. The
process environment is the default one: no allocator tuning, no thread settings.

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

from machine import cache_sizes, cpu_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "torch fused=True"
# A second copy of the baseline: two identical contenders differ by this much in the run (the model's memory, its
# place in the order), which a ratio of another contender has to exceed to mean something
CONTROL = "control: fused=True again"
# With --ablate-huge-pages: FusedAdam with its buffers in ordinary 4 KiB pages, to measure what the huge pages give
SMALL_PAGES = "FusedAdam, 4 KiB pages"


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
    parser.add_argument("--models", default=None, help="comma-separated subset of a,b,c,d")
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


def machine(torch, device: str) -> dict[str, str]:
    """The facts a reader needs to compare this table with theirs."""
    info = {"torch": torch.__version__, "python": platform.python_version(), "threads": str(torch.get_num_threads())}
    info["cpu"] = cpu_model()
    info.update(cache_sizes())
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = str(torch.version.cuda)
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
    } | extra


def rotated(names: list[str], shift: int) -> list[str]:
    """`names` rotated left by `shift` places (A B C, 1: B C A)."""
    shift %= len(names)
    return names[shift:] + names[:shift]


def bench_model(torch, name: str, args) -> dict[str, object]:
    import copy

    device = torch.device(args.device)
    torch.manual_seed(0)
    label, model, x = build_model(torch, name, args.quick)
    model, x = model.to(device), x.to(device)
    # Every model maps x to a tensor of x's shape
    y = torch.randn_like(x)
    makers = contenders(torch, args.ablate_huge_pages)
    names = list(makers)
    cuda = device.type == "cuda"

    def iteration(m, opt, times=None):
        if cuda:
            events = [torch.cuda.Event(enable_timing=True) for _ in range(3)]
            events[0].record()
        else:
            start = time.perf_counter()
        opt.zero_grad()
        (m(x) - y).square().mean().backward()
        if cuda:
            events[1].record()
        else:
            mid = time.perf_counter()
        opt.step()
        if cuda:
            events[2].record()
            torch.cuda.synchronize()
            if times is not None:
                times.append((events[0].elapsed_time(events[1]) / 1e3, events[1].elapsed_time(events[2]) / 1e3))
        elif times is not None:
            times.append((mid - start, time.perf_counter() - mid))

    times: dict[str, list] = {c: [] for c in names}
    rounds = 0
    for placement in range(args.placements):
        # Fresh copies, made in an order rotated by a share of the contenders each time, so that no contender's
        # copy is always made first or last; the previous placement's copies are freed first.
        runs = {}
        for cname in rotated(names, placement * len(names) // args.placements):
            m = copy.deepcopy(model)
            runs[cname] = (m, makers[cname](list(m.parameters())))
        # Warm-up: the first steps make the state, FusedAdam's buffers and (in the first placement) its compiled
        # kernel.
        for _ in range(args.warmup):
            for cname in names:
                iteration(*runs[cname])
        if cuda:
            torch.cuda.synchronize()
        for _ in range(args.iters * (placement + 1) // args.placements - args.iters * placement // args.placements):
            # The order rotates from round to round (A B C D E, B C D E A, ...): each contender's forward pass
            # follows each other contender's step equally often, so none inherits one neighbour's cache and
            # allocator state (a step that allocates and frees large temporaries makes the next forward pass
            # pay page faults) in every round.
            for cname in rotated(names, rounds):
                iteration(*runs[cname], times[cname])
            rounds += 1
        del runs, m
    params = list(model.parameters())
    result = {"model": label, "params": sum(p.numel() for p in params), "tensors": len(params), "times": {}}
    for cname, ts in times.items():
        result["times"][cname] = {
            "total": statistics.median(a + b for a, b in ts),
            "fwd_bwd": statistics.median(a for a, _ in ts),
            "step": statistics.median(b for _, b in ts),
            # The median, over the rounds, of this contender's iteration over the baseline's in the same round:
            # a paired comparison, which a slow moment shared by the round cancels out of
            "paired": statistics.median((a + b) / (c + d) for (a, b), (c, d) in zip(ts, times[BASELINE])),
        }
    return result


def format_table(results: list[dict[str, object]], names: list[str]) -> str:
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
                for k in ("total", "fwd_bwd", "step", "paired")
                if all(k in run["results"][i]["times"][n] for run in runs)
            }
            for n in names
        }
        results.append(dict(first, times=times))
    for run in runs:
        print(f"run: {run['machine']}; load average at start {run['load_start']}, at end {run['load_end']}")
    print(f"medians of {len(runs)} runs\n")
    print(format_table(results, names))


def main():
    args = parse_args()
    if args.combine:
        combine(args.combine)
        return
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available on this machine")
    info = machine(torch, args.device)
    load_start = load_average()
    print(f"machine: {info}", flush=True)
    print(f"load average at the start: {load_start}", flush=True)
    print(
        f"timing: {args.placements} placements of the models, each with {args.warmup} warm-up iterations; "
        f"{args.iters} timed iterations per contender in all, interleaved; medians",
        flush=True,
    )
    models = args.models.split(",") if args.models else (["b"] if args.tiny else ["a", "b", "c", "d"])
    size = "-tiny" if args.tiny else "-quick" if args.quick else ""
    out = Path(args.out) if args.out else ROOT / "bench-results" / f"training-{args.device}{size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    for name in models:
        r = bench_model(torch, name, args)
        results.append(r)
        # Each model's row as soon as it is measured, and the JSON so far: a run cut short keeps what it measured.
        print(f"  {r['model']} done (load {load_average()})", flush=True)
        print(format_table([r], list(r["times"])).splitlines()[-1], flush=True)
        out.write_text(
            json.dumps(
                dict(machine=info, load_start=load_start, load_end=load_average(), args=vars(args), results=results),
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
