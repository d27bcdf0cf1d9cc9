# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Lion Optimizer
summary: An annotated PyTorch implementation of Lion, the sign-based optimizer found by program search, with decoupled weight decay.
paper_title: Symbolic Discovery of Optimization Algorithms
paper_authors: Xiangning Chen, Chen Liang, Da Huang, Esteban Real, Kaiyuan Wang, Yao Liu, Hieu Pham, Xuanyi Dong, Thang Luong, Cho-Jui Hsieh, Yifeng Lu and Quoc V. Le
paper_year: 2023
paper_type: inproceedings
paper_venue: Advances in Neural Information Processing Systems 36 (NeurIPS 2023)
paper_arxiv: 2302.06675
paper_arxiv_class: cs.LG
---

# Lion Optimizer

This page implements *Lion* (EvoLved Sign Momentum) from the paper
[Symbolic Discovery of Optimization Algorithms](https://arxiv.org/abs/2302.06675)
(arXiv 2302.06675) by Chen et al., 2023, on top of the `GenericAdaptiveOptimizer`
of this [chapter's index page](index.html).

The authors searched a space of small programs for an optimizer and simplified the winner
to three lines. At step $t$, with gradient $g_t$, learning rate $\alpha_t$ and weight decay $\lambda$,

\begin{align}
c_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \big( \operatorname{sign}(c_t) + \lambda \theta_{t-1} \big) \\
m_t &\leftarrow \beta_2 m_{t-1} + (1 - \beta_2) g_t
\end{align}

## How it differs from Adam

* **One state tensor, not two.** Lion keeps only the momentum $m_t$, half of
  [Adam](adam.html)'s memory per parameter.
* **Every coordinate moves by exactly $\alpha_t$** (before weight decay), because the update is a
  sign. There is no second moment to normalize by: the sign *is* the normalization. So the step
  is larger than Adam's for the same learning rate, and the paper uses a learning rate 3 to 10
  times smaller than AdamW's, with a weight decay 3 to 10 times larger to keep the product
  $\alpha\lambda$, the strength of the decay, the same.
* **Two different betas for two different jobs.** The direction $c_t$ interpolates with
  $\beta_1 = 0.9$, so the current gradient counts for 10%; the momentum that is carried forward
  uses $\beta_2 = 0.99$, a longer memory. With $\beta_1 = \beta_2$ Lion would be signed momentum.
* **No bias correction and no $\epsilon$.** The sign of $c_t$ does not depend on its scale, so
  neither a correction of the scale nor a guard against division by zero has anything to do.

Since $\operatorname{sign}(0) = 0$, a coordinate whose $c_t$ is exactly zero does not move
(except by weight decay).
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry


class Lion(GenericAdaptiveOptimizer):
    r"""
    ## Lion Optimizer
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: WeightDecay = WeightDecay(),
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$; $10^{-4}$ is the default of the authors' code
          (`lion_pytorch.py` in google/automl), not a value from the paper
        * `betas` is the pair $(\beta_1, \beta_2)$
        * `weight_decay` is a `WeightDecay` from the [index page](index.html); the paper's
          decay is decoupled and multiplied by $\alpha_t$, which is what `WeightDecay(λ)` does
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass

        The base class expects an `eps`; Lion has none, so we pass $0$. It is kept in the
        parameter groups only because the base class validates it, and a group that sets
        a non-zero `eps` is refused rather than silently ignored.
        """
        # The weight decay goes into the group defaults, where `state_dict()` saves it and a
        # group can override it; $\epsilon = 0$ as explained above
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        super().__init__(params, defaults, lr, betas, eps=0.0, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        # $\alpha \ge 0$, $\beta_1, \beta_2 \in [0, 1)$ and the weight decay, then Lion's own rule: no $\epsilon$
        super().validate_group(group)
        if group["eps"] != 0.0:
            raise ValueError(f"Invalid epsilon value: {group['eps']} (Lion has no epsilon; leave it at 0)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # The number of steps taken, $t$; Lion's update does not use it, but schedules and
        # tests read it, as for the other optimizers of the chapter.
        state["step"] = 0
        # The momentum $m_t$, the only state tensor
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$
        """
        # $\beta_1$, $\beta_2$, $\alpha_t$ (as a scheduler set it) and $m_{t-1}$; $t \leftarrow t + 1$
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        m = state["exp_avg"]
        state["step"] += 1

        # $\theta_{t-1} \leftarrow \theta_{t-1}(1 - \alpha_t \lambda)$. Shrinking first and then
        # subtracting $\alpha_t \operatorname{sign}(c_t)$ gives exactly the paper's
        # $\theta_{t-1} - \alpha_t(\operatorname{sign}(c_t) + \lambda\theta_{t-1})$, because the sign
        # does not depend on $\theta_{t-1}$.
        grad = WeightDecay.apply(param, grad, group, lr)
        # $c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$, in a new tensor: $m_{t-1}$ is still needed below
        c = torch.lerp(m, grad, 1 - beta1)
        # $\theta_t \leftarrow \theta_{t-1} - \alpha_t \operatorname{sign}(c_t)$
        param.add_(c.sign_(), alpha=-lr)
        # $m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t$, only now, since $c_t$ had to use $m_{t-1}$
        m.lerp_(grad, 1 - beta2)


# ## Exercises
#
# :::: exercise The box that weight decay builds
# A coordinate whose $c_t$ is always negative, so that $\operatorname{sign}(c_t) = -1$, starts at $\theta_0 = 0$,
# with `WeightDecay(λ)`. Write $\theta_t$ in closed form, find its limit, and compute $\theta_{10000}$ for
# $\alpha = 10^{-3}$ and $\lambda = 0.1$.
#
# ::: answer
# Each step is $\theta_t = (1 - \alpha\lambda)\theta_{t-1} + \alpha$, whose fixed point is $1/\lambda$, so
# $\theta_t = \frac{1}{\lambda}\big(1 - (1-\alpha\lambda)^t\big) \to 1/\lambda$. Here
# $\theta_{10000} = 10\,(1 - 0.9999^{10000}) = 6.32$, about $10\,(1 - e^{-1})$, on its way to $10$. And since
# $|\theta_t| \le (1-\alpha\lambda)|\theta_{t-1}| + \alpha$, a coordinate inside $[-1/\lambda, 1/\lambda]$ never
# leaves it (for $\alpha\lambda \le 1$): with a sign update, decoupled decay bounds every coordinate by $1/\lambda$,
# a bound that does not depend on $\alpha$, which only sets how fast it is approached.
# :::
# ::::
#
# :::: exercise How long Lion keeps going after the gradient flips
# After a long run with a constant gradient $g > 0$ (so that $m = g$), the gradient becomes $-g$ and stays there.
# On which step after the switch does Lion first move the other way, with the default $\beta_1 = 0.9$,
# $\beta_2 = 0.99$? Compare with signed momentum ($\beta_1 = \beta_2$) at $0.99$ and at $0.9$.
#
# ::: answer
# After $k$ steps of $-g$, $m_k = g(2\beta_2^k - 1)$, and step $k+1$ uses
# $c_{k+1} = \beta_1 m_k - (1-\beta_1) g = g(2\beta_1\beta_2^k - 1)$. That is negative once
# $\beta_2^k < 1/(2\beta_1) = 0.556$, for $k > \ln 1.8/\ln(1/0.99) = 58.5$: step 60 is the first to move the other
# way, and 59 steps go on in the old direction. The fresh gradient's weight $1-\beta_1$ tips the sign ten steps
# before $m_k$ itself changes sign, at $k = 69$. Signed momentum needs $\beta^{k+1} < \frac12$: it first reverses
# on step 69 with $\beta = 0.99$ and on step 7 with $\beta = 0.9$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. `torch.optim` has no Lion. Lion's sign update
# has size 1 in every coordinate, larger than Adam's typical $|\hat m| / \sqrt{\hat v}$, so its paper runs it
# 3 to 10 times slower: the experiment's rate is $10^{-4}$.
ENTRY = OptimizerEntry(
    Lion,
    paper="https://arxiv.org/abs/2302.06675",
    test_kwargs=dict(lr=1e-3, weight_decay=WeightDecay(0.1)),
    experiment=ExperimentLine("lion", 1e-4, position=7),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Lion, at a fifth of the $10^{-2}$ the
# Adam pages use: every coordinate of its sign update has size 1. PyTorch has no Lion, so it trains alone.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: Lion(params, lr=2e-3), name="Lion")
