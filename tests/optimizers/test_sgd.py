"""SGD against `torch.optim.SGD` in every mode, the heavy-ball identity, and the momentum speed-up on a quadratic."""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers import momentum_quadratic as quad
from labml_nn.optimizers.sgd import SGD
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
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.5},
    {"momentum": 0.9, "dampening": 0.9},
    {"momentum": 0.9, "nesterov": True},
    {"weight_decay": 0.1},
    {"momentum": 0.9, "weight_decay": 0.1},
    {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
    {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", MODES, ids=str)
def test_matches_torch_sgd(device, kwargs):
    # The same operations in the same order: float64 over 100 steps agrees to the last bits
    # (0.0 measured in every mode on the CPU).
    diff = compare_trajectories(
        lambda p: SGD(p, lr=LR, **kwargs),
        lambda p: torch.optim.SGD(p, lr=LR, foreach=False, **kwargs),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


def test_state_matches_torch():
    # The buffer after 100 steps is torch's too, not only the parameters.
    model, twin = make_model("cpu", torch.float64), make_model("cpu", torch.float64)
    ours = SGD(model.parameters(), lr=LR, momentum=0.9, dampening=0.1)
    theirs = torch.optim.SGD(twin.parameters(), lr=LR, momentum=0.9, dampening=0.1, foreach=False)
    x = torch.randn(32, 6, dtype=torch.float64)
    for _ in range(100):
        for m, opt in ((model, ours), (twin, theirs)):
            opt.zero_grad()
            m(x).square().mean().backward()
            opt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(ours.state[p]["momentum_buffer"], theirs.state[q]["momentum_buffer"])
        assert ours.state[p]["step"] == 100


def test_param_groups_match_torch():
    def groups(model):
        params = list(model.parameters())
        return [{"params": params[:2], "momentum": 0.5}, {"params": params[2:], "lr": 3e-2, "nesterov": True}]

    diff, _ = compare_group_trajectories(
        lambda g: SGD(g, lr=LR, momentum=0.9), lambda g: torch.optim.SGD(g, lr=LR, momentum=0.9, foreach=False), groups
    )
    assert diff <= tolerance("cpu", torch.float64)


def test_buffer_form_is_polyaks_heavy_ball():
    # $\theta_t = \theta_{t-1} - \alpha g_t + \mu(\theta_{t-1} - \theta_{t-2})$ on $f = \frac{1}{2}\sum h_i\theta_i^2$
    h = torch.tensor([1.0, 0.1, 0.01], dtype=torch.float64)
    lr, mu = 0.5, 0.8
    theta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    optimizer = SGD([theta], lr=lr, momentum=mu)
    previous, current = torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(50):
        optimizer.zero_grad()
        (0.5 * (h * theta * theta).sum()).backward()
        optimizer.step()
        previous, current = current, current - lr * h * current + mu * (current - previous)
        assert torch.allclose(theta.detach(), current, rtol=1e-13, atol=0)


def test_nesterov_is_sutskevers_form_at_the_look_ahead_point():
    # Sutskever et al.: $v_t = \mu v_{t-1} - \alpha\nabla f(\theta_{t-1} + \mu v_{t-1})$, $\theta_t = \theta_{t-1} + v_t$;
    # ours holds $\phi_t = \theta_t + \mu v_t$.
    h = torch.tensor([1.0, 0.1, 0.01], dtype=torch.float64)
    lr, mu = 0.5, 0.8
    phi = torch.ones(3, dtype=torch.float64, requires_grad=True)
    optimizer = SGD([phi], lr=lr, momentum=mu, nesterov=True)
    theta, v = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    for _ in range(50):
        optimizer.zero_grad()
        (0.5 * (h * phi * phi).sum()).backward()
        optimizer.step()
        v = mu * v - lr * h * (theta + mu * v)
        theta = theta + v
        assert torch.allclose(phi.detach(), theta + mu * v, rtol=1e-12, atol=1e-15)


def test_decoupled_weight_decay_object():
    # A `WeightDecay` object switches to decoupled decay, which torch's SGD does not have: with zero
    # gradients and momentum, the decay is $(1 - \alpha\lambda)$ per step, untouched by the buffer.
    theta = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = SGD([theta], lr=0.1, momentum=0.9, weight_decay=WeightDecay(0.5))
    for step in range(1, 4):
        theta.grad = torch.zeros_like(theta)
        optimizer.step()
        assert torch.allclose(
            theta.detach(), torch.tensor([1.0, -2.0], dtype=torch.float64) * 0.95**step, rtol=0, atol=1e-15
        )


def test_groups_have_no_betas_or_eps():
    optimizer = SGD(make_model("cpu", torch.float32).parameters())
    assert "betas" not in optimizer.param_groups[0] and "eps" not in optimizer.param_groups[0]


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert_resumes_identically(lambda p: SGD(p, lr=LR, momentum=0.9, nesterov=True), tmp_path, "cpu", torch.float32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"momentum": -0.1}, "Invalid momentum value"),
        ({"momentum": 1.0}, r"Invalid momentum value: 1.0 \(must be in \[0, 1\)\)"),
        ({"momentum": 1.5}, "Invalid momentum value"),
        ({"dampening": 1.5}, "Invalid dampening value"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SGD(make_model("cpu", torch.float32).parameters(), **kwargs)


# ## The quadratic page's numbers


def test_tunings_put_the_roots_on_the_circle():
    # $1 + \mu - \alpha h = \pm 2\sqrt\mu$ at $h = m$ and $h = L$, the page's derivation.
    kappa = 100
    lr, mu = quad.heavy_ball_tuning(kappa)
    assert 1 + mu - lr / kappa == pytest.approx(2 * math.sqrt(mu), rel=1e-12)
    assert 1 + mu - lr == pytest.approx(-2 * math.sqrt(mu), rel=1e-12)
    assert math.sqrt(mu) == pytest.approx(quad.theory_rates(kappa)[1], rel=1e-12)


def test_momentum_speed_up_matches_sqrt_kappa():
    kappa = 100
    rho_gd, rho_hb = quad.theory_rates(kappa)
    theory = math.log(rho_hb) / math.log(rho_gd)
    assert theory == pytest.approx(10.03, abs=0.01)  # $\approx\sqrt\kappa = 10$
    gd = quad.distances(kappa, 700, *quad.gd_tuning(kappa))
    hb = quad.distances(kappa, 700, *quad.heavy_ball_tuning(kappa))
    # Each method's measured contraction is at most its theoretical rate (the theory is a bound
    # for every coordinate) and close to it.
    rate_gd, rate_hb = quad.measured_rate(gd, 200, 400), quad.measured_rate(hb, 200, 400)
    assert rho_gd * 0.999 < rate_gd <= rho_gd
    assert rho_hb <= rate_hb < rho_hb * 1.01  # the double root's factor t, see the page
    # The speed-up in rate: 9.80 measured, within the stated 10% of the theory's 10.03.
    speed_up = math.log(rate_hb) / math.log(rate_gd)
    assert speed_up == pytest.approx(9.80, abs=0.01)
    assert 0.9 * theory <= speed_up <= 1.1 * theory
    # Steps to shrink the error by $10^6$: 634 and 87, a speed-up of 7.3.
    assert quad.steps_to_shrink(gd, 1e6) == 634 and quad.steps_to_shrink(hb, 1e6) == 87


def test_dampened_buffer_weights_sum_to_one():
    # With $\tau = \mu$ and $b_1 = g_1$, a constant gradient $c$ gives $b_t = c$ at every step: the weights
    # $\mu^{t-1} + (1-\mu)\sum_{k<t-1}\mu^k$ sum to one, so the average is not biased towards zero.
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = SGD([theta], lr=0.1, momentum=0.9, dampening=0.9)
    for _ in range(50):
        theta.grad = torch.full((1,), 3.0, dtype=torch.float64)
        optimizer.step()
        assert optimizer.state[theta]["momentum_buffer"].item() == pytest.approx(3.0, rel=1e-14)


def test_momentum_of_one_or_more_is_refused_where_torch_accepts_it():
    # The page's difference from `torch.optim.SGD`: it accepts $\mu \ge 1$, we do not; just below 1 both accept.
    params = lambda: make_model("cpu", torch.float32).parameters()
    for mu in (1.0, 1.5):
        torch.optim.SGD(params(), lr=LR, momentum=mu)
        with pytest.raises(ValueError, match="Invalid momentum value"):
            SGD(params(), lr=LR, momentum=mu)
    SGD(params(), lr=LR, momentum=0.999)
    # A group added later is checked too.
    optimizer = SGD(params(), lr=LR, momentum=0.9)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optimizer.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "momentum": 1.0})
