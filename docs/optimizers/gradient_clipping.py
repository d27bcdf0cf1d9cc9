# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Gradient Clipping
summary: An annotated PyTorch implementation of gradient clipping by global norm and by value, checked against torch.nn.utils, with why the global norm keeps the update's direction, where clipping goes in a mixed-precision step, and what it does to Adam.
paper_title: On the difficulty of training recurrent neural networks
paper_authors: Razvan Pascanu, Tomas Mikolov and Yoshua Bengio
paper_year: 2013
paper_type: inproceedings
paper_venue: Proceedings of the 30th International Conference on Machine Learning (ICML 2013)
paper_series: Proceedings of Machine Learning Research
paper_volume: 28
paper_number: 3
paper_pages: 1310-1318
paper_publisher: PMLR
paper_url: https://proceedings.mlr.press/v28/pascanu13.html
paper_arxiv: 1211.5063
paper_arxiv_class: cs.LG
---

# Gradient Clipping

Gradient clipping is not an optimizer but a step between the backward pass and the optimizer: it
makes the gradient smaller when it is too large. This page implements the two forms that PyTorch
offers, `torch.nn.utils.clip_grad_norm_` and `torch.nn.utils.clip_grad_value_`, and the tests check
ours against them in float64. Clipping by norm is from
[On the difficulty of training recurrent neural networks](https://arxiv.org/abs/1211.5063)
(arXiv 1211.5063) by Pascanu, Mikolov and Bengio, ICML 2013, which proposed it against the
*exploding gradients* of recurrent networks: the gradient through $T$ time steps is a product of $T$
Jacobians, which can grow exponentially in $T$, so that one step of gradient descent, at a rate that
suits the other steps, throws the parameters far away.

## Clipping by global norm

Write $g$ for the gradients of *all* the parameters, concatenated into one vector, and $c$ for the
threshold (`max_norm`). Clipping by global norm rescales $g$ when its norm exceeds $c$:

$$g \leftarrow g \cdot \min\Big(1, \frac{c}{\lVert g \rVert}\Big)$$

A gradient with $\lVert g \rVert \le c$ is left as it is; a larger one is shortened to length $c$.
The norm is usually the Euclidean one, $\lVert g \rVert_2 = \big(\sum_i g_i^2\big)^{1/2}$; PyTorch
also takes any $p$-norm, $\lVert g \rVert_p = \big(\sum_i |g_i|^p\big)^{1/p}$, and the infinity norm
$\lVert g \rVert_\infty = \max_i |g_i|$.

**One factor for every parameter keeps the direction.** Every coordinate of every parameter is
multiplied by the same positive number, so the clipped gradient points where the gradient pointed; only
the length of the step changes. It is as if the learning rate had been lowered for this one step,
to $\alpha c / \lVert g \rVert$. For plain SGD, clipping by norm bounds the step by $\alpha c$.

**Clipping each tensor, or each value, changes the direction.** Clipping every parameter tensor to norm
$c$ separately shortens the tensors with large gradients and leaves the others: with two tensors whose
gradients are $a = (3, 4)$ and $b = (0.6, 0.8)$ and $c = 1$, per-tensor clipping makes both $(0.6, 0.8)$,
while the global norm, $\sqrt{26} = 5.10$, scales both by $0.196$. The per-tensor result is $33.7°$
away from the gradient: $b$'s part of the step was a fifth of $a$'s and is now as large.
Clipping by value, $g_i \leftarrow \max(-c, \min(c, g_i))$, does the same coordinate by coordinate:
the large coordinates are cut and the small ones kept, and the result leans towards the diagonal
(the first exercise measures by how much). It bounds the norm only by $c\sqrt{n}$, for $n$
coordinates.

## What PyTorch computes exactly

`clip_grad_norm_` computes the norm of each gradient tensor, then the norm of those norms (the same
number as the norm of the concatenation, rounded differently), and multiplies every gradient by

$$\min\Big(1, \frac{c}{\lVert g \rVert + 10^{-6}}\Big)$$

The $10^{-6}$ keeps the division finite when the gradient is zero. It also makes the clipped norm
$c \lVert g \rVert / (\lVert g \rVert + 10^{-6})$, a little less than $c$, and it starts the clipping
at $\lVert g \rVert > c - 10^{-6}$ rather than at $c$. The factor is computed as a tensor and the
gradients are always multiplied by it, also when it is exactly 1: deciding whether to multiply would
need the value on the CPU, and on a GPU that waits for the GPU (a synchronisation). Multiplying by 1
changes nothing, bit for bit. The function returns the total norm, before clipping, which is worth
logging: its spikes are what clipping is there for.

**Gradients that are not finite.** If a gradient holds an infinity or a NaN, so does its norm. With
`error_if_nonfinite=True`, clipping raises an error. With the default `False` it goes on: an infinite
norm gives the factor $c / \infty = 0$, which sets every finite gradient to zero and turns the infinite
ones into NaN ($\infty \cdot 0$); a NaN norm makes every gradient NaN. In float32 a gradient can
also be finite and still have an infinite 2-norm: a value above $1.8 \times 10^{19}$ overflows when
squared, and the whole gradient is then set to zero. Neither PyTorch nor this page rescales to avoid that.

## Clipping with mixed precision

With float16 training a `torch.amp.GradScaler` multiplies the loss by a scale $S$ (initially
$2^{16}$) so that small gradients do not round to zero (see [mixed precision](mixed_precision.html)).
After `backward()` the `.grad` tensors hold $S g$, not $g$. Clipped then, with threshold $c$, the
gradient is clipped when $S \lVert g \rVert > c$, and $S g$ is shortened to length $c$; after the scaler has
divided by $S$ the gradient has length $c / S$. The threshold that applies to the true gradient is $c / S$, at the initial scale
$2^{16} = 65536$ times smaller than meant, and the step $S$ times shorter than with the right order whenever both clip; and the
norm that clipping returns is $S \lVert g \rVert$. So the scaler must divide first:

```python
scaler.scale(loss).backward()
scaler.unscale_(optimizer)                  # .grad now holds g; infinities and NaNs are recorded
clip_grad_norm(model.parameters(), max_norm)
scaler.step(optimizer)                      # does not unscale again; skips the step if unscale_ found inf/NaN
scaler.update()
```

`unscale_` records, per optimizer, whether it found an infinity or a NaN; `step` then skips the
optimizer's step without unscaling a second time. The skipped step is why non-finite gradients need
no care here: clipping turns them into zeros and NaNs, but they never reach the parameters.
`scaler_step_with_clipping` below is this loop's step, and the tests check both claims with
`torch.amp.GradScaler("cpu")`.

## Clipping and Adam

[Adam](adam.html)'s update $\hat m_t / \sqrt{\hat v_t}$ does not change when every gradient is
multiplied by the same $k > 0$: $m_t$ becomes $k m_t$, $v_t$ becomes $k^2 v_t$ (exactly so with
$\epsilon = 0$; with $\epsilon > 0$, Adam on $k g_t$ with $\epsilon$ takes the steps of Adam on $g_t$ with
$\epsilon / k$). So clipping that
scales *every* step by the same factor (a run whose gradient norm stays at one value above $c$) changes
nothing. But clipping acts only on the steps whose gradient is large, and a factor that differs
between steps changes the weights with which the gradients enter $m_t$ and $v_t$: Adam is not invariant
to that. It is also where clipping helps Adam: one gradient $100$ times the others raises $v_t$, whose excess
then decays by $\beta_2$ a step, and shrinks the steps that follow for thousands of steps; clipped at twice
the usual norm, the steps stay between $0.990\alpha$ and $1.083\alpha$ (the second exercise).
"""

import math
from collections.abc import Iterable
from typing import Any, Callable, Optional, Union

import torch

__all__ = ["clip_grad_norm", "clip_grad_value", "scaler_step_with_clipping", "total_norm"]

# What the functions accept, as `torch.nn.utils` does: one tensor or an iterable of tensors, whose `.grad` is used
Parameters = Union[torch.Tensor, Iterable[torch.Tensor]]

# The constant added to the norm before dividing by it, PyTorch's
NORM_EPS = 1e-6


def gradients(parameters: Parameters) -> list[torch.Tensor]:
    r"""
    ## The gradients to clip

    The `.grad` of each parameter that has one: a parameter that took no part in the loss has none and
    is neither counted in the norm nor changed.
    """
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@torch.no_grad()
def total_norm(grads: list[torch.Tensor], norm_type: float = 2.0) -> torch.Tensor:
    r"""
    ## The norm of all the gradients, as one vector

    From the definition: $\lVert g \rVert_p = \big(\sum_i |g_i|^p\big)^{1/p}$, the sum running over the
    elements of all the tensors, and $\lVert g \rVert_\infty = \max_i |g_i|$. PyTorch takes the norm of
    each tensor and then the norm of the norms, which is the same number, rounded differently; the tests
    bound the difference.
    """
    if norm_type <= 0:
        raise ValueError(f"norm_type must be positive or inf, not {norm_type}")
    # The elements of no tensor: a norm of 0, the tensor PyTorch returns
    grads = [g for g in grads if g.numel() > 0]
    if not grads:
        return torch.tensor(0.0)
    # $\max_i |g_i|$: the largest of each tensor's largest, exactly (no rounding)
    if math.isinf(norm_type):
        return torch.stack([g.abs().max() for g in grads]).max()
    # $\sum_i |g_i|^p$ of each tensor, then added over the tensors, in the gradients' dtype
    power_sum = torch.stack([g.abs().pow(norm_type).sum() for g in grads]).sum()
    # $\big(\sum_i |g_i|^p\big)^{1/p}$
    return power_sum.pow(1.0 / norm_type)


@torch.no_grad()
def clip_grad_norm(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Optional[bool] = None,
) -> torch.Tensor:
    r"""
    ## Clip by global norm

    * `parameters` is a tensor or an iterable of tensors whose `.grad` is clipped in place
    * `max_norm` is the threshold $c$
    * `norm_type` is $p$: a positive number or `float("inf")`
    * `error_if_nonfinite` raises a `RuntimeError` when the norm is infinite or NaN
    * `foreach` multiplies all the gradients in one `torch._foreach_mul_` call when not `False`, as
      PyTorch does on CPU and CUDA; it is the same multiplication, so the result is the same bit for bit

    Returns the total norm $\lVert g \rVert_p$ of the gradients before clipping.
    """
    grads = gradients(parameters)
    norm = total_norm(grads, norm_type)
    if error_if_nonfinite and not torch.isfinite(norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} of the gradients is {norm.item()}: it cannot be clipped. "
            f"Pass error_if_nonfinite=False to scale the gradients by it anyway."
        )
    if not grads:
        return norm
    # $\min\big(1, c / (\lVert g \rVert + 10^{-6})\big)$, a tensor: no value leaves the device
    coef = torch.clamp(max_norm / (norm + NORM_EPS), max=1.0)
    # $g \leftarrow g \cdot \min(1, \dots)$ for every gradient, by the same factor
    if foreach is not False and all(g.device == grads[0].device and g.dtype == grads[0].dtype for g in grads):
        torch._foreach_mul_(grads, coef.to(grads[0].device))
    else:
        for g in grads:
            g.mul_(coef.to(g.device))
    return norm


@torch.no_grad()
def clip_grad_value(parameters: Parameters, clip_value: float, foreach: Optional[bool] = None) -> None:
    r"""
    ## Clip by value

    Every element of every gradient is clipped to $[-c, c]$, on its own: $g_i \leftarrow \max(-c, \min(c, g_i))$.
    An infinite element becomes $\pm c$; a NaN stays NaN. `foreach` is accepted as PyTorch's is; clamping is
    exact, so both ways give the same bits.
    """
    grads = gradients(parameters)
    if foreach is not False and grads:
        torch._foreach_clamp_min_(grads, -clip_value)
        torch._foreach_clamp_max_(grads, clip_value)
    else:
        for g in grads:
            g.clamp_(min=-clip_value, max=clip_value)


def scaler_step_with_clipping(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scaler: Any,
    max_norm: float,
    clip: Callable[..., torch.Tensor] = clip_grad_norm,
) -> torch.Tensor:
    r"""
    ## A mixed-precision step with clipping

    The order of the section above: backward on the scaled loss, unscale, clip, step (or skip), update.
    `scaler` is a `torch.amp.GradScaler`; the parameters clipped are those of the optimizer's groups,
    the tensors whose gradients the scaler unscales. Returns the norm of the true gradients, which is
    infinite or NaN on a step the scaler skips.
    """
    # $S \cdot \mathcal{L}$, and its gradients $S g$
    scaler.scale(loss).backward()
    # $S g \rightarrow g$, recording any infinity or NaN
    scaler.unscale_(optimizer)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    # Clip $g$ at $c$; a non-finite norm is not an error here, since the scaler skips the step
    norm = clip(params, max_norm)
    # The optimizer's step, unless `unscale_` found an infinity or a NaN
    scaler.step(optimizer)
    # A smaller $S$ after a skipped step, a larger one after enough good steps
    scaler.update()
    return norm


# ## Exercises
#
# :::: exercise How far clipping by value turns a gradient
# A gradient $g = (100, 1)$ is clipped with $c = 1$, by global norm and by value. Give both results, their
# lengths, and the angle each makes with $g$.
#
# ::: answer
# By norm, $\lVert g \rVert = \sqrt{10001} = 100.005$ and $g$ becomes $g / 100.005 = (0.99995, 0.0099995)$: length 1
# (less $10^{-8}$, from the $10^{-6}$ in the divisor), angle 0. By value it becomes $(1, 1)$: length
# $\sqrt 2 = 1.414$, more than $c$, at $45°$ from the first axis where $g$ was at $0.573°$, an angle of $44.4°$.
# The second coordinate, a hundredth of the first in the gradient, now counts as much.
# :::
# ::::
#
# :::: exercise One large gradient and Adam
# A one-element parameter gets the gradient 1 for 100 steps, then 100 once (step 101), then 1 again. Take Adam with
# $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 0$ and rate $\alpha$. How large are the steps after the spike?
# How long until they are back to $\alpha / 2$ and to $0.9\alpha$? And with the gradient clipped by norm at $c = 2$?
#
# ::: answer
# Before the spike every step is $\alpha$ ($\hat m = \hat v = 1$). The spike adds $(1-\beta_2) \cdot 100^2 = 10$ to
# $v$, which held $1 - \beta_2^{100} = 0.095$, and that excess decays by $\beta_2$ a step, over some 1000 steps;
# $m$, whose memory is $1/(1-\beta_1) = 10$ steps, forgets the spike a hundred times faster. So the
# steps fall to $0.126\alpha$ at step 155, climb back above $\alpha/2$ only at step 1545 and above $0.9\alpha$ at
# step 3873: one gradient slows the parameter for thousands of steps, although Adam does not care about the
# gradients' scale. Clipped at 2, the spike adds $0.004$ to $v$: the largest step is $1.083\alpha$, at step 101, and
# no step falls below $0.990\alpha$.
# :::
# ::::
#
# :::: exercise Clipping before unscaling
# A `GradScaler` has $S = 2^{16}$, the true gradient has norm 4, $c = 1$ and the optimizer is SGD with rate $\alpha$.
# What is the length of the step, and the norm that clipping returns, when clipping runs after `unscale_`, and when
# it runs before it (so that `scaler.step` unscales)?
#
# ::: answer
# After `unscale_`: clipping sees norm 4 and returns it, the gradient is shortened to length
# $1 \cdot 4 / (4 + 10^{-6})$, and the step is $\alpha$ long (to within $2.5 \times 10^{-7}$). Before: clipping
# sees $4 \cdot 2^{16} = 262144$ and returns it, shortens the scaled gradient to about 1, and `step` divides by
# $2^{16}$: the step is $\alpha / 65536 = 1.53 \times 10^{-5}\alpha$, $65536$ times shorter.
# :::
# ::::


# ## Try it
#
# The small model of [Try it](try_it.html), trained in float64 with `torch.optim.Adam` at rate $10^{-2}$ for
# 100 steps, three times from the same weights: without clipping, with this page's `clip_grad_norm` at $c = 0.1$,
# and with `torch.nn.utils.clip_grad_norm_` at $c = 0.1$. The gradient's norm is $0.33$ at the start, more than
# three times $c$, and stays below $c$ after the first 16 steps: the clipped runs clip 12 of those 16 and no other. Each run
# steps on its own gradients, so the two clipped runs differ by the rounding of the two norms, carried through
# 100 steps of training; the demo prints the largest parameter difference between them.


def train_with_clipping(clip: Optional[Callable[..., torch.Tensor]], max_norm: float = 0.1, steps: int = 100):
    r"""
    ### Train the demo's model, clipping with `clip`

    Returns the losses every 25 steps (from step 0), the norm returned at every step (the unclipped norm,
    computed with our `total_norm` when `clip` is `None`) and the model.
    """
    from torch import nn

    from labml_nn.optimizers.try_it import make_problem

    x, y, model = make_problem(torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, norms = [], []
    for t in range(steps + 1):
        if t % 25 == 0:
            with torch.no_grad():
                losses.append(nn.functional.cross_entropy(model(x), y).item())
        if t == steps:
            break
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        if clip is None:
            norms.append(total_norm(gradients(model.parameters())).item())
        else:
            norms.append(clip(model.parameters(), max_norm).item())
        optimizer.step()
    return losses, norms, model


if __name__ == "__main__":
    runs = {
        "no clipping": train_with_clipping(None),
        "clip_grad_norm": train_with_clipping(clip_grad_norm),
        "torch clip_grad_norm_": train_with_clipping(torch.nn.utils.clip_grad_norm_),
    }
    print(f"{'step':>5}" + "".join(f"  {name:>22}" for name in runs))
    for i in range(5):
        print(f"{25 * i:5d}" + "".join(f"  {losses[i]:22.12f}" for losses, _, _ in runs.values()))
    for name in ("clip_grad_norm", "torch clip_grad_norm_"):
        print(f"steps clipped by {name}: {sum(n > 0.1 for n in runs[name][1])} of 100")
    ours, theirs = runs["clip_grad_norm"][2], runs["torch clip_grad_norm_"][2]
    diff = max((p - q).abs().max().item() for p, q in zip(ours.parameters(), theirs.parameters()))
    print(f"largest |parameter difference| between the two clipped runs: {diff:.3g}")
