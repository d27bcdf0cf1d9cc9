# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: NAdam Optimizer
summary: An annotated PyTorch implementation of NAdam, Adam with Nesterov momentum and a warming-up momentum schedule, matching torch.optim.NAdam.
paper_title: Incorporating Nesterov Momentum into Adam
paper_authors: Timothy Dozat
paper_year: 2016
paper_type: inproceedings
paper_venue: 4th International Conference on Learning Representations (ICLR 2016), Workshop Track
paper_url: https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
---

# NAdam Optimizer

This page implements *NAdam* from
[Incorporating Nesterov Momentum into Adam](https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ)
by Timothy Dozat (ICLR 2016 workshop; there is no arXiv version), as a small change to our
[Adam](adam.html). It computes the same update as `torch.optim.NAdam`, and the tests check that.

*Notation.* $\mu_t$ (the momentum schedule) and $\psi$ (its decay) are the paper's and PyTorch's `momentum_decay`, kept so that the schedule can be checked against both; $\psi$ here is not RAdam's adaptive rate.

## From momentum to Nesterov momentum

Classical momentum steps along the running average $m_t$ of the gradients (the heavy ball of the
[SGD page](sgd.html#the-buffer-is-polyaks-heavy-ball)). Nesterov's variant, which that page derives
as a [step from the look-ahead point](sgd.html#nesterov-momentum-at-the-look-ahead-point), steps along
where the momentum is *about to be*: it mixes the average it will
carry into the next step with the gradient it has just seen. Dozat's observation is that
for Adam this needs no second gradient evaluation: in Adam's update, replace the
bias-corrected $\hat m_t$ by a mix of the current gradient and the momentum, each with its own
weight.

NAdam also *schedules* the momentum coefficient. With $\psi$ the momentum decay
(`momentum_decay`, $0.004$ by default),

$$\mu_t = \beta_1 \big(1 - \tfrac{1}{2}\, 0.96^{t \psi}\big),$$

which starts at $\beta_1/2$ and rises towards $\beta_1$ (it reaches $0.95\beta_1$ when
$0.96^{t\psi} = 0.1$, after about 14,100 steps): early steps, when $m_t$ holds few gradients,
lean more on the current gradient.
The bias correction uses the running product of the schedule, $\prod_{i=1}^t \mu_i$.
The full update is

\begin{align}
\mu_t &= \beta_1 \big(1 - \tfrac{1}{2}\, 0.96^{t \psi}\big) \\
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
\bar{m}_t &\leftarrow \frac{(1 - \mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i}
  + \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha \frac{\bar{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

Three lines differ from [Adam](adam.html): the schedule $\mu_t$ in the first, and the last two,
where $\bar m_t$ takes the place of $\hat m_t = m_t / (1 - \beta_1^t)$. The bias correction of
$\hat m_t$ makes its weights sum to exactly one; that of $\bar m_t$ does not. Even with a constant
$\mu_t = \beta_1$, a constant gradient gets the total weight
$(1-\beta_1)/(1-\beta_1^t) + \beta_1(1-\beta_1^t)/(1-\beta_1^{t+1})$: $1.474$, $1.157$ and $1.031$
at $t = 1, 2, 5$ for $\beta_1 = 0.9$. It only tends to one.

That constant $\mu_t$ is not what NAdam runs, though. With the schedule, $\mu_1 \approx \beta_1/2$,
so the product $\prod_{i \le t} \mu_i$ in the bias correction falls much faster than $\beta_1^t$,
while $m_t$, built with the constant $\beta_1$, still holds only $1 - \beta_1^t$ of its eventual
weight: the momentum term is under-corrected. On a constant gradient, with the default
hyper-parameters and the same $\alpha$, NAdam's step is $1.056$ times Adam's at $t = 1$ (the
fresh gradient gets the full weight $(1 - \mu_1)/(1 - \mu_1) = 1$, the momentum a little more), and
then *smaller*: $0.784$, $0.732$, $0.731$ and $0.746$ times Adam's at $t = 2, \dots, 5$. The ratio
climbs back to $0.98$ only at $t = 30$, as $1 - \beta_1^t$ approaches one. In the first few dozen
steps NAdam at a given $\alpha$ moves less than Adam, not more. The tests compute these ratios with
this class and with `torch.optim.NAdam`, in float64.

## Where we follow PyTorch rather than the paper

* The running average $m_t$ uses the constant $\beta_1$, as in `torch.optim.NAdam` and Keras;
  the schedule $\mu_t$ appears only in $\bar m_t$ and its bias correction. We follow PyTorch
  so that the two are interchangeable and the tests can compare them to float rounding.
* $\epsilon$ is added to $\sqrt{\hat v_t}$ (the textbook form), not to $\sqrt{v_t}$ as in our
  Adam's `optimized_update`, for the same reason; the default $\epsilon = 10^{-8}$ is PyTorch's.
* PyTorch keeps $\prod \mu_i$ in a tensor of the default dtype, usually float32, so it carries
  a relative error of about $10^{-7}$; we keep a Python float (float64). When PyTorch's default
  dtype is float64 the two compute the same numbers, up to the rounding of the tensor operations.
* `torch.optim.NAdam(decoupled_weight_decay=True)` is our `WeightDecay(λ)` (decay by
  $1 - \alpha\lambda$), and `decoupled_weight_decay=False` is `WeightDecay(λ, weight_decouple=False)`
  (L2 regularization). Our default has no decay.
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class NAdam(Adam):
    r"""
    ## NAdam Optimizer

    It inherits $m_t$, $v_t$ (`get_mv`), weight decay and `get_lr` from [Adam](adam.html) and
    replaces the final update.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: WeightDecay = WeightDecay(),
        momentum_decay: float = 4e-3,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$; $2 \times 10^{-3}$ as in the paper and PyTorch
        * `betas` is the pair $(\beta_1, \beta_2)$
        * `eps` is $\epsilon$, added to $\sqrt{\hat v_t}$
        * `weight_decay` is a `WeightDecay` from the [index page](index.html)
        * `momentum_decay` is $\psi$ of the momentum schedule
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass
        """
        # $\psi$ joins the group defaults, next to Adam's hyper-parameters
        defaults = dict(defaults or {})
        defaults.setdefault("momentum_decay", momentum_decay)
        # NAdam always adds `eps` after the bias correction; Adam's faster form is not offered.
        super().__init__(
            params, lr, betas, eps, weight_decay, optimized_update=False, defaults=defaults, maximize=maximize
        )

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        # Adam's checks, then $\psi \ge 0$ ($\psi = 0$ is a constant $\mu_t = \beta_1 / 2$)
        super().validate_group(group)
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']} (must be >= 0)")
        if group["optimized_update"]:
            raise ValueError("NAdam adds eps to the bias-corrected sqrt(v); optimized_update must be False")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter

        Adam's `step`, $m_0$ and $v_0$, and the running product of the momentum schedule.
        """
        # $t = 0$, $m_0 = 0$, $v_0 = 0$
        super().init_state(state, group, param)
        # $\prod_{i=1}^{0} \mu_i = 1$, the empty product
        state["mu_product"] = 1.0

    def nadam_update(
        self, state: State, group: Group, param: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor
    ) -> None:
        r"""
        ### Update the parameter

        * `grad` is $g_t$ (with L2 regularization, including $\lambda\theta_{t-1}$)
        * `m` and `v` are $m_t$ and $v_t$

        It replaces Adam's `adam_update`, which has no use for $g_t$.
        """
        # $\beta_1$, $\beta_2$, $\psi$, this step's $t$ and $\alpha$
        beta1, beta2 = group["betas"]
        psi = group["momentum_decay"]
        t = state["step"]
        lr = self.get_lr(state, group)

        # $\mu_t = \beta_1 (1 - \frac{1}{2} 0.96^{t\psi})$ and $\mu_{t+1}$
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # $\prod_{i=1}^{t} \mu_i$, kept in the state; $\prod_{i=1}^{t+1} \mu_i$ is one factor more
        # and is not stored, since $\mu_{t+1}$ is recomputed next step
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        mu_product_next = mu_product * mu_next

        # $\sqrt{\hat v_t} + \epsilon$, with $\hat v_t = v_t / (1 - \beta_2^t)$
        denominator = (v / (1 - beta2**t)).sqrt_().add_(group["eps"])
        # $\theta \leftarrow \theta_{t-1} - \alpha \frac{1 - \mu_t}{1 - \prod_{i=1}^{t} \mu_i}
        # \frac{g_t}{\sqrt{\hat v_t} + \epsilon}$: the look-ahead on the fresh gradient
        param.addcdiv_(grad, denominator, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        # $\theta_t \leftarrow \theta - \alpha \frac{\mu_{t+1}}{1 - \prod_{i=1}^{t+1} \mu_i}
        # \frac{m_t}{\sqrt{\hat v_t} + \epsilon}$: the momentum, weighted as it will be carried into step $t+1$
        param.addcdiv_(m, denominator, value=-lr * mu_next / (1.0 - mu_product_next))

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        Adam's step with `nadam_update` in place of `adam_update`.
        """
        # $t \leftarrow t + 1$, first, so that `get_lr` sees this step's $t$
        state["step"] += 1
        # Weight decay with the learning rate in effect: decoupled decay shrinks `param`,
        # L2 regularization returns $g_t + \lambda\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group, self.get_lr(state, group))
        # $m_t$ and $v_t$, as in Adam
        m, v = self.get_mv(state, group, grad)
        # $\theta_t$
        self.nadam_update(state, group, param, grad, m, v)


# ## Exercises
#
# :::: exercise Nesterov's look-ahead in $\bar m_t$
# Drop the schedule ($\mu_t = \beta_1$) and the bias corrections. Show that $\bar m_t$ is then the momentum that step
# $t+1$ would have if its gradient were $g_t$ again. With the bias corrections (and still $\mu_t = \beta_1$), what
# weight does a constant gradient get at $t = 1$?
#
# ::: answer
# Without corrections, $\bar m_t = (1-\beta_1) g_t + \beta_1 m_t$, which is $m_{t+1} = \beta_1 m_t +
# (1-\beta_1) g_{t+1}$ with $g_{t+1} = g_t$: the momentum one step ahead, with the gradient at hand standing in for
# the next one, so no second gradient is evaluated. With the corrections, $g_t$ is divided by $1-\beta_1^t$ and
# $m_t$ by $1-\beta_1^{t+1}$, and at $t = 1$ a constant gradient gets
# $\frac{1-\beta_1}{1-\beta_1} + \frac{\beta_1(1-\beta_1)}{1-\beta_1^2} = 1 + 0.474 = 1.474$: the weights no
# longer sum to one.
# :::
# ::::
#
# :::: exercise NAdam's first step
# Show that NAdam's first step has size $\alpha\big(1 + \frac{(1-\beta_1)\mu_2}{1-\mu_1\mu_2}\big)$ whatever the
# gradient ($\epsilon$ negligible), and compute it with the defaults.
#
# ::: answer
# At $t = 1$, $m_1 = (1-\beta_1) g_1$ and $\sqrt{\hat v_1} = |g_1|$. The fresh gradient's weight is
# $(1-\mu_1)/(1-\mu_1) = 1$ and the momentum's $\mu_2/(1-\mu_1\mu_2)$, so
# $\bar m_1 = g_1\big(1 + \frac{(1-\beta_1)\mu_2}{1-\mu_1\mu_2}\big)$, and the step is $\alpha$ times the bracket,
# against the sign of $g_1$. With $\mu_2 = 0.4501$ and $1 - \mu_1\mu_2 = 0.7974$ that is
# $1 + 0.1 \cdot 0.4501/0.7974 = 1.056$: the page's $1.056$ times Adam's first step, which is $\alpha$.
# :::
# ::::
#
# :::: exercise The momentum schedule, step by step
# Compute $\mu_1$, and the first step at which $\mu_t \ge 0.9\beta_1$, with the defaults $\beta_1 = 0.9$ and
# $\psi = 0.004$.
#
# ::: answer
# $\mu_1 = 0.9\,(1 - \frac12 \cdot 0.96^{0.004}) = 0.4501$, just above $\beta_1/2$. $\mu_t \ge 0.9\beta_1$ when
# $0.96^{t\psi} \le 0.2$, that is $t \ge \ln 5/(\psi\ln(1/0.96)) = 9856.4$: from step 9857. The same computation with
# $0.1$ gives the page's "about 14,100" for $0.95\beta_1$: step 14102.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. In the experiment NAdam runs at its usual
# rate (Dozat's; PyTorch's default), twice Adam's.
ENTRY = OptimizerEntry(
    NAdam,
    paper="https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
    reference=Reference(torch.optim.NAdam, ours=dict(lr=1e-2), theirs=dict(lr=1e-2, foreach=False)),
    experiment=ExperimentLine("nadam", 2e-3, position=6),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's NAdam, and a twin trained with
# `torch.optim.NAdam` on the same gradients. Both defaults are the same ($\epsilon = 10^{-8}$,
# $\psi = 0.004$), and so is the update. The comparison runs with PyTorch's default dtype float64, since
# `torch.optim.NAdam` keeps its product of the $\mu_t$ in a tensor of that dtype.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: NAdam(params, lr=1e-2),
        lambda params: torch.optim.NAdam(params, lr=1e-2),
        name="NAdam",
        reference_name="torch.optim.NAdam",
    )
