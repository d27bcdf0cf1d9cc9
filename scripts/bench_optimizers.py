"""Benchmark of Adam implementations against `torch.optim.Adam`, and against the memory floor.

    python scripts/bench_optimizers.py                 # CPU, full run, writes the page's SVG
    python scripts/bench_optimizers.py --quick         # a few cases, few steps, output in bench-results/
    python scripts/bench_optimizers.py --device cuda   # the same on a GPU
    python scripts/bench_optimizers.py --no-sweep --ablate-huge-pages   # and FusedAdam in 4 KiB pages
    python scripts/bench_optimizers.py --tiny --json t.json --svg t.svg # a check that it runs: tiny models, 3 steps
    python scripts/bench_optimizers.py --no-thp-baseline   # without the worker under THP_MEM_ALLOC_ENABLE=1

What it measures, in one run:

* the median time of one `step()` (the gradients are fixed; nothing else is timed) of
  `torch.optim.Adam` with `foreach=False`, `foreach=True` and `fused=True`, of `fused=True` under
  `THP_MEM_ALLOC_ENABLE=1` (in a worker process of its own, see below), of labml_nn's `Adam`, and of
  `FusedAdam` eager (`compiled=False`) and compiled, on
  (a) 24 x Linear(512, 512) (6.3M parameters in 48 tensors), (b) 100 x Linear(64, 64) (0.4M in 200),
  (L3) k x Linear(1024, 1024) with k chosen so that the parameters alone take at least four times this machine's
  L3 cache (read from /sys or `lscpu`), so that no array of the step stays in the cache between steps, and
  (c) a sweep of flat models from 0.1M to 25.6M parameters in 10, 100 and 1,000 tensors;
* the *floor*: the time to move the 28 bytes per float32 parameter (read parameter, gradient and both moments,
  write back three) at this machine's in-place streaming bandwidth B. B is defined as 28 N / t, where t is the
  median step time of `torch.optim.Adam(fused=True)` on one flat tensor of N = 64M parameters: that kernel reads
  four arrays and writes three of them in place, one pass, which is exactly the traffic pattern of an Adam step;
* the one-off cost of the first compiled step, with a fresh compilation cache unless `--warm-cache`;
* the machine's STREAM-like copy and triad bandwidth (`bandwidth.py`), and FusedAdam's step set against the time
  that the triad's bandwidth allows for the same 28 bytes per parameter (a floor independent of any optimizer).

Every case prints the median step time, its ratio to `torch.optim.Adam(fused=True)` and the fraction of the floor
reached (floor / time; above 1 where the arrays fit in the cache and the step beats main-memory bandwidth).

glibc's allocator returns large freed blocks to the system and maps them again on the next allocation, so the
non-fused optimizers, which allocate a temporary per tensor and step, pay page faults on every step. Unless
`--malloc default` is given, the script re-runs itself with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_
set high, so that every implementation runs in the same, undistorted allocator environment; it prints which.

Timings are noisy on a shared machine, and an optimizer timed in one block after another can find the cache warm
or cold, or the machine busy or idle, in ways the others do not: within a case the optimizers take turns one step
at a time, in an order that rotates from round to round (A B C, B C A, ...), and each reports the median of its
steps. The load average is printed at the start and the end.

PyTorch reads `THP_MEM_ALLOC_ENABLE` once per process, at its first CPU allocation; with it set to 1 its allocator
marks every allocation of 2 MiB or more for transparent huge pages, as `FusedAdam` marks its own buffers, which
makes it the baseline's best documented CPU configuration. So the contender
"torch fused=True, THP_MEM_ALLOC_ENABLE=1" lives in a worker process (`envworkers.py`), started with the same
arguments and allocator environment plus that variable: it makes the same parameters and gradients from the same
seed, and the main process asks it for one timed step whenever that contender's turn comes in the rotated order,
so the steps stay interleaved across both processes. Neither process is pinned, both keep PyTorch's default
thread count, and the environment line says which variables each process ran with. `--no-thp-baseline` leaves it
out. With the worker, the script waits `--gap` ms (10 by default) after every timed step, whoever made it: PyTorch's
OpenMP threads spin for a while after a parallel region (about 4 ms of CPU time on the development machine), and a
step that starts in the other process while they spin shares the cores with them (`bench_training.py` says more). On CUDA, case (L3) is sized by the GPU's L2 cache instead
(4 x L2). With `--json`, the JSON is written after every case, so a run cut short keeps what it measured. This is a step benchmark on reused gradients: `scripts/bench_training.py` measures whole training
iterations, which is what a user's loop costs.
"""

import argparse
import atexit
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from bandwidth import adam_floor, describe
from bandwidth import measure as measure_stream
from envworkers import ENVIRONMENTS, Worker, describe_environments, serve, worker_report
from machine import cache_sizes, cpu_model

ROOT = Path(__file__).resolve().parent.parent
# The allocator settings of the "tuned" environment (bytes): large enough that no temporary of the benchmark is
# returned to the system between steps.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(2**31), "MALLOC_TRIM_THRESHOLD_": str(2**32)}
BYTES_PER_PARAM = 28  # float32: read theta, g, m, v (16 bytes), write theta, m, v (12 bytes)
FLOOR_PARAMS = 64 * 2**20
# --tiny: parameters of the floor's tensor and of the STREAM arrays, small enough for a CPU check in seconds
TINY_ELEMENTS = 2**20
BASELINE = "torch fused=True"
# The baseline in its best documented CPU configuration, in a worker process started with THP_MEM_ALLOC_ENABLE=1
THP_BASELINE = "torch fused=True, THP_MEM_ALLOC_ENABLE=1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="few cases and steps; output in bench-results/ only")
    parser.add_argument(
        "--tiny", action="store_true", help="tiny models and 3 steps: checks that the script runs, measures nothing"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed steps per optimizer and case (default 60, quick 10, tiny 3), interleaved between the optimizers",
    )
    parser.add_argument(
        "--malloc",
        default="tuned",
        choices=["tuned", "default"],
        help="glibc allocator environment (see the module docstring)",
    )
    parser.add_argument(
        "--no-sweep", action="store_true", help="only (a), (b) and (L3): no sweep (c) and no figure, for a busy machine"
    )
    parser.add_argument(
        "--warm-cache", action="store_true", help="use torch.compile's usual on-disk cache instead of a fresh one"
    )
    parser.add_argument(
        "--ablate-huge-pages",
        action="store_true",
        help="add the contender 'FusedAdam, 4 KiB pages': FusedAdam with huge_pages = False",
    )
    parser.add_argument(
        "--no-thp-baseline", action="store_true", help=f"leave out the contender '{THP_BASELINE}' and its worker"
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=None,
        help="ms to wait after every timed step (default 10 with the THP worker, 0 without)",
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help="folder for the JSON, the tables and (quick) the SVG")
    parser.add_argument("--json", default=None, help="write the JSON to this file instead (after every case)")
    parser.add_argument("--svg", default=None, help="draw the figure into this file instead")
    args = parser.parse_args()
    args.steps = args.steps or (3 if args.tiny else 10 if args.quick else 60)
    if args.gap is None:
        args.gap = 0.0 if args.no_thp_baseline else 10.0
    return args


def reexec_with_allocator(args) -> None:
    """Runs this script again in the chosen allocator environment, if this process is not in it already. The main
    process is the default environment of PyTorch's own allocator as well: THP_MEM_ALLOC_ENABLE removed."""
    wanted = TUNED_MALLOC if args.malloc == "tuned" else {k: None for k in TUNED_MALLOC}
    wanted = wanted | ENVIRONMENTS["default"]
    if all(os.environ.get(k) == v for k, v in wanted.items()):
        return
    env = {k: v for k, v in os.environ.items() if k not in wanted}
    env.update({k: v for k, v in wanted.items() if v is not None})
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def make_params(torch, device, sizes: list[list[int]], seed: int = 0) -> list:
    """Parameters of the given shapes, each with a fixed random gradient (the same in every process)."""
    from torch import nn

    g = torch.Generator(device="cpu").manual_seed(seed)
    params = []
    for shape in sizes:
        p = nn.Parameter(torch.randn(shape, generator=g).mul_(0.02).to(device))
        p.grad = torch.randn(shape, generator=g).to(device)
        params.append(p)
    return params


def run_worker(args) -> None:
    """The worker's side: `fused=True` on the case's parameters, one timed step per message."""
    import torch

    device = torch.device(args.device)
    state: dict = {}

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def case(shapes: list[list[int]]) -> None:
        state.clear()
        optimizer = torch.optim.Adam(make_params(torch, device, shapes), fused=True)
        # The first step makes the state; three more, as the main process does for its optimizers
        for _ in range(4):
            optimizer.step()
        state["optimizer"] = optimizer

    def step() -> dict:
        sync()
        start = time.perf_counter()
        state["optimizer"].step()
        sync()
        return {"t": time.perf_counter() - start}

    serve(args.worker, {"info": lambda: worker_report(torch), "case": case, "step": step, "free": state.clear})


START_LOAD = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def main():
    args = parse_args()
    if args.worker:
        run_worker(args)
        return
    reexec_with_allocator(args)
    if not args.warm_cache and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        # A fresh cache, so the compile time below is what a new machine pays.
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-inductor-")

    import torch

    sys.path.insert(0, str(ROOT))
    from labml_nn.optimizers.adam import Adam
    from labml_nn.optimizers.fused_adam import FusedAdam

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available on this machine")

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    # Optimizers, by the name the tables use; each takes a list of parameters.
    optimizers: dict[str, Callable] = {
        "torch foreach=False": lambda p: torch.optim.Adam(p, foreach=False),
        "torch foreach=True": lambda p: torch.optim.Adam(p, foreach=True),
        "torch fused=True": lambda p: torch.optim.Adam(p, fused=True),
        "labml Adam": lambda p: Adam(p),
        "FusedAdam eager": lambda p: FusedAdam(p, compiled=False),
        "FusedAdam": lambda p: FusedAdam(p),
    }
    if args.ablate_huge_pages:

        def small_pages(p):
            opt = FusedAdam(p)
            opt.huge_pages = False
            return opt

        optimizers["FusedAdam, 4 KiB pages"] = small_pages
    baseline = BASELINE

    # The THP baseline's worker: a copy of this script, with this process's arguments and allocator environment
    worker = None
    if not args.no_thp_baseline:
        worker = Worker(__file__, "THP=1", ENVIRONMENTS["THP=1"], sys.argv[1:])
        optimizers[THP_BASELINE] = None  # stepped in the worker
    reports = {"default": worker_report(torch)} | ({"THP=1": worker.call(cmd="info")} if worker else {})
    if len({r["threads"] for r in reports.values()}) > 1:
        sys.exit(f"the processes' thread counts differ: { {e: r['threads'] for e, r in reports.items()} }")
    environments = describe_environments(
        reports, {"default": [n for n in optimizers if n != THP_BASELINE], "THP=1": [THP_BASELINE]}
    )
    if worker:
        atexit.register(worker.close)

    def linear_stack(layers: int, width: int) -> list[list[int]]:
        return [[width, width], [width]] * layers

    def flat_model(n: int, tensors: int) -> list[list[int]]:
        return [[n // tensors + (1 if i < n % tensors else 0)] for i in range(tensors)]

    compile_times: list[float] = []

    def bench_case(shapes: list[list[int]], names: list[str]) -> dict[str, float]:
        """Median step time of each optimizer on a model of the given parameter shapes, steps interleaved."""
        runs = {}
        for name in names:
            if name == THP_BASELINE:
                worker.call(cmd="case", shapes=shapes)
                continue
            params = make_params(torch, device, shapes)
            optimizer = optimizers[name](params)
            # The first step makes the state (and, for FusedAdam, the buffers and the compiled kernel).
            sync()
            start = time.perf_counter()
            optimizer.step()
            sync()
            first = time.perf_counter() - start
            if name == "FusedAdam":
                compile_times.append(first)
            for _ in range(3):
                optimizer.step()
            runs[name] = optimizer
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(args.steps):
            # The order rotates from round to round, so that no optimizer always follows the same one.
            for name in names[i % len(names) :] + names[: i % len(names)]:
                if name == THP_BASELINE:
                    times[name].append(worker.call(cmd="step")["t"])
                    time.sleep(args.gap / 1e3)
                    continue
                sync()
                start = time.perf_counter()
                runs[name].step()
                sync()
                times[name].append(time.perf_counter() - start)
                time.sleep(args.gap / 1e3)
        del runs
        if THP_BASELINE in names:
            worker.call(cmd="free")
        return {name: statistics.median(ts) for name, ts in times.items()}

    # ## The floor
    # Measured before and after the cases; the higher bandwidth (the lower, stricter floor) counts, so that a
    # busy moment during one measurement cannot make the floor easy to reach.
    n_floor = TINY_ELEMENTS if args.tiny else FLOOR_PARAMS if not args.quick else FLOOR_PARAMS // 4

    def measure_bandwidth() -> float:
        return BYTES_PER_PARAM * n_floor / bench_case([[n_floor]], [baseline])[baseline]

    bandwidths = [measure_bandwidth()]
    bandwidth = bandwidths[0]

    def floor(n_params: int) -> float:
        return BYTES_PER_PARAM * n_params / bandwidth

    # The STREAM-like bandwidth, measured once here (the arrays are freed before the cases)
    stream = measure_stream(args.device, TINY_ELEMENTS if args.tiny else 0)
    print(describe(stream), flush=True)

    names = list(optimizers)
    results = []
    out = Path(args.out) if args.out else ROOT / "bench-results"
    tag = f"{args.device}-{args.malloc}{'-tiny' if args.tiny else '-quick' if args.quick else ''}"
    json_path = Path(args.json) if args.json else out / f"optimizers-{tag}.json"

    def write_json():
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(
            json.dumps(
                dict(
                    environment=environment(torch, args, bandwidth, n_floor),
                    load_start=START_LOAD,
                    environments=environments,
                    workers=reports,
                    machine=machine(torch, args.device),
                    args=vars(args),
                    bandwidth=bandwidth,
                    stream=stream,
                    compile_times=compile_times,
                    results=results,
                ),
                indent=1,
            )
        )

    def record(case: str, shapes: list[list[int]], times: dict[str, float], sweep: bool):
        n = sum(int(torch.Size(s).numel()) for s in shapes)
        results.append(
            dict(
                case=case,
                params=n,
                tensors=len(shapes),
                sweep=sweep,
                times=times,
                floor=floor(n),
                stream_floor=adam_floor(n, stream["triad"]),
            )
        )
        print(
            f"  {case}: {n / 1e6:.2f}M parameters in {len(shapes)} tensors (floor {floor(n) * 1e3:.3f} ms)", flush=True
        )
        if args.json:
            write_json()

    print(environment(torch, args, bandwidth, n_floor), flush=True)
    print("\n".join(environments), flush=True)
    cache_level, cache = ("L2", gpu_l2_bytes(torch)) if device.type == "cuda" else ("L3", l3_bytes())
    big_layers, big_label = big_case(cache, cache_level, available_memory(torch, device), len(names))
    if "capped" in big_label:
        print(f"case ({cache_level}): {big_label}", flush=True)
    cases = [
        ("(a) 24 x Linear(512)", linear_stack(24, 512)),
        ("(b) 100 x Linear(64)", linear_stack(100, 64)),
        (f"({cache_level}) {big_layers} x Linear(1024), {big_label}", linear_stack(big_layers, 1024)),
    ]
    if args.tiny:
        cases = [("(a) 4 x Linear(64)", linear_stack(4, 64)), ("(b) 20 x Linear(16)", linear_stack(20, 16))]
    for case, shapes in cases:
        record(case, shapes, bench_case(shapes, names), sweep=False)

    sizes = [100_000, 1_600_000] if args.quick else [100_000, 400_000, 1_600_000, 6_400_000, 25_600_000]
    counts = [10, 1000] if args.quick else [10, 100, 1000]
    if args.tiny:
        sizes, counts = [10_000, 40_000], [10]
    if args.no_sweep:
        sizes = []
    for n in sizes:
        for k in counts:
            shapes = flat_model(n, k)
            record(f"(c) {n / 1e6:g}M / {k}", shapes, bench_case(shapes, names), sweep=True)

    bandwidths.append(measure_bandwidth())
    print(f"bandwidth before the cases {bandwidths[0] / 1e9:.1f} GB/s, after {bandwidths[1] / 1e9:.1f} GB/s")
    bandwidth = max(bandwidths)
    for r in results:
        r["floor"] = floor(r["params"])

    report = format_report(torch, args, bandwidth, n_floor, results, names, baseline, compile_times, stream)
    report = report.replace("\n", "\n" + "\n".join(environments) + "\n", 1)
    print(report)

    out.mkdir(parents=True, exist_ok=True)
    (out / f"optimizers-{tag}.md").write_text(report)
    write_json()
    if args.no_sweep:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: no figure")
        return
    # Only a full run in the environment the page reports replaces the page's figure.
    svg_dir = (
        out
        if args.quick or args.tiny or (args.device == "cpu" and args.malloc != "tuned")
        else ROOT / "labml_nn" / "optimizers"
    )
    svg = Path(args.svg) if args.svg else svg_dir / f"fused_adam_bench_{args.device}.svg"
    plot(results, names, bandwidth, svg, title=f"Adam step time, {describe_device(torch, args.device)}")
    print(f"wrote {svg}")


# The bytes one contender holds per float32 parameter while a case runs: the parameter, its gradient and both
# moments (16), and room for FusedAdam's flat buffers and the per-tensor optimizers' temporaries
BYTES_HELD_PER_PARAM = 24
LINEAR_1024 = 1024 * 1025  # parameters of one Linear(1024, 1024) with its bias


def available_memory(torch, device) -> int:
    """Bytes the big case may use: the device's free memory (a GPU's, or the system's available RAM), or 0 where
    this cannot be read (then the case is not capped)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info()[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def big_case(cache: int, level: str, available: int, contenders: int) -> tuple[int, str]:
    """The big case's number of Linear(1024) layers, and how to name it.

    Its parameters alone take at least 4 times the last cache level (L3; a GPU's L2), so that no array of a step
    stays in the cache from one step to the next. Every contender holds its own copy of the model and its state
    while the case runs, so on a machine whose cache is large against its memory (a virtual machine that reports
    its host's L3, say) that model would not fit: then the case takes half the available memory, and its name says
    that it was capped and how its working set (parameters, gradients and both moments) compares with the cache.
    """
    layers = max(1, -(-4 * cache // (4 * LINEAR_1024)))
    if available:
        fits = max(1, int(available / 2 // (BYTES_HELD_PER_PARAM * LINEAR_1024 * contenders)))
        if fits < layers:
            working_set = 16 * LINEAR_1024 * fits
            return fits, (
                f"capped by memory (4 x {level} would need {layers} layers): working set "
                f"{working_set / cache:.1f} x {level}"
            )
    return layers, f"parameters 4 x {level}"


def l3_bytes() -> int:
    """This machine's L3 cache in bytes, summed over its instances (`lscpu`), or one instance's (/sys); 32 MiB
    where neither says."""
    import re
    import subprocess

    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        out = subprocess.run(["lscpu", "-B"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("L3 cache:"):
                return int(line.split(":", 1)[1].split()[0])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        pass
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            if (index / "level").read_text().strip() == "3":
                size = re.fullmatch(r"(\d+)([KMG]?)", (index / "size").read_text().strip())
                return int(size.group(1)) * units.get(size.group(2), 1)
        except (OSError, AttributeError):
            pass
    return 32 * 2**20


def gpu_l2_bytes(torch) -> int:
    """The current GPU's L2 cache in bytes; 50 MB (an H100's) where this torch does not say."""
    return int(getattr(torch.cuda.get_device_properties(torch.cuda.current_device()), "L2_cache_size", 50 * 10**6))


def machine(torch, device: str) -> dict:
    """The versions and the device, as fields for the tables that `gpu_tables.py` draws (cuda: None on a CPU build)."""
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "cpu": cpu_model()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def cache_description() -> str:
    sizes = cache_sizes()
    return "; ".join(f"{level} {size}" for level, size in sizes.items()) or f"L3 {l3_bytes() / 2**20:.0f} MiB"


def describe_device(torch, device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{cpu_model()}, {torch.get_num_threads()} threads, {cache_description()}"


def environment(torch, args, bandwidth: float, n_floor: int) -> str:
    malloc = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in TUNED_MALLOC)
    load = ""
    if hasattr(os, "getloadavg"):
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return (
        f"device: {describe_device(torch, args.device)}; torch {torch.__version__}; now {load}\n"
        f"allocator: {args.malloc} ({malloc})\n"
        f"bandwidth B = {bandwidth / 1e9:.1f} GB/s: torch.optim.Adam(fused=True) on one flat float32 tensor of "
        f"{n_floor / 2**20:.0f}Mi parameters, {BYTES_PER_PARAM} bytes each (the better of a measurement "
        f"before and one after the cases)\n"
        f"timing: median of {args.steps} steps per optimizer, interleaved between the optimizers, {args.gap:g} ms apart"
    )


def format_report(torch, args, bandwidth, n_floor, results, names, baseline, compile_times, stream) -> str:
    lines = [
        environment(torch, args, bandwidth, n_floor) + f" (load average at the start: {START_LOAD})",
        f"L3 cache: {l3_bytes() / 2**20:.0f} MiB",
        "",
    ]
    lines.append("Step time in ms; (x) = ratio to " + baseline + "; [f] = floor / time")
    lines.append("")
    header = "| case | params | tensors | floor ms | " + " | ".join(names) + " |"
    lines += [header, "|" + "---|" * (4 + len(names))]
    for r in results:
        base = r["times"].get(baseline)
        cells = []
        for name in names:
            t = r["times"].get(name)
            if t is None:
                cells.append("")
                continue
            ratio = f" ({t / base:.2f}x)" if base else ""
            cells.append(f"{t * 1e3:.3f}{ratio} [{r['floor'] / t:.2f}]")
        lines.append(
            f"| {r['case']} | {r['params'] / 1e6:.2f}M | {r['tensors']} | {r['floor'] * 1e3:.3f} | "
            + " | ".join(cells)
            + " |"
        )
    lines.append("")
    first = ", ".join(f"{t:.2f}" for t in compile_times)
    lines.append(
        f"FusedAdam first step (buffers + torch.compile; {'warm' if args.warm_cache else 'fresh'} cache), "
        f"s, per model in order: {first}"
    )
    lines += ["", describe(stream)]
    lines.append(
        "FusedAdam against the STREAM triad: the time 28 bytes per parameter take at its bandwidth / the step time"
    )
    for r in results:
        t = r["times"].get("FusedAdam")
        if t:
            lines.append(
                f"  {r['case']}: {r['stream_floor'] * 1e3:.3f} ms / {t * 1e3:.3f} ms = {r['stream_floor'] / t:.2f}"
            )
    return "\n".join(lines)


def plot(results, names, bandwidth, path: Path, title: str) -> None:
    """Step time against parameters, one panel per tensor count, the floor as a dashed line. Byte-reproducible."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "labml-nn-bench"
    plt.rcParams["svg.fonttype"] = "none"
    sweep = [r for r in results if r["sweep"]]
    counts = sorted({r["tensors"] for r in sweep})
    fig, axes = plt.subplots(1, len(counts), figsize=(4.2 * len(counts), 4), sharey=True, squeeze=False)
    for ax, count in zip(axes[0], counts):
        rows = sorted((r for r in sweep if r["tensors"] == count), key=lambda r: r["params"])
        xs = [r["params"] for r in rows]
        for name in names:
            ax.plot(xs, [r["times"][name] * 1e3 for r in rows], marker="o", markersize=3, label=name)
        ax.plot(xs, [BYTES_PER_PARAM * x / bandwidth * 1e3 for x in xs], "k--", label="floor (28 bytes / B)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("parameters")
        ax.set_title(f"{count} tensors")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("ms per step (median)")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
