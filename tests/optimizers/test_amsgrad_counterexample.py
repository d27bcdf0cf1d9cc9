"""The conclusion of the counter-example page: Adam ends near +1 (the worst point), AMSGrad near -1 (the best)."""

import inspect

import pytest

from labml_nn.optimizers.amsgrad_counterexample import PERIOD, gradient, period_stats, plot, run


def test_gradients_sum_to_plus_ten_per_period():
    assert [gradient(t) for t in (1, 2, 101, 102, 103)] == [1010.0, -10.0, -10.0, 1010.0, -10.0]
    assert sum(gradient(t) for t in range(1, PERIOD + 1)) == 10.0


def test_adam_goes_to_plus_one_and_amsgrad_to_minus_one():
    positions = run()
    adam_mean, _, adam_high = period_stats(positions["Adam"])
    amsgrad_mean, amsgrad_low, amsgrad_high = period_stats(positions["AMSGrad"])
    assert adam_mean[-1] > 0.95 and adam_high[-1] == 1.0
    assert amsgrad_mean[-1] < -0.95 and amsgrad_low[-1] == -1.0 and amsgrad_high[-1] < -0.9
    # Not a lucky last period: Adam has been in the upper half for the last 400 periods.
    assert min(adam_mean[100:]) > 0.5 and max(amsgrad_mean[100:]) < -0.5


def test_plot_is_byte_reproducible(tmp_path):
    pytest.importorskip("matplotlib")
    positions = run(steps=20 * PERIOD)
    plot(positions, tmp_path / "a.svg")
    plot(positions, tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()


def test_bias_corrections_are_one_within_1e_4_after_917_steps():
    # The page's claim for its betas: |1 - (1 - beta^t)| = beta^t < 1e-4 from t = 88 (beta1) and t = 917 (beta2)
    beta1, beta2 = inspect.signature(run).parameters["betas"].default
    first = lambda beta: next(t for t in range(1, 10_000) if beta**t < 1e-4)
    assert (first(beta1), first(beta2)) == (88, 917)
    assert 917 < 10 * PERIOD
