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
