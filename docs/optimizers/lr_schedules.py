# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Learning-rate schedules of the Noam and cosine-decay optimizers
summary: Plots the learning rate over steps of the Noam optimizer and of Adam with warm-up and cosine decay, from the optimizers' own get_lr, for a few settings.
---

# Learning-rate schedules

This page draws the schedules shown on the [Noam](noam.html) and
[warm-up with cosine decay](adam_warmup_cosine_decay.html) pages. Run it with

```
python -m labml_nn.optimizers.lr_schedules                 # shows the figures
python -m labml_nn.optimizers.lr_schedules --save DIR      # writes them into DIR
```

In a notebook the figures appear under the last cell; `--save DIR` writes `noam_schedule.svg`
and `warmup_cosine_schedule.svg`, the files this page shows, byte-identical on every run. The curves are not re-derived here: each point is the
optimizer's own `get_lr` at step $t$, so the plots show what the code does.

For the cosine schedule the dashed line is nn.labml.ai's formula for the same $w$ and $T$,
$\max\big(0.1, \tfrac{1}{2}(1 + \cos(\pi p))\big)$ with the progress $p = (t-w)/(T-w)$ not
clipped: it levels off at its floor $0.1$ from $p = 0.795$, and past `total_steps` it climbs back
up, to $1$ at $t = 2T - w$. Ours follows the cosine down to $0$ at $T$ and holds there.
"""

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

import torch

from labml_nn.figures import figure_style, save_path, show_or_save
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.noam import Noam


def rates(optimizer: Union[AdamWarmupCosineDecay, Noam], steps: int) -> list[float]:
    r"""
    ### The optimizer's rate at $t = 1, \dots,$ `steps`

    `get_lr` reads only `state["step"]` and the group, so a bare state is enough.
    """
    group = optimizer.param_groups[0]
    return [optimizer.get_lr({"step": t}, group) for t in range(1, steps + 1)]


def _dummy() -> list[torch.Tensor]:
    # A parameter to build the optimizers with; it is never stepped.
    return [torch.zeros(1, requires_grad=True)]


def noam_rates(warmup: int, d_model: int, steps: int) -> list[float]:
    r"""
    ### Noam's rate with the paper's factor $\alpha = 1$
    """
    return rates(Noam(_dummy(), lr=1.0, warmup=warmup, d_model=d_model), steps)


def cosine_rates(warmup: int, total_steps: int, steps: int) -> list[float]:
    r"""
    ### Warm-up and cosine decay with $\alpha = 1$
    """
    return rates(AdamWarmupCosineDecay(_dummy(), lr=1.0, warmup=warmup, total_steps=total_steps), steps)


def labml_cosine(warmup: int, total_steps: int, steps: int) -> list[float]:
    r"""
    ### nn.labml.ai's formula, for comparison

    $\max(0.1, \frac{1}{2}(1 + \cos(\pi p)))$ after warm-up: a floor of $0.1$, and the progress $p$ is not
    clipped after `total_steps`. Its $10^{-8}$ offset during warm-up is left out; it would not show.
    """
    return [
        t / warmup
        if t < warmup
        else max(0.1, 0.5 * (1 + math.cos(math.pi * (t - warmup) / max(1, total_steps - warmup))))
        for t in range(1, steps + 1)
    ]


def plot(directory: Optional[Path] = None) -> None:
    r"""
    ### Draw both plots

    Shown, or saved into `directory` as `noam_schedule.svg` and `warmup_cosine_schedule.svg` (see
    [figures](../figures.html)).
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(7, 3.4))
        steps = 20_000
        for warmup, d_model in ((4000, 512), (8000, 512), (4000, 256), (0, 512)):
            ax.plot(
                range(1, steps + 1),
                noam_rates(warmup, d_model, steps),
                label=f"$w = {warmup}$, $d_{{model}} = {d_model}$",
            )
        ax.set_ylim(0, 0.0025)
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"learning rate $\alpha_t$ ($\alpha = 1$)")
        ax.legend(fontsize=8)
        show_or_save(fig, directory / "noam_schedule.svg" if directory else None)

        fig, ax = plt.subplots(figsize=(7, 3.4))
        steps = 1500
        for (warmup, total), color in zip(
            ((0, 1000), (100, 1000), (200, 600)), ("tab:blue", "tab:orange", "tab:green")
        ):
            ax.plot(
                range(1, steps + 1),
                cosine_rates(warmup, total, steps),
                color=color,
                label=f"$w = {warmup}$, $T = {total}$",
            )
        ax.plot(
            range(1, steps + 1),
            labml_cosine(200, 600, steps),
            color="tab:green",
            linestyle="--",
            linewidth=1,
            label="$w = 200$, $T = 600$, nn.labml.ai's floor $0.1$ and no clipping",
        )
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$\alpha_t / \alpha$")
        ax.legend(fontsize=8, loc="upper right")
        show_or_save(fig, directory / "warmup_cosine_schedule.svg" if directory else None)


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Draw the figure

    Shown under the cell in a notebook; `--save DIR` writes the two SVGs the page shows into DIR.
    """
    path = save_path(
        argv,
        "Draw the Noam schedule and the warm-up-and-cosine schedule.",
        "labml_nn/optimizers (a folder: both SVGs go there)",
    )
    plot(path)


# ## Exercises
#
# :::: exercise Reading the Noam figure
# Which curves of the Noam figure coincide, and from which step? How do the curves for $d_{model} = 256$ and
# $d_{model} = 512$, both with $w = 4000$, compare? From which step is the curve for $w = 0$ inside the plot, whose
# axis ends at $0.0025$?
#
# ::: answer
# After its warm-up every curve is $d_{model}^{-1/2} t^{-1/2}$, which does not depend on $w$. So the curves for
# $w = 4000$ and $w = 8000$ ($d_{model} = 512$) coincide from $t = 8000$, and the one for $w = 0$ coincides with
# $w = 4000$ from $t = 4000$; before that, $w = 8000$ peaks lower, at $(512 \cdot 8000)^{-1/2} = 4.94 \times 10^{-4}$
# against $6.99 \times 10^{-4}$. The curve for $d_{model} = 256$ is $\sqrt{512/256} = 1.414$ times the one for
# $d_{model} = 512$ at every step. The curve for $w = 0$ starts at $512^{-1/2} = 0.0442$, far above the axis, and
# falls below $0.0025$ when $512\, t > 0.0025^{-2} = 160000$, that is from step 313.
# :::
# ::::
#
# :::: exercise The dashed curve's floor
# The dashed curve is nn.labml.ai's formula for $w = 200$ and $T = 600$. From which step to which does it sit on its
# floor $0.1$, at which step is it back at $1$, and when does it reach the floor again within the figure's 1500
# steps? What do its rates add up to over those steps, against ours?
#
# ::: answer
# It is on the floor while $\frac12(1 + \cos\pi p) \le 0.1$, that is $\cos\pi p \le -0.8$: for
# $p \in [0.795, 1.205]$, since $\arccos(-0.8)/\pi = 0.7952$, and, the cosine being periodic, again from
# $p = 2.795$. With $t = 200 + 400p$, that is steps 519 to 681. It is back at $1$ at $p = 2$, step $2T - w = 1000$,
# and on the floor again from step 1319. Its rates (with $\alpha = 1$) add up to $726.8$ over the 1500 steps, ours to
# $300 = T/2$ (see the exercises of the [cosine-decay page](adam_warmup_cosine_decay.html)), all of it before $T$.
# :::
# ::::


if __name__ == "__main__":
    main()
