# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adagrad Optimizer
summary: An annotated PyTorch implementation of Adagrad, equal to torch.optim.Adagrad, showing how its per-coordinate learning rate decays to zero on dense problems and why that suited sparse features.
paper_title: Adaptive Subgradient Methods for Online Learning and Stochastic Optimization
paper_authors: John Duchi, Elad Hazan and Yoram Singer
paper_year: 2011
paper_type: article
paper_venue: Journal of Machine Learning Research
paper_volume: 12
paper_number: 61
paper_pages: 2121-2159
paper_url: https://jmlr.org/papers/v12/duchi11a.html
---

# Adagrad Optimizer

This page implements *Adagrad* from
[Adaptive Subgradient Methods for Online Learning and Stochastic Optimization](https://jmlr.org/papers/v12/duchi11a.html)
by Duchi, Hazan and Singer (JMLR 12, 2011), on top of the `GenericAdaptiveOptimizer` of the
[chapter's index page](index.html). It is the first *adaptive* method of the course: after
[SGD](sgd.html), which moves every coordinate by the same multiple of its gradient, Adagrad
gives each coordinate its own step size, from the history of that coordinate's gradients.
It does what `torch.optim.Adagrad` does. At step $t$, with gradient $g_t$,

\begin{align}
g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
\eta_t &\leftarrow \frac{\alpha}{1 + (t-1)\,\delta} \\
G_t &\leftarrow G_{t-1} + g_t^2 \qquad (G_0 = G_{\text{init}}) \\
\theta_t &\leftarrow \theta_{t-1} - \eta_t \frac{g_t}{\sqrt{G_t} + \epsilon}
\end{align}

$G_t$ is the running *sum* of the squared gradients, per coordinate. $\alpha$ is the learning
rate, $\delta$ an optional extra decay of it (`lr_decay`), $G_{\text{init}}$ the starting value
of the sum (`initial_accumulator_value`), $\lambda$ an L2 weight decay and $\epsilon$ keeps the
division finite.

*Notation.* $\alpha$ is the base rate, as everywhere in the chapter; $\eta_t$ is the rate after PyTorch's `lr_decay`, a name only this page uses.

## Where we depart from the paper

The paper's diagonal Adagrad is $\theta_t = \theta_{t-1} - \alpha\, g_t / (\delta_{\text{paper}} + \sqrt{G_t})$
(its $\delta$ is our $\epsilon$), with no decay of $\alpha$ and $G_0 = 0$. `lr_decay` and
`initial_accumulator_value` are PyTorch's additions, and we keep them so that the class equals
`torch.optim.Adagrad`; with their defaults (0 and 0) the update is the paper's. The paper's full-matrix
variant, with $G_t = \sum_\tau g_\tau g_\tau^\top$, costs $n^2$ memory and is not implemented.
`torch.optim.Adagrad` also accepts sparse gradient tensors (from `nn.Embedding(sparse=True)`) and
updates only their rows; the base class of this chapter refuses sparse gradients, so this page does too.

## The learning rate decays to zero on a dense problem

The effective learning rate of a coordinate, $\eta_t/(\sqrt{G_t} + \epsilon)$, can only fall: $G_t$
never shrinks. If a coordinate's gradients keep a typical size $\sigma$, then $G_t \approx t\sigma^2$
and its rate is about $\alpha / (\sigma\sqrt{t})$. `dense_and_rare` below measures it with
$g_t \sim \mathcal{N}(0, 1)$: $\alpha\sqrt{t}/(\sqrt{G_t}+\epsilon)$ stays within a few percent of
$1$ from $t = 100$ to $t = 10{,}000$ while the rate itself falls $10\times$. A $1/\sqrt{t}$ decay is
what online convex optimization needs, and it is what the paper's regret bound of order
$\sqrt{T}$ is built on ([what convergence theorems promise](convergence.html) says what such a bound assumes). In deep learning, where the loss surface changes as training goes on and
a gradient of a million steps ago says little about the current one, it stops training too
early. [RMSProp](rmsprop.html) replaces the sum by a moving average for this reason.

## Why it suited sparse features

Adagrad was designed for problems such as text classification, where most features (words) are
absent from most examples, and a feature's gradient is zero unless the feature is present.
Take a frequent feature that has a gradient of size $\sigma$ on every step and a rare one that
has it on a fraction $p$ of the steps. After $t$ steps:

* SGD has moved the frequent weight by about $t\alpha\sigma$ and the rare one by $pt\alpha\sigma$:
  the rare weight learns $1/p$ times slower.
* Adagrad's sums are $t\sigma^2$ and $pt\sigma^2$, so the rare weight's rate is $1/\sqrt{p}$ times
  larger. Summing the steps, $\sum_{k \le n} 1/\sqrt{k} \approx 2\sqrt{n}$, the weights have moved
  by about $2\alpha\sqrt{t}$ and $2\alpha\sqrt{pt}$: the gap is $1/\sqrt{p}$ instead of $1/p$.

With $p = 1/100$ the rare weight lags SGD's frequent one $100\times$ but Adagrad's only about
$10\times$; `dense_and_rare` measures $100$ and $10.7$ over 10,000 steps, and the tests check both.
Adagrad's step per occurrence is also *large* when a feature is first seen ($\alpha$ on its first
step, whatever $\sigma$), which is what a rare, informative feature needs.

![Left: the effective learning rate of Adagrad and RMSProp on a dense problem. Right: how far a frequent and a rare weight move under SGD and Adagrad](adagrad.svg)

The plot is drawn by `plot` at the bottom of the page (`python -m labml_nn.optimizers.adagrad`
shows it, and `--save adagrad.svg` writes the file shown here). On the left, Adagrad's effective rate follows
$\alpha/\sqrt{t}$ down, while [RMSProp](rmsprop.html)'s, with the same gradients, levels off at
about $\alpha/\sigma$. On the right, the gap between the frequent and the rare weight is $100\times$
under SGD and about $10\times$ under Adagrad.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from labml_nn.figures import figure_style, save_path, show_or_save
from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class Adagrad(GenericAdaptiveOptimizer):
    r"""
    ## Adagrad Optimizer

    Adagrad has an $\epsilon$ but no moment decay rates, so it leaves `betas` out of its groups.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: Union[float, WeightDecay] = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are `torch.optim.Adagrad`'s.

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$
        * `lr_decay` is $\delta$: $\eta_t = \alpha / (1 + (t-1)\delta)$
        * `weight_decay` is $\lambda$ as a number (L2 regularization, as in `torch.optim.Adagrad`),
          or a `WeightDecay`
        * `initial_accumulator_value` is $G_0$
        * `eps` is $\epsilon$
        * `maximize` climbs the objective instead of descending it
        * `defaults` holds the group defaults of a subclass
        """
        if not isinstance(weight_decay, WeightDecay):
            weight_decay = WeightDecay(weight_decay, weight_decouple=False)
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.update(lr_decay=lr_decay, initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, defaults, lr, eps=eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        if not 0.0 <= group["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']} (must be >= 0)")
        if not 0.0 <= group["initial_accumulator_value"]:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {group['initial_accumulator_value']} (must be >= 0)"
            )

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t$
        state["step"] = 0
        # $G_0$; `sum` is `torch.optim.Adagrad`'s name for it, so that state dictionaries read alike
        state["sum"] = torch.full_like(param, group["initial_accumulator_value"], memory_format=torch.preserve_format)

    @staticmethod
    def effective_lr(state: State, group: Group) -> torch.Tensor:
        r"""
        ### The effective learning rate of every coordinate, $\eta_t / (\sqrt{G_t} + \epsilon)$

        For the step just taken; this is what the page's measurements read.
        """
        eta = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        return eta / (state["sum"].sqrt() + group["eps"])

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the gradient $g_t$ of the parameter $\theta_{t-1}$
        """
        state["step"] += 1
        # $\eta_t = \alpha / (1 + (t-1)\delta)$
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        # $g_t \leftarrow g_t + \lambda\theta_{t-1}$ (L2), in a new tensor; or decoupled decay of $\theta_{t-1}$
        grad = WeightDecay.apply(param, grad, group, lr)
        # $G_t \leftarrow G_{t-1} + g_t^2$
        accumulator = state["sum"]
        accumulator.addcmul_(grad, grad, value=1)
        # $\sqrt{G_t} + \epsilon$
        denominator = accumulator.sqrt().add_(group["eps"])
        # $\theta_t \leftarrow \theta_{t-1} - \eta_t \frac{g_t}{\sqrt{G_t} + \epsilon}$
        param.addcdiv_(grad, denominator, value=-lr)


def dense_and_rare(steps: int = 10_000, every: int = 100, lr: float = 0.1, seed: int = 0) -> dict[str, Any]:
    r"""
    ## The page's two measurements

    * **Dense**: one coordinate with $g_t \sim \mathcal{N}(0, 1)$ on every step; returns
      $\alpha\sqrt{t} / (\sqrt{G_t} + \epsilon)$ at $t = 100, 1000, 10{,}000$ under `"dense"`
      (about 1 if the rate falls like $\alpha/\sqrt t$) and the effective rates themselves under `"dense_lr"`.
    * **Rare against frequent**: two coordinates, the first with gradient $1$ on every step, the
      second with gradient $1$ on every `every`-th step (zero otherwise), stepped by Adagrad and by
      plain SGD (`torch.optim.SGD`, the trusted baseline) with the same $\alpha$. Returns how far each
      moved after `steps` steps, under `"adagrad"` and `"sgd"`, as `(frequent, rare)`.

    Everything is in float64 and seeded, so the numbers are the same on every run.
    """
    generator = torch.Generator().manual_seed(seed)
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer: torch.optim.Optimizer = Adagrad([theta], lr=lr)
    dense, dense_lr = {}, {}
    for t in range(1, steps + 1):
        theta.grad = torch.randn(1, generator=generator, dtype=torch.float64)
        optimizer.step()
        if t in (100, 1000, 10_000):
            rate = Adagrad.effective_lr(optimizer.state[theta], optimizer.param_groups[0]).item()
            dense[t], dense_lr[t] = rate * t**0.5 / lr, rate

    moved = {}
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer]
    for name, make in (("adagrad", lambda p: Adagrad(p, lr=lr)), ("sgd", lambda p: torch.optim.SGD(p, lr=lr))):
        # $[\theta_{\text{frequent}}, \theta_{\text{rare}}]$
        theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        optimizer = make([theta])
        for t in range(1, steps + 1):
            theta.grad = torch.tensor([1.0, 1.0 if t % every == 0 else 0.0], dtype=torch.float64)
            optimizer.step()
        frequent, rare = (-theta.detach()).tolist()
        moved[name] = (frequent, rare)
    return {"dense": dense, "dense_lr": dense_lr, **moved}


def curves(steps: int = 10_000, every: int = 100, lr: float = 0.1, seed: int = 0) -> dict[str, list[float]]:
    r"""
    ### Per-step values for the plot

    The effective rate of one dense coordinate ($g_t \sim \mathcal{N}(0, 1)$) under Adagrad and under
    RMSProp ($\beta = 0.99$, the same gradients), and the distance moved by the frequent and the rare
    weight of `dense_and_rare` under Adagrad and SGD.
    """
    from labml_nn.optimizers.rmsprop import RMSProp

    generator = torch.Generator().manual_seed(seed)
    gradients = torch.randn(steps, generator=generator, dtype=torch.float64)
    result: dict[str, list[float]] = {}
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer]
    for name, make in (("adagrad_lr", lambda p: Adagrad(p, lr=lr)), ("rmsprop_lr", lambda p: RMSProp(p, lr=lr))):
        theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer: torch.optim.Optimizer = make([theta])
        rates = []
        for g in gradients:
            theta.grad = g.reshape(1)
            optimizer.step()
            state, group = optimizer.state[theta], optimizer.param_groups[0]
            # RMSProp's effective rate is $\alpha / (\sqrt{v_t} + \epsilon)$
            denominator = state["sum"].sqrt() if "sum" in state else state["square_avg"].sqrt()
            rates.append(group["lr"] / (denominator.item() + group["eps"]))
        result[name] = rates
    for name, make in (("adagrad", lambda p: Adagrad(p, lr=lr)), ("sgd", lambda p: torch.optim.SGD(p, lr=lr))):
        theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        optimizer = make([theta])
        frequent, rare = [], []
        for t in range(1, steps + 1):
            theta.grad = torch.tensor([1.0, 1.0 if t % every == 0 else 0.0], dtype=torch.float64)
            optimizer.step()
            frequent.append(-theta[0].item())
            rare.append(-theta[1].item())
        result[name + "_frequent"], result[name + "_rare"] = frequent, rare
    return result


def plot(path: Optional[Path] = None, steps: int = 10_000) -> None:
    r"""
    ### Draw both panels

    Shown, or saved as SVG at `path` (see [figures](../figures.html)).
    """
    import matplotlib.pyplot as plt

    data = curves(steps)
    t = list(range(1, steps + 1))
    with figure_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        left.plot(t, data["adagrad_lr"], color="tab:blue", label="Adagrad")
        left.plot(t, data["rmsprop_lr"], color="tab:orange", label=r"RMSProp, $\beta = 0.99$")
        left.plot(t, [0.1 / s**0.5 for s in t], color="black", linestyle=":", linewidth=1, label=r"$\alpha/\sqrt{t}$")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("step $t$")
        left.set_ylabel(r"effective rate, $g_t \sim \mathcal{N}(0, 1)$")
        left.legend(fontsize=7)
        for name, color in (("sgd", "tab:orange"), ("adagrad", "tab:blue")):
            label = "SGD" if name == "sgd" else "Adagrad"
            right.plot(t, data[name + "_frequent"], color=color, label=f"{label}, frequent weight")
            right.plot(
                t, data[name + "_rare"], color=color, linestyle="--", label=f"{label}, rare weight (1 step in 100)"
            )
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel("step $t$")
        right.set_ylabel("distance moved")
        right.legend(fontsize=7)
        show_or_save(fig, path)


def main(argv: Optional[Sequence[str]] = None) -> None:
    r"""
    ### Draw the figure, then try it

    Shown under the cell in a notebook; `--save PATH` writes the SVG the page shows, and does only that.

    Without `--save` the [Try it](try_it.html) demo follows: the small model trained with this page's
    Adagrad, and a twin trained with `torch.optim.Adagrad` on the same gradients. The defaults
    ($\epsilon = 10^{-10}$, no rate decay, a zero accumulator) are the same, and so is the update. The
    rate is 5 times the $10^{-2}$ the Adam pages use: the first step is $\alpha$ per coordinate, but the
    rate then falls like $1/\sqrt{t}$.
    """
    path = save_path(
        argv,
        "Draw Adagrad's and RMSProp's effective rates, and how far a frequent and a rare weight move; "
        "without --save, also train a small model with Adagrad and torch.optim.Adagrad.",
        "labml_nn/optimizers/adagrad.svg",
    )
    plot(path)
    if path is None:
        from labml_nn.optimizers.try_it import try_optimizer

        try_optimizer(
            lambda params: Adagrad(params, lr=5e-2),
            lambda params: torch.optim.Adagrad(params, lr=5e-2),
            name="Adagrad",
            reference_name="torch.optim.Adagrad",
        )


# ## Exercises
#
# :::: exercise The step under a constant gradient
# The gradient is the same $g \ne 0$ on every step. What is Adagrad's step at step $t$, and after how many
# steps has it fallen to a tenth of the first?
#
# ::: answer
# $G_t = t g^2$, so the step is $-\alpha g/\sqrt{t g^2} = -\alpha \operatorname{sign}(g)/\sqrt t$ (with
# $\epsilon = 0$): its size $\alpha/\sqrt t$ is a tenth of the first at $t = 100$, whatever $g$ is. The sum of the steps after $T$ steps grows like $2\alpha\sqrt T$, so Adagrad
# still reaches any point, but ever more slowly.
# :::
# ::::
#
# :::: exercise How far `lr_decay` lets a weight travel
# The gradient is the same $g \ne 0$ on every step, $\epsilon = 0$, and `lr_decay` is $\delta = 0.01$. How far does the
# weight move in all, however long it trains, in units of $\alpha$? Compare with $\delta = 0$.
#
# ::: answer
# The step at $t$ has size $\eta_t/\sqrt t = \alpha/\big((1 + (t-1)\delta)\sqrt t\big)$, which falls like
# $t^{-3/2}/\delta$ once $t \gg 1/\delta$, so the steps have a finite sum. The integral
# $\int_0^\infty dt/((1+\delta t)\sqrt t) = \pi/\sqrt\delta$ estimates it at $31.4\alpha$; the sum itself is
# $30.1\alpha$. With $\delta = 0$ the distance grows like $2\alpha\sqrt T$ without bound (the exercise above): PyTorch's
# `lr_decay` on top of Adagrad's own $1/\sqrt t$ decay stops a weight after a fixed distance under this gradient.
# :::
# ::::
#
# :::: exercise A rare feature with larger gradients
# In `dense_and_rare`, give the rare coordinate the gradient $10$ instead of $1$, on the same steps. Predict how
# far each weight moves in 10,000 steps with $\alpha = 0.1$, under SGD and under Adagrad.
#
# ::: answer
# SGD moves each weight by $\alpha$ times the sum of its gradients: $1000$ for the frequent one, as before, and
# $100 \cdot 0.1 \cdot 10 = 100$ for the rare one, ten times further than with gradient 1, so its gap is now
# $10\times$. Adagrad's step $\eta_t g_t/\sqrt{G_t}$ is unchanged when every gradient of a coordinate is
# multiplied by the same $c > 0$ (exactly with $\epsilon = 0$, up to $\epsilon$ otherwise): the frequent weight
# moves $\alpha\sum_{t \le 10{,}000} 1/\sqrt t = 19.85$ and the rare one $\alpha\sum_{k \le 100} 1/\sqrt k = 1.859$,
# as with gradient 1, and the gap stays $10.7\times$. Adagrad adapts to how large a coordinate's gradients are,
# SGD does not; what still slows the rare weight under Adagrad is only how rarely it gets a gradient.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. In the [experiment](experiment.html)
# Adagrad runs at PyTorch's default rate, $10^{-2}$, and its sweep.
ENTRY = OptimizerEntry(
    Adagrad,
    paper="https://jmlr.org/papers/v12/duchi11a.html",
    test_kwargs=dict(lr=0.1, lr_decay=0.01, weight_decay=0.01),
    reference=Reference(
        torch.optim.Adagrad,
        ours=dict(lr=1e-2, lr_decay=0.01, weight_decay=0.1),
        theirs=dict(lr=1e-2, lr_decay=0.01, weight_decay=0.1, foreach=False),
    ),
    experiment=ExperimentLine("adagrad", 1e-2, position=13),
)


# ## Try it
#
# Nothing runs on import; `python -m labml_nn.optimizers.adagrad` draws the figure and runs the demo.
if __name__ == "__main__":
    main()
