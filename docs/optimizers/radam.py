# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Rectified Adam (RAdam)
summary: An annotated PyTorch implementation of RAdam, which turns Adam's adaptive rate off while its variance is undefined and scales it down while the variance is large.
paper_title: On the Variance of the Adaptive Learning Rate and Beyond
paper_authors: Liyuan Liu, Haoming Jiang, Pengcheng He, Weizhu Chen, Xiaodong Liu, Jianfeng Gao and Jiawei Han
paper_year: 2020
paper_type: inproceedings
paper_venue: 8th International Conference on Learning Representations (ICLR 2020)
paper_arxiv: 1908.03265
paper_arxiv_class: cs.LG
---

# Rectified Adam (RAdam)

This page implements *RAdam* from the paper
[On the Variance of the Adaptive Learning Rate and Beyond](https://arxiv.org/abs/1908.03265)
(arXiv:1908.03265) by Liu et al., ICLR 2020, on top of our [AMSGrad](amsgrad.html)
(Adam by default, `amsgrad=False`).

*Notation.* $\rho_t$ (the length of the approximated simple moving average) and $\psi_t$ (the adaptive rate) are the paper's, kept because the variance derivation is the paper's; on other pages $\rho$ and $\psi$ mean other things (see the [notation table](index.html#notation)).

## The problem: the adaptive rate is noisy at the start

Call $\psi_t = \sqrt{(1-\beta_2^t)/v_t}$ the *adaptive learning rate* of a coordinate: Adam's
step is $\alpha\,\hat m_t\,\psi_t$. Early in training $v_t$ averages only a few squared
gradients, so $\psi_t$ is the inverse of a very noisy estimate, and a noisy estimate in a
denominator is worse than a noisy numerator: when one $g_1$ happens to be tiny, $\psi_1 = 1/|g_1|$
is huge. The paper's analysis makes this exact. If the gradients are
$\mathcal{N}(0, \sigma^2)$, $\psi_t^2$ behaves like a scaled inverse $\chi^2$ variable with
$\rho_t$ degrees of freedom, where $\rho_t$ is the length of the *simple* moving average that
best matches Adam's exponential one:

\begin{align}
\rho_\infty &= \frac{2}{1-\beta_2} - 1 \\
\rho_t &= \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}
\end{align}

$\rho_1 = 1$ for every $\beta_2$, and $\rho_t$ grows by about one per step towards
$\rho_\infty$ ($1999$ for $\beta_2 = 0.999$). Under this model the variance of $\psi_t$ is
infinite while $\rho_t \le 2$ (for $t = 1, 2$, $\mathbb{E}[1/v_t]$ diverges), finite once
$\rho_t > 2$, and then falls towards its limit: for $\mathcal{N}(0, 1)$ gradients and
$\beta_2 = 0.999$, $\operatorname{Var}[\psi_3] = 1.090$ and $\operatorname{Var}[\psi_4] = 0.429$,
computed exactly. $\rho_t > 4$ is a different line: it is where the paper's first-order
approximation of that variance, and with it $r_t$ below, exists. A large variance early on is
what warm-up ([warm-up page](adam_warmup.html)) works around by keeping $\alpha_t$ small.

![rho_t, r_t and the empirical variance of the adaptive rate](radam_variance.svg)

The plot is drawn by [the variance page](radam_variance.html): on the left $\rho_t$ and
$r_t$, on the right the variance of $\psi_t$ over many random gradient sequences, for Adam
and for RAdam's rectified rate.

## The fix: rectify the variance

RAdam multiplies $\psi_t$ by $r_t$, chosen (to first order) so that $r_t \psi_t$ has the
variance of $\psi_\infty$, and uses plain momentum SGD while $r_t$ is not defined (or, as in
PyTorch, while $\rho_t \le 5$):

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
\theta_t &\leftarrow \begin{cases}
  \theta_{t-1} - \alpha_t\, r_t\, \hat{m}_t \, \dfrac{1}{\sqrt{\hat{v}_t} + \epsilon} & \rho_t > 5 \\[1ex]
  \theta_{t-1} - \alpha_t\, \hat{m}_t & \text{otherwise}
\end{cases}
\end{align}

$r_t$ rises from near $0$ to $1$ as $\rho_t \to \rho_\infty$, so RAdam warms up by itself, with a
schedule derived from $\beta_2$ instead of a hyper-parameter.

## Where we differ

* **The threshold.** The paper's Algorithm 2 switches on the adaptive rate when $\rho_t > 4$
  (where $r_t$ becomes real); the authors' code and nn.labml.ai use $\rho_t \ge 5$;
  `torch.optim.RAdam` uses $\rho_t > 5$. We use $\rho_t > 5$, like PyTorch, so that our
  trajectories match its (the tests check it). In practice only the paper's rule differs, by one
  step: with $\beta_2 = 0.999$, $\rho_5 \approx 4.996$ and $\rho_6 \approx 5.994$, so the other
  three rules first use the adaptive rate at $t = 6$ and the paper's at $t = 5$, with
  $r_5 \approx 0.017$.
* **$\epsilon$.** The paper's $\psi_t$ has no $\epsilon$. We add it as Adam does, in one of the
  two places explained on the [Adam page](adam.html); `optimized_update=True` (the default) adds it
  to $\sqrt{v_t}$, which is what `torch.optim.RAdam` does.
* **Skipping instead of SGD.** With `degenerate_to_sgd=False` the parameter is not moved while
  $\rho_t \le 5$ (the moments still accumulate), as in the authors' code. The authors' code also
  skips the weight decay on those steps; we still apply it, because the decay is done before the
  update for every optimizer of the chapter (`Adam.step_param`), and skipping it would make the
  regularization depend on the adaptive-rate machinery.
* **The name.** The flag is `degenerate_to_sgd`; the authors' code (and nn.labml.ai after it) spells
  it `degenerated_to_sgd`, which is accepted as a keyword too. It lives in the parameter groups.
* With $\beta_2 \le 2/3$, $\rho_\infty \le 5$ and RAdam never uses the adaptive rate: it is
  SGD with momentum. That is a legitimate, if odd, setting, so it is allowed.

RAdam keeps the same state as Adam (two tensors per parameter, three with `amsgrad=True`).
"""

import math
from typing import Any, Optional

import torch

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference

# The adaptive rate is used when $\rho_t$ is above this, as in `torch.optim.RAdam` (see above).
RHO_THRESHOLD = 5.0


class RAdam(AMSGrad):
    r"""
    ## RAdam Optimizer

    It overrides `adam_update`, the last step of `Adam.step_param`; the moments, the weight decay
    and AMSGrad's maximum are inherited.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        optimized_update: bool = True,
        amsgrad: bool = False,
        degenerate_to_sgd: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        degenerated_to_sgd: Optional[bool] = None,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `degenerate_to_sgd` chooses what happens while $\rho_t \le 5$: a momentum SGD step
          (`True`) or no step (`False`)
        * `degenerated_to_sgd` is the same flag under nn.labml.ai's name; give one or the other
        * the other arguments are as for [`AMSGrad`](amsgrad.html)
        """
        if degenerated_to_sgd is not None:
            # The default of `degenerate_to_sgd` is True, so only an explicit False can conflict.
            if degenerate_to_sgd is not True and degenerated_to_sgd != degenerate_to_sgd:
                raise ValueError(
                    f"degenerate_to_sgd={degenerate_to_sgd!r} and degenerated_to_sgd="
                    f"{degenerated_to_sgd!r} disagree; they are one flag, give one of them"
                )
            degenerate_to_sgd = degenerated_to_sgd
        defaults = dict(defaults or {})
        defaults.setdefault("degenerate_to_sgd", degenerate_to_sgd)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        if not isinstance(group["degenerate_to_sgd"], bool):
            raise ValueError(f"Invalid degenerate_to_sgd value: {group['degenerate_to_sgd']!r} (must be True or False)")

    @staticmethod
    def rho(beta2: float, step: int) -> tuple[float, float]:
        r"""
        ### $\rho_\infty$ and $\rho_t$

        Returns the pair $(\rho_\infty, \rho_t)$ for step $t \ge 1$.
        """
        # $\beta_2^t$
        beta2_t = beta2**step
        # $\rho_\infty = \frac{2}{1-\beta_2} - 1$
        rho_inf = 2 / (1 - beta2) - 1
        # $\rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}$
        return rho_inf, rho_inf - 2 * step * beta2_t / (1 - beta2_t)

    @staticmethod
    def calc_rectification_term(beta2: float, step: int) -> Optional[float]:
        r"""
        ### The rectification term $r_t$

        Returns `None` while $\rho_t \le 5$, when the adaptive rate is not used.
        """
        rho_inf, rho = RAdam.rho(beta2, step)
        if not rho > RHO_THRESHOLD:
            return None
        # $r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$;
        # $\rho_\infty > \rho_t > 5$ here, so nothing under the root is negative or zero.
        return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))

    def adam_update(self, state: State, group: Group, param: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> None:
        r"""
        ### Replace Adam's update with the rectified one
        """
        self.r_adam_update(state, group, param, m, v)

    def r_adam_update(self, state: State, group: Group, param: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> None:
        r"""
        ### Update the parameter

        * `m` and `v` are $m_t$ and $v_t$ (or $v^{max}_t$) without bias correction
        """
        beta1, beta2 = group["betas"]
        # $1 - \beta_1^t$
        bias_correction1 = 1 - beta1 ** state["step"]
        # $1 - \beta_2^t$
        bias_correction2 = 1 - beta2 ** state["step"]
        r = self.calc_rectification_term(beta2, state["step"])
        lr = self.get_lr(state, group)

        if r is not None:
            if group["optimized_update"]:
                # $\sqrt{v_t} + \hat\epsilon$, as in `torch.optim.RAdam`
                denominator = v.sqrt().add_(group["eps"])
                # $\alpha_t r_t \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}$
                step_size = lr * r * math.sqrt(bias_correction2) / bias_correction1
            else:
                # $\sqrt{\hat v_t} + \epsilon$
                denominator = (v.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                # $\frac{\alpha_t r_t}{1-\beta_1^t}$
                step_size = lr * r / bias_correction1
            # $\theta_t \leftarrow \theta_{t-1} - \alpha_t r_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}$
            param.addcdiv_(m, denominator, value=-step_size)
        elif group["degenerate_to_sgd"]:
            # $\theta_t \leftarrow \theta_{t-1} - \alpha_t \hat{m}_t$: SGD with (bias-corrected) momentum
            param.add_(m, alpha=-lr / bias_correction1)
        # Otherwise the parameter waits for $\rho_t > 5$.


# ## Exercises
#
# :::: exercise When rectification switches on
# With $\beta_2 = 0.999$, at which step $t$ does $\rho_t$ first exceed 5, so that RAdam takes its first
# adaptive step? Use $\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)$.
#
# ::: answer
# $\rho_\infty = 2/(1-\beta_2) - 1 = 1999$. Then $\rho_5 = 4.996$ and $\rho_6 = 5.994$: steps 1 to 5
# are momentum SGD and step 6 is the first adaptive one ($\rho_t \approx t$ for $t \ll 1/(1-\beta_2)$).
# The paper's threshold $\rho_t > 4$ would start at step 5.
# :::
# ::::
#
# :::: exercise The rectification on the first adaptive step
# Compute $r_6$ for $\beta_2 = 0.999$. Is the first adaptive step large or small compared with Adam's?
#
# ::: answer
# $r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}$ gives
# $r_6 = 0.0258$: the first adaptive step is under 3% of Adam's, and $r_t$ climbs towards 1 as $t$ grows.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. Its update differs from
# `torch.optim.RAdam`'s by rounding only (see the tests).
ENTRY = OptimizerEntry(
    RAdam,
    paper="https://arxiv.org/abs/1908.03265",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
    reference=Reference(torch.optim.RAdam, ours=dict(lr=1e-2, eps=1e-8), theirs=dict(lr=1e-2, eps=1e-8, foreach=False)),
    experiment=ExperimentLine("radam", 1e-3, position=4),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's RAdam, and a twin trained with
# `torch.optim.RAdam` on the same gradients. With PyTorch's `eps=1e-8` the two compute the same update: SGD
# with momentum while $\rho_t \le 5$ (the first six steps), then the rectified Adam step.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: RAdam(params, lr=1e-2, eps=1e-8),
        lambda params: torch.optim.RAdam(params, lr=1e-2, eps=1e-8),
        name="RAdam",
        reference_name="torch.optim.RAdam",
    )
