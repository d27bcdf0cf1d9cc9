"""The numbers that "Which optimizer when" (labml_nn/optimizers/choosing.py) quotes from the experiment,
recomputed from the committed results; nothing is trained here."""

import math
from pathlib import Path

import pytest
import torch

from labml_nn.optimizers import choosing, experiment

RESULTS = Path(experiment.__file__).parent / "experiment_results" / "results.csv"
PAGE = choosing.__doc__ or ""


@pytest.fixture(scope="module")
def summaries():
    return {(s.task, s.optimizer): s for s in experiment.summarize(experiment.load_results(RESULTS), experiment.FULL)}


def mean(summaries, task, optimizer) -> float:
    return experiment.Summary.mean_std(summaries[task, optimizer].test_metric)[0]


def quoted(text: str) -> None:
    assert text in PAGE, text


def test_adamw_default(summaries):
    assert summaries["digits", "adamw"].lr == summaries["text", "adamw"].lr == 0.00316
    quoted(r"$3.16 \cdot 10^{-3}$ on both")
    assert f"{100 * mean(summaries, 'digits', 'adamw'):.1f}" == "98.3"
    assert f"{mean(summaries, 'text', 'adamw'):.3f}" == "2.976"
    quoted("98.3% test accuracy on the digits and 2.976 bits per character")


def test_sgd_momentum(summaries):
    ratio = summaries["digits", "sgd-momentum"].lr / summaries["digits", "adamw"].lr
    assert round(ratio) == 32
    quoted("at $0.1$, about 32 times AdamW's")
    assert f"{100 * mean(summaries, 'digits', 'sgd-momentum'):.1f}" == "97.7"
    sgd = summaries["digits", "sgd-momentum"].test_metric
    assert (f"{100 * min(sgd):.1f}", f"{100 * max(sgd):.1f}") == ("96.4", "98.6")
    quoted(
        "reached 97.7%, within seed noise of every line above it but SOAP (its best seed reaches\n  their worst), with the widest spread of seeds on the digits but LAMB's (96.4% to 98.6%)"
    )
    digits = [s for (task, _), s in summaries.items() if task == "digits"]
    by_spread = sorted(digits, key=lambda s: max(s.test_metric) - min(s.test_metric))
    assert [s.optimizer for s in by_spread[-2:]] == ["sgd-momentum", "lamb"]
    # Within seed noise of every line above it but SOAP: its best seed reaches the worst seed of each
    above = experiment.ranked(digits, "digits")
    above = above[: [s.optimizer for s in above].index("sgd-momentum")]
    assert above[0].optimizer == "soap" and max(sgd) < min(above[0].test_metric)
    assert all(max(sgd) >= min(s.test_metric) for s in above[1:])
    assert f"{mean(summaries, 'text', 'sgd-momentum'):.3f}" == "3.096"
    # "at 0.3 it ended at chance level": the sweep's final validation loss there is ln 10 or worse
    assert summaries["digits", "sgd-momentum"].sweep[0.316] > 2.2


def test_muon(summaries):
    muon, adamw = summaries["text", "muon"], summaries["text", "adamw"]
    assert muon.lr == 0.02 and f"{mean(summaries, 'text', 'muon'):.3f}" == "2.840"
    gap = mean(summaries, "text", "adamw") - mean(summaries, "text", "muon")
    assert f"{gap:.3f}" == "0.136"
    quoted("2.840 bits per character at $0.02$, 0.136 bits ahead of AdamW")
    others = [s for (task, name), s in summaries.items() if task == "text" and name not in ("muon", "soap")]
    assert max(muon.test_metric) < min(min(s.test_metric) for s in others)
    assert max(summaries["text", "soap"].test_metric) < min(muon.test_metric)
    quoted("every seed of every other line but SOAP")
    assert f"{100 * mean(summaries, 'digits', 'muon'):.1f}" == "98.4" and summaries["digits", "muon"].lr == 0.02
    quoted("98.4% at $0.02$")
    quoted("$0.02$ was best on both tasks")
    assert adamw.lr == 0.00316


def test_lion_and_adafactor(summaries):
    assert (summaries["digits", "lion"].lr, summaries["text", "lion"].lr) == (0.000316, 0.001)
    adamw = summaries["text", "adamw"].lr
    assert (round(adamw / 0.000316), round(adamw / 0.001, 2)) == (10, 3.16)
    assert f"{mean(summaries, 'text', 'lion'):.3f}" == "2.967"
    assert f"{100 * mean(summaries, 'digits', 'lion'):.1f}" == "96.7"
    quoted("fell behind on the digits (96.7%)")
    assert summaries["digits", "adafactor"].lr == 0.01 and summaries["text", "adafactor"].lr == adamw
    assert summaries["digits", "adafactor"].lr == max(summaries["digits", "adafactor"].sweep)
    assert f"{100 * mean(summaries, 'digits', 'adafactor'):.1f}" == "99.0"
    quoted("level on the digits (99.0%, at the top of its\n  sweep")
    gap = mean(summaries, "text", "adafactor") - mean(summaries, "text", "adamw")
    assert f"{gap:.3f}" == "0.107"
    quoted("0.107 bits behind AdamW on the text")


def test_the_schedules_are_in_the_experiment(summaries):
    names = {spec.name for spec in experiment.optimizer_specs()}
    assert {"schedule-free", "adamw-cosine"} <= names
    assert "says nothing about the schedule" not in PAGE and "the experiment leaves it out" not in PAGE
    # AdamW with warm-up and cosine decay against the constant rate
    cosine, adamw = summaries["digits", "adamw-cosine"].test_metric, summaries["digits", "adamw"].test_metric
    assert f"{100 * mean(summaries, 'digits', 'adamw-cosine'):.1f}" == "98.5"
    assert sorted(round((a - b) * 360) for a, b in zip(cosine, adamw)) == [-1, 0, 3]  # within seed noise
    cosine, adamw = summaries["text", "adamw-cosine"].test_metric, summaries["text", "adamw"].test_metric
    gap = mean(summaries, "text", "adamw-cosine") - mean(summaries, "text", "adamw")
    assert f"{gap:.3f}" == "0.094" and f"{mean(summaries, 'text', 'adamw-cosine'):.3f}" == "3.070"
    assert all(a > b for a, b in zip(cosine, adamw))
    quoted("0.094 bits per\n  character behind the constant rate on the text (3.070), on every seed")
    assert experiment.FULL.budgets["text"].steps == 200
    # The constant rate's validation loss was still falling at the text's last evaluation, on every seed
    val: dict[str, list[float]] = {}
    for fields in (line.split(",") for line in RESULTS.read_text().splitlines()):
        if fields[:3] == ["adamw", "text", "0.00316"] and fields[5] == "val":
            val.setdefault(fields[3], []).append(float(fields[6]))
    assert sorted(val) == ["0", "1", "2"] and all(losses[-1] < losses[-2] for losses in val.values())
    assert (summaries["text", "adamw-cosine"].lr, summaries["digits", "adamw-cosine"].lr) == (0.00316, 0.01)
    # Schedule-Free: its default rate chosen on both tasks, the next one up worse; against the cosine
    for task in experiment.TASKS:
        sweep = summaries[task, "schedule-free"].sweep
        assert summaries[task, "schedule-free"].lr == 0.0025 and sweep[0.00791] > sweep[0.0025]
    sf, cosine = summaries["text", "schedule-free"].test_metric, summaries["text", "adamw-cosine"].test_metric
    assert f"{mean(summaries, 'text', 'adamw-cosine') - mean(summaries, 'text', 'schedule-free'):.3f}" == "0.103"
    assert f"{mean(summaries, 'text', 'schedule-free'):.3f}" == "2.967" and all(a < b for a, b in zip(sf, cosine))
    sf, cosine = summaries["digits", "schedule-free"].test_metric, summaries["digits", "adamw-cosine"].test_metric
    assert (
        f"{100 * (mean(summaries, 'digits', 'adamw-cosine') - mean(summaries, 'digits', 'schedule-free')):.1f}" == "1.2"
    )
    assert f"{100 * mean(summaries, 'digits', 'schedule-free'):.1f}" == "97.3" and all(
        a < b for a, b in zip(sf, cosine)
    )
    quoted(
        "0.103 bits per character ahead on\n  the text (2.967 against 3.070) and 1.2 points behind on the digits (97.3% against 98.5%)"
    )
    # Level with the constant-rate AdamW on the text: within 0.01 bits, seeds overlapping
    sf, adamw = summaries["text", "schedule-free"].test_metric, summaries["text", "adamw"].test_metric
    assert abs(mean(summaries, "text", "schedule-free") - mean(summaries, "text", "adamw")) < 0.01
    assert min(adamw) < max(sf)


def test_adagrad(summaries):
    adamw = summaries["text", "adamw"].lr
    assert (summaries["digits", "adagrad"].lr, summaries["text", "adagrad"].lr) == (0.0316, 0.01)
    assert (round(0.0316 / adamw), round(0.01 / adamw, 2)) == (10, 3.16)
    assert f"{100 * mean(summaries, 'digits', 'adagrad'):.1f}" == "98.3"
    text = sorted((mean(summaries, "text", name), name) for (task, name) in summaries if task == "text")
    assert [name for _, name in text[-2:]] == ["adagrad", "lars"] and f"{text[-2][0]:.3f}" == "3.254"
    gap = mean(summaries, "text", "adagrad") - mean(summaries, "text", "adamw")
    assert f"{gap:.3f}" == "0.279"
    quoted("next to last on the text,\n  ahead only of LARS (3.254 bits per character, 0.279 behind AdamW)")
    spreads = {name: max(s.test_metric) - min(s.test_metric) for (task, name), s in summaries.items() if task == "text"}
    assert max(spreads, key=spreads.get) == "adagrad"


def test_fused_adam_rows_are_adams():
    rows = RESULTS.read_text().splitlines()
    fused = [row.split(",", 1)[1] for row in rows if row.startswith("fused-adam,")]
    adam = [row.split(",", 1)[1] for row in rows if row.startswith("adam,")]
    assert fused and fused == adam


def test_soap_and_shampoo(summaries):
    soap, shampoo, adamw = (summaries["text", name] for name in ("soap", "shampoo", "adamw"))
    assert soap.lr == 0.00949 and round(soap.lr / 0.003, 1) == 3.2
    assert f"{mean(summaries, 'text', 'soap'):.3f}" == "2.669"
    assert f"{mean(summaries, 'text', 'adamw') - mean(summaries, 'text', 'soap'):.3f}" == "0.307"
    assert f"{mean(summaries, 'text', 'shampoo') - mean(summaries, 'text', 'soap'):.3f}" == "0.272"
    quoted(
        "2.669 bits per\n  character at $9.49 \\cdot 10^{-3}$, three times its authors' rate, 0.307 bits ahead of AdamW and\n  0.272 ahead of Shampoo"
    )
    others = [s for (task, name), s in summaries.items() if task == "text" and name != "soap"]
    assert max(soap.test_metric) < min(min(s.test_metric) for s in others)
    assert summaries["digits", "soap"].lr == 0.000949 and f"{100 * mean(summaries, 'digits', 'soap'):.1f}" == "99.1"
    quoted("99.1% at $9.49 \\cdot 10^{-4}$")
    # Shampoo ahead of AdamW on every seed of the text, by 0.035 bits; 98.6% on the digits
    assert all(a < b for a, b in zip(shampoo.test_metric, adamw.test_metric))
    assert f"{mean(summaries, 'text', 'adamw') - mean(summaries, 'text', 'shampoo'):.3f}" == "0.035"
    assert f"{mean(summaries, 'text', 'shampoo'):.3f}" == "2.940"
    assert f"{100 * mean(summaries, 'digits', 'shampoo'):.1f}" == "98.6"
    quoted("by 0.035 bits (2.940), and within seed noise on the\n  digits (98.6%)")
    assert (summaries["digits", "shampoo"].lr, shampoo.lr) == (0.000949, 0.003)
    # The betas each ran with
    from labml_nn.optimizers.adamw import AdamW
    from labml_nn.optimizers.soap import SOAP

    assert SOAP([torch.nn.Parameter(torch.zeros(2, 2))]).defaults["betas"] == (0.95, 0.95)
    assert AdamW([torch.nn.Parameter(torch.zeros(1))]).defaults["betas"] == (0.9, 0.999)


def test_lars_and_lamb(summaries):
    assert (experiment.FULL.budgets["digits"].batch_size, experiment.FULL.budgets["text"].batch_size) == (64, 16)
    for task in experiment.TASKS:
        for ours, base in (("lars", "sgd-momentum"), ("lamb", "adam")):
            worse = [
                (a < b) if experiment.TASKS[task].higher_is_better else (a > b)
                for a, b in zip(summaries[task, ours].test_metric, summaries[task, base].test_metric)
            ]
            assert all(worse), (task, ours)
        assert experiment.ranked(list(summaries.values()), task)[-1].optimizer == "lars"
    assert (summaries["digits", "lars"].lr, summaries["text", "lars"].lr) == (0.1, 0.316)
    assert (summaries["digits", "lamb"].lr, summaries["text", "lamb"].lr) == (0.01, 0.01)
    assert (
        f"{100 * mean(summaries, 'digits', 'lars'):.1f}" == "95.8"
        and f"{mean(summaries, 'text', 'lars'):.3f}" == "3.405"
    )
    assert (
        f"{100 * mean(summaries, 'digits', 'lamb'):.1f}" == "96.9"
        and f"{mean(summaries, 'text', 'lamb'):.3f}" == "3.043"
    )
    quoted("LARS reached 95.8% (at\n  $0.1$) and 3.405 bits per character (at $0.316$)")
    quoted("LAMB 96.9% and 3.043\n  (at $10^{-2}$ on both)")
    # No rate of LARS's sweep diverged; momentum SGD's 1 did on the text
    assert all(math.isfinite(v) for task in experiment.TASKS for v in summaries[task, "lars"].sweep.values())
    assert max(summaries["text", "lars"].sweep) == 1.0 and not math.isfinite(
        summaries["text", "sgd-momentum"].sweep[1.0]
    )
