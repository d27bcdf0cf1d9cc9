# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Try it: the demo at the end of every optimizer page
summary: Trains a small model with a page's optimizer and prints its loss; where PyTorch or the authors have the same algorithm, trains a twin with theirs on the same gradients and prints how far apart the two end.
---

# Try it

Every optimizer page of this chapter ends with a *Try it* block that calls `try_optimizer` on
this page. It trains the small perceptron of the [training example](train_example.html) on its
two interleaved spirals, full batch, for 100 steps, and prints the loss every 25 steps. Run in
the page's notebook, or from a shell with `python -m labml_nn.optimizers.adam`, it trains in
under a second on one CPU core ([FusedAdam](fused_adam.html) first compiles its kernel, for a
few seconds).

## The comparison

Where `torch.optim` (or the authors' own package) implements the same update, the page passes
it too, with the hyper-parameters under which the two compute the same thing (the page's
tests check the same settings). A copy of the model, with the same initial weights, is then
trained with the reference, and the demo prints the two losses side by side and, at the end,
the largest difference between any two corresponding parameters.

Two choices make that number mean something:

* **Both run in float64.** Two correct implementations of one update may still round
  differently (one multiplies by $1/\sqrt{\hat v}$, the other divides by $\sqrt{\hat v}$).
  In float64 such a difference is about $10^{-16}$ per step, so after 100 steps anything
  above about $10^{-12}$ is a different algorithm, not rounding. PyTorch's default dtype is
  float64 during the run too, since some of its optimizers keep scalars in tensors of the
  default dtype (`torch.optim.NAdam`'s product of momentum coefficients).
* **Both step on the same gradients.** The twin is given our model's gradients at every
  step, not its own. Trained on its own gradients, a one-ulp difference in a weight changes the
  next gradient, and a chaotic enough problem can grow it by orders of magnitude at a rate
  set by the problem rather than by the optimizers. With shared gradients the two parameter
  sets differ only by the rounding of the two updates, which can be bounded (the chapter's
  tests derive the bound). The twin's printed loss is still its own, computed at its own weights.

Without a reference the model trains alone, in float32 (or in the dtype the page asks for:
the [mixed precision](mixed_precision.html) page trains a bfloat16 model).
"""

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch import nn

from labml_nn.optimizers.train_example import make_model, make_spirals

# Makes an optimizer from the model's parameters; anything with `zero_grad()` and `step()` will do
# ([Muon](muon.html)'s page passes two optimizers stepped as one).
OptimizerFactory = Callable[[Iterable[nn.Parameter]], Any]
# One training step: `(model, optimizer, inputs, targets, t)`, with `t` counting from 0.
TrainStep = Callable[[nn.Module, Any, torch.Tensor, torch.Tensor, int], Any]


def cross_entropy_step(model: nn.Module, optimizer: Any, x: torch.Tensor, y: torch.Tensor, t: int) -> None:
    r"""
    ## A training step

    The gradient of the mean cross-entropy over all training points, then one optimizer step.
    [Sophia](sophia.html)'s page passes its own step, which also estimates the Hessian every $k$ steps.
    """
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


class SameGradients:
    r"""
    ## Two optimizers, one set of gradients

    Stands in for our optimizer in the training loop: `step()` copies the gradients of `model`
    onto `twin`, then steps both optimizers.
    """

    def __init__(self, model: nn.Module, optimizer: Any, twin: nn.Module, twin_optimizer: Any):
        self.model, self.optimizer, self.twin, self.twin_optimizer = model, optimizer, twin, twin_optimizer

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()
        self.twin_optimizer.zero_grad()

    def step(self) -> None:
        for p, q in zip(self.model.parameters(), self.twin.parameters()):
            q.grad = None if p.grad is None else p.grad.clone()
        self.optimizer.step()
        self.twin_optimizer.step()


@dataclass
class TryItResult:
    r"""
    ## What a run returns
    """

    # The steps at which the losses were measured, from 0 (the initial weights)
    steps: list[int]
    # Our model's mean cross-entropy at those steps
    losses: list[float]
    # The twin's, when a reference was given
    reference_losses: Optional[list[float]] = None
    # $\max_i |\theta_i - \theta'_i|$ over all parameters after the last step, when a reference was given
    max_diff: Optional[float] = None


@contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    r"""
    ### PyTorch's default dtype set to `dtype` for a while
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def make_problem(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, nn.Module]:
    r"""
    ## The data and the model

    The same points and the same initial weights on every page: both are drawn in float32
    from fixed seeds, then converted to `dtype`. Returns the inputs `[512, 2]`, the labels `[512]`
    and the model.
    """
    with default_dtype(torch.float32):
        x, y = make_spirals(n_per_class=256, seed=0)
        torch.manual_seed(0)
        model = make_model()
    return x.to(dtype), y, model.to(dtype)


def train_side_by_side(
    x: torch.Tensor,
    y: torch.Tensor,
    model: nn.Module,
    make_ours: OptimizerFactory,
    make_reference: Optional[OptimizerFactory],
    steps: int,
    train_step: TrainStep,
    log_every: int,
) -> TryItResult:
    r"""
    ## Train, with a twin when there is a reference
    """
    # The twin starts from an exact copy of the weights.
    twin = copy.deepcopy(model)
    optimizer = make_ours(model.parameters())
    if make_reference is not None:
        optimizer = SameGradients(model, optimizer, twin, make_reference(twin.parameters()))

    # In float64 whatever the model's dtype: a bfloat16 loss would have three significant digits.
    def loss_of(m: nn.Module) -> float:
        with torch.no_grad():
            return nn.functional.cross_entropy(m(x).double(), y).item()

    result = TryItResult([0], [loss_of(model)], [loss_of(twin)] if make_reference else None)
    for t in range(steps):
        train_step(model, optimizer, x, y, t)
        if (t + 1) % log_every == 0:
            result.steps.append(t + 1)
            result.losses.append(loss_of(model))
            if result.reference_losses is not None:
                result.reference_losses.append(loss_of(twin))
    if make_reference is not None:
        result.max_diff = max((p - q).abs().max().item() for p, q in zip(model.parameters(), twin.parameters()))
    return result


def format_result(result: TryItResult, name: str, reference_name: str) -> str:
    r"""
    ## The table a learner sees

    Six decimals for a model trained alone; twelve beside a reference, enough to see that the
    two columns agree.
    """
    if result.reference_losses is None:
        rows = [f"{'step':>5}  {name}"]
        rows += [f"{step:5d}  {loss:.6f}" for step, loss in zip(result.steps, result.losses)]
        return "\n".join(rows)
    rows = [f"{'step':>5}  {name:>20}  {reference_name:>20}"]
    for step, loss, reference_loss in zip(result.steps, result.losses, result.reference_losses):
        rows.append(f"{step:5d}  {loss:20.12f}  {reference_loss:20.12f}")
    rows.append(f"largest |parameter difference| after {result.steps[-1]} steps: {result.max_diff:.3g}")
    return "\n".join(rows)


def try_optimizer(
    make_ours: OptimizerFactory,
    make_reference: Optional[OptimizerFactory] = None,
    *,
    name: str = "ours",
    reference_name: str = "reference",
    steps: int = 100,
    dtype: Optional[torch.dtype] = None,
    train_step: TrainStep = cross_entropy_step,
    log_every: int = 25,
) -> TryItResult:
    r"""
    ## Try an optimizer

    * `make_ours` and `make_reference` make an optimizer from a model's parameters
    * `name` and `reference_name` head the columns of the table
    * `dtype` is the model's dtype; float64 when there is a reference, float32 otherwise
    * `train_step` takes one training step (see `cross_entropy_step`)

    Prints the losses every `log_every` steps and, with a reference, the largest parameter
    difference at the end; returns the same numbers.
    """
    if dtype is None:
        dtype = torch.float64 if make_reference is not None else torch.float32
    x, y, model = make_problem(dtype)
    # Scalars that the optimizers keep in tensors of the default dtype follow a float64 model; a
    # low-precision model keeps float32 ones, since that is what its optimizer is written for.
    with default_dtype(torch.float64 if dtype == torch.float64 else torch.float32):
        result = train_side_by_side(x, y, model, make_ours, make_reference, steps, train_step, log_every)
    # The table is this page's output, not a stray debugging line.
    print(format_result(result, name, reference_name))
    return result
