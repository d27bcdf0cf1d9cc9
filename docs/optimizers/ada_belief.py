# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: AdaBelief Optimizer
summary: An annotated PyTorch implementation of AdaBelief, which divides by the spread of the gradient around its running mean instead of by its magnitude, following the paper's Algorithm 2 to the epsilon.
paper_title: AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients
paper_authors: Juntang Zhuang, Tommy Tang, Yifan Ding, Sekhar Tatikonda, Nicha Dvornek, Xenophon Papademetris and James S. Duncan
paper_year: 2020
paper_type: inproceedings
paper_venue: Advances in Neural Information Processing Systems 33 (NeurIPS 2020)
paper_arxiv: 2010.07468
paper_arxiv_class: cs.LG
---

# AdaBelief Optimizer

This page implements *AdaBelief* from the paper
[AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients](https://arxiv.org/abs/2010.07468)
(arXiv:2010.07468) by Zhuang et al., NeurIPS 2020, on top of our [RAdam](radam.html), whose
rectification it can use.

## The idea

Adam divides the momentum $m_t$ by $\sqrt{v_t}$, the root mean square of the gradients.
AdaBelief divides by the root mean square of $g_t - m_t$, how far each gradient lands from
the running mean that *predicts* it. When the gradients agree with the prediction (the
optimizer "believes" them) the denominator is small and the step large; when they scatter
around it the step is small. The two differ most on a slope that is steep but straight:
Adam's $\sqrt{v_t}$ is large there because $|g_t|$ is, and it crawls; AdaBelief's
denominator is small because consecutive gradients are alike, and it moves fast. With a
constant gradient $g$, Adam's step settles at $\alpha$, while AdaBelief's residual
$g - m_t = \beta_1^t g$ dies out and its step keeps growing. With the default betas and
$g = 5$ it is $12.9\alpha$ after 1000 steps and $32.0\alpha$ after 2000 with the default
`rectify=True` (below), and $20.0\alpha$ and $38.6\alpha$ with `rectify=False`, the paper's
Algorithm 2 (the tests check these numbers).

The paper's Algorithm 2, with $t = 1, 2, \dots$ and $m_0 = s_0 = 0$:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
s_t &\leftarrow \beta_2 s_{t-1} + (1 - \beta_2) (g_t - m_t)^2 + \epsilon \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \\
\hat{s}_t &\leftarrow \frac{s_t + \epsilon}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha \frac{\hat{m}_t}{\sqrt{\hat{s}_t} + \epsilon}
\end{align}

Note two details. The residual uses the *new* mean $m_t$, which already contains $g_t$. And
$\epsilon$ appears three times: inside the recurrence of $s_t$ (so it accumulates, to
$\epsilon (1-\beta_2^t)/(1-\beta_2)$), again in the bias correction, and after the square root.
Because it sits under the square root, AdaBelief's $\epsilon$ compares with Adam's $\epsilon^2$,
but not one for one: the recurrence's $\epsilon$ accumulates to $\epsilon/(1-\beta_2)$, a thousand
times itself for $\beta_2 = 0.999$. Once the residuals vanish, $\sqrt{\hat s_t}$ bottoms out at
$\sqrt{\epsilon/(1-\beta_2) + \epsilon} \approx 3.16 \times 10^{-7}$ for the default
$\epsilon = 10^{-16}$: about 32 times Adam's floor of $10^{-8}$, so the default does not correspond
to Adam's $10^{-8}$ (that would take $\epsilon \approx 10^{-19}$). With AMSGrad, $s_t$ is replaced by its
running maximum before the bias correction.

## Where we differ

* **Rectification.** The paper's Algorithm 2 has none, but the authors' code adds
  [RAdam](radam.html)'s rectification and turns it on by default (`rectify=True`), and so do we.
  With `rectify=True`, $\hat s_t$ takes the place of $\hat v_t$ in RAdam's update, with its
  threshold $\rho_t > 5$ (the authors' code uses $\rho_t \ge 5$; see the RAdam page).
  `rectify=False` is the paper's Algorithm 2.
* **$\epsilon$ in the bias correction.** The authors' code adds $\epsilon$ to $s_t$ in place
  (the recurrence $\epsilon$) and after the square root, but not in the bias correction. We follow
  the paper, all three times. The difference is $\epsilon / (1-\beta_2^t)$ inside the square root;
  with the default $\epsilon = 10^{-16}$ it is invisible, with $\epsilon = 10^{-8}$ it is not.
* **The last $\epsilon$.** With `optimized_update=True` (the default, as in all this chapter) the
  third $\epsilon$ is added to $\sqrt{s_t + \epsilon}$ before the bias correction instead of to
  $\sqrt{\hat s_t}$, as explained on the [Adam page](adam.html); `optimized_update=False` is the
  paper's form, which the tests compare with a float64 reference of Algorithm 2.
* **Weight decay** is the chapter's `WeightDecay`: off by default; `WeightDecay(λ)` is the
  decoupled decay of the authors' code, `WeightDecay(λ, weight_decouple=False)` is L2.

AdaBelief keeps two tensors per parameter, $m$ and $s$, as Adam does (three with `amsgrad=True`).

::: appendix Where we differ from nn.labml.ai

* nn.labml.ai's `AdaBelief` passes its arguments to `RAdam` by position and skips
  `optimized_update`, so its `amsgrad` lands in `optimized_update` and its `degenerate_to_sgd=True`
  lands in `amsgrad`: AMSGrad is silently on by default. We pass every argument by name; the
  defaults are `amsgrad=False`, `degenerate_to_sgd=True`, `rectify=True`, in nn.labml.ai's positional
  order, with `optimized_update` keyword-only.
* nn.labml.ai also leaves $\epsilon$ out of the recurrence of $s_t$.
:::
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry


class AdaBelief(RAdam):
    r"""
    ## AdaBelief Optimizer

    It replaces the second moment (`init_state`, `get_mv`) and chooses between Adam's and
    RAdam's update (`adam_update`); the weight decay and the loop are inherited.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        amsgrad: bool = False,
        degenerate_to_sgd: bool = True,
        rectify: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        optimized_update: bool = True,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `rectify` uses RAdam's rectified update (`True`, the authors' default) or Adam's (`False`,
          the paper's Algorithm 2)
        * `degenerate_to_sgd` is as for [`RAdam`](radam.html); it only matters with `rectify=True`
        * `eps` is $\epsilon$ of all three places above
        * the other arguments are as for [`AMSGrad`](amsgrad.html)
        """
        defaults = dict(defaults or {})
        defaults.setdefault("rectify", rectify)
        # By name: this is the fix for nn.labml.ai's shifted positional arguments.
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            optimized_update=optimized_update,
            amsgrad=amsgrad,
            degenerate_to_sgd=degenerate_to_sgd,
            defaults=defaults,
            maximize=maximize,
        )

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        if not isinstance(group["rectify"], bool):
            raise ValueError(f"Invalid rectify value: {group['rectify']!r} (must be True or False)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t$
        state["step"] = 0
        # $m_0 = 0$
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # $s_0 = 0$, the running average of $(g_t - m_t)^2$
        state["exp_avg_var"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # $s^{max}_0 = 0$, with AMSGrad
        if group["amsgrad"]:
            state["max_exp_avg_var"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_ms(self, state: State, group: Group, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""
        ### Update $m_t$ and $s_t$

        Returns $(m_t, s_t)$, or $(m_t, s^{max}_t)$ with AMSGrad, updated in place in the state.
        """
        beta1, beta2 = group["betas"]
        m, s = state["exp_avg"], state["exp_avg_var"]
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        m.lerp_(grad, 1 - beta1)
        # $g_t - m_t$, against the mean that already includes $g_t$
        residual = grad - m
        # $s_t \leftarrow \beta_2 s_{t-1} + (1 - \beta_2)(g_t - m_t)^2 + \epsilon$
        s.mul_(beta2).addcmul_(residual, residual, value=1 - beta2).add_(group["eps"])
        if not group["amsgrad"]:
            return m, s
        # As in `AMSGrad.get_mv`, a buffer missing because `amsgrad` was switched on later starts at 0.
        if "max_exp_avg_var" not in state:
            state["max_exp_avg_var"] = torch.zeros_like(s, memory_format=torch.preserve_format)
        s_max = state["max_exp_avg_var"]
        # $s^{max}_t \leftarrow \max(s^{max}_{t-1}, s_t)$
        torch.maximum(s_max, s, out=s_max)
        return m, s_max

    def get_mv(self, state: State, group: Group, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""
        ### The moments the update divides by

        Adam's and RAdam's updates divide by $\sqrt{v / (1-\beta_2^t)}$; giving them
        $v = s_t + \epsilon$ makes that $\sqrt{\hat s_t}$, with the bias-correction $\epsilon$ of
        Algorithm 2. It is a new tensor, so the stored $s_t$ does not collect it.
        """
        m, s = self.get_ms(state, group, grad)
        return m, s + group["eps"]

    def adam_update(self, state: State, group: Group, param: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> None:
        r"""
        ### Update the parameter

        RAdam's rectified update, or Adam's plain one with `rectify=False`.
        """
        if group["rectify"]:
            self.r_adam_update(state, group, param, m, v)
        else:
            Adam.adam_update(self, state, group, param, m, v)


# ## Exercises
#
# :::: exercise The first step
# How far does AdaBelief move on its first step, with gradient $g_1 = g$ and $\epsilon$ negligible, in units of
# $\alpha$: with `rectify=False` (the paper's Algorithm 2), and with the default `rectify=True`? Compare with
# Adam's first step, for $g = 5$ and for $g = 0.01$.
#
# ::: answer
# $m_1 = (1-\beta_1) g$, so the residual is $g - m_1 = \beta_1 g$ and $s_1 = (1-\beta_2)\beta_1^2 g^2$ (plus
# $\epsilon$). The bias corrections give $\hat m_1 = g$ and $\hat s_1 = \beta_1^2 g^2$, so with `rectify=False` the
# step is $\alpha\, g/(\beta_1 |g|)$, of size $\alpha/\beta_1 = 1.11\alpha$ for every $g$, where Adam's is $\alpha$:
# because the residual is measured from the new mean, even the first gradient lands only $\beta_1|g|$ from it.
# With `rectify=True`, $\rho_1 = 1 \le 5$ and the step is RAdam's momentum-SGD step $\alpha \hat m_1 = \alpha g$:
# $5\alpha$ for $g = 5$ and $0.01\alpha$ for $g = 0.01$. Until $\rho_t > 5$, at $t = 6$, the steps scale with
# the gradient, as SGD's do.
# :::
# ::::
#
# :::: exercise A gradient that flips sign every step
# Let $g_t = (-1)^t G$. Once the bias corrections are 1 and the moments have settled into their two-step cycle,
# whose steps are larger, Adam's or AdaBelief's with `rectify=False`, and by how much? Take $\epsilon$ negligible
# and the default betas.
#
# ::: answer
# Try $m_t = c\, g_t$: $c\, g_t = -\beta_1 c\, g_t + (1-\beta_1) g_t$ gives $c = (1-\beta_1)/(1+\beta_1) = 0.0526$,
# for both optimizers. Adam's $v_t$ settles at $G^2$, so its step is $0.0526\alpha$. AdaBelief's residual is
# $g_t - m_t = (1-c)\, g_t = \frac{2\beta_1}{1+\beta_1} g_t$, so $\sqrt{s_t}$ settles at
# $\frac{2\beta_1}{1+\beta_1} G = 0.947G$ and its step is $\frac{1-\beta_1}{2\beta_1}\alpha = 0.0556\alpha$: larger
# than Adam's, by $\frac{1+\beta_1}{2\beta_1} = 1.056$. Gradients that scatter make both steps small through
# $m_t$, not through AdaBelief's denominator: measured from the new mean, which has moved towards $g_t$, the
# residual is a little *smaller* than $|g_t|$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. `torch.optim` has no AdaBelief.
ENTRY = OptimizerEntry(
    AdaBelief,
    paper="https://arxiv.org/abs/2010.07468",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
    experiment=ExperimentLine("adabelief", 1e-3, position=5),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's AdaBelief, rectified as RAdam is by
# default. PyTorch has no AdaBelief and the authors' `adabelief-pytorch` package is not a dependency, so it
# trains alone; the tests compare it with the paper's algorithm written out in float64.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: AdaBelief(params, lr=1e-2), name="AdaBelief")
