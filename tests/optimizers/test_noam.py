"""Noam against a float64 reference of Adam with the Transformer's rate schedule."""

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.noam import Noam
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

LR = 1.0  # the paper's formula has no factor: lr=1 reproduces it
EPS = 1e-8
WARMUP = 20
D_MODEL = 64


def transformer_schedule(group, t):
    w, d = group.get("warmup", WARMUP), group.get("d_model", D_MODEL)
    if w == 0:
        return d**-0.5 * t**-0.5
    return d**-0.5 * min(t**-0.5, t * w**-1.5)


def ours(**kw):
    kw.setdefault("warmup", WARMUP)
    kw.setdefault("d_model", D_MODEL)
    return lambda p: Noam(p, lr=LR, eps=EPS, optimized_update=False, **kw)


def reference(**kw):
    return lambda p: AdamFamilyReference(p, lr=LR, eps=EPS, schedule=transformer_schedule, **kw)


def rate(optimizer, t):
    return optimizer.get_lr({"step": t}, optimizer.param_groups[0])


def test_papers_peak_rate():
    # d_model = 512, w = 4000: the rate peaks at t = w with $1/\sqrt{512 \cdot 4000} \approx 6.99 \times 10^{-4}$.
    optimizer = Noam(make_model("cpu", torch.float32).parameters(), lr=1.0, warmup=4000, d_model=512)
    assert rate(optimizer, 4000) == pytest.approx((512 * 4000) ** -0.5, rel=1e-14)
    assert rate(optimizer, 4000) == pytest.approx(6.9877e-4, rel=1e-4)
    assert rate(optimizer, 1) == pytest.approx(4000**-1.5 / 512**0.5, rel=1e-14)
    assert rate(optimizer, 3999) < rate(optimizer, 4000) and rate(optimizer, 4001) < rate(optimizer, 4000)
    # After the peak: $1/\sqrt{t}$, so four times the steps halves the rate.
    assert rate(optimizer, 16000) == pytest.approx(rate(optimizer, 4000) / 2, rel=1e-14)


def test_zero_warmup_is_inverse_square_root_decay():
    model = make_model("cpu", torch.float64)
    optimizer = Noam(model.parameters(), lr=2.0, d_model=16)  # warmup=0, the default
    assert [rate(optimizer, t) for t in (1, 4, 100)] == pytest.approx([0.5, 0.25, 0.05], rel=1e-15)
    # And it trains: nn.labml.ai's ZeroDivisionError is gone.
    losses = train(model, optimizer, *make_data("cpu", torch.float64), steps=5)
    assert all(torch.isfinite(torch.tensor(losses)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_reference(device, dtype, amsgrad):
    diff = compare_trajectories(ours(amsgrad=amsgrad), reference(amsgrad=amsgrad), device, dtype)
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_zero_warmup_matches_reference(device):
    diff = compare_trajectories(
        ours(warmup=0),
        lambda p: AdamFamilyReference([{"params": p, "warmup": 0}], lr=LR, eps=EPS, schedule=transformer_schedule),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize("device", DEVICES)
def test_decoupled_decay_uses_the_scheduled_rate(device):
    diff = compare_trajectories(
        ours(weight_decay=WeightDecay(0.5)), reference(weight_decay=0.5, decoupled=True), device, torch.float64
    )
    assert diff <= tolerance(device, torch.float64)


def test_param_groups():
    def groups(model):
        return [
            {"params": model[0].parameters(), "warmup": 5, "d_model": 256},
            {"params": model[2].parameters(), "lr": 0.5},
            {"params": model[4].parameters(), "warmup": 0},
        ]

    diff, optimizer = compare_group_trajectories(ours(), reference(), groups)
    assert diff <= tolerance("cpu", torch.float64)
    assert [(g["warmup"], g["d_model"]) for g in optimizer.param_groups] == [(5, 256), (WARMUP, D_MODEL), (0, D_MODEL)]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(), tmp_path, "cpu", torch.float32, resume_at=15, fresh=lambda p: Noam(p, warmup=4000, d_model=512)
    )
    assert (resumed_optimizer.param_groups[0]["warmup"], resumed_optimizer.param_groups[0]["d_model"]) == (
        WARMUP,
        D_MODEL,
    )


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_multiplies_the_schedule(device):
    lambda_lr = lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1 / (1 + 0.05 * epoch))
    diff = compare_trajectories(ours(), reference(), device, torch.float64, scheduler=lambda_lr)
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"warmup": -1}, "Invalid warmup value: -1"),
        ({"warmup": 4000.0}, "Invalid warmup value: 4000.0"),
        ({"d_model": 0}, "Invalid d_model value: 0"),
        ({"d_model": 512.5}, "Invalid d_model value: 512.5"),
        ({"betas": (0.9,)}, "Invalid betas"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Noam(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_defaults():
    optimizer = Noam(make_model("cpu", torch.float32).parameters())
    assert (optimizer.defaults["amsgrad"], optimizer.defaults["warmup"], optimizer.defaults["d_model"]) == (
        False,
        0,
        512,
    )
