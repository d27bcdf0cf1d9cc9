# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Optimizers
summary: Annotated PyTorch implementations of optimizers as a course, from SGD and Adagrad through Adam and its family to Schedule-Free AdamW and Muon, built on one small base class.
---

# Optimizers

An optimizer turns gradients into parameter updates. Plain stochastic gradient descent
moves every parameter by the same multiple of its gradient,
$\theta_t = \theta_{t-1} - \alpha g_t$. An *adaptive* optimizer keeps a little state per
parameter, usually running averages of the gradient and of its square, and uses it
to give each coordinate its own step size. Coordinates whose gradients are large and
noisy take smaller steps; coordinates with small, consistent gradients take larger ones.

## Pages in this chapter, as a course

The pages are ordered the way a course meets them: each part needs only the parts before it,
and the line for each page says what it assumes. Read in this order, the chapter goes from
the gradient step to the optimizers that large models are trained with today.

**1. Foundations.** One step size for all coordinates, then one per coordinate.

* [SGD with momentum](sgd.html) assumes gradients and the chain rule, nothing else; its companion
  [momentum on a quadratic](momentum_quadratic.html) assumes eigenvalues of a symmetric matrix.
* [Adagrad](adagrad.html) assumes SGD; it introduces the per-coordinate step size.
* [RMSProp](rmsprop.html) assumes Adagrad and an exponential moving average; it ends by building Adam from RMSProp.
* [What convergence theorems promise](convergence.html) assumes convexity, an expectation and the quadratic of
  the momentum page; it measures gradient descent's $O(1/T)$ and $(1-1/\kappa)^t$, SGD's $O(1/\sqrt{T})$ and online
  gradient descent's $O(\sqrt{T})$ regret, and says what the theorems the later pages quote assume.

**2. Adam and its variants.** Each assumes the [Adam](adam.html) page and changes one of its lines.

* [Adam](adam.html) assumes RMSProp and SGD's momentum; it adds bias correction.
* [AdamW](adamw.html) assumes Adam and L2 regularization; it decouples the decay.
* [AMSGrad](amsgrad.html) assumes Adam; its [counter-example](amsgrad_counterexample.html) assumes online convex optimization (regret).
* [Adam with warm-up](adam_warmup.html) assumes Adam; it is here, before RAdam, because RAdam is motivated as replacing it.
* [RAdam](radam.html) assumes Adam and the mean and variance of a random variable; [the variance of the adaptive rate](radam_variance.html) is its plot.
* [AdaBelief](ada_belief.html) assumes Adam (and RAdam for its rectified default).
* [NAdam](nadam.html) assumes Adam and SGD's Nesterov momentum.
* [Lion](lion.html) assumes Adam; it drops the second moment for a sign.

**3. Schedules.** They assume Adam and change only $\alpha_t$, until the last one, which removes the schedule.

* [Warm-up and cosine decay](adam_warmup_cosine_decay.html) and [Noam](noam.html) assume Adam and
  [Adam with warm-up](adam_warmup.html); [learning-rate schedules](lr_schedules.html) plots them.
* [Schedule-Free AdamW](schedule_free.html) assumes AdamW and a schedule's purpose; it replaces the schedule by an average of the iterates.
* [Learning rate and batch size](lr_batch_size.html) assumes SGD's momentum, Adam, warm-up and the variance of a
  mean; it sets the linear rule with warm-up, the square-root rule and the critical batch size against the
  experiment's digits at five batch sizes.

**4. Second-order-flavoured.** They use curvature or geometry instead of only the gradient's size.

* [Sophia](sophia.html) assumes Adam, the Hessian and clipping.
* [Muon](muon.html) assumes SGD's momentum and the singular value decomposition.
* [Shampoo](shampoo.html) assumes Adagrad, Adam and Muon, and eigendecompositions of symmetric matrices; it
  preconditions a matrix's gradient from both sides by roots of two Kronecker factors, and without
  accumulation gives Muon's orthogonalized step.
* [SOAP](soap.html) assumes Shampoo and Adam; it runs Adam in Shampoo's eigenbasis.

**5. Memory-saving.**

* [Adafactor](adafactor.html) assumes Adam and rank-one matrix factorization.
* [Mixed precision](mixed_precision.html) assumes Adam and floating-point formats (float16, bfloat16).

**6. Speed.**

* [FusedAdam](fused_adam.html) assumes Adam and the memory hierarchy of a CPU or GPU.

**7. Around the optimizer.**

* [Gradient clipping](gradient_clipping.html) assumes SGD, [Adam](adam.html) and mixed precision's loss
  scaling; it clips the gradient by its global norm or by value, between the backward pass and the
  optimizer, and says where clipping goes in a `GradScaler` step.

**8. Large batches.** One step size per layer, from the ratio of the layer's weight norm to its update's.

* [LARS and LAMB](lars_lamb.html) assume SGD's momentum, Adam and a learning rate scaled up with the batch size;
  LARS scales each layer's momentum SGD step, LAMB each layer's Adam step, by that trust ratio.

**Side by side.**

* [Try it](try_it.html) is the demo that ends every optimizer page: the page's optimizer trains a small model for 100 steps, beside `torch.optim`'s (or the authors') same algorithm where one exists, on the same gradients in float64, and the largest parameter difference is printed.
* [The training example](train_example.html) assumes any page above; it trains a small model with any optimizer of the chapter, chosen by name.
* [Which optimizer when](choosing.html) assumes the pages above and the experiment: what to choose for a new run, and at what rate relative to AdamW.
* [The optimizers on real data](experiment.html) assumes the training example: nineteen of the chapter's optimizers and `torch.optim.AdamW`, tuned with the same learning-rate sweep, on 8×8 digits and on Python's help text, with three seeds. It leaves out Sophia, mixed precision, warm-up on its own and Noam.

**What the experiment found, and its limits.** On 8×8 digits (a CNN) and Python's help text (a small
transformer), with a few hundred steps, small batches, constant rates (but for AdamW with warm-up
and cosine decay, and Schedule-Free AdamW) and three seeds, most optimizers are within seed noise
of each other. Two results stand out, both on the text: SOAP, 0.30 bits per character ahead of
Adam, and Muon, 0.13 bits ahead, each of their seeds ahead of every seed of every line below them.
SOAP ran with its authors' $\beta_2 = 0.95$ against Adam's $0.999$, and only the rate was tuned, so
how much of its lead is the eigenbasis is not known. The Adam family is forgiving of the learning
rate and never diverged; momentum SGD and RMSProp are within the noise on the CNN and fall behind
on the transformer; Lion wants a rate 3 to 10 times below Adam's; RAdam and AdaBelief are slowed by
their rectification in runs this short. LARS and LAMB, made for batches of thousands, are behind
momentum SGD and Adam, their updates without the trust ratio, on every seed of both tasks at these
batches of 64 and 16, and LARS is last on both. Schedule-Free AdamW beat AdamW with warm-up and cosine
decay on the text and lost to it on the digits, on every seed both times, and the cosine decay
left AdamW 0.09 bits behind its constant rate on the text's 200 steps, a run too short to show what
a decay is for. Two small tasks cannot confirm or refute claims made at scale, and Sophia was left
out; see [the experiment](experiment.html) for the numbers and [which optimizer when](choosing.html)
for what to do with them.

### Notation

The pages use these symbols. Where a page keeps a paper's symbol, the last column names it, and the
page says so in one line near its top, with the reason.

| Symbol | Meaning | Where a page keeps another symbol |
|---|---|---|
| $\theta_t$, $g_t$ | parameters after step $t$; the gradient at step $t$ | |
| $t$, $T$, $w$ | the step (from 1), the planned number of steps, the warm-up length | |
| $\alpha$, $\alpha_t$ | the learning rate, and the rate in effect at step $t$ | [Schedule-Free](schedule_free.html): $\gamma$; [Adagrad](adagrad.html): $\eta_t$ after its decay; [AdamW](adamw.html): $\eta_t$ is the paper's schedule multiplier |
| $\beta_1$, $\beta_2$ | decay rates of the averages $m_t$ and $v_t$ (a weighted *mean*) | [RMSProp](rmsprop.html): $\beta$, its only decay rate |
| $\mu$, $b_t$ | momentum coefficient and buffer of a *sum* of gradients (SGD, heavy ball, RMSProp, Muon) | [NAdam](nadam.html): $\mu_t$ is the paper's momentum schedule |
| $m_t$, $v_t$, $\hat m_t$, $\hat v_t$ | first and second moments, and their bias-corrected forms | |
| $\epsilon$ | the constant added to a denominator | |
| $\lambda$ | weight decay | |
| $\rho_t$, $r_t$, $\psi_t$ | RAdam's average length, rectification and adaptive rate (the paper's) | [Sophia](sophia.html): $\rho$ is the clip scale; [Adafactor](adafactor.html): $\rho_t$ is the relative step; [NAdam](nadam.html): $\psi$ is the momentum decay; [momentum on a quadratic](momentum_quadratic.html): $\rho$ is a contraction rate; [LARS and LAMB](lars_lamb.html): $\rho_t$ is the trust ratio, and LARS keeps its $\eta$ for the trust coefficient |
| $\kappa$, $L$, $m$ | condition number, largest and smallest curvature of a quadratic | [Shampoo](shampoo.html) and [SOAP](soap.html): $L$, $R$ are the papers' left and right Kronecker factors, $\beta_2$ also averages them |

### Comparison

State memory counts the extra tensors the optimizer keeps per parameter tensor, in units of the
parameter's own size ($n$ elements; $n_r + n_c$ for the row and column averages of an
$n_r \times n_c$ matrix). Every class with an `amsgrad` switch keeps one more tensor,
$\max_{\tau \le t} v_\tau$, when it is on. Every class takes `maximize=True`, as `torch.optim` does.

| Optimizer | Paper | State per parameter | What it changes relative to Adam |
|---|---|---|---|
| [SGD](sgd.html) | Robbins & Monro, [1951](https://doi.org/10.1214/aoms/1177729586); Polyak, [1964](https://doi.org/10.1016/0041-5553(64)90137-5) | $0$, or $n$ with momentum ($b$) | no second moment and no bias correction: one step size for every coordinate, momentum as a sum of raw gradients |
| [Adagrad](adagrad.html) | Duchi, Hazan & Singer, [2011](https://jmlr.org/papers/v12/duchi11a.html) | $n$ ($G$) | divides by the root of the *sum* of all past $g_t^2$ instead of an average, so the step size only falls; no momentum |
| [RMSProp](rmsprop.html) | Tieleman & Hinton, [2012](https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf) | $n$ ($v$), $+n$ centered, $+n$ with momentum | Adam's $v_t$ without bias correction; momentum, if any, sums normalized steps instead of averaging gradients |
| [Adam](adam.html) | Kingma & Ba, [2014](https://arxiv.org/abs/1412.6980) | $2n$ ($m$, $v$) | the reference point: bias-corrected first and second moments |
| [AdamW](adamw.html) | Loshchilov & Hutter, [2019](https://arxiv.org/abs/1711.05101) | $2n$ | weight decay $\theta(1-\alpha_t\lambda)$ outside the adaptive step instead of L2 in the gradient |
| [AMSGrad](amsgrad.html) | Reddi, Kale & Kumar, [2018](https://arxiv.org/abs/1904.09237) | $3n$ ($m$, $v$, $v_{\max}$) | divides by the running maximum of $v_t$, so a large gradient is never forgotten (with the bias correction, the step size can still grow, by up to $1/\sqrt{1-\beta_2}$) |
| [RAdam](radam.html) | Liu et al., [2020](https://arxiv.org/abs/1908.03265) | $2n$ | momentum SGD while $\rho_t \le 5$, then the adaptive step times the rectification $r_t$ |
| [AdaBelief](ada_belief.html) | Zhuang et al., [2020](https://arxiv.org/abs/2010.07468) | $2n$ ($m$, $s$) | divides by the running average of $(g_t - m_t)^2 + \epsilon$ instead of $g_t^2$ |
| [NAdam](nadam.html) | Dozat, [2016](https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ) | $2n$ | a Nesterov look-ahead mix of $g_t$ and $m_t$, with a warming-up momentum schedule $\mu_t$ |
| [Lion](lion.html) | Chen et al., [2023](https://arxiv.org/abs/2302.06675) | $n$ ($m$) | steps by $\operatorname{sign}(\beta_1 m + (1-\beta_1) g)$: no second moment, no $\epsilon$ |
| [Adam with warm-up](adam_warmup.html) | Goyal et al., [2017](https://arxiv.org/abs/1706.02677) | $2n$ | $\alpha_t = \alpha \min(1, t/w)$ |
| [Warm-up and cosine decay](adam_warmup_cosine_decay.html) | Loshchilov & Hutter, [2017](https://arxiv.org/abs/1608.03983) | $2n$ | linear warm-up, then a cosine down to its floor at $T$, held there |
| [Noam](noam.html) | Vaswani et al., [2017](https://arxiv.org/abs/1706.03762) | $2n$ | $\alpha_t = \alpha\, d_{\text{model}}^{-1/2} \min(t^{-1/2}, t\, w^{-3/2})$ |
| [Schedule-Free AdamW](schedule_free.html) | Defazio et al., [2024](https://arxiv.org/abs/2405.15682) | $2n$ ($z$, $v$) | no schedule and no $m$: gradients at $y$, between Adam-like steps $z$ and their average $x$, which is the point to evaluate |
| [Sophia](sophia.html) | Liu et al., [2023](https://arxiv.org/abs/2305.14342) | $2n$ ($m$, $h$) | divides $m$ by a Hessian-diagonal estimate refreshed every $k$ steps, and clips the ratio to $\pm 1$ |
| [Muon](muon.html) | Jordan et al., [2024](https://kellerjordan.github.io/posts/muon/) | $n$ ($B$), matrices only | no second moment: the momentum of a weight matrix with its singular values set to about 1 by a Newton–Schulz iteration |
| [Shampoo](shampoo.html) | Gupta, Koren & Singer, [2018](https://arxiv.org/abs/1802.09568) | $2(n_r^2 + n_c^2)$ for a matrix (factors $L$, $R$ and their roots), plus $2n$ ($m$, grafted $v$) | the step $L^{-1/4} \hat m R^{-1/4}$ from two Kronecker factors of the gradient's second moment, with Adam's step size grafted onto it |
| [SOAP](soap.html) | Vyas et al., [2024](https://arxiv.org/abs/2409.11321) | $2(n_r^2 + n_c^2)$ for a matrix (factors and eigenbases), plus $2n$ ($m$, $v$) | Adam on the gradient rotated into the eigenbasis of Shampoo's factors, refreshed every $f$ steps |
| [Adafactor](adafactor.html) | Shazeer & Stern, [2018](https://arxiv.org/abs/1804.04235) | $n_r + n_c$ for a matrix, $n$ for a vector (plus $n$ with a first moment) | factored second moment, update clipping, step relative to the parameter's scale |
| [Mixed precision](mixed_precision.html) | Micikevicius et al., [2018](https://arxiv.org/abs/1710.03740) | $3n$ in float32 (master copy, $m$, $v$) | the same update in float32 on master copies of float16/bfloat16 parameters |
| [FusedAdam](fused_adam.html) | Adam's: Kingma & Ba, [2014](https://arxiv.org/abs/1412.6980) | $2n$ | the same update, written to run at the speed of memory |
| [LARS and LAMB](lars_lamb.html) | You, Gitman & Ginsburg, [2017](https://arxiv.org/abs/1708.03888); You et al., [2020](https://arxiv.org/abs/1904.00962) | $n$ ($b$, LARS); $2n$ ($m$, $v$, LAMB) | each layer's step (momentum SGD's for LARS, Adam's for LAMB) is rescaled to a fixed fraction of the layer's weight norm by the trust ratio $\lVert\theta\rVert / \lVert\text{update}\rVert$ |

## How the pieces fit together

Every optimizer of this chapter is a subclass of `GenericAdaptiveOptimizer`, defined
on this page. The base class owns everything that is the same for all of them:

1. it checks the hyper-parameters once, when a parameter group is added;
2. it keeps the hyper-parameters in PyTorch's standard `param_groups`, so
   `state_dict()`, `load_state_dict()`, `add_param_group()` and the schedulers of
   `torch.optim.lr_scheduler` work exactly as with `torch.optim`;
3. `step()` walks over the parameters that have a gradient and, for each, calls two hooks:
   * `init_state(state, group, param)` the first time it sees the parameter, to create
     its state (moment buffers, step counter);
   * `step_param(state, group, grad, param)` on every step, to update the parameter.

A new optimizer therefore only writes the two hooks, which hold its mathematics and
nothing else. Its page then declares what it is in the chapter's [registry](registry.html): its
paper, the `torch.optim` class with the same update, and its line in the experiment. The tests
and the experiment read the registry; this page's course and comparison table are prose, written
by hand, and a test checks them against it: the table has a row for each registered page and no
other, citing the page's paper, and the course links every registered page.
`WeightDecay`, also on this page, is the weight decay that the
optimizers share: L2 regularization, decoupled decay as in AdamW, or absolute decay.
"""

from collections.abc import Iterable
from typing import Any, Optional, Union

import torch
from torch import nn

__all__ = ["GenericAdaptiveOptimizer", "WeightDecay"]

# The per-group dictionary that PyTorch keeps for each parameter group.
Group = dict[str, Any]
# The per-parameter state dictionary.
State = dict[str, Any]
Params = Union[Iterable[torch.Tensor], Iterable[dict[str, Any]]]

# Stands for a hyper-parameter that an optimizer does not have (SGD has no betas and no $\epsilon$);
# `None` cannot serve, since Adafactor's `eps=None` is a value.
_ABSENT: Any = object()


class GenericAdaptiveOptimizer(torch.optim.Optimizer):
    r"""
    ## Base class for adaptive optimizers

    It extends `torch.optim.Optimizer`, so the optimizer plugs into every PyTorch tool
    that expects one (learning-rate schedulers, gradient scalers, distributed wrappers).

    Every optimizer of this chapter runs under `DistributedDataParallel`,
    `ZeroRedundancyOptimizer` and FSDP2 (`torch.distributed.fsdp.fully_shard`, whose
    parameters are `DTensor`s), except Muon, Shampoo and SOAP under FSDP2, which refuse sharded
    matrices when they are constructed (their pages say why): `tests/optimizers/test_distributed.py` trains each with
    two processes for 20 steps in float64 and finds the one-process parameters to within 4e-14
    (RMSProp; 4e-15 or less for the others). An element-wise update runs on `DTensor`s as it is;
    the [Adafactor](adafactor.html) and [Fused Adam](fused_adam.html) pages say what those two do
    for sharded parameters.
    """

    def __init__(
        self,
        params: Params,
        defaults: dict[str, Any],
        lr: float,
        betas: tuple[float, float] = _ABSENT,
        eps: Optional[float] = _ABSENT,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize

        * `params` is an iterable of parameters, or of dictionaries that define parameter groups
        * `defaults` holds the default values of a subclass's own hyper-parameters
        * `lr` is the learning rate $\alpha$
        * `betas` is the tuple $(\beta_1, \beta_2)$ of decay rates of the moment estimates
        * `eps` is $\epsilon$ (or $\hat{\epsilon}$, see the [Adam page](adam.html))
        * `maximize` makes the optimizer climb the objective instead of descending it, as in
          `torch.optim`: every step uses $-g_t$ in place of $g_t$

        An optimizer without moment decay rates or without an $\epsilon$
        ([SGD](sgd.html), [Muon](muon.html)) leaves `betas` or `eps` out, and its groups then
        have no such entry. The values become the defaults of every parameter group; a group
        may override any of them.
        """
        # Copy so that the caller's dictionary is never changed; a subclass's own `maximize` entry wins.
        defaults = dict(defaults, lr=lr)
        defaults.setdefault("maximize", maximize)
        if betas is not _ABSENT:
            defaults["betas"] = tuple(betas)
        if eps is not _ABSENT:
            defaults["eps"] = eps
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        r"""
        ### Add a parameter group

        `torch.optim.Optimizer.__init__` calls this for every group, and users call it to
        add groups later. It is therefore the one place where every group, with its defaults
        filled in, can be checked.
        """
        # Wrappers that build the optimizer from their own groups, such as
        # `torch.distributed.optim.ZeroRedundancyOptimizer`, pass the constructor's keyword
        # arguments on as group entries, so a group can arrive holding a whole `WeightDecay` under
        # `weight_decay`. It is spread into the plain values that `step()` and `state_dict()` use.
        if isinstance(param_group.get("weight_decay"), WeightDecay):
            param_group = {**param_group, **param_group["weight_decay"].defaults()}
        super().add_param_group(param_group)
        # The group is checked once PyTorch has filled in its defaults, that is, after it was
        # appended; a rejected group is taken out again, so that the next `step()` cannot use it.
        try:
            self.validate_group(self.param_groups[-1])
        except ValueError:
            self.param_groups.pop()
            raise

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters

        Subclasses with more hyper-parameters extend this and call `super().validate_group(group)`.
        """
        lr = group["lr"]
        # A tensor learning rate (as schedulers for compiled steps use) is checked by value.
        if not 0.0 <= float(lr):
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if "betas" in group:
            betas = group["betas"]
            if len(betas) != 2:
                raise ValueError(f"Invalid betas: {betas} (must be a pair (beta1, beta2))")
            for i, beta in enumerate(betas):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
        if "eps" in group and not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']} (must be >= 0)")
        if "weight_decay" in group:
            WeightDecay.validate(group)

    def init_state(self, state: State, group: Group, param: nn.Parameter) -> None:
        r"""
        ### Initialize the state of a parameter

        Called once per parameter, on its first step. Subclasses must implement it.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement init_state")

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Update one parameter tensor

        Called on every step for every parameter that has a gradient. Subclasses must implement it.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement step_param")

    @torch.no_grad()
    def step(self, closure=None) -> Optional[torch.Tensor]:  # type: ignore[override]  # torch's stub types the closure's loss as float; like torch.optim's own optimizers we return what it returns
        r"""
        ### Take an optimization step

        `closure` is an optional function that re-evaluates the model and returns the loss;
        some callers (line-search style training loops) need it. The step itself runs under
        `torch.no_grad()`: updating parameters must not be recorded in the autograd graph.

        With `maximize`, the hooks receive $-g_t$: maximizing $f$ is minimizing $-f$, whose
        gradient that is. Negating here, once, gives every optimizer of the chapter the switch,
        in the place where `torch.optim` applies it (before weight decay and the moments).
        """

        # The closure computes a loss and its gradients, so it needs autograd switched back on.
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            for param in group["params"]:
                # A parameter that took no part in the loss has no gradient; it stays untouched,
                # and so does its state (a frozen parameter must not drift through weight decay).
                if param.grad is None:
                    continue
                grad = param.grad
                # The moment updates below are dense; a sparse gradient would be densified
                # silently and at great cost, so we refuse it, as `torch.optim.Adam` does.
                if grad.is_sparse:
                    raise RuntimeError(
                        f"{type(self).__name__} does not support sparse gradients; "
                        f"use torch.optim.SparseAdam for sparse embeddings"
                    )

                # A new tensor, so that `param.grad` itself is left as the backward pass wrote it.
                # `get`, because groups saved before the switch existed have no `maximize` entry.
                if group.get("maximize", False):
                    grad = -grad

                state = self.state[param]
                if len(state) == 0:
                    self.init_state(state, group, param)

                self.step_param(state, group, grad, param)

        return loss


class WeightDecay:
    r"""
    ## Weight decay

    Weight decay pulls the parameters towards zero. There are two ways to add it to an
    adaptive optimizer, and they are *not* the same:

    * **L2 regularization** adds $\frac{\lambda}{2}\lVert\theta\rVert^2$ to the loss, that is,
      $\lambda\theta_{t-1}$ to the gradient. The decay then passes through the adaptive
      scaling, so parameters with large gradient history are decayed less.
      This is `torch.optim.Adam(weight_decay=...)`.
    * **Decoupled weight decay**
      ([Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101)) shrinks the parameter
      directly, $\theta \leftarrow \theta (1 - \alpha_t\lambda)$, where $\alpha_t$ is the
      learning rate in effect at step $t$. Every parameter decays at the same rate.
      This is `torch.optim.AdamW`.
    * **Absolute decoupled decay** shrinks by a fixed fraction, $\theta \leftarrow \theta(1-\lambda)$,
      whatever the learning rate.

    The object is only a convenient way to pass the choice to an optimizer. The choice itself
    is stored in every parameter group (`weight_decay`, `weight_decouple`,
    `weight_decay_absolute`), so it is saved by `state_dict()`, restored by
    `load_state_dict()` and can differ between groups (for example no decay on biases).
    """

    def __init__(self, weight_decay: float = 0.0, weight_decouple: bool = True, absolute: bool = False):
        r"""
        * `weight_decay` is the decay coefficient $\lambda$
        * `weight_decouple` chooses decoupled decay (`True`) or L2 regularization (`False`)
        * `absolute` makes the decoupled decay independent of the learning rate
        """
        self.weight_decay = weight_decay
        self.weight_decouple = weight_decouple
        self.absolute = absolute
        self.validate(self.defaults())

    def defaults(self) -> dict[str, Any]:
        r"""
        ### Default values for the parameter groups
        """
        return dict(
            weight_decay=self.weight_decay, weight_decouple=self.weight_decouple, weight_decay_absolute=self.absolute
        )

    @staticmethod
    def validate(group: Group) -> None:
        r"""
        ### Check a group's weight decay
        """
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} (must be >= 0)")
        if group.get("weight_decay_absolute", False) and not group.get("weight_decouple", True):
            raise ValueError("absolute weight decay is a form of decoupled decay: it needs weight_decouple=True")
        if group.get("weight_decay_absolute", False) and not group["weight_decay"] < 1.0:
            raise ValueError(
                f"Invalid weight_decay value: {group['weight_decay']} "
                f"(absolute decay multiplies by 1 - weight_decay, so it must be < 1)"
            )

    @staticmethod
    def apply(param: torch.Tensor, grad: torch.Tensor, group: Group, lr: float) -> torch.Tensor:
        r"""
        ### Apply the decay

        * `param` is $\theta_{t-1}$, `grad` is $g_t$
        * `lr` is the learning rate $\alpha_t$ in effect for this step, as the optimizer's
          `get_lr` returns it, so that warm-up and schedules scale the decoupled decay too

        Returns the gradient the optimizer should use.
        """
        weight_decay = group["weight_decay"]
        if weight_decay == 0.0:
            return grad
        if group["weight_decouple"]:
            # $\theta_{t-1} \leftarrow \theta_{t-1}(1 - \lambda)$ for absolute decay
            if group["weight_decay_absolute"]:
                param.mul_(1.0 - weight_decay)
            # $\theta_{t-1} \leftarrow \theta_{t-1}(1 - \alpha_t \lambda)$ for decoupled decay
            else:
                param.mul_(1.0 - lr * weight_decay)
            # The gradient is left as it is.
            return grad
        # L2 regularization: $g_t \leftarrow g_t + \lambda \theta_{t-1}$, in a new tensor so that
        # `param.grad` itself is not changed.
        return grad.add(param, alpha=weight_decay)
