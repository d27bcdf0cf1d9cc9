"""`maximize=True` on every optimizer of the chapter's registry: against its reference where the reference can climb
too, against the reference descending $-f$ where it cannot, and for every class, climbing $f$ must be exactly
descending $-f$."""

import copy
from typing import Any, Callable, Optional

import pytest
import torch
from torch import nn

from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.mixed_precision import MixedPrecisionAdam
from labml_nn.optimizers.registry import OptimizerEntry, optimizer_entries
from labml_nn.optimizers.sgd import SGD
from tests.optimizers.common import DEVICES, make_data, make_model, max_param_diff, tolerance

LR = 1e-2

ENTRIES = {entry.cls.__name__: entry for entry in optimizer_entries()}
# The entries whose reference takes `maximize` itself, and those whose reference does not (`torch.optim.Muon`)
CLIMBING_REFERENCE = sorted(name for name, e in ENTRIES.items() if e.reference and e.reference.takes_maximize)
DESCENDING_REFERENCE = sorted(name for name, e in ENTRIES.items() if e.reference and not e.reference.takes_maximize)


def with_reference(entry: OptimizerEntry, maximize: bool, theirs_maximize: Optional[bool]):
    """Factories of ours and of the reference, in the settings where the two are the same algorithm."""
    reference = entry.reference
    assert reference is not None
    extra = {} if theirs_maximize is None else dict(maximize=theirs_maximize)
    return (
        lambda p: entry.cls(entry.select(p), **{**reference.ours, "maximize": maximize}),
        lambda p: reference.cls(entry.select(p), **{**reference.theirs, **extra}),
    )


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
@pytest.mark.parametrize("name", CLIMBING_REFERENCE)
def test_maximize_matches_torch(name, device, float64_default):
    # The same operations as torch's in float64 (0.0 measured on the CPU for every class but RAdam, whose
    # `optimized_update` form differs from torch's by rounding), within the chapter's float64 tolerance.
    ours, theirs = with_reference(ENTRIES[name], maximize=True, theirs_maximize=True)
    assert _climb_both(ours, theirs, device) <= tolerance(device, torch.float64)


def _climb_against_descend(climb, descend, steps=30, after_step: Optional[Callable[[Any, int], None]] = None) -> float:
    """Trains a model on $f$ with `climb` and its twin on $-f$ with `descend`; returns the largest difference."""
    x, y = make_data("cpu", torch.float64)
    model = make_model("cpu", torch.float64)
    twin = copy.deepcopy(model)
    up, down = climb(model.parameters()), descend(twin.parameters())
    for t in range(steps):
        for m, opt, sign in ((model, up, 1.0), (twin, down, -1.0)):
            opt.zero_grad()
            # $f = -\mathrm{MSE}$, so climbing it fits the data
            (-sign * nn.functional.mse_loss(m(x), y)).backward()
            opt.step()
            if after_step is not None:
                after_step(opt, t)
    return max_param_diff(model, twin)


@pytest.mark.parametrize("name", DESCENDING_REFERENCE)
def test_maximize_against_a_reference_descending_minus_f(name):
    # torch's Muon has no maximize: ours climbing f must equal torch's descending -f (0.0 measured for Muon).
    ours, theirs = with_reference(ENTRIES[name], maximize=True, theirs_maximize=None)
    assert _climb_against_descend(ours, theirs) <= tolerance("cpu", torch.float64, steps=30)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_climbing_f_is_descending_minus_f(name):
    # Every optimizer of the registry, with its test arguments, which switch on what changes its trajectory.
    # Negation is exact in floating point and autograd's backward of $-f$ negates every gradient exactly,
    # so the two runs must agree bit for bit.
    entry = ENTRIES[name]
    climb, descend = (lambda p: entry.make(p, maximize=True)), (lambda p: entry.make(p, maximize=False))
    assert _climb_against_descend(climb, descend, after_step=entry.after_step) == 0.0
    # ... and the switch does something: climbing with maximize=False goes elsewhere.
    assert _climb_against_descend(descend, descend, steps=3, after_step=entry.after_step) > 0.0


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
