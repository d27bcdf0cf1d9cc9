# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adam with linear warm-up
summary: An annotated PyTorch implementation of Adam (or AMSGrad) whose learning rate rises linearly over the first steps.
paper_title: Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour
paper_authors: Priya Goyal, Piotr Dollár, Ross Girshick, Pieter Noordhuis, Lukasz Wesolowski, Aapo Kyrola, Andrew Tulloch, Yangqing Jia and Kaiming He
paper_year: 2017
paper_arxiv: 1706.02677
paper_arxiv_class: cs.CV
---

# Adam with linear warm-up

This page adds a *linear warm-up* to [AMSGrad](amsgrad.html) (which is Adam with
`amsgrad=False`, the default here): the learning rate starts small and grows linearly to its
full value over the first $w$ steps,

\begin{align}
\alpha_t &= \alpha \min\left(1, \frac{t}{w}\right) \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

with $t = 1, 2, \dots$ the step count, and the moments $\hat m_t$, $\hat v_t$ as on the
[Adam page](adam.html).
Gradual warm-up was popularized for large-batch SGD by
[Goyal et al., 2017](https://arxiv.org/abs/1706.02677) (arXiv:1706.02677), and the Transformer
([Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)) trained with it from the start.
Goyal et al.'s warm-up came with their rule that scales the rate with the batch; the page on
[learning rate and batch size](lr_batch_size.html) runs it.

## Why Adam needs it

On the first step Adam moves *every* coordinate by $\alpha$, whatever its gradient
(see [the Adam page](adam.html)): $\hat v_1 = g_1^2$, so the step is
$\alpha\,\mathrm{sign}(g_1)$. In the first few steps $\hat v_t$ averages only a handful of
squared gradients, so the adaptive rate $1/\sqrt{\hat v_t}$ is very noisy, and a step of full
size in a direction picked by that noise can push a large model somewhere it does not recover
from. [RAdam](radam.html) measures this variance and shows that warm-up is a way of reducing
it; its page plots the variance over the first steps. Starting with $\alpha_t \ll \alpha$ keeps
those early, badly scaled steps small while the second moment fills up.

::: appendix Where we differ from nn.labml.ai

* nn.labml.ai returns $10^{-8} + \alpha t / w$ during warm-up. The $10^{-8}$ was there so the
  rate is never zero; with steps counted from $t = 1$ (as in `torch.optim`; the step counter is
  incremented before the rate is read) $\alpha t / w$ is already positive, so we drop it and the
  rate is exactly proportional to $t$, reaching $\alpha$ at $t = w$.
* `warmup` lives in the parameter groups, not on the optimizer object, so `state_dict()` saves
  it and each group may warm up over its own number of steps.
:::

The rate returned by `get_lr` is used for the decoupled weight decay too (`Adam.step_param`
passes it to `WeightDecay.apply`), so the decay warms up along with the step, as it does when
a scheduler sets `lr`. The optimizer keeps two tensors per parameter ($m$, $v$), three with
`amsgrad=True`.
"""

import numbers
from typing import Any, Optional

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.registry import OptimizerEntry


def check_warmup(warmup: Any) -> None:
    r"""
    ### Check a warm-up length

    A step count: an integer, not a `bool` (`True` would mean a one-step warm-up), and not negative.
    The schedules on the [Noam](noam.html) and [cosine decay](adam_warmup_cosine_decay.html)
    pages use it too.
    """
    if isinstance(warmup, bool) or not isinstance(warmup, numbers.Integral) or warmup < 0:
        raise ValueError(f"Invalid warmup value: {warmup!r} (must be an int >= 0, a number of steps)")


class AdamWarmup(AMSGrad):
    r"""
    ## Adam with linear warm-up

    Only `get_lr` changes; `AMSGrad`/`Adam` call it for both the update and the weight decay.
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
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `warmup` is $w$, the number of warm-up steps; `0` means no warm-up
        * the other arguments are as for [`AMSGrad`](amsgrad.html)
        """
        defaults = dict(defaults or {})
        defaults.setdefault("warmup", warmup)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        check_warmup(group["warmup"])

    def get_lr(self, state: State, group: Group) -> float:
        r"""
        ### The learning rate in effect

        $\alpha_t = \alpha \min(1, t / w)$, with $t$ = `state["step"]`, already counting this step.
        """
        step, warmup = state["step"], group["warmup"]
        # $t < w$: the warm-up; `warmup=0` never enters it, so it needs no special case.
        if step < warmup:
            return group["lr"] * step / warmup
        return group["lr"]


# ## Exercises
#
# :::: exercise The rate at half the warm-up
# With $\alpha = 10^{-3}$ and $w = 1000$, what rate does `get_lr` return at $t = 500$, and at $t = 1$?
#
# ::: answer
# $\alpha_t = \alpha\min(1, t/w)$: $5 \cdot 10^{-4}$ at $t = 500$ and $10^{-6}$ at $t = 1$
# (a thousandth of $\alpha$, where Adam's first step would be $\alpha$ in every coordinate).
# :::
# ::::
#
# :::: exercise What the warm-up costs under a constant gradient
# The gradient is the same $g \ne 0$ on every step. With $\alpha = 10^{-3}$ and $w = 1000$, how far behind a run
# with `warmup=0` is the weight once the warm-up is over ($\epsilon$ neglected)?
#
# ::: answer
# With a constant gradient $\hat m_t = g$ and $\hat v_t = g^2$ on every step, so each step has size $\alpha_t$.
# Up to $t = w$ the warm-up moves $\sum_{t<w}\alpha t/w + \alpha = \alpha(w+1)/2$ and the run without it $w\alpha$:
# the weight lags by $\alpha(w-1)/2 = 0.4995$, the distance of $499.5$ full steps, and keeps that lag, since
# the two runs take the same steps from then on. A warm-up of $w$ steps costs about $w/2$ steps of progress
# where the gradient is reliable; it pays where it is not, as the page explains.
# :::
# ::::
#
# :::: exercise The same warm-up from a scheduler
# Write this warm-up as `torch.optim.Adam` with `torch.optim.lr_scheduler.LambdaLR`, which sets the rate to
# $\alpha f(s)$ from a count $s$ of `scheduler.step()` calls. Which $f$ gives this page's $\alpha_t$? What goes
# differently with $f(s) = \min(1, s/w)$?
#
# ::: answer
# The count is $s = 0$ before the first `optimizer.step()` and the scheduler steps after each one, so step $t$
# runs with $f(t-1)$: $f(s) = \min(1, (s+1)/w)$ gives $\alpha\min(1, t/w)$, and with `optimized_update=False` and
# the same $\epsilon$ the two trajectories agree to float64 rounding. With $\min(1, s/w)$ the first step runs at
# rate 0: the parameter does not move, although $m_1$ and $v_1$ take in $g_1$ and the bias corrections count the
# step. Each warm-up step then runs at $\alpha(t-1)/w$, one step behind, and the full rate comes at $t = w + 1$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. The [experiment](experiment.html) has no line
# for warm-up on its own: it warms up only as a part of its two scheduled lines, AdamW with
# [warm-up and cosine decay](adam_warmup_cosine_decay.html) and [Schedule-Free AdamW](schedule_free.html), over
# the first 5% of the run, so the effect of the warm-up alone is not measured.
ENTRY = OptimizerEntry(
    AdamWarmup,
    paper="https://arxiv.org/abs/1706.02677",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1), warmup=5),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Adam with a warm-up of 20 steps. PyTorch
# has no optimizer with the warm-up built in, so it trains alone; the tests compare it with a float64
# reference written from the formula above.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: AdamWarmup(params, lr=1e-2, warmup=20), name="AdamWarmup")
