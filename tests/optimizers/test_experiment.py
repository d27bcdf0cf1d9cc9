"""Tests of the optimizer experiment: labml_nn/optimizers/experiment.py and its data, models and figures.

The smoke test runs the whole protocol end to end on a budget far below `--quick` (every optimizer of the
table, both tasks, a sweep of one rate and a second seed), then checks the CSV, the losses, resuming and the
figures. The runs are shared by the tests through a module-scoped fixture, so the file takes about 20 s.
"""

import csv
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from labml_nn.optimizers import experiment
from labml_nn.optimizers.experiment import FIELDS, Budget, Protocol
from labml_nn.optimizers.experiment_data import (
    DIGITS_TEST,
    DIGITS_VAL,
    VOCAB_SIZE,
    digits_split_indices,
    encode,
    eval_starts,
    load_digits_splits,
    load_text,
    load_text_splits,
)
from tests.optimizers.common import DEVICES

pytest.importorskip("sklearn", reason="the experiment's digits come from scikit-learn (the experiments extra)")

# Far below `--quick`: one rate (the usual one) and two seeds, so both stages of the protocol run; 20 steps
# on the digits and 12 on text, enough for every optimizer's validation loss to fall below its start.
TINY = Protocol(
    lr_multipliers=(1.0,),
    seeds=(0, 1),
    budgets={
        "digits": Budget(steps=20, batch_size=32, log_every=5, eval_every=10),
        "text": Budget(steps=12, batch_size=4, log_every=4, eval_every=6, context=16, eval_windows=4),
    },
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    runs = experiment.run_experiment(out, TINY, log=lambda line: None)
    return out, runs


# ## The data split


def test_digits_split_is_fixed_disjoint_and_complete():
    split = digits_split_indices()
    assert {k: len(v) for k, v in split.items()} == {"train": 1797 - DIGITS_VAL - DIGITS_TEST, "val": 360, "test": 360}
    # Disjoint and covering every image exactly once.
    together = np.concatenate([split["train"], split["val"], split["test"]])
    assert sorted(together.tolist()) == list(range(1797))
    # Fixed: NumPy's RandomState(0) stream, which NumPy keeps stable across versions. These are its values.
    assert split["test"][:6].tolist() == [4, 5, 6, 9, 14, 17]
    assert split["val"][:6].tolist() == [1, 2, 8, 22, 27, 29]
    assert int(split["test"].sum()) == 310906 and int(split["val"].sum()) == 333196
    # Independent of anything a run does: asking again gives the same sets.
    again = digits_split_indices()
    assert all(np.array_equal(split[k], again[k]) for k in split)


def test_digits_splits_hold_the_images_they_name():
    from sklearn.datasets import load_digits

    raw = load_digits()
    splits = load_digits_splits()
    idx = digits_split_indices()
    for name, s in splits.items():
        assert s.x.shape == (len(idx[name]), 1, 8, 8) and s.x.dtype == torch.float32
        # Pixel counts 0..16 scaled to [0, 1].
        assert s.x.min() == 0.0 and s.x.max() == 1.0
        assert torch.equal(s.y, torch.tensor(raw.target[idx[name]]))
        assert torch.equal(s.x.view(len(s.y), 64) * 16, torch.tensor(raw.data[idx[name]], dtype=torch.float32))
        # Every class is in every split (the smallest has 26 validation images).
        assert sorted(set(s.y.tolist())) == list(range(10))


def test_text_split_is_fixed_contiguous_and_disjoint():
    text = load_text()
    # The help topics of this CPython, joined in the order of their names.
    assert text.startswith('The "assert" statement\n')
    splits = load_text_splits()
    n = [len(splits[k].x) for k in ("train", "val", "test")]
    assert sum(n) == len(text)
    assert n[0] == int(len(text) * 0.9) and n[1] == int(len(text) * 0.05)
    # The three splits are consecutive slices: the held-out text never appears among training positions.
    ids = torch.cat([splits[k].x for k in ("train", "val", "test")])
    assert torch.equal(ids, encode(text))
    assert int(ids.max()) < VOCAB_SIZE
    # Evaluation windows are non-overlapping, inside the split, and the same every time.
    starts = eval_starts(n[1], 64, 128)
    assert len(starts) == 128 and torch.equal(starts, eval_starts(n[1], 64, 128))
    assert bool((starts.diff() >= 64).all()) and int(starts[-1]) + 64 < n[1]


# ## The smoke test


def test_csv_schema(tiny_run):
    out, runs = tiny_run
    with open(out / "results.csv", newline="") as f:
        records = list(csv.DictReader(f))
    assert tuple(records[0].keys()) == FIELDS == ("optimizer", "task", "lr", "seed", "step", "split", "loss", "metric")
    names = [s.name for s in experiment.optimizer_specs()]
    # Two runs (the sweep's one rate, then the second seed) per optimizer and task.
    assert len(runs) == 2 * 2 * len(names)
    assert {r["optimizer"] for r in records} == set(names)
    assert {r["task"] for r in records} == {"digits", "text"}
    assert {r["split"] for r in records} == {"train", "val", "test"}
    for r in records:
        float(r["lr"]), int(r["seed"]), int(r["step"]), float(r["loss"]), float(r["metric"])
    # Each run: validation at step 0, training rows every `log_every`, validation every `eval_every`,
    # then one test row, last.
    digits_adam = [
        (int(r["step"]), r["split"])
        for r in records
        if r["optimizer"] == "adam" and r["task"] == "digits" and r["seed"] == "0"
    ]
    assert digits_adam == [
        (0, "val"),
        (5, "train"),
        (10, "train"),
        (10, "val"),
        (15, "train"),
        (20, "train"),
        (20, "val"),
        (20, "test"),
    ]
    # The rate in the CSV is the rate that trained: the table's, rounded to 3 digits.
    assert {(r["optimizer"], r["lr"]) for r in records if r["optimizer"] in ("adam", "lion", "nadam")} == {
        ("adam", "0.001"),
        ("lion", "0.0001"),
        ("nadam", "0.002"),
    }


def test_every_optimizer_reduces_the_loss(tiny_run):
    out, runs = tiny_run
    for (optimizer, task, _lr, seed), rows in runs.items():
        val = [r[6] for r in rows if r[5] == "val"]
        # Chance level is ln 10 = 2.30 for the digits and about ln 97 = 4.57 for text (uniform over the
        # vocabulary); every optimizer, at its usual rate, gets below its starting point in 20 (12) steps.
        start = {"digits": math.log(10), "text": math.log(VOCAB_SIZE)}[task]
        assert val[0] == pytest.approx(start, rel=0.03), (optimizer, task, seed)
        assert math.isfinite(val[-1]) and val[-1] < val[0], (optimizer, task, seed, val)


def test_same_algorithm_same_numbers(tiny_run):
    # FusedAdam runs Adam's update over flat buffers: the same numbers to float32 rounding. torch's AdamW and
    # ours differ in eps (1e-8 against 1e-16 inside the root) only, which is far below these gradients.
    out, runs = tiny_run
    for task in ("digits", "text"):
        adam = runs[("adam", task, 1e-3, 0)]
        fused = runs[("fused-adam", task, 1e-3, 0)]
        assert [r[6] for r in adam] == pytest.approx([r[6] for r in fused], rel=1e-4)
        ours, theirs = runs[("adamw", task, 1e-3, 0)], runs[("torch-adamw", task, 1e-3, 0)]
        assert [r[6] for r in ours] == pytest.approx([r[6] for r in theirs], rel=1e-3)


def test_resume_gives_the_same_bytes(tiny_run, tmp_path):
    out, runs = tiny_run
    expected = (out / "results.csv").read_bytes()
    specs = experiment.optimizer_specs()
    # The table without its last line, run to the end: adding the line later and running again must
    # give the CSV of the whole table (runs go optimizer by optimizer).
    experiment.run_experiment(tmp_path, TINY, optimizers=specs[:-1], log=lambda line: None)
    partial = (tmp_path / "results.csv").read_bytes()
    assert 0 < len(partial) < len(expected) and expected.startswith(partial)
    # Then a kill at the 33rd step of the last line: its first run (20 digits steps) is finished, its
    # second was checkpointed at step 10 and is killed at step 13.
    with pytest.raises(experiment.Interrupted):
        experiment.run_experiment(tmp_path, TINY, stop_after_steps=33, log=lambda line: None)
    assert len(list((tmp_path / "checkpoints").glob("*.pt"))) == 1
    # And a torn write at the end of the CSV, as a kill during `append_rows` leaves it.
    with open(tmp_path / "results.csv", "ab") as f:
        f.write(b"adam,text,0.001,0,4,train,4.4")
    lines = []
    experiment.run_experiment(tmp_path, TINY, log=lines.append)
    assert (tmp_path / "results.csv").read_bytes() == expected
    # Only the killed run and the last line's text runs were trained again.
    assert len(lines) == 3
    # Finished runs leave no checkpoint behind.
    assert list((tmp_path / "checkpoints").glob("*")) == []
    # Running the finished experiment again trains nothing and changes nothing; the rows it returns
    # are those it returned when it trained them, the CSV's.
    assert experiment.run_experiment(tmp_path, TINY, log=lines.append) == runs
    assert len(lines) == 3 and (tmp_path / "results.csv").read_bytes() == expected


def test_plots_are_written_and_reproducible(tiny_run, tmp_path):
    pytest.importorskip("matplotlib")
    from labml_nn.optimizers.experiment_plots import plot_all

    out, runs = tiny_run
    summaries = experiment.summarize(runs, TINY)
    paths = plot_all(runs, summaries, TINY, tmp_path)
    assert [p.name for p in paths] == ["loss_curves.svg", "lr_sensitivity.svg", "results_table.svg"]
    for p in paths:
        text = p.read_text()
        assert text.startswith("<?xml") and "<svg" in text
        # No time stamp: the bytes depend on the results only.
        assert "<dc:date>" not in text
    (tmp_path / "again").mkdir()
    again = plot_all(runs, summaries, TINY, tmp_path / "again")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_summary_and_table(tiny_run):
    out, runs = tiny_run
    summaries = experiment.summarize(runs, TINY)
    s = next(s for s in summaries if s.task == "digits" and s.optimizer == "adam")
    assert s.lr == 1e-3 and len(s.test_loss) == 2 and list(s.sweep) == [1e-3]
    # The table's test numbers are the test rows of the chosen rate's seeds.
    assert s.test_metric == [runs[("adam", "digits", 1e-3, seed)][-1][7] for seed in (0, 1)]
    mean, std = experiment.Summary.mean_std([1.0, 2.0, 3.0])
    assert (mean, std) == (2.0, 1.0)
    table = experiment.markdown_table(summaries)
    assert table.startswith("| Task | Optimizer | Chosen rate |")
    assert table.count("\n") == 2 + len(summaries)


def test_select_lr_prefers_the_lowest_validation_loss_and_ranks_divergence_last():
    def rows(val_loss):
        return [("x", "digits", 0.0, 0, 10, "val", val_loss, 0.0), ("x", "digits", 0.0, 0, 10, "test", 0.0, 0.0)]

    assert experiment.select_lr([(1e-3, rows(0.5)), (1e-2, rows(0.4)), (1e-1, rows(float("nan")))]) == 1e-2
    # A tie goes to the smaller rate.
    assert experiment.select_lr([(1e-2, rows(0.4)), (1e-3, rows(0.4))]) == 1e-3


def test_a_folder_of_another_protocol_is_refused(tiny_run):
    out, _ = tiny_run
    with pytest.raises(ValueError, match="holds the runs of another protocol"):
        experiment.run_experiment(out, experiment.QUICK, log=lambda line: None)


def test_a_file_that_is_not_ours_is_refused(tmp_path):
    (tmp_path / "results.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match="not a results file of this experiment"):
        experiment.load_results(tmp_path / "results.csv")


# ## labml


def test_runs_plainly_without_labml(monkeypatch, tmp_path, capsys):
    # `None` in sys.modules makes `import labml` raise ImportError, as on a machine without it.
    monkeypatch.setitem(sys.modules, "labml", None)
    tracking = experiment.make_tracking(True, tmp_path / "labml")
    assert isinstance(tracking, experiment.PlainTracking)
    assert "labml is not installed" in capsys.readouterr().out
    spec = next(s for s in experiment.optimizer_specs() if s.name == "adam")
    runs = experiment.run_experiment(
        tmp_path, TINY, tasks=["digits"], optimizers=[spec], tracking=tracking, log=lambda line: None
    )
    assert len(runs) == 2 and not (tmp_path / "labml").exists()


def test_the_module_imports_without_labml():
    code = (
        "import sys; sys.modules['labml'] = None\n"
        "from labml_nn.optimizers import experiment, experiment_plots\n"
        "print(type(experiment.make_tracking(True, None)).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "PlainTracking"


def test_labml_records_the_runs(monkeypatch, tmp_path):
    pytest.importorskip("labml")
    # labml keeps its settings in ~/.labml; the test gives it a home of its own.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tracking = experiment.make_tracking(True, tmp_path / "labml")
    assert isinstance(tracking, experiment.LabmlTracking)
    spec = next(s for s in experiment.optimizer_specs() if s.name == "adam")
    runs = experiment.run_experiment(
        tmp_path, TINY, tasks=["digits"], optimizers=[spec], tracking=tracking, log=lambda line: None
    )
    # One labml run per training run, under <out>/labml/logs/<task>-<optimizer>/<uuid>/.
    folders = sorted((tmp_path / "labml" / "logs" / "digits-adam").iterdir())
    assert len(folders) == len(runs) == 2
    for folder in folders:
        assert (folder / "run.yaml").exists() and (folder / "configs.yaml").exists()
        logged = (folder / "log.jsonl").read_text()
        assert "loss.train" in logged and "loss.val" in logged
    assert (tmp_path / "home" / ".labml" / "configs.yaml").exists()
    # Tracking does not change a number: the CSV is that of an untracked run.
    plain = experiment.run_experiment(
        tmp_path / "plain", TINY, tasks=["digits"], optimizers=[spec], log=lambda line: None
    )
    assert (tmp_path / "plain" / "results.csv").read_bytes() == (tmp_path / "results.csv").read_bytes()
    assert plain == runs


# ## Devices and the command line


@pytest.mark.parametrize("device", DEVICES)
def test_a_run_on_each_device(device, tmp_path):
    spec = next(s for s in experiment.optimizer_specs() if s.name == "adam")
    runs = experiment.run_experiment(tmp_path, TINY, optimizers=[spec], device=device, log=lambda line: None)
    for rows in runs.values():
        val = [r[6] for r in rows if r[5] == "val"]
        assert val[-1] < val[0]


def test_command_line_refuses_a_missing_gpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SystemExit):
        experiment.main(["--device", "cuda"])
    assert "torch.cuda.is_available() is False" in capsys.readouterr().err


def test_command_line_plots_only_finished_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        experiment.main(["--plot-only", "--out", str(tmp_path)])
    assert "holds no finished run to plot" in capsys.readouterr().err


def test_command_line_refuses_an_unknown_optimizer(capsys):
    with pytest.raises(SystemExit):
        experiment.main(["--optimizers", "adam", "sgdd"])
    assert "unknown optimizer(s) sgdd" in capsys.readouterr().err
