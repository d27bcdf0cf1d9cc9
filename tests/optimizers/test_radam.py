"""RAdam against `torch.optim.RAdam`, and against a float64 reference of the paper's Algorithm 2."""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.radam import RAdam
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    assert_resumes_identically,
    compare_group_trajectories,
    compare_trajectories,
    make_data,
    make_model,
    tolerance,
    train,
)
from tests.optimizers.reference import Float64Reference, rectification

LR = 1e-2
EPS = 1e-8


class PaperRAdam(Float64Reference):
    """Algorithm 2 of the paper, with the threshold $\\rho_t > 5$, textbook eps and optional AMSGrad."""

    def __init__(self, params, lr=LR, betas=(0.9, 0.999), eps=EPS, amsgrad=False, degenerate_to_sgd=True):
        super().__init__(params, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, degenerate_to_sgd=degenerate_to_sgd)

    def update(self, state, group, theta, g):
        if not state:
            state.update(t=0, m=torch.zeros_like(theta), v=torch.zeros_like(theta), v_max=torch.zeros_like(theta))
        beta1, beta2 = group["betas"]
        state["t"] += 1
        t = state["t"]
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
        state["v_max"] = torch.maximum(state["v_max"], state["v"])
        v = state["v_max"] if group["amsgrad"] else state["v"]
        m_hat = state["m"] / (1 - beta1**t)
        _, r = rectification(beta2, t)
        if r is not None:
            v_hat = v / (1 - beta2**t)
            return theta - group["lr"] * r * m_hat / (v_hat.sqrt() + group["eps"])
        if group["degenerate_to_sgd"]:
            return theta - group["lr"] * m_hat
        return theta


def ours(**kw):
    return lambda p: RAdam(p, lr=LR, eps=EPS, **kw)


# (our weight decay, torch keyword arguments)
DECAYS = {
    "none": (WeightDecay(), {}),
    "l2": (WeightDecay(0.1, weight_decouple=False), {"weight_decay": 0.1}),
    "decoupled": (WeightDecay(0.1), {"weight_decay": 0.1, "decoupled_weight_decay": True}),
}


def test_rho_and_rectification_by_hand():
    for beta2 in (0.9, 0.99, 0.999):
        rho_inf, rho_1 = RAdam.rho(beta2, 1)
        assert rho_1 == pytest.approx(1.0, abs=1e-9)
        assert rho_inf == pytest.approx(2 / (1 - beta2) - 1)
    # $\beta_2 = 0.5$: $\rho_\infty = 3$, $\rho_2 = 3 - 4 \cdot 0.25 / 0.75 = 5/3$.
    assert RAdam.rho(0.5, 2) == pytest.approx((3.0, 5 / 3))
    # The first adaptive step with $\beta_2 = 0.999$ is $t = 6$ (the paper's $\rho_t > 4$ would give $t = 5$).
    assert [RAdam.calc_rectification_term(0.999, t) is None for t in range(1, 8)] == [True] * 5 + [False] * 2
    assert RAdam.rho(0.999, 5)[1] == pytest.approx(4.996, abs=1e-3)
    # $r_t$ by hand at $t = 6$, and its limit 1.
    rho_inf, rho = RAdam.rho(0.999, 6)
    expected = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    assert RAdam.calc_rectification_term(0.999, 6) == pytest.approx(expected, rel=1e-15)
    assert RAdam.calc_rectification_term(0.999, 6) == pytest.approx(0.02582, abs=1e-5)
    assert RAdam.calc_rectification_term(0.999, 100_000) == pytest.approx(1.0, abs=1e-12)
    # $\beta_2 \le 2/3$ gives $\rho_\infty \le 5$: never adaptive.
    assert all(RAdam.calc_rectification_term(0.6, t) is None for t in range(1, 1000))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", list(DECAYS))
def test_matches_torch_radam(device, dtype, decay):
    weight_decay, torch_kw = DECAYS[decay]
    diff = compare_trajectories(
        ours(weight_decay=weight_decay),
        lambda p: torch.optim.RAdam(p, lr=LR, eps=EPS, foreach=False, **torch_kw),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("degenerate_to_sgd", [True, False])
def test_matches_paper_reference(device, dtype, amsgrad, degenerate_to_sgd):
    diff = compare_trajectories(
        ours(optimized_update=False, amsgrad=amsgrad, degenerate_to_sgd=degenerate_to_sgd),
        lambda p: PaperRAdam(p, amsgrad=amsgrad, degenerate_to_sgd=degenerate_to_sgd),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


def test_first_steps_are_momentum_sgd_then_rectified():
    # A scalar with constant gradient 2: for $t \le 5$ the step is $\alpha \hat m_t = 2\alpha$;
    # at $t = 6$ it is $\alpha r_6 \hat m_6 / \sqrt{\hat v_6} = \alpha r_6$ (eps = 0).
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = RAdam([theta], lr=0.1, eps=0.0, optimized_update=False)
    positions = []
    for _ in range(6):
        theta.grad = torch.full_like(theta, 2.0)
        optimizer.step()
        positions.append(theta.item())
    assert positions[:5] == pytest.approx([-0.2 * t for t in range(1, 6)], rel=1e-14)
    assert positions[5] - positions[4] == pytest.approx(-0.1 * RAdam.calc_rectification_term(0.999, 6), rel=1e-12)


def test_no_sgd_steps_leave_the_parameter_until_rho_exceeds_5():
    model = make_model("cpu", torch.float64)
    start = [p.detach().clone() for p in model.parameters()]
    optimizer = RAdam(model.parameters(), lr=LR, degenerate_to_sgd=False)
    x, y = make_data("cpu", torch.float64)
    train(model, optimizer, x, y, steps=5)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), start))
    assert optimizer.state[next(model.parameters())]["step"] == 5
    train(model, optimizer, x, y, steps=1)
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), start))


def test_both_spellings_of_the_flag():
    params = list(make_model("cpu", torch.float32).parameters())
    assert RAdam(params).defaults["degenerate_to_sgd"] is True
    assert RAdam(params, degenerate_to_sgd=False).defaults["degenerate_to_sgd"] is False
    assert RAdam(params, degenerated_to_sgd=False).defaults["degenerate_to_sgd"] is False
    # nn.labml.ai's positional order: ..., optimized_update, amsgrad, degenerated_to_sgd
    positional = RAdam(params, 1e-3, (0.9, 0.999), 1e-16, WeightDecay(), True, False, False)
    assert (positional.defaults["amsgrad"], positional.defaults["degenerate_to_sgd"]) == (False, False)
    with pytest.raises(ValueError, match="disagree"):
        RAdam(params, degenerate_to_sgd=False, degenerated_to_sgd=True)


def test_param_groups_match_torch():
    def groups(model):
        return [
            {"params": model[0].parameters(), "lr": 3e-2},
            {"params": model[2].parameters(), "betas": (0.8, 0.99)},
            {"params": model[4].parameters()},
        ]

    diff, optimizer = compare_group_trajectories(
        ours(), lambda params: torch.optim.RAdam(params, lr=LR, eps=EPS, foreach=False), groups
    )
    assert diff <= tolerance("cpu", torch.float64)
    assert optimizer.param_groups[1]["betas"] == (0.8, 0.99)


def test_degenerate_to_sgd_per_group():
    model = make_model("cpu", torch.float64)
    start = [p.detach().clone() for p in model.parameters()]
    optimizer = RAdam(
        [
            {"params": model[0].parameters(), "degenerate_to_sgd": False},
            {"params": list(model[2].parameters()) + list(model[4].parameters())},
        ],
        lr=LR,
    )
    train(model, optimizer, *make_data("cpu", torch.float64), steps=3)
    moved = [not torch.equal(p, q) for p, q in zip(model.parameters(), start)]
    assert moved == [False, False, True, True, True]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(),
        tmp_path,
        "cpu",
        torch.float32,
        resume_at=4,  # inside the SGD phase
        fresh=lambda p: RAdam(p, lr=1.0, degenerate_to_sgd=False),
    )
    assert resumed_optimizer.param_groups[0]["degenerate_to_sgd"] is True


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_drives_the_learning_rate(device):
    step_lr = lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=25, gamma=0.3)
    diff = compare_trajectories(
        ours(), lambda p: torch.optim.RAdam(p, lr=LR, eps=EPS, foreach=False), device, torch.float64, scheduler=step_lr
    )
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"degenerate_to_sgd": "yes"}, "Invalid degenerate_to_sgd value: 'yes'"),
        ({"degenerated_to_sgd": 0}, "Invalid degenerate_to_sgd value: 0"),
        ({"amsgrad": 1}, "Invalid amsgrad value: 1"),
        ({"eps": -1.0}, "Invalid epsilon"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RAdam(make_model("cpu", torch.float32).parameters(), **kwargs)


def adaptive_rate_moments(beta2: float, t: int, y_max: float = 40.0):
    r"""$\mathbb{E}[1/X]$ and $\mathbb{E}[X^{-1/2}]$ for $X = \hat v_t = \sum_i a_i g_i^2$, $g_i \sim \mathcal{N}(0, 1)$,
    from the Laplace transform $\mathbb{E}[e^{-sX}] = \prod_i (1 + 2 s a_i)^{-1/2}$:
    $\mathbb{E}[X^{-1}] = \int_0^\infty \mathbb{E}[e^{-sX}]\,ds$ and
    $\mathbb{E}[X^{-1/2}] = \Gamma(1/2)^{-1} \int_0^\infty s^{-1/2}\, \mathbb{E}[e^{-sX}]\,ds$, integrated over
    $s = e^y$, $y \in [-40, y_{max}]$."""
    a = torch.tensor([(1 - beta2) * beta2 ** (t - i) / (1 - beta2**t) for i in range(1, t + 1)], dtype=torch.float64)
    y = torch.linspace(-40.0, y_max, int((y_max + 40) * 1000) + 1, dtype=torch.float64)
    s = y.exp()
    laplace = ((1 + 2 * s[:, None] * a[None, :]) ** -0.5).prod(-1)
    return (torch.trapezoid(laplace * s, y).item(), torch.trapezoid(laplace * s.sqrt(), y).item() / math.sqrt(math.pi))


def test_variance_of_adaptive_rate_is_finite_from_rho_above_2():
    # psi_t = v_hat_t^{-1/2}. Var[psi_3] and Var[psi_4] are finite although rho_3 = 2.999 and rho_4 = 3.997 are
    # below 4: the page's values.
    variances = {}
    for t in (3, 4):
        e_inv, e_inv_sqrt = adaptive_rate_moments(0.999, t)
        variances[t] = e_inv - e_inv_sqrt**2
    assert (round(variances[3], 3), round(variances[4], 3)) == (1.090, 0.429)
    # With equal weights they would be 3 - 2 * 3 / pi and 2 - pi / 2 (inverse chi-squared); beta2 = 0.999 is close
    assert variances[3] == pytest.approx(3 - 6 / math.pi, rel=1e-3)
    assert variances[4] == pytest.approx(2 - math.pi / 2, rel=1e-3)
    # At t = 2 (rho_2 = 1.9995) E[1/v_hat] diverges: the integral grows with its range, by about one per unit of y
    assert adaptive_rate_moments(0.999, 2, y_max=80.0)[0] - adaptive_rate_moments(0.999, 2)[0] > 39
    assert adaptive_rate_moments(0.999, 3, y_max=80.0)[0] - adaptive_rate_moments(0.999, 3)[0] < 1e-6
    assert RAdam.rho(0.999, 2)[1] < 2 < RAdam.rho(0.999, 3)[1] and RAdam.rho(0.999, 4)[1] < 4
