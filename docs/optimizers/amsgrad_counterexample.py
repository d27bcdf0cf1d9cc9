# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adam's convergence counter-example
summary: Runs Adam and AMSGrad on the online problem of Reddi et al. (2018), where Adam converges to the worst point and AMSGrad to the best, and plots both.
paper_title: On the Convergence of Adam and Beyond
paper_authors: Sashank J. Reddi, Satyen Kale and Sanjiv Kumar
paper_year: 2018
paper_type: inproceedings
paper_venue: 6th International Conference on Learning Representations (ICLR 2018)
paper_url: https://openreview.net/forum?id=ryQu7f-RZ
paper_arxiv: 1904.09237
paper_arxiv_class: cs.LG
---

# Adam's convergence counter-example

This page reproduces the synthetic experiment of
[On the Convergence of Adam and Beyond](https://arxiv.org/abs/1904.09237)
(arXiv:1904.09237, Reddi et al., ICLR 2018) with this chapter's
[AMSGrad](amsgrad.html), and draws the plot shown on that page. Run it with

```
python -m labml_nn.optimizers.amsgrad_counterexample        # prints, and shows the figure
python -m labml_nn.optimizers.amsgrad_counterexample --save amsgrad_counterexample.svg
```

In a notebook the figure appears under the last cell; `--save` writes the SVG this page shows. The result is deterministic
(no randomness, float64 arithmetic), so the file is byte-identical on every run.

## The problem

An online learner picks $x_t \in [-1, 1]$, then sees the loss

$$f_t(x) = \begin{cases} 1010\,x & t \bmod 101 = 1 \\ -10\,x & \text{otherwise} \end{cases}$$

and its gradient. Every 101 steps the gradients add up to $+10$, so the total loss is
smallest at $x = -1$. The learner's move is an optimizer step followed by a projection
back onto $[-1, 1]$, which in one dimension is clipping:

\begin{align}
x_{t+1} &= \mathrm{clip}\left(x_t - \alpha_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}, -1, 1\right) \\
\alpha_t &= \frac{\alpha}{\sqrt{t}}
\end{align}

with $\hat v_t$ Adam's second moment or AMSGrad's running maximum. (Regret, the measure the paper's
theorems use, is defined on [what convergence theorems promise](convergence.html).) The decaying rate
$\alpha/\sqrt{t}$ is the one of the paper's analysis; without it both optimizers keep
oscillating within each period and neither settles.

## Where we differ from the paper

* The paper's Adam and AMSGrad have no bias correction; ours do (see the
  [AMSGrad page](amsgrad.html)). The corrections $1-\beta_1^t$ and $1-\beta_2^t$ are $1$ to
  within $10^{-4}$ from $t = 88$ and $t = 917$ (with the $\beta$'s below), about nine periods
  of the $500$, so the long-run behaviour is the same.
* We use $\beta_1 = 0.9$, $\beta_2 = 0.99$ and $\alpha = 2$, chosen so that the two runs
  separate within $50\,500$ steps ($500$ periods) on a laptop in seconds; the paper ran far
  longer with a grid of step sizes.

## What the plot shows

![Adam and AMSGrad on the counter-example](amsgrad_counterexample.svg)

For each period of 101 steps, the mean of $x_t$ and the range it covered. Adam's large
step down (after the $1010$) is damped by the $\sqrt{v_t}$ it just raised, and the hundred
small steps up are damped less and less as $v_t$ forgets the large gradient, so Adam climbs to
$x = +1$. AMSGrad keeps the large $v_t$, so the hundred small steps up add up to less than the
large step down, and it moves to $x = -1$.
"""

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import torch

from labml_nn.figures import figure_style, save_path, show_or_save
from labml_nn.optimizers.amsgrad import AMSGrad

# The period of the problem: one large gradient, then 100 small ones.
PERIOD = 101


def gradient(t: int) -> float:
    r"""
    ### $\nabla f_t$ at step $t$ (counting from 1)
    """
    return 1010.0 if t % PERIOD == 1 else -10.0


def run(steps: int = 500 * PERIOD, lr: float = 2.0, betas=(0.9, 0.99), eps: float = 1e-8) -> dict[str, list[float]]:
    r"""
    ### Run Adam and AMSGrad side by side

    Returns $x_1, \dots, x_T$ for each. Both are the same `AMSGrad` optimizer, as two parameter
    groups, one with `amsgrad=False`, so they share every other detail.
    """
    x_adam = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    x_amsgrad = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = AMSGrad(
        [{"params": [x_adam], "amsgrad": False}, {"params": [x_amsgrad], "amsgrad": True}], lr=lr, betas=betas, eps=eps
    )
    # $\alpha_t = \alpha / \sqrt{t}$; the scheduler's epoch counts from 0 before step 1
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1 / math.sqrt(epoch + 1))
    positions: dict[str, list[float]] = {"Adam": [], "AMSGrad": []}
    for t in range(1, steps + 1):
        g = gradient(t)
        x_adam.grad = torch.full_like(x_adam, g)
        x_amsgrad.grad = torch.full_like(x_amsgrad, g)
        optimizer.step()
        schedule.step()
        # The projection onto $[-1, 1]$
        with torch.no_grad():
            x_adam.clamp_(-1.0, 1.0)
            x_amsgrad.clamp_(-1.0, 1.0)
        positions["Adam"].append(x_adam.item())
        positions["AMSGrad"].append(x_amsgrad.item())
    return positions


def period_stats(xs: list[float]):
    r"""
    ### Mean, minimum and maximum of $x_t$ over each period
    """
    chunks = [xs[i : i + PERIOD] for i in range(0, len(xs) - PERIOD + 1, PERIOD)]
    return ([sum(c) / len(c) for c in chunks], [min(c) for c in chunks], [max(c) for c in chunks])


def plot(positions: dict[str, list[float]], path: Optional[Path] = None) -> None:
    r"""
    ### Draw the plot

    Shown, or saved as SVG at `path` (see [figures](../figures.html)).
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for (name, xs), color in zip(positions.items(), ("tab:red", "tab:blue")):
            mean, low, high = period_stats(xs)
            periods = range(1, len(mean) + 1)
            ax.fill_between(periods, low, high, color=color, alpha=0.2, linewidth=0)
            ax.plot(periods, mean, color=color, label=f"{name}: mean of $x_t$ per period")
        ax.axhline(-1.0, color="black", linestyle=":", linewidth=1, label="optimum $x = -1$")
        ax.set_xlabel("period (101 steps)")
        ax.set_ylabel("$x_t$")
        ax.set_ylim(-1.1, 1.1)
        ax.legend(loc="center right", fontsize=8)
        ax.set_title("Online problem of Reddi et al.: shaded, the range of $x_t$ within each period", fontsize=9)
        show_or_save(fig, path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Run, print, and draw

    The figure is shown under the cell in a notebook; `--save PATH` writes the SVG the page shows.
    """
    path = save_path(
        argv,
        "Run Adam and AMSGrad on Reddi et al.'s counterexample and draw where each goes.",
        "labml_nn/optimizers/amsgrad_counterexample.svg",
    )
    positions = run()
    for name, xs in positions.items():
        mean = sum(xs[-PERIOD:]) / PERIOD
        print(f"{name}: mean x over the last period = {mean:+.3f}")
    plot(positions, path)


# ## Exercises
#
# :::: exercise AMSGrad's move per period
# Take a constant rate $\alpha$, no projection, and $t$ large enough that the bias corrections are 1. Once the run
# is periodic, AMSGrad's $\hat v_t$ is a constant $V$: the largest value of Adam's $v_t$ in a period, reached
# right after the gradient $1010$. Show that over one period AMSGrad moves $x$ by $-10\alpha/\sqrt V$ (with
# $\epsilon$ negligible), and compute $V$ and the move for $\beta_2 = 0.99$.
#
# ::: answer
# With a constant denominator the update is linear in $m_t$, so a period moves $x$ by $-\alpha\sum m_t/\sqrt V$.
# Summing $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$ over a period of a periodic run gives
# $\sum m_t = \beta_1\sum m_t + (1-\beta_1)\sum g_t$, so $\sum m_t = \sum g_t = 1010 - 100 \cdot 10 = 10$: the
# momentum passes every gradient on, with total weight one. After the hundred small gradients
# $v = \beta_2^{100} V + (1-\beta_2^{100}) \cdot 100$, and the large one brings it back to
# $V = \beta_2 v + (1-\beta_2) \cdot 1010^2$, so
#
# $$V = \frac{\beta_2(1-\beta_2^{100}) \cdot 100 + (1-\beta_2) \cdot 1010^2}{1-\beta_2^{101}} = 16097,$$
#
# $\sqrt V = 126.9$, and the move is $-10\alpha/126.9 = -0.0788\alpha$ per period, towards the optimum, whatever
# $\beta_1$ is.
# :::
# ::::
#
# :::: exercise Adam's move per period
# Change `run` so that the rate stays at $\alpha$ (no scheduler) and nothing is projected, and measure Adam's move
# per period once the run is periodic, with $\beta_1 = 0.9$ and with $\beta_1 = 0$. Predict the sign first.
#
# ::: answer
# Adam moves up, away from the optimum: $+1.90\alpha$ per period with $\beta_1 = 0.9$ and $+2.28\alpha$ with
# $\beta_1 = 0$, against AMSGrad's $-0.0788\alpha$ in both cases. The momenta still add up to $+10$ per period, but
# Adam divides the large ones, right after the $1010$, by the largest $\sqrt{v_t}$ of the period, and the hundred
# small gradients by a $\sqrt{v_t}$ that falls as $v_t$ forgets the large one: the small steps up outweigh the
# large step down. Momentum is not the cause; without it the drift is larger.
# :::
# ::::


if __name__ == "__main__":
    main()
