"""`maximize=True` on every optimizer of the chapter: against `torch.optim` where torch has the class, and for
every class, climbing $f$ must be exactly descending $-f$."""

import copy

import pytest
import torch
from torch import nn

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adafactor import Adafactor
from labml_nn.optimizers.adagrad import Adagrad
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.fused_adam import FusedAdam
from labml_nn.optimizers.lion import Lion
from labml_nn.optimizers.mixed_precision import MixedPrecisionAdam
from labml_nn.optimizers.muon import Muon
from labml_nn.optimizers.nadam import NAdam
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.rmsprop import RMSProp
from labml_nn.optimizers.schedule_free import ScheduleFreeAdamW
from labml_nn.optimizers.sgd import SGD
from labml_nn.optimizers.sophia import Sophia
from tests.optimizers.common import DEVICES, make_data, make_model, max_param_diff, tolerance

LR = 1e-2

# (ours, torch's), both with maximize=True, in the settings where the two are the same algorithm
AGAINST_TORCH = {
    "sgd": (
        lambda p: SGD(p, lr=LR, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
        lambda p: torch.optim.SGD(
            p, lr=LR, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True, foreach=False
        ),
    ),
    "adagrad": (
        lambda p: Adagrad(p, lr=LR, lr_decay=0.01, weight_decay=0.1, maximize=True),
        lambda p: torch.optim.Adagrad(p, lr=LR, lr_decay=0.01, weight_decay=0.1, maximize=True, foreach=False),
    ),
    "rmsprop": (
        lambda p: RMSProp(p, lr=1e-3, momentum=0.9, centered=True, weight_decay=0.1, maximize=True),
        lambda p: torch.optim.RMSprop(
            p, lr=1e-3, momentum=0.9, centered=True, weight_decay=0.1, maximize=True, foreach=False
        ),
    ),
    "adam": (
        lambda p: Adam(
            p,
            lr=LR,
            eps=1e-8,
            optimized_update=False,
            weight_decay=WeightDecay(0.1, weight_decouple=False),
            maximize=True,
        ),
        lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, weight_decay=0.1, maximize=True, foreach=False),
    ),
    "adamw": (
        lambda p: AdamW(p, lr=LR, eps=1e-8, optimized_update=False, weight_decay=0.1, maximize=True),
        lambda p: torch.optim.AdamW(p, lr=LR, eps=1e-8, weight_decay=0.1, maximize=True, foreach=False),
    ),
    "amsgrad": (
        lambda p: AMSGrad(p, lr=LR, eps=1e-8, optimized_update=False, maximize=True),
        lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, amsgrad=True, maximize=True, foreach=False),
    ),
    "fused-adam": (
        lambda p: FusedAdam(p, lr=LR, eps=1e-8, optimized_update=False, compiled=False, maximize=True),
        lambda p: torch.optim.Adam(p, lr=LR, eps=1e-8, maximize=True, foreach=False),
    ),
    "radam": (
        lambda p: RAdam(p, lr=LR, eps=1e-8, maximize=True),
        lambda p: torch.optim.RAdam(p, lr=LR, eps=1e-8, maximize=True, foreach=False),
    ),
    "nadam": (
        lambda p: NAdam(p, lr=LR, maximize=True),
        lambda p: torch.optim.NAdam(p, lr=LR, maximize=True, foreach=False),
    ),
    "adafactor": (
        lambda p: Adafactor(p, eps_mode="torch", eps=None, maximize=True),
        lambda p: torch.optim.Adafactor(p, maximize=True, foreach=False),
    ),
}


@pytest.fixture
def float64_default():
    # torch's NAdam keeps its product of $\mu$ in the default dtype; ours is a Python float (see test_nadam.py).
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _climb_both(ours, theirs, device, steps=100):
    r"""Both optimizers climb $f = -\mathrm{MSE}$ (bounded above, so the runs fit the data instead of diverging)
    from one model; returns the largest parameter difference."""
    x, y = make_data(device, torch.float64)
    model = make_model(device, torch.float64)
    twin = copy.deepcopy(model)
    pair = ((model, ours(model.parameters())), (twin, theirs(twin.parameters())))
    for _ in range(steps):
        for m, opt in pair:
            opt.zero_grad()
            (-nn.functional.mse_loss(m(x), y)).backward()
            opt.step()
    return max_param_diff(model, twin)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(AGAINST_TORCH))
def test_maximize_matches_torch(name, device, float64_default):
    # The same operations as torch's in float64 (0.0 measured on the CPU for every class but RAdam, whose
    # `optimized_update` form differs from torch's by rounding), within the chapter's float64 tolerance.
    ours, theirs = AGAINST_TORCH[name]
    assert _climb_both(ours, theirs, device) <= tolerance(device, torch.float64)


def test_muon_maximize_against_torch_minimizing_the_negation():
    # torch's Muon has no maximize: ours climbing f must equal torch's descending -f.
    diff = _climb_against_descend(
        lambda p: Muon(p, lr=LR, maximize=True), lambda p: torch.optim.Muon(p, lr=LR), matrices_only=True
    )
    assert diff == 0.0


# Every optimizer of the chapter, with a switch that changes the trajectory
EVERY = {
    "sgd": lambda p, m: SGD(p, lr=LR, momentum=0.9, maximize=m),
    "adagrad": lambda p, m: Adagrad(p, lr=LR, maximize=m),
    "rmsprop": lambda p, m: RMSProp(p, lr=1e-3, momentum=0.5, maximize=m),
    "adam": lambda p, m: Adam(p, lr=LR, maximize=m),
    "amsgrad": lambda p, m: AMSGrad(p, lr=LR, maximize=m),
    "adamw": lambda p, m: AdamW(p, lr=LR, maximize=m),
    "adam-warmup": lambda p, m: AdamWarmup(p, lr=LR, warmup=10, maximize=m),
    "adam-warmup-cosine": lambda p, m: AdamWarmupCosineDecay(p, lr=LR, warmup=10, total_steps=50, maximize=m),
    "noam": lambda p, m: Noam(p, lr=LR, warmup=10, d_model=16, maximize=m),
    "radam": lambda p, m: RAdam(p, lr=LR, maximize=m),
    "adabelief": lambda p, m: AdaBelief(p, lr=LR, maximize=m),
    "nadam": lambda p, m: NAdam(p, lr=LR, maximize=m),
    "lion": lambda p, m: Lion(p, lr=1e-3, maximize=m),
    "sophia": lambda p, m: Sophia(p, lr=1e-3, maximize=m),
    "adafactor": lambda p, m: Adafactor(p, maximize=m),
    "fused-adam": lambda p, m: FusedAdam(p, lr=LR, compiled=False, maximize=m),
    "schedule-free": lambda p, m: ScheduleFreeAdamW(p, lr=LR, maximize=m),
    "muon": lambda p, m: Muon(p, lr=LR, maximize=m),
}


def _climb_against_descend(climb, descend, matrices_only=False, steps=30):
    """Trains a model on $f$ with `climb` and its twin on $-f$ with `descend`; returns the largest difference."""
    x, y = make_data("cpu", torch.float64)
    model = make_model("cpu", torch.float64)
    twin = copy.deepcopy(model)
    select = (lambda m: [p for p in m.parameters() if p.ndim == 2]) if matrices_only else (lambda m: m.parameters())
    up, down = climb(select(model)), descend(select(twin))
    for _ in range(steps):
        for m, opt, sign in ((model, up, 1.0), (twin, down, -1.0)):
            opt.zero_grad()
            # $f = -\mathrm{MSE}$, so climbing it fits the data
            (-sign * nn.functional.mse_loss(m(x), y)).backward()
            opt.step()
    return max((p - q).abs().max().item() for p, q in zip(model.parameters(), twin.parameters()))


@pytest.mark.parametrize("name", sorted(EVERY))
def test_climbing_f_is_descending_minus_f(name):
    # Negation is exact in floating point and autograd's backward of $-f$ negates every gradient exactly,
    # so the two runs must agree bit for bit.
    make = EVERY[name]
    diff = _climb_against_descend(lambda p: make(p, True), lambda p: make(p, False), matrices_only=name == "muon")
    assert diff == 0.0
    # ... and the switch does something: climbing with maximize=False goes elsewhere.
    assert (
        _climb_against_descend(
            lambda p: make(p, False), lambda p: make(p, False), matrices_only=name == "muon", steps=3
        )
        > 0.0
    )


def test_mixed_precision_maximize():
    # bfloat16 model parameters with float32 masters: the masters, and so the rounded model, agree exactly.
    torch.manual_seed(0)
    model = nn.Linear(6, 3).to(torch.bfloat16)
    twin = copy.deepcopy(model)
    x = torch.randn(16, 6, dtype=torch.bfloat16)
    up, down = (
        MixedPrecisionAdam(model.parameters(), lr=LR, maximize=True),
        MixedPrecisionAdam(twin.parameters(), lr=LR),
    )
    for _ in range(20):
        for m, opt, sign in ((model, up, 1.0), (twin, down, -1.0)):
            opt.zero_grad()
            (sign * m(x).float().tanh().sum()).backward()
            opt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(p, q)


def test_param_grad_is_left_alone():
    theta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    optimizer = Adam([theta], lr=0.1, maximize=True)
    theta.grad = torch.full((3,), 2.0, dtype=torch.float64)
    optimizer.step()
    assert torch.equal(theta.grad, torch.full((3,), 2.0, dtype=torch.float64))
    # Adam's first step is $\alpha$ per coordinate, here upwards.
    assert torch.allclose(theta.detach(), torch.full((3,), 1.1, dtype=torch.float64), rtol=1e-12)


def test_groups_carry_the_switch_and_old_checkpoints_load():
    model = make_model("cpu", torch.float32)
    optimizer = SGD(
        [{"params": list(model.parameters())[:2], "maximize": True}, {"params": list(model.parameters())[2:]}], lr=0.1
    )
    assert [g["maximize"] for g in optimizer.param_groups] == [True, False]
    # A state_dict saved before the switch existed has no `maximize` entry; it means False.
    state = optimizer.state_dict()
    for group in state["param_groups"]:
        del group["maximize"]
    fresh = SGD([{"params": list(model.parameters())[:2]}, {"params": list(model.parameters())[2:]}], lr=0.1)
    fresh.load_state_dict(state)
    model(torch.randn(4, 6)).sum().backward()
    fresh.step()
