"""RMSProp against `torch.optim.RMSprop` in every mode, and the page's claim that Adam is RMSProp plus
momentum plus bias correction."""

import copy
import math

import pytest
import torch
from torch import nn

from labml_nn.optimizers.rmsprop import AdamFromRMSProp, RMSProp
from tests.optimizers.common import (
    DEVICES,
    assert_resumes_identically,
    compare_group_trajectories,
    compare_trajectories,
    make_data,
    make_model,
    max_param_diff,
    tolerance,
)

LR = 1e-3

MODES = [
    {},
    {"alpha": 0.9},
    {"centered": True},
    {"momentum": 0.9},
    {"momentum": 0.9, "centered": True},
    {"weight_decay": 0.1},
    {"momentum": 0.5, "centered": True, "weight_decay": 0.1, "eps": 1e-4, "alpha": 0.95},
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_matches_torch_rmsprop(device, kwargs):
    # The same operations in the same order: float64 over 100 steps (0.0 measured on the CPU).
    diff = compare_trajectories(
        lambda p: RMSProp(p, lr=LR, **kwargs),
        lambda p: torch.optim.RMSprop(p, lr=LR, foreach=False, **kwargs),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


def test_param_groups_match_torch():
    def groups(model):
        params = list(model.parameters())
        return [{"params": params[:2], "centered": True}, {"params": params[2:], "lr": 3e-3, "momentum": 0.0}]

    diff, _ = compare_group_trajectories(
        lambda g: RMSProp(g, lr=LR, momentum=0.9),
        lambda g: torch.optim.RMSprop(g, lr=LR, momentum=0.9, foreach=False),
        groups,
    )
    assert diff <= tolerance("cpu", torch.float64)


def test_first_step_is_ten_times_the_learning_rate():
    # $v_1 = (1-\beta) g_1^2$, so the first step is $\alpha / \sqrt{1-\beta} = 10\alpha$ with $\beta = 0.99$.
    theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = RMSProp([theta], lr=0.01, eps=0.0)
    theta.grad = torch.tensor([3.0, -1e-3], dtype=torch.float64)
    optimizer.step()
    assert torch.allclose(theta.detach(), torch.tensor([-0.1, 0.1], dtype=torch.float64), rtol=1e-14, atol=0)


def _train_step(model, x, y):
    model.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()


@pytest.mark.parametrize("beta2", [0.99, 0.999])
def test_adam_without_momentum_is_rmsprop_with_rescaled_lr_and_eps(beta2):
    # Adam($\beta_1 = 0$) at step $t$ = RMSProp with $\alpha\sqrt{1-\beta_2^t}$ and $\epsilon\sqrt{1-\beta_2^t}$.
    lr, eps = 1e-2, 1e-8
    x, y = make_data("cpu", torch.float64)
    model = make_model("cpu", torch.float64)
    twin = copy.deepcopy(model)
    adam = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.0, beta2), eps=eps, foreach=False)
    rmsprop = RMSProp(twin.parameters(), alpha=beta2)
    for t in range(1, 101):
        rmsprop.param_groups[0].update(lr=lr * math.sqrt(1 - beta2**t), eps=eps * math.sqrt(1 - beta2**t))
        for m, opt in ((model, adam), (twin, rmsprop)):
            _train_step(m, x, y)
            opt.step()
    # Only the placement of the rescaling differs, a few roundings per step: 100 steps of
    # $\alpha = 10^{-2}$, a relative error of a few $2^{-52}$ each, stay far below $10^{-13}$ (2.5e-15 measured).
    assert max_param_diff(model, twin) <= 1e-13
    # ... and plain RMSProp, without the correction, is a different trajectory.
    plain = copy.deepcopy(make_model("cpu", torch.float64))
    optimizer = RMSProp(plain.parameters(), lr=lr, alpha=beta2, eps=eps)
    for _ in range(100):
        _train_step(plain, x, y)
        optimizer.step()
    assert max_param_diff(model, plain) > 1e-3


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)])
def test_rmsprop_plus_momentum_plus_bias_correction_is_adam(device, betas):
    diff = compare_trajectories(
        lambda p: AdamFromRMSProp(p, lr=1e-2, betas=betas, eps=1e-8),
        lambda p: torch.optim.Adam(p, lr=1e-2, betas=betas, eps=1e-8, foreach=False),
        device,
        torch.float64,
    )
    # Rounding only: $\sqrt{v}/c + \epsilon$ against $(\sqrt v + \epsilon c)/c$ (4.4e-16 measured).
    assert diff <= tolerance(device, torch.float64)


def test_momentum_orders_differ():
    # RMSProp's momentum on normalized steps is not Adam's momentum on gradients.
    ours = lambda p: RMSProp(p, lr=1e-3, alpha=0.999, momentum=0.9)
    adam = lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.9, 0.999), foreach=False)
    assert compare_trajectories(ours, adam, "cpu", torch.float64) > 1e-3


def test_state_has_torchs_names():
    model = make_model("cpu", torch.float32)
    optimizer = RMSProp(model.parameters(), centered=True, momentum=0.9)
    model(torch.randn(4, 6)).sum().backward()
    optimizer.step()
    assert set(optimizer.state[next(model.parameters())]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}
    assert "betas" not in optimizer.param_groups[0]
    # Plain RMSProp keeps $v$ only, as torch does.
    plain = RMSProp(model.parameters())
    plain.step()
    assert set(plain.state[next(model.parameters())]) == {"step", "square_avg"}


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert_resumes_identically(lambda p: RMSProp(p, lr=LR, momentum=0.9, centered=True), tmp_path, "cpu", torch.float32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"alpha": 1.0}, "Invalid alpha value"),
        ({"alpha": -0.1}, "Invalid alpha value"),
        ({"momentum": -0.1}, "Invalid momentum value"),
        ({"eps": -1.0}, "Invalid epsilon value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RMSProp(make_model("cpu", torch.float32).parameters(), **kwargs)


@pytest.mark.parametrize("mu", [0.9, 0.5])
def test_momentum_orders_agree_up_to_a_factor_at_a_constant_denominator(mu):
    # The page's claim: with $d_t = d$ constant and $\mu = \beta_1$, Adam's step is RMSProp's times
    # $(1-\beta_1)/(1-\beta_1^t)$. Gradients of one size $c$ and random signs, $\beta = \beta_2 = 0$ and
    # $\epsilon = 0$ make both denominators $c$ at every step.
    beta1, c, lr = 0.9, 0.7, 0.1
    signs = torch.randint(0, 2, (20, 3), generator=torch.Generator().manual_seed(0)).double() * 2 - 1

    def steps(make_optimizer):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        optimizer, out = make_optimizer([p]), []
        for sign in signs:
            before = p.detach().clone()
            p.grad = c * sign
            optimizer.step()
            out.append(before - p.detach())
        return out

    rmsprop = steps(lambda p: RMSProp(p, lr=lr, alpha=0.0, eps=0.0, momentum=mu))
    adam = steps(lambda p: torch.optim.Adam(p, lr=lr, betas=(beta1, 0.0), eps=0.0, foreach=False))
    factors = [(1 - beta1) / (1 - beta1**t) for t in range(1, 21)]
    agree = all(torch.allclose(a, f * r, rtol=1e-12, atol=0) for a, f, r in zip(adam, factors, rmsprop))
    # ... and only with $\mu = \beta_1$: otherwise the past gradients are weighted differently.
    assert agree == (mu == beta1)
    # The factor is 1 at $t = 1$ and falls towards $1 - \beta_1$.
    assert factors[0] == pytest.approx(1.0, rel=1e-15)
    assert factors == sorted(factors, reverse=True) and factors[-1] - (1 - beta1) < 0.02
