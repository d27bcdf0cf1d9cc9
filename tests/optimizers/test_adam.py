"""Tests of the Adam page: equality with PyTorch's Adam/AdamW, the meaning of `eps`, and the step-size claims.

The machinery of the base class (groups, schedulers, state dicts, validation) is tested in test_base.py.
"""

import math
from collections.abc import Iterable
from typing import Callable

import pytest
import torch
from torch import nn

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from tests.optimizers.common import DEVICES, DTYPES, compare_trajectories, make_data, make_model, tolerance, train

BETAS = (0.9, 0.999)
# A learning rate large enough that 100 steps move the parameters far from their start,
# so that a wrong update cannot hide below the tolerance.
LR = 1e-2


class ReferenceAdam(torch.optim.Optimizer):
    """Algorithm 1 of Kingma & Ba, written from the paper and not from adam.py, in float64.

    `eps_at(t)` gives the epsilon of step t, so the same class checks a constant epsilon and the
    epsilon that the optimized update stands for.
    """

    def __init__(self, params: Iterable[nn.Parameter], lr: float, betas, eps_at: Callable[[int], float]):
        super().__init__(params, dict(lr=lr))
        self.betas = betas
        self.eps_at = eps_at
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        beta1, beta2 = self.betas
        self.t += 1
        t = self.t
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad.double()
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(g)
                    state["v"] = torch.zeros_like(g)
                state["m"] = beta1 * state["m"] + (1 - beta1) * g
                state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
                m_hat = state["m"] / (1 - beta1**t)
                v_hat = state["v"] / (1 - beta2**t)
                p.sub_((group["lr"] * m_hat / (v_hat.sqrt() + self.eps_at(t))).to(p.dtype))


def eps_of_optimized_update(eps_hat: float, beta2: float = BETAS[1]) -> Callable[[int], float]:
    """The textbook epsilon that the optimized update's constant eps_hat stands for: eps_hat / sqrt(1 - beta2^t)."""
    return lambda t: eps_hat / math.sqrt(1 - beta2**t)


# ## Equality with torch.optim.Adam and the meaning of eps


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_textbook_update_equals_torch_adam(device, dtype, eps):
    # eps=1e-3 is large enough to damp the steps, so a wrongly placed eps would show.
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, betas=BETAS, eps=eps, optimized_update=False),
        lambda p: torch.optim.Adam(p, lr=LR, betas=BETAS, eps=eps, foreach=False),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eps_hat", [1e-8, 1e-3])
def test_optimized_update_equals_paper_with_time_varying_eps(device, eps_hat):
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, betas=BETAS, eps=eps_hat, optimized_update=True),
        lambda p: ReferenceAdam(p, lr=LR, betas=BETAS, eps_at=eps_of_optimized_update(eps_hat)),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize("device", DEVICES)
def test_reference_with_constant_eps_equals_torch_adam(device):
    # The reference itself must agree with PyTorch when its epsilon is constant; otherwise
    # agreeing with it would prove nothing.
    diff = compare_trajectories(
        lambda p: ReferenceAdam(p, lr=LR, betas=BETAS, eps_at=lambda t: 1e-3),
        lambda p: torch.optim.Adam(p, lr=LR, betas=BETAS, eps=1e-3, foreach=False),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize("device", DEVICES)
def test_optimized_update_is_not_torch_adam_for_large_eps(device):
    # The page says no constant eps makes the optimized update equal to torch.optim.Adam(eps=e):
    # with e = 1e-3 the epsilon of the first step is 31.6 times larger, which damps the early
    # steps visibly. The difference must be far above float rounding.
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, betas=BETAS, eps=1e-3, optimized_update=True),
        lambda p: torch.optim.Adam(p, lr=LR, betas=BETAS, eps=1e-3, foreach=False),
        device,
        torch.float64,
    )
    assert diff > 1e-4


# ## The step-size claims of the page
#
# These run on a single float64 tensor, coordinate by coordinate, since Adam's update of one
# coordinate depends on that coordinate's gradients only.


def run_adam(grads: torch.Tensor, lr: float = 1.0, eps: float = 0.0, optimized_update: bool = False) -> torch.Tensor:
    """Feeds the gradients `grads[t]` (shape [steps, n]) to Adam; returns the updates, shape [steps, n]."""
    param = nn.Parameter(torch.zeros(grads.shape[1], dtype=torch.float64))
    opt = Adam([param], lr=lr, betas=BETAS, eps=eps, optimized_update=optimized_update)
    updates = []
    for g in grads:
        before = param.detach().clone()
        param.grad = g.clone()
        opt.step()
        updates.append(param.detach() - before)
    return torch.stack(updates)


def cauchy_schwarz_bound(t: torch.Tensor, lr: float = 1.0, betas=BETAS) -> torch.Tensor:
    """The page's bound on |Delta_t|, for a tensor of step numbers t."""
    beta1, beta2 = betas
    r = beta1**2 / beta2
    t = t.double()
    return (
        lr
        * (1 - beta1)
        / math.sqrt(1 - beta2)
        * torch.sqrt(1 - beta2**t)
        / (1 - beta1**t)
        * torch.sqrt((1 - r**t) / (1 - r))
    )


@pytest.mark.parametrize("optimized_update", [False, True])
def test_first_step_is_exactly_lr(optimized_update):
    # Gradients of very different scales and both signs: the first step is alpha for every one.
    g = torch.tensor([[1e-6, -3.0, 1e4, -0.25, 7e-3]], dtype=torch.float64)
    lr = 1e-3
    update = run_adam(g, lr=lr, optimized_update=optimized_update)[0]
    torch.testing.assert_close(update, -lr * g[0].sign(), rtol=1e-14, atol=0)


def test_cauchy_schwarz_bound_holds_for_random_gradients():
    steps, n = 200, 512
    gen = torch.Generator().manual_seed(0)
    # Gradients of erratic scale (log-normal magnitudes spanning many orders), random signs,
    # some runs of exactly zero, and a quarter of the coordinates with a constant sign,
    # which is the case that pushes the step towards the bound.
    g = torch.randn(steps, n, generator=gen, dtype=torch.float64) * torch.exp(
        3 * torch.randn(steps, n, generator=gen, dtype=torch.float64)
    )
    g[:, : n // 4] = g[:, : n // 4].abs()
    g[1:] *= torch.rand(steps - 1, n, generator=gen) > 0.2
    update = run_adam(g).abs()
    bound = cauchy_schwarz_bound(torch.arange(1, steps + 1)).unsqueeze(1)
    assert torch.isfinite(update).all()
    assert (update <= bound * (1 + 1e-12)).all()
    # The bound is not vacuous for these sequences: some steps come within a few percent of it.
    assert (update / bound).max() > 0.9


def test_geometric_gradients_meet_the_bound_with_equality():
    # g_t growing by beta2/beta1 per step makes Cauchy-Schwarz an equality at every step.
    # 3000 steps keep g_t^2 within float64's range.
    beta1, beta2 = BETAS
    t = torch.arange(1, 3001)
    g = ((beta2 / beta1) ** (t - 1).double()).unsqueeze(1)
    update = run_adam(g).abs()[:, 0]
    torch.testing.assert_close(update, cauchy_schwarz_bound(t), rtol=1e-10, atol=0)


def test_geometric_gradients_approach_7_27_lr_beyond_the_papers_bound():
    beta1, beta2 = BETAS
    steps = 10_000
    # The same growth over the last 3000 steps, scaled so the last gradient is 1, after zeros.
    # The zeros stand for gradients too small for float64; their share of m_t would be below
    # (beta1^2 / beta2)^3000 ~ 1e-273. A tiny eps turns the 0/0 updates of the zeros into 0.
    # The long run lets the bias correction sqrt(1 - beta2^t) reach 1 - 2e-5.
    t = torch.arange(1, steps + 1).double()
    g = torch.where(t > steps - 3000, torch.exp((t - steps) * math.log(beta2 / beta1)), 0.0).unsqueeze(1)
    last = run_adam(g, eps=1e-300)[-1, 0].abs().item()
    limit = (1 - beta1) / math.sqrt(1 - beta2) / math.sqrt(1 - beta1**2 / beta2)
    assert limit == pytest.approx(7.27, abs=5e-3)
    assert last == pytest.approx(limit, rel=1e-4)
    # The paper's bound, (1 - beta1) / sqrt(1 - beta2) = 3.16 alpha, is exceeded by far.
    assert last > 2 * (1 - beta1) / math.sqrt(1 - beta2)


def test_single_gradient_after_zeros_gives_3_16_lr():
    beta1, beta2 = BETAS
    steps = 10_000
    g = torch.zeros(steps, 1, dtype=torch.float64)
    g[-1] = 0.37
    # A tiny eps turns the 0/0 updates of the zero run into 0.
    last = run_adam(g, eps=1e-300)[-1, 0].abs().item()
    papers_bound = (1 - beta1) / math.sqrt(1 - beta2)
    assert papers_bound == pytest.approx(3.1623, abs=1e-4)
    # m_t = (1 - beta1) g, v_t = (1 - beta2) g^2, and bias corrections still a hair below 1.
    assert last == pytest.approx(papers_bound * math.sqrt(1 - beta2**steps) / (1 - beta1**steps), rel=1e-12)
    assert last == pytest.approx(papers_bound, rel=1e-4)


# ## Weight decay


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_weight_decay_equals_torch_adam(device, dtype):
    diff = compare_trajectories(
        lambda p: Adam(
            p, lr=LR, eps=1e-8, optimized_update=False, weight_decay=WeightDecay(0.1, weight_decouple=False)
        ),
        lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, weight_decay=0.1, foreach=False),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_decoupled_weight_decay_equals_torch_adamw(device, dtype):
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, weight_decay=WeightDecay(0.1)),
        lambda p: torch.optim.AdamW(p, lr=LR, eps=1e-8, weight_decay=0.1, foreach=False),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


def test_l2_and_decoupled_decay_differ():
    # The page says the two kinds of decay are not the same; if they were, the two tests above
    # would check one thing twice.
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, weight_decay=WeightDecay(0.1, weight_decouple=False)),
        lambda p: Adam(p, lr=LR, weight_decay=WeightDecay(0.1)),
        "cpu",
        torch.float64,
    )
    assert diff > 1e-4


@pytest.mark.parametrize("device", DEVICES)
def test_absolute_weight_decay_by_hand(device):
    beta1, beta2 = BETAS
    lr, decay = 0.01, 0.1
    theta = [1.0, -2.0]
    grads = [[0.5, 0.25], [-1.0, 0.5]]
    param = nn.Parameter(torch.tensor(theta, dtype=torch.float64, device=device))
    opt = Adam(
        [param], lr=lr, betas=BETAS, eps=0.0, optimized_update=False, weight_decay=WeightDecay(decay, absolute=True)
    )
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64, device=device)
        opt.step()

    # By hand, coordinate by coordinate: shrink by (1 - lambda) whatever the learning rate,
    # then the textbook Adam step with the gradient unchanged.
    expected = []
    for i, th in enumerate(theta):
        m = v = 0.0
        for t, g in enumerate(grads, start=1):
            th *= 1 - decay
            m = beta1 * m + (1 - beta1) * g[i]
            v = beta2 * v + (1 - beta2) * g[i] ** 2
            th -= lr * (m / (1 - beta1**t)) / math.sqrt(v / (1 - beta2**t))
        expected.append(th)
    torch.testing.assert_close(
        param.detach().cpu(), torch.tensor(expected, dtype=torch.float64), rtol=1e-14, atol=1e-15
    )


# ## Gradients that are not finite, and low precision


@pytest.mark.parametrize("device", DEVICES)
def test_nan_and_inf_gradients_propagate_like_torch_adam(device):
    ours = nn.Parameter(torch.linspace(-1, 1, 6, dtype=torch.float64, device=device))
    theirs = nn.Parameter(ours.detach().clone())
    opt_ours = Adam([ours], lr=LR, eps=1e-8, optimized_update=False)
    opt_theirs = torch.optim.Adam([theirs], lr=LR, eps=1e-8, foreach=False)
    grads = [
        [0.1, -0.2, 0.3, 0.4, -0.5, 0.6],
        # A NaN in coordinate 1 and infinities of both signs in coordinates 3 and 4.
        [0.1, math.nan, 0.3, math.inf, -math.inf, 0.6],
        [0.1, -0.2, 0.3, 0.4, -0.5, 0.6],
    ]
    for g in grads:
        for p in (ours, theirs):
            p.grad = torch.tensor(g, dtype=torch.float64, device=device)
        opt_ours.step()
        opt_theirs.step()
    # Same gradients, three steps: each step may round theta differently by eps |theta| <= 2.2e-16 (|theta| <= 1),
    # and the steps (lr |u| <= 0.01) differ by far less, so 3 x 2.2e-16 < 1e-15
    torch.testing.assert_close(ours.detach(), theirs.detach(), equal_nan=True, rtol=0, atol=1e-15)
    # The bad coordinates became NaN and stay NaN; the others were not touched by them.
    assert ours.detach().isnan().tolist() == [False, True, False, True, True, False]


@pytest.mark.parametrize("device", DEVICES)
def test_bfloat16_parameters_train(device):
    model = make_model(device, torch.bfloat16)
    x, y = make_data(device, torch.bfloat16)
    opt = Adam(model.parameters(), lr=LR)
    losses = train(model, opt, x, y, steps=100)
    # The moment buffers follow the parameter's dtype, as the page says.
    state = opt.state[next(model.parameters())]
    assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == torch.bfloat16
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < 0.5 * losses[0]
