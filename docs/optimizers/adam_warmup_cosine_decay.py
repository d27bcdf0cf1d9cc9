# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adam with warm-up and cosine decay
summary: An annotated PyTorch implementation of Adam (or AMSGrad) with a linear warm-up followed by a cosine decay of the learning rate, which stays at its floor after the last step.
paper_title: Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour
paper_authors: Priya Goyal, Piotr Dollár, Ross Girshick, Pieter Noordhuis, Lukasz Wesolowski, Aapo Kyrola, Andrew Tulloch, Yangqing Jia and Kaiming He
paper_year: 2017
paper_arxiv: 1706.02677
paper_arxiv_class: cs.CV
paper2_title: SGDR: Stochastic Gradient Descent with Warm Restarts
paper2_authors: Ilya Loshchilov and Frank Hutter
paper2_year: 2017
paper2_type: inproceedings
paper2_venue: 5th International Conference on Learning Representations (ICLR 2017)
paper2_arxiv: 1608.03983
paper2_arxiv_class: cs.LG
---

# Adam with warm-up and cosine decay

This page gives [AMSGrad](amsgrad.html) (Adam by default, `amsgrad=False`) a built-in
schedule: a linear warm-up over the first $w$ steps, as on the
[warm-up page](adam_warmup.html), then half a cosine wave that takes the rate from $\alpha$
down to $0$ at step $T$ (`total_steps`), where it stays:

\begin{align}
\alpha_t &= \begin{cases}
  \alpha \, \dfrac{t}{w} & t < w \\[1ex]
  \alpha \, \dfrac{1}{2}\left(1 + \cos\left(\pi \, p_t\right)\right) & t \ge w
\end{cases}
\qquad p_t = \min\left(1, \frac{t - w}{T - w}\right) \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
\end{align}

The cosine shape comes from
[SGDR: Stochastic Gradient Descent with Warm Restarts](https://arxiv.org/abs/1608.03983)
(arXiv:1608.03983) by Loshchilov and Hutter, ICLR 2017. It stays near $\alpha$ for a long
time, falls fastest in the middle of the run, and flattens again near the end, so the last
steps are small and the weights settle. The two pieces meet at $t = w$, where both give
$\alpha$.

![The learning rate over steps for a few settings](warmup_cosine_schedule.svg)

The plot is drawn by [the schedules page](lr_schedules.html) from this class's `get_lr`.

## Where we differ from SGDR

* **One cycle, floor $0$.** SGDR restarts the cosine (jumps back to $\alpha$) at the end of each
  cycle and decays to a floor $\eta_{min}$. We run one cycle whose floor is $0$, the end of the
  cosine itself, as in SGDR with $\eta_{min} = 0$ and in PyTorch's `CosineAnnealingLR` with its
  default `eta_min=0`; for restarts use `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` with
  [Adam](adam.html).
* **After $T$.** The progress $p_t$ is clipped at $1$, so past $T$ the rate stays at $0$: training
  past the planned end should never undo the decay.
* `warmup` and `total_steps` live in the parameter groups, so `state_dict()` saves them.
  `total_steps` defaults to `1e10`, which in practice means no decay: give it the run's length.

The rate also scales the decoupled weight decay, as on the warm-up page.

::: appendix Where we differ from nn.labml.ai

* **The floor.** nn.labml.ai's rate after warm-up is
  $\alpha \max\big(0.1, \tfrac{1}{2}(1 + \cos(\pi (t-w)/(T-w)))\big)$: it never falls below
  $0.1\alpha$, which it reaches at $80\%$ of the decay ($\cos(\pi p) = -0.8$ at $p = 0.795$).
* **After $T$.** nn.labml.ai does not clip the progress $(t-w)/(T-w)$, so past $T$ its cosine climbs
  back up (above its $0.1\alpha$ floor from $p = 1.205$) and returns to $\alpha$ at $t = 2T - w$:
  a run that trains a little longer than planned suddenly takes large steps again.
* **Warm-up.** We drop nn.labml.ai's $10^{-8}$ offset, as explained on the
  [warm-up page](adam_warmup.html).
* The default `total_steps=1e10` is nn.labml.ai's.
:::
"""

import math
import numbers
from typing import Any, Optional

from labml_nn.optimizers import Group, Params, State, WeightDecay
from labml_nn.optimizers.adam_warmup import check_warmup
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry


class AdamWarmupCosineDecay(AMSGrad):
    r"""
    ## Adam with warm-up and cosine decay
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
        total_steps: float = 1e10,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `warmup` is $w$, the number of warm-up steps (`0` for none)
        * `total_steps` is $T > w$, the step at which the rate reaches $0$
        * the other arguments are as for [`AMSGrad`](amsgrad.html)
        """
        defaults = dict(defaults or {})
        defaults.setdefault("warmup", warmup)
        defaults.setdefault("total_steps", total_steps)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters

        $T > w$ keeps $T - w$, the length of the decay, positive; it also rejects NaN.
        """
        super().validate_group(group)
        check_warmup(group["warmup"])
        total_steps = group["total_steps"]
        if isinstance(total_steps, bool) or not isinstance(total_steps, numbers.Real):
            raise ValueError(f"Invalid total_steps value: {total_steps!r} (must be a number of steps)")
        if not total_steps > group["warmup"]:
            raise ValueError(
                f"Invalid total_steps value: {total_steps} (must be greater than warmup={group['warmup']})"
            )

    def get_lr(self, state: State, group: Group) -> float:
        r"""
        ### The learning rate in effect

        $t$ = `state["step"]` already counts this step, so the first step uses $\alpha / w$.
        """
        step, warmup, total_steps = state["step"], group["warmup"], group["total_steps"]
        # $\alpha t / w$ during the warm-up
        if step < warmup:
            return group["lr"] * step / warmup
        # $p_t = \min(1, (t - w) / (T - w))$: clipped, so the rate holds at its floor after $T$
        progress = min(1.0, (step - warmup) / (total_steps - warmup))
        # $\alpha \frac{1}{2}(1 + \cos(\pi p_t))$
        return group["lr"] * 0.5 * (1.0 + math.cos(math.pi * progress))


# ## Exercises
#
# :::: exercise The sum of the rates
# Show that for integers $1 \le w < T$ the rates of steps $1, \dots, T$ add up to exactly $\alpha T / 2$, half of
# what a constant rate $\alpha$ gives, whatever the warm-up. What do they add up to with $w = 0$?
#
# ::: answer
# The warm-up steps $t = 1, \dots, w-1$ give $\frac{\alpha}{w}\sum_{t<w} t = \alpha\frac{w-1}{2}$. The decay steps
# $t = w, \dots, T$ are $N + 1$ steps, with $N = T - w$ and $p_t = k/N$ for $k = 0, \dots, N$; they give
# $\frac{\alpha}{2}(N+1) + \frac{\alpha}{2}\sum_{k=0}^{N}\cos\frac{\pi k}{N}$, and the cosines cancel in pairs,
# since $\cos\frac{\pi(N-k)}{N} = -\cos\frac{\pi k}{N}$. The total is $\alpha\frac{(w-1) + (T-w+1)}{2} = \alpha T/2$:
# $500\alpha$ for $T = 1000$, with $w = 1$, $w = 100$ or any other $w < T$. With $w = 0$ there is no step $t = 0$:
# the term $k = 0$, a rate of $\alpha$, is missing, and the sum is $\alpha(T-1)/2$, $499.5\alpha$ for $T = 1000$.
# :::
# ::::
#
# :::: exercise How flat the ends are
# With $w = 100$ and $T = 1000$, by how much does the rate fall from step $w$ to step $w + 1$, and from step
# $T - 1$ to step $T$? Compare with the largest fall in one step. (Hint: $\frac12(1 + \cos x) = \cos^2\frac{x}{2}$.)
#
# ::: answer
# With $N = T - w = 900$, $\alpha_{w+1} = \alpha\cos^2\frac{\pi}{2N} = \alpha(1 - \sin^2\frac{\pi}{2N})$ and
# $\alpha_{T-1} = \alpha\cos^2\frac{\pi(N-1)}{2N} = \alpha\sin^2\frac{\pi}{2N}$: at both ends the rate changes by
# $\alpha\sin^2\frac{\pi}{1800} = 3.05 \times 10^{-6}\alpha$ in a step. With $x_k = \pi k/N$, the step from $p = k/N$
# to $(k+1)/N$ lowers the rate by $\frac{\alpha}{2}(\cos x_k - \cos x_{k+1}) =
# \alpha\sin\frac{\pi}{2N}\sin\frac{x_k + x_{k+1}}{2}$, which is largest in the middle of the decay, where
# $\frac{x_k + x_{k+1}}{2}$ is nearest $\frac{\pi}{2}$: $1.75 \times 10^{-3}\alpha$, 573 times as much. That is the
# flattening near the end, in numbers: the rate of the last step before $T$ is three millionths of $\alpha$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. Its line in the
# [experiment](experiment.html) is AdamW with this schedule, the usual default: the `adamw` line's decoupled
# decay of $10^{-2}$, a warm-up over the first 5% of the run and a cosine decay to $0$ at its last step.
def experiment_schedule(steps: int) -> dict[str, int]:
    """The schedule of the experiment's line: warm up over the first 5% of `steps`, end the decay at the last."""
    return dict(warmup=steps // 20, total_steps=steps)


ENTRY = OptimizerEntry(
    AdamWarmupCosineDecay,
    paper="https://arxiv.org/abs/1608.03983",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1), warmup=5, total_steps=20),
    experiment=ExperimentLine(
        "adamw-cosine", 1e-3, dict(weight_decay=WeightDecay(1e-2)), position=15, schedule=experiment_schedule
    ),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's schedule: 20 steps of warm-up, then a
# cosine decay that reaches 0 at the run's last step, the 100th. It trains alone (PyTorch has no optimizer
# with the schedule built in); the tests compare it with a float64 reference written from the formula above.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: AdamWarmupCosineDecay(params, lr=1e-2, warmup=20, total_steps=100),
        name="AdamWarmupCosineDecay",
    )
