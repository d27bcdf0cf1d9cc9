"""Contenders that need a process environment of their own, timed in turn with the others.

PyTorch reads `THP_MEM_ALLOC_ENABLE` once per process, at its first CPU allocation (a function-local static in
`c10/core/impl/alloc_cpu.cpp`; setting the variable after any tensor exists changes nothing), so
`torch.optim.Adam(fused=True)` under `THP_MEM_ALLOC_ENABLE=1` cannot share a process with contenders in the
default environment. The benchmarks therefore run one worker process per environment, started with its variables
set (or removed) before Python starts (`bench_training.py` one per contender), and the parent drives the rounds: it asks one worker at a time to do one
piece of work (one training iteration, one step) of one of its contenders, in the rotated order across all of
them, so that the contenders stay interleaved and paired round by round. A worker waits on its pipe while another
one works; nobody is pinned to a core, and every worker keeps PyTorch's default thread count.

Shared by `bench_optimizers.py` and `bench_training.py` (each run as `python scripts/NAME.py`, so this folder is on
the import path). The messages are JSON lines on two pipes of their own, so that whatever a worker (or
`torch.compile`) prints to its stdout cannot mix with them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

# The variables a benchmark reports per worker: PyTorch's huge-page switch, glibc's allocator settings, threads
THP_VARIABLE = "THP_MEM_ALLOC_ENABLE"
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The environments: name -> variables set at the worker's start (None: removed, PyTorch's default)
ENVIRONMENTS: dict[str, dict[str, Optional[str]]] = {
    "default": {THP_VARIABLE: None},
    "THP=1": {THP_VARIABLE: "1"},
}


def thp_mode() -> str:
    """The system's transparent huge page mode (`always`, `madvise` or `never`), or `unknown`."""
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "unknown"
    return text[text.index("[") + 1 : text.index("]")] if "[" in text else text.strip()


def process_environment() -> dict[str, str]:
    """This process's settings that move a CPU benchmark: the huge-page switch, glibc's allocator, threads."""
    names = (THP_VARIABLE,) + MALLOC_VARIABLES + THREAD_VARIABLES
    return {k: os.environ.get(k, "unset") for k in names}


def huge_pages_of(tensor) -> int:
    """KiB of the tensor's memory mapping that the kernel backs by huge pages (AnonHugePages in /proc/self/smaps),
    0 where it cannot say: a check that THP_MEM_ALLOC_ENABLE took effect."""
    address, inside = tensor.data_ptr(), False
    try:
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                head = line.split()
                if head and "-" in head[0] and not head[0].endswith(":"):
                    low, high = (int(x, 16) for x in head[0].split("-"))
                    inside = low <= address < high
                elif inside and head[0] == "AnonHugePages:":
                    return int(head[1])
    except (OSError, ValueError):
        pass
    return 0


def worker_report(torch) -> dict[str, object]:
    """What a worker says about itself: its environment, threads, and whether a fresh 8 MiB tensor (touched) lies
    in huge pages."""
    probe = torch.ones(2 * 2**20)
    report = dict(
        environment=process_environment(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        probe_huge_kib=huge_pages_of(probe),
    )
    del probe
    return report


def describe_environments(reports: dict[str, dict], contenders: dict[str, list[str]]) -> list[str]:
    """The THP mode, and one line per process (`reports`: each one's `worker_report`; `contenders`: each one's
    contenders): the variables that move a CPU benchmark, threads, and its probe's huge pages."""
    lines = [f"transparent huge pages: {thp_mode()} (/sys/kernel/mm/transparent_hugepage/enabled)"]
    for key, report in reports.items():
        variables = ", ".join(f"{k}={v}" for k, v in report["environment"].items())
        lines.append(
            f"{', '.join(contenders[key])}: {variables}; threads {report['threads']}; "
            f"a fresh 8 MiB tensor in huge pages: {report['probe_huge_kib']} KiB"
        )
    return lines


class Worker:
    """A copy of the calling script, started as `python SCRIPT --worker R,W` in one environment."""

    def __init__(self, script: str, name: str, variables: dict[str, Optional[str]], argv: list[str]):
        self.name = name
        env = {k: v for k, v in os.environ.items() if k not in variables}
        env.update({k: v for k, v in variables.items() if v is not None})
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, script, *argv, "--worker", f"{to_child},{from_child}"],
            env=env,
            pass_fds=(to_child, from_child),
        )
        os.close(to_child)
        os.close(from_child)
        self.send = os.fdopen(from_parent, "w", buffering=1)
        self.receive = os.fdopen(to_parent, "r")

    def call(self, **message) -> dict:
        self.send.write(json.dumps(message) + "\n")
        line = self.receive.readline()
        if not line:
            code = self.process.wait()
            raise RuntimeError(f"worker {self.name!r} ended (exit status {code}) on {message.get('cmd')!r}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"worker {self.name!r}: {reply['error']}")
        return reply

    def close(self) -> None:
        try:
            self.send.write(json.dumps({"cmd": "quit"}) + "\n")
            self.send.close()
        except OSError:
            pass
        self.process.wait(timeout=60)


def serve(fds: str, handlers: dict[str, Callable[..., Optional[dict]]]) -> None:
    """The worker's loop: each message names a handler, which gets the message's other fields."""
    read_fd, write_fd = (int(x) for x in fds.split(","))
    receive, send = os.fdopen(read_fd, "r"), os.fdopen(write_fd, "w", buffering=1)
    for line in receive:
        message = json.loads(line)
        command = message.pop("cmd")
        if command == "quit":
            break
        reply = handlers[command](**message) or {}
        try:
            send.write(json.dumps(reply) + "\n")
        except BrokenPipeError:
            # The parent has gone (stopped by hand, or failed): nothing is waiting for the reply
            return
