# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Muon Optimizer
summary: An annotated PyTorch implementation of Muon, momentum orthogonalised by a Newton-Schulz iteration, equal to torch.optim.Muon; where the quintic's coefficients come from, and why only matrices are given to it.
paper_title: Muon: An optimizer for hidden layers in neural networks
paper_authors: Keller Jordan, Yuchen Jin, Vlado Boza, Jiacheng You, Franz Cesista, Laker Newhouse and Jeremy Bernstein
paper_year: 2024
paper_type: misc
paper_venue: Blog post
paper_url: https://kellerjordan.github.io/posts/muon/
paper2_title: Muon is Scalable for LLM Training
paper2_authors: Jingyuan Liu, Jianlin Su, Xingcheng Yao, Zhejun Jiang, Guokun Lai, Yulun Du, Yidao Qin, Weixin Xu, Enzhe Lu, Junjie Yan, Yanru Chen, Huabin Zheng, Yibo Liu, Shaowei Liu, Bohong Yin, Weiran He, Han Zhu, Yuzhi Wang, Jianzhou Wang, Mengnan Dong, Zheng Zhang, Yongsheng Kang, Hao Zhang, Xinran Xu, Yutao Zhang, Yuxin Wu, Xinyu Zhou and Zhilin Yang
paper2_year: 2025
paper2_arxiv: 2502.16982
paper2_arxiv_class: cs.LG
---

# Muon Optimizer

*Muon* (MomentUm Orthogonalized by Newton–Schulz) was introduced by Keller Jordan et al. in
[Muon: An optimizer for hidden layers in neural networks](https://kellerjordan.github.io/posts/muon/)
(2024), building on the spectral-norm view of
[Old Optimizer, New Norm: An Anthology](https://arxiv.org/abs/2409.20325) by Bernstein and
Newhouse (arXiv:2409.20325). Its second learning-rate scaling comes from
[Muon is Scalable for LLM Training](https://arxiv.org/abs/2502.16982) by Liu et al.
(arXiv:2502.16982). The class below is built on the `GenericAdaptiveOptimizer` of the
[chapter's index page](index.html) and does what `torch.optim.Muon` of PyTorch 2.13 does,
operation for operation. For a matrix parameter $W \in \mathbb{R}^{A \times B}$ with gradient $G_t$,

\begin{align}
B_t &\leftarrow \mu B_{t-1} + (1 - \mu) G_t \\
\tilde{B}_t &\leftarrow \begin{cases} (1-\mu) G_t + \mu B_t & \text{Nesterov} \\ B_t & \text{otherwise} \end{cases} \\
O_t &\leftarrow \operatorname{NS}_5\big(\tilde{B}_t\big) \approx U V^\top \quad \text{where } \tilde B_t = U S V^\top \\
W_t &\leftarrow W_{t-1}(1 - \alpha\lambda) - \alpha\, s(A, B)\, O_t
\end{align}

$\mu$ is the momentum, $\lambda$ a decoupled weight decay, $\operatorname{NS}_5$ five steps of the
Newton–Schulz iteration below, and $s(A, B)$ a shape-dependent scale of the learning rate.
The momentum is an exponential moving average, as in PyTorch's code and Keller Jordan's; PyTorch's
docstring writes SGD's sum $\mu B_{t-1} + G_t$ instead. The two differ by the factor $1-\mu$ in
$B_t$ and in $\tilde B_t$ alike, and the iteration divides by the norm first, so they give the same
step (up to the guard `eps`).

## Orthogonalised momentum

[SGD with momentum](sgd.html)'s step is the momentum $\tilde B_t$ itself (with Nesterov's look-ahead,
the [Nesterov form](sgd.html#nesterov-momentum-at-the-look-ahead-point) of that page). For the weight
matrices of a network it is typically dominated by a few directions: a handful of singular values
are large and the rest small, so most directions of the layer barely move. Muon keeps $\tilde B_t$'s singular vectors
and sets all its singular values to one: $O_t = UV^\top$, the nearest semi-orthogonal matrix.
Rare directions get as large a step as dominant ones.

Why this is a principled step and not a heuristic: a linear layer maps inputs $x$ to $Wx$, and the
largest change of its output that a step $\Delta W$ can cause, per unit of input, is the spectral
norm $\lVert \Delta W \rVert_2$ (the largest singular value). Steepest descent that limits the step in
that norm solves $\min_{\Delta W} \langle G, \Delta W \rangle$ subject to $\lVert \Delta W\rVert_2 \le \eta$,
and the answer is $\Delta W = -\eta\, U V^\top$: $\langle G, UV^\top \rangle = \operatorname{tr} S$, the
nuclear norm, which is the dual of the spectral norm. Bernstein and Newhouse derive this; Muon applies
it to the momentum instead of the gradient.

## The Newton–Schulz iteration

An SVD is slow on a GPU. An odd matrix polynomial is fast (only matrix products) and acts on the
singular values alone: if $X = U S V^\top$ then
$aX + b(XX^\top)X + c(XX^\top)^2X = U\, p(S)\, V^\top$ with $p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5$.
Iterating $p$ drives every singular value towards wherever $p$'s iterates go, and leaves $U$ and $V$
alone. First the matrix is divided by its Frobenius norm, which is at least its spectral norm, so
that every $\sigma \in [0, 1]$.

* The classical Newton–Schulz cubic $p(\sigma) = \frac{3}{2}\sigma - \frac{1}{2}\sigma^3$ converges to
  exactly 1, but its slope at zero is only $\frac{3}{2}$: a singular value of $0.01$ is still $0.076$
  after five steps.
* Keller Jordan chose the quintic's coefficients, $(a, b, c) = (3.4445, -4.7750, 2.0315)$, to make
  the slope at zero, $p'(0) = a$, as large as possible (five steps then multiply a small $\sigma$
  by up to $a^5 \approx 485$) while the iterates still settle near 1.
  His code's comment, which PyTorch keeps, says that he kept raising the slope past the point where
  the iteration converges to 1 at all, because an output that is only *roughly* orthogonal did
  not hurt training.

We can see what "roughly" means from $p$ itself. $p(1) = a + b + c = 0.701$, and the fixed point
$p(\sigma^*) = \sigma^*$ in $(0, 1)$ is $\sigma^* = 0.868$, where $p'(\sigma^*) = -1.58$: the fixed point
repels, so the iterates do not converge, they oscillate around it. They cannot escape a band,
though. On $[0, 1]$, $p$ has its maximum $1.2024$ at $\sigma = 0.5545$, and its minimum beyond that,
at $\sigma = 1.050$, is $0.6818$; $p$ maps $[0.6818, 1.2024]$ into itself. Every $\sigma$ that reaches
the band stays in it, and five steps bring every $\sigma \ge 1.6 \cdot 10^{-3}$ there.
So $O_t = U S' V^\top$ with the singular values $S'$ in $[0.6818, 1.2024]$, not $UV^\top$. That is
exact arithmetic; the tests check it on the scalar polynomial and on matrices in float64, to
$10^{-4}$. In bfloat16 the rounding of the last products can move the extreme singular values
slightly outside the band, by about bfloat16's relative rounding $2^{-8} \approx 0.004$ times the
largest; the tests allow $0.01$ there, a little more than twice that.
Singular values below about $1.6 \cdot 10^{-3}$ of the Frobenius norm stay small; those are
directions the momentum has almost nothing in.

As PyTorch does (and Keller Jordan's code), the iteration runs in bfloat16, whose products
are fast on GPUs and whose rounding ($2^{-8}$) is far below the band's width. A wide matrix is
iterated as it is; a tall one ($A > B$) is transposed first, so that $XX^\top$ is the smaller Gram matrix.

## The learning-rate scale $s(A, B)$

$UV^\top$ of an $A \times B$ matrix has $\min(A, B)$ unit singular values, so the root mean square of its
entries is $1/\sqrt{\max(A, B)}$. The two choices of `adjust_lr_fn`:

* `"original"` (the default, Keller Jordan's), $s = \sqrt{\max(1, A/B)}$, which makes the RMS
  $1/\sqrt{B}$ whatever the shape: one over the square root of the layer's fan-in;
* `"match_rms_adamw"` (Liu et al.), $s = 0.2\sqrt{\max(A, B)}$, which makes the RMS $0.2$. Liu et
  al. observed that AdamW's updates have an RMS of about $0.2$ to $0.4$ and chose $0.2$, the low end,
  so that a learning rate and a weight decay tuned for AdamW can be reused.

The weight decay uses the unscaled $\alpha$, as in PyTorch.

## Only matrices

Muon's step is defined for matrices, through their singular values, and its justification is
about linear maps between vector spaces. A bias or a normalization gain is not such a map; as a
$1 \times n$ matrix its "orthogonalisation" is $g/\lVert g\rVert$, a normalized-gradient step
with no per-coordinate scale. `torch.optim.Muon` therefore refuses any parameter that is not
2-D, and so does this class, when the group is added: such parameters go to another optimizer,
usually [AdamW](adamw.html). `split_params` below sorts a model's parameters that way.
Keller Jordan also gives the embedding and the output layer to AdamW although they are matrices,
an empirical rule from his experiments (the "empirical considerations" of his post), not a
consequence of the spectral-norm argument above. For the embedding, Bernstein and
Newhouse give a reason: its input is one-hot, so the change of the output that a step causes is
the change of one token's vector, and the norm that matters is the largest norm of a token's
vector (an $\ell_1$-to-RMS operator norm), not the spectral norm. Their argument is about the
embedding's one-hot input; it does not cover the output layer, whose input is a dense vector.
Either way it is the caller's choice, and `split_params` takes the names to exclude.

## Where we differ from `torch.optim.Muon`

* `maximize=True` works, through the base class; PyTorch's Muon has no such switch.
* The momentum must be below 1 and `ns_steps` a non-negative integer below 100; PyTorch checks only
  $\mu \ge 0$ and checks `ns_steps` at the first step, not when the group is added.
* `weight_decay` may be a `WeightDecay` object; a number is PyTorch's decoupled decay.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any, Optional, Union

import torch
from torch import nn
from torch.distributed.tensor import DTensor

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference

# Keller Jordan's quintic coefficients $(a, b, c)$, PyTorch's defaults
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
# The band that five steps of the quintic bring every $\sigma \in [1.6\cdot 10^{-3}, 1]$ into (derived above)
NS_BAND = (0.6818, 1.2024)
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def newton_schulz(
    matrix: torch.Tensor,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    steps: int = 5,
    eps: float = 1e-7,
    dtype: torch.dtype = torch.bfloat16,
) -> torch.Tensor:
    r"""
    ## The Newton–Schulz iteration

    * `matrix` is $\tilde B_t$, of shape `[A, B]`
    * `dtype` is the precision of the iteration; bfloat16, as in PyTorch, unless a test asks otherwise

    Returns $\operatorname{NS}(\tilde B_t) = U p^{\circ k}(S) V^\top$ in `dtype`, shape `[A, B]`.
    """
    a, b, c = coefficients
    x = matrix.to(dtype)
    # A tall matrix is iterated as its transpose, `[B, A]`, so that $XX^\top$ is `[B, B]`, the smaller side.
    tall = matrix.size(0) > matrix.size(1)
    if tall:
        x = x.T
    # $X \leftarrow X / \lVert X \rVert_F$, so every singular value is in $[0, 1]$; `eps` guards a zero matrix.
    x = x.div(x.norm().clamp(min=eps))
    for _ in range(steps):
        # $XX^\top$, `[rows, rows]`
        gram = x @ x.T
        # $b\,XX^\top + c\,(XX^\top)^2$, one fused product
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        # $X \leftarrow aX + (b\,XX^\top + c\,(XX^\top)^2) X = U\,p(S)\,V^\top$
        x = torch.addmm(x, poly, x, beta=a)
    return x.T if tall else x


def lr_scale(adjust_lr_fn: Optional[str], shape: Sequence[int]) -> float:
    r"""
    ## The learning-rate scale $s(A, B)$
    """
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        # $\sqrt{\max(1, A/B)}$
        return math.sqrt(max(1, rows / cols))
    # $0.2\sqrt{\max(A, B)}$
    return 0.2 * math.sqrt(max(rows, cols))


class Muon(GenericAdaptiveOptimizer):
    r"""
    ## Muon Optimizer

    Muon has no `betas`; its `eps` is the Newton–Schulz iteration's guard against a zero matrix.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        weight_decay: Union[float, WeightDecay] = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: Optional[str] = None,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are `torch.optim.Muon`'s.

        * `params` are 2-D parameters only, or groups of them
        * `lr` is the learning rate $\alpha$
        * `weight_decay` is $\lambda$ as a number (decoupled, as in PyTorch), or a `WeightDecay`
        * `momentum` is $\mu$
        * `nesterov` chooses $(1-\mu) G_t + \mu B_t$ over $B_t$
        * `ns_coefficients` is $(a, b, c)$, `ns_steps` the number of iterations and `eps` the
          iteration's guard against division by zero
        * `adjust_lr_fn` is `None` or `"original"` for $s = \sqrt{\max(1, A/B)}$, or
          `"match_rms_adamw"` for $s = 0.2\sqrt{\max(A, B)}$
        * `maximize` climbs the objective instead of descending it
        * `defaults` holds the group defaults of a subclass
        """
        if not isinstance(weight_decay, WeightDecay):
            weight_decay = WeightDecay(weight_decay, weight_decouple=True)
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=tuple(ns_coefficients),
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults, lr, eps=eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters, and that it holds only matrices
        """
        super().validate_group(group)
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (must be in [0, 1))")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError(f"Invalid ns_coefficients: {group['ns_coefficients']} (must be three values (a, b, c))")
        if not (isinstance(group["ns_steps"], int) and 0 <= group["ns_steps"] < 100):
            raise ValueError(f"Invalid ns_steps: {group['ns_steps']} (must be an integer in [0, 100))")
        if group["adjust_lr_fn"] not in ADJUST_LR_FNS:
            raise ValueError(
                f"Adjust learning rate function {group['adjust_lr_fn']} is not supported "
                f"(must be one of {ADJUST_LR_FNS})"
            )
        for param in group["params"]:
            if param.ndim != 2:
                raise ValueError(
                    f"Muon only supports 2D parameters whereas we found a parameter with size: "
                    f"{param.size()}; give biases, gains and other non-matrix parameters to "
                    f"another optimizer such as AdamW (see split_params)"
                )
            if torch.is_complex(param):
                raise ValueError("Muon does not support complex parameters")
            # Newton-Schulz needs the whole matrix, and under FSDP2 (`fully_shard`) a parameter is a
            # `DTensor` of which this rank holds a block of rows. Refused here, not in `step()`.
            if isinstance(param, DTensor):
                raise TypeError(
                    "Muon orthogonalises whole matrices, and this parameter is a DTensor shard "
                    "(FSDP2): train these matrices under DistributedDataParallel or "
                    "ZeroRedundancyOptimizer, which keep them whole, or give them to AdamW"
                )

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t$; the update does not use it
        state["step"] = 0
        # $B_0 = 0$, `[A, B]`
        state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one matrix

        * `grad` is $G_t$, `[A, B]`
        """
        state["step"] += 1
        lr = group["lr"]
        momentum = group["momentum"]
        # $W_{t-1} \leftarrow W_{t-1}(1 - \alpha\lambda)$ with the unscaled $\alpha$. PyTorch shrinks after the
        # orthogonalisation; the update does not depend on $W$, so the result is the same.
        grad = WeightDecay.apply(param, grad, group, lr)
        buf = state["momentum_buffer"]
        # $B_t \leftarrow \mu B_{t-1} + (1-\mu) G_t$
        buf.lerp_(grad, 1 - momentum)
        # $\tilde B_t = (1-\mu) G_t + \mu B_t$ (Nesterov, a new tensor) or $B_t$
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        # $O_t = \operatorname{NS}(\tilde B_t)$, in bfloat16
        update = newton_schulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        # $W_t \leftarrow W_{t-1} - \alpha\, s(A, B)\, O_t$
        param.add_(update, alpha=-lr * lr_scale(group["adjust_lr_fn"], param.shape))


def split_params(model: nn.Module, exclude: Iterable[str] = ()) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    r"""
    ## Sort a model's parameters between Muon and another optimizer

    * `exclude` lists parameter names (as `named_parameters` gives them) that go to the other
      optimizer although they are matrices, such as the embedding and the output layer

    Returns `(matrices, others)`:

    ```python
    matrices, others = split_params(model, exclude=["embed.weight", "head.weight"])
    optimizers = [Muon(matrices, lr=0.02), AdamW(others, lr=3e-4)]
    ```
    """
    exclude = set(exclude)
    matrices: list[nn.Parameter] = []
    others: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (matrices if param.ndim == 2 and name not in exclude else others).append(param)
    return matrices, others


# ## Exercises
#
# :::: exercise Why the band maps into itself
# With $p(\sigma) = 3.4445\sigma - 4.7750\sigma^3 + 2.0315\sigma^5$, show that $p([0.6818, 1.2024]) \subset [0.6818, 1.2024]$.
#
# ::: answer
# $p'(\sigma) = a + 3b\sigma^2 + 5c\sigma^4$ is a quadratic in $\sigma^2$ with roots
# $\sigma = 0.5545$ and $\sigma = 1.050$: $p$ rises to $1.2024$ at $0.5545$, falls to $0.6818$ at $1.050$,
# then rises. On the band, $p$ therefore falls from $p(0.6818) = 1.134$ to its minimum $p(1.050) = 0.6818$, then
# rises to $p(1.2024) = 0.947$. So $p$ of the band lies in $[0.6818, 1.134]$, inside the band: the band's ends
# are $p$'s own minimum (beyond $0.5545$) and maximum.
# :::
# ::::
#
# :::: exercise The cubic's slow start
# How small does a singular value $\sigma = 0.01$ stay after five steps of the classical cubic
# $\frac32\sigma - \frac12\sigma^3$, and after five of the quintic?
#
# ::: answer
# Near zero the cubic multiplies by about $1.5$ per step: $0.01 \to 0.0759$ after five steps.
# The quintic multiplies by up to $a = 3.4445$: $0.01$ reaches $0.699$ after five steps, inside the band (it
# would be $0.01 \cdot a^5 = 4.85$ if the slope held).
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. It takes matrices only, and refuses FSDP2's
# sharded ones (see above). In the experiment it runs at Jordan et al.'s rate, $0.02$.
ENTRY = OptimizerEntry(
    Muon,
    paper="https://kellerjordan.github.io/posts/muon/",
    test_kwargs=dict(lr=0.02),
    reference=Reference(torch.optim.Muon, ours=dict(lr=1e-2), theirs=dict(lr=1e-2)),
    experiment=ExperimentLine("muon", 2e-2, position=12),
    matrices_only=True,
    refuses_fsdp2="Muon",
)


# ## Try it
#
# The small model of [Try it](try_it.html): Muon takes its three weight matrices, AdamW its biases, and a
# twin is trained the same way with `torch.optim.Muon` and `torch.optim.AdamW` on the same gradients. Muon's
# rate is PyTorch's default, 0.02; AdamW's `eps` is placed and sized as PyTorch's (see the
# [Adam](adam.html) page). The two sides run the same bfloat16 Newton–Schulz iteration, operation for
# operation, so they still agree to float64 rounding.
if __name__ == "__main__":
    from labml_nn.optimizers.adamw import AdamW
    from labml_nn.optimizers.train_example import OptimizerPair
    from labml_nn.optimizers.try_it import try_optimizer

    def matrices_and_rest(params, muon, adamw) -> OptimizerPair:
        params = list(params)
        return OptimizerPair(muon([p for p in params if p.ndim == 2]), adamw([p for p in params if p.ndim != 2]))

    try_optimizer(
        lambda params: matrices_and_rest(
            params, lambda m: Muon(m, lr=0.02), lambda r: AdamW(r, lr=1e-2, eps=1e-8, optimized_update=False)
        ),
        lambda params: matrices_and_rest(
            params, lambda m: torch.optim.Muon(m, lr=0.02), lambda r: torch.optim.AdamW(r, lr=1e-2, eps=1e-8)
        ),
        name="Muon + AdamW",
        reference_name="torch Muon + AdamW",
    )
