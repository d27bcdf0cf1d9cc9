"""Adagrad against `torch.optim.Adagrad`, and the page's two measurements."""

import math

import pytest
import torch

from labml_nn.optimizers.adagrad import Adagrad, dense_and_rare
from tests.optimizers.common import (
    DEVICES,
    assert_resumes_identically,
    compare_group_trajectories,
    compare_trajectories,
    make_model,
    tolerance,
)

LR = 1e-2

MODES = [
    {},
    {"lr_decay": 0.01},
    {"initial_accumulator_value": 0.1},
    {"eps": 1e-3},
    {"weight_decay": 0.1},
    {"lr_decay": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-6, "weight_decay": 0.01},
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_matches_torch_adagrad(device, kwargs):
    # The same operations in the same order: float64 over 100 steps (0.0 measured on the CPU).
    diff = compare_trajectories(
        lambda p: Adagrad(p, lr=LR, **kwargs),
        lambda p: torch.optim.Adagrad(p, lr=LR, foreach=False, **kwargs),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


def test_param_groups_match_torch():
    def groups(model):
        params = list(model.parameters())
        return [{"params": params[:2], "lr_decay": 0.1}, {"params": params[2:], "lr": 3e-2}]

    diff, _ = compare_group_trajectories(
        lambda g: Adagrad(g, lr=LR, initial_accumulator_value=0.2),
        lambda g: torch.optim.Adagrad(g, lr=LR, initial_accumulator_value=0.2, foreach=False),
        groups,
    )
    assert diff <= tolerance("cpu", torch.float64)


def test_first_step_is_lr_per_coordinate():
    # $G_1 = g_1^2$, so the first step is $\alpha\,\mathrm{sign}(g_1)$ up to $\epsilon$, whatever the gradient's size.
    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = Adagrad([theta], lr=0.1, eps=0.0)
    theta.grad = torch.tensor([1e-4, -3.0, 1e4], dtype=torch.float64)
    optimizer.step()
    # $\sqrt{g^2}$ and the division each round once: a few units in the last place of 0.1.
    assert torch.allclose(theta.detach(), torch.tensor([-0.1, 0.1, -0.1], dtype=torch.float64), rtol=4e-16, atol=0)


@pytest.fixture(scope="module")
def measured():
    # 30,000 optimizer steps in all: computed once for the two tests that read them
    return dense_and_rare()


def test_learning_rate_decays_like_one_over_sqrt_t_on_a_dense_problem(measured):
    result = measured
    # $\alpha\sqrt t / (\sqrt{G_t} + \epsilon)$: 1.014, 0.978, 0.997 measured
    for t, ratio in result["dense"].items():
        assert ratio == pytest.approx(1.0, abs=0.03), t
    # ... so the rate itself falls tenfold from $t = 100$ to $t = 10^4$, towards zero.
    assert result["dense_lr"][100] / result["dense_lr"][10_000] == pytest.approx(10.0, rel=0.03)


def test_rare_features_lag_by_sqrt_p_not_p(measured):
    result = measured
    (sgd_frequent, sgd_rare), (ada_frequent, ada_rare) = result["sgd"], result["adagrad"]
    # SGD: $t\alpha$ against $pt\alpha$, a gap of $1/p = 100$.
    assert sgd_frequent / sgd_rare == pytest.approx(100.0, rel=1e-12)
    # Adagrad: $\alpha\sum_{k\le n} k^{-1/2}$ for $n = 10^4$ and $n = 100$ occurrences, a gap of 10.68,
    # close to $1/\sqrt p = 10$.
    assert ada_frequent == pytest.approx(0.1 * sum(k**-0.5 for k in range(1, 10_001)), rel=1e-9)
    assert ada_rare == pytest.approx(0.1 * sum(k**-0.5 for k in range(1, 101)), rel=1e-9)
    assert ada_frequent / ada_rare == pytest.approx(10.68, abs=0.01)
    assert 0.9 * math.sqrt(100) < ada_frequent / ada_rare < 1.1 * math.sqrt(100)


def test_state_matches_torch_names():
    model = make_model("cpu", torch.float32)
    optimizer = Adagrad(model.parameters(), initial_accumulator_value=0.5)
    model(torch.randn(4, 6)).sum().backward()
    optimizer.step()
    state = optimizer.state[next(model.parameters())]
    assert set(state) == {"step", "sum"} and state["step"] == 1
    assert "betas" not in optimizer.param_groups[0]


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert_resumes_identically(lambda p: Adagrad(p, lr=LR, lr_decay=0.01), tmp_path, "cpu", torch.float32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"lr_decay": -0.1}, "Invalid lr_decay value"),
        ({"initial_accumulator_value": -0.1}, "Invalid initial_accumulator_value value"),
        ({"eps": -1.0}, "Invalid epsilon value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adagrad(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_plot_data_rmsprop_levels_off_where_adagrad_keeps_falling():
    from labml_nn.optimizers.adagrad import curves

    data = curves(steps=2000)
    # RMSProp's rate settles near $\alpha/\sigma = 0.1$; Adagrad's is at $\alpha/\sqrt{t}$, 20 times lower at $t = 2000$.
    late = data["rmsprop_lr"][-1000:]
    assert sum(late) / len(late) == pytest.approx(0.1, rel=0.1)
    assert data["adagrad_lr"][-1] == pytest.approx(0.1 / 2000**0.5, rel=0.05)
    # The right panel's last points are the numbers of `dense_and_rare` for 2000 steps.
    assert data["sgd_frequent"][-1] / data["sgd_rare"][-1] == pytest.approx(100.0, rel=1e-12)
