"""Shared pieces of the optimizer tests: devices, tolerances, a small model and a training loop.

Every trajectory test runs on the CPU, and on CUDA when it is present.
"""
import copy
from typing import Callable, Iterable, List, Sequence

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
                         steps: int = 100) -> float:
    """Trains two copies of one model, one with each optimizer; returns the largest parameter difference."""
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    x, y = make_data(device, dtype)
    train(model, ours(model.parameters()), x, y, steps)
    train(twin, reference(twin.parameters()), x, y, steps)
    return max_param_diff(model, twin)


def tolerance(device: str, dtype: torch.dtype) -> float:
    return TOLERANCE[(device, dtype)]


def params_of(model: nn.Module) -> Sequence[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def resume_is_bit_identical(factory: OptimizerFactory, path, device: str = "cpu", dtype: torch.dtype = torch.float32,
                            steps_before: int = 10, steps_after: int = 10, scheduler=None) -> bool:
    """Trains, saves the optimizer with `torch.save` to `path`, loads it into a fresh optimizer on a copy of the
    model, and trains both on; True when parameters and optimizer state stay bit-identical (`torch.equal`).

    `scheduler`, when given, is a function from an optimizer to an lr scheduler; it is saved and restored too.
    """
    model = make_model(device, dtype)
    x, y = make_data(device, dtype)
    optimizer = factory(model.parameters())
    sched = scheduler(optimizer) if scheduler else None
    train(model, optimizer, x, y, steps_before, sched)
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": sched.state_dict() if sched else None}, path)

    twin = copy.deepcopy(model)
    twin_optimizer = factory(twin.parameters())
    twin_sched = scheduler(twin_optimizer) if scheduler else None
    saved = torch.load(path, weights_only=False)
    twin_optimizer.load_state_dict(saved["optimizer"])
    if twin_sched is not None:
        twin_sched.load_state_dict(saved["scheduler"])

    train(model, optimizer, x, y, steps_after, sched)
    train(twin, twin_optimizer, x, y, steps_after, twin_sched)
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
