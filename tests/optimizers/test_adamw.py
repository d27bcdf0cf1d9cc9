"""AdamW against `torch.optim.AdamW`, and the property that makes it AdamW: the decay skips the adaptive scaling."""

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adamw import AdamW
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    assert_resumes_identically,
    compare_group_trajectories,
    compare_trajectories,
    make_model,
    tolerance,
)

LR = 1e-2
EPS = 1e-8


def ours(**kw):
    kw.setdefault("weight_decay", 0.1)
    return lambda p: AdamW(p, lr=LR, eps=EPS, optimized_update=False, **kw)


def reference(**kw):
    kw.setdefault("weight_decay", 0.1)
    return lambda p: torch.optim.AdamW(p, lr=LR, eps=EPS, foreach=False, **kw)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch_adamw(device, dtype):
    assert compare_trajectories(ours(), reference(), device, dtype) <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_default_decay_is_torchs(device):
    diff = compare_trajectories(
        lambda p: AdamW(p, lr=LR, eps=EPS, optimized_update=False),
        lambda p: torch.optim.AdamW(p, lr=LR, eps=EPS, foreach=False),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)
    assert AdamW(make_model("cpu", torch.float32).parameters()).defaults["weight_decay"] == 1e-2


def test_differs_from_l2_regularization():
    l2 = lambda p: Adam(p, lr=LR, eps=EPS, optimized_update=False, weight_decay=WeightDecay(0.1, weight_decouple=False))
    assert compare_trajectories(ours(), l2, "cpu", torch.float64) > 1e-3


@pytest.mark.parametrize("optimized_update", [True, False])
def test_zero_gradient_decays_by_exactly_one_minus_lr_lambda(optimized_update):
    # With $g = 0$ the Adam part of the step is $0 / (0 + \epsilon) = 0$, so only the decay acts;
    # under L2 the decay would be $\alpha \cdot \mathrm{sign}(\theta)$ instead (normalized by $\sqrt{v}$).
    theta = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    optimizer = AdamW([theta], lr=0.1, weight_decay=0.2, optimized_update=optimized_update)
    for step in range(1, 4):
        theta.grad = torch.zeros_like(theta)
        optimizer.step()
        expected = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) * (1 - 0.1 * 0.2) ** step
        assert torch.allclose(theta.detach(), expected, rtol=0, atol=1e-15)


def test_absolute_decay_is_allowed():
    theta = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = AdamW([theta], lr=0.1, weight_decay=WeightDecay(0.25, absolute=True))
    theta.grad = torch.zeros_like(theta)
    optimizer.step()
    assert torch.equal(theta.detach(), torch.tensor([0.75, -1.5], dtype=torch.float64))


def test_param_groups_match_torch():
    # The usual split: decay on weight matrices, none on biases.
    def groups(model):
        weights = [p for p in model.parameters() if p.dim() == 2]
        biases = [p for p in model.parameters() if p.dim() == 1]
        return [{"params": weights}, {"params": biases, "weight_decay": 0.0, "lr": 3e-2}]

    diff, optimizer = compare_group_trajectories(ours(), reference(), groups)
    assert diff <= tolerance("cpu", torch.float64)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(), tmp_path, "cpu", torch.float32, fresh=lambda p: AdamW(p, weight_decay=0.0)
    )
    assert resumed_optimizer.param_groups[0]["weight_decay"] == 0.1


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_scales_step_and_decay(device):
    # torch's AdamW multiplies the decay by the scheduled rate; matching it checks that ours does too.
    cosine = lambda optimizer: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
    diff = compare_trajectories(ours(), reference(), device, torch.float64, scheduler=cosine)
    assert diff <= tolerance(device, torch.float64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ({"weight_decay": WeightDecay(0.1, weight_decouple=False)}, "AdamW decouples the weight decay"),
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdamW(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_group_cannot_switch_to_l2():
    model = make_model("cpu", torch.float32)
    with pytest.raises(ValueError, match="AdamW decouples the weight decay"):
        AdamW([{"params": model.parameters(), "weight_decouple": False}])
