"""A device's memory bandwidth, measured like STREAM's copy and triad, with torch tensors.

    python scripts/bandwidth.py                                   # the CPU, 2^25 float32 elements per array
    python scripts/bandwidth.py --device cuda --json bw.json      # a GPU, 2^27 elements per array

* copy:  `b.copy_(a)` reads N elements and writes N: 2N element sizes move;
* triad: `a = b + s c`, as `torch.add(b, c, alpha=s, out=a)`, reads 2N and writes N: 3N element sizes.

STREAM counts bytes the same way: it leaves out the read that a write-allocate cache does before a write, and so
do we. Each kernel runs `repeats` times after one untimed run, and the median counts: on CUDA timed with events
around each kernel, on a CPU with `time.perf_counter` (the kernel returns when it is done).

The arrays must be several times larger than the last cache level, else this measures the cache: the defaults
are 2^27 float32 elements (512 MiB an array) on CUDA, where an H100's L2 holds 50 MB, and 2^25 (128 MiB) on a CPU.

Shared with `bench_optimizers.py`, which sets FusedAdam's step against the time this bandwidth allows (each
script is run as `python scripts/NAME.py`, so this folder is on the import path).
"""

import argparse
import json
import statistics
import time
from pathlib import Path

# An Adam step reads the parameter, its gradient and both moments (exp_avg, exp_avg_sq) and writes back the
# parameter and both moments: 4 + 3 = 7 tensors of N elements, 28 bytes per float32 parameter.
ADAM_TENSORS_MOVED = 7
DEFAULT_ELEMENTS = {"cuda": 2**27, "cpu": 2**25}
TRIAD_SCALAR = 3.0


def measure(device: str = "cpu", elements: int = 0, repeats: int = 20) -> dict:
    """Median copy and triad bandwidth (bytes/s) over `repeats` runs on float32 arrays of `elements` each."""
    import torch

    dev = torch.device(device)
    n = elements or DEFAULT_ELEMENTS[dev.type]
    a = torch.full((n,), 1.0, device=dev)
    b = torch.full((n,), 2.0, device=dev)
    c = torch.full((n,), 0.5, device=dev)
    size = a.element_size()

    def copy():
        b.copy_(a)

    def triad():
        torch.add(b, c, alpha=TRIAD_SCALAR, out=a)

    def median_seconds(kernel) -> float:
        kernel()  # untimed: first touch of the pages, the CUDA context's lazy set-up
        times = []
        for _ in range(repeats):
            if dev.type == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                kernel()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
            else:
                begin = time.perf_counter()
                kernel()
                times.append(time.perf_counter() - begin)
        return statistics.median(times)

    copy_s = median_seconds(copy)
    triad_s = median_seconds(triad)
    # A wrong kernel would make the timing meaningless (after the copy, b = a's 1.0: the triad writes 2.5).
    if not torch.equal(a, b + TRIAD_SCALAR * c):
        raise RuntimeError("the triad computed a wrong result")
    return {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "dtype": "float32",
        "elements": n,
        "repeats": repeats,
        "copy_seconds": copy_s,
        "triad_seconds": triad_s,
        "copy": 2 * n * size / copy_s,
        "triad": 3 * n * size / triad_s,
    }


def adam_floor(params: int, bandwidth: float, element_size: int = 4) -> float:
    """The seconds an Adam step over `params` parameters needs at `bandwidth` bytes/s: 7 tensors move."""
    return ADAM_TENSORS_MOVED * params * element_size / bandwidth


def describe(result: dict) -> str:
    mib = result["elements"] * 4 / 2**20
    return (
        f"bandwidth on {result['device']}: copy {result['copy'] / 1e9:.1f} GB/s, triad {result['triad'] / 1e9:.1f} GB/s "
        f"(float32 arrays of {mib:.0f} MiB, medians of {result['repeats']})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--elements", type=int, default=0, help="per array (default: 2^27 on CUDA, 2^25 on a CPU)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", default=None, help="write the result to this file")
    args = parser.parse_args()
    result = measure(args.device, args.elements, args.repeats)
    print(describe(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
