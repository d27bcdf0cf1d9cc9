"""AdaBelief against a float64 reference of the paper's Algorithm 2 (with RAdam's rectification when asked)."""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adam import Adam
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
EPS = 1e-12  # large enough that the three places of eps matter a little, small enough to train


class PaperAdaBelief(Float64Reference):
    """Algorithm 2 of the paper; with `rectify`, RAdam's update ($\\rho_t > 5$) with $\\hat s_t$ for $\\hat v_t$."""

    def __init__(
        self,
        params,
        lr=LR,
        betas=(0.9, 0.999),
        eps=EPS,
        amsgrad=False,
        rectify=True,
        degenerate_to_sgd=True,
        weight_decay=0.0,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            amsgrad=amsgrad,
            rectify=rectify,
            degenerate_to_sgd=degenerate_to_sgd,
            weight_decay=weight_decay,
        )

    def update(self, state, group, theta, g):
        if not state:
            state.update(t=0, m=torch.zeros_like(theta), s=torch.zeros_like(theta), s_max=torch.zeros_like(theta))
        beta1, beta2 = group["betas"]
        eps, lr = group["eps"], group["lr"]
        state["t"] += 1
        t = state["t"]
        theta = theta * (1 - lr * group["weight_decay"])  # decoupled
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["s"] = beta2 * state["s"] + (1 - beta2) * (g - state["m"]) ** 2 + eps
        s = state["s"]
        if group["amsgrad"]:
            state["s_max"] = torch.maximum(state["s_max"], s)
            s = state["s_max"]
        m_hat = state["m"] / (1 - beta1**t)
        s_hat = (s + eps) / (1 - beta2**t)
        if not group["rectify"]:
            return theta - lr * m_hat / (s_hat.sqrt() + eps)
        _, r = rectification(beta2, t)
        if r is not None:
            return theta - lr * r * m_hat / (s_hat.sqrt() + eps)
        return theta - lr * m_hat if group["degenerate_to_sgd"] else theta


def ours(**kw):
    return lambda p: AdaBelief(p, lr=LR, eps=EPS, optimized_update=False, **kw)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rectify", [True, False])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_paper_reference(device, dtype, rectify, amsgrad):
    diff = compare_trajectories(
        ours(rectify=rectify, amsgrad=amsgrad),
        lambda p: PaperAdaBelief(p, rectify=rectify, amsgrad=amsgrad),
        device,
        dtype,
    )
    # In float32 it is checked against the float64 truth, within the derived bound of `common.tolerance`. That
    # bound allows $v_t$ an accumulated rounding of $300\epsilon$ relative to itself. AdaBelief's $s_t$ rounds
    # worse: $g_t - m_t$ is rounded relative to $|g_t| + |m_t|$, not to the spread it measures, so each step adds
    # $(1-\beta_2)\, 2|g_t - m_t|(|g_t| + |m_t|)\epsilon$. Accumulated over this run (in float64, per coordinate,
    # with the three roundings of the average itself) that is at most $196\epsilon$ relative to $s_t$, within the
    # 300 the bound allows, so the same bound holds.
    assert diff <= tolerance(device, dtype)


def test_first_step_by_hand():
    # One scalar step with a large eps, so each of its three places shows:
    # $m_1 = 0.2$, $s_1 = 0.001 \cdot 1.8^2 + 0.01 = 0.01324$, $\hat s_1 = (0.01324 + 0.01) / 0.001 = 23.24$.
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = AdaBelief([theta], lr=0.1, eps=0.01, rectify=False, optimized_update=False)
    theta.grad = torch.full_like(theta, 2.0)
    optimizer.step()
    state = optimizer.state[theta]
    assert state["exp_avg_var"].item() == pytest.approx(0.01324, rel=1e-13)
    assert theta.item() == pytest.approx(-0.1 * 2.0 / (math.sqrt(23.24) + 0.01), rel=1e-13)


def test_eps_accumulates_in_s():
    # With zero gradients only the eps of the recurrence feeds $s_t$: $s_t = \epsilon (1-\beta_2^t)/(1-\beta_2)$.
    theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = AdaBelief([theta], eps=1e-3)
    for _ in range(10):
        theta.grad = torch.zeros_like(theta)
        optimizer.step()
    expected = 1e-3 * (1 - 0.999**10) / (1 - 0.999)
    assert torch.allclose(
        optimizer.state[theta]["exp_avg_var"], torch.full((2,), expected, dtype=torch.float64), rtol=1e-13, atol=0
    )


def test_steps_far_beyond_lr_on_a_straight_slope():
    # Constant gradient $g = 5$: Adam's step tends to $\alpha$. For AdaBelief $g - m_t = 5 \cdot 0.9^t$ dies
    # out, $s_t$ decays like $\beta_2^t$, and the step keeps growing: $1.11\alpha$ on the first step
    # ($\hat m_1 = 5$, $\sqrt{\hat s_1} = 4.5$), about $20\alpha$ at $t = 1000$ and $39\alpha$ at $t = 2000$.
    def steps(optimizer_class, n=2000, **kw):
        theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = optimizer_class([theta], lr=1e-3, **kw)
        sizes = []
        for _ in range(n):
            before = theta.item()
            theta.grad = torch.full_like(theta, 5.0)
            optimizer.step()
            sizes.append(abs(theta.item() - before) / 1e-3)
        return sizes

    assert steps(Adam, eps=1e-8)[-1] == pytest.approx(1.0, rel=1e-6)
    belief = steps(AdaBelief, rectify=False)
    assert belief[0] == pytest.approx(5 / 4.5, rel=1e-12)
    assert all(a < b for a, b in zip(belief[1:], belief[2:]))
    assert belief[999] > 15 and belief[-1] > 30
    # the page's numbers: 20.0 and 38.6 for the paper's Algorithm 2, 12.9 and 32.0 with the default rectification
    assert (round(belief[999], 1), round(belief[-1], 1)) == (20.0, 38.6)
    rectified = steps(AdaBelief)
    assert (round(rectified[999], 1), round(rectified[-1], 1)) == (12.9, 32.0)


def test_eps_floor_is_32_times_adams():
    # A small constant gradient: the residuals $(0.9^t g)^2$, decayed by $\beta_2^t$, fall far below the eps of the
    # recurrence, so s_t tends to eps / (1 - beta2), and the denominator
    # $\sqrt{\hat s_t} + \epsilon$, read off the step as $\alpha \hat m_t / |\Delta\theta_t|$, to
    # $\sqrt{\epsilon/(1-\beta_2) + \epsilon} = 3.16 \times 10^{-7}$ for eps = 1e-16: 31.6 times Adam's 1e-8.
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = AdaBelief([theta], lr=1e-12, rectify=False, optimized_update=False)
    for _ in range(15_000):
        before = theta.item()
        theta.grad = torch.full_like(theta, 1e-6)
        optimizer.step()
    t = 15_000  # steps taken
    m_hat = optimizer.state[theta]["exp_avg"].item() / (1 - 0.9**t)
    denominator = 1e-12 * m_hat / abs(theta.item() - before)
    floor = math.sqrt(1e-16 / (1 - 0.999) + 1e-16)
    assert denominator == pytest.approx(floor + 1e-16, rel=1e-6)
    assert round(denominator, 9) == 3.16e-7 and round(denominator / 1e-8, 1) == 31.6


def test_defaults_do_not_switch_on_amsgrad():
    params = list(make_model("cpu", torch.float32).parameters())
    optimizer = AdaBelief(params)
    assert (
        optimizer.defaults["amsgrad"],
        optimizer.defaults["rectify"],
        optimizer.defaults["degenerate_to_sgd"],
        optimizer.defaults["optimized_update"],
    ) == (False, True, True, True)
    # nn.labml.ai's positional order: params, lr, betas, eps, weight_decay, amsgrad, degenerate_to_sgd, rectify
    positional = AdaBelief(params, 1e-3, (0.9, 0.999), 1e-16, WeightDecay(), False, True, True)
    assert (positional.defaults["amsgrad"], positional.defaults["optimized_update"]) == (False, True)
    model = make_model("cpu", torch.float32)
    optimizer = AdaBelief(model.parameters())
    train(model, optimizer, *make_data("cpu", torch.float32), steps=1)
    assert set(optimizer.state[next(model.parameters())]) == {"step", "exp_avg", "exp_avg_var"}


@pytest.mark.parametrize("device", DEVICES)
def test_decoupled_weight_decay_matches_reference(device):
    diff = compare_trajectories(
        ours(weight_decay=WeightDecay(0.1)), lambda p: PaperAdaBelief(p, weight_decay=0.1), device, torch.float64
    )
    assert diff <= tolerance(device, torch.float64)


def test_param_groups():
    def groups(model):
        return [
            {"params": model[0].parameters(), "rectify": False},
            {"params": model[2].parameters(), "lr": 3e-3, "amsgrad": True},
            {"params": model[4].parameters(), "degenerate_to_sgd": False},
        ]

    diff, optimizer = compare_group_trajectories(ours(), PaperAdaBelief, groups)
    assert diff <= tolerance("cpu", torch.float64)
    assert [g["rectify"] for g in optimizer.param_groups] == [False, True, True]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(amsgrad=True), tmp_path, "cpu", torch.float32, fresh=lambda p: AdaBelief(p, lr=1.0, rectify=False)
    )
    assert (resumed_optimizer.param_groups[0]["rectify"], resumed_optimizer.param_groups[0]["amsgrad"]) == (True, True)


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_drives_the_learning_rate(device):
    cosine = lambda optimizer: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
    diff = compare_trajectories(ours(), lambda p: PaperAdaBelief(p), device, torch.float64, scheduler=cosine)
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rectify": "True"}, "Invalid rectify value: 'True'"),
        ({"degenerate_to_sgd": None}, "Invalid degenerate_to_sgd value: None"),
        ({"amsgrad": 0}, "Invalid amsgrad value: 0"),
        ({"eps": -1e-16}, "Invalid epsilon"),
        ({"lr": -1e-3}, "Invalid learning rate"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdaBelief(make_model("cpu", torch.float32).parameters(), **kwargs)
