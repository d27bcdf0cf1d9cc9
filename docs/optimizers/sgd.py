# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Stochastic Gradient Descent with Momentum
summary: An annotated PyTorch implementation of SGD with heavy-ball momentum, dampening and Nesterov momentum, equal to torch.optim.SGD, with the reason momentum helps on ill-conditioned problems.
paper_title: A Stochastic Approximation Method
paper_authors: Herbert Robbins and Sutton Monro
paper_year: 1951
paper_type: article
paper_venue: The Annals of Mathematical Statistics
paper_volume: 22
paper_number: 3
paper_pages: 400-407
paper_doi: 10.1214/aoms/1177729586
paper2_title: Some methods of speeding up the convergence of iteration methods
paper2_authors: Boris T. Polyak
paper2_year: 1964
paper2_type: article
paper2_venue: USSR Computational Mathematics and Mathematical Physics
paper2_volume: 4
paper2_number: 5
paper2_pages: 1-17
paper2_doi: 10.1016/0041-5553(64)90137-5
paper3_title: On the importance of initialization and momentum in deep learning
paper3_authors: Ilya Sutskever, James Martens, George Dahl and Geoffrey Hinton
paper3_year: 2013
paper3_type: inproceedings
paper3_venue: Proceedings of the 30th International Conference on Machine Learning
paper3_series: Proceedings of Machine Learning Research
paper3_volume: 28
paper3_number: 3
paper3_pages: 1139-1147
paper3_publisher: PMLR
paper3_url: https://proceedings.mlr.press/v28/sutskever13.html
---

# Stochastic Gradient Descent with Momentum

This is the first page of the chapter's course: every later optimizer is a change to it.
*Stochastic gradient descent* goes back to
[Robbins and Monro, 1951](https://doi.org/10.1214/aoms/1177729586): step against a noisy
estimate $g_t$ of the gradient, $\theta_t = \theta_{t-1} - \alpha g_t$.
*Momentum* is Polyak's heavy-ball method,
[Some methods of speeding up the convergence of iteration methods](https://doi.org/10.1016/0041-5553(64)90137-5)
(1964), and the *Nesterov* variant is the form that
[Sutskever, Martens, Dahl and Hinton, 2013](https://proceedings.mlr.press/v28/sutskever13.html)
gave to Nesterov's accelerated gradient of 1983. The class below is built on the
`GenericAdaptiveOptimizer` of the [chapter's index page](index.html) and does exactly what
`torch.optim.SGD` does. At step $t$, with gradient $g_t$,

\begin{align}
g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
b_t &\leftarrow \mu b_{t-1} + (1 - \tau) g_t \qquad (b_1 = g_1) \\
d_t &\leftarrow \begin{cases} g_t + \mu b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha d_t
\end{align}

$\alpha$ is the learning rate, $\mu \in [0, 1)$ the momentum, $\tau$ the dampening and
$\lambda$ the L2 weight decay. With $\mu = 0$ the buffer $b_t$ is not kept and $d_t = g_t$.

## The buffer is Polyak's heavy ball

Multiply the buffer's recurrence by $-\alpha$ (with $\tau = 0$): since
$\theta_t - \theta_{t-1} = -\alpha b_t$,

$$\theta_t = \theta_{t-1} - \alpha g_t + \mu (\theta_{t-1} - \theta_{t-2})$$

which is Polyak's method: a ball rolling in the loss landscape keeps a fraction $\mu$ of its
last displacement. The two forms are one algorithm with one pair $(\alpha, \mu)$; the tests
run both and compare while $\alpha$ is constant. When a scheduler changes $\alpha$ they part:
the buffer holds gradients, not displacements, so the remembered part of the step is
scaled by the new $\alpha$, while Polyak's displacement carries the old one forward.

Along a direction where successive gradients agree, the steps add up to a geometric series,
up to $\alpha g / (1-\mu)$ per step ($10\times$ with $\mu = 0.9$); along a direction where
they alternate in sign, they cancel. That is what the [quadratic example](momentum_quadratic.html)
measures: on an ill-conditioned problem momentum cuts the number of steps by about
$\sqrt{\kappa}$, where $\kappa$ is the condition number.

![Distance to the minimum of a quadratic, gradient descent against heavy ball, for condition numbers 100 and 1000](momentum_quadratic.svg)

## Nesterov momentum, at the look-ahead point

Sutskever et al. write Nesterov's method with a velocity $v$ and evaluate the gradient
at a look-ahead point:
$v_t = \mu v_{t-1} - \alpha \nabla f(\theta_{t-1} + \mu v_{t-1})$, $\theta_t = \theta_{t-1} + v_t$.
PyTorch, and this page, store the look-ahead point itself,
$\phi_t = \theta_t + \mu v_t$, so that the gradient is taken where the parameters are.
With $v_t = -\alpha b_t$ and $g_t = \nabla f(\phi_{t-1})$,

$$\phi_t - \phi_{t-1} = -\alpha\big((1+\mu) b_t - \mu b_{t-1}\big) = -\alpha (g_t + \mu b_t)$$

because $b_t - \mu b_{t-1} = g_t$. That is the Nesterov line of the update above. PyTorch refuses
Nesterov with dampening ($\tau \neq 0$) or without momentum, and so do we: neither is
Nesterov's method.

## Where we follow PyTorch rather than the papers

* **The first buffer is the gradient itself**, $b_1 = g_1$, not $(1-\tau) g_1$. With dampening
  $\tau = \mu$ the buffer becomes an exponential moving average of the gradients, and this
  choice makes its weights sum to one at every step,
  $\mu^{t-1} + (1-\mu)\sum_{k<t-1}\mu^k = 1$, so it is not biased towards zero (the job
  that Adam's bias correction does). It also means that $\tau$ acts only from the second step on.
* **Weight decay is L2**, added to the gradient before the momentum, as `torch.optim.SGD`'s
  `weight_decay` does. For SGD without momentum this is the same as decoupled decay; with momentum
  it is not. A `WeightDecay` object from the [index page](index.html) selects decoupled decay.
* `maximize=True` steps along $+g_t$, through the base class.

## Where we differ from `torch.optim.SGD`

Only in what we accept: arguments that both accept give the same update, as the tests check.

* **The momentum must be in $[0, 1)$.** `torch.optim.SGD` accepts any $\mu \ge 0$; we refuse
  $\mu \ge 1$, for which the buffer never forgets a gradient ($\mu = 1$) or grows without bound
  ($\mu > 1$), and the geometric series $1/(1-\mu)$ above has no sum.
* **The dampening must be in $[0, 1]$.** PyTorch does not check $\tau$; outside that interval the
  gradient's share $1 - \tau$ of the buffer would be negative or larger than one.
"""

from typing import Any, Optional, Union

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class SGD(GenericAdaptiveOptimizer):
    r"""
    ## SGD with momentum

    SGD has no moment decay rates and no $\epsilon$, so it leaves both out of the base class's
    groups: a group never carries a hyper-parameter that does nothing.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: Union[float, WeightDecay] = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$; the default, $10^{-3}$, is `torch.optim.SGD`'s
        * `momentum` is $\mu$
        * `dampening` is $\tau$
        * `weight_decay` is $\lambda$ as a number (L2 regularization, as in `torch.optim.SGD`),
          or a `WeightDecay`
        * `nesterov` chooses Nesterov's look-ahead direction $g_t + \mu b_t$
        * `maximize` climbs the objective instead of descending it
        * `defaults` holds the group defaults of a subclass
        """
        if not isinstance(weight_decay, WeightDecay):
            weight_decay = WeightDecay(weight_decay, weight_decouple=False)
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(momentum=momentum, dampening=dampening, nesterov=nesterov)
        super().__init__(params, defaults, lr, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        # `torch.optim.SGD` only asks $\mu \ge 0$. With $\mu \ge 1$ the buffer never forgets: at $\mu = 1$ it is
        # the sum of every gradient so far, and above 1 it grows geometrically even on a zero gradient.
        # Neither is heavy-ball momentum, so we refuse both.
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (must be in [0, 1))")
        # `torch.optim.SGD` does not check $\tau$; a $\tau$ outside $[0, 1]$ would flip or amplify
        # the gradient's share of the buffer, so we refuse it.
        if not 0.0 <= group["dampening"] <= 1.0:
            raise ValueError(f"Invalid dampening value: {group['dampening']} (must be in [0, 1])")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # The number of steps taken, $t$; the update does not use it, schedules and tests read it.
        state["step"] = 0
        # $b_t$; it is made from the first gradient ($b_1 = g_1$), so there is nothing to allocate yet.
        state["momentum_buffer"] = None

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$
        """
        state["step"] += 1
        lr = group["lr"]
        momentum = group["momentum"]
        # $g_t \leftarrow g_t + \lambda\theta_{t-1}$ (L2), in a new tensor; or decoupled decay of $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group, lr)

        if momentum != 0:
            buf = state["momentum_buffer"]
            if buf is None:
                # $b_1 = g_1$, a copy: `grad` may be `param.grad`, which the next backward pass overwrites
                buf = state["momentum_buffer"] = grad.detach().clone()
            else:
                # $b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t$
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            if group["nesterov"]:
                # $d_t = g_t + \mu b_t$
                grad = grad.add(buf, alpha=momentum)
            else:
                # $d_t = b_t$
                grad = buf

        # $\theta_t \leftarrow \theta_{t-1} - \alpha d_t$
        param.add_(grad, alpha=-lr)


# ## Exercises
#
# :::: exercise Momentum's effective step
# With a constant gradient $g$, the buffer $b_t = \mu b_{t-1} + g$ settles. To what, and what is then the
# step for $\alpha = 0.1$, $\mu = 0.9$?
#
# ::: answer
# $b_t = g(1 - \mu^t)/(1-\mu) \to g/(1-\mu) = 10g$: the step becomes $\alpha g/(1-\mu) = g$, ten times
# plain SGD's $0.1g$. This is why the learning rate of SGD with momentum is usually quoted together with $\mu$.
# :::
# ::::
#
# :::: exercise Momentum on a gradient that flips sign
# Now the gradient alternates, $g_t = (-1)^{t-1} g$ with $g > 0$, and $\tau = 0$. What does $|b_t|$ settle to, and how
# large is the step for $\alpha = 0.1$, $\mu = 0.9$? Compare with the constant gradient of the exercise above.
#
# ::: answer
# $b_t = (-1)^{t-1} g \sum_{k<t} (-\mu)^k = (-1)^{t-1} g\,\frac{1 - (-\mu)^t}{1+\mu}$, so
# $|b_t| \to g/(1+\mu) = 0.526\,g$ and the step to $\alpha g/(1+\mu) = 0.0526\,g$: about half of plain SGD's
# $0.1g$, and $(1+\mu)/(1-\mu) = 19$ times smaller than the $1.0g$ that a constant gradient reaches. Momentum adds
# up the steps along a direction where the gradients agree and cancels them where they alternate.
# :::
# ::::
#
# :::: exercise Halving the rate in mid-run
# `SGD` with $\alpha = 0.1$, $\mu = 0.9$ has run long under a constant gradient $g > 0$, so that each step moves
# $\theta$ by $-g$. A scheduler then sets $\alpha = 0.05$. Predict the steps that follow, for this page's `SGD`
# and for Polyak's form $\theta_t = \theta_{t-1} - \alpha g_t + \mu(\theta_{t-1} - \theta_{t-2})$ under the same change.
#
# ::: answer
# The buffer holds $b = g/(1-\mu) = 10g$ and keeps it, so `SGD` moves by $-0.05 \cdot 10g = -0.5g$ from the first
# step after the change on. Polyak's form carries its last displacement, $-g$, forward: its first step is
# $-0.05g - 0.9g = -0.95g$, and its $k$-th is $-(0.5 + 0.45 \cdot 0.9^{k-1})\,g$. It settles at the same $-0.5g$,
# but on the way it travels $0.45g/(1-0.9) = 4.5g$ further than `SGD`. The two forms are one algorithm only
# while $\alpha$ is constant, as the page says.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. In the experiment, momentum SGD runs at its
# usual rate, $0.1$ with $\mu = 0.9$.
ENTRY = OptimizerEntry(
    SGD,
    paper="https://doi.org/10.1214/aoms/1177729586",
    test_kwargs=dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    reference=Reference(
        torch.optim.SGD,
        ours=dict(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=0.1),
        theirs=dict(lr=1e-2, momentum=0.9, nesterov=True, weight_decay=0.1, foreach=False),
    ),
    experiment=ExperimentLine("sgd-momentum", 1e-1, dict(momentum=0.9), position=10),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's SGD with momentum, and a twin
# trained with `torch.optim.SGD` on the same gradients. Both compute $b_t = \mu b_{t-1} + g_t$ and
# $\theta_t = \theta_{t-1} - \alpha b_t$, so the two columns of losses agree and the parameters end
# within float64 rounding. The rate is 30 times the $10^{-2}$ the Adam pages use: SGD's step is
# $\alpha g_t$, and this model's gradients are small.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: SGD(params, lr=0.3, momentum=0.9),
        lambda params: torch.optim.SGD(params, lr=0.3, momentum=0.9),
        name="SGD",
        reference_name="torch.optim.SGD",
    )
