# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adafactor Optimizer
summary: An annotated PyTorch implementation of Adafactor, which stores the second moments of a matrix as a row and a column vector, clips its updates and sizes its steps relative to the parameters.
paper_title: Adafactor: Adaptive Learning Rates with Sublinear Memory Cost
paper_authors: Noam Shazeer and Mitchell Stern
paper_year: 2018
paper_type: inproceedings
paper_venue: Proceedings of the 35th International Conference on Machine Learning
paper_series: Proceedings of Machine Learning Research
paper_volume: 80
paper_pages: 4596-4604
paper_publisher: PMLR
paper_url: https://proceedings.mlr.press/v80/shazeer18a.html
paper_arxiv: 1804.04235
paper_arxiv_class: cs.LG
---

# Adafactor Optimizer

This page implements *Adafactor* from the paper
[Adafactor: Adaptive Learning Rates with Sublinear Memory Cost](https://arxiv.org/abs/1804.04235)
(arXiv 1804.04235) by Shazeer and Stern, 2018, on top of the `GenericAdaptiveOptimizer` of this
[chapter's index page](index.html). It has an option (`eps_mode="torch"`) under which it computes
the same update as `torch.optim.Adafactor`.

*Notation.* $\rho_t$ is the paper's relative step size, kept so that the equations can be read beside the paper; on this page it is not RAdam's $\rho_t$.

## Factored second moments

[Adam](adam.html) keeps two numbers per parameter. For an $n \times m$ weight matrix, its
second moment $V$ is another $n \times m$ matrix. Adafactor keeps only the running averages of
its row means $R \in \mathbb{R}^n$ and column means $C \in \mathbb{R}^m$, and rebuilds

$$\hat V = \frac{R\,C^\top}{\operatorname{mean}(R)},$$

the rank-one matrix with exactly those row and column means. It is the best rank-one
approximation of $V$ in the sense of the generalized Kullback-Leibler divergence, and for
non-negative matrices it is cheap: $n + m$ numbers instead of $nm$. A vector (a bias, a
layer-norm gain) is small, so its second moment is kept whole. A tensor with more than
two dimensions (a convolution kernel) is factored over its last two.

## The rest of the algorithm

Adafactor usually also drops the first moment, which saves more memory but makes the updates
less stable, so the paper adds three safeguards. For a matrix $X$, at step $t$, with gradient $G_t$:

\begin{align}
\rho_t &= \min\big(\alpha, \tfrac{1}{\sqrt t}\big) \\
\alpha_t &= \max\big(\epsilon_2, \operatorname{RMS}(X_{t-1})\big)\, \rho_t \\
\hat\beta_{2t} &= 1 - t^{-0.8} \\
R_t &= \hat\beta_{2t} R_{t-1} + (1 - \hat\beta_{2t}) \operatorname{mean}_{\text{cols}}\big(G_t^2 + \epsilon_1\big) \\
C_t &= \hat\beta_{2t} C_{t-1} + (1 - \hat\beta_{2t}) \operatorname{mean}_{\text{rows}}\big(G_t^2 + \epsilon_1\big) \\
\hat V_t &= R_t C_t^\top / \operatorname{mean}(R_t) \\
U_t &= G_t / \sqrt{\hat V_t} \\
\hat U_t &= U_t / \max\big(1, \operatorname{RMS}(U_t) / d\big) \\
X_t &= X_{t-1} - \alpha_t \hat U_t
\end{align}

* **Update clipping** ($d$, 1 by default) caps the root mean square of the update of each
  tensor. When $\hat\beta_2$ is large and the gradients suddenly grow, $\hat V_t$ is stale and
  too small, and Adam would take a large step; here the whole tensor's update is scaled down.
* **An increasing decay** $\hat\beta_{2t} = 1 - t^{c}$, $c = -0.8$ ($\hat\beta_{21} = 0$, so no bias
  correction is needed). With a fixed $\beta_2$, the paper shows, Adam's bias-corrected average
  is $\hat\beta_{2t} = \beta_2 \frac{1-\beta_2^{t-1}}{1-\beta_2^{t}}$; `beta2_decay=None` gives that.
* **Relative step sizes**: $\alpha_t$ is a fraction $\rho_t$ of the scale of the parameter tensor
  (floored by $\epsilon_2$ for tensors that start at zero), so that embeddings and output
  layers of different scales move in proportion. $\rho_t$ is constant and then decays as
  $1/\sqrt t$. Turning off `relative_step` makes $\rho_t = \alpha$; turning off
  `scale_parameter` makes $\alpha_t = \rho_t$, so both off is an absolute learning rate.

The paper writes row and column *sums*; means give the same $\hat V_t$ (the factors $m$, $n$
and $nm$ cancel) and do not grow with the size of the matrix.

## Departures, and the PyTorch mode

* **$\epsilon_1$.** The paper adds $\epsilon_1 = 10^{-30}$ to $G_t^2$ before averaging
  (`eps_mode="paper"`). `torch.optim.Adafactor` leaves the averages alone and instead floors
  $\operatorname{mean}(R_t)$ at $\epsilon_1$ and $\sqrt{\hat V_t}$ at $\epsilon_1$, with
  $\epsilon_1$ the machine epsilon of the dtype by default (`eps_mode="torch"`, `eps=None`).
  Both only keep the division finite when gradients vanish; we offer both so that the paper
  and PyTorch can each be reproduced.
* **The learning rate.** The paper has none: $\rho_t = \min(10^{-2}, 1/\sqrt t)$. Like PyTorch
  we make the $10^{-2}$ the learning rate `lr`, so that schedulers can drive it.
* **Weight decay.** The paper has none. `torch.optim.Adafactor` decays by $1 - \alpha\lambda$ with
  the group's `lr`; we decay by $1 - \rho_t \lambda$, with $\rho_t$, the learning rate in effect,
  as everywhere in this chapter. The two agree while $\rho_t = \alpha$, that is for the first
  $1/\alpha^2$ steps (10,000 at the default), and ours keeps decaying in proportion to the
  steps after that. Like the step, the decay is relative: it shrinks $X$ by a fraction.
* **A first moment**, $\beta_1 > 0$, is optional (the paper's experiments use it in some rows,
  and it costs a full-size state tensor). As in the authors' tensor2tensor code, it averages
  the scaled, clipped update: $M_t = \beta_1 M_{t-1} + (1 - \beta_1)\alpha_t \hat U_t$,
  $X_t = X_{t-1} - M_t$, with no bias correction. PyTorch has no first moment.
"""

from typing import Any, Optional

import torch
import torch.distributed
from torch.distributed.tensor import DTensor, Replicate, Shard

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference

# Where $\epsilon_1$ goes, by `eps_mode`: added inside the running averages (the paper)
# or used as a floor of $\operatorname{mean}(R_t)$ and of $\sqrt{\hat V_t}$ (PyTorch).
EPS_MODES = ("paper", "torch")


class Adafactor(GenericAdaptiveOptimizer):
    r"""
    ## Adafactor Optimizer
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.0, 0.999),
        eps: Optional[float] = 1e-30,
        eps2: float = 1e-3,
        d: float = 1.0,
        beta2_decay: Optional[float] = -0.8,
        relative_step: bool = True,
        scale_parameter: bool = True,
        eps_mode: str = "paper",
        weight_decay: WeightDecay = WeightDecay(),
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is $\alpha$: the cap of the relative step $\rho_t$, or the step size itself
          with `relative_step=False`
        * `betas` is $(\beta_1, \beta_2)$: $\beta_1 = 0$ (the default) keeps no first moment;
          $\beta_2$ is used only with `beta2_decay=None`
        * `eps` is $\epsilon_1$; `None` means the machine epsilon of the parameter's dtype
          (PyTorch's default)
        * `eps2` is $\epsilon_2$, the smallest scale used for a parameter tensor
        * `d` is the clipping threshold $d \ge 1$ of $\operatorname{RMS}(U_t)$
        * `beta2_decay` is $c \le 0$ of $\hat\beta_{2t} = 1 - t^c$, or `None` for a fixed $\beta_2$
        * `relative_step` makes $\rho_t = \min(\alpha, 1/\sqrt t)$ rather than $\alpha$
        * `scale_parameter` multiplies $\rho_t$ by $\max(\epsilon_2, \operatorname{RMS}(X_{t-1}))$
        * `eps_mode` is `"paper"` or `"torch"`, where $\epsilon_1$ goes (see above)
        * `weight_decay` is a `WeightDecay` from the [index page](index.html), applied with $\rho_t$
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass
        """
        # Every option joins the group defaults: a group can, say, clip harder or skip the relative step
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(
            eps2=eps2,
            d=d,
            beta2_decay=beta2_decay,
            relative_step=relative_step,
            scale_parameter=scale_parameter,
            eps_mode=eps_mode,
        )
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        # `eps=None` is allowed here; the base class checks a number.
        super().validate_group(dict(group, eps=0.0 if group["eps"] is None else group["eps"]))
        if not 0.0 <= group["eps2"]:
            raise ValueError(f"Invalid eps2 value: {group['eps2']} (must be >= 0)")
        if not 1.0 <= group["d"]:
            raise ValueError(f"Invalid clipping threshold d: {group['d']} (must be >= 1)")
        if group["beta2_decay"] is not None and not group["beta2_decay"] <= 0.0:
            raise ValueError(f"Invalid beta2_decay value: {group['beta2_decay']} (must be <= 0, or None)")
        if group["eps_mode"] not in EPS_MODES:
            raise ValueError(f"Invalid eps_mode: {group['eps_mode']!r} (must be one of {EPS_MODES})")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t = 0$; the state of a tensor with two or more dimensions is factored
        state["step"] = 0
        if param.dim() >= 2:
            # $R$, the running average of the row means of $G^2$: shape `[..., n, 1]`
            state["row_var"] = factor_zeros(param, param.shape[:-1] + (1,), param.dim() - 1)
            # $C$, the running average of the column means: shape `[..., 1, m]`
            state["col_var"] = factor_zeros(param, param.shape[:-2] + (1, param.shape[-1]), param.dim() - 2)
        else:
            # A vector's second moment, kept whole
            state["variance"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group["betas"][0] > 0:
            # $M$, the optional first moment: the only full-size state
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def one_minus_beta2(self, group: Group, t: int) -> float:
        r"""
        ### $1 - \hat\beta_{2t}$
        """
        # $1 - (1 - t^c) = t^c$ for the increasing decay
        if group["beta2_decay"] is not None:
            return t ** group["beta2_decay"]
        beta2 = group["betas"][1]
        # $1 - \beta_2 \frac{1-\beta_2^{t-1}}{1-\beta_2^{t}}$, which makes the running average
        # the bias-corrected one of Adam
        return 1 - beta2 * (1 - beta2 ** (t - 1)) / (1 - beta2**t)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is $G_t$, `param` is $X_{t-1}$
        """
        # Under FSDP2 `param` is a `DTensor` and this rank holds one shard of it: `whole` keeps the
        # whole tensor's sizes and layout, and the arithmetic runs on the local shards (see `sum_over_shards`).
        whole = param
        param, grad = local(param), local(grad)
        # $t \leftarrow t + 1$, and $\epsilon_1$ (machine epsilon of the dtype for `eps=None`)
        state["step"] += 1
        t = state["step"]
        eps1 = group["eps"] if group["eps"] is not None else torch.finfo(param.dtype).eps
        # $\epsilon_1$ inside the averages (paper) or as a floor (PyTorch); the other is 0,
        # and adding 0 or flooring non-negative numbers at 0 changes nothing.
        eps_in_average, eps_floor = (eps1, 0.0) if group["eps_mode"] == "paper" else (0.0, eps1)

        # $\rho_t = \min(\alpha, 1/\sqrt t)$, or $\alpha$. `t ** 0.5` rather than `math.sqrt`,
        # to round as PyTorch does.
        rho = min(group["lr"], 1 / t**0.5) if group["relative_step"] else group["lr"]
        # $\alpha_t = \max(\epsilon_2, \operatorname{RMS}(X_{t-1}))\,\rho_t$, from the parameter
        # before weight decay
        alpha = rho
        if group["scale_parameter"]:
            alpha = max(group["eps2"], whole_norm(param, whole) / whole.numel() ** 0.5) * rho
        # Weight decay with $\rho_t$, the learning rate in effect
        grad = WeightDecay.apply(param, grad, group, rho)

        one_minus_beta2 = self.one_minus_beta2(group, t)
        if grad.dim() >= 2:
            row_var, col_var = local(state["row_var"]), local(state["col_var"])
            n_dims = whole.dim()
            # $\operatorname{mean}_\text{cols}(G_t^2) (+ \epsilon_1)$, as a squared norm so that
            # no $n \times m$ temporary is made
            row_mean = sum_over_shards(torch.norm(grad, dim=-1, keepdim=True).square_(), whole, {n_dims - 1})
            row_mean.div_(whole.size(-1)).add_(eps_in_average)
            # $R_t = \hat\beta_{2t} R_{t-1} + (1 - \hat\beta_{2t}) \cdot$ row means
            row_var.lerp_(row_mean, one_minus_beta2)
            # $\operatorname{mean}_\text{rows}(G_t^2) (+ \epsilon_1)$
            col_mean = sum_over_shards(torch.norm(grad, dim=-2, keepdim=True).square_(), whole, {n_dims - 2})
            col_mean.div_(whole.size(-2)).add_(eps_in_average)
            # $C_t = \hat\beta_{2t} C_{t-1} + (1 - \hat\beta_{2t}) \cdot$ column means
            col_var.lerp_(col_mean, one_minus_beta2)
            if isinstance(whole, DTensor):
                # $\operatorname{mean}(R_t)$ over all $n$ rows, not this shard's
                row_var_mean = sum_over_shards(row_var.sum(dim=-2, keepdim=True), whole, {n_dims - 2})
                row_var_mean.div_(whole.size(-2))
            else:
                row_var_mean = row_var.mean(dim=-2, keepdim=True)
            # $\hat V_t = \big(R_t / \operatorname{mean}(R_t)\big) C_t^\top$; `[..., n, 1] @ [..., 1, m]` is the
            # outer product. Dividing first keeps the product in range: where a whole matrix has zero
            # gradients, $R$ and $C$ are $\epsilon_1 = 10^{-30}$ and $R C^\top = 10^{-60}$ underflows to 0 in
            # float32, which made $G / \sqrt{\hat V}$ a NaN (0/0). PyTorch multiplies first.
            v_hat = row_var.div(row_var_mean.clamp_(min=eps_floor)) @ col_var
        else:
            variance = local(state["variance"])
            # $V_t = \hat\beta_{2t} V_{t-1} + (1 - \hat\beta_{2t}) (G_t^2 + \epsilon_1)$
            variance.lerp_((grad * grad).add_(eps_in_average), one_minus_beta2)
            # A copy: the update below is computed in place
            v_hat = variance.clone()

        # $U_t = G_t / \sqrt{\hat V_t}$; the floor is on $\hat V_t$, so it is $\epsilon_1^2$
        update = v_hat.clamp_(min=eps_floor * eps_floor).rsqrt_().mul_(grad)
        # $\max(1, \operatorname{RMS}(U_t) / d)$, the clipping factor
        clip = max(1.0, whole_norm(update, whole) / (whole.numel() ** 0.5 * group["d"]))

        if "exp_avg" in state:
            # $M_t = \beta_1 M_{t-1} + (1 - \beta_1) \alpha_t \hat U_t$, then $X_t = X_{t-1} - M_t$
            m = local(state["exp_avg"])
            m.lerp_(update.mul_(alpha / clip), 1 - group["betas"][0])
            param.sub_(m)
        else:
            # $X_t = X_{t-1} - \alpha_t \hat U_t$
            param.add_(update, alpha=-alpha / clip)


def local(tensor: torch.Tensor) -> torch.Tensor:
    r"""
    ### This rank's part of a tensor

    A plain tensor is all there is; for a `DTensor`, under `no_grad`, `to_local()` is the shard
    itself (not a copy), so updating it in place updates the parameter or the state.
    """
    return tensor.to_local() if isinstance(tensor, DTensor) else tensor


def sum_over_shards(partial: torch.Tensor, whole: torch.Tensor, dims) -> torch.Tensor:
    r"""
    ### Complete a sum over `dims` of a sharded tensor

    `partial` is this rank's sum over the dimensions `dims` of its shard of `whole`. FSDP2 shards a
    parameter along one dimension, usually dimension 0: the rows of a matrix. A row statistic
    (a sum over the columns) is then complete on every rank, but a column statistic, and
    $\operatorname{mean}(R)$, are sums over all rows, that is over the ranks. So for every mesh
    dimension that splits one of `dims`, the partial sums are all-reduced, in place: one
    all-reduce of an $m$-vector per matrix and step, small next to the gradient's own
    reduce-scatter. A plain tensor is returned unchanged.
    """
    if isinstance(whole, DTensor):
        for mesh_dim, placement in enumerate(whole.placements):
            if isinstance(placement, Shard) and placement.dim % whole.dim() in dims:
                torch.distributed.all_reduce(partial, group=whole.device_mesh.get_group(mesh_dim))
    return partial


def whole_norm(part: torch.Tensor, whole: torch.Tensor) -> float:
    r"""
    ### $\lVert\cdot\rVert_2$ of a whole tensor, from this rank's `part` of it

    `part` is laid out as `whole` is sharded; for a plain tensor this is `part.norm(2)`.
    """
    if not isinstance(whole, DTensor):
        return part.norm(2).item()
    return sum_over_shards(part.norm(2).square(), whole, set(range(whole.dim()))).sqrt().item()


def factor_zeros(param: torch.Tensor, shape: torch.Size, reduced: int) -> torch.Tensor:
    r"""
    ### Zeros for a factored statistic of shape `shape`, a mean of `param` over dimension `reduced`

    For a sharded `param` it is a `DTensor` laid out as `param`, except that a dimension the mean
    runs over is of size one, so where `param` is sharded along `reduced` the statistic is
    replicated: every rank holds the whole column statistic of a row-sharded matrix.
    """
    if not isinstance(param, DTensor):
        return param.new_zeros(shape)
    placements = [
        Replicate() if isinstance(p, Shard) and p.dim % param.dim() == reduced else p for p in param.placements
    ]
    return torch.distributed.tensor.zeros(
        shape, dtype=param.dtype, device_mesh=param.device_mesh, placements=placements
    )


# ## Exercises
#
# :::: exercise How much a factored matrix saves
# How many numbers of optimizer state does Adafactor keep for a $4096 \times 1024$ weight matrix, with the
# default $\beta_1 = 0$? How many does [Adam](adam.html) keep?
#
# ::: answer
# Adafactor keeps $R$, $n = 4096$ numbers, and $C$, $m = 1024$: 5120 in all. Adam keeps its two moments, $2nm$ =
# 8,388,608 numbers, 1638.4 times as many; against its second moment alone, $nm/(n+m) = 819.2$ times.
# :::
# ::::
#
# :::: exercise When the rank-one estimate is exact
# (a) On the first step $\hat\beta_{21} = 0$. Show that $\hat V_1 = G_1^2$ (up to $\epsilon_1$) whenever
# $G_1 = u v^\top$ is an outer product with no zero element, and find the first step of every element of a matrix
# $X_0$ whose elements are all $\pm 0.5$, with the defaults.
#
# (b) What are $\hat V_1$, $U_1$ and the first step when $G_1 = I$, the $2 \times 2$ identity, on the same $X_0$?
#
# ::: answer
# (a) Element by element, $G_1^2 = a b^\top$ with $a = u^2$ and $b = v^2$. Its row means are $R_1 = \bar b\, a$, its
# column means $C_1 = \bar a\, b$ (with $\bar a$, $\bar b$ the means of $a$ and $b$), and
# $\operatorname{mean}(R_1) = \bar a \bar b$, so $\hat V_1 = R_1 C_1^\top / \operatorname{mean}(R_1) = a b^\top =
# G_1^2$. Then $U_1 = G_1/|G_1| = \operatorname{sign}(G_1)$, whose RMS is 1: nothing is clipped. With
# $\rho_1 = \min(10^{-2}, 1) = 10^{-2}$ and $\operatorname{RMS}(X_0) = 0.5$, $\alpha_1 = 0.005$, and every element
# moves by exactly $0.005$ against its gradient, as in a first step of Adam with $\alpha = 0.005$.
#
# (b) $R_1 = C_1 = (\frac12, \frac12)$ and $\operatorname{mean}(R_1) = \frac12$, so every element of $\hat V_1$ is
# $\frac12$: the estimate spreads the diagonal's squares over the zeros beside them. $U_1 = \sqrt2\, I$, whose RMS
# is 1 (no clipping), so the diagonal moves by $0.005\sqrt2 = 0.00707$ and the other two elements, whose gradient
# is 0, not at all.
# :::
# ::::
#
# :::: exercise A sudden jump in the gradient
# A vector parameter (its second moment kept whole) gets the same gradient $g$ for 999 steps and $10g$ on step
# 1000, with the default $\hat\beta_{2t} = 1 - t^{-0.8}$ and `relative_step=False, scale_parameter=False` (so
# $\alpha_t = \alpha$). Compute $\operatorname{RMS}(U_{1000})$, and the step of each element on step 1000 against
# its step on step 999, with the default $d = 1$ and with $d = 100$.
#
# ::: answer
# $\hat\beta_{21} = 0$ makes $V_1 = g^2$, and a constant gradient keeps $V_t = g^2$: up to step 999,
# $U_t = \operatorname{sign}(g)$, with RMS 1, and every element moves by $\alpha$. On step 1000,
# $1 - \hat\beta_{2,1000} = 1000^{-0.8} = 0.00398$, so $V_{1000} = g^2(1 + 99 \cdot 0.00398) = 1.394\, g^2$ and
# $U_{1000} = 10g/(1.181|g|)$, with RMS $8.47$. With $d = 1$ the update is divided by $8.47$ and every element moves
# by $\alpha$ again; with $d = 100$, by $8.47\alpha$. The stale $V$ would pass a tenfold gradient on as an
# 8.47-fold step; clipping keeps the step at its usual size while $V$ catches up.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. With `eps_mode="torch"` and PyTorch's `eps`,
# ours is `torch.optim.Adafactor`.
#
# In the experiment, with a fixed rate and no parameter scaling, Adafactor's step is Adam-sized (an
# RMS-normalized, clipped update), so it gets Adam's centre; the sweep reaches this page's default, $10^{-2}$.
# The paper's $\epsilon_1 = 10^{-30}$ still fails in float32 there. This page forms the estimate as
# $(R / \operatorname{mean} R)\, C^\top$, which keeps a matrix whose gradient is all zero finite, but not a zero
# row (a dead ReLU's) that crosses a zero column: there the estimate is
# $10^{-30} \cdot 10^{-30} / \operatorname{mean} R$, which underflows to $0$, and the update is $0 / \sqrt{0}$,
# NaN, on the first step (in `conv2` and `fc1` of the experiment's CNN). `eps=None` takes PyTorch's value, the
# float32 machine epsilon $1.2 \cdot 10^{-7}$, still added inside the averages (the paper's `eps_mode`): the
# estimate then stays above $(1.2 \cdot 10^{-7})^2 / \operatorname{mean} R$, far from float32's underflow.
ENTRY = OptimizerEntry(
    Adafactor,
    paper="https://arxiv.org/abs/1804.04235",
    test_kwargs=dict(betas=(0.9, 0.999)),
    reference=Reference(torch.optim.Adafactor, ours=dict(eps_mode="torch", eps=None), theirs=dict(foreach=False)),
    experiment=ExperimentLine(
        "adafactor", 1e-3, dict(relative_step=False, scale_parameter=False, eps=None), position=8
    ),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Adafactor in its PyTorch mode, and a
# twin trained with `torch.optim.Adafactor` on the same gradients. `eps_mode="torch"` floors the averages
# instead of adding $\epsilon_1$ to them, and `eps=None` makes $\epsilon_1$ the machine epsilon of the dtype,
# PyTorch's default; the other defaults are the same. The paper's mode (our default) differs in where
# $\epsilon_1$ goes, so it would not match.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: Adafactor(params, lr=1e-2, eps=None, eps_mode="torch"),
        lambda params: torch.optim.Adafactor(params, lr=1e-2),
        name="Adafactor",
        reference_name="torch.optim.Adafactor",
    )
