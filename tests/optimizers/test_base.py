"""Tests of the machinery that `GenericAdaptiveOptimizer` and `WeightDecay` give every optimizer of the
chapter: parameter groups, schedulers, closures, state dicts, validation. They use `Adam`, the chapter's
first concrete optimizer, and compare with `torch.optim`, which has the same machinery.
"""

import copy
from collections.abc import Iterable

import pytest
import torch
from torch import nn

from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay
from labml_nn.optimizers.adam import Adam
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    OpenLoop,
    assert_resumes_identically,
    compare_trajectories,
    make_data,
    make_model,
    tolerance,
    train,
)

LR = 1e-2


def weight_and_bias_groups(params: Iterable[nn.Parameter], **bias_options) -> list[dict]:
    """Two groups: the matrices with the defaults, the vectors (biases) with `bias_options`."""
    params = list(params)
    return [
        {"params": [p for p in params if p.ndim > 1]},
        {"params": [p for p in params if p.ndim <= 1], **bias_options},
    ]


# ## Parameter groups


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decouple, reference", [(True, torch.optim.AdamW), (False, torch.optim.Adam)])
def test_groups_with_their_own_lr_and_no_decay_on_biases(device, dtype, decouple, reference):
    bias_options = dict(lr=3e-3, weight_decay=0.0)
    diff = compare_trajectories(
        lambda p: Adam(
            weight_and_bias_groups(p, **bias_options),
            lr=LR,
            eps=1e-8,
            optimized_update=False,
            weight_decay=WeightDecay(0.1, weight_decouple=decouple),
        ),
        lambda p: reference(
            weight_and_bias_groups(p, **bias_options), lr=LR, eps=1e-8, weight_decay=0.1, foreach=False
        ),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


def test_groups_really_differ():
    # Without this, the test above could pass with the group options ignored on both sides.
    diff = compare_trajectories(
        lambda p: Adam(weight_and_bias_groups(p, lr=3e-3, weight_decay=0.0), lr=LR, weight_decay=WeightDecay(0.1)),
        lambda p: Adam(p, lr=LR, weight_decay=WeightDecay(0.1)),
        "cpu",
        torch.float64,
    )
    assert diff > 1e-4


@pytest.mark.parametrize("device", DEVICES)
def test_add_param_group_after_construction(device):
    dtype = torch.float64
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    x, y = make_data(device, dtype)
    ours = Adam(
        [p for p in model.parameters() if p.ndim > 1],
        lr=LR,
        eps=1e-8,
        optimized_update=False,
        weight_decay=WeightDecay(0.1),
    )
    theirs = torch.optim.AdamW(
        [p for p in twin.parameters() if p.ndim > 1], lr=LR, eps=1e-8, weight_decay=0.1, foreach=False
    )
    # Train the matrices alone for a while, then add the biases with their own learning rate. Both are fed the
    # model's gradients, so the difference is the two optimizers' rounding (see `common.tolerance`).
    pair = OpenLoop(model, ours, twin, theirs)
    train(model, pair, x, y, steps=10)
    ours.add_param_group({"params": [p for p in model.parameters() if p.ndim <= 1], "lr": 3e-3})
    theirs.add_param_group({"params": [p for p in twin.parameters() if p.ndim <= 1], "lr": 3e-3})
    # The new group takes the optimizer's defaults for what it does not set.
    assert ours.param_groups[1]["betas"] == (0.9, 0.999)
    assert ours.param_groups[1]["weight_decay"] == 0.1 and ours.param_groups[1]["weight_decouple"] is True
    train(model, pair, x, y, steps=20)
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=tolerance(device, dtype, steps=30))


# ## Learning-rate schedulers

SCHEDULERS = {
    "StepLR": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.3),
    "LambdaLR": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 20)),
    # It cycles beta1 between 0.85 and 0.95 as well as the learning rate.
    "OneCycleLR": lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=100),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
@pytest.mark.parametrize("decouple, reference", [(True, torch.optim.AdamW), (False, torch.optim.Adam)])
def test_scheduler_drives_it_like_torch(device, dtype, scheduler, decouple, reference):
    # With decoupled decay, AdamW decays by the *scheduled* learning rate, so this also checks that
    # the decay reads the learning rate in effect.
    diff = compare_trajectories(
        lambda p: Adam(p, lr=LR, eps=1e-8, optimized_update=False, weight_decay=WeightDecay(0.1, decouple)),
        lambda p: reference(p, lr=LR, eps=1e-8, weight_decay=0.1, foreach=False),
        device,
        dtype,
        scheduler=SCHEDULERS[scheduler],
    )
    assert diff <= tolerance(device, dtype)


def test_one_cycle_changes_betas_and_lr():
    # The equality above would hold trivially if neither optimizer saw the schedule.
    model = make_model("cpu", torch.float32)
    opt = Adam(model.parameters(), lr=LR)
    sched = SCHEDULERS["OneCycleLR"](opt)
    x, y = make_data("cpu", torch.float32)
    seen = set()
    for _ in range(30):
        train(model, opt, x, y, steps=1, scheduler=sched)
        seen.add((round(opt.param_groups[0]["lr"], 8), round(opt.param_groups[0]["betas"][0], 8)))
    assert len({lr for lr, _ in seen}) == 30 and len({b1 for _, b1 in seen}) == 30
    # beta2 is left as it was.
    assert opt.param_groups[0]["betas"][1] == 0.999


# ## step()


def test_closure_is_evaluated_and_its_loss_returned():
    model = make_model("cpu", torch.float64)
    twin = copy.deepcopy(model)
    x, y = make_data("cpu", torch.float64)
    opt = Adam(model.parameters(), lr=LR)

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(5)]
    # The same steps taken without a closure give the same losses and parameters.
    assert losses == train(twin, Adam(twin.parameters(), lr=LR), x, y, steps=5)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))
    assert Adam(model.parameters()).step() is None


def test_sparse_gradients_are_refused():
    embedding = nn.Embedding(10, 4, sparse=True)
    opt = Adam(embedding.parameters())
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="does not support sparse gradients.*SparseAdam"):
        opt.step()


@pytest.mark.parametrize("device", DEVICES)
def test_parameters_without_grad_are_untouched(device):
    model = make_model(device, torch.float32)
    # One parameter takes no part in the loss, one is frozen; both would move through weight decay
    # if the optimizer touched them.
    unused = nn.Parameter(torch.ones(3, device=device))
    frozen = model[0].weight
    frozen.requires_grad_(False)
    before = frozen.detach().clone()
    opt = Adam([*model.parameters(), unused], lr=LR, weight_decay=WeightDecay(0.1))
    x, y = make_data(device, torch.float32)
    losses = train(model, opt, x, y, steps=10)
    assert torch.equal(unused, torch.ones(3, device=device)) and torch.equal(frozen, before)
    assert unused not in opt.state and frozen not in opt.state
    # The other parameters were trained.
    assert losses[-1] < losses[0] and model[2].weight in opt.state


def test_subclass_must_write_the_hooks():
    class Incomplete(GenericAdaptiveOptimizer):
        def __init__(self, params):
            super().__init__(params, {}, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    p = nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    with pytest.raises(NotImplementedError, match="Incomplete must implement init_state"):
        Incomplete([p]).step()


# ## Validation

BAD_ARGUMENTS = [
    (dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (dict(betas=(1.0, 0.999)), r"Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(-0.1, 0.999)), r"Invalid beta parameter at index 0: -0.1"),
    (dict(betas=(0.9, 1.0)), r"Invalid beta parameter at index 1: 1.0"),
    (dict(betas=(0.9,)), r"Invalid betas"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
]


@pytest.mark.parametrize("kwargs, message", BAD_ARGUMENTS)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adam(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_bad_weight_decay_raises_value_error():
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1"):
        WeightDecay(-0.1)
    with pytest.raises(ValueError, match="absolute weight decay .* needs weight_decouple=True"):
        WeightDecay(0.1, weight_decouple=False, absolute=True)
    with pytest.raises(ValueError, match="must be < 1"):
        WeightDecay(1.0, absolute=True)


@pytest.mark.parametrize(
    "group, message",
    [
        *BAD_ARGUMENTS,
        (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (dict(weight_decouple=False, weight_decay_absolute=True), "needs weight_decouple=True"),
    ],
)
def test_bad_param_group_raises_value_error_and_is_not_added(group, message):
    model = make_model("cpu", torch.float32)
    opt = Adam(model[0].parameters())
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": list(model[2].parameters()), **group})
    # A rejected group must not stay behind, to be used by the next step().
    assert len(opt.param_groups) == 1
    # The same values are refused in the groups given to the constructor.
    with pytest.raises(ValueError, match=message):
        Adam([{"params": list(model[2].parameters()), **group}])


def test_group_may_hold_a_weight_decay_object():
    # ZeroRedundancyOptimizer passes Adam's keyword arguments on as group entries, so a group can hold
    # a WeightDecay under `weight_decay`; it is stored as plain values, which state_dict() can save.
    model = make_model("cpu", torch.float32)
    opt = Adam([{"params": list(model[0].parameters()), "weight_decay": WeightDecay(0.01, absolute=True)}])
    opt.add_param_group(
        {"params": list(model[2].parameters()), "weight_decay": WeightDecay(0.2, weight_decouple=False)}
    )
    assert [(g["weight_decay"], g["weight_decouple"], g["weight_decay_absolute"]) for g in opt.param_groups] == [
        (0.01, True, True),
        (0.2, False, False),
    ]
    # The spread values are validated like any others: a WeightDecay changed after construction
    # is refused.
    bad = WeightDecay(0.1)
    bad.weight_decay = -0.1
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1"):
        opt.add_param_group({"params": list(model[4].parameters()), "weight_decay": bad})


# ## Saving and resuming


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_resume_from_file_is_bit_identical(tmp_path, device, dtype):
    def ours(p):
        return Adam(weight_and_bias_groups(p, lr=3e-3, weight_decay=0.0), lr=LR, weight_decay=WeightDecay(0.1))

    resumed, resumed_opt = assert_resumes_identically(ours, tmp_path, device, dtype, steps=40, resume_at=15)
    # The step counter is saved: it is 40 after the resumed run, not 25.
    assert resumed_opt.state[next(resumed.parameters())]["step"] == 40


@pytest.mark.parametrize(
    "saved, fresh",
    [
        (WeightDecay(0.1), WeightDecay(0.0)),
        (WeightDecay(0.1, weight_decouple=False), WeightDecay(0.1)),
        (WeightDecay(0.01, absolute=True), WeightDecay(0.1, weight_decouple=False)),
    ],
)
def test_weight_decay_and_hyper_parameters_survive_the_round_trip(tmp_path, saved, fresh):
    # The fresh optimizer is built with other hyper-parameters throughout; after load_state_dict it
    # must behave exactly like the saved one, since every choice lives in the param groups.
    resumed, resumed_opt = assert_resumes_identically(
        lambda p: Adam(p, lr=LR, eps=1e-6, weight_decay=saved, optimized_update=False),
        tmp_path,
        "cpu",
        torch.float64,
        steps=30,
        resume_at=10,
        fresh=lambda p: Adam(p, lr=0.5, eps=1e-16, weight_decay=fresh, optimized_update=True),
    )
    assert resumed_opt.param_groups[0]["weight_decay"] == saved.weight_decay
