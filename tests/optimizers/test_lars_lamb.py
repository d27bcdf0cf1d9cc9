"""Tests of the LARS and LAMB page: trajectories against transcriptions of timm's `Lars` and `Lamb`, of cybertronai's
LAMB (the arXiv v3 algorithm, no bias correction) and of the ICLR paper's LARS (ratio after the momentum); the
switches; and every number of the page's exercises."""

import math
from typing import Any

import pytest
import torch

from labml_nn.optimizers.lars_lamb import ENTRY, LAMB, LAMB_ENTRY, LARS, vectors_left_out
from tests.optimizers.common import (
    DEVICES,
    compare_group_trajectories,
    make_data,
    make_model,
    resume_is_bit_identical,
    tolerance,
    train,
)

# ## Transcriptions of the references


class TimmLars(torch.optim.Optimizer):
    """`timm/optim/lars.py` of huggingface/pytorch-image-models at commit aa4b5850c1543fa488abf260f18390eda46cf85d
    (https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/lars.py), line by line, without Nesterov.
    One change: timm scales `p.grad` in place; we scale a copy, which computes the same numbers."""

    def __init__(
        self, params, lr=1.0, momentum=0, dampening=0, weight_decay=0, trust_coeff=0.001, eps=1e-8, trust_clip=False,
        always_adapt=False,
    ):  # fmt: skip
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, trust_coeff=trust_coeff,
            eps=eps, trust_clip=trust_clip, always_adapt=always_adapt,
        )  # fmt: skip
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            trust_coeff = group["trust_coeff"]
            eps = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.clone()
                if weight_decay != 0 or group["always_adapt"]:
                    w_norm = p.norm(2.0)
                    g_norm = grad.norm(2.0)
                    trust_ratio = trust_coeff * w_norm / (g_norm + w_norm * weight_decay + eps)
                    trust_ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, trust_ratio, 1.0), 1.0)
                    if group["trust_clip"]:
                        trust_ratio = torch.clamp(trust_ratio / group["lr"], max=1.0)
                    grad.add_(p, alpha=weight_decay)
                    grad.mul_(trust_ratio)
                if momentum != 0:
                    param_state = self.state[p]
                    if "momentum_buffer" not in param_state:
                        buf = param_state["momentum_buffer"] = torch.clone(grad).detach()
                    else:
                        buf = param_state["momentum_buffer"]
                        buf.mul_(momentum).add_(grad, alpha=1.0 - dampening)
                    grad = buf
                p.add_(grad, alpha=-group["lr"])


class TimmLamb(torch.optim.Optimizer):
    """`timm/optim/lamb.py` at the same commit
    (https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/lamb.py), line by line, with
    `max_grad_norm=None` (no global clipping; not in the paper), `grad_averaging=True`, no caution and the paper's
    (not decoupled) decay; the step count is a Python number instead of a CPU tensor."""

    def __init__(
        self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
        trust_clip=False, always_adapt=False,
    ):  # fmt: skip
        defaults = dict(
            lr=lr, bias_correction=bias_correction, betas=betas, eps=eps, weight_decay=weight_decay,
            trust_clip=trust_clip, always_adapt=always_adapt,
        )  # fmt: skip
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            bias_correction = 1 if group["bias_correction"] else 0
            beta1, beta2 = group["betas"]
            beta3 = 1 - beta1
            group["step"] = group.get("step", 0) + 1
            if not any(p.grad is not None for p in group["params"]):
                continue
            step = group["step"]
            if bias_correction:
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
            else:
                bias_correction1, bias_correction2 = 1.0, 1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=beta3)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq.sqrt() / (bias_correction2**0.5)).add_(group["eps"])
                update = (exp_avg / bias_correction1).div_(denom)
                weight_decay = group["weight_decay"]
                if weight_decay != 0:
                    update.add_(p, alpha=weight_decay)
                if weight_decay != 0 or group["always_adapt"]:
                    w_norm = p.norm(2.0)
                    g_norm = update.norm(2.0)
                    trust_ratio = w_norm / g_norm
                    trust_ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, trust_ratio, 1.0), 1.0)
                    if group["trust_clip"]:
                        trust_ratio = torch.clamp(trust_ratio, max=1.0)
                    update.mul_(trust_ratio)
                p.add_(update, alpha=-group["lr"])


class CybertronaiLamb(torch.optim.Optimizer):
    """`pytorch_lamb/lamb.py` of cybertronai/pytorch-lamb (https://github.com/cybertronai/pytorch-lamb), which follows
    arXiv v3 of the LAMB paper: no bias correction ("Paper v3 does not use debiasing"), no guard for zero norms."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                adam_step = exp_avg / exp_avg_sq.sqrt().add(group["eps"])
                if group["weight_decay"] != 0:
                    adam_step.add_(p, alpha=group["weight_decay"])
                trust_ratio = p.pow(2).sum().sqrt() / adam_step.pow(2).sum().sqrt()
                p.add_(adam_step, alpha=-group["lr"] * trust_ratio.item())


class IclrLars(torch.optim.Optimizer):
    """Algorithm 1 of the ICLR 2020 LAMB paper (its statement of LARS): $m_t = \\beta_1 m_{t-1} + (1-\\beta_1)(g_t +
    \\lambda x_t)$, $x_{t+1} = x_t - \\eta_t \\phi(\\lVert x_t\\rVert) m_t / \\lVert m_t\\rVert$, with
    $\\phi(z) = c z$ (our trust coefficient $c$); with the dampening $1 - \\beta_1$ that our class leaves out."""

    def __init__(self, params, lr, beta1, weight_decay, c):
        super().__init__(params, dict(lr=lr, beta1=beta1, weight_decay=weight_decay, c=c))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                state["m"] = group["beta1"] * state["m"] + (1 - group["beta1"]) * (p.grad + group["weight_decay"] * p)
                m = state["m"]
                p.copy_(p - group["lr"] * group["c"] * p.norm() / m.norm() * m)


def all_params(model):
    return model.parameters()


def max_diff_against(ours, theirs, groups=all_params, steps=100):
    diff, _ = compare_group_trajectories(ours, theirs, groups, "cpu", torch.float64, steps)
    return diff


# ## Against the references, in float64

# The page states these (measured on the machine where this was written): the largest parameter difference from
# timm's transcription after 100 steps. The assertion is the derived bound of `common.tolerance`, 1.9e-12;
# `test_the_page_states_the_measured_differences` checks the page's figures against a fresh measurement.
LARS_AGAINST_TIMM: dict[str, Any] = dict(
    lr=0.5, momentum=0.9, weight_decay=1e-3, trust_coefficient=1e-2, eps=1e-8, clip=True
)
LAMB_AGAINST_TIMM: dict[str, Any] = dict(lr=1e-2, weight_decay=0.01)


def lars_against_timm() -> float:
    kwargs = LARS_AGAINST_TIMM
    return max_diff_against(
        lambda p: LARS(p, **kwargs),
        lambda p: TimmLars(
            p,
            lr=kwargs["lr"],
            momentum=kwargs["momentum"],
            weight_decay=kwargs["weight_decay"],
            trust_coeff=kwargs["trust_coefficient"],
            eps=kwargs["eps"],
            trust_clip=True,
            always_adapt=True,
        ),  # fmt: skip
    )


def lamb_against_timm() -> float:
    return max_diff_against(lambda p: LAMB(p, **LAMB_AGAINST_TIMM), lambda p: TimmLamb(p, **LAMB_AGAINST_TIMM))


def test_lars_matches_timm():
    assert lars_against_timm() <= tolerance("cpu", torch.float64)


def test_lamb_matches_timm():
    assert lamb_against_timm() <= tolerance("cpu", torch.float64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "lars_kwargs,timm_kwargs",
    [
        (dict(lr=0.3, momentum=0.0, trust_coefficient=1e-2), dict(lr=0.3, momentum=0.0, trust_coeff=1e-2, eps=0.0)),
        (dict(lr=2.0, momentum=0.9, trust_coefficient=1e-3, weight_decay=5e-4, eps=1e-8),
         dict(lr=2.0, momentum=0.9, trust_coeff=1e-3, weight_decay=5e-4, eps=1e-8)),
    ],
)  # fmt: skip
def test_lars_matches_timm_without_clip(device, lars_kwargs, timm_kwargs):
    diff, _ = compare_group_trajectories(
        lambda p: LARS(p, **lars_kwargs),
        lambda p: TimmLars(p, always_adapt=True, **timm_kwargs),
        all_params,
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bias_correction", [True, False])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_lamb_matches_timm_with_and_without_bias_correction(device, bias_correction, weight_decay):
    kwargs: dict[str, Any] = dict(
        lr=1e-2, betas=(0.9, 0.99), weight_decay=weight_decay, bias_correction=bias_correction
    )
    diff, _ = compare_group_trajectories(
        lambda p: LAMB(p, **kwargs), lambda p: TimmLamb(p, always_adapt=True, **kwargs), all_params, device
    )
    assert diff <= tolerance(device, torch.float64)


def test_lamb_without_bias_correction_is_arxiv_v3():
    kwargs: dict[str, Any] = dict(lr=1e-2, weight_decay=0.01)
    diff = max_diff_against(lambda p: LAMB(p, bias_correction=False, **kwargs), lambda p: CybertronaiLamb(p, **kwargs))
    assert diff <= tolerance("cpu", torch.float64)


def test_lars_ratio_after_momentum_is_the_iclr_papers_lars():
    # The dampening 1 - beta1 of the ICLR paper's Algorithm 1 cancels in the ratio, which our class leaves out.
    diff = max_diff_against(
        lambda p: LARS(p, lr=0.1, momentum=0.9, weight_decay=1e-2, trust_coefficient=1e-2, ratio_after_momentum=True),
        lambda p: IclrLars(p, lr=0.1, beta1=0.9, weight_decay=1e-2, c=1e-2),
    )
    assert diff <= tolerance("cpu", torch.float64)


def test_groups_that_leave_vectors_out_match_timms_rule():
    # timm adapts a group only if its weight decay is not 0: our `vectors_left_out` groups are its usual groups.
    for ours, theirs in [
        (lambda p: LAMB(p, lr=1e-2), lambda p: TimmLamb(p, lr=1e-2)),
        (lambda p: LARS(p, lr=0.05, trust_coefficient=1e-2), lambda p: TimmLars(p, lr=0.05, momentum=0.9, trust_coeff=1e-2, eps=0.0)),
    ]:  # fmt: skip
        diff = max_diff_against(ours, theirs, lambda model: vectors_left_out(model, 1e-2))
        assert diff <= tolerance("cpu", torch.float64)


def test_exclude_vectors_equals_the_groups():
    def run(optimizer, groups):
        model = make_model("cpu", torch.float64)
        x, y = make_data("cpu", torch.float64)
        train(model, optimizer(groups(model)), x, y, steps=20)
        return [p.detach().clone() for p in model.parameters()]

    cases: list[tuple[Any, dict[str, Any]]] = [(LAMB, dict(lr=1e-2)), (LARS, dict(lr=0.5, trust_coefficient=1e-2))]
    for cls, kwargs in cases:
        a = run(lambda ps, c=cls, k=kwargs: c(ps, weight_decay=1e-2, exclude_vectors=True, **k), all_params)
        b = run(lambda ps, c=cls, k=kwargs: c(ps, **k), lambda model: vectors_left_out(model, 1e-2))
        assert all(torch.equal(p, q) for p, q in zip(a, b))


def test_the_page_states_the_measured_differences():
    # Our classes run timm's operations in timm's order, so in float64 on the CPU the two trajectories are
    # bit-identical, which is what the page says; `tolerance` above is what any correct rounding must meet.
    from labml_nn.optimizers import lars_lamb

    doc = lars_lamb.__doc__
    assert doc is not None and "the largest difference is $0$" in doc
    assert lars_against_timm() == 0.0 and lamb_against_timm() == 0.0


# ## The switches


def one_step(optimizer, theta, grad):
    p = torch.nn.Parameter(torch.tensor(theta, dtype=torch.float64))
    opt = optimizer([p])
    p.grad = torch.tensor(grad, dtype=torch.float64)
    opt.step()
    return p.detach()


def test_lamb_moves_each_layer_by_lr_times_its_norm():
    before = torch.tensor([3.0, 4.0], dtype=torch.float64)
    after = one_step(lambda ps: LAMB(ps, lr=0.1, weight_decay=0.3), before.tolist(), [1e-6, -5e3])
    assert (after - before).norm().item() == pytest.approx(0.5, rel=1e-12)


def test_phi_bounds_clip_the_weight_norm():
    before = torch.tensor([3.0, 4.0], dtype=torch.float64)
    high = one_step(lambda ps: LAMB(ps, lr=0.1, phi_bounds=(0.0, 2.0)), before.tolist(), [1.0, 1.0])
    assert (high - before).norm().item() == pytest.approx(0.2, rel=1e-12)
    low = one_step(lambda ps: LAMB(ps, lr=0.1, phi_bounds=(10.0, 20.0)), before.tolist(), [1.0, 1.0])
    assert (low - before).norm().item() == pytest.approx(1.0, rel=1e-12)


def test_zero_norms_give_a_ratio_of_one():
    # A zero layer takes the unscaled step (Adam's for LAMB, SGD's for LARS); a zero gradient moves nothing, no NaN.
    assert one_step(lambda ps: LAMB(ps, lr=0.1), [0.0, 0.0], [1.0, -2.0]).tolist() == pytest.approx([-0.1, 0.1])
    assert one_step(lambda ps: LARS(ps, lr=0.1), [0.0, 0.0], [1.0, -2.0]).tolist() == pytest.approx([-0.1, 0.2])
    assert one_step(lambda ps: LARS(ps, lr=0.1), [1.0, 2.0], [0.0, 0.0]).tolist() == [1.0, 2.0]
    assert one_step(lambda ps: LAMB(ps, lr=0.1), [1.0, 2.0], [0.0, 0.0]).tolist() == [1.0, 2.0]


def test_larc_clip_caps_the_layer_rate_at_lr():
    # rho = eta |theta| / |g| = 1e-3 * 5 / 1e-4 = 50 > lr = 0.1, so the layer's rate is lr: a plain SGD step.
    step = one_step(lambda ps: LARS(ps, lr=0.1, momentum=0.0, clip=True), [3.0, 4.0], [1e-4, 0.0])
    assert step.tolist() == pytest.approx([3.0 - 1e-5, 4.0], abs=1e-15)
    unclipped = one_step(lambda ps: LARS(ps, lr=0.1, momentum=0.0), [3.0, 4.0], [1e-4, 0.0])
    assert unclipped.tolist() == pytest.approx([3.0 - 5e-4, 4.0], abs=1e-15)


def test_maximize_climbs():
    up = one_step(lambda ps: LAMB(ps, lr=0.1, maximize=True), [3.0, 4.0], [1.0, 0.0])
    assert up[0].item() > 3.0


def test_trains():
    for optimizer in (lambda p: LAMB(p, lr=1e-2), lambda p: LARS(p, lr=1.0, trust_coefficient=1e-2)):
        model = make_model("cpu", torch.float32)
        x, y = make_data("cpu", torch.float32)
        losses = train(model, optimizer(model.parameters()), x, y, steps=100)
        assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("make", [lambda p: LARS(p, **ENTRY.test_kwargs), lambda p: LAMB(p, **LAMB_ENTRY.test_kwargs)])
def test_state_dict_resume_is_bit_identical(tmp_path, make):
    assert resume_is_bit_identical(
        make, tmp_path / "opt.pt", scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)
    )


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: LARS(p, lr=-1.0), "Invalid learning rate"),
        (lambda p: LARS(p, momentum=1.0), "Invalid momentum"),
        (lambda p: LARS(p, trust_coefficient=0.0), "Invalid trust_coefficient"),
        (lambda p: LARS(p, weight_decay=-1.0), "Invalid weight_decay"),
        (lambda p: LAMB(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
        (lambda p: LAMB(p, eps=-1.0), "Invalid epsilon"),
        (lambda p: LAMB(p, phi_bounds=(2.0, 1.0)), "Invalid phi_bounds"),
    ],
)
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make([torch.nn.Parameter(torch.zeros(2))])


def test_experiment_lines():
    lines = [entry.experiment for entry in (ENTRY, LAMB_ENTRY)]
    assert [(line.label, line.position) for line in lines if line is not None] == [("lars", 16), ("lamb", 17)]


# ## The exercises' numbers


def test_exercise_first_step_of_a_zero_layer():
    """Exercise "The first step of a layer of zeros": alpha = 1, eta = 1e-3, the second step is 1000 times smaller."""
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = LARS([p], lr=1.0, momentum=0.0, trust_coefficient=1e-3)
    g = torch.tensor([0.3, -0.4, 1.2], dtype=torch.float64)
    steps = []
    for _ in range(2):
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
        steps.append((p.detach() - before).norm().item())
    assert steps[0] == pytest.approx(g.norm().item(), rel=1e-15)
    assert round(steps[0] / steps[1]) == 1000


def test_exercise_bias_correction_in_lamb():
    """Exercise "What bias correction changes in LAMB"."""
    theta, g = [3.0, 4.0], [1.0, -2.0]
    # Without decay and eps the correction changes nothing (up to rounding)
    plain = [
        one_step(lambda ps, bc=bc: LAMB(ps, lr=0.1, eps=0.0, bias_correction=bc), theta, g) for bc in (True, False)
    ]
    assert (plain[0] - plain[1]).abs().max().item() < 1e-15
    # With lambda = 0.01: r_1 = sign(g) corrected, 3.162 sign(g) uncorrected
    assert round(0.1 / math.sqrt(0.001), 3) == 3.162
    u_corrected = [1 + 0.03, -1 + 0.04]
    u_plain = [0.1 / math.sqrt(0.001) + 0.03, -0.1 / math.sqrt(0.001) + 0.04]
    assert [round(x, 2) for x in u_corrected] == [1.03, -0.96]
    assert [round(x, 3) for x in u_plain] == [3.192, -3.122]
    decayed = [one_step(lambda ps, bc=bc: LAMB(ps, lr=0.1, eps=0.0, weight_decay=0.01, bias_correction=bc), theta, g)
               for bc in (True, False)]  # fmt: skip
    before = torch.tensor(theta, dtype=torch.float64)
    for after, components in zip(decayed, (u_corrected, u_plain)):
        assert (after - before).norm().item() == pytest.approx(0.5, rel=1e-14)
        u = torch.tensor(components, dtype=torch.float64)
        assert torch.allclose(after, before - 0.5 * u / u.norm(), rtol=0, atol=1e-15)
    assert round((decayed[0] - decayed[1]).norm().item(), 3) == 0.012
    # the uncorrected one decays less: it ends farther from 0
    assert decayed[1].norm() > decayed[0].norm()


def test_exercise_before_or_after_the_momentum():
    """Exercise "Before or after the momentum"."""
    lengths = {}
    for after in (False, True):
        p = torch.nn.Parameter(torch.tensor([1.0, 0.0], dtype=torch.float64))
        opt = LARS([p], lr=0.1, momentum=0.9, trust_coefficient=1.0, ratio_after_momentum=after)
        for g in ([1.0, 0.0], [0.0, 1.0]):
            before = p.detach().clone()
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
        lengths[after] = (p.detach() - before).norm().item()
        theta_1 = before
    assert theta_1.norm().item() == pytest.approx(0.9)
    assert round(math.hypot(0.9, 0.9), 3) == 1.273
    assert round(lengths[False], 3) == 0.127
    assert lengths[True] == pytest.approx(0.09, rel=1e-14)
