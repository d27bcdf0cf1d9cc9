# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Shampoo Optimizer
summary: An annotated PyTorch implementation of Shampoo, which preconditions a weight matrix's gradient from the left and the right by the inverse fourth roots of two Kronecker factors of its gradient statistics; with Adam grafting, as Distributed Shampoo runs it, and its relation to Muon's orthogonalized step.
paper_title: "Shampoo: Preconditioned Stochastic Tensor Optimization"
paper_authors: Vineet Gupta, Tomer Koren and Yoram Singer
paper_year: 2018
paper_type: inproceedings
paper_venue: Proceedings of the 35th International Conference on Machine Learning
paper_series: Proceedings of Machine Learning Research
paper_volume: 80
paper_pages: 1842-1850
paper_publisher: PMLR
paper_url: https://proceedings.mlr.press/v80/gupta18a.html
paper_arxiv: 1802.09568
paper_arxiv_class: cs.LG
paper2_title: A Distributed Data-Parallel PyTorch Implementation of the Distributed Shampoo Optimizer for Training Neural Networks At-Scale
paper2_authors: Hao-Jun Michael Shi, Tsung-Hsien Lee, Shintaro Iwasaki, Jose Gallego-Posada, Zhijing Li, Kaushik Rangadurai, Dheevatsa Mudigere and Michael Rabbat
paper2_year: 2023
paper2_arxiv: 2309.06497
paper2_arxiv_class: cs.LG
---

# Shampoo Optimizer

*Shampoo* was introduced by Gupta, Koren and Singer in
[Shampoo: Preconditioned Stochastic Tensor Optimization](https://arxiv.org/abs/1802.09568) (ICML 2018).
The class below runs the paper's algorithm, and with its other switches the configuration that
Meta's [Distributed Shampoo](https://github.com/facebookresearch/optimizers) (Shi et al.,
[arXiv:2309.06497](https://arxiv.org/abs/2309.06497)) uses in practice: an exponential moving average
of the gradient, roots refreshed every $f$ steps, and the step's size *grafted* from Adam. It is built
on the `GenericAdaptiveOptimizer` of the [chapter's index page](index.html); its sibling
[SOAP](soap.html) runs Adam in Shampoo's eigenbasis. For a weight matrix $W \in \mathbb{R}^{A \times B}$
with gradient $G_t$,

\begin{align}
L_t &\leftarrow \beta_2 L_{t-1} + (1 - \beta_2)\, G_t G_t^\top
  &&\text{(or } L_{t-1} + G_t G_t^\top \text{ when } \beta_2 = 1\text{)} \\
R_t &\leftarrow \beta_2 R_{t-1} + (1 - \beta_2)\, G_t^\top G_t \\
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) G_t, \qquad \hat m_t = m_t / (1 - \beta_1^t) \\
P_t &\leftarrow \big(\hat L + \epsilon I\big)^{-1/4}\; \hat m_t\; \big(\hat R + \epsilon I\big)^{-1/4}
  &&\text{(roots recomputed every } f \text{ steps)} \\
W_t &\leftarrow W_{t-1}(1 - \alpha\lambda) - \alpha\, \frac{\lVert D_t \rVert_F}{\lVert P_t \rVert_F}\, P_t,
  \qquad D_t = \hat m_t \big/ \big(\sqrt{\hat v_t} + \epsilon_g\big)
\end{align}

where $\hat L = L_t/(1-\beta_2^t)$ and $\hat R$ likewise are the bias-corrected factors (no correction
when $\beta_2 = 1$), and $D_t$ is Adam's step, the *grafted* direction, with $v_t$ Adam's second moment
of $G_t$. *Notation:* $L_t$ and $R_t$ are the paper's symbols for the left and right factors, kept so
the page reads beside it; $\epsilon_g$ and $\beta_g$ are Distributed Shampoo's `grafting_epsilon` and
`grafting_beta2`.

With $\beta_1 = 0$, $\beta_2 = 1$, $f = 1$ and no grafting, this is the paper's Algorithm 1, whose
factors start at $L_0 = \epsilon I$ and $R_0 = \epsilon I$ and sum the outer products: the step is
$\alpha L_t^{-1/4} G_t R_t^{-1/4}$.

## Kronecker factors

[Adagrad](adagrad.html) divides each coordinate by the root of its own accumulated squared gradient:
a *diagonal* preconditioner. The ideal full-matrix Adagrad would keep $H = \sum_s g_s g_s^\top$ for the
flattened gradient $g = \operatorname{vec}(G)$ and step by $H^{-1/2} g$. For a $1024 \times 1024$ layer
$H$ has $2^{40}$ entries, so nobody keeps it.

Shampoo keeps one matrix per side instead. $L = \sum_s G_s G_s^\top$ ($A \times A$) is the covariance
of the gradient's *columns*: how the output coordinates' gradients move together. $R = \sum_s
G_s^\top G_s$ ($B \times B$) is that of its *rows*, the input coordinates. The paper's analysis of the matrix case,
for gradients of rank at most $r$, rests on bounding the one by the other. The bound as we state it: when every
$G_s$ has rank at most $r$, then for every $\epsilon \ge 0$

$$\epsilon I + \tfrac{1}{r} H \preceq (\epsilon I + L)^{1/2} \otimes (\epsilon I + R)^{1/2},$$

so the Kronecker product of the factors' square roots keeps every direction that $H$ sees, shrunk at most by the
rank. We could not read the paper's own statement of it, so the page gives the inequality as the tests
check it: on random gradients of rank 1 to 3 with $\epsilon = 0$, $10^{-3}$ and $1$, and with a rank-2
gradient on which no constant above $\frac{1}{r}$ holds. Preconditioning by $(L^{1/2} \otimes R^{1/2})^{-1/2} = L^{-1/4} \otimes R^{-1/4}$ is, on the
matrix, the product $L^{-1/4} G R^{-1/4}$, because $(L \otimes R)\operatorname{vec}(G) = \operatorname{vec}(L G R)$
for symmetric $R$, with $\operatorname{vec}$ stacking the rows of $G$. So $A^2 + B^2$ numbers stand in for $A^2B^2$.

## Why $-1/4$, and $-1/2$ for one side

Each factor is quadratic in the gradient, and two of them act on it: the fourth roots make the step
$L^{-1/4} G R^{-1/4}$ invariant to a rescaling of all gradients by $c$ ($c^{-1/2} \cdot c \cdot c^{-1/2}
= 1$), just as Adagrad's $g/\sqrt{\sum g^2}$ is. With a single factor the root must be $-1/2$ to keep
that: $L^{-1/2} G$. The paper's general rule, for a tensor of order $k$ with one factor per dimension,
is the root $-1/(2k)$; a vector ($k = 1$) gets full-matrix Adagrad, $H^{-1/2} g$, with $H = \sum_s g_s g_s^\top$.

This class preconditions a matrix from both sides, a vector from its one side, and leaves out a side
longer than `max_precond_dim`, whose factor would be too costly; a matrix left with one side then
takes the root $-1/2$ there. *The paper*'s algorithms precondition every dimension; *Distributed Shampoo* cuts a
large dimension into blocks of at most 1024 and preconditions each block. *We* skip the side, as
[SOAP](soap.html)'s code does, because it keeps the page short, and the root $-1/2$ keeps the step
scale-invariant. A tensor of more than two dimensions (a convolution kernel `[out, in, h, w]`) is
reshaped to the matrix `[out, in·h·w]`; *the paper* would keep one factor per dimension (four here,
each with the root $-1/8$). We reshape because the page is about matrices, and the reshaped kernel is
the matrix a convolution multiplies its unfolded input by.

## Shampoo without accumulation is Muon's step

Bernstein and Newhouse ([Old Optimizer, New Norm](https://arxiv.org/abs/2409.20325)) argue that Adam,
Shampoo and Prodigy, "after switching off exponential moving averages", are each steepest descent under a
particular norm; for Shampoo it is the spectral norm. Here is what Shampoo does when nothing is accumulated
($\beta_2 = 0$) and $\epsilon = 0$. With
$G = U S V^\top$ (reduced SVD), $G G^\top = U S^2 U^\top$ and $G^\top G = V S^2 V^\top$, so

$$(G G^\top)^{-1/4}\, G\, (G^\top G)^{-1/4} = U S^{-1/2}\, S\, S^{-1/2} V^\top = U V^\top,$$

the orthogonalized gradient that [Muon](muon.html) approximates with its Newton–Schulz iteration
(steepest descent under the spectral norm). One side with the root $-1/2$ gives the same:
$(GG^\top)^{-1/2} G = U S^{-1} U^\top U S V^\top = UV^\top$. With $\epsilon > 0$ every singular value
$\sigma$ of $G$ becomes $\sigma / \sqrt{\sigma^2 + \epsilon}$ in both cases (the tests check it), so
$\epsilon$ decides which singular values are still treated as signal. Shampoo with accumulation is
therefore spectral descent with a memory: the factors remember past gradients, and the roots are
taken of that history instead of the current momentum. Keller Jordan's account of Muon's provenance
(the Muon section of the [modded-nanogpt README](https://github.com/KellerJordan/modded-nanogpt#muon-optimizer))
reads it the same way: it credits Bernstein and Newhouse with pointing out that Shampoo without
preconditioner accumulation is steepest descent in the spectral norm, calls Shampoo "a way to smooth out
spectral steepest descent", and Muon "a second way", with other memory and runtime trade-offs.

## $\epsilon$, the update frequency and grafting

* **$\epsilon$** is added to the bias-corrected factor before the root, $(\hat L + \epsilon I)^{-1/4}$:
  the paper's $L_0 = \epsilon I$ when the factors are sums. Early on the factors have rank at most $t$
  times the gradient's rank, and without $\epsilon$ their null space would get an infinite step.
  Distributed Shampoo's default, $10^{-12}$, is small; its README advises it with grafting, which fixes
  the step's size anyway. Like Distributed Shampoo, the root is computed by `eigh` and, should rounding
  leave the smallest eigenvalue of $\hat L + \epsilon I$ below $\epsilon$, the eigenvalues are shifted up
  to it.
* **The update frequency $f$.** The eigendecompositions cost $O(A^3 + B^3)$, far more than the rest of
  the step, so the roots are recomputed only every $f$ steps and reused in between. The factors
  themselves are updated every step. As in Distributed Shampoo, the first roots are computed at the
  step `start_preconditioning_step` (which defaults to $f$) and then at every multiple of $f$ after it.
  Before that step, the grafted direction $D_t$ is the whole step (or $\hat m_t$ itself, SGD, when
  there is no grafting): the factors are still of low rank then.
* **Grafting** (Agarwal, Anil, Hazan, Koren and Zhang, [Learning Rate Grafting: Transferability of
  Optimizer Tuning](https://openreview.net/forum?id=FpKgG31Z_i9), which Distributed Shampoo's README cites) takes the *direction* from Shampoo and the *size* from
  another optimizer, layer by layer: $P_t \lVert D_t \rVert_F / \lVert P_t \rVert_F$. Shampoo's raw step
  size depends on $\epsilon$ and on how much the factors have accumulated, so a learning rate tuned for
  Adam would not transfer; grafted, it does. `grafting="adam"` uses Adam's
  $\hat m_t / (\sqrt{\hat v_t} + \epsilon_g)$ with its own $\beta_g$ and bias correction; `"adagrad"`
  uses $\hat m_t / (\sqrt{\sum_s G_s^2} + \epsilon_g)$; `"none"` uses the raw Shampoo step. As in Distributed Shampoo, the grafted second moment is
  that of the raw gradient and the grafted direction divides the same $\hat m_t$ (its README: "our
  version of grafting only grafts the second moment/diagonal preconditioner").

## Where we differ from Distributed Shampoo

Our update is Distributed Shampoo's with its default `RootInvShampooPreconditionerConfig`, eigendecomposition
roots, `DECOUPLED` weight decay and bias correction (the tests compare the two, transcribed, in float64),
except that:

* a side longer than `max_precond_dim` is skipped, not blocked, and tensors of more than two dimensions
  are reshaped to matrices (see above);
* a parameter is preconditioned in its own shape. Distributed Shampoo first drops dimensions of length 1
  and merges neighbouring dimensions while their product stays within `max_preconditioner_dim`, down to
  a vector by default (`merge_small_dims` with `target_parameter_dimensionality=1`): a $16 \times 6$
  matrix becomes a vector of 96 with one $96 \times 96$ factor, full-matrix Adagrad for the small
  layer. Our tests compare the two on a parameter as it is, which its code calls a block;
* $\beta_1$ is an exponential average only; Distributed Shampoo also offers $\beta_3$, classic momentum
  and iterate averaging;
* the step is computed in the parameter's own dtype: its factors and roots may be kept in float64 or
  computed in float32 for bfloat16 parameters, which this class leaves to the caller.

Shampoo's roots need the whole matrix, so under FSDP2, whose parameters are `DTensor` shards, it refuses
them when the group is added, as [Muon](muon.html) does.
"""

from typing import Any, Optional, Union

import torch
from torch.distributed.tensor import DTensor

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry

GRAFTINGS = ("none", "adagrad", "adam")
# Distributed Shampoo's guard against a zero Shampoo step when grafting divides by its norm
GRAFT_NORM_GUARD = 1e-16


def matrix_view(tensor: torch.Tensor) -> torch.Tensor:
    r"""
    ## The matrix that Shampoo preconditions

    A vector `[n]` is the row `[1, n]`, whose one side of length 1 is not preconditioned; a tensor
    `[A, ...]` of two or more dimensions is the matrix `[A, prod(...)]`.
    """
    return tensor.reshape(1, -1) if tensor.dim() == 1 else tensor.reshape(tensor.shape[0], -1)


def preconditioned_sides(param: torch.Tensor, max_precond_dim: int) -> tuple[bool, bool]:
    r"""
    ## Which sides get a factor

    Returns `(left, right)`: a vector has only its right side; a side longer than `max_precond_dim` has none.
    """
    rows, cols = matrix_view(param).shape
    return (param.dim() > 1 and rows <= max_precond_dim, cols <= max_precond_dim)


def inverse_root(factor: torch.Tensor, eps: float, exponent: float) -> torch.Tensor:
    r"""
    ## $(F + \epsilon I)^{-\text{exponent}}$ of a symmetric positive semi-definite factor $F$

    Distributed Shampoo's eigendecomposition root (`matrix_inverse_root_eigen` with its default perturbation),
    operation for operation.
    """
    identity = torch.eye(factor.shape[0], dtype=factor.dtype, device=factor.device)
    # $F + \epsilon I = Q \operatorname{diag}(\lambda) Q^\top$
    eigenvalues, eigenvectors = torch.linalg.eigh(factor.add(identity, alpha=eps))
    # Rounding can leave $\lambda_{\min} < \epsilon$ (even negative) for a factor of low rank: shift every
    # $\lambda$ by $\epsilon - \lambda_{\min}$, in two additions as Distributed Shampoo does.
    lambda_min = eigenvalues.min().item()
    if lambda_min < eps:
        eigenvalues = eigenvalues + (-lambda_min)
        eigenvalues = eigenvalues + eps
    # $Q \operatorname{diag}(\lambda^{-\text{exponent}}) Q^\top$
    return eigenvectors * eigenvalues.pow(-exponent).unsqueeze(0) @ eigenvectors.T


class Shampoo(GenericAdaptiveOptimizer):
    r"""
    ## Shampoo Optimizer

    $\beta_2 = 1$ is allowed here (the paper's sums), so the betas are checked by this class, not the
    base class, and kept in the group as `beta1` and `beta2`.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 1.0),
        eps: float = 1e-12,
        weight_decay: Union[float, WeightDecay] = 0.0,
        precondition_frequency: int = 1,
        start_preconditioning_step: Optional[int] = None,
        grafting: str = "adam",
        grafting_beta2: float = 0.999,
        grafting_eps: float = 1e-8,
        max_precond_dim: int = 1024,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are Distributed Shampoo's, but for the learning rate and the grafting. Its grafting is none
        by default, and its README grafts from the optimizer it replaces, which here is Adam; so the rate is Adam's
        usual $10^{-3}$ (theirs is $10^{-2}$) and $\epsilon_g$ is Adam's $10^{-8}$, as its README's Adam and AdamW
        examples set it (its `AdamPreconditionerConfig` defaults to $10^{-10}$).

        * `lr` is $\alpha$
        * `betas` is $(\beta_1, \beta_2)$: the gradient's average, and the factors' ($1$ sums them, as the paper)
        * `eps` is $\epsilon$, added to each factor before its root
        * `weight_decay` is $\lambda$ as a number (decoupled), or a `WeightDecay`
        * `precondition_frequency` is $f$, and `start_preconditioning_step` the first step with roots ($f$ if `None`)
        * `grafting` is `"adam"`, `"adagrad"` or `"none"`; `grafting_beta2` and `grafting_eps` are $\beta_g$ and
          $\epsilon_g$ (Adam's only uses $\beta_g$)
        * `max_precond_dim` is the longest side that gets a factor
        * `maximize` climbs the objective instead of descending it
        """
        if not isinstance(weight_decay, WeightDecay):
            weight_decay = WeightDecay(weight_decay, weight_decouple=True)
        if start_preconditioning_step is None:
            start_preconditioning_step = precondition_frequency
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(
            beta1=betas[0],
            beta2=betas[1],
            precondition_frequency=precondition_frequency,
            start_preconditioning_step=start_preconditioning_step,
            grafting=grafting,
            grafting_beta2=grafting_beta2,
            grafting_eps=grafting_eps,
            max_precond_dim=max_precond_dim,
        )
        super().__init__(params, defaults, lr, eps=eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters, and refuse FSDP2's shards
        """
        super().validate_group(group)
        if not 0.0 <= group["beta1"] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {group['beta1']} (must be in [0, 1))")
        if not 0.0 <= group["beta2"] <= 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {group['beta2']} (must be in [0, 1])")
        frequency = group["precondition_frequency"]
        if not (isinstance(frequency, int) and frequency >= 1):
            raise ValueError(f"Invalid precondition_frequency: {frequency} (must be an integer >= 1)")
        start = group["start_preconditioning_step"]
        if not (isinstance(start, int) and start >= frequency):
            raise ValueError(
                f"Invalid start_preconditioning_step: {start} (must be an integer >= precondition_frequency={frequency})"
            )
        if group["grafting"] not in GRAFTINGS:
            raise ValueError(f"Invalid grafting: {group['grafting']!r} (must be one of {GRAFTINGS})")
        if not 0.0 <= group["grafting_beta2"] < 1.0:
            raise ValueError(f"Invalid grafting_beta2: {group['grafting_beta2']} (must be in [0, 1))")
        if not 0.0 <= group["grafting_eps"]:
            raise ValueError(f"Invalid grafting_eps: {group['grafting_eps']} (must be >= 0)")
        if not (isinstance(group["max_precond_dim"], int) and group["max_precond_dim"] >= 1):
            raise ValueError(f"Invalid max_precond_dim: {group['max_precond_dim']} (must be an integer >= 1)")
        for param in group["params"]:
            if torch.is_complex(param):
                raise ValueError("Shampoo does not support complex parameters")
            # The factors need the whole matrix; under FSDP2 a parameter is a `DTensor` of which a rank
            # holds a block of rows.
            if isinstance(param, DTensor):
                raise TypeError(
                    "Shampoo preconditions whole matrices, and this parameter is a DTensor shard (FSDP2): "
                    "train it under DistributedDataParallel or ZeroRedundancyOptimizer, which keep it whole"
                )

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        matrix = matrix_view(param)
        rows, cols = matrix.shape
        left, right = preconditioned_sides(param, group["max_precond_dim"])
        state["step"] = 0
        # $L_0 = 0$, `[A, A]`, and $R_0 = 0$, `[B, B]`, for the sides that get a factor; $\epsilon I$ is added
        # at the root. The roots start as the identity, as in Distributed Shampoo.
        for name, size, used in (("left", rows, left), ("right", cols, right)):
            if used:
                state[f"{name}_factor"] = matrix.new_zeros(size, size)
                state[f"{name}_root"] = torch.eye(size, dtype=param.dtype, device=param.device)
        # $m_0 = 0$, `[A, B]`, only with $\beta_1 > 0$
        if group["beta1"] > 0:
            state["exp_avg"] = torch.zeros_like(matrix)
        # The grafted method's second moment $v_0 = 0$, `[A, B]`
        if group["grafting"] != "none":
            state["grafting_exp_avg_sq"] = torch.zeros_like(matrix)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter

        * `grad` is $G_t$, of the parameter's shape
        """
        state["step"] += 1
        t = state["step"]
        lr = group["lr"]
        beta1, beta2 = group["beta1"], group["beta2"]
        # $W_{t-1} \leftarrow W_{t-1}(1 - \alpha\lambda)$; Distributed Shampoo adds $\lambda W_{t-1}$ to the search
        # direction before multiplying by $\alpha$, which is the same.
        grad = WeightDecay.apply(param, grad, group, lr)
        # $G_t$ as the matrix `[A, B]` (`[1, n]` for a vector)
        g = matrix_view(grad)

        # $L_t \leftarrow \beta_2 L_{t-1} + (1-\beta_2) G_t G_t^\top$ and $R_t \leftarrow \beta_2 R_{t-1} + (1-\beta_2) G_t^\top G_t$;
        # with $\beta_2 = 1$ the outer products are summed.
        weight = 1.0 if beta2 == 1.0 else 1.0 - beta2
        for name, outer in (("left", lambda: g @ g.T), ("right", lambda: g.T @ g)):
            if f"{name}_factor" in state:
                factor = state[f"{name}_factor"]
                if beta2 != 1.0:
                    factor.mul_(beta2)
                factor.add_(outer(), alpha=weight)

        # The grafted method's $v_t$, of the raw $G_t$: Adam's average or Adagrad's sum of $G_t^2$
        grafting = group["grafting"]
        if grafting == "adam":
            state["grafting_exp_avg_sq"].mul_(group["grafting_beta2"]).addcmul_(g, g, value=1 - group["grafting_beta2"])
        elif grafting == "adagrad":
            state["grafting_exp_avg_sq"].addcmul_(g, g)

        # The roots, at step `start` and then every $f$ steps: $(\hat L + \epsilon I)^{-1/4}$ and
        # $(\hat R + \epsilon I)^{-1/4}$, or $-1/2$ for a lone side
        frequency, start = group["precondition_frequency"], group["start_preconditioning_step"]
        if (t % frequency == 0 and t > start) or t == start:
            sides = [name for name in ("left", "right") if f"{name}_factor" in state]
            exponent = 1.0 / (2 * len(sides)) if sides else 0.0
            # $1 - \beta_2^t$, or 1 for sums
            bias_correction2 = 1.0 - beta2**t if beta2 < 1.0 else 1.0
            for name in sides:
                state[f"{name}_root"] = inverse_root(state[f"{name}_factor"] / bias_correction2, group["eps"], exponent)

        # $\hat m_t = m_t / (1 - \beta_1^t)$, or $G_t$ itself with $\beta_1 = 0$
        if beta1 > 0:
            state["exp_avg"].lerp_(g, 1 - beta1)
            m_hat = state["exp_avg"] / (1.0 - beta1**t)
        else:
            m_hat = g

        # $D_t$, the grafted direction
        graft: Optional[torch.Tensor] = None
        if grafting == "adam":
            # $\hat m_t / (\sqrt{v_t / (1 - \beta_g^t)} + \epsilon_g)$
            v_hat = state["grafting_exp_avg_sq"] / (1.0 - group["grafting_beta2"] ** t)
            graft = m_hat / v_hat.sqrt().add_(group["grafting_eps"])
        elif grafting == "adagrad":
            # $\hat m_t / (\sqrt{v_t} + \epsilon_g)$
            graft = m_hat / state["grafting_exp_avg_sq"].sqrt().add_(group["grafting_eps"])

        if t < start and graft is not None:
            # Before the first roots, the grafted method alone
            update = graft
        else:
            # $P_t = L^{-1/4} \hat m_t R^{-1/4}$, `[A, B]` (the identity stands in for a side without a factor,
            # and for the roots before step `start` when there is no grafting)
            update = m_hat
            if "left_root" in state:
                update = state["left_root"] @ update
            if "right_root" in state:
                update = update @ state["right_root"]
            # $P_t \lVert D_t \rVert_F / (\lVert P_t \rVert_F + 10^{-16})$
            if graft is not None:
                update = update * (graft.norm() / (update.norm() + GRAFT_NORM_GUARD))
        # $W_t \leftarrow W_{t-1} - \alpha P_t$
        param.add_(update.view_as(param), alpha=-lr)


# ## Exercises
#
# :::: exercise One step of Shampoo on a rank-one gradient
# Let $G = u v^\top$ with $\lVert u \rVert = a$ and $\lVert v \rVert = b$, $\beta_1 = 0$, $\beta_2 = 1$, $f = 1$ and no
# grafting (the paper's algorithm). What is the first step $L_1^{-1/4} G R_1^{-1/4}$ with the factors $\epsilon I + GG^\top$
# and $\epsilon I + G^\top G$? What is it when $\epsilon \to 0$?
#
# ::: answer
# $GG^\top = b^2 u u^\top$ has the eigenvalue $a^2b^2$ along $u$ and $0$ elsewhere, so $L_1^{-1/4} u =
# (a^2b^2 + \epsilon)^{-1/4} u$; likewise $R_1^{-1/4} v = (a^2b^2 + \epsilon)^{-1/4} v$. The step is
# $G / \sqrt{a^2b^2 + \epsilon}$: the singular value $ab$ of $G$ becomes $ab/\sqrt{a^2b^2 + \epsilon}$, the formula
# of the section on Muon. As $\epsilon \to 0$ the step tends to $\hat u \hat v^\top$, the unit-norm matrix with
# $G$'s singular vectors: $UV^\top$, Muon's step.
# :::
# ::::
#
# :::: exercise What the state costs
# How many numbers of state does this class keep for a $512 \times 64$ matrix with the defaults (Adam grafting,
# $\beta_1 = 0.9$)? How many does Adam keep?
#
# ::: answer
# Two factors and their roots, $2(512^2 + 64^2) = 532{,}480$ numbers, plus $m$ and the grafted $v$, $2 \cdot 512 \cdot 64
# = 65{,}536$: $598{,}016$ in all, 9.1 times Adam's $65{,}536$. The factors grow with the square of each side, so a
# side of the vocabulary's length is usually left out (`max_precond_dim`), or blocked as in Distributed Shampoo.
# :::
# ::::
#
# :::: exercise Scale invariance
# Show that multiplying every gradient by $c > 0$ leaves the paper's step $L_t^{-1/4} G_t R_t^{-1/4}$ unchanged when
# $\epsilon = 0$ (and the factors are invertible), and that the one-sided $L_t^{-1/2} G_t$ is too, but that
# $L_t^{-1/4} G_t$ is not.
#
# ::: answer
# The factors become $c^2 L_t$ and $c^2 R_t$, so their $-1/4$ roots gain $c^{-1/2}$ each: $c^{-1/2} \cdot c \cdot c^{-1/2} =
# 1$. With one factor, $(c^2L_t)^{-1/2} = c^{-1} L_t^{-1/2}$ against the $c$ of the gradient: again 1. With one factor
# at $-1/4$ the step scales by $c^{-1/2} c = c^{1/2}$, which is why a lone side takes the root $-1/2$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. Shampoo takes every parameter: a vector is
# preconditioned by its one factor, a kernel as a matrix. There is no `torch.optim` twin, so the tests compare it
# with two float64 transcriptions instead, of the paper's algorithm and of Distributed Shampoo's step. In the
# experiment it runs at Adam's usual rate, centred on $3 \cdot 10^{-3}$, as its Adam grafting makes it take Adam's
# step sizes, with the roots refreshed every 10 steps (the examples of Distributed Shampoo's README use 100, for
# runs far longer than the 200 and 400 steps here). The tests' arguments use $\epsilon = 10^{-2}$: with
# $10^{-12}$, the factors' near-zero eigenvalues turn the rounding of a gradient summed in another order (two
# processes under `DistributedDataParallel`) into differences of $2 \cdot 10^{-6}$ after 20 steps, which the
# distributed tests, made to catch algorithmic errors at $10^{-12}$, would report.
ENTRY = OptimizerEntry(
    Shampoo,
    paper="https://arxiv.org/abs/1802.09568",
    test_kwargs=dict(lr=1e-2, eps=1e-2, weight_decay=0.01, precondition_frequency=2),
    experiment=ExperimentLine("shampoo", 3e-3, dict(precondition_frequency=10), position=18),
    refuses_fsdp2="Shampoo",
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with Shampoo and Adam grafting, alone: there is no `torch.optim`
# twin, and the tests compare the class with the paper's algorithm and with Distributed Shampoo's step instead.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: Shampoo(params, lr=3e-3, precondition_frequency=10), name="Shampoo")
