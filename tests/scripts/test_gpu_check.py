"""Tests of scripts/gpu_check.sh and scripts/gpu_tables.py, through the dry run that CI can make.

The dry run is the GPU check's every step on the CPU at a tiny size: the optimizer tests of one file, both
benchmarks with `--tiny`, the training example and the experiment's quick mode with Adam alone. It runs once for
the module (about 50 s on 2 CPU cores), and the tests below check what it wrote: its exit status, the JSON files
and their keys, the dry-run marker, and the tables gpu_tables.py draws from those files.
"""

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def load_gpu_tables():
    return load_script("gpu_tables")


gpu_tables = load_gpu_tables()


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check")
    # TMPDIR: bench_optimizers.py makes a fresh compilation cache with mkdtemp, which this keeps inside pytest's tmp
    tmp = tmp_path_factory.mktemp("tmp")
    env = dict(os.environ, OUT=str(out), PYTHON=sys.executable, OMP_NUM_THREADS="1", TMPDIR=str(tmp))
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_check.sh"), "--dry-run"],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out, run


def read(out: Path, name: str) -> dict:
    return json.loads((out / name).read_text())


def test_exits_0_and_says_it_is_no_gpu_result(dry_run):
    out, run = dry_run
    assert run.returncode == 0, run.stdout + run.stderr
    assert "DRY RUN" in run.stdout
    assert run.stdout.count(gpu_tables.MARKER) == 1  # the brief summary's line
    assert "gpu_check: every step that ran passed" in run.stdout.splitlines()[-1]


def test_writes_few_files(dry_run):
    out, _ = dry_run
    expected = {
        "gpu_check.json",
        "summary.md",
        "bench_optimizers.json",
        "bench_training.json",
        "logs.tar.gz",
    } | ({"fused_adam_bench_cpu.svg", "experiment_loss_curves.svg"} if MATPLOTLIB else set())
    assert {p.name for p in out.iterdir()} == expected
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = set(tar.getnames())
    steps = ("tests", "bench_optimizers", "bench_training", "train_example", "experiment")
    assert {f"logs/{step}.log" for step in steps} | {"logs/tests.xml", "logs/steps.tsv"} <= names


def test_gpu_check_json_marks_the_dry_run(dry_run):
    out, _ = dry_run
    report = read(out, "gpu_check.json")
    assert report["dry_run"] is True
    assert report["gpu_result"] is False
    assert report["marker"] == "NOT A GPU RESULT (dry run on CPU)"
    assert report["reason"] == "--dry-run was given"
    assert list(report["steps"]) == list(gpu_tables.STEPS)
    for name, step in report["steps"].items():
        assert (step["status"], step["exit_code"]) == ("ok", 0), name
        assert 0 <= step["seconds"] <= step["limit"]
    env = report["environment"]
    assert env["torch"] and env["python"] and env["date"]


def test_counts_the_tests_from_pytests_report(dry_run):
    out, _ = dry_run
    tests = read(out, "gpu_check.json")["tests"]
    assert tests["failed"] == tests["errors"] == 0
    assert tests["passed"] > 0
    # test_adam.py runs its trajectory tests on every device: here the CUDA cases pass or are skipped
    cuda = tests["cuda"]
    assert cuda["passed"] + cuda["skipped"] > 0
    assert cuda["failed"] == cuda["errors"] == 0
    summary = read(out, "gpu_check.json")["tests_summary"]
    assert f"{tests['passed']} passed" in summary


def test_bench_optimizers_json_has_the_bandwidth_and_the_floor(dry_run):
    out, _ = dry_run
    bench = read(out, "bench_optimizers.json")
    assert bench["args"]["device"] == "cpu" and bench["args"]["tiny"] is True
    stream = bench["stream"]
    assert stream["copy"] > 0 and stream["triad"] > 0
    # bytes counted as STREAM counts them: copy moves 2N float32 elements, triad 3N
    assert stream["copy"] == pytest.approx(2 * 4 * stream["elements"] / stream["copy_seconds"])
    assert stream["triad"] == pytest.approx(3 * 4 * stream["elements"] / stream["triad_seconds"])
    assert bench["results"]
    for r in bench["results"]:
        assert set(r["times"]) >= {"torch fused=True", "FusedAdam"}
        # an Adam step moves 7 tensors of N float32 elements
        assert r["stream_floor"] == pytest.approx(7 * 4 * r["params"] / stream["triad"])
    headline = gpu_tables.headline_step(bench)
    biggest = max(bench["results"], key=lambda r: r["params"])
    assert headline["case"] == biggest["case"]
    assert headline["fraction"] == pytest.approx(biggest["stream_floor"] / biggest["times"]["FusedAdam"])


def test_bench_training_json_has_the_contenders(dry_run):
    out, _ = dry_run
    bench = read(out, "bench_training.json")
    assert bench["args"]["device"] == "cpu" and bench["args"]["tiny"] is True
    (result,) = bench["results"]
    assert result["model"] == "(b) 100 x Linear(64)"
    assert {"torch fused=True", "FusedAdam", "control: fused=True again"} <= set(result["times"])


def test_the_thp_baseline_runs_in_a_worker_of_its_own(dry_run):
    # PyTorch reads THP_MEM_ALLOC_ENABLE once per process: fused=True under it is timed in a second process
    out, _ = dry_run
    thp = "torch fused=True, THP_MEM_ALLOC_ENABLE=1"
    training = read(out, "bench_training.json")
    (result,) = training["results"]
    assert thp in result["times"] and "paired_thp" in result["times"]["FusedAdam"]
    assert len(result["samples"][thp]) == len(result["samples"]["FusedAdam"]) == training["args"]["iters"]
    optimizers = read(out, "bench_optimizers.json")
    assert all(thp in r["times"] for r in optimizers["results"])
    # bench_training.py: one process per contender; bench_optimizers.py: the main process and the THP worker
    for workers, default, other in (
        (training["workers"], "torch fused=True", thp),
        (optimizers["workers"], "default", "THP=1"),
    ):
        assert workers[default]["environment"]["THP_MEM_ALLOC_ENABLE"] == "unset"
        assert workers[other]["environment"]["THP_MEM_ALLOC_ENABLE"] == "1"
        assert len({w["threads"] for w in workers.values()}) == 1
    line = f"{thp}: THP_MEM_ALLOC_ENABLE=1,"
    assert any(x.startswith(line) for x in training["environment"])
    assert any(x.startswith(line) for x in optimizers["environments"])


def test_examples_final_lines_are_kept(dry_run):
    out, _ = dry_run
    examples = read(out, "gpu_check.json")["examples"]
    assert examples["train_example"][0].startswith("step    50  loss")
    assert examples["experiment"][0].startswith("| Task | Optimizer")


def test_tables_carry_the_marker(dry_run):
    out, _ = dry_run
    tables = gpu_tables.render(out)
    assert tables == (out / "summary.md").read_text()
    assert tables.splitlines()[2].startswith(f"**{gpu_tables.MARKER}**")
    assert tables.rstrip().endswith(f"**{gpu_tables.MARKER}**")
    for heading in ("## Steps", "## Tests", "## Memory bandwidth", "## The training loop", "## Examples"):
        assert heading in tables
    brief = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_tables.py"), "render", str(out), "--brief"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{gpu_tables.MARKER}: --dry-run was given" in brief
    assert "floor / time = " in brief


def test_benchmark_json_alone_from_a_cpu_is_marked(dry_run, tmp_path):
    out, _ = dry_run
    # Without gpu_check.json the benchmarks' own device decides.
    for name in ("bench_optimizers.json", "bench_training.json"):
        (tmp_path / name).write_text((out / name).read_text())
    assert gpu_tables.MARKER in gpu_tables.render(tmp_path)


def test_a_gpu_report_has_no_marker(dry_run, tmp_path):
    out, _ = dry_run
    # The same files, relabelled as a GPU run, render without the marker: the marker follows the JSON.
    report = read(out, "gpu_check.json")
    report.update(dry_run=False, gpu_result=True, marker=None, reason="")
    (tmp_path / "gpu_check.json").write_text(json.dumps(report))
    for name in ("bench_optimizers.json", "bench_training.json"):
        bench = copy.deepcopy(read(out, name))
        bench["args"]["device"] = "cuda"
        (tmp_path / name).write_text(json.dumps(bench))
    assert "NOT A GPU RESULT" not in gpu_tables.render(tmp_path)
    assert "NOT A GPU RESULT" not in gpu_tables.render(tmp_path, brief=True)
