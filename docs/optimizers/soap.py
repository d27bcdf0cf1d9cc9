# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: SOAP Optimizer
summary: An annotated PyTorch implementation of SOAP, Adam run in the eigenbasis of Shampoo's Kronecker factors, with the basis refreshed every few steps by one step of power iteration and a QR decomposition, as in the authors' code.
paper_title: "SOAP: Improving and Stabilizing Shampoo using Adam"
paper_authors: Nikhil Vyas, Depen Morwani, Rosie Zhao, Mujin Kwun, Itai Shapira, David Brandfonbrener, Lucas Janson and Sham Kakade
paper_year: 2024
paper_arxiv: 2409.11321
paper_arxiv_class: cs.LG
---

# SOAP Optimizer

*SOAP* (ShampoO with Adam in the Preconditioner's eigenbasis) was introduced by Vyas et al. in
[SOAP: Improving and Stabilizing Shampoo using Adam](https://arxiv.org/abs/2409.11321) (2024). It
keeps [Shampoo](shampoo.html)'s two Kronecker factors of a matrix's gradient statistics, but uses only
their *eigenvectors*: the gradient is rotated into that basis, [Adam](adam.html) runs there, and its
step is rotated back. The class below is built on the `GenericAdaptiveOptimizer` of the
[chapter's index page](index.html) and does what the authors' `SOAP` class
([nikhilvyas/SOAP](https://github.com/nikhilvyas/SOAP), `soap.py`) does with its default switches;
the tests compare the two, transcribed, in float64. For a weight matrix $W \in \mathbb{R}^{A \times B}$
with gradient $G_t$,

\begin{align}
G'_t &= Q_L^\top G_t Q_R \\
m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1) G'_t, \qquad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) G'^2_t \\
W_t &\leftarrow W_{t-1} - \alpha \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\; Q_L \frac{m_t}{\sqrt{v_t} + \epsilon} Q_R^\top,
  \qquad W_t \leftarrow W_t - \alpha \lambda W_t \\
L_t &\leftarrow \beta_s L_{t-1} + (1-\beta_s) G_t G_t^\top, \qquad R_t \leftarrow \beta_s R_{t-1} + (1-\beta_s) G_t^\top G_t \\
Q_L &\leftarrow \operatorname{QR}(L_t Q_L), \quad Q_R \leftarrow \operatorname{QR}(R_t Q_R) \quad \text{every } f \text{ steps}
\end{align}

$m_t$ and $v_t$ live in the rotated basis, so they have the shape of $W$; $\beta_s$ is the factors'
average (`shampoo_beta`, $\beta_2$ unless set). *Notation:* $L$, $R$, $Q_L$, $Q_R$ are the paper's
symbols; the rest is the chapter's. The first call only sets up the factors and the basis from $G_1$
and does not move $W$ (the authors' comment: "first step is skipped so that we never use the current
gradients in the projection"); $t$ counts the steps after it.

## Adam in Shampoo's eigenbasis

Let $L = Q_L \Lambda_L Q_L^\top$ and $R = Q_R \Lambda_R Q_R^\top$. Shampoo's step with the exponent
$-1/2$ on each side ("Shampoo$^{1/2}$", which the paper studies) is

$$L^{-1/2} G R^{-1/2} = Q_L \big(\Lambda_L^{-1/2}\, (Q_L^\top G Q_R)\, \Lambda_R^{-1/2}\big) Q_R^\top.$$

In the rotated coordinates it divides each entry $G'_{ij}$ by $\sqrt{\lambda_{L,i}\lambda_{R,j}}$: a
*diagonal* preconditioner whose entries are the products of the factors' eigenvalues, a rank-one
guess at the second moment of $G'$. Vyas et al. state it in their abstract: Shampoo with the
$1/2$ power "is equivalent to running Adafactor in the eigenbasis of Shampoo's preconditioner". Their Claim 1
makes it precise for idealized versions of both, whose statistics are expectations, $L = \mathbb{E}[GG^\top]$ and
$R = \mathbb{E}[G^\top G]$, and in that form it can be checked in a few lines (the tests do). With
$V = \mathbb{E}[G'^2]$, the second moment of $G'$ entry by entry, $\lambda_{L,i} = (Q_L^\top L Q_L)_{ii}$ is
the sum of row $i$ of $V$, $\lambda_{R,j}$ the sum of column $j$, and $\operatorname{tr} L$ the sum of all of $V$. [Adafactor](adafactor.html)
estimates $V$ by the rank-one product of its row and column sums over the total,
$\lambda_{L,i}\lambda_{R,j} / \operatorname{tr} L$, so Adafactor in this basis is Shampoo$^{1/2}$ with
$L \otimes R$ divided by $\operatorname{tr} L$, a single scale. SOAP replaces the guess
by the real thing: Adam's own second moment $v$ of $G'$, coordinate by coordinate. That adds Adam's $\epsilon$, its bias correction and its momentum, so SOAP
takes Adam's hyper-parameters and needs no grafting; the eigenbasis is what it adds to Adam.

## The eigenbasis and its refresh

The basis comes from an eigendecomposition (`eigh`) once, on the first call, and then every $f$ steps
(`precondition_frequency`, 10 by default) from one step of *power iteration* followed by a QR
decomposition, as in the authors' `get_orthogonal_matrix_QR`:

1. estimate the eigenvalues in the old basis, $\operatorname{diag}(Q^\top L Q)$, and sort the basis's
   columns (and the matching rows or columns of $v$) from largest to smallest;
2. $Q \leftarrow \operatorname{QR}(L Q)$. If $Q$ spans $L$'s eigenvectors, $LQ$ only scales its columns
   and QR returns them (up to signs); if $L$ has drifted, one multiplication turns $Q$ towards its new
   eigenvectors, faster for directions with well-separated eigenvalues.

One product and a QR are cheaper than a new `eigh`, and they start from the previous basis, which
the factors' slow average changes little in $f$ steps. Between refreshes the basis is stale while $v$
keeps adapting to the gradients every step. The paper's abstract reports that computing Shampoo's
eigendecomposition less often degrades its performance, the more the less often it is done, and that SOAP
mitigates the degradation by updating its second moment continually, as Adam does, in the current, slowly
changing basis.

**What happens to $m$ and $v$ at a refresh.** $m$ is rotated to the new basis (back with the old
$Q$, forward with the new one), so it is exactly the average of the rotated gradients; the authors'
code does this rotation on every step, which changes nothing between refreshes but rounding, so we do
it at refreshes only. $v$ is not rotated: a rotated second moment is no longer diagonal. Its entries are
only permuted with the sort of step 1, so that each stays with the eigenvector it was estimated for.

## Beyond matrices

Like the authors' code, a tensor of any order gets one factor per dimension, $L_k = \sum G_{(k)}
G_{(k)}^\top$ over all the other dimensions, and is rotated along each (a convolution kernel
`[out, in, h, w]` gets four bases). A dimension longer than `max_precond_dim` (10000) gets no basis (the
identity), and so does a vector: a bias or a gain gets Adam itself, but for the skipped first step.

## Where we differ from the authors' code

* `shampoo_beta=None` stands for "use $\beta_2$"; their code writes $-1$.
* `merge_dims`, `precondition_1d`, `normalize_grads` and `data_format` are left out: we run their defaults
  (no merging, no basis for vectors, no normalization, channels first).
* The factors, `eigh` and QR run in the parameter's dtype, float32 or float64. Their code keeps the
  factors in float32 (the default dtype of `torch.zeros`) and runs `eigh` and QR in float32 whatever the
  parameter is; below float32 we do so too.
* $m$ is rotated at refreshes only (see above).

**Precision.** Early on a factor has low rank (after the first call, rank 6 for a $16 \times 6$
gradient's $16 \times 16$ factor $L$), and the basis of its null space is whatever `eigh` returns.
Runs in float32 and in float64 therefore pick different bases there and part by whole Adam steps,
not by rounding; the tests show it, and that the float32 run trains as well. Each is a valid basis;
comparisons with the authors' algorithm are made in float64, where both sides decompose the same
matrices.

As for [Shampoo](shampoo.html), the basis needs the whole matrix, so SOAP refuses FSDP2's sharded
`DTensor` parameters when the group is added.
"""

from itertools import chain
from typing import Any, Optional

import torch
from torch.distributed.tensor import DTensor

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry

# A basis per dimension, or `None` for a dimension that keeps the identity
Bases = list[Optional[torch.Tensor]]


def project(x: torch.Tensor, bases: Bases) -> torch.Tensor:
    r"""
    ## Rotate into the eigenbasis: $Q_L^\top X Q_R$ for a matrix

    Each `tensordot` contracts the first dimension with $Q$'s rows and puts the result last, so after
    one pass per dimension the order is restored. A dimension without a basis is only moved to the end.
    """
    for basis in bases:
        if basis is None:
            x = x.permute(*range(1, x.dim()), 0)
        else:
            x = torch.tensordot(x, basis, dims=[[0], [0]])
    return x


def project_back(x: torch.Tensor, bases: Bases) -> torch.Tensor:
    r"""
    ## Rotate back: $Q_L X Q_R^\top$ for a matrix
    """
    for basis in bases:
        if basis is None:
            x = x.permute(*range(1, x.dim()), 0)
        else:
            x = torch.tensordot(x, basis, dims=[[0], [1]])
    return x


def factor_outer(grad: torch.Tensor, dim: int) -> torch.Tensor:
    r"""
    ## $G_{(k)} G_{(k)}^\top$: the gradient contracted with itself over every dimension but `dim`

    $G G^\top$ for `dim=0` of a matrix, $G^\top G$ for `dim=1`.
    """
    others = [*chain(range(dim), range(dim + 1, grad.dim()))]
    return torch.tensordot(grad, grad, dims=[others, others])


def working(factor: torch.Tensor) -> torch.Tensor:
    r"""
    ## The factor in a dtype that `eigh` and QR take: its own, or float32 below it
    """
    return factor if factor.dtype in (torch.float32, torch.float64) else factor.float()


def eigenbasis(factor: torch.Tensor) -> torch.Tensor:
    r"""
    ## The eigenvectors of a factor, by `eigh`, largest eigenvalue first

    The authors add $10^{-30} I$ first, a guard for the all-zero factor of a zero gradient.
    """
    matrix = working(factor)
    identity = torch.eye(matrix.shape[0], dtype=matrix.dtype, device=matrix.device)
    _, vectors = torch.linalg.eigh(matrix + 1e-30 * identity)
    return torch.flip(vectors, [1]).to(factor.dtype)


class SOAP(GenericAdaptiveOptimizer):
    r"""
    ## SOAP Optimizer
    """

    def __init__(
        self,
        params: Params,
        lr: float = 3e-3,
        betas: tuple[float, float] = (0.95, 0.95),
        shampoo_beta: Optional[float] = None,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        precondition_frequency: int = 10,
        max_precond_dim: int = 10000,
        correct_bias: bool = True,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are the authors'.

        * `lr` is $\alpha$, `betas` Adam's $(\beta_1, \beta_2)$ and `eps` Adam's $\epsilon$
        * `shampoo_beta` is $\beta_s$, the factors' average ($\beta_2$ if `None`)
        * `weight_decay` is $\lambda$, decoupled and applied after the step, as in the authors' code
        * `precondition_frequency` is $f$
        * `max_precond_dim` is the longest dimension that gets a basis
        * `correct_bias` switches Adam's bias correction
        * `maximize` climbs the objective instead of descending it
        """
        defaults = dict(defaults or {})
        defaults.update(
            shampoo_beta=shampoo_beta,
            weight_decay=weight_decay,
            precondition_frequency=precondition_frequency,
            max_precond_dim=max_precond_dim,
            correct_bias=correct_bias,
        )
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters, and refuse FSDP2's shards
        """
        super().validate_group(group)
        shampoo_beta = group["shampoo_beta"]
        if shampoo_beta is not None and not 0.0 <= shampoo_beta < 1.0:
            raise ValueError(f"Invalid shampoo_beta: {shampoo_beta} (must be None or in [0, 1))")
        frequency = group["precondition_frequency"]
        if not (isinstance(frequency, int) and frequency >= 1):
            raise ValueError(f"Invalid precondition_frequency: {frequency} (must be an integer >= 1)")
        if not (isinstance(group["max_precond_dim"], int) and group["max_precond_dim"] >= 1):
            raise ValueError(f"Invalid max_precond_dim: {group['max_precond_dim']} (must be an integer >= 1)")
        if group.get("weight_decay_absolute") or not group.get("weight_decouple", True):
            raise ValueError("SOAP's weight decay is decoupled, as in the authors' code: give weight_decay as a number")
        for param in group["params"]:
            if torch.is_complex(param):
                raise ValueError("SOAP does not support complex parameters")
            if isinstance(param, DTensor):
                raise TypeError(
                    "SOAP rotates whole matrices into an eigenbasis, and this parameter is a DTensor shard (FSDP2): "
                    "train it under DistributedDataParallel or ZeroRedundancyOptimizer, which keep it whole"
                )

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter

        The factors are created here and filled by the first call of `step_param`.
        """
        # $t$, counting the steps after the first call
        state["step"] = 0
        # $m_0 = v_0 = 0$, of the parameter's shape, in the rotated basis
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # One factor `[n, n]` per dimension of length $n \le$ `max_precond_dim`; none for a vector
        factors: list[Optional[torch.Tensor]] = []
        for size in param.shape:
            keep = param.dim() > 1 and size <= group["max_precond_dim"]
            factors.append(param.new_zeros(size, size) if keep else None)
        state["factors"] = factors
        # $Q_L$, $Q_R$, ...: set on the first call
        state["bases"] = None

    def update_factors(self, state: State, group: Group, grad: torch.Tensor) -> None:
        r"""
        ### $L \leftarrow \beta_s L + (1-\beta_s)\, G G^\top$, and likewise for every other dimension
        """
        shampoo_beta = group["shampoo_beta"]
        if shampoo_beta is None:
            shampoo_beta = group["betas"][1]
        for dim, factor in enumerate(state["factors"]):
            if factor is not None:
                factor.lerp_(factor_outer(grad, dim), 1 - shampoo_beta)

    def refresh_bases(self, state: State) -> None:
        r"""
        ### One step of power iteration and a QR decomposition per basis

        Sorts each basis by its estimated eigenvalues, and $v$ with it, then $Q \leftarrow \operatorname{QR}(LQ)$.
        """
        bases: Bases = []
        exp_avg_sq = state["exp_avg_sq"]
        for dim, (factor, basis) in enumerate(zip(state["factors"], state["bases"])):
            if factor is None:
                bases.append(None)
                continue
            matrix, basis = working(factor), working(basis)
            # $\operatorname{diag}(Q^\top L Q)$, the eigenvalues as the old basis sees them
            estimates = torch.diag(basis.T @ matrix @ basis)
            order = torch.argsort(estimates, descending=True)
            # $v$'s entries follow their eigenvectors
            exp_avg_sq = exp_avg_sq.index_select(dim, order)
            # $Q \leftarrow \operatorname{QR}(L\, Q_{\text{sorted}})$
            q, _ = torch.linalg.qr(matrix @ basis[:, order])
            bases.append(q.to(factor.dtype))
        state["exp_avg_sq"] = exp_avg_sq
        state["bases"] = bases

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter

        * `grad` is $G_t$, of the parameter's shape
        """
        # The first call: the factors from $G_1$ and the basis from their `eigh`; $W$ does not move.
        if state["bases"] is None:
            self.update_factors(state, group, grad)
            state["bases"] = [None if factor is None else eigenbasis(factor) for factor in state["factors"]]
            return

        beta1, beta2 = group["betas"]
        lr = group["lr"]
        state["step"] += 1
        t = state["step"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # $G'_t = Q_L^\top G_t Q_R$
        grad_rotated = project(grad, state["bases"])
        # $m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) G'_t$ and $v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) G'^2_t$
        exp_avg.mul_(beta1).add_(grad_rotated, alpha=1.0 - beta1)
        exp_avg_sq.mul_(beta2).add_(grad_rotated.square(), alpha=1.0 - beta2)
        # $\sqrt{v_t} + \epsilon$
        denom = exp_avg_sq.sqrt().add_(group["eps"])
        # $\alpha \sqrt{1-\beta_2^t} / (1-\beta_1^t)$, the bias corrections folded into the rate as in Adam's code
        step_size = lr
        if group["correct_bias"]:
            step_size = lr * (1.0 - beta2**t) ** 0.5 / (1.0 - beta1**t)
        # $W_t \leftarrow W_{t-1} - \text{step size} \cdot Q_L \big(m_t / (\sqrt{v_t} + \epsilon)\big) Q_R^\top$
        param.add_(project_back(exp_avg / denom, state["bases"]), alpha=-step_size)
        # $W_t \leftarrow W_t - \alpha\lambda W_t$, after the step, on the updated $W_t$, as the authors do
        if group["weight_decay"] > 0.0:
            param.add_(param, alpha=-lr * group["weight_decay"])

        # The factors take $G_t$ after the step, so the basis never holds the gradient it rotates.
        self.update_factors(state, group, grad)
        if t % group["precondition_frequency"] == 0:
            # $m$ back with the old basis, then forward with the new one
            exp_avg = project_back(exp_avg, state["bases"])
            self.refresh_bases(state)
            state["exp_avg"] = project(exp_avg, state["bases"])


# ## Exercises
#
# :::: exercise Shampoo's diagonal in the eigenbasis
# Let $L = \operatorname{diag}(4, 1)$ and $R = \operatorname{diag}(9, 1)$, so that $Q_L = Q_R = I$, and
# $G = \begin{pmatrix} 1 & 1 \\ 1 & 1 \end{pmatrix}$. What does Shampoo$^{1/2}$, $L^{-1/2} G R^{-1/2}$, divide each entry
# of $G$ by? What would Adam in this basis divide by, on a first step with $v$ fresh from $G$?
#
# ::: answer
# $L^{-1/2} G R^{-1/2}$ has the entries $G_{ij} / \sqrt{\lambda_{L,i} \lambda_{R,j}}$: it divides by
# $\sqrt{36} = 6$, $\sqrt{4} = 2$, $\sqrt{9} = 3$ and $1$, giving
# $\begin{pmatrix} 1/6 & 1/2 \\ 1/3 & 1 \end{pmatrix}$, a rank-one pattern of divisors. Adam's first step divides
# each entry by $\sqrt{v} = |G'_{ij}| = 1$ (with the bias correction, up to $\epsilon$): every entry moves by the same
# amount, the step $\alpha \operatorname{sign}(G')$. The two agree only when $v$'s pattern is the rank-one product
# of the eigenvalues, which is what SOAP stops assuming.
# :::
# ::::
#
# :::: exercise Why the first call does not step
# Suppose SOAP stepped on its first call, with the basis from $L_1 = (1-\beta_s) G_1 G_1^\top$ of a $4 \times 2$
# gradient. How many of the four columns of $Q_L$ are eigenvectors with a non-zero eigenvalue, and what does
# $G_1$ look like in that basis?
#
# ::: answer
# $G_1 G_1^\top$ has rank at most 2, so two columns of $Q_L$ carry its non-zero eigenvalues and the other two span its
# null space, in a direction `eigh` picks arbitrarily. $G_1 = U S V^\top$ lies in the span of the first two, so
# $G'_1 = Q_L^\top G_1 Q_R$ is $S$ in its top-left $2 \times 2$ corner and zero elsewhere: Adam's first step then moves
# only the two coordinates it has seen, with the sign step $\pm\alpha$ each. The basis would be fitted to the very
# gradient it rotates; waiting a step makes the basis a prediction from past gradients, as the authors' comment says.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. SOAP takes every parameter: vectors get Adam and
# kernels a basis per dimension, as in the authors' code. There is no `torch.optim` twin, so the tests compare it with a
# float64 transcription of the authors' step. In the experiment it runs with the authors' defaults, centred on their
# rate, $3 \cdot 10^{-3}$. The tests' arguments give a basis only to sides of at most 7 (the $6 \times 6$ right
# factor of the tests' $16 \times 6$ layer, which has full rank from the first call): a low-rank factor's null-space
# basis is decided by rounding (see *Precision* above), so a gradient summed in another order, as under
# `DistributedDataParallel`, would change it and the trajectory with it.
ENTRY = OptimizerEntry(
    SOAP,
    paper="https://arxiv.org/abs/2409.11321",
    test_kwargs=dict(lr=1e-2, precondition_frequency=2, max_precond_dim=7),
    experiment=ExperimentLine("soap", 3e-3, position=19),
    refuses_fsdp2="SOAP",
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with SOAP alone: there is no `torch.optim` twin, and the tests
# compare the class with the authors' step instead.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: SOAP(params, lr=3e-3), name="SOAP")
