# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Noam optimizer
summary: An annotated PyTorch implementation of the learning-rate schedule of the Transformer paper (warm-up, then inverse square-root decay) built into Adam.
paper_title: Attention Is All You Need
paper_authors: Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones, Aidan N. Gomez, Łukasz Kaiser and Illia Polosukhin
paper_year: 2017
paper_type: inproceedings
paper_venue: Advances in Neural Information Processing Systems 30 (NIPS 2017)
paper_pages: 5998-6008
paper_arxiv: 1706.03762
paper_arxiv_class: cs.CL
---

# Noam optimizer

This page builds the learning-rate schedule of
[Attention Is All You Need](https://arxiv.org/abs/1706.03762) (arXiv:1706.03762) by
Vaswani et al., 2017, into [AMSGrad](amsgrad.html) (Adam by default, `amsgrad=False`). The name
comes from Noam Shazeer, one of the paper's authors, via the
*Annotated Transformer*. The rate grows linearly for $w$ steps and then decays as $1/\sqrt{t}$:

\begin{align}
\alpha_t &= \alpha \, \frac{1}{\sqrt{d_{model}}} \min\left(\frac{1}{\sqrt{t}}, \frac{t}{w^{3/2}}\right) \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

The two terms of the minimum are equal at $t = w$, so the peak rate is
$\alpha / \sqrt{d_{model}\, w}$. Dividing by $\sqrt{d_{model}}$ makes wider models take smaller
steps. The paper used $d_{model} = 512$, $w = 4000$, $\beta_1 = 0.9$, $\beta_2 = 0.98$ and
$\epsilon = 10^{-9}$, for a peak rate of about $7 \times 10^{-4}$.

![The learning rate over steps for a few settings](noam_schedule.svg)

The plot is drawn by [the schedules page](lr_schedules.html) from this class's `get_lr`.

## Where we differ from the paper

* **The factor $\alpha$.** The paper's formula has no $\alpha$ (it is $1$). We keep the
  group's `lr` as a multiplier, so that the schedule composes with a
  `torch.optim.lr_scheduler` and with per-group rates. To reproduce the paper pass `lr=1.0`;
  the default `lr=1e-3` gives a peak rate a thousand times smaller.
* **`warmup=0`.** With $w = 0$ the formula divides by zero. We define it as the
  limit $w \to 0^+$: $t/w^{3/2} \to \infty$, so the minimum is $1/\sqrt{t}$ and the schedule is
  a pure inverse square-root decay with no warm-up, starting at
  $\alpha/\sqrt{d_{model}}$. A negative or non-integer `warmup` is refused.

The rate also scales the decoupled weight decay, as on the [warm-up page](adam_warmup.html).

::: appendix Where we differ from nn.labml.ai

* The `lr` multiplier and its default `1e-3` are nn.labml.ai's.
* `warmup=0` is nn.labml.ai's default, and there the first step raises `ZeroDivisionError`.
* `warmup` and `d_model` live in the parameter groups (nn.labml.ai keeps them on the optimizer
  object, so `state_dict()` lost them).
:::
"""

import numbers
from typing import Any, Optional

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.adam_warmup import check_warmup
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.registry import OptimizerEntry


class Noam(AMSGrad):
    r"""
    ## Noam optimizer
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
        warmup: int = 0,
        d_model: int = 512,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `warmup` is $w$, the number of warm-up steps; `0` means no warm-up (see above)
        * `d_model` is $d_{model}$, the width of the model
        * the other arguments are as for [`AMSGrad`](amsgrad.html)
        """
        defaults = dict(defaults or {})
        defaults.setdefault("warmup", warmup)
        defaults.setdefault("d_model", d_model)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        check_warmup(group["warmup"])
        d_model = group["d_model"]
        if isinstance(d_model, bool) or not isinstance(d_model, numbers.Integral) or d_model <= 0:
            raise ValueError(f"Invalid d_model value: {d_model!r} (must be a positive int, the model width)")

    def get_lr(self, state: State, group: Group) -> float:
        r"""
        ### The learning rate in effect

        $t$ = `state["step"]` already counts this step, so it is at least $1$.
        """
        step, warmup = state["step"], group["warmup"]
        # $\frac{1}{\sqrt{t}}$, the decay
        factor = step**-0.5
        # $\min(\frac{1}{\sqrt{t}}, t w^{-3/2})$; with $w = 0$ the second term is $+\infty$ (the limit)
        if warmup > 0:
            factor = min(factor, step * warmup**-1.5)
        # $\alpha \, d_{model}^{-1/2}$ times the factor
        return group["lr"] * factor / group["d_model"] ** 0.5


# ## Exercises
#
# :::: exercise Where the schedule peaks
# Show that $d_{\text{model}}^{-1/2}\min(t^{-1/2}, t\,w^{-3/2})$ peaks at $t = w$, and compute the peak
# for the Transformer's $d_{\text{model}} = 512$, $w = 4000$.
#
# ::: answer
# $t\,w^{-3/2}$ rises and $t^{-1/2}$ falls; they are equal when $t^{3/2} = w^{3/2}$, at $t = w$, where
# both are $w^{-1/2}$. The peak is $(512 \cdot 4000)^{-1/2} = 6.99 \cdot 10^{-4}$, times the group's `lr`.
# :::
# ::::
#
# :::: exercise The rate at the end of training
# The paper trained its base model for 100,000 steps. With $\alpha = 1$, $d_{\text{model}} = 512$ and $w = 4000$,
# at which step has the rate fallen to half of its peak, and what is it on the last step?
#
# ::: answer
# From $t = w$ on, $\alpha_t = (d_{\text{model}}\, t)^{-1/2}$, so $\alpha_t/\alpha_w = \sqrt{w/t}$: half the peak at
# $t = 4w = 16{,}000$, and $\sqrt{4000/100{,}000} = 0.2$ of it at $t = 100{,}000$, where it is
# $1.40 \cdot 10^{-4}$. The decay is slow and has no end: the schedule does not know how long training lasts,
# and the last step still runs at a fifth of the peak.
# :::
# ::::
#
# :::: exercise What `warmup=0` does to the first step
# Change $w = 4000$ to `warmup=0`, with $\alpha = 1$ and $d_{\text{model}} = 512$. What is the rate at $t = 1$, how
# many times the peak of the $w = 4000$ schedule is it, and from which step on do the two schedules agree?
#
# ::: answer
# Without warm-up the rate is $(d_{\text{model}}\, t)^{-1/2}$ from the start: $512^{-1/2} = 0.0442$ at $t = 1$,
# where the warm-up schedule has $1.75 \cdot 10^{-7}$. That is $\sqrt{w} = 63.2$ times the warm-up schedule's
# peak $(512 \cdot 4000)^{-1/2}$, on the step on which Adam moves every coordinate by the whole rate. From $t = w$
# on the minimum is $t^{-1/2}$ in both schedules, so they agree there; before it, `warmup=0` is higher.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. The [experiment](experiment.html) has no Noam
# line: its peak rate, $\alpha / \sqrt{d_{model} w}$ at $t = w$, is set by the model's width and the warm-up, which
# the paper chose for $d_{model} = 512$ and 4,000 warm-up steps, more steps than either of the experiment's runs.
# Its decaying schedule there is AdamW with [warm-up and cosine decay](adam_warmup_cosine_decay.html).
ENTRY = OptimizerEntry(
    Noam,
    paper="https://arxiv.org/abs/1706.03762",
    test_kwargs=dict(lr=1.0, warmup=5, d_model=16),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with the Noam schedule and a warm-up of 20 steps. With
# $d_{\text{model}} = 1$ the peak rate, at $t = w$, is $\alpha / \sqrt{w}$, so $\alpha = 10^{-2}\sqrt{20}$
# peaks at the $10^{-2}$ the other pages use. It trains alone; the tests compare it with a float64
# reference written from the formula above.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: Noam(params, lr=1e-2 * 20**0.5, warmup=20, d_model=1), name="Noam")
