"""Tests of the runnable example page, labml_nn/optimizers/train_example.py."""

import subprocess
import sys

import pytest
import torch

from labml_nn.optimizers import train_example
from tests.optimizers.common import DEVICES


def test_spirals_are_fixed_and_balanced():
    x, y = train_example.make_spirals(100, seed=3)
    x2, y2 = train_example.make_spirals(100, seed=3)
    assert x.shape == (200, 2) and y.shape == (200,)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert y.tolist() == [0] * 100 + [1] * 100
    # Points lie around the unit disc (radius at most 1, plus the noise).
    assert x.norm(dim=1).max() < 1.3
    # Another seed gives other points, so the held-out set is not the training set.
    assert not torch.equal(x, train_example.make_spirals(100, seed=4)[0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("optimizer", sorted(train_example.OPTIMIZERS))
def test_training_reduces_the_loss(device, optimizer):
    lines = train_example.train(optimizer, steps=150, device=device, log_every=50, n_per_class=128)
    assert [line.step for line in lines] == [50, 100, 150]
    # Two classes: a loss of ln 2 = 0.69 is chance level. Every optimizer of the table, with its
    # entry's learning rate, gets below it and keeps falling (the slowest, RAdam, spends its first
    # steps in the momentum-only phase and is at 0.57 after 150 steps).
    assert lines[-1].loss < lines[1].loss < lines[0].loss
    assert lines[-1].loss < 0.6
    assert lines[-1].accuracy > 0.6


def test_adam_family_solves_the_spirals():
    # The plain Adam entries reach a low loss and near-perfect held-out accuracy quickly.
    for name in ("adam", "fused-adam", "amsgrad", "adamw"):
        lines = train_example.train(name, steps=150, log_every=150, n_per_class=128)
        assert lines[-1].loss < 0.05 and lines[-1].accuracy > 0.98, name


def test_our_adam_follows_torch_adam():
    # The two table entries differ only in eps (1e-16 and 1e-8), which barely matters at these
    # gradient sizes: the logs must agree closely, a check that the table wires in what it names.
    ours = train_example.train("adam", steps=40, log_every=20, n_per_class=128)
    theirs = train_example.train("torch-adam", steps=40, log_every=20, n_per_class=128)
    for a, b in zip(ours, theirs):
        assert a.loss == pytest.approx(b.loss, rel=1e-3)


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="Unknown optimizer 'sgd'; choose one of adam, torch-adam, fused-adam, "):
        train_example.train("sgd", steps=1)


def test_command_line(capsys):
    lines = train_example.main(["--optimizer", "torch-adam", "--steps", "10", "--log-every", "5"])
    out = capsys.readouterr().out
    assert out.startswith("torch-adam on cpu, lr=0.01, 10 steps")
    assert [line.step for line in lines] == [5, 10]
    assert f"step    10  loss {lines[-1].loss:.4f}" in out


def test_runs_as_a_module():
    # The command the page and the README give, in a fresh interpreter.
    result = subprocess.run(
        [sys.executable, "-m", "labml_nn.optimizers.train_example", "--steps", "20", "--log-every", "10"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    losses = [float(line.split()[3]) for line in result.stdout.splitlines() if line.startswith("step")]
    assert len(losses) == 2 and losses[1] < losses[0]
