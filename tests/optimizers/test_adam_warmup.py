"""AdamWarmup against a float64 reference of Adam with $\\alpha_t = \\alpha \\min(1, t/w)$."""

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam_warmup import AdamWarmup
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    assert_resumes_identically,
    compare_group_trajectories,
    compare_trajectories,
    make_model,
    tolerance,
)
from tests.optimizers.reference import AdamFamilyReference

LR = 1e-2
EPS = 1e-8
WARMUP = 30


def linear_warmup(group, t):
    w = group.get("warmup", WARMUP)
    return min(1.0, t / w) if w > 0 else 1.0


def ours(**kw):
    kw.setdefault("warmup", WARMUP)
    return lambda p: AdamWarmup(p, lr=LR, eps=EPS, optimized_update=False, **kw)


def reference(**kw):
    return lambda p: AdamFamilyReference(p, lr=LR, eps=EPS, schedule=linear_warmup, **kw)


def test_rate_by_hand():
    optimizer = AdamWarmup(make_model("cpu", torch.float32).parameters(), lr=0.1, warmup=4)
    group = optimizer.param_groups[0]
    rates = [optimizer.get_lr({"step": t}, group) for t in range(1, 7)]
    assert rates == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rel=1e-15)
    no_warmup = AdamWarmup(make_model("cpu", torch.float32).parameters(), lr=0.1)
    assert no_warmup.get_lr({"step": 1}, no_warmup.param_groups[0]) == 0.1


def test_first_step_uses_step_one():
    # Adam's first textbook step (eps = 0) moves by exactly the rate in effect, here $\alpha / w$:
    # the count starts at 1 on the first step, as in torch.optim, so the first step is not zero.
    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = AdamWarmup([theta], lr=0.1, eps=0.0, optimized_update=False, warmup=4)
    theta.grad = torch.tensor([3.0, -0.5, 1e-3], dtype=torch.float64)
    optimizer.step()
    assert torch.allclose(
        theta.detach(), torch.tensor([-0.025, 0.025, -0.025], dtype=torch.float64), rtol=1e-14, atol=0
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_reference(device, dtype, amsgrad):
    diff = compare_trajectories(ours(amsgrad=amsgrad), reference(amsgrad=amsgrad), device, dtype)
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_decoupled_decay_uses_the_warmed_up_rate(device):
    diff = compare_trajectories(
        ours(weight_decay=WeightDecay(0.5)), reference(weight_decay=0.5, decoupled=True), device, torch.float64
    )
    assert diff <= tolerance(device, torch.float64)
    # The check has teeth: decaying by the full rate from step 1 ends elsewhere.
    full_rate = lambda p: AdamFamilyReference(
        p, lr=LR, eps=EPS, weight_decay=0.5, decoupled=True, schedule=lambda g, t: 1.0
    )
    assert compare_trajectories(ours(weight_decay=WeightDecay(0.5)), full_rate, "cpu", torch.float64) > 1e-3


def test_param_groups_warm_up_separately():
    def groups(model):
        return [
            {"params": model[0].parameters(), "warmup": 5},
            {"params": model[2].parameters(), "warmup": 0, "lr": 3e-2},
            {"params": model[4].parameters()},
        ]

    diff, optimizer = compare_group_trajectories(ours(), reference(), groups)
    assert diff <= tolerance("cpu", torch.float64)
    assert [g["warmup"] for g in optimizer.param_groups] == [5, 0, WARMUP]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(),
        tmp_path,
        "cpu",
        torch.float32,
        resume_at=10,  # inside the warm-up
        fresh=lambda p: AdamWarmup(p, warmup=7),
    )
    assert resumed_optimizer.param_groups[0]["warmup"] == WARMUP


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_multiplies_the_warmup(device):
    exponential = lambda optimizer: torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.97)
    diff = compare_trajectories(ours(), reference(), device, torch.float64, scheduler=exponential)
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"warmup": -1}, "Invalid warmup value: -1"),
        ({"warmup": 2.5}, "Invalid warmup value: 2.5"),
        ({"warmup": True}, "Invalid warmup value: True"),
        ({"amsgrad": None}, "Invalid amsgrad value"),
        ({"lr": -0.1}, "Invalid learning rate"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdamWarmup(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_defaults_keep_amsgrad_off():
    optimizer = AdamWarmup(make_model("cpu", torch.float32).parameters())
    assert optimizer.defaults["amsgrad"] is False and optimizer.defaults["warmup"] == 0
