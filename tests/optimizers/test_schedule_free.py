"""Schedule-Free AdamW against the authors' `schedulefree` package (a test-only dependency in the `dev` extra)."""

import copy

import pytest
import schedulefree
import torch
from torch import nn

from labml_nn.optimizers.schedule_free import ScheduleFreeAdamW, average_of_iterates
from tests.optimizers.common import (
    DEVICES,
    assert_resumes_identically,
    make_data,
    make_model,
    max_param_diff,
    tolerance,
)

MODES = [
    {},
    {"lr": 1e-2, "betas": (0.95, 0.99)},
    {"weight_decay": 0.1},
    {"warmup_steps": 20},
    {"warmup_steps": 20, "r": 1.0, "weight_lr_power": 1.0, "weight_decay": 0.01},
]


def run(model, optimizer, x, y, steps):
    optimizer.train()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def twins(kwargs, reference_class, device="cpu", dtype=torch.float64, steps=100):
    x, y = make_data(device, dtype)
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    ours = ScheduleFreeAdamW(model.parameters(), **kwargs)
    theirs = reference_class(twin.parameters(), **kwargs, **({"foreach": False}))
    run(model, ours, x, y, steps)
    run(twin, theirs, x, y, steps)
    return model, ours, twin, theirs


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_matches_schedulefree_in_train_and_eval_mode(device, kwargs):
    model, ours, twin, theirs = twins(kwargs, schedulefree.AdamWScheduleFree, device)
    # $y_{100}$: the same operations in the same order (0.0 measured on the CPU)
    assert max_param_diff(model, twin) <= tolerance(device, torch.float64)
    # $x_{100}$, after both switch to eval mode
    ours.eval()
    theirs.eval()
    assert max_param_diff(model, twin) <= tolerance(device, torch.float64)
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(ours.state[p]["z"], theirs.state[q]["z"])


@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_matches_the_reference_that_stores_x_y_and_z(kwargs):
    # The package's `AdamWScheduleFreeReference` keeps all three sequences and updates x explicitly;
    # ours recovers x from y and z. They agree to float64 rounding (1.1e-15 measured).
    model, ours, twin, theirs = twins(kwargs, schedulefree.AdamWScheduleFreeReference)
    assert max_param_diff(model, twin) <= 1e-13
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(average_of_iterates(ours, p), theirs.state[q]["x"], rtol=0, atol=1e-13)
    ours.eval()
    theirs.eval()
    assert max_param_diff(model, twin) <= 1e-13


def test_x_is_the_mean_of_the_z_iterates():
    # Defaults ($r = 0$, $p = 2$, no warm-up): $c_{t+1} = 1/t$, so $x_{t+1}$ is the mean of $z_2, \dots, z_{t+1}$.
    theta = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = ScheduleFreeAdamW([theta], lr=0.1)
    zs = []
    for _ in range(30):
        optimizer.zero_grad()
        (theta - torch.tensor([0.5, 0.5], dtype=torch.float64)).pow(3).abs().sum().backward()
        optimizer.step()
        zs.append(optimizer.state[theta]["z"].clone())
        mean = torch.stack(zs).mean(dim=0)
        assert torch.allclose(average_of_iterates(optimizer, theta), mean, rtol=0, atol=1e-14)


def test_eval_and_train_switch_between_x_and_y():
    x, y = make_data("cpu", torch.float64)
    model = make_model("cpu", torch.float64)
    optimizer = ScheduleFreeAdamW(model.parameters(), lr=1e-2)
    run(model, optimizer, x, y, 20)
    y_params = [p.detach().clone() for p in model.parameters()]
    x_params = [average_of_iterates(optimizer, p) for p in model.parameters()]
    optimizer.eval()
    for p, expected in zip(model.parameters(), x_params):
        assert torch.equal(p.detach(), expected)
    assert not all(torch.equal(a, b) for a, b in zip(x_params, y_params))
    with pytest.raises(RuntimeError, match="call optimizer.train"):
        model.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    optimizer.train()
    # Back to $y$, up to one rounding per switch
    for p, expected in zip(model.parameters(), y_params):
        assert torch.allclose(p.detach(), expected, rtol=0, atol=1e-15)


def test_no_schedule_the_average_beats_the_last_iterate():
    # A noisy problem: the gradient of $\frac12\lVert\theta\rVert^2$ plus Gaussian noise, with a constant rate.
    # $z$ keeps bouncing at the noise level; the average $x$ settles far closer to the minimum at 0.
    g = torch.Generator().manual_seed(0)
    theta = torch.ones(50, dtype=torch.float64, requires_grad=True)
    optimizer = ScheduleFreeAdamW([theta], lr=0.05)
    for _ in range(2000):
        theta.grad = theta.detach() + torch.randn(50, generator=g, dtype=torch.float64)
        optimizer.step()
    z_error = optimizer.state[theta]["z"].norm().item()
    x_error = average_of_iterates(optimizer, theta).norm().item()
    # 0.32 against 3.76 measured
    assert x_error < z_error / 5


def test_starts_in_train_mode_and_leaves_grad_alone():
    theta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    optimizer = ScheduleFreeAdamW([theta])
    theta.grad = torch.full((3,), 2.0, dtype=torch.float64)
    optimizer.step()
    assert torch.equal(theta.grad, torch.full((3,), 2.0, dtype=torch.float64))


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert_resumes_identically(lambda p: ScheduleFreeAdamW(p, lr=1e-2, warmup_steps=5), tmp_path, "cpu", torch.float32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"betas": (0.0, 0.999)}, "beta1 > 0"),
        ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"warmup_steps": -1}, "Invalid warmup_steps"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScheduleFreeAdamW(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_weight_decay_is_decoupled_taken_at_y_and_applied_to_z():
    # The docstring's description: on a zero gradient ($g / (\sqrt{\hat v} + \epsilon) = 0$ exactly) the
    # $z$ step is the decay alone, $z_{t+1} = z_t - \gamma \lambda y_t$, with $y_t$ the parameter, not $z_t$.
    lr, decay = 0.1, 0.5
    theta = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    optimizer = ScheduleFreeAdamW([theta], lr=lr, weight_decay=decay)
    for grad in ([0.3, 0.7], [-1.0, 0.2]):
        theta.grad = torch.tensor(grad, dtype=torch.float64)
        optimizer.step()
    y, z = theta.detach().clone(), optimizer.state[theta]["z"].clone()
    assert (y - z).abs().min() > 1e-3
    theta.grad = torch.zeros(2, dtype=torch.float64)
    optimizer.step()
    assert torch.allclose(optimizer.state[theta]["z"], z - lr * decay * y, rtol=1e-14, atol=0)
