# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: LARS and LAMB
summary: Annotated PyTorch implementations of LARS and LAMB, which scale each layer's step by a trust ratio of the layer's weight norm to its update norm, with every point where the papers and the maintained implementations disagree made a switch, and tests against a transcription of timm's code.
paper_title: Large Batch Training of Convolutional Networks
paper_authors: Yang You, Igor Gitman and Boris Ginsburg
paper_year: 2017
paper_type: misc
paper_arxiv: 1708.03888
paper_arxiv_class: cs.CV
paper2_title: "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes"
paper2_authors: Yang You, Jing Li, Sashank Reddi, Jonathan Hseu, Sanjiv Kumar, Srinadh Bhojanapalli, Xiaodan Song, James Demmel, Kurt Keutzer and Cho-Jui Hsieh
paper2_year: 2020
paper2_type: inproceedings
paper2_venue: International Conference on Learning Representations (ICLR 2020)
paper2_arxiv: 1904.00962
paper2_arxiv_class: cs.LG
---

# LARS and LAMB: layer-wise trust ratios

This page implements two optimizers that give every *layer* (every parameter tensor) its own step
size, the ratio of the size of its weights to the size of its update:

* *LARS*, layer-wise adaptive rate scaling, from
  [Large Batch Training of Convolutional Networks](https://arxiv.org/abs/1708.03888) by You, Gitman and
  Ginsburg (arXiv 1708.03888, 2017), is [SGD with momentum](sgd.html) with that ratio;
* *LAMB*, layer-wise adaptive moments for batch training, from
  [Large Batch Optimization for Deep Learning: Training BERT in 76 minutes](https://arxiv.org/abs/1904.00962)
  by You et al. (ICLR 2020, arXiv 1904.00962), is [Adam](adam.html) with it.

Both are built on the `GenericAdaptiveOptimizer` of the [chapter's index page](index.html). They
assume the SGD and Adam pages, and the reason for them is the batch size: a large batch is trained
with a proportionally larger learning rate ([Goyal et al., 2017](https://arxiv.org/abs/1706.02677)),
and with one rate for all layers, the layer whose update is largest compared with its weights
diverges first. The LARS paper measured the ratio of weight norm to gradient norm for the layers of
AlexNet and found it to differ by orders of magnitude between layers; LARS then sets each layer's
step so that $\lVert\text{step}\rVert / \lVert w\rVert$ is about the same for all.

With $w = \theta^{(l)}$ one layer's parameters (the notation of the chapter, with $\lVert\cdot\rVert$ the
Euclidean norm of the whole tensor), LARS (Algorithm 1 of the 2017 paper) is

\begin{align}
\rho_t &\leftarrow \eta \frac{\lVert \theta_{t-1} \rVert}{\lVert g_t \rVert + \lambda \lVert \theta_{t-1} \rVert} \\
b_t &\leftarrow \mu b_{t-1} + \rho_t (g_t + \lambda \theta_{t-1}) \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t b_t
\end{align}

and LAMB (Algorithm 2 of the ICLR paper) is

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
r_t &\leftarrow \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}, \qquad u_t \leftarrow r_t + \lambda \theta_{t-1} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \frac{\phi(\lVert \theta_{t-1} \rVert)}{\lVert u_t \rVert} u_t
\end{align}

with Adam's bias-corrected $\hat m_t = m_t / (1 - \beta_1^t)$, $\hat v_t = v_t / (1 - \beta_2^t)$.

*Notation.* The chapter's symbols throughout: the papers' $\gamma$ (LARS) and $\eta_t$ (LAMB) are our
$\alpha_t$, LARS's weight decay $\beta$ and momentum $m$ are our $\lambda$ and $\mu$, and the *trust
coefficient* keeps LARS's $\eta$. The trust ratio, $\lambda^l$ in the LARS paper, is $\rho_t$ here
(as in [Sophia](sophia.html), $\rho$ is a page's own scale).

## What the ratio does

Without momentum a LARS step moves a layer by
$\alpha\rho_t\lVert g_t + \lambda\theta_{t-1}\rVert \le \alpha\eta\lVert\theta_{t-1}\rVert$ (the
triangle inequality): the step is at most a fraction $\alpha\eta$ of the layer's norm, whatever the
size of its gradient, and exactly that fraction when $g_t$ points along $\theta_{t-1}$. A LAMB step
moves each layer by exactly $\alpha_t\phi(\lVert\theta_{t-1}\rVert)$, a fraction $\alpha_t$ of its norm
when $\phi$ is the identity. The gradient chooses only the *direction*, per layer; its size is gone.
So a layer whose gradients are a thousand times smaller than another's takes the same relative step,
and a gradient that explodes in one layer cannot throw that layer far.

## Where the papers and the implementations disagree

Each point is a switch of the classes below; the defaults follow the papers, except where noted.

* **A norm that is zero.** The formulas divide by $\lVert u_t\rVert$ (or by
  $\lVert g_t\rVert + \lambda\lVert\theta\rVert$) and multiply by $\lVert\theta\rVert$. A layer
  initialised to zero (biases usually are) then has ratio $0$ and never moves, and a zero gradient
  without decay divides $0$ by $0$. The papers say nothing of either. The LAMB that the ICLR paper
  links to, in
  [TensorFlow Addons](https://github.com/tensorflow/addons/blob/master/tensorflow_addons/optimizers/lamb.py),
  and [timm](https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/lamb.py)'s
  LAMB and [LARS](https://github.com/huggingface/pytorch-image-models/blob/main/timm/optim/lars.py) set
  the ratio to $1$ when either norm is zero, and so do we. For LARS that $1$ is not the trust
  coefficient: the first step of a zero layer is $1/(\alpha\eta)$ times larger than its next ones (the
  first exercise). [cybertronai's pytorch-lamb](https://github.com/cybertronai/pytorch-lamb), an early
  PyTorch port, has no guard and gives NaN.
* **Which parameters are adapted and decayed.** The algorithms adapt and decay every layer. In
  practice the one-dimensional parameters (biases, BatchNorm and LayerNorm gains) are left out of
  both: BERT's own optimizer (`AdamWeightDecayOptimizer` in google-research/bert) is built with
  `exclude_from_weight_decay=["LayerNorm", "layer_norm", "bias"]`, and TensorFlow Addons' LAMB takes
  such a list and uses it for the adaptation too, unless given a second one. timm ties the
  two together (a group with no weight decay is not adapted unless `always_adapt=True`);
  [pytorch-optimizer](https://pypi.org/project/pytorch-optimizer/)'s LARS leaves every tensor with
  fewer than two dimensions out. Here each group has its own `adapt` switch and `weight_decay`, and
  `exclude_vectors=True` leaves out the tensors with fewer than two dimensions, by shape, since an
  optimizer does not know names.
* **LAMB's bias correction.** The ICLR version's Algorithm 2 divides by $1 - \beta_1^t$ and
  $1 - \beta_2^t$; the early arXiv versions did not ("Paper v3 does not use debiasing", says
  cybertronai's code, which follows v3, and the pytorch-optimizer package still defaults to none).
  `bias_correction=True` is the default, as in TensorFlow Addons and timm. With no weight decay and
  $\epsilon \to 0$ the correction changes nothing, because the trust ratio divides out the size of
  $r_t$; the second exercise shows what it does change.
* **The scaling function $\phi$.** LAMB's convergence proof needs
  $\gamma_l \le \phi(z) \le \gamma_u$, and the paper suggests $\phi(z) = \min(\max(z, \gamma_l), \gamma_u)$;
  TensorFlow Addons and timm use the identity, and pytorch-optimizer clamps $\lVert\theta\rVert$
  at $10$ (its class attribute `clamp`). We take `phi_bounds=(γ_l, γ_u)`, by default
  $(0, \infty)$, the identity. The zero guard above looks at the unclipped norm, as TensorFlow Addons' does.
* **Trust ratio before or after the momentum.** The 2017 paper scales the gradient and then
  accumulates it ($b_t$ above), as do NVIDIA's apex LARC and timm. The ICLR paper's own statement of LARS
  (its Algorithm 1) does the reverse: it averages $g_t + \lambda\theta$ into $m_t$ and then scales $m_t$
  by $\phi(\lVert\theta\rVert)/\lVert m_t\rVert$. `ratio_after_momentum=True` gives that form (with
  $\eta\lVert\theta\rVert$ in the place of $\phi$, and without the $(1 - \beta_1)$, which the ratio
  divides out). The two differ: after the momentum, every step has norm exactly $\alpha\eta\lVert\theta\rVert$.
* **Where the learning rate sits in LARS's momentum.** The 2017 paper puts $\gamma_{t+1}$ inside
  the velocity, $v_{t+1} = m v_t + \gamma_{t+1}\lambda^l(g_t + \beta w_t)$; like `torch.optim.SGD`,
  timm and the chapter's [SGD](sgd.html), we keep the rate out of the buffer. The two agree under a
  constant rate; under a schedule, the paper's form lets a change of rate reach the step gradually.
* **LARC's clipping.** NVIDIA's apex `LARC` (and timm's `trust_clip`) multiplies the gradient by
  $\min(\rho_t/\alpha, 1)$ instead of $\rho_t$, so that the layer's rate $\alpha\min(\rho_t/\alpha, 1) = \min(\rho_t, \alpha)$
  is never above the global rate. `clip=True` does that.
* **What we leave out.** NVIDIA's LAMB for BERT (apex `FusedLAMB`, and timm's default
  `max_grad_norm=1.0`) first divides all gradients by their global norm when it is above 1, which is
  [gradient clipping](gradient_clipping.html) and not in the paper; LARS with Nesterov momentum, and
  LAMB's "LAMBC" clip of the ratio at 1, are not here either.

An $\epsilon$ in LARS's denominator is common (timm's $10^{-8}$, apex's $10^{-8}$); the paper has
none, and with the zero guard none is needed, so our default is $0$.

## Checked against

`tests/optimizers/test_lars_lamb.py` compares both classes in float64, step by step on the same
gradients, with a line-by-line transcription of timm's `Lars` and `Lamb`
(`timm/optim/lars.py` and `timm/optim/lamb.py` at commit `aa4b585` of huggingface/pytorch-image-models);
timm itself is not a test dependency, since it pulls in torchvision. Our classes run timm's operations
in timm's order, so after 100 steps with momentum, weight decay and LARC's clip (LARS), and with weight
decay and bias correction (LAMB), the largest difference is $0$: the parameters are bit-identical (the
test's bound, derived in `tests/optimizers/common.py` for any two correct roundings, is
$1.9 \times 10^{-12}$). The same tests compare `bias_correction=False` with a transcription of
cybertronai's LAMB (arXiv v3), and `ratio_after_momentum=True` with the ICLR paper's Algorithm 1.
"""

import math
from typing import Any, Optional

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry


def trust_ratio(numerator: torch.Tensor, denominator: torch.Tensor, weight_norm: torch.Tensor) -> torch.Tensor:
    r"""
    ## The trust ratio, with the guard for zero norms

    `numerator / denominator`, except $1$ where the layer's weight norm or `denominator` is zero, as
    TensorFlow Addons and timm do. All three are 0-dimensional tensors; nothing leaves the device.
    """
    guarded = (weight_norm > 0) & (denominator > 0)
    # The division is computed everywhere and discarded where the guard fails (a 0/0 there is harmless)
    return torch.where(guarded, numerator / denominator, torch.ones_like(numerator))


def is_adapted(group: Group, param: torch.Tensor) -> bool:
    r"""
    ## Whether a parameter gets the trust ratio and the weight decay

    A group's `adapt` switch, and with `exclude_vectors` only tensors of two or more dimensions
    (biases, norm gains and scalars are left out).
    """
    return group["adapt"] and not (group["exclude_vectors"] and param.dim() < 2)


class LARS(GenericAdaptiveOptimizer):
    r"""
    ## LARS
    """

    def __init__(
        self,
        params: Params,
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 1e-3,
        eps: float = 0.0,
        clip: bool = False,
        ratio_after_momentum: bool = False,
        adapt: bool = True,
        exclude_vectors: bool = False,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `lr` is $\alpha$; each layer's step is about $\alpha\eta$ of its norm, so with the paper's
          $\eta = 0.001$ the rates are of order 1 and more (timm's default is $\alpha = 1$)
        * `momentum` is $\mu$ (the buffer sums, as in [SGD](sgd.html); no dampening)
        * `weight_decay` is the paper's L2 decay $\lambda$: it enters both the direction and the
          ratio's denominator, so it is a number here and not a `WeightDecay`
        * `trust_coefficient` is $\eta$, the paper's $0.001$
        * `eps` is added to the ratio's denominator (timm's and apex's $10^{-8}$; the paper's $0$)
        * `clip` is apex LARC's clip of the layer's rate at $\alpha$
        * `ratio_after_momentum` scales the momentum instead of the gradient (the ICLR paper's LARS)
        * `adapt` and `exclude_vectors` choose the parameters that get the ratio and the decay; the
          others take plain momentum SGD steps
        """
        defaults = dict(defaults or {})
        defaults.update(
            momentum=momentum,
            weight_decay=weight_decay,
            trust_coefficient=trust_coefficient,
            clip=clip,
            ratio_after_momentum=ratio_after_momentum,
            adapt=adapt,
            exclude_vectors=exclude_vectors,
        )
        super().__init__(params, defaults, lr, eps=eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (must be in [0, 1))")
        if not 0.0 < group["trust_coefficient"]:
            raise ValueError(f"Invalid trust_coefficient: {group['trust_coefficient']} (must be > 0)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        state["step"] = 0
        # The momentum buffer $b$, kept even when $\mu = 0$ so that a group may switch momentum on later
        state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor
        """
        lr, mu, eta = group["lr"], group["momentum"], group["trust_coefficient"]
        adapted = is_adapted(group, param)
        weight_decay = group["weight_decay"] if adapted else 0.0
        b = state["momentum_buffer"]
        state["step"] += 1

        # $d_t = g_t + \lambda\theta_{t-1}$, a new tensor, so that `param.grad` is not changed
        d = grad.add(param, alpha=weight_decay) if weight_decay else grad.clone()

        # The 2017 paper: $\rho_t = \eta\lVert\theta\rVert / (\lVert g_t\rVert + \lambda\lVert\theta\rVert + \epsilon)$,
        # applied to $d_t$ before it enters the buffer
        if adapted and not group["ratio_after_momentum"]:
            w_norm = torch.linalg.vector_norm(param)
            g_norm = torch.linalg.vector_norm(grad)
            rho = trust_ratio(eta * w_norm, g_norm + weight_decay * w_norm + group["eps"], w_norm)
            d.mul_(self.clipped(rho, lr, group))

        # $b_t = \mu b_{t-1} + d_t$; on the first step $b_1 = d_1$, since $b_0 = 0$
        if mu:
            b.mul_(mu).add_(d)
            d = b.clone() if adapted and group["ratio_after_momentum"] else b

        # The ICLR paper's LARS: $\rho_t = \eta\lVert\theta\rVert / \lVert b_t\rVert$ scales the step, not the buffer
        if adapted and group["ratio_after_momentum"]:
            w_norm = torch.linalg.vector_norm(param)
            rho = trust_ratio(eta * w_norm, torch.linalg.vector_norm(d) + group["eps"], w_norm)
            d.mul_(self.clipped(rho, lr, group))

        # $\theta_t = \theta_{t-1} - \alpha_t d_t$
        param.add_(d, alpha=-lr)

    @staticmethod
    def clipped(rho: torch.Tensor, lr: float, group: Group) -> torch.Tensor:
        r"""
        ### LARC's clip

        apex multiplies the gradient by $\min(\rho_t / \alpha, 1)$, so the layer's rate is
        $\min(\rho_t, \alpha)$. A rate of $0$ leaves nothing to clip.
        """
        if not group["clip"] or lr == 0:
            return rho
        return torch.clamp(rho / lr, max=1.0)


class LAMB(GenericAdaptiveOptimizer):
    r"""
    ## LAMB
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        bias_correction: bool = True,
        phi_bounds: tuple[float, float] = (0.0, math.inf),
        adapt: bool = True,
        exclude_vectors: bool = False,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `lr` is $\alpha$, the fraction of its norm that each adapted layer moves per step
        * `betas` and `eps` are Adam's; $\epsilon = 10^{-6}$ is TensorFlow Addons' and timm's default
        * `weight_decay` is $\lambda$, added to $r_t$ before the ratio, as in the paper: decoupled
          from the moments, like [AdamW](adamw.html)'s, but scaled by the trust ratio with the rest
        * `bias_correction` chooses the ICLR version (`True`) or the early arXiv versions
        * `phi_bounds` is $(\gamma_l, \gamma_u)$ of $\phi(z) = \min(\max(z, \gamma_l), \gamma_u)$
        * `adapt` and `exclude_vectors` as for LARS; a parameter left out takes Adam's step
          $\alpha r_t$, with no decay
        """
        defaults = dict(defaults or {})
        defaults.update(
            weight_decay=weight_decay,
            bias_correction=bias_correction,
            phi_bounds=tuple(phi_bounds),
            adapt=adapt,
            exclude_vectors=exclude_vectors,
        )
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        low, high = group["phi_bounds"]
        if not 0.0 <= low <= high:
            raise ValueError(f"Invalid phi_bounds: {group['phi_bounds']} (must be 0 <= low <= high)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor
        """
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        t = state["step"]

        # $m_t$ and $v_t$, as in Adam
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

        # $r_t = \hat m_t / (\sqrt{\hat v_t} + \epsilon)$, with $1 - \beta^t$ replaced by $1$ without bias correction
        correction1 = 1 - beta1**t if group["bias_correction"] else 1.0
        correction2 = 1 - beta2**t if group["bias_correction"] else 1.0
        denominator = (v.sqrt() / math.sqrt(correction2)).add_(group["eps"])
        u = (m / correction1).div_(denominator)

        if not is_adapted(group, param):
            # $\theta_t = \theta_{t-1} - \alpha_t r_t$: Adam's step
            param.add_(u, alpha=-lr)
            return

        # $u_t = r_t + \lambda\theta_{t-1}$
        if group["weight_decay"]:
            u.add_(param, alpha=group["weight_decay"])
        # $\rho_t = \phi(\lVert\theta_{t-1}\rVert) / \lVert u_t\rVert$, or $1$ if either norm is zero
        w_norm = torch.linalg.vector_norm(param)
        low, high = group["phi_bounds"]
        phi = w_norm.clamp(min=low, max=high) if (low, high) != (0.0, math.inf) else w_norm
        rho = trust_ratio(phi, torch.linalg.vector_norm(u), w_norm)
        # $\theta_t = \theta_{t-1} - \alpha_t \rho_t u_t$
        param.add_(u.mul_(rho), alpha=-lr)


def vectors_left_out(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    r"""
    ## Parameter groups as large-batch training uses them

    Matrices and convolution kernels with `weight_decay` and the trust ratio; biases and norm gains
    without either. The same as `exclude_vectors=True`, written as groups, for code that builds its
    groups itself.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, "adapt": False},
    ]


# ## Exercises
#
# :::: exercise The first step of a layer of zeros
# A bias starts at $0$ and gets the same gradient $g \ne 0$ on every step. LARS runs with $\alpha = 1$ (timm's default),
# $\eta = 10^{-3}$, no momentum and no decay. How far does it move on step 1 and on step 2? What would the 2017 paper's
# formula, without the guard, do?
#
# ::: answer
# On step 1 $\lVert\theta_0\rVert = 0$, so the guard sets $\rho_1 = 1$ and the bias moves by $\alpha\lVert g\rVert$:
# a plain SGD step. On step 2, $\rho_2 = \eta\lVert\theta_1\rVert/\lVert g\rVert = \eta\alpha$, and the step is
# $\alpha\rho_2\lVert g\rVert = \alpha^2\eta\lVert g\rVert$: $1/(\alpha\eta) = 1000$ times smaller than the first. Without
# the guard $\rho_1 = 0$ and the bias never moves; and the ratio to the next step shows why practice leaves biases out
# of the adaptation (`exclude_vectors=True`) rather than trust the guard.
# :::
# ::::
#
# :::: exercise What bias correction changes in LAMB
# Show that with $\lambda = 0$ and $\epsilon = 0$ a LAMB step does not depend on the bias correction. Then take one
# coordinate-wise step 1 with $\lambda = 0.01$, $\beta = (0.9, 0.999)$, $\epsilon = 0$, $\theta_0 = (3, 4)$ and
# $g_1 = (1, -2)$: what is $u_1$ with and without the correction, and how far apart are the two $\theta_1$ for $\alpha = 0.1$?
#
# ::: answer
# The correction multiplies $r_t$ by $c_t = \sqrt{1-\beta_2^t}/(1-\beta_1^t) > 0$, and the step
# $\alpha\lVert\theta\rVert\, u_t/\lVert u_t\rVert$ does not change when $u_t = r_t$ is scaled. With decay it
# changes the mix of $r_t$ and $\lambda\theta$: on step 1, $r_1 = \operatorname{sign}(g_1) = (1, -1)$ corrected, and
# $(1-\beta_1)/\sqrt{1-\beta_2} = 3.162$ times that uncorrected. So $u_1 = (1.03, -0.96)$ corrected and
# $(3.192, -3.122)$ uncorrected; both steps have length $\alpha\lVert\theta_0\rVert = 0.5$, and the two $\theta_1$
# are $0.012$ apart (the uncorrected step is the less decayed, its $r_1$ being the larger part of $u_1$).
# :::
# ::::
#
# :::: exercise Before or after the momentum
# A layer with $\theta = (1, 0)$ gets $g_1 = (1, 0)$ and then $g_2 = (0, 1)$; LARS with $\mu = 0.9$, $\eta = 1$,
# $\alpha = 0.1$ and no decay. Compare the length of step 2 with the ratio before the momentum (the 2017 paper) and after
# it (`ratio_after_momentum=True`).
#
# ::: answer
# Before: each gradient is scaled to length $\eta\lVert\theta\rVert$ and summed, $b_2 = 0.9\,\rho_1 g_1 + \rho_2 g_2$,
# with $\rho_1 = 1$ and $\rho_2 = \lVert\theta_1\rVert = 0.9$: $b_2 = (0.9, 0.9)$, a step of
# $0.1\cdot 1.273 = 0.127$. After: the step always has length $\alpha\eta\lVert\theta_1\rVert = 0.09$, whatever the
# buffer holds. Scaling before the momentum lets consistent gradients add up to about $1/(1-\mu)$ times the
# ratio's step; scaling after makes the momentum choose only the direction.
# :::
# ::::


# ## Registry entries
#
# What the chapter's [registry](registry.html) knows of this page. `torch.optim` has neither optimizer; the tests compare
# them with a transcription of timm's code instead.
#
# The experiment leaves the biases and LayerNorm gains out of both (`exclude_vectors=True`), as every large-batch recipe
# does, so that they take the plain momentum SGD or Adam step of the line's rate. LARS's centre rate is $0.1$, the
# momentum SGD line's, which the left-out vectors then get; with $\eta = 10^{-2}$ the adapted layers move by
# $\alpha\eta = 10^{-3}$ of their norm per step before the momentum, about $10^{-2}$ with it. The paper's
# $\eta = 10^{-3}$ goes with rates of order 1 and more; at $0.1$ it would leave the layers almost still for the few
# hundred steps of the experiment. LAMB's centre rate is $10^{-2}$: each adapted layer moves by $1\%$ of its norm per
# step, what Adam at $10^{-3}$ does to a layer whose weights are of size $0.1$, and the left-out vectors get Adam
# steps at the top of Adam's sweep. The
# decay $\lambda = 0.01$ is BERT's with LAMB.
ENTRY = OptimizerEntry(
    LARS,
    paper="https://arxiv.org/abs/1708.03888",
    test_kwargs=dict(lr=0.5, momentum=0.9, weight_decay=1e-3, trust_coefficient=1e-2, clip=True),
    experiment=ExperimentLine("lars", 0.1, dict(trust_coefficient=1e-2, exclude_vectors=True), position=16),
)

LAMB_ENTRY = OptimizerEntry(
    LAMB,
    paper="https://arxiv.org/abs/1904.00962",
    test_kwargs=dict(lr=1e-2, weight_decay=0.01),
    experiment=ExperimentLine("lamb", 1e-2, dict(weight_decay=0.01, exclude_vectors=True), position=17),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's LAMB. PyTorch has neither optimizer, so it trains
# alone.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: LAMB(params, lr=1e-2), name="LAMB")
