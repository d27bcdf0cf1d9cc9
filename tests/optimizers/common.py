"""Shared pieces of the optimizer tests: devices, tolerances, a small model and a training loop.

Every trajectory test runs on the CPU, and on CUDA when it is present.
"""

import copy
from collections.abc import Iterable, Sequence
from typing import Callable, Optional

import pytest
import torch
from torch import nn

# CUDA is added when present; on a machine without it the CUDA cases are skipped, not silently dropped.
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")),
]
DTYPES = [torch.float32, torch.float64]

# Largest allowed |difference| between two optimizers' parameters after `steps` steps of `compare_trajectories`.
#
# The two copies see the same gradients (see `OpenLoop`), so their parameters differ only by how the two
# optimizers round, not by how training amplifies a difference through the gradients; the order in which a
# CPU's vector units or a GPU's kernels sum the backward pass cannot enter. Per step and coordinate, with
# $\epsilon$ the dtype's machine epsilon ($2^{-23}$ in float32, $2^{-52}$ in float64), the difference can grow by
#
# * the rounding of $\theta_t$ in each copy, half an ulp each: at most $\epsilon |\theta|$ together, and
#   `compare_group_trajectories` asserts $|\theta| < 4$;
# * the difference of the two computed steps $s_t$: each is rounded relative to its size by at most
#   $k \epsilon$, where $k = 200$ counts the roundings that reach $s_t$ within 100 steps (the worst is $v_t$,
#   an average with $\beta_2 = 0.999$ of three roundings a step: $3 \sum_{i<100} \beta_2^i \approx 300$
#   relative to $v$, 150 after the square root; $m_t$ adds $3/(1-\beta_1) = 30$; the remaining dozen
#   operations 20), so $2 k \epsilon |s|$ for the pair, and `compare_group_trajectories` asserts $|s| \le 0.2$
#   (Adafactor's relative steps reach 0.15 here; the Adam family's stay below 0.05).
#
# A difference already there is carried, not grown: decoupled decay multiplies it by $1 - \eta\lambda \le 1$
# (L2 decay and Adafactor's relative step feed $\theta$ back into $s_t$, scaled by $\eta\lambda$ or $\eta$,
# a second-order term the worst-case $k$ covers). That gives
# $\text{steps} \cdot \epsilon \cdot (4 + 2 \cdot 200 \cdot 0.2) = 84 \cdot \text{steps} \cdot \epsilon$:
# $1.0 \times 10^{-3}$ in float32 and $1.9 \times 10^{-12}$ in float64 for 100 steps. It holds on CUDA too:
# a kernel that fuses a multiply and an add rounds once where the CPU rounds twice.
#
# The bound is a worst case, far above what happens (measured on one CPU: at most $7 \times 10^{-7}$ in
# float32 and $2 \times 10^{-15}$ in float64). The float32 runs check that float32 stays within rounding of
# the algorithm; the equality of two algorithms is checked in float64, where the bound is tight.
# Sign and clamp decisions (Lion, Sophia) can turn rounding into a whole step; their tests track that.
MAX_ABS_PARAM = 4.0
MAX_ABS_STEP = 0.2
ROUNDINGS_PER_STEP = 200


def tolerance(device: str, dtype: torch.dtype, steps: int = 100) -> float:
    """The derived bound above: `steps` x eps x (|theta| bound + 2 k |s| bound)."""
    eps = torch.finfo(dtype).eps
    return steps * eps * (MAX_ABS_PARAM + 2 * ROUNDINGS_PER_STEP * MAX_ABS_STEP)


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
    y = x[:, :1] * 0.5 - x[:, 1:2] ** 2 + 0.1 * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int = 100,
    scheduler=None,
) -> list[float]:
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


def compare_trajectories(
    ours: OptimizerFactory,
    reference: OptimizerFactory,
    device: str,
    dtype: torch.dtype,
    steps: int = 100,
    scheduler: Optional[SchedulerFactory] = None,
) -> float:
    """Trains two copies of one model, one with each optimizer; returns the largest parameter difference.

    `scheduler`, when given, makes a learning-rate scheduler for each optimizer (the same kind for both),
    stepped after every optimizer step.
    """
    diff, _ = compare_group_trajectories(
        ours, reference, lambda model: model.parameters(), device, dtype, steps, scheduler
    )
    return diff


def compare_group_trajectories(
    ours: OptimizerFactory,
    reference: OptimizerFactory,
    groups,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    steps: int = 100,
    scheduler: Optional[SchedulerFactory] = None,
):
    """`compare_trajectories` with parameter groups: `groups(model)` gives each copy's groups.

    Returns the largest parameter difference and our optimizer, whose groups the caller may check.
    """
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    x, y = make_data(device, dtype)
    optimizer = ours(groups(model))
    pair = OpenLoop(model, optimizer, twin, reference(groups(twin)))
    schedulers = pair.schedulers(scheduler) if scheduler is not None else None
    for _ in range(steps):
        before = params_of(model)
        train(model, pair, x, y, 1, schedulers)
        # the assumptions of the derived `tolerance`
        largest = max(p.abs().max().item() for p in model.parameters())
        assert largest < MAX_ABS_PARAM, f"|theta| = {largest} leaves the range `tolerance` is derived for"
        step = max((p - q).abs().max().item() for p, q in zip(model.parameters(), before))
        assert step <= MAX_ABS_STEP, f"a step of {step} leaves the range `tolerance` is derived for"
    return max_param_diff(model, twin), optimizer


class OpenLoop:
    """Two optimizers driven by one model's gradients, in the place of one optimizer.

    `step()` (and Sophia's `update_hessian(n)`) copies the gradients of `model` onto `twin` first, so both
    optimizers see bit-identical gradients every step. Trained in a closed loop instead, a one-ulp difference
    in the weights changes the next gradients and grows over the steps at a rate that depends on the problem
    and on the order the CPU sums the backward pass in, which no tolerance can be derived for.
    """

    def __init__(self, model: nn.Module, optimizer, twin: nn.Module, twin_optimizer):
        self.model, self.optimizer, self.twin, self.twin_optimizer = model, optimizer, twin, twin_optimizer

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)
        self.twin_optimizer.zero_grad(set_to_none=set_to_none)

    def _copy_gradients(self) -> None:
        for p, q in zip(self.model.parameters(), self.twin.parameters()):
            if p.grad is None:
                q.grad = None
            elif q.grad is None:
                q.grad = p.grad.clone()
            else:
                q.grad.copy_(p.grad)

    def step(self, closure=None) -> None:
        assert closure is None
        self._copy_gradients()
        self.optimizer.step()
        self.twin_optimizer.step()

    def update_hessian(self, n: int) -> None:
        self._copy_gradients()
        self.optimizer.update_hessian(n)
        self.twin_optimizer.update_hessian(n)

    def schedulers(self, make: SchedulerFactory):
        """One scheduler per optimizer, stepped together."""
        pair = [make(self.optimizer), make(self.twin_optimizer)]

        class Both:
            @staticmethod
            def step():
                for scheduler in pair:
                    scheduler.step()

        return Both()


def train_with_resume(
    ours: OptimizerFactory,
    tmp_path,
    device: str,
    dtype: torch.dtype,
    steps: int = 100,
    resume_at: int = 50,
    fresh: Optional[OptimizerFactory] = None,
    scheduler: Optional[SchedulerFactory] = None,
    train_fn=None,
):
    """Trains one model for `steps` steps uninterrupted, and a twin that is saved to disk after `resume_at`
    steps, loaded into a new model and a new optimizer (made by `fresh`, default `ours`) and trained on.

    `scheduler`, when given, makes a learning-rate scheduler for each optimizer; it is saved and restored
    with the optimizer. `train_fn`, when given, replaces `train` (same signature), for optimizers whose
    loop does more than `step()`.

    Returns `(uninterrupted_model, uninterrupted_optimizer, resumed_model, resumed_optimizer)`, for the
    caller to compare with `torch.equal`: resuming must be bit-identical.
    """
    train_fn = train_fn or train
    make_scheduler = scheduler or (lambda optimizer: None)
    x, y = make_data(device, dtype)
    model = make_model(device, dtype)
    optimizer = ours(model.parameters())
    train_fn(model, optimizer, x, y, steps, make_scheduler(optimizer))

    first = make_model(device, dtype)
    first_optimizer = ours(first.parameters())
    first_scheduler = make_scheduler(first_optimizer)
    train_fn(first, first_optimizer, x, y, resume_at, first_scheduler)
    path = tmp_path / "checkpoint.pt"
    torch.save(
        {
            "model": first.state_dict(),
            "optimizer": first_optimizer.state_dict(),
            "scheduler": first_scheduler.state_dict() if first_scheduler is not None else None,
        },
        path,
    )
    del first, first_optimizer, first_scheduler

    checkpoint = torch.load(path, weights_only=False)
    # A different seed, so that a load that silently does nothing cannot pass.
    resumed = make_model(device, dtype, seed=123)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = (fresh or ours)(resumed.parameters())
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler = make_scheduler(resumed_optimizer)
    if resumed_scheduler is not None:
        resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    train_fn(resumed, resumed_optimizer, x, y, steps - resume_at, resumed_scheduler)
    return model, optimizer, resumed, resumed_optimizer


def assert_same_state(a: torch.optim.Optimizer, b: torch.optim.Optimizer) -> None:
    """Asserts two optimizers hold equal hyper-parameters and bit-identical state."""
    sa, sb = a.state_dict(), b.state_dict()
    assert [{k: v for k, v in g.items() if k != "params"} for g in sa["param_groups"]] == [
        {k: v for k, v in g.items() if k != "params"} for g in sb["param_groups"]
    ]
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys()
        for k, v in sa["state"][i].items():
            if isinstance(v, torch.Tensor):
                assert torch.equal(v, sb["state"][i][k]), (i, k)
            else:
                assert v == sb["state"][i][k], (i, k)


def params_of(model: nn.Module) -> Sequence[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def assert_resumes_identically(ours: OptimizerFactory, tmp_path, device: str, dtype: torch.dtype, **kwargs):
    """`train_with_resume` (same arguments), then asserts that parameters and optimizer state after resuming
    are bit-identical (`torch.equal`) to the uninterrupted run's. Returns the resumed model and optimizer."""
    model, optimizer, resumed, resumed_optimizer = train_with_resume(ours, tmp_path, device, dtype, **kwargs)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
    assert_same_state(optimizer, resumed_optimizer)
    return resumed, resumed_optimizer


def resume_is_bit_identical(
    factory: OptimizerFactory,
    path,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    steps_before: int = 10,
    steps_after: int = 10,
    scheduler=None,
    train_fn=None,
) -> bool:
    """`assert_resumes_identically`, saving under `path`'s folder, as a verdict instead of an assertion."""
    try:
        assert_resumes_identically(
            factory,
            path.parent,
            device,
            dtype,
            steps=steps_before + steps_after,
            resume_at=steps_before,
            scheduler=scheduler,
            train_fn=train_fn,
        )
    except AssertionError:
        return False
    return True


def steps_of(optimizer_class, gradients, **kwargs) -> list[float]:
    """The successive changes of a one-element float64 parameter that receives `gradients`."""
    param = nn.Parameter(torch.tensor([5.0], dtype=torch.float64))
    optimizer = optimizer_class([param], **kwargs)
    changes = []
    for g in gradients:
        before = param.item()
        param.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
        changes.append(param.item() - before)
    return changes
