"""Run every page as a learner would: each notebook of both sites in a fresh Jupyter kernel, and each
`.py` download as a script, from a fresh virtual environment that holds neither this checkout nor
the project, only what a Colab kernel starts with (torch, Jupyter's kernel).

    python scripts/run_notebooks.py                 # every notebook and .py download under docs/
    python scripts/run_notebooks.py adam lr_schedules   # the pages whose file name starts with these

The notebooks' own first cell installs the project (`notebook_install` in `[tool.litdoc]`: this
repository from its Git URL). Here git is told, for these runs only, that the repository's URL means
this checkout's last commit (`url.<path>.insteadOf`, through git's GIT_CONFIG_* variables), so the
first cell really runs pip on the Colab command, without the network reaching GitHub. The first
notebook of each site installs; the others find the project there and run two at a time. Each cell
has a time limit, and a notebook or script that fails prints its error and fails the run.

Exit status 0 when every notebook and every script ran; 1 otherwise, with one line per failure.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venvs" / "notebooks"
TORCH = os.environ.get("TORCH", "torch==2.13.0")
CELL_TIMEOUT = 300  # seconds; the demos are sized to finish in under a minute on one core
# The kernel and its client: what a Colab kernel has (its own Jupyter), not what the project needs.
KERNEL_PACKAGES = ("ipykernel", "nbclient", "nbformat")


def installs() -> dict[str, str]:
    """Each site's `notebook_install`, by output folder relative to docs/ ("" for the root site)."""
    found = {}
    for project in (REPO, REPO / "litdoc"):
        table = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["litdoc"]
        output = (project / table["output"]).resolve().relative_to(REPO / "docs").as_posix()
        found["" if output == "." else output] = table.get("notebook_install", "")
    return found


def git_redirect(install: str) -> dict[str, str]:
    """GIT_CONFIG_* variables that make git fetch `install`'s repository URL from this checkout."""
    url = install.split("git+", 1)[1].split("#", 1)[0].split("@", 1)[0] if "git+" in install else ""
    if not url:
        return {}
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{REPO}.insteadOf", "GIT_CONFIG_VALUE_0": url}


def make_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    constraints = ["-c", str(REPO / "constraints.txt")] if (REPO / "constraints.txt").is_file() else []
    subprocess.run([python, "-m", "pip", "install", "--quiet", TORCH], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *constraints, *KERNEL_PACKAGES], check=True)
    # What an earlier run's notebooks installed goes, so that this run's first cells install it again.
    for install in installs().values():
        name = install.split("[", 1)[0].split("@", 1)[0].strip()
        if name:
            subprocess.run([python, "-m", "pip", "uninstall", "--quiet", "--yes", name], check=False)
    return python


RUNNER = r"""
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
notebook = nbformat.read(sys.argv[1], as_version=4)
try:
    NotebookClient(notebook, timeout=int(sys.argv[2]), kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
except CellExecutionError as error:
    print(str(error)[-3000:], file=sys.stderr)
    sys.exit(1)
printed = sum(1 for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", []))
print(printed)
"""


def run_one(python: Path, path: Path, env: dict[str, str]) -> tuple[Path, bool, float, str]:
    """Run a notebook (in a kernel) or a `.py` download (as a script) in an empty folder of its own."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        if path.suffix == ".ipynb":
            command = [str(python), "-c", RUNNER, str(path), str(CELL_TIMEOUT), folder]
        else:
            command = [str(python), str(path), *script_args(path)]
        try:
            done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
            ok, detail = done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        except subprocess.TimeoutExpired:
            ok, detail = False, "timed out after 900 s"
    return path, ok, time.perf_counter() - started, detail


def script_args(path: Path) -> list[str]:
    """A `.py` download runs with its notebook's command line (the page's `notebook_args`)."""
    notebook = path.with_suffix(".ipynb")
    if not notebook.is_file():
        return []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and "sys.argv = [" in text:
            return json.loads(text.split("sys.argv = ", 1)[1].splitlines()[0].replace("'", '"'))[1:]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="only the pages whose file name starts with one of these")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once after the first of each site")
    args = parser.parse_args(argv)
    python = make_venv()
    sites = installs()
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    base.update({"OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if (REPO / "constraints.txt").is_file():
        base["PIP_CONSTRAINT"] = str(REPO / "constraints.txt")
    jobs: list[tuple[Path, dict[str, str]]] = []
    for site, install in sorted(sites.items(), key=lambda item: -len(item[0])):  # docs/litdoc before docs
        folder = REPO / "docs" / site
        env = {**base, **git_redirect(install)}
        others = {other for other in sites if other and other != site}
        for path in sorted(folder.rglob("*.ipynb")) + sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).as_posix()
            if any(relative.startswith(other + "/") for other in others if site == ""):
                continue  # a nested site's pages are run with its own set-up
            if args.pages and not any(path.name.startswith(page) for page in args.pages):
                continue
            jobs.append((path, env))
    # The first notebook of each site installs its project; the rest find it installed.
    firsts, seen = [], set()
    for path, env in jobs:
        key = env.get("GIT_CONFIG_VALUE_0", "")
        if path.suffix == ".ipynb" and key not in seen:
            seen.add(key)
            firsts.append((path, env))
    rest = [job for job in jobs if job not in firsts]
    results = [run_one(python, path, env) for path, env in firsts]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results += list(pool.map(lambda job: run_one(python, *job), rest))
    failed = [(path, detail) for path, ok, _, detail in results if not ok]
    for path, ok, seconds, _ in sorted(results, key=lambda r: -r[2]):
        print(f"{'ok  ' if ok else 'FAIL'} {seconds:6.1f}s  {path.relative_to(REPO)}")
    for path, detail in failed:
        print(f"\n{path.relative_to(REPO)}: failed\n{detail}")
    notebooks = [r for r in results if r[0].suffix == ".ipynb"]
    scripts = [r for r in results if r[0].suffix == ".py"]
    print(
        f"run_notebooks: notebooks {sum(r[1] for r in notebooks)} of {len(notebooks)} passed, "
        f"scripts {sum(r[1] for r in scripts)} of {len(scripts)} passed; slowest "
        f"{max((r[2] for r in results), default=0):.1f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
