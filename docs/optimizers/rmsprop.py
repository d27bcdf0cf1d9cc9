# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: RMSProp Optimizer
summary: An annotated PyTorch implementation of RMSProp, centered and with momentum, equal to torch.optim.RMSprop, and how Adam is RMSProp plus momentum plus bias correction.
paper_title: Neural Networks for Machine Learning, Lecture 6
paper_authors: Geoffrey Hinton, Nitish Srivastava and Kevin Swersky
paper_year: 2012
paper_type: misc
paper_venue: Lecture slides, Coursera
paper_note: Lecture 6e: rmsprop: Divide the gradient by a running average of its recent magnitude
paper_url: https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf
paper2_title: Generating Sequences With Recurrent Neural Networks
paper2_authors: Alex Graves
paper2_year: 2013
paper2_arxiv: 1308.0850
paper2_arxiv_class: cs.NE
---

# RMSProp Optimizer

*RMSProp* was never published as a paper. Tieleman and Hinton presented it in
[lecture 6e of the course *Neural Networks for Machine Learning*](https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf)
(2012): divide the gradient by a running root mean square of its recent values.
The *centered* variant and the momentum form used here are from Graves,
[Generating Sequences With Recurrent Neural Networks](https://arxiv.org/abs/1308.0850)
(arXiv:1308.0850, 2013), who adds $\epsilon$ inside the square root; PyTorch, and we, add it
outside. The class is built on the
`GenericAdaptiveOptimizer` of the [chapter's index page](index.html) and does what
`torch.optim.RMSprop` does. At step $t$, with gradient $g_t$,

\begin{align}
g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
v_t &\leftarrow \beta v_{t-1} + (1 - \beta) g_t^2 \\
\bar{g}_t &\leftarrow \beta \bar{g}_{t-1} + (1 - \beta) g_t \qquad \text{(centered only)} \\
d_t &\leftarrow \begin{cases} \sqrt{v_t - \bar{g}_t^2} + \epsilon & \text{centered} \\ \sqrt{v_t} + \epsilon & \text{otherwise} \end{cases} \\
b_t &\leftarrow \mu b_{t-1} + \frac{g_t}{d_t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha b_t
\end{align}

$\alpha$ is the learning rate and $\beta$ the smoothing constant (PyTorch calls it `alpha`; we
write $\beta$ to keep $\alpha$ for the learning rate, as on every page of this chapter).
With $\mu = 0$ there is no buffer and $\theta_t = \theta_{t-1} - \alpha g_t / d_t$.

## What it fixes in Adagrad

[Adagrad](adagrad.html) divides by $\sqrt{\sum_\tau g_\tau^2}$, which only grows, so its learning
rate falls to zero. RMSProp divides by the root of an exponential moving average, which
forgets: with $\beta = 0.99$ it averages over about the last $1/(1-\beta) = 100$ steps, and
the effective rate $\alpha/\sqrt{v_t}$ settles at about $\alpha/\sigma$ for gradients of size $\sigma$.

*Centered* RMSProp divides by an estimate of the standard deviation of the gradient,
$\sqrt{v_t - \bar g_t^2}$, instead of its root mean square: a coordinate whose gradient is
large but consistent (a large mean, a small variance) then takes larger steps.
$v_t - \bar g_t^2 \ge 0$ holds in exact arithmetic (it is a weighted variance, by Jensen's
inequality); rounding can make it a tiny negative number when the variance is zero, and the
square root is then NaN, in PyTorch as here. $\epsilon$ does not help, since it is added after the
root.

## Adam is RMSProp plus momentum plus bias correction

[Adam](adam.html) keeps exactly RMSProp's $v_t$ (with $\beta = \beta_2$) and changes two things.

1. **Bias correction.** $v_0 = 0$, so early on $v_t$ underestimates the mean square by the factor
   $1 - \beta^t$, and RMSProp's first step is $\alpha g_1 / \sqrt{(1-\beta) g_1^2} = 10\alpha$
   with $\beta = 0.99$. Adam divides by $\sqrt{v_t / (1 - \beta_2^t)}$. With $\beta_1 = 0$ this is
   the only difference, and it is only a per-step rescaling:
   Adam's step equals RMSProp's with learning rate $\alpha\sqrt{1-\beta_2^t}$ and
   $\epsilon\sqrt{1-\beta_2^t}$ at step $t$. The tests run `torch.optim.Adam(betas=(0, β₂))` beside
   this page's `RMSProp` with those two values set in its group before every step, and the
   trajectories agree to float64 rounding.
2. **Momentum on the gradient, not on the step.** RMSProp's buffer adds up *normalized* steps
   $g_t/d_t$ (as SGD's momentum adds up gradients). Adam averages the *raw* gradients,
   $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$, corrects that average by $1 - \beta_1^t$ too, and
   only then divides: $\theta_t = \theta_{t-1} - \alpha \hat m_t / (\sqrt{\hat v_t} + \epsilon)$.
   Even while the denominator stays constant, $d_t = d$, the two orders give the same step only up
   to a factor: RMSProp's buffer is $b_t = \sum_{k \le t} \mu^{t-k} g_k / d$, while Adam's numerator is
   $\hat m_t / d = \frac{1-\beta_1}{1-\beta_1^t} \sum_{k \le t} \beta_1^{t-k} g_k / d$. With $\mu = \beta_1$
   Adam's step is RMSProp's times $(1-\beta_1)/(1-\beta_1^t)$, which is 1 at $t = 1$ and falls to
   $1 - \beta_1$: RMSProp's momentum multiplies the step by up to $1/(1-\mu)$, Adam's averages. With
   $\mu \neq \beta_1$ the past gradients get different weights and no factor relates the two. When the
   gradient's scale changes, they part further: Adam's numerator and denominator change together,
   while RMSProp's buffer still holds steps normalized by the old scale.

`AdamFromRMSProp` at the bottom of the page makes the two changes to this class, reusing its
$v_t$ and $d_t$, and the tests check that it equals `torch.optim.Adam`.
"""

import math
from typing import Any, Optional, Union

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class RMSProp(GenericAdaptiveOptimizer):
    r"""
    ## RMSProp Optimizer

    Its smoothing constant is kept under PyTorch's name, `alpha`, so that groups and state
    dictionaries read like `torch.optim.RMSprop`'s; it has no `betas`.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: Union[float, WeightDecay] = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are `torch.optim.RMSprop`'s.

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$
        * `alpha` is the smoothing constant $\beta$
        * `eps` is $\epsilon$
        * `weight_decay` is $\lambda$ as a number (L2 regularization, as in `torch.optim.RMSprop`),
          or a `WeightDecay`
        * `momentum` is $\mu$
        * `centered` divides by the estimated standard deviation instead of the root mean square
        * `maximize` climbs the objective instead of descending it
        * `defaults` holds the group defaults of a subclass
        """
        if not isinstance(weight_decay, WeightDecay):
            weight_decay = WeightDecay(weight_decay, weight_decouple=False)
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(alpha=alpha, momentum=momentum, centered=centered)
        super().__init__(params, defaults, lr, eps=eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        # $\beta = 1$ would never let a gradient in, and $v_t$ would stay 0; PyTorch only asks $\beta \ge 0$.
        if not 0.0 <= group["alpha"] < 1.0:
            raise ValueError(f"Invalid alpha value: {group['alpha']} (must be in [0, 1))")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (must be >= 0)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter

        The names are `torch.optim.RMSprop`'s. As there, $\bar g$ and $b$ are kept only by groups
        that use them (`buffer` makes them on first use), so plain RMSProp costs $n$ and each
        option $n$ more.
        """
        # $t$
        state["step"] = 0
        # $v_0 = 0$
        state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    @staticmethod
    def buffer(state: State, name: str, like: torch.Tensor) -> torch.Tensor:
        r"""
        ### A zero-initialised buffer ($\bar g_0 = 0$, $b_0 = 0$), made on first use

        PyTorch makes them on the first step only, so a group that switches `centered` or `momentum`
        on later fails there; here it starts from zero.
        """
        if name not in state:
            state[name] = torch.zeros_like(like, memory_format=torch.preserve_format)
        return state[name]

    def denominator(self, state: State, group: Group, grad: torch.Tensor, eps: Optional[float] = None) -> torch.Tensor:
        r"""
        ### Update $v_t$ (and $\bar g_t$) and return $d_t$

        `eps` replaces the group's $\epsilon$ when given; `AdamFromRMSProp`, below, needs that.
        """
        beta = group["alpha"]
        square_avg = state["square_avg"]
        # $v_t \leftarrow \beta v_{t-1} + (1-\beta) g_t^2$
        square_avg.mul_(beta).addcmul_(grad, grad, value=1 - beta)
        if group["centered"]:
            grad_avg = self.buffer(state, "grad_avg", square_avg)
            # $\bar g_t \leftarrow \beta \bar g_{t-1} + (1-\beta) g_t$
            grad_avg.lerp_(grad, 1 - beta)
            # $\sqrt{v_t - \bar g_t^2}$
            root = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            # $\sqrt{v_t}$
            root = square_avg.sqrt()
        # $d_t$
        return root.add_(group["eps"] if eps is None else eps)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$
        """
        state["step"] += 1
        lr = group["lr"]
        # $g_t \leftarrow g_t + \lambda\theta_{t-1}$ (L2), in a new tensor; or decoupled decay of $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group, lr)
        denominator = self.denominator(state, group, grad)
        if group["momentum"] > 0:
            buf = self.buffer(state, "momentum_buffer", param)
            # $b_t \leftarrow \mu b_{t-1} + g_t / d_t$
            buf.mul_(group["momentum"]).addcdiv_(grad, denominator)
            # $\theta_t \leftarrow \theta_{t-1} - \alpha b_t$
            param.add_(buf, alpha=-lr)
        else:
            # $\theta_t \leftarrow \theta_{t-1} - \alpha g_t / d_t$
            param.addcdiv_(grad, denominator, value=-lr)


class AdamFromRMSProp(RMSProp):
    r"""
    ## Adam, as RMSProp plus momentum plus bias correction

    A demonstration for the section at the top of the page, not an optimizer to train with (use
    [Adam](adam.html)). It keeps RMSProp's `denominator` for $v_t$, with $\beta = \beta_2$ and
    $\epsilon$ rescaled to act on $\hat v_t$, and adds Adam's two changes. `momentum` is $\beta_1$,
    the decay of $m_t$; the group's `momentum` buffer then holds $m_t$ instead of $b_t$.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize with Adam's hyper-parameters
        """
        super().__init__(params, lr=lr, alpha=betas[1], eps=eps, momentum=betas[0], maximize=maximize)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take an Adam step from RMSProp's parts
        """
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["momentum"], group["alpha"]
        # RMSProp's $d_t = \sqrt{v_t} + \epsilon'$, with $\epsilon' = \epsilon\sqrt{1-\beta_2^t}$, so that
        # $d_t / \sqrt{1-\beta_2^t} = \sqrt{\hat v_t} + \epsilon$ (change 1, bias correction of $v_t$)
        correction2 = math.sqrt(1 - beta2**t)
        denominator = self.denominator(state, group, grad, eps=group["eps"] * correction2).div_(correction2)
        # $m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t$: momentum on the raw gradient (change 2)
        m = self.buffer(state, "momentum_buffer", param)
        m.lerp_(grad, 1 - beta1)
        # $\theta_t \leftarrow \theta_{t-1} - \alpha \frac{m_t / (1-\beta_1^t)}{\sqrt{\hat v_t} + \epsilon}$
        param.addcdiv_(m, denominator, value=-group["lr"] / (1 - beta1**t))


# ## Exercises
#
# :::: exercise How long the zero start lasts
# Under a constant gradient $g$, starting from $v_0 = 0$, how many steps does RMSProp's $v_t$ take to
# come within 10% of $g^2$ when $\beta = 0.99$? How large is the step (with $\mu = 0$, $\epsilon = 0$) then?
#
# ::: answer
# $v_t = (1-\beta^t) g^2$, within 10% of $g^2$ once $\beta^t \le 0.1$: $t \ge \ln 10/\ln(1/0.99) = 229.1$,
# so from step 230. The step is $\alpha/\sqrt{1-\beta^t}$, $1.054\,\alpha$ at $t = 230$, down from $10\alpha$
# at $t = 1$. Adam's bias correction makes it $\alpha$ from the first step.
# :::
# ::::
#
# :::: exercise Centered RMSProp under a constant gradient
# With `centered=True`, $\mu = 0$, $\epsilon = 0$, $\beta = 0.99$ and the same gradient $g \ne 0$ on every step,
# what is $d_t$? How large is the step at $t = 1$, at which step is it smallest, and how large is it at $t = 1000$?
#
# ::: answer
# $v_t = (1-\beta^t) g^2$ and $\bar g_t = (1-\beta^t) g$, so $v_t - \bar g_t^2 = \beta^t(1-\beta^t) g^2$,
# $d_t = |g|\sqrt{\beta^t(1-\beta^t)}$ and the step has size $\alpha/\sqrt{\beta^t(1-\beta^t)}$: $10.05\alpha$ at
# $t = 1$, smallest at $t = 69$ (where $\beta^t$ is nearest $1/2$) with $2\alpha$, and $152.2\alpha$ at $t = 1000$,
# growing like $\beta^{-t/2}$. A gradient without variance drives the centered denominator to zero: only
# $\epsilon$ bounds the step, at $\alpha|g|/\epsilon$, and once $\beta^t(1-\beta^t)$ is down at rounding level
# $v_t - \bar g_t^2$ can come out negative and the step NaN, as the page warns.
# :::
# ::::
#
# :::: exercise How long RMSProp remembers a larger gradient
# After a long run with the gradient $1$ (so that $v_t = 1$), the gradient drops to $0.01$ and stays there.
# With $\beta = 0.99$, $\mu = 0$ and $\epsilon = 0$, how large is the first step after the drop, and after how
# many steps is the step back to half of its steady size $\alpha$?
#
# ::: answer
# $k$ steps after the drop $v = \beta^k + (1-\beta^k) \cdot 10^{-4}$ and the step is $0.01\alpha/\sqrt v$:
# $0.01005\alpha$ at $k = 1$, a hundredth of the steady step. It is back to $\alpha/2$ once $v \le 4 \cdot 10^{-4}$,
# that is $\beta^k \le 3 \cdot 10^{-4}/(1 - 10^{-4})$, $k \ge 807.1$: at the 808th step. An average over "about the
# last 100 steps" still feels a gradient 100 times larger for eight times that long, because it averages the
# squares, $10^4$ times larger, and forgets them only geometrically. [Adagrad](adagrad.html)'s sum would
# keep them for good: after 3000 steps of gradient 1, its steps stay below
# $0.01\alpha/\sqrt{3000} = 1.8 \cdot 10^{-4}\alpha$.
# :::
# ::::


# ## Registry entries
#
# What the chapter's [registry](registry.html) knows of this page's two classes. In the experiment, RMSProp
# runs at the rate of Hinton's lecture, $10^{-3}$.
ENTRY = OptimizerEntry(
    RMSProp,
    paper="https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf",
    test_kwargs=dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=0.01),
    reference=Reference(
        torch.optim.RMSprop,
        ours=dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=0.1),
        theirs=dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=0.1, foreach=False),
    ),
    experiment=ExperimentLine("rmsprop", 1e-3, position=11),
)
# The demonstration is Adam, and is checked as Adam.
ADAM_FROM_RMSPROP_ENTRY = OptimizerEntry(
    AdamFromRMSProp,
    paper="https://arxiv.org/abs/1412.6980",
    test_kwargs=dict(lr=1e-2),
    reference=Reference(torch.optim.Adam, ours=dict(lr=1e-2, eps=1e-8), theirs=dict(lr=1e-2, eps=1e-8, foreach=False)),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's RMSProp, and a twin trained with
# `torch.optim.RMSprop` on the same gradients; the defaults ($\beta = 0.99$, $\epsilon = 10^{-8}$, no
# momentum) are the same, and so is the update. The rate is a third of Adam's $10^{-2}$: without bias
# correction the first steps are $\alpha / \sqrt{1 - \beta} = 10\alpha$.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: RMSProp(params, lr=3e-3),
        lambda params: torch.optim.RMSprop(params, lr=3e-3),
        name="RMSProp",
        reference_name="torch.optim.RMSprop",
    )
