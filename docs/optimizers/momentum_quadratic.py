# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Momentum on an ill-conditioned quadratic
summary: Measures how much heavy-ball momentum speeds up gradient descent on a quadratic with condition number kappa, against the theory's sqrt(kappa), and plots it.
paper_title: Some methods of speeding up the convergence of iteration methods
paper_authors: Boris T. Polyak
paper_year: 1964
paper_type: article
paper_venue: USSR Computational Mathematics and Mathematical Physics
paper_volume: 4
paper_number: 5
paper_pages: 1-17
paper_doi: 10.1016/0041-5553(64)90137-5
---

# Momentum on an ill-conditioned quadratic

This page draws the plot of the [SGD page](sgd.html) and checks its claim: on a quadratic
with condition number $\kappa$, well-tuned heavy-ball momentum needs about $\sqrt{\kappa}$
times fewer steps than well-tuned gradient descent. Run it with

```
python -m labml_nn.optimizers.momentum_quadratic              # shows the figure
python -m labml_nn.optimizers.momentum_quadratic --save momentum_quadratic.svg
```

In a notebook the figure appears under the last cell; `--save` writes the SVG this page shows. Nothing is random, so the file is the same
on every run.

## The problem

$f(\theta) = \frac{1}{2} \sum_i h_i \theta_i^2$ with $d = 20$ curvatures $h_i$ spread evenly on a
log scale from $L = 1$ down to $m = 1/\kappa$, starting from $\theta_0 = (1, \dots, 1)$. Any
quadratic is this one in the eigenbasis of its Hessian, so nothing is lost by making it diagonal.
Each coordinate evolves on its own, and its error after $t$ steps is what the method's
recurrence does to it.

## The theory

*Gradient descent* multiplies coordinate $i$ by $1 - \alpha h_i$ each step. The best constant
$\alpha$ balances the two ends, $1 - \alpha m = -(1 - \alpha L)$, so $\alpha = 2/(L+m)$ and every
coordinate shrinks at least by

$$\rho_{\text{GD}} = \frac{\kappa - 1}{\kappa + 1} \approx 1 - \frac{2}{\kappa}$$

*Heavy ball* makes each coordinate follow $x_{t+1} = (1 + \mu - \alpha h) x_t - \mu x_{t-1}$,
whose characteristic roots solve $z^2 - (1 + \mu - \alpha h) z + \mu = 0$. When the roots are
complex, their product $\mu$ gives them the modulus $\sqrt{\mu}$, whatever $h$ is. Polyak's choice
$\alpha = 4/(\sqrt{L} + \sqrt{m})^2$, $\mu = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2$ makes
$1 + \mu - \alpha h = \pm 2\sqrt{\mu}$ exactly at $h = m$ and $h = L$, so the roots are complex (or
double) for every $h$ in between, and every coordinate shrinks by

$$\rho_{\text{HB}} = \sqrt{\mu} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} \approx 1 - \frac{2}{\sqrt\kappa}$$

The number of steps to shrink the error by a factor $\varepsilon$ is
$\ln(1/\varepsilon) / \ln(1/\rho)$, so the speed-up is

$$\frac{\ln \rho_{\text{HB}}}{\ln \rho_{\text{GD}}} \approx \sqrt{\kappa}$$

(10.03 for $\kappa = 100$, 31.6 for $\kappa = 1000$). [What convergence theorems promise](convergence.html)
says what this guarantee does not cover.

## What the measurement shows

For $\kappa = 100$, over steps 200 to 400, the measured per-step contraction gives a speed-up of
9.80, 2% under the theory's 10.03; the test checks it within 10%. The remaining gap is the
double roots at $h = m$ and $h = L$: there the error behaves like $t \rho^t$, not $\rho^t$,
and the factor $t$ fades from the measured rate only slowly. It matters more for a fixed target:
to shrink the error by $10^{6}$, gradient descent takes 634 steps and heavy ball 87, a
speed-up of 7.3, not 10. Both numbers are tested.

The plot shows the distance to the minimum, $\lVert \theta_t \rVert$, for both methods and for
$\kappa = 100$ and $1000$, with the theory's $\rho^t$ dashed.

![Distance to the minimum of a quadratic, gradient descent against heavy ball, for condition numbers 100 and 1000](momentum_quadratic.svg)
"""

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import torch

from labml_nn.figures import figure_style, save_path, show_or_save
from labml_nn.optimizers.sgd import SGD

# Number of coordinates of the quadratic
DIMENSIONS = 20


def curvatures(kappa: float, d: int = DIMENSIONS) -> torch.Tensor:
    r"""
    ### The Hessian's eigenvalues $h_i$, from $L = 1$ down to $m = 1/\kappa$
    """
    return torch.logspace(0, -math.log10(kappa), d, dtype=torch.float64)


def gd_tuning(kappa: float) -> tuple[float, float]:
    r"""
    ### $(\alpha, \mu)$ for gradient descent: $\alpha = 2/(L+m)$, no momentum
    """
    return 2 / (1 + 1 / kappa), 0.0


def heavy_ball_tuning(kappa: float) -> tuple[float, float]:
    r"""
    ### Polyak's $(\alpha, \mu)$: $4/(\sqrt{L}+\sqrt{m})^2$ and $\big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2$
    """
    root = math.sqrt(kappa)
    return 4 / (1 + 1 / root) ** 2, ((root - 1) / (root + 1)) ** 2


def theory_rates(kappa: float) -> tuple[float, float]:
    r"""
    ### $(\rho_{\text{GD}}, \rho_{\text{HB}})$
    """
    root = math.sqrt(kappa)
    return (kappa - 1) / (kappa + 1), (root - 1) / (root + 1)


def distances(kappa: float, steps: int, lr: float, momentum: float) -> list[float]:
    r"""
    ### $\lVert\theta_t\rVert$ for $t = 0, \dots,$ `steps`, with the chapter's [`SGD`](sgd.html) in float64
    """
    h = curvatures(kappa)
    theta = torch.ones(len(h), dtype=torch.float64, requires_grad=True)
    optimizer = SGD([theta], lr=lr, momentum=momentum)
    result = [theta.detach().norm().item()]
    for _ in range(steps):
        optimizer.zero_grad()
        # $f(\theta) = \frac{1}{2}\sum_i h_i \theta_i^2$
        (0.5 * (h * theta * theta).sum()).backward()
        optimizer.step()
        result.append(theta.detach().norm().item())
    return result


def measured_rate(errors: list[float], start: int, end: int) -> float:
    r"""
    ### The mean contraction per step between steps `start` and `end`, $(e_{\text{end}}/e_{\text{start}})^{1/(\text{end}-\text{start})}$
    """
    return (errors[end] / errors[start]) ** (1 / (end - start))


def steps_to_shrink(errors: list[float], factor: float) -> int:
    r"""
    ### The first step $t$ with $\lVert\theta_t\rVert \le \lVert\theta_0\rVert / $ `factor`
    """
    return next(t for t, e in enumerate(errors) if e <= errors[0] / factor)


def plot(path: Optional[Path] = None, kappas=(100, 1000), steps: int = 700) -> None:
    r"""
    ### Draw the distances

    Shown, or saved as SVG at `path` (see [figures](../figures.html)).
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, axes = plt.subplots(1, len(kappas), figsize=(9, 3.6), sharey=True)
        for ax, kappa in zip(axes, kappas):
            rho_gd, rho_hb = theory_rates(kappa)
            t = list(range(steps + 1))
            for name, tuning, rho, color in (
                ("gradient descent", gd_tuning, rho_gd, "tab:orange"),
                ("heavy ball", heavy_ball_tuning, rho_hb, "tab:blue"),
            ):
                lr, momentum = tuning(kappa)
                errors = distances(kappa, steps, lr, momentum)
                ax.plot(t, errors, color=color, label=name)
                ax.plot(
                    t,
                    [errors[0] * rho**s for s in t],
                    color=color,
                    linestyle="--",
                    linewidth=1,
                    label=rf"$\rho^t$, $\rho = {rho:.4f}$",
                )
            ax.set_yscale("log")
            ax.set_ylim(1e-16, 10)
            ax.set_xlabel("step $t$")
            ax.set_title(
                rf"$\kappa = {kappa}$, theory's speed-up "
                rf"{math.log(rho_hb) / math.log(rho_gd):.1f}",
                fontsize=9,
            )
            ax.legend(fontsize=7, loc="lower left")
        axes[0].set_ylabel(r"distance to the minimum $\Vert\theta_t\Vert$")
        show_or_save(fig, path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Draw the figure

    Shown under the cell in a notebook; `--save PATH` writes the SVG the page shows.
    """
    path = save_path(
        argv,
        "Draw gradient descent's and heavy ball's distance to the minimum of two ill-conditioned quadratics.",
        "labml_nn/optimizers/momentum_quadratic.svg",
    )
    plot(path)


# ## Exercises
#
# :::: exercise The speed-up for $\kappa = 1000$
# Compute $\rho_{\text{GD}}$, $\rho_{\text{HB}}$ and the speed-up $\ln\rho_{\text{HB}}/\ln\rho_{\text{GD}}$ for $\kappa = 1000$,
# and compare it with $\sqrt\kappa$.
#
# ::: answer
# $\rho_{\text{GD}} = 999/1001 = 0.998002$ and $\rho_{\text{HB}} = (\sqrt{1000}-1)/(\sqrt{1000}+1) = 0.938693$,
# so the speed-up is $\ln 0.938693/\ln 0.998002 = 31.63$, against $\sqrt{1000} = 31.62$.
# By the theory, shrinking the error by $10^6$ takes $\ln 10^6/\ln(1/\rho)$: 6908 steps for
# gradient descent, 218 for heavy ball.
# :::
# ::::
#
# :::: exercise The modulus of complex roots
# Show that when the roots of $z^2 - (1+\mu-\alpha h)z + \mu = 0$ are complex, both have modulus $\sqrt\mu$,
# and find the range of $h$ for which they are complex with Polyak's $\alpha$ and $\mu$.
#
# ::: answer
# Complex roots of a real quadratic are conjugate, $z$ and $\bar z$, and their product is the constant
# term: $|z|^2 = \mu$. They are complex when the discriminant is negative,
# $(1+\mu-\alpha h)^2 < 4\mu$, that is $|1+\mu-\alpha h| < 2\sqrt\mu$. Polyak's choice puts the ends of
# this interval at $h = m$ and $h = L$, so the roots are complex for every $m < h < L$ (double at the ends).
# :::
# ::::


if __name__ == "__main__":
    main()
