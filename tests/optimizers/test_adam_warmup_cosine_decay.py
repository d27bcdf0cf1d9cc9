"""AdamWarmupCosineDecay against a float64 reference of Adam with a warm-up and a clipped cosine decay."""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
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
from tests.optimizers.reference import AdamFamilyReference

LR = 1e-2
EPS = 1e-8
WARMUP = 10
TOTAL = 60  # shorter than the 100 steps of a trajectory test, so the floor is exercised too


def warmup_cosine(group, t):
    w, total = group.get("warmup", WARMUP), group.get("total_steps", TOTAL)
    if t < w:
        return t / w
    if t >= total:
        return 0.0
    return (1 + math.cos(math.pi * (t - w) / (total - w))) / 2


def ours(**kw):
    kw.setdefault("warmup", WARMUP)
    kw.setdefault("total_steps", TOTAL)
    return lambda p: AdamWarmupCosineDecay(p, lr=LR, eps=EPS, optimized_update=False, **kw)


def reference(**kw):
    return lambda p: AdamFamilyReference(p, lr=LR, eps=EPS, schedule=warmup_cosine, **kw)


def rates(optimizer, steps):
    return [optimizer.get_lr({"step": t}, optimizer.param_groups[0]) for t in steps]


def test_rate_by_hand():
    optimizer = AdamWarmupCosineDecay(make_model("cpu", torch.float32).parameters(), lr=1.0, warmup=2, total_steps=6)
    # t = 1: warm-up 1/2; t = 2..6: cosine over 4 steps; then the floor.
    expected = [0.5, 1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2, 0.0]
    assert rates(optimizer, range(1, 7)) == pytest.approx(expected, abs=1e-15)


def test_rate_stays_at_the_floor_after_total_steps():
    optimizer = AdamWarmupCosineDecay(make_model("cpu", torch.float32).parameters(), lr=1.0, warmup=10, total_steps=100)
    after = rates(optimizer, [100, 101, 150, 190, 10_000])
    assert after == [0.0] * 5
    # nn.labml.ai's unclipped cosine would be back at the full rate at t = 2T - w = 190.
    assert (1 + math.cos(math.pi * (190 - 10) / 90)) / 2 == pytest.approx(1.0)


def test_rate_is_continuous_and_decreasing_after_warmup():
    optimizer = AdamWarmupCosineDecay(make_model("cpu", torch.float32).parameters(), lr=1.0, warmup=20, total_steps=200)
    r = rates(optimizer, range(1, 201))
    assert r[19] == 1.0  # t = w, where the two pieces meet
    assert all(a < b for a, b in zip(r[:19], r[1:20]))
    assert all(a > b for a, b in zip(r[19:], r[20:]))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_reference(device, dtype, amsgrad):
    diff = compare_trajectories(ours(amsgrad=amsgrad), reference(amsgrad=amsgrad), device, dtype)
    assert diff <= tolerance(device, dtype)


def test_no_movement_after_total_steps():
    # At the floor the step and the decoupled decay are both zero, so the weights stop.
    model = make_model("cpu", torch.float64)
    optimizer = ours(weight_decay=WeightDecay(0.1))(model.parameters())
    x, y = make_data("cpu", torch.float64)
    train(model, optimizer, x, y, steps=TOTAL)
    frozen = [p.detach().clone() for p in model.parameters()]
    train(model, optimizer, x, y, steps=20)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), frozen))


@pytest.mark.parametrize("device", DEVICES)
def test_decoupled_decay_uses_the_scheduled_rate(device):
    diff = compare_trajectories(
        ours(weight_decay=WeightDecay(0.5)), reference(weight_decay=0.5, decoupled=True), device, torch.float64
    )
    assert diff <= tolerance(device, torch.float64)


def test_param_groups():
    def groups(model):
        return [
            {"params": model[0].parameters(), "warmup": 0, "total_steps": 40},
            {"params": model[2].parameters(), "lr": 3e-2},
            {"params": model[4].parameters(), "total_steps": 1e10},
        ]

    diff, optimizer = compare_group_trajectories(ours(), reference(), groups)
    assert diff <= tolerance("cpu", torch.float64)
    assert [g["total_steps"] for g in optimizer.param_groups] == [40, TOTAL, 1e10]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(),
        tmp_path,
        "cpu",
        torch.float32,
        resume_at=30,
        fresh=lambda p: AdamWarmupCosineDecay(p, warmup=3, total_steps=1000),
    )
    assert (resumed_optimizer.param_groups[0]["warmup"], resumed_optimizer.param_groups[0]["total_steps"]) == (
        WARMUP,
        TOTAL,
    )


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_multiplies_the_schedule(device):
    step_lr = lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=15, gamma=0.5)
    diff = compare_trajectories(ours(), reference(), device, torch.float64, scheduler=step_lr)
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"warmup": 10, "total_steps": 10}, "Invalid total_steps value: 10 \\(must be greater than warmup=10\\)"),
        ({"warmup": 10, "total_steps": 5}, "Invalid total_steps value: 5"),
        ({"total_steps": float("nan")}, "Invalid total_steps value: nan"),
        ({"total_steps": "100"}, "Invalid total_steps value: '100'"),
        ({"warmup": -5}, "Invalid warmup value: -5"),
        ({"warmup": 1.5}, "Invalid warmup value: 1.5"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdamWarmupCosineDecay(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_defaults():
    optimizer = AdamWarmupCosineDecay(make_model("cpu", torch.float32).parameters())
    assert (optimizer.defaults["amsgrad"], optimizer.defaults["warmup"], optimizer.defaults["total_steps"]) == (
        False,
        0,
        1e10,
    )
