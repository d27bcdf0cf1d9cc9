# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: What convergence theorems promise
summary: A short primer on the rates that the chapter's pages quote, gradient descent's O(1/T) and (1-1/kappa)^t, SGD's O(1/sqrt(T)), online gradient descent's O(sqrt(T)) regret, each measured in float64 against its bound, and what the theorems of Adam, AMSGrad, Adagrad, Schedule-Free and heavy ball do and do not promise.
paper_title: Introduction to Online Convex Optimization
paper_authors: Elad Hazan
paper_year: 2019
paper_type: misc
paper_arxiv: 1909.05207
paper_arxiv_class: cs.LG
---

# What convergence theorems promise

Several pages of this chapter quote a theorem: Adagrad's, Adam's and AMSGrad's regret bounds,
Schedule-Free's $O(1/\sqrt{T})$, heavy ball's $\sqrt\kappa$. This page says what such a rate
means, derives the three that the others are built from, measures each in float64 against its
bound, and ends with what each quoted theorem assumes. It assumes gradients, eigenvalues of a
symmetric matrix (for the quadratics) and an expectation (for SGD). Run it with

```
python -m labml_nn.optimizers.convergence
```

which prints every measurement below; nothing is random but for seeded generators, so the
numbers are the same on every run.

Throughout, $f$ is convex: $f(y) \ge f(x) + \nabla f(x)^\top (y - x)$ for all $x, y$, so a
gradient (or, where $f$ has a kink, a *subgradient*) always points away from every minimizer
$\theta^*$. Three other properties come and go:

* **$L$-smooth**: the gradient changes by at most $L\lVert y - x\rVert$, so the curvature is at most $L$;
* **$m$-strongly convex**: the curvature is at least $m > 0$; then $\kappa = L/m$ is the condition number;
* **$G$-Lipschitz**: every (sub)gradient has norm at most $G$, however far from the minimum.

## 1. Gradient descent on a smooth function

*Strongly convex: a linear rate.* On the quadratic $f(\theta) = \frac{1}{2}\sum_i h_i\theta_i^2$ with
curvatures $h_i \in [m, L]$ (every quadratic, in the eigenbasis of its Hessian), a step
$\theta \leftarrow \theta - \alpha\nabla f$ multiplies coordinate $i$ by $1 - \alpha h_i$. With
$\alpha = 1/L$ the slowest coordinate, $h = m$, shrinks by $1 - 1/\kappa$ a step, so

$$\lVert\theta_t - \theta^*\rVert \le \left(1 - \frac{1}{\kappa}\right)^t \lVert\theta_0 - \theta^*\rVert$$

and about $\kappa \ln(1/\varepsilon)$ steps shrink the error by $\varepsilon$: linear convergence,
called so because $\log$ of the error falls linearly in $t$. For any $m$-strongly convex
$L$-smooth $f$, not only quadratics, the same step gives
$f(\theta_t) - f^* \le (1 - 1/\kappa)^t (f(\theta_0) - f^*)$: an $m$-strongly convex function
satisfies the Polyak–Łojasiewicz inequality, and under it gradient descent with $\alpha = 1/L$
converges at this rate ([Karimi et al., 2016](https://arxiv.org/abs/1608.04636)).

`quadratic_rates` measures it on the 20 curvatures of the [momentum page](momentum_quadratic.html),
from $L = 1$ down to $m = 1/\kappa$, $\kappa = 100$, with the chapter's [SGD](sgd.html) at
$\alpha = 1$: over steps 2000 to 4000 the distance shrinks by 0.990000 a step, the bound's
$1 - 1/\kappa$ to six digits, since by then only the slowest coordinate is left (over steps 200
to 400 it is 0.98940, faster than the bound, while the next coordinate, $h = 0.0127$, still counts).
The function value shrinks by 0.980100 a step, $(1 - 1/\kappa)^2$: the value is quadratic in the
distance, so on a quadratic the general bound on $f$ holds with room, a square.

*Convex, not strongly: $O(1/T)$.* When the curvature can be as small as $0$ there is no linear
rate. Gradient descent with $\alpha = 1/L$ still gives

$$f(\theta_T) - f^* \le \frac{L \lVert\theta_0 - \theta^*\rVert^2}{2T}$$

`convex_quadratic` takes $d = 1000$ curvatures $h_i = 1/i^2$ (so $L = 1$ and $m = 10^{-6}$,
strongly convex in name only) from $\theta_0 = (1, \dots, 1)$: after $T = 10$, $100$, $1000$
steps the gap is 0.0019, 0.0062 and 0.019 of the bound. The bound holds with room, and the room
shrinks: the gap falls like $1/\sqrt{T}$, not $1/T$, because ever smaller curvatures, each slow
to converge, keep adding to it. The bound is for the worst function of the class, and the first
exercise finds the quadratic that comes closest to it.

## 2. SGD on a convex Lipschitz function: $O(1/\sqrt{T})$

Now $f(\theta) = \mathbb{E}_\xi\, \ell(\theta, \xi)$ and each step sees a stochastic subgradient $g_t$
with $\mathbb{E}[g_t \mid \theta_t] \in \partial f(\theta_t)$ and $\lVert g_t\rVert \le G$. Nothing is
smooth, so no step size makes the last iterate converge fast; the classical result is for the
average $\bar\theta_T = \frac{1}{T}\sum_{t=1}^T \theta_t$. Expanding one step,

$$\lVert\theta_{t+1} - \theta^*\rVert^2 = \lVert\theta_t - \theta^*\rVert^2 - 2\alpha\, g_t^\top(\theta_t - \theta^*) + \alpha^2\lVert g_t\rVert^2$$

summing over $t$, taking expectations, and using convexity ($f(\theta_t) - f^* \le \mathbb{E}[g_t]^\top(\theta_t - \theta^*)$)
and then Jensen's inequality for the average:

$$\mathbb{E} f(\bar\theta_T) - f^* \le \frac{R^2}{2\alpha T} + \frac{\alpha G^2}{2} = \frac{RG}{\sqrt{T}} \quad\text{at}\quad \alpha = \frac{R}{G\sqrt T}$$

where $R = \lVert\theta_1 - \theta^*\rVert$. The best constant step needs both $R$ and the horizon
$T$; the rate $RG/\sqrt{T}$ cannot be beaten by any method that sees only such gradients
(Nemirovski and Yudin's lower bound). `sgd_lipschitz` runs it on
$f(\theta) = \frac{1}{n}\sum_j \lVert\theta - a_j\rVert_1$, $n = 100$ points in $d = 10$
dimensions, whose minimizer is the coordinate-wise median; a step draws one $a_j$ and uses
$\operatorname{sign}(\theta - a_j)$, so $G = \sqrt{d}$. Averaged over 20 seeds, the gap of
$\bar\theta_T$ is 0.25, 0.33 and 0.16 of the bound at $T = 100$, $1000$, $10\,000$: below it by
a factor of 3 to 6, and falling about as fast as the bound's $1/\sqrt{T}$ (twenty seeds leave the
fractions noisy).

## 3. Online convex optimization and regret

In the online game a learner picks $x_t$ in a convex set $K$ of diameter $D$, then sees a convex
loss $f_t$ chosen by anyone, even an adversary who knows the learner, and pays $f_t(x_t)$. Its
**regret** compares it with the best single point chosen in hindsight:

$$R_T = \sum_{t=1}^T f_t(x_t) - \min_{x \in K} \sum_{t=1}^T f_t(x)$$

*Online gradient descent* (Zinkevich, 2003) steps and projects back onto $K$,
$x_{t+1} = \Pi_K(x_t - \alpha_t \nabla f_t(x_t))$. The SGD argument above, done for each step
against a fixed $x^*$ with the projection only shortening distances, gives, for a constant
$\alpha$, $R_T \le D^2/(2\alpha) + \alpha G^2 T/2$, which is $DG\sqrt{T}$ at $\alpha = D/(G\sqrt{T})$;
with the step $\alpha_t = D/(G\sqrt{t})$, which needs no $T$, it gives

$$R_T \le \frac{3}{2} D G \sqrt{T}$$

([Hazan's book](https://arxiv.org/abs/1909.05207), theorem 3.1). A regret that grows like
$\sqrt{T}$ means an *average* regret $R_T / T \to 0$: on average the learner does as well as
the best fixed point. When the $f_t$ are independent draws of one $f$, the average of the
$x_t$ inherits the rate, $\mathbb{E} f(\bar x_T) - f^* \le \mathbb{E} R_T / T$ (the third exercise):
that is how a regret bound becomes a convergence rate, and why optimizer papers state theirs
as regret.

`ogd_regret` plays $f_t(x) = |x - z_t|$ on $K = [-1, 1]$ ($D = 2$, $G = 1$) with $z_t$ drawn
uniformly from $[-1, 1]$: the regret at $T = 100$, $1000$, $10\,000$ is 0.34, 0.36 and 0.31 of the
bound $3\sqrt{T}$. It grows like $\sqrt{T}$, as the bound does, at about a third of it, so the
average regret falls like $1/\sqrt{T}$. On [the AMSGrad counter-example](amsgrad_counterexample.html)
Adam settles at $x = +1$, the worst point; each period it starts there costs at least 20 more
than $x = -1$ (the fourth exercise), so its average regret stays above $20/101 = 0.198$ and its
regret grows linearly, which is what Reddi et al.'s theorem says can happen.

## What the chapter's theorems promise, and what they do not

Each theorem is a worst-case bound over a class of problems, under assumptions that a neural
network's loss does not meet: it is not convex, its gradients are not bounded a priori, and
nothing projects the weights onto a bounded set.

* **Adagrad** ([page](adagrad.html); Duchi, Hazan & Singer, 2011): online convex
  optimization over a set of $\ell_\infty$ diameter $D_\infty$, with a projection; for the diagonal
  method, regret at most $\sqrt{2}D_\infty \sum_i \lVert g_{1:T,i}\rVert_2$ with the rate $\eta = D_\infty/\sqrt{2}$, where
  $g_{1:T,i}$ is coordinate $i$'s gradients. It is $O(\sqrt{T})$ and, for sparse gradients,
  far smaller than OGD's bound: the sum is over each coordinate's own history. The step size
  needs $D_\infty$ but not $T$.
* **Adam** ([page](adam.html); Kingma & Ba, 2015, theorem 4.1): regret $O(\sqrt{T})$ for
  online convex optimization with bounded gradients and iterates, $\alpha_t = \alpha/\sqrt{t}$, a
  first-moment rate $\beta_{1,t} = \beta_1\lambda^{t-1}$ that decays to $0$, and
  $\beta_1^2/\sqrt{\beta_2} < 1$. Its proof has an error: Reddi et al. (2018) showed that it needs
  $\sqrt{v_t}/\alpha_t$ never to decrease, which Adam does not ensure, and gave convex problems on which
  Adam's average regret does not go to zero, for any constant $\beta_1 < \sqrt{\beta_2}$ (the
  [counter-example page](amsgrad_counterexample.html) runs one). The Adam that is used, with a
  constant $\beta_1$ and no $1/\sqrt{t}$ decay, is not what the theorem is about.
* **AMSGrad** ([page](amsgrad.html); Reddi et al., 2018, theorem 4): regret
  $O(\sqrt{T})$ under the same kind of assumptions, bounded iterates ($D_\infty$) and gradients
  ($G_\infty$), $\alpha_t = \alpha/\sqrt{t}$, $\beta_1/\sqrt{\beta_2} < 1$, $\beta_{1,t} \le \beta_1$ (the
  bound is $O(\sqrt{T})$ when $\beta_{1,t}$ decays, as with $\beta_1\lambda^{t-1}$),
  and a projection onto the feasible set in the norm $\hat V_t^{1/2}$. It repairs the flaw
  above; it says nothing about nonconvex training.
* **Schedule-Free** ([page](schedule_free.html); Defazio et al., 2024, theorem 1): Schedule-Free
  *SGD* on a convex $G$-Lipschitz problem with $\lVert x_1 - x^*\rVert \le D$ and
  $\gamma = D/(G\sqrt{T})$ gives $\mathbb{E}F(x_T) - F^* \le DG/\sqrt{T}$ for every
  $\beta \in [0, 1]$: section 2's rate, for the *last* averaged iterate rather than for an
  average of the SGD iterates. Its $\gamma$ needs $T$, as section 2's does; what it removes is
  the schedule. The AdamW form is not covered.
* **Heavy ball** ([page](momentum_quadratic.html); Polyak, 1964): on a quadratic, the right
  $\alpha$ and $\mu$ contract the error by $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ a step, against
  $(\kappa - 1)/(\kappa + 1)$ for gradient descent, so $\sqrt\kappa$ fewer steps. The tuning
  needs $m$ and $L$, and the speed-up is a statement about quadratics only: on some smooth
  strongly convex functions that are not quadratic, heavy ball with these parameters need not
  converge ([Lessard et al., 2016](https://arxiv.org/abs/1408.3595), who give such a function). Nesterov's method is the
  one with a $\sqrt\kappa$ guarantee for every smooth strongly convex function.

For nonconvex smooth $f$ the guarantees are about *stationarity*, not the minimum: SGD with a step
$\propto 1/\sqrt{T}$, stopped at a randomly chosen one of its $T$ iterates (Ghadimi and Lan's
randomized stochastic gradient method), finds a point with $\mathbb{E}\lVert\nabla f\rVert^2 = O(1/\sqrt{T})$
([Ghadimi & Lan, 2013](https://arxiv.org/abs/1309.5549)), and for bounded gradients Adagrad, and Adam
with hyper-parameters chosen for the horizon, bring the squared gradient norm averaged over the
trajectory down at $O(d\ln T/\sqrt{T})$ ([Défossez et al., 2022](https://arxiv.org/abs/2003.02395)); with
its default parameters Adam does not converge.
A small gradient can be a saddle point or a poor local minimum, and none of these rates says
which optimizer trains a network to a lower loss: that is what [the experiment](experiment.html)
measures.
"""

import math
from collections.abc import Sequence
from typing import Optional

import torch

from labml_nn.optimizers.momentum_quadratic import curvatures
from labml_nn.optimizers.sgd import SGD


def gd_quadratic(h: torch.Tensor, steps: int, lr: float) -> tuple[list[float], list[float]]:
    r"""
    ### Gradient descent on $f(\theta) = \frac{1}{2}\sum_i h_i\theta_i^2$ from $\theta_0 = (1, \dots, 1)$

    Returns $\lVert\theta_t\rVert$ and $f(\theta_t)$ for $t = 0, \dots,$ `steps`, with the chapter's
    [`SGD`](sgd.html) in float64 (the minimum is $\theta^* = 0$, $f^* = 0$).
    """
    theta = torch.ones(len(h), dtype=torch.float64, requires_grad=True)
    optimizer = SGD([theta], lr=lr)
    distances, values = [], []
    for t in range(steps + 1):
        optimizer.zero_grad()
        # $f(\theta) = \frac{1}{2}\sum_i h_i \theta_i^2$
        loss = 0.5 * (h * theta * theta).sum()
        distances.append(theta.detach().norm().item())
        values.append(loss.item())
        if t < steps:
            loss.backward()
            optimizer.step()
    return distances, values


def quadratic_rates(kappa: float = 100.0, start: int = 2000, end: int = 4000) -> tuple[float, float]:
    r"""
    ### The measured per-step contraction of the distance and of the value, $\alpha = 1/L$

    On the [momentum page](momentum_quadratic.html)'s curvatures, $L = 1$ down to $m = 1/\kappa$.
    """
    distances, values = gd_quadratic(curvatures(kappa), end, lr=1.0)
    per_step = 1 / (end - start)
    return (distances[end] / distances[start]) ** per_step, (values[end] / values[start]) ** per_step


def convex_quadratic(d: int = 1000, horizons: Sequence[int] = (10, 100, 1000)) -> list[float]:
    r"""
    ### $f(\theta_T) - f^*$ as a fraction of the bound $L\lVert\theta_0 - \theta^*\rVert^2 / (2T)$

    Curvatures $h_i = 1/i^2$, $i = 1, \dots, d$, so $L = 1$; $\alpha = 1/L$.
    """
    h = 1 / torch.arange(1, d + 1, dtype=torch.float64) ** 2
    distances, values = gd_quadratic(h, max(horizons), lr=1.0)
    return [values[T] / (distances[0] ** 2 / (2 * T)) for T in horizons]


def median_l1_problem(n: int = 100, d: int = 10, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""
    ### The points $a_j$ of $f(\theta) = \frac{1}{n}\sum_j\lVert\theta - a_j\rVert_1$, its minimizer and $f^*$

    Any point between the two middle values of each coordinate is a minimizer; we take their mean.
    """
    generator = torch.Generator().manual_seed(seed)
    # $[n, d]$ points
    points = torch.randn(n, d, dtype=torch.float64, generator=generator)
    ordered = points.sort(dim=0).values
    minimizer = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    return points, minimizer, l1_objective(points, minimizer.unsqueeze(0)).item()


def l1_objective(points: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    r"""
    ### $f$ at each row of `theta` ($[S, d] \to [S]$)
    """
    return (theta.unsqueeze(1) - points.unsqueeze(0)).abs().sum(-1).mean(-1)


def sgd_lipschitz(horizons: Sequence[int] = (100, 1000, 10_000), seeds: int = 20) -> list[float]:
    r"""
    ### The gap of SGD's average iterate as a fraction of the bound $RG/\sqrt{T}$

    For each horizon $T$, `seeds` runs side by side (one row each), from $\theta_1 = 0$, with
    $\alpha = R/(G\sqrt{T})$; the gap is averaged over the runs, which estimates the expectation
    the bound is about.
    """
    points, minimizer, best = median_l1_problem()
    n, d = points.shape
    # $R = \lVert\theta_1 - \theta^*\rVert$ and $G = \sqrt{d}$, the norm of a sign vector
    radius, lipschitz = minimizer.norm().item(), math.sqrt(d)
    fractions = []
    for T in horizons:
        generator = torch.Generator().manual_seed(T)
        theta = torch.zeros(seeds, d, dtype=torch.float64, requires_grad=True)
        optimizer = SGD([theta], lr=radius / (lipschitz * math.sqrt(T)))
        total = torch.zeros(seeds, d, dtype=torch.float64)
        for _ in range(T):
            total += theta.detach()
            j = torch.randint(n, (seeds,), generator=generator)
            # A subgradient of $\lVert\theta - a_j\rVert_1$: $\operatorname{sign}(\theta - a_j)$
            theta.grad = torch.sign(theta.detach() - points[j])
            optimizer.step()
        gap = (l1_objective(points, total / T) - best).mean().item()
        fractions.append(gap / (radius * lipschitz / math.sqrt(T)))
    return fractions


def ogd_absolute(targets: Sequence[float], diameter: float = 2.0, lipschitz: float = 1.0) -> list[float]:
    r"""
    ### Online gradient descent on $f_t(x) = |x - z_t|$ over $[-1, 1]$, $\alpha_t = D/(G\sqrt{t})$

    Returns the points played, $x_1 = 0, x_2, \dots, x_T$. One dimension, plain floats.
    """
    x, played = 0.0, []
    for t, z in enumerate(targets, start=1):
        played.append(x)
        # A subgradient of $|x - z_t|$; at the kink any value in $[-1, 1]$ would do
        g = 1.0 if x > z else -1.0 if x < z else 0.0
        # $x_{t+1} = \Pi_{[-1,1]}(x_t - \alpha_t g_t)$
        x = min(1.0, max(-1.0, x - diameter / (lipschitz * math.sqrt(t)) * g))
    return played


def absolute_regret(targets: Sequence[float], played: Sequence[float]) -> float:
    r"""
    ### $R_T$ for $f_t(x) = |x - z_t|$: the best fixed point in hindsight is a median of the $z_t$
    """
    ordered = sorted(targets)
    median = ordered[len(ordered) // 2]
    return sum(abs(x - z) for x, z in zip(played, targets)) - sum(abs(median - z) for z in targets)


def ogd_regret(horizons: Sequence[int] = (100, 1000, 10_000), seed: int = 0) -> list[float]:
    r"""
    ### OGD's regret on $|x - z_t|$, $z_t$ uniform on $[-1, 1]$, as a fraction of $\frac{3}{2}DG\sqrt{T} = 3\sqrt{T}$

    One sequence, of which each horizon plays the first $T$ losses.
    """
    generator = torch.Generator().manual_seed(seed)
    targets = (2 * torch.rand(max(horizons), dtype=torch.float64, generator=generator) - 1).tolist()
    fractions = []
    for T in horizons:
        played = ogd_absolute(targets[:T])
        fractions.append(absolute_regret(targets[:T], played) / (1.5 * 2.0 * 1.0 * math.sqrt(T)))
    return fractions


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Print every measurement of the page
    """
    distance_rate, value_rate = quadratic_rates()
    print(f"GD, kappa = 100, alpha = 1/L: distance x{distance_rate:.5f} a step, value x{value_rate:.5f}")
    print("GD, convex, gap / (L D^2 / 2T) at T = 10, 100, 1000:", [f"{x:.2g}" for x in convex_quadratic()])
    print("SGD, L1, gap / (RG / sqrt T) at T = 100, 1000, 10000:", [f"{x:.2f}" for x in sgd_lipschitz()])
    print("OGD, |x - z|, regret / (3 sqrt T) at T = 100, 1000, 10000:", [f"{x:.2f}" for x in ogd_regret()])


# ## Exercises
#
# :::: exercise The quadratic closest to the $O(1/T)$ bound
# Gradient descent with $\alpha = 1/L = 1$ runs for $T$ steps on $f(\theta) = \frac{1}{2}h\theta^2$ from
# $\theta_0 = 1$, for some $0 < h \le 1$. Which $h$ makes $f(\theta_T)$ largest, and what fraction of the bound
# $L\theta_0^2/(2T)$ is it, for $T = 100$ and as $T \to \infty$?
#
# ::: answer
# $f(\theta_T) = \frac{1}{2}h(1-h)^{2T}$, whose derivative in $h$ vanishes at $h = 1/(2T+1)$. There
# $f(\theta_T) \cdot 2T = \frac{T}{2T+1}\left(1 - \frac{1}{2T+1}\right)^{2T}$, which is 0.1835 for $T = 100$
# and tends to $\frac{1}{2e} = 0.1839$. No quadratic comes within a factor of 5.4 of the bound; the constant
# of the bound is not tight for gradient descent (a sharper analysis, by Drori and Teboulle, gives
# $L\lVert\theta_0-\theta^*\rVert^2/(4T+2)$ and a function that attains it), but the rate $1/T$ is.
# :::
# ::::
#
# :::: exercise Steps to shrink the error a millionfold
# With $\kappa = 100$, how many steps of gradient descent shrink $\lVert\theta_t - \theta^*\rVert$ by $10^6$
# on the worst quadratic, with $\alpha = 1/L$ and with $\alpha = 2/(L+m)$?
#
# ::: answer
# With $1/L$ the rate is $1 - 1/\kappa = 0.99$, so $\ln 10^6 / -\ln 0.99 = 1374.6$: 1375 steps. With
# $2/(L+m)$ it is $(\kappa-1)/(\kappa+1) = 0.9802$ (the [momentum page](momentum_quadratic.html)'s
# $\rho_{\text{GD}}$), and 691 steps: the best constant step halves the count, while heavy ball divides it by
# about $\sqrt\kappa = 10$.
# :::
# ::::
#
# :::: exercise From regret to a rate
# The losses are independent draws $f_t = \ell(\cdot, \xi_t)$ of one $f = \mathbb{E}\,\ell(\cdot, \xi)$, and the
# learner's $x_t$ depends only on $\xi_1, \dots, \xi_{t-1}$. Show that $\mathbb{E} f(\bar x_T) - f(x^*) \le
# \mathbb{E}R_T / T$ for the average $\bar x_T$ of the $x_t$, and give the resulting rate for OGD with $D = 2$,
# $G = 1$ and $T = 10^4$.
#
# ::: answer
# $\mathbb{E}[f_t(x_t)] = \mathbb{E} f(x_t)$, because $\xi_t$ is independent of $x_t$; and
# $\sum_t f_t(x^*) \ge \min_x \sum_t f_t(x)$, so $\mathbb{E}\sum_t (f(x_t) - f(x^*)) \le \mathbb{E}R_T$. Jensen's
# inequality for the convex $f$ gives $f(\bar x_T) \le \frac{1}{T}\sum_t f(x_t)$. With OGD's bound,
# $\mathbb{E}f(\bar x_T) - f^* \le \frac{3}{2}DG/\sqrt{T} = 3/100 = 0.03$.
# :::
# ::::
#
# :::: exercise Adam's average regret on the counter-example
# On the [counter-example](amsgrad_counterexample.html), $f_t(x) = c_t x$ with $c_t = 1010$ on the first step of
# each period of 101 and $-10$ on the others. Show that a period whose first point is $x = +1$ costs a learner at
# least 20 more than the best fixed point, $x = -1$, wherever its other 100 points lie in $[-1, 1]$, and give
# the average regret per step of a learner that does this every period.
#
# ::: answer
# The period costs $1010 \cdot 1 - 10\sum x_t$ over its other 100 points, at least $1010 - 10 \cdot 100 = 10$
# since each $x_t \le 1$; the point $x = -1$ pays $-1010 + 1000 = -10$. The difference is at least $20$ per
# 101 steps, an average regret of at least $20/101 = 0.198$ a step, which does not go to zero.
# :::
# ::::


if __name__ == "__main__":
    main()
