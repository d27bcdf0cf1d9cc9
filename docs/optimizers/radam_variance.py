# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: The variance of Adam's adaptive learning rate
summary: Plots RAdam's rho_t and rectification term r_t, and measures the variance of Adam's adaptive learning rate over random gradients in the first steps, with and without RAdam's rectification.
paper_title: On the Variance of the Adaptive Learning Rate and Beyond
paper_authors: Liyuan Liu, Haoming Jiang, Pengcheng He, Weizhu Chen, Xiaodong Liu, Jianfeng Gao and Jiawei Han
paper_year: 2020
paper_type: inproceedings
paper_venue: 8th International Conference on Learning Representations (ICLR 2020)
paper_arxiv: 1908.03265
paper_arxiv_class: cs.LG
---

# The variance of Adam's adaptive learning rate

This page draws the plot of the [RAdam page](radam.html). It illustrates the argument of
[On the Variance of the Adaptive Learning Rate and Beyond](https://arxiv.org/abs/1908.03265)
(arXiv:1908.03265, Liu et al., ICLR 2020). Run it with

```
python -m labml_nn.optimizers.radam_variance                # shows the figure
python -m labml_nn.optimizers.radam_variance --save radam_variance.svg
```

In a notebook the figure appears under the last cell; `--save` writes the SVG this page shows. The random gradients come from a seeded
generator, so the file is byte-identical on every run.

## Left: $\rho_t$ and $r_t$

$\rho_t$, the length of the simple moving average that matches Adam's exponential one,
and the rectification term $r_t$, both from [`RAdam`](radam.html)'s own static methods, for
two values of $\beta_2$. $r_t$ is drawn only where RAdam uses it, $\rho_t > 5$.

## Right: the variance of $\psi_t$

Draw $N$ independent sequences of gradients $g_1, g_2, \dots \sim \mathcal{N}(0, 1)$, run
Adam's second moment on each,

\begin{align}
v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\psi_t &= \sqrt{\frac{1 - \beta_2^t}{v_t}}
\end{align}

and plot the variance of $\psi_t$ across the sequences. In the first steps it is enormous:
$\psi_1 = 1/|g_1|$, whose variance is infinite, so the sample variance is set by the smallest
$|g_1|$ that happened to be drawn. It falls by orders of magnitude as $v_t$ averages more
gradients. RAdam's rate $r_t\psi_t$ (drawn where $\rho_t > 5$) has a variance within a
factor of about two of its long-run value from its first step on, far below Adam's at the
same steps: with $\beta_2 = 0.999$, $1/r_t^2$ times below, which is 1500 times at $t = 6$ and
still 37.2 times at $t = 60$;
keeping it there is what $r_t$ was designed for, to first order.
We leave out $\epsilon$, as the paper's analysis does.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import torch

from labml_nn.figures import figure_style, save_path, show_or_save
from labml_nn.optimizers.radam import RHO_THRESHOLD, RAdam

# Number of gradient sequences for the sample variance
SAMPLES = 100_000
# Steps on the right panel
STEPS = 200


def adaptive_rate_variance(beta2: float, steps: int = STEPS, samples: int = SAMPLES, seed: int = 0):
    r"""
    ### Sample variance of $\psi_t$ and $r_t \psi_t$

    Returns two lists over $t = 1, \dots,$ `steps`; the second holds `None` where $\rho_t \le 5$.
    """
    generator = torch.Generator().manual_seed(seed)
    # $v_0 = 0$ for every sequence
    v = torch.zeros(samples, dtype=torch.float64)
    psi_var, rectified_var = [], []
    for t in range(1, steps + 1):
        g = torch.randn(samples, generator=generator, dtype=torch.float64)
        # $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$
        v = beta2 * v + (1 - beta2) * g * g
        # $\psi_t = \sqrt{(1-\beta_2^t) / v_t}$
        psi = ((1 - beta2**t) / v).sqrt()
        psi_var.append(psi.var().item())
        r = RAdam.calc_rectification_term(beta2, t)
        rectified_var.append(None if r is None else (r * psi).var().item())
    return psi_var, rectified_var


def plot(path: Optional[Path] = None, betas2=(0.99, 0.999)) -> None:
    r"""
    ### Draw both panels

    Shown, or saved as SVG at `path` (see [figures](../figures.html)).
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        colors = ("tab:orange", "tab:blue")

        steps = list(range(1, 3001))
        # $r_t \le 1$ while $\rho_t$ grows to $\rho_\infty$, so $r_t$ gets its own (linear) axis
        rect_axis = left.twinx()
        for beta2, color in zip(betas2, colors):
            rho = [RAdam.rho(beta2, t)[1] for t in steps]
            rect = [RAdam.calc_rectification_term(beta2, t) for t in steps]
            left.plot(steps, rho, color=color, label=rf"$\rho_t$, $\beta_2={beta2}$")
            shown = [(t, r) for t, r in zip(steps, rect) if r is not None]
            rect_axis.plot([t for t, _ in shown], [r for _, r in shown], color=color, linestyle="--")
            # An empty line, so the legend of the left axis lists $r_t$ too
            left.plot([], [], color=color, linestyle="--", label=rf"$r_t$, $\beta_2={beta2}$")
        left.axhline(RHO_THRESHOLD, color="black", linestyle=":", linewidth=1)
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("step $t$")
        left.set_ylabel(r"$\rho_t$ (solid; dotted: $\rho_t = 5$)")
        rect_axis.set_ylabel("$r_t$ (dashed)")
        rect_axis.set_ylim(0, 1.05)
        left.legend(fontsize=7, loc="upper left")

        t_axis = list(range(1, STEPS + 1))
        for beta2, color in zip(betas2, colors):
            psi_var, rectified_var = adaptive_rate_variance(beta2)
            right.plot(t_axis, psi_var, color=color, label=rf"Adam $\psi_t$, $\beta_2={beta2}$")
            shown = [(t, x) for t, x in zip(t_axis, rectified_var) if x is not None]
            right.plot(
                [t for t, _ in shown],
                [x for _, x in shown],
                color=color,
                linestyle="--",
                label=rf"RAdam $r_t\psi_t$, $\beta_2={beta2}$",
            )
        right.set_yscale("log")
        right.set_xlabel("step $t$")
        right.set_ylabel(r"variance over $10^5$ gradient sequences")
        right.legend(fontsize=7)

        show_or_save(fig, path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Draw the figure

    Shown under the cell in a notebook; `--save PATH` writes the SVG the page shows.
    """
    path = save_path(
        argv,
        "Draw the variance of Adam's adaptive rate and RAdam's rectification term.",
        "labml_nn/optimizers/radam_variance.svg",
    )
    plot(path)


# ## Exercises
#
# :::: exercise The length of the average
# What is $\rho_\infty = 2/(1-\beta_2) - 1$ for $\beta_2 = 0.99$ and for $\beta_2 = 0.999$, and roughly how
# many steps does it take for $\rho_t$ to reach half of it?
#
# ::: answer
# $199$ and $1999$. $\rho_t$ grows like $t$ at first and saturates after about $1/(1-\beta_2)$ steps;
# it first reaches half of $\rho_\infty$ at $t = 126$ for $\beta_2 = 0.99$ and at $t = 1256$ for $0.999$,
# about $1.26/(1-\beta_2)$ steps.
# :::
# ::::
#
# :::: exercise Where $\rho_t$ comes from
# Adam's $v_t/(1-\beta_2^t)$ gives the squared gradient of age $k$ (that is, $g_{t-k}^2$) the weight
# $w_k = (1-\beta_2)\beta_2^k/(1-\beta_2^t)$, $k = 0, \dots, t-1$; a simple moving average of length $\rho$ gives
# each of the last $\rho$ squares the weight $1/\rho$. The paper chooses $\rho_t$ so that the two have the same centre
# of mass. Find the mean age of Adam's weights and show that equal mean ages give $\rho_t$. What is the mean
# age as $t \to \infty$ for $\beta_2 = 0.999$?
#
# ::: answer
# Differentiating the geometric series $\sum_{k<t}\beta_2^k$ gives the mean age
# $\sum_k k\,w_k = \frac{\beta_2}{1-\beta_2} - \frac{t\beta_2^t}{1-\beta_2^t}$. The simple average's ages are
# $0, \dots, \rho-1$, with mean $(\rho-1)/2$. Setting the two equal,
# $\rho = 1 + \frac{2\beta_2}{1-\beta_2} - \frac{2t\beta_2^t}{1-\beta_2^t} = \frac{2}{1-\beta_2} - 1 - \frac{2t\beta_2^t}{1-\beta_2^t} = \rho_t$.
# At $t = 1$ the only gradient has age 0, so $\rho_1 = 1$; as $t \to \infty$ the mean age is
# $\beta_2/(1-\beta_2) = 999$ steps for $\beta_2 = 0.999$, and $\rho_\infty = 2 \cdot 999 + 1 = 1999$.
# :::
# ::::
#
# :::: exercise The level of the dashed curves
# The paper's first-order approximation of the variance, for $\mathcal{N}(0, 1)$ gradients, is
# $\operatorname{Var}[\psi_t] \approx \rho_t/\big(2(\rho_t-2)(\rho_t-4)\big)$. Show that $r_t$ is
# $\sqrt{\operatorname{Var}[\psi_\infty]/\operatorname{Var}[\psi_t]}$ under it, and predict the level of the right
# panel's RAdam curves for $\beta_2 = 0.999$ and $\beta_2 = 0.99$.
#
# ::: answer
# The ratio of the two approximations is $\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t} = r_t^2$,
# the page's formula. So $\operatorname{Var}[r_t\psi_t] = r_t^2\operatorname{Var}[\psi_t]$ is, to first order,
# $\rho_\infty/\big(2(\rho_\infty-2)(\rho_\infty-4)\big)$ on every step that uses it: $2.51 \cdot 10^{-4}$ for
# $\beta_2 = 0.999$ and $2.59 \cdot 10^{-3}$ for $0.99$, close to $1/(2\rho_\infty)$.
# `adaptive_rate_variance(beta2, steps=100, samples=20_000)` measures $2.46 \cdot 10^{-4}$ and $2.30 \cdot 10^{-3}$ at
# $t = 100$, 2% and 11% below. Much of the gap is the centre-of-mass match of the exercise above: the number of
# squares that Adam's weights are worth, $(\sum_k w_k)^2/\sum_k w_k^2$, is $99.9$ against $\rho_{100} = 98.3$ for
# $\beta_2 = 0.999$, whose weights are nearly flat over 100 steps, but $92.4$ against $83.5$ for $\beta_2 = 0.99$; a
# longer average has a smaller variance. As $t \to \infty$ both tend to $(1+\beta_2)/(1-\beta_2) = \rho_\infty$.
# :::
# ::::


if __name__ == "__main__":
    main()
