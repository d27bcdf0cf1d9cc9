# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: AMSGrad Optimizer
summary: An annotated PyTorch implementation of AMSGrad, the fix for Adam's convergence proof, with the counter-example that shows Adam can move away from the optimum.
paper_title: On the Convergence of Adam and Beyond
paper_authors: Sashank J. Reddi, Satyen Kale and Sanjiv Kumar
paper_year: 2018
paper_type: inproceedings
paper_venue: 6th International Conference on Learning Representations (ICLR 2018)
paper_url: https://openreview.net/forum?id=ryQu7f-RZ
paper_arxiv: 1904.09237
paper_arxiv_class: cs.LG
---

# AMSGrad

This page implements *AMSGrad* from the paper
[On the Convergence of Adam and Beyond](https://arxiv.org/abs/1904.09237)
(arXiv:1904.09237) by Reddi, Kale and Kumar, ICLR 2018, as a small change to our
[Adam](adam.html).

## What goes wrong with Adam

Adam divides each step by $\sqrt{\hat v_t}$, a running average of recent squared
gradients. That average *forgets*: a large gradient raises $v_t$ for a while, then its
weight decays by $\beta_2$ per step. The paper builds an online problem where this is fatal.
On $x \in [-1, 1]$ the losses are

$$f_t(x) = \begin{cases} 1010\,x & t \bmod 101 = 1 \\ -10\,x & \text{otherwise} \end{cases}$$

Over every 101 steps the gradients add up to $1010 - 100 \cdot 10 = +10$, so the total
loss falls as $x$ falls and the best fixed point is $x = -1$. Adam sees one large gradient
that pushes $x$ down, but divides it by the large $\sqrt{v_t}$ it just caused; then it sees
100 small gradients that push $x$ up, and divides them by a $\sqrt{v_t}$ that shrinks as the
large gradient is forgotten. The rare, informative gradient is damped most, so Adam drifts
to $x = +1$, the *worst* point of the interval.

![Adam and AMSGrad on the counter-example](amsgrad_counterexample.svg)

The plot comes from [the counter-example page](amsgrad_counterexample.html), which runs
this page's `AMSGrad` (and, with `amsgrad=False`, plain Adam) on the problem above.

## The fix

AMSGrad keeps the largest second moment seen so far and divides by it instead:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
v^{max}_t &\leftarrow \max(v^{max}_{t-1}, v_t) \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v^{max}_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

A large gradient is then never forgotten in the denominator, and the 100 small steps that
follow it are damped as much as the large one.

In the paper's form, which divides by $\sqrt{v^{max}_t}$ without a bias correction, the effective
step size $\alpha / \sqrt{v^{max}_t}$ of a coordinate never grows. With the correction applied to
the running maximum, as here and in PyTorch, it does grow: $v^{max}_t$ may stay put while the divisor
$1-\beta_2^t$ of $\hat v_t$ rises from $1-\beta_2$ to $1$, so $\alpha / \sqrt{\hat v_t}$ can grow by up
to $1/\sqrt{1-\beta_2} \approx 31.6$ times. One gradient of $10$ followed by gradients of $0.01$
($\epsilon = 0$) gives $\alpha / \sqrt{\hat v_t} = 0.100\alpha$, $0.316\alpha$, $0.976\alpha$ and
$2.51\alpha$ at $t = 1, 10, 100, 1000$, the same as `torch.optim.Adam(amsgrad=True)` ($2.5146\alpha$
at $t = 1000$). The maximum still does its job, which is to keep the large gradient in the
denominator; it only no longer makes the step size monotone.

## Where we differ from the paper

* The paper's AMSGrad has no bias correction: it divides $m_t$ by $\sqrt{v^{max}_t}$ and
  decays the learning rate as $\alpha/\sqrt{t}$ for its proof. We do what
  `torch.optim.Adam(amsgrad=True)` does: keep the maximum of the *uncorrected* $v_t$ and
  correct it by $1-\beta_2^t$ of the current step, because that makes `AMSGrad` a one-line
  change to Adam, lets it reproduce PyTorch's trajectory to rounding (the tests check it)
  and leaves the schedule to a scheduler.
  Note that $v^{max}_t / (1-\beta_2^t)$ is not the maximum of the corrected $\hat v$'s: the
  correction shrinks over time, so the first steps' corrected values are larger.
* `eps` and `optimized_update` mean what they mean on the [Adam page](adam.html).

The extra state is one tensor per parameter, $v^{max}$, so AMSGrad keeps three tensors
of the parameter's size: $m$, $v$ and $v^{max}$.
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class AMSGrad(Adam):
    r"""
    ## AMSGrad Optimizer

    It extends [`Adam`](adam.html) and overrides only `init_state` (one more buffer) and
    `get_mv` (return the running maximum instead of $v_t$). With `amsgrad=False` it *is* Adam,
    which the optimizers built on it (warm-up, Noam, RAdam, AdaBelief) use, since they all
    offer the AMSGrad switch.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        optimized_update: bool = True,
        amsgrad: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params`, `lr`, `betas`, `eps`, `weight_decay`, `optimized_update` are as for
          [`Adam`](adam.html)
        * `amsgrad` switches the running maximum on; it is a group hyper-parameter, so one group
          may use it and another not
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass
        """
        defaults = dict(defaults or {})
        # A subclass's own default wins, as for `optimized_update` in `Adam`.
        defaults.setdefault("amsgrad", amsgrad)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters

        `amsgrad` must be a real `bool`: a string such as `"False"` would be truthy and switch it on.
        """
        super().validate_group(group)
        if not isinstance(group["amsgrad"], bool):
            raise ValueError(f"Invalid amsgrad value: {group['amsgrad']!r} (must be True or False)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter

        Adds $v^{max}_0 = 0$ to Adam's state when the group uses AMSGrad.
        """
        super().init_state(state, group, param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_mv(self, state: State, group: Group, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""
        ### Update $m_t$, $v_t$ and $v^{max}_t$

        Returns $(m_t, v^{max}_t)$ with AMSGrad and $(m_t, v_t)$ without, so that
        `adam_update` needs no change.
        """
        m, v = super().get_mv(state, group, grad)
        if not group["amsgrad"]:
            return m, v
        # A group whose `amsgrad` was switched on after its first step has no buffer yet;
        # starting it at $0$ makes the maximum start from the current $v_t$.
        if "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = torch.zeros_like(v, memory_format=torch.preserve_format)
        v_max = state["max_exp_avg_sq"]
        # $v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t)$, written into the buffer
        torch.maximum(v_max, v, out=v_max)
        return m, v_max


# ## Exercises
#
# :::: exercise How far the corrected step can grow
# Let the first gradient be $g_1 = 1$ and every later one tiny, so that $\max_{\tau \le t} v_\tau = v_1 = 1-\beta_2$
# for all $t$. With the bias correction of $v$ applied to the maximum, how much can the step size
# $\alpha/\sqrt{\hat v_{\max,t}}$ grow from its first value, for $\beta_2 = 0.999$?
#
# ::: answer
# $\hat v_{\max,t} = (1-\beta_2)/(1-\beta_2^t)$, so the step size is
# $\alpha\sqrt{(1-\beta_2^t)/(1-\beta_2)}$: $\alpha$ at $t = 1$, rising towards
# $\alpha/\sqrt{1-\beta_2} = 31.6\,\alpha$. The maximum never falls, but dividing it by
# $1-\beta_2^t$, which rises to 1, does; the paper's guarantee, for the maximum without bias correction,
# does not cover this.
# :::
# ::::
#
# :::: exercise Half of the way
# At which step has that step size grown to half of its limit, $15.8\,\alpha$?
#
# ::: answer
# $\sqrt{1-\beta_2^t} = 1/2$ when $\beta_2^t = 3/4$, at $t = \ln(4/3)/\ln(1/0.999) = 287.5$: from step 288.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page.
ENTRY = OptimizerEntry(
    AMSGrad,
    paper="https://arxiv.org/abs/1904.09237",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
    reference=Reference(
        torch.optim.Adam,
        ours=dict(lr=1e-2, eps=1e-8, optimized_update=False),
        theirs=dict(lr=1e-2, eps=1e-8, amsgrad=True, foreach=False),
    ),
    experiment=ExperimentLine("amsgrad", 1e-3, position=3),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's AMSGrad, and a twin trained with
# `torch.optim.Adam(amsgrad=True)` on the same gradients. As on the [Adam](adam.html) page,
# `optimized_update=False` and `eps=1e-8` put $\epsilon$ where PyTorch puts it, so the two compute the
# same update. On this problem $\hat v_t$ rarely falls, so the losses are close to Adam's.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: AMSGrad(params, lr=1e-2, eps=1e-8, optimized_update=False),
        lambda params: torch.optim.Adam(params, lr=1e-2, eps=1e-8, amsgrad=True),
        name="AMSGrad",
        reference_name="torch.optim.Adam(amsgrad)",
    )
