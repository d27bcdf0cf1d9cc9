"""Shared pieces of the optimizer tests: devices, tolerances, a small model and a training loop.

Every trajectory test runs on the CPU, and on CUDA when it is present.
"""
import copy
from typing import Callable, Iterable, List, Optional, Sequence

import pytest
import torch
from torch import nn

# CUDA is added when present; on a machine without it the CUDA cases are skipped, not silently dropped.
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")),
]
DTYPES = [torch.float32, torch.float64]

# Largest allowed |difference| between two optimizers' parameters after 100 steps.
# CPU kernels of the same operations are deterministic and the reference classes use the same
# operations, so the CPU figures are tight. On CUDA, kernels may reorder reductions in the
# backward pass differently between two models, so the tolerance is an order looser.
TOLERANCE = {
    ("cpu", torch.float32): 1e-6,
    ("cpu", torch.float64): 1e-12,
    ("cuda", torch.float32): 1e-5,
    ("cuda", torch.float64): 1e-11,
}

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


def make_model(device: str, dtype: torch.dtype, seed: int = 0) -> nn.Module:
    """A small MLP with a bias-free layer, so both matrices and vectors are optimized."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8, bias=False), nn.Tanh(), nn.Linear(8, 1))
    return model.to(device=device, dtype=dtype)


def make_data(device: str, dtype: torch.dtype, n: int = 64, seed: int = 1):
    """A fixed regression problem: inputs and noisy targets."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g, dtype=torch.float64)
    y = (x[:, :1] * 0.5 - x[:, 1:2] ** 2 + 0.1 * torch.randn(n, 1, generator=g, dtype=torch.float64))
    return x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def train(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
          steps: int = 100, scheduler=None) -> List[float]:
    """Full-batch training; returns the loss of every step."""
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def max_param_diff(a: nn.Module, b: nn.Module) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def compare_trajectories(ours: OptimizerFactory, reference: OptimizerFactory, device: str, dtype: torch.dtype,
                         steps: int = 100, scheduler: Optional[SchedulerFactory] = None) -> float:
    """Trains two copies of one model, one with each optimizer; returns the largest parameter difference.

    `scheduler`, when given, makes a learning-rate scheduler for each optimizer (the same kind for both),
    stepped after every optimizer step.
    """
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    x, y = make_data(device, dtype)
    for m, factory in ((model, ours), (twin, reference)):
        optimizer = factory(m.parameters())
        train(m, optimizer, x, y, steps, scheduler(optimizer) if scheduler is not None else None)
    return max_param_diff(model, twin)


def train_with_resume(ours: OptimizerFactory, tmp_path, device: str, dtype: torch.dtype, steps: int = 100,
                      resume_at: int = 50, fresh: Optional[OptimizerFactory] = None):
    """Trains one model for `steps` steps uninterrupted, and a twin that is saved to disk after `resume_at`
    steps, loaded into a new model and a new optimizer (made by `fresh`, default `ours`) and trained on.

    Returns `(uninterrupted_model, uninterrupted_optimizer, resumed_model, resumed_optimizer)`, for the
    caller to compare with `torch.equal`: resuming must be bit-identical.
    """
    x, y = make_data(device, dtype)
    model = make_model(device, dtype)
    optimizer = ours(model.parameters())
    train(model, optimizer, x, y, steps)

    first = make_model(device, dtype)
    first_optimizer = ours(first.parameters())
    train(first, first_optimizer, x, y, resume_at)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": first.state_dict(), "optimizer": first_optimizer.state_dict()}, path)
    del first, first_optimizer

    checkpoint = torch.load(path, weights_only=True)
    # A different seed, so that a load that silently does nothing cannot pass.
    resumed = make_model(device, dtype, seed=123)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = (fresh or ours)(resumed.parameters())
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    train(resumed, resumed_optimizer, x, y, steps - resume_at)
    return model, optimizer, resumed, resumed_optimizer


def assert_same_state(a: torch.optim.Optimizer, b: torch.optim.Optimizer) -> None:
    """Asserts two optimizers hold equal hyper-parameters and bit-identical state."""
    sa, sb = a.state_dict(), b.state_dict()
    assert [{k: v for k, v in g.items() if k != "params"} for g in sa["param_groups"]] == \
        [{k: v for k, v in g.items() if k != "params"} for g in sb["param_groups"]]
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys()
        for k, v in sa["state"][i].items():
            if isinstance(v, torch.Tensor):
                assert torch.equal(v, sb["state"][i][k]), (i, k)
            else:
                assert v == sb["state"][i][k], (i, k)


def tolerance(device: str, dtype: torch.dtype) -> float:
    return TOLERANCE[(device, dtype)]


def params_of(model: nn.Module) -> Sequence[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def resume_is_bit_identical(factory: OptimizerFactory, path, device: str = "cpu", dtype: torch.dtype = torch.float32,
                            steps_before: int = 10, steps_after: int = 10, scheduler=None, train_fn=None) -> bool:
    """Trains, saves the optimizer with `torch.save` to `path`, loads it into a fresh optimizer on a copy of the
    model, and trains both on; True when parameters and optimizer state stay bit-identical (`torch.equal`).

    `scheduler`, when given, is a function from an optimizer to an lr scheduler; it is saved and restored too.
    `train_fn`, when given, replaces `train` (same signature), for optimizers whose loop does more than `step()`.
    """
    train_fn = train_fn or train
    model = make_model(device, dtype)
    x, y = make_data(device, dtype)
    optimizer = factory(model.parameters())
    sched = scheduler(optimizer) if scheduler else None
    train_fn(model, optimizer, x, y, steps_before, sched)
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": sched.state_dict() if sched else None}, path)

    twin = copy.deepcopy(model)
    twin_optimizer = factory(twin.parameters())
    twin_sched = scheduler(twin_optimizer) if scheduler else None
    saved = torch.load(path, weights_only=False)
    twin_optimizer.load_state_dict(saved["optimizer"])
    if twin_sched is not None:
        twin_sched.load_state_dict(saved["scheduler"])

    train_fn(model, optimizer, x, y, steps_after, sched)
    train_fn(twin, twin_optimizer, x, y, steps_after, twin_sched)
    if not all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters())):
        return False
    for p, q in zip(model.parameters(), twin.parameters()):
        a, b = optimizer.state[p], twin_optimizer.state[q]
        if a.keys() != b.keys():
            return False
        for key in a:
            same = torch.equal(a[key], b[key]) if torch.is_tensor(a[key]) else a[key] == b[key]
            if not same:
                return False
    return True
