"""What a benchmark prints about the machine it ran on: the CPU's model name and its cache sizes.

Shared by `bench_optimizers.py` and `bench_training.py` (each run as `python scripts/NAME.py`, so this
folder is on the import path).
"""

import platform
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo, else what `platform` knows."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name


def cache_sizes() -> dict[str, str]:
    """L2 and L3 sizes, from `lscpu` (totals over the instances) or else from /sys (one instance)."""
    sizes = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            for level in ("L2", "L3"):
                if line.startswith(f"{level} cache:"):
                    sizes[level] = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(base.glob("index*")) if base.exists() else []:
        try:
            level = "L" + (index / "level").read_text().strip()
            if level in ("L2", "L3") and level not in sizes:
                sizes[level] = (index / "size").read_text().strip() + " per instance"
        except OSError:
            pass
    return sizes
