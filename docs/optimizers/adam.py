# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adam Optimizer
summary: An annotated PyTorch implementation of the Adam optimizer, with the bias correction, the bound on its step and the exact meaning of its epsilon.
paper_title: Adam: A Method for Stochastic Optimization
paper_authors: Diederik P. Kingma and Jimmy Ba
paper_year: 2015
paper_type: inproceedings
paper_venue: 3rd International Conference on Learning Representations (ICLR 2015)
paper_arxiv: 1412.6980
paper_arxiv_class: cs.LG
---

# Adam Optimizer

This page implements *Adam* from the paper
[Adam: A Method for Stochastic Optimization](https://arxiv.org/abs/1412.6980)
by Kingma and Ba, in PyTorch, on top of the `GenericAdaptiveOptimizer` of this
[chapter's index page](index.html).

Adam combines two ideas of the pages before it. From [RMSProp](rmsprop.html) it takes a running
average of the squared gradient, which gives each coordinate its own step size; from
[SGD's momentum](sgd.html#the-buffer-is-polyaks-heavy-ball) it takes a running average of the
gradient, which smooths the direction. [RMSProp's page](rmsprop.html#adam-is-rmsprop-plus-momentum-plus-bias-correction)
ends by building Adam from RMSProp; what Adam adds is the bias correction.

Adam keeps two running averages for every parameter: $m_t$, of the gradient, and
$v_t$, of the squared gradient. At step $t$, with gradient $g_t$,

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{v}_t &\leftarrow \frac{v_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

The learning rate $\alpha$, the decay rates $\beta_1, \beta_2 \in [0, 1)$ and $\epsilon$ are
hyper-parameters; the squares and the square root are taken element by element.
Both averages start at zero, so early on they are biased towards zero; dividing by
$1-\beta^t$ removes that bias exactly when the gradients are stationary, which gives the
bias-corrected moments $\hat{m}_t$ and $\hat{v}_t$.
$\epsilon$ keeps the division finite when $\hat{v}_t$ is zero; when it is not tiny compared
with $\sqrt{\hat{v}_t}$ it also damps the step, so it acts as a hyper-parameter too.

## How large is a step?

With $\epsilon = 0$ the update of each coordinate is

$$\Delta_t = -\alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t}}$$

(note the square root: the ratio of the mean to the root mean square of the recent
gradients). It does not depend on the scale of the gradients: multiply every $g$ by $c$
and $\hat m_t$ grows by $c$, $\sqrt{\hat v_t}$ by $|c|$. On the first step
$\hat{m}_1 = g_1$ and $\hat{v}_1 = g_1^2$, so $|\Delta_1| = \alpha$ exactly.

How large can it get later? Write $m_t$ and $v_t$ as weighted sums of the past gradients and
apply the Cauchy–Schwarz inequality; with $r = \beta_1^2/\beta_2 < 1$,

$$\vert\Delta_t\vert \le \alpha \, \frac{1-\beta_1}{\sqrt{1-\beta_2}} \, \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
\sqrt{\frac{1-r^t}{1-r}}$$

The paper states a simpler bound, $\alpha (1-\beta_1)/\sqrt{1-\beta_2}$ when
$1-\beta_1 > \sqrt{1-\beta_2}$ and $\alpha$ otherwise. That is the step after a long run of
zero gradients followed by a single non-zero one ($3.16\alpha$ with the default betas), but
it is not an upper bound: gradients that grow by a factor $\beta_2/\beta_1$ every step make
the Cauchy–Schwarz inequality an equality, and with the default betas the step then
approaches $7.27\alpha$. The tests of this page check both numbers. In common training,
where gradients fluctuate around a slowly changing mean, $|\Delta_t| \lesssim \alpha$:
$\alpha$ is a trust region for each coordinate's step.

The paper also proves an $O(\sqrt{T})$ regret bound for online convex problems; its proof has an
error, and it is about a decaying $\beta_1$ and rate, not the Adam above.
[What convergence theorems promise](convergence.html) says what it assumes.

## What `eps` means here

With `optimized_update=True` (the default, as in [nn.labml.ai's Adam](https://nn.labml.ai/optimizers/adam.html),
the implementation this chapter's interface follows) the code does
not compute $\hat{m}_t$ and $\hat{v}_t$; it folds both bias corrections into one scalar and
adds its `eps` to $\sqrt{v_t}$ instead of $\sqrt{\hat{v}_t}$. Call that value $\hat\epsilon$:

\begin{align}
\theta_t &= \theta_{t-1} - \alpha \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon} \\
&= \theta_{t-1} - \alpha \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \cdot
   \frac{m_t}{\sqrt{v_t} + \epsilon\sqrt{1-\beta_2^t}}
\end{align}

So the optimized update equals the textbook update when
$\hat{\epsilon} = \epsilon\sqrt{1-\beta_2^t}$ (nn.labml.ai's page writes $(1-\beta_2^t)\epsilon$,
which drops the square root: that is wrong). Since $\hat\epsilon$ is a constant, the textbook $\epsilon$ that it
stands for changes with $t$: $\epsilon_t = \hat\epsilon / \sqrt{1-\beta_2^t}$, about $31.6\hat\epsilon$
on the first step with $\beta_2 = 0.999$, falling to $\hat\epsilon$ after a few thousand steps.
No constant `eps` makes the optimized update equal to `torch.optim.Adam(eps=e)`;
`optimized_update=False, eps=e` does (the tests check it to float rounding), and
`optimized_update=True, eps=e` approaches it as $t$ grows.
The default `eps=1e-16` follows nn.labml.ai: it only guards against division
by zero and has no damping effect, unlike `torch.optim.Adam`'s `1e-8`.

## Gradients that are not finite

A NaN or infinite gradient is not filtered: as in `torch.optim.Adam`, it enters $m_t$ and
$v_t$ and makes the parameter NaN. Skipping such steps is the job of a loss scaler
(`torch.amp.GradScaler` skips the `step()` call when it finds one), and silently hiding a
diverging run would be worse.
"""

import math
from typing import Any, Optional

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class Adam(GenericAdaptiveOptimizer):
    r"""
    ## Adam Optimizer

    It fills in the two hooks of `GenericAdaptiveOptimizer`, from the [index page](index.html),
    and splits the update into small methods (`get_mv`, `get_lr`, `adam_update`) that the
    optimizers built on it override one at a time.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        optimized_update: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$
        * `betas` is the pair $(\beta_1, \beta_2)$
        * `eps` is $\hat{\epsilon}$ when `optimized_update` is true and $\epsilon$ otherwise
        * `weight_decay` is a `WeightDecay` from the [index page](index.html)
        * `optimized_update` chooses where `eps` is added: to $\sqrt{v_t}$, before the bias
          correction (faster), or to $\sqrt{\hat v_t}$ (the paper's update)
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass, so that classes that extend
          `Adam` can add hyper-parameters
        """
        # Every hyper-parameter lives in the parameter groups, so that `state_dict()` saves it.
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.setdefault("optimized_update", optimized_update)
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter

        * `state` is the optimizer state of the parameter
        * `group` holds the hyper-parameters of the parameter's group
        * `param` is the parameter tensor $\theta_{t-1}$
        """
        # The number of steps taken on this parameter, $t$
        state["step"] = 0
        # The running average of the gradients, $m_t$, in the parameter's dtype, device and layout
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # The running average of the squared gradients, $v_t$
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_mv(self, state: State, group: Group, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""
        ### Update $m_t$ and $v_t$

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$

        Returns the new $(m_t, v_t)$, updated in place in the state.
        """
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$, written as
        # $m_{t-1} + (1-\beta_1)(g_t - m_{t-1})$: one fused in-place operation
        m.lerp_(grad, 1 - beta1)
        # $v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        return m, v

    def get_lr(self, state: State, group: Group) -> float:
        r"""
        ### The learning rate in effect

        For Adam this is the group's learning rate $\alpha$. Optimizers with a warm-up or a
        schedule built in override it; weight decay and the update both use its value.
        """
        return group["lr"]

    def adam_update(self, state: State, group: Group, param: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> None:
        r"""
        ### Update the parameter

        * `m` and `v` are the moments $m_t$ and $v_t$ without bias correction

        This computes
        $\theta_t \leftarrow \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$,
        in one of the two forms derived at the top of the page.
        """
        beta1, beta2 = group["betas"]
        # $1 - \beta_1^t$, the bias correction of $m_t$
        bias_correction1 = 1 - beta1 ** state["step"]
        # $1 - \beta_2^t$, the bias correction of $v_t$
        bias_correction2 = 1 - beta2 ** state["step"]
        lr = self.get_lr(state, group)

        if group["optimized_update"]:
            # $\sqrt{v_t} + \hat{\epsilon}$: one tensor operation less than the paper's form
            denominator = v.sqrt().add_(group["eps"])
            # $\alpha \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}$, a Python scalar
            step_size = lr * math.sqrt(bias_correction2) / bias_correction1
            # $\theta_t \leftarrow \theta_{t-1} - \alpha \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
            # \frac{m_t}{\sqrt{v_t} + \hat{\epsilon}}$
            param.addcdiv_(m, denominator, value=-step_size)
        else:
            # $\sqrt{\hat{v}_t} + \epsilon = \frac{\sqrt{v_t}}{\sqrt{1-\beta_2^t}} + \epsilon$
            denominator = (v.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
            # $\frac{\alpha}{1-\beta_1^t}$
            step_size = lr / bias_correction1
            # $\theta_t \leftarrow \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$
            param.addcdiv_(m, denominator, value=-step_size)

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$
        """
        # $t \leftarrow t + 1$. It comes first so that `get_lr` sees this step's $t$
        # (warm-up schedules depend on it) for the weight decay as for the update.
        state["step"] += 1
        # Weight decay, with the learning rate in effect at this step. L2 regularization
        # returns a new gradient; decoupled decay shrinks `param` and returns `grad` unchanged.
        grad = WeightDecay.apply(param, grad, group, self.get_lr(state, group))
        # $m_t$ and $v_t$
        m, v = self.get_mv(state, group, grad)
        # $\theta_t$
        self.adam_update(state, group, param, m, v)


# ## Exercises
#
# :::: exercise The bound that geometric gradients reach
# Show that gradients growing by the factor $\beta_2/\beta_1$ each step make the step bound of
# *How large is a step?* an equality, and compute its limit as $t \to \infty$ for
# $\beta_1 = 0.9$, $\beta_2 = 0.999$.
#
# ::: answer
# Write $m_t = (1-\beta_1)\sum_{k \le t} \beta_1^{t-k} g_k$ and $v_t = (1-\beta_2)\sum_{k \le t} \beta_2^{t-k} g_k^2$.
# Cauchy–Schwarz with the weights $a_k = \beta_1^{t-k}\beta_2^{-(t-k)/2}$ and $b_k = \beta_2^{(t-k)/2} g_k$ gives
# $|\sum_k \beta_1^{t-k} g_k| \le \sqrt{\sum_k r^{t-k}}\sqrt{\sum_k \beta_2^{t-k} g_k^2}$ with $r = \beta_1^2/\beta_2$,
# which is the bound. Equality needs $b_k \propto a_k$, that is $g_k \propto (\beta_1/\beta_2)^{t-k}$:
# gradients that grow by $\beta_2/\beta_1$ per step. As $t \to \infty$ the bias corrections go to 1 and
#
# $$\frac{|\Delta_t|}{\alpha} \to \frac{1-\beta_1}{\sqrt{1-\beta_2}}\frac{1}{\sqrt{1-r}} = 3.162 \times 2.299 = 7.27$$
# :::
# ::::
#
# :::: exercise One gradient after a long silence
# After many steps of zero gradient, one gradient $g$ arrives. How large is the step, in units of $\alpha$?
#
# ::: answer
# $m_t = (1-\beta_1) g$ and $v_t = (1-\beta_2) g^2$, and after many steps the bias corrections are 1, so
# $|\Delta_t| = \alpha (1-\beta_1)/\sqrt{1-\beta_2} = 3.16\alpha$ with the default betas: the paper's bound,
# reached, but not an upper bound (the exercise above exceeds it).
# :::
# ::::
#
# :::: exercise What `optimized_update` does to $\epsilon$ on the first step
# With `optimized_update=True` and `eps` $= \hat\epsilon$, which textbook $\epsilon_1$ does the first
# step use when $\beta_2 = 0.999$? Predict, then check with the two forms of `adam_update`.
#
# ::: answer
# $\epsilon_t = \hat\epsilon/\sqrt{1-\beta_2^t}$, so $\epsilon_1 = \hat\epsilon/\sqrt{0.001} = 31.6\,\hat\epsilon$:
# the optimized update with $\hat\epsilon$ equals `optimized_update=False` with $\epsilon = 31.6\,\hat\epsilon$ on step 1.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. Its reference, `torch.optim.Adam`, takes L2
# decay, so ours is given L2 decay too.
ENTRY = OptimizerEntry(
    Adam,
    paper="https://arxiv.org/abs/1412.6980",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
    reference=Reference(
        torch.optim.Adam,
        ours=dict(lr=1e-2, eps=1e-8, optimized_update=False, weight_decay=WeightDecay(0.1, weight_decouple=False)),
        theirs=dict(lr=1e-2, eps=1e-8, weight_decay=0.1, foreach=False),
    ),
    experiment=ExperimentLine("adam", 1e-3, position=1),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Adam, and a twin trained with
# `torch.optim.Adam` on the same gradients. `optimized_update=False` adds $\epsilon$ to $\sqrt{\hat v_t}$,
# where PyTorch adds it, and `eps=1e-8` is PyTorch's default (see *What `eps` means here* above), so the
# two compute the same update and the parameters end within float64 rounding.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: Adam(params, lr=1e-2, eps=1e-8, optimized_update=False),
        lambda params: torch.optim.Adam(params, lr=1e-2, eps=1e-8),
        name="Adam",
        reference_name="torch.optim.Adam",
    )
