# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Learning rate and batch size
summary: The linear scaling rule with warm-up, square-root scaling for adaptive methods, and the critical batch size from the gradient noise scale, each set against runs of the chapter's experiment on the digits at five batch sizes.
paper_title: Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour
paper_authors: Priya Goyal, Piotr Dollár, Ross Girshick, Pieter Noordhuis, Lukasz Wesolowski, Aapo Kyrola, Andrew Tulloch, Yangqing Jia and Kaiming He
paper_year: 2017
paper_arxiv: 1706.02677
paper_arxiv_class: cs.CV
paper2_title: Train longer, generalize better: closing the generalization gap in large batch training of neural networks
paper2_authors: Elad Hoffer, Itay Hubara and Daniel Soudry
paper2_year: 2017
paper2_type: inproceedings
paper2_venue: Advances in Neural Information Processing Systems 30 (NIPS 2017)
paper2_arxiv: 1705.08741
paper2_arxiv_class: stat.ML
paper3_title: An Empirical Model of Large-Batch Training
paper3_authors: Sam McCandlish, Jared Kaplan, Dario Amodei and OpenAI Dota Team
paper3_year: 2018
paper3_type: misc
paper3_arxiv: 1812.06162
paper3_arxiv_class: cs.LG
paper4_title: On the SDEs and Scaling Rules for Adaptive Gradient Algorithms
paper4_authors: Sadhika Malladi, Kaifeng Lyu, Abhishek Panigrahi and Sanjeev Arora
paper4_year: 2022
paper4_type: inproceedings
paper4_venue: Advances in Neural Information Processing Systems 35 (NeurIPS 2022)
paper4_arxiv: 2205.10287
paper4_arxiv_class: cs.LG
---

# Learning rate and batch size

When the batch grows, how should the learning rate change? This page sets out three answers,
the linear rule, the square-root rule and the critical batch size, says what each paper
claims, and runs the chapter's [experiment](experiment.html) on the digits at five batch sizes
to see which of them hold at this small scale. It assumes SGD with momentum, [Adam](adam.html),
[warm-up](adam_warmup.html) and the variance of a mean of independent draws.

## The linear scaling rule, with warm-up

Goyal et al. ([2017](https://arxiv.org/abs/1706.02677)) trained ResNet-50 on ImageNet with SGD and
momentum at batches of 8192 images, in one hour on 256 GPUs, with the rule: *when the minibatch size is multiplied
by $k$, multiply the learning rate by $k$*. The argument: $k$ steps of batch $B$ at rate $\alpha$
move the weights by $-\frac{\alpha}{B}\sum_{j<k}\sum_{x \in \mathcal{B}_j}\nabla\ell(x, \theta_{t+j})$;
one step of batch $kB$ at rate $\hat\alpha$ moves them by
$-\frac{\hat\alpha}{kB}\sum_{j<k}\sum_{x \in \mathcal{B}_j}\nabla\ell(x, \theta_t)$. The two agree if
$\hat\alpha = k\alpha$ *and* $\nabla\ell(x, \theta_{t+j}) \approx \nabla\ell(x, \theta_t)$, that is,
if the weights move little over $k$ steps. That fails early in training, when the network
changes fast, so they ramp the rate up from $\alpha$ to $k\alpha$ over the first 5 epochs
(*gradual warm-up*) and, with it, report no loss of accuracy up to a batch of 8k; at larger
batches the accuracy falls. The rule is an approximation with a stated condition, not a theorem, and the
runs it was checked on keep the number of epochs fixed, so a batch $k$ times larger takes $k$
times fewer steps.

## The square-root rule

Keeping the *variance* of a step, rather than its mean, the same gives a different rule. A batch
gradient is a mean of $B$ draws, so its covariance is $\Sigma/B$, and a step $\alpha g$ has
covariance $\alpha^2\Sigma/B$: the same for $\alpha \propto \sqrt{B}$. Hoffer et al.
([2017](https://arxiv.org/abs/1705.08741)) proposed this for SGD, together with training longer
(the same number of *steps*, not epochs) and "ghost" batch normalization. For Adam and RMSProp,
Malladi et al. ([2022](https://arxiv.org/abs/2205.10287)) derived stochastic differential equations
that the methods follow and, from them, the *square-root scaling rule*: at batch $\kappa B$ use
the rate $\sqrt{\kappa}\,\alpha$, and also $1 - \beta_1 \to \kappa(1-\beta_1)$,
$1 - \beta_2 \to \kappa(1-\beta_2)$ and $\epsilon \to \epsilon/\sqrt\kappa$. The rate's square root
is the half of the rule that people quote; the betas are part of it. Adam's update divides by
$\sqrt{v_t}$, which is of the size of the gradient's noise, so it is roughly invariant to the
gradient's scale, and the rate plays the role that $\alpha/\sqrt{B}$ plays for SGD.

## The critical batch size and the gradient noise scale

McCandlish et al. ([2018](https://arxiv.org/abs/1812.06162)) ask when a larger batch stops
helping. With the true gradient $G$, the per-example covariance $\Sigma$ and the Hessian $H$, the
best SGD step on a local quadratic model reduces the loss in proportion to
$1/(1 + \mathcal{B}_\text{noise}/B)$, with $\mathcal{B}_\text{noise} = \operatorname{tr}(H\Sigma)/(G^\top HG)$:
a batch much smaller than $\mathcal{B}_\text{noise}$ makes progress proportional to $B$ (the
linear regime, where the best rate also grows about linearly), a batch much larger makes the
same progress as a full-batch step, so the extra examples are wasted. Without $H$, they use the
*simple noise scale*

$$B_\text{simple} = \frac{\operatorname{tr}\Sigma}{\lvert G\rvert^2}$$

equal to $\mathcal{B}_\text{noise}$ when $H$ is a multiple of the identity. Their empirical model
ties the number of steps $S$ and of examples $E$ needed to reach a given loss by
$(S/S_\text{min} - 1)(E/E_\text{min} - 1) = 1$, whose *critical batch size*
$B_\text{crit} = E_\text{min}/S_\text{min}$ they find $B_\text{simple}$ to predict roughly (to about an
order of magnitude, across their tasks); the noise scale grows as the loss falls. `gradient_statistics` computes it exactly on the digits: per-example gradients over
all 1,077 training images, in float64. The experiment draws a batch's images with replacement,
so $\Sigma$ is the covariance of one uniformly drawn image's gradient, and the covariance of a
batch gradient is exactly $\Sigma/B$.

`noise_scale` measures it along the batch-64 runs of both optimizers (seed 0), into `noise_scale.json`:

| Run | Step | Squared norm of the gradient, $\lvert G\rvert^2$ | Trace of its covariance, $\operatorname{tr}\Sigma$ | Noise scale, $B_\text{simple}$ |
|---|---|---|---|---|
| sgd-momentum | 0 | 0.0112 | 2.31 | 207 |
| sgd-momentum | 40 | 0.827 | 14.2 | 17 |
| sgd-momentum | 120 | 0.0982 | 20.1 | 205 |
| sgd-momentum | 200 | 0.063 | 11.7 | 186 |
| sgd-momentum | 360 | 0.000119 | 0.0593 | 497 |
| adam | 0 | 0.0112 | 2.31 | 207 |
| adam | 40 | 9.13 | 383 | 42 |
| adam | 120 | 0.634 | 70.5 | 111 |
| adam | 200 | 0.137 | 26.2 | 191 |
| adam | 360 | 0.00368 | 1.1 | 298 |

At initialization the loss is flat near chance and $B_\text{simple}$ is 207; once the network starts
learning the gradient is large and it falls to 17 (momentum SGD) and 42 (Adam) at step 40; then it
grows as the loss falls, to 186 and 191 at step 200 and 497 and 298 at step 360, as McCandlish et
al. report for their tasks. Over most of the run it is well above 64, so by this measure batches up
to a few hundred should still be in the regime where a larger batch, at a proportionally larger
rate, is nearly as good per example: the runs below disagree for momentum SGD, because another
limit binds first.

## The runs

The [experiment](experiment.html)'s digits task, its CNN and training loop (`train_run`, imported,
not copied), at batches of 16, 32, 64, 128 and 256, each seeing the same 25,600 examples
(400 steps at 64, the experiment's budget; 1,600 steps at 16, 100 at 256), so the epochs are
fixed, as in Goyal et al. The experiment chose the rates $\alpha_0 = 0.1$ for momentum SGD and
$3.16 \cdot 10^{-3}$ for Adam at batch 64. Every batch gets a grid of nine rates,
$\alpha_0 \cdot 2^{k/2}$ for $k = -4, \dots, 4$, with seed 0; the grid holds each rule's rate at
each batch, $\alpha_0 (B/64)^p$ with $p = 1$ (linear), $\frac{1}{2}$ (square root) and $0$ (fixed),
and those are run again with seeds 1 and 2. For Adam, two more lines: the whole square-root rule,
betas too ($\beta_1 = 0.6$, $\beta_2 = 0.996$ at 256; $\beta_1 = 0.975$, $\beta_2 = 0.99975$ at 16;
the chapter's $\epsilon = 10^{-16}$ is too small to matter), and the linear rule with a linear
warm-up over the first 5% of the steps, at 128 and 256. Nothing else changes: no schedule but
that warm-up, no weight decay. The 160 runs and the noise scale are in
[`lr_batch_size_results/`](lr_batch_size_results/results.csv), the experiment's CSV format, with the
batch in the run's name (`adam-srr-b256`):

```shell
nice python -m labml_nn.optimizers.lr_batch_size --run     # makes what the folder lacks, prints the tables
```

Run on an Intel Xeon with 2 CPUs shared with other jobs, under `nice`
(`environment.jsonl`: "Intel(R) Xeon(R) Processor, 2 CPUs, Python 3.11.7, torch 2.13.0+cpu, 1 thread(s)"),
one thread: 1,858 seconds of wall time for the runs and the noise scale, on a machine loaded well beyond its 2 cores. At batch 64 the runs are the experiment's own: their
test accuracies are the committed experiment's, seed for seed.

Test accuracy (%), mean ± standard deviation over the 3 seeds (one test image is 0.28 points):

| Optimizer, rule | B = 16 | B = 32 | B = 64 | B = 128 | B = 256 |
|---|---|---|---|---|---|
| sgd-momentum, linear | 98.8 ± 0.4 | 99.2 ± 0.3 | 97.7 ± 1.2 | 65.8 ± 50.6 | 10.1 ± 2.1 |
| sgd-momentum, square root | 90.6 ± 3.6 | 98.8 ± 0.6 | 97.7 ± 1.2 | 97.7 ± 0.6 | 59.4 ± 46.3 |
| sgd-momentum, fixed rate | 26.0 ± 29.4 | 69.0 ± 39.8 | 97.7 ± 1.2 | 98.7 ± 0.2 | 93.3 ± 6.1 |
| adam, linear | 98.1 ± 0.3 | 98.3 ± 0.3 | 98.2 ± 0.4 | 98.1 ± 0.3 | 98.3 ± 0.3 |
| adam, square root | 98.7 ± 0.2 | 98.3 ± 0.0 | 98.2 ± 0.4 | 98.1 ± 0.3 | 97.6 ± 0.4 |
| adam, fixed rate | 98.8 ± 0.2 | 98.7 ± 0.2 | 98.2 ± 0.4 | 98.1 ± 0.2 | 97.6 ± 0.4 |
| adam, square root with its betas | 98.4 ± 0.4 | 98.5 ± 0.3 |  | 98.0 ± 0.4 | 98.1 ± 0.2 |
| adam, linear with warm-up |  |  |  | 98.1 ± 0.5 | 98.1 ± 0.3 |

The best rate of the grid at each batch (lowest final validation loss, seed 0), as a multiple
of $\alpha_0$, and the slope $p$ of a least-squares line through $\log\alpha^*$ against $\log B$;
the linear rule predicts $p = 1$, the square root $p = \frac{1}{2}$:

| Optimizer | B = 16 | B = 32 | B = 64 | B = 128 | B = 256 | Fitted $p$ |
|---|---|---|---|---|---|---|
| sgd-momentum | 0.25 | 0.354 | 1 | 0.707 | 0.707 | 0.40 |
| adam | 0.706 | 0.706 | 2 | 2.83 | 3.99 | 0.70 |

## What the runs show, and what they do not

**Momentum SGD follows the linear rule up to the batch its rate was tuned at, and no further.**
Below 64, the linear rule's rates trained on every seed (98.8% at 16 and 99.2% at 32, against 97.7%
at 64), while the fixed rate $\alpha_0$ failed on 3 seeds of 3 at 16 and on 1 of 3 at 32 (a run
fails if its final validation loss is above half of chance's, $\ln 10 / 2$). Above 64 it is the
other way round: the linear rule's $2\alpha_0$ failed on 1 seed of 3 at 128 and its $4\alpha_0$ on
all 3 at 256, while the fixed rate trained (98.7% at 128, 93.3% at 256). The grid shows why. The
largest rate below which every rate trained is 0.05, 0.1, 0.141, 0.141 and 0.141 at batches 16 to
256: it doubles from 16 to 32 and stops growing above 64. At small batches the noise limits the
rate, and the limit grows with the batch, as the linear argument and McCandlish et al.'s model
both say; at large batches the curvature does: a step past $2(1+\mu)/\lambda_\text{max}$ diverges
on any batch (the fourth exercise), and no scaling rule goes past it. Goyal et al.'s rule stopped
holding beyond 8k images on ImageNet; here the limit is between 64 and 128. We did not run momentum SGD with their
warm-up, so whether a warm-up carries $2\alpha_0$ and $4\alpha_0$ through is not shown here.

**Adam hardly cares.** Every rule at every batch is within about a point of 98% (one test image is
0.28 points; the seeds' standard deviations are up to 0.5). At 16 the fixed rate (98.8%) and the
square root (98.7%) are ahead of the linear rule (98.1%); at 256 the linear rule (98.3%) is ahead of
the other two (97.6%): each rule wins where it keeps the rate largest, which says the runs are
short of steps more than they are short of stability. Adam trained at every rate of the grid, up
to $4\alpha_0$, at every batch. Its best rate grows with the batch, with a fitted slope of 0.70,
between the two rules; from one seed each, on validation losses that change little across the
grid's top rates, that slope is rough. The whole square-root rule, betas too, is within the noise
of the rate alone (98.4% against 98.7% at 16, 98.1% against 97.6% at 256), and the warm-up changed
nothing that three seeds can see (98.1% and 98.1% at 128 and 256, against 98.1% and 98.3%).

**What the runs cannot say.** One small CNN, 25,600 examples, one seed for the grid: momentum SGD's
fitted slope, 0.40, is pulled down by its best rate at 64, the experiment's $\alpha_0$, which sits
next to the edge where the runs fail. Fixing the epochs leaves 100 steps at batch 256, so large
batches are judged on short runs; that is the linear rule's setting, not Hoffer et al.'s, who train
for the same number of steps. The generalization gap of large batches, and the rules at the
papers' batch sizes (thousands of images, on GPUs), are not tested.
"""

import argparse
import dataclasses
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import torch

from labml_nn.optimizers import experiment
from labml_nn.optimizers.experiment import Budget, OptimizerSpec, PlainTracking, Row, RunKey, Session

# The committed runs
RESULTS = Path(__file__).parent / "lr_batch_size_results"
# The experiment's batch on the digits, at which its sweep chose each optimizer's rate
BASE_BATCH = 64
BATCH_SIZES = (16, 32, 64, 128, 256)
# Every run sees the same number of examples as the experiment's: 400 steps of 64, about 24 epochs
EXAMPLES = 400 * BASE_BATCH
# The rate grid: $\alpha_0 \cdot 2^{k/2}$, $k = -4, \dots, 4$; it holds every rule's rate at every batch
GRID = tuple(range(-4, 5))
SEEDS = (0, 1, 2)
# How the rate follows the batch: the exponent $p$ of $\alpha(B) = \alpha_0 (B/B_0)^p$
RULES = {"fixed": 0.0, "sqrt": 0.5, "linear": 1.0}
# The two optimizers, with the rate the experiment chose for each on the digits at batch 64
OPTIMIZERS = {"sgd-momentum": 0.1, "adam": 0.00316}
# Steps between two validation rows of `noise_scale`'s run, and the steps at which it measures
NOISE_STEPS = (0, 40, 120, 200, 360)


def budget(batch_size: int) -> Budget:
    r"""
    ### The digits' budget at another batch size: the same examples, so $25{,}600 / B$ steps

    Ten validation rows and ten training rows per run, whatever its length.
    """
    steps = EXAMPLES // batch_size
    return dataclasses.replace(
        experiment.FULL.budgets["digits"],
        batch_size=batch_size,
        steps=steps,
        log_every=steps // 10,
        eval_every=steps // 10,
    )


def grid_lr(base_lr: float, k: int) -> float:
    r"""
    ### $\alpha_0 \cdot 2^{k/2}$, rounded as the experiment's CSV writes a rate
    """
    return experiment.round_lr(base_lr * 2 ** (k / 2))


def rule_k(rule: str, batch_size: int) -> int:
    r"""
    ### The grid point of a rule at batch $B$: $k = 2p\log_2(B/B_0)$
    """
    return round(2 * RULES[rule] * math.log2(batch_size / BASE_BATCH))


def srr_betas(batch_size: int, betas: tuple[float, float] = (0.9, 0.999)) -> tuple[float, float]:
    r"""
    ### Malladi et al.'s betas at batch $\kappa B_0$: $1 - \beta \to \kappa(1 - \beta)$
    """
    kappa = batch_size / BASE_BATCH
    return tuple(round(1 - kappa * (1 - b), 10) for b in betas)  # type: ignore[return-value]


def run_name(optimizer: str, batch_size: int, variant: str = "") -> str:
    r"""
    ### The run's name in the CSV: the optimizer, a variant, the batch (`adam-srr-b256`)

    The experiment finds a run by (name, task, rate, seed); the batch goes into the name, so its
    CSV functions serve here unchanged.
    """
    return f"{optimizer}{'-' + variant if variant else ''}-b{batch_size}"


def parse_name(name: str) -> tuple[str, str, int]:
    r"""
    ### `(optimizer, variant, batch)` from a run's name
    """
    head, batch = name.rsplit("-b", 1)
    for optimizer in OPTIMIZERS:
        if head == optimizer:
            return optimizer, "", int(batch)
        if head.startswith(optimizer + "-"):
            return optimizer, head[len(optimizer) + 1 :], int(batch)
    raise ValueError(f"not a run of this page: {name}")


def planned_runs() -> list[tuple[OptimizerSpec, float, int, int]]:
    r"""
    ### Every run: `(spec, rate, seed, batch)`, in the order they are made

    1. the grid, seed 0: each optimizer at each batch and each of the nine rates;
    2. the three rules' rates with seeds 1 and 2;
    3. Adam with the whole square-root rule (the betas too), three seeds, at each batch but 64;
    4. Adam at the linear rule's rate with a warm-up over the first 5% of the steps, at batches 128 and 256.
    """
    specs = {spec.name: spec for spec in experiment.optimizer_specs()}
    runs = []
    for name, base in OPTIMIZERS.items():
        for b in BATCH_SIZES:
            spec = dataclasses.replace(specs[name], name=run_name(name, b))
            runs += [(spec, grid_lr(base, k), 0, b) for k in GRID]
    for name, base in OPTIMIZERS.items():
        for b in BATCH_SIZES:
            spec = dataclasses.replace(specs[name], name=run_name(name, b))
            lrs = sorted({grid_lr(base, rule_k(rule, b)) for rule in RULES})
            runs += [(spec, lr, seed, b) for lr in lrs for seed in SEEDS[1:]]
    adam = specs["adam"]
    for b in BATCH_SIZES:
        if b != BASE_BATCH:
            spec = dataclasses.replace(adam, name=run_name("adam", b, "srr"), kwargs={"betas": srr_betas(b)})
            runs += [(spec, grid_lr(OPTIMIZERS["adam"], rule_k("sqrt", b)), seed, b) for seed in SEEDS]
    for b in (128, 256):
        spec = OptimizerSpec(
            run_name("adam", b, "warmup"),
            "labml_nn.optimizers.adam_warmup:AdamWarmup",
            adam.default_lr,
            schedule=lambda steps: {"warmup": steps // 20},
        )
        runs += [(spec, grid_lr(OPTIMIZERS["adam"], rule_k("linear", b)), seed, b) for seed in SEEDS]
    return runs


def make_runs(out: Path, threads: int = 1, log=print) -> dict[RunKey, list[Row]]:
    r"""
    ### Make the runs that `out/results.csv` lacks, with the experiment's own training loop

    As in the experiment, a finished run is appended to the CSV in one write, so an interrupted
    command finishes by running again.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        out.mkdir(parents=True, exist_ok=True)
        experiment.record_environment(out / "environment.jsonl", "cpu")
        results = out / "results.csv"
        done = experiment.load_results(results)
        task = experiment.TASKS["digits"]
        data = task.load()
        (out / "checkpoints").mkdir(exist_ok=True)
        for spec, lr, seed, b in planned_runs():
            key = (spec.name, task.name, lr, seed)
            if key in done:
                continue
            begin = time.perf_counter()
            ckpt = experiment.checkpoint_path(out / "checkpoints", key)
            rows = experiment.train_run(
                task, data, spec, lr, seed, budget(b), torch.device("cpu"), ckpt, PlainTracking(), Session()
            )
            experiment.append_rows(results, rows)
            ckpt.unlink(missing_ok=True)
            done[key] = rows
            log(
                f"{spec.name:22s} lr={lr:<8.3g} seed={seed}: test accuracy {rows[-1][7]:.4f} ({time.perf_counter() - begin:.1f}s)"
            )
        (out / "checkpoints").rmdir()
        return experiment.load_results(results)
    finally:
        torch.set_num_threads(previous)


# ## The gradient noise scale
def gradient_statistics(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    r"""
    ### $|G|^2$ and $\operatorname{tr}\Sigma$ over a whole training set, from per-example gradients

    $G = \frac{1}{N}\sum_i g_i$ and $\operatorname{tr}\Sigma = \frac{1}{N}\sum_i |g_i - G|^2$, the
    covariance of one example drawn uniformly, which is how the experiment draws a batch's examples
    (with replacement). In float64, one example at a time.
    """
    model = model.double()
    total = None
    square_sum = 0.0
    for i in range(len(y)):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i : i + 1].double()), y[i : i + 1]).backward()
        g = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        total = g.clone() if total is None else total + g
        square_sum += g.square().sum().item()
    assert total is not None
    mean = total / len(y)
    g2 = mean.square().sum().item()
    return g2, square_sum / len(y) - g2


def noise_scale(out: Path, optimizer: str, lr: float, seed: int = 0) -> list[dict[str, Any]]:
    r"""
    ### $B_\text{simple} = \operatorname{tr}\Sigma / |G|^2$ along a run at batch 64

    The weights at step $s$ come from the experiment's own interruption: a `Session` stopped after
    $s$ steps leaves the checkpoint of step $s$ behind (every 40 steps here).
    """
    task = experiment.TASKS["digits"]
    data = task.load()
    spec = {s.name: s for s in experiment.optimizer_specs()}[optimizer]
    full = experiment.FULL.budgets["digits"]
    train = data["train"]
    result = []
    for step in NOISE_STEPS:
        torch.manual_seed(seed)
        model = task.make_model(full)
        if step:
            ckpt = out / f"noise-{optimizer}-{step}.pt"
            try:
                experiment.train_run(
                    task, data, spec, lr, seed, full, torch.device("cpu"), ckpt, PlainTracking(), Session(step)
                )
            except experiment.Interrupted:
                pass
            model.load_state_dict(torch.load(ckpt, weights_only=False)["model"])
            ckpt.unlink()
        g2, trace = gradient_statistics(model, train.x, train.y)
        result.append(dict(optimizer=optimizer, lr=lr, seed=seed, step=step, grad_sq=g2, trace_sigma=trace))
    return result


# ## Reading the runs
def load_runs(folder: Path = RESULTS) -> dict[RunKey, list[Row]]:
    r"""
    ### The committed runs, by the experiment's key `(name, task, rate, seed)`
    """
    return experiment.load_results(folder / "results.csv")


def final_val(rows: list[Row]) -> float:
    return experiment.final_val_loss(rows)


def test_accuracy(rows: list[Row]) -> float:
    return rows[-1][7]


def best_grid_rate(runs: dict[RunKey, list[Row]], optimizer: str, batch_size: int) -> float:
    r"""
    ### The grid's rate with the lowest final validation loss at a batch, seed 0 (the experiment's `select_lr`)
    """
    name = run_name(optimizer, batch_size)
    sweep = sorted((lr, rows) for (n, _, lr, seed), rows in runs.items() if n == name and seed == 0)
    return experiment.select_lr(sweep)


def fitted_exponent(runs: dict[RunKey, list[Row]], optimizer: str) -> float:
    r"""
    ### The slope $p$ of $\log \alpha^*(B) = p \log B + c$, least squares over the five batches
    """
    xs = [math.log2(b) for b in BATCH_SIZES]
    ys = [math.log2(best_grid_rate(runs, optimizer, b)) for b in BATCH_SIZES]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def largest_stable_rate(runs: dict[RunKey, list[Row]], optimizer: str, batch_size: int) -> float:
    r"""
    ### The largest grid rate below which every rate trained (seed 0)

    A run trained if its final validation loss is under half of chance's, $\ln 10 / 2$; the first rate
    of the grid that did not train, and every rate above it, are past the edge.
    """
    name = run_name(optimizer, batch_size)
    sweep = sorted((lr, rows) for (n, _, lr, seed), rows in runs.items() if n == name and seed == 0)
    stable = 0.0
    for lr, rows in sweep:
        if not final_val(rows) < math.log(10) / 2:
            break
        stable = lr
    return stable


def failed_seeds(runs: dict[RunKey, list[Row]], optimizer: str, rule: str, batch_size: int) -> int:
    r"""
    ### On how many seeds a rule's run did not train (final validation loss $\ge \ln 10 / 2$)
    """
    lr = grid_lr(OPTIMIZERS[optimizer], rule_k(rule, batch_size))
    name = run_name(optimizer, batch_size)
    return sum(not final_val(runs[(name, "digits", lr, seed)]) < math.log(10) / 2 for seed in SEEDS)


def seeds_of(runs: dict[RunKey, list[Row]], name: str, lr: float) -> list[float]:
    r"""
    ### Test accuracies of a run's three seeds
    """
    return [test_accuracy(runs[(name, "digits", lr, seed)]) for seed in SEEDS]


def cell(accuracies: list[float]) -> str:
    mean, std = experiment.Summary.mean_std(accuracies)
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def rules_table(runs: dict[RunKey, list[Row]]) -> str:
    r"""
    ### Test accuracy (%, mean ± standard deviation over 3 seeds) of each rule at each batch

    A line per optimizer and rule; Adam's full square-root rule (betas too) and its linear rule
    with warm-up where they were run.
    """
    lines = ["| Optimizer, rule | " + " | ".join(f"B = {b}" for b in BATCH_SIZES) + " |"]
    lines.append("|---|" + "---|" * len(BATCH_SIZES))
    for optimizer, base in OPTIMIZERS.items():
        for rule in ("linear", "sqrt", "fixed"):
            cells = [cell(seeds_of(runs, run_name(optimizer, b), grid_lr(base, rule_k(rule, b)))) for b in BATCH_SIZES]
            lines.append(f"| {optimizer}, {RULE_LABELS[rule]} | " + " | ".join(cells) + " |")
        if optimizer == "adam":
            for variant, rule in (("srr", "sqrt"), ("warmup", "linear")):
                cells = []
                for b in BATCH_SIZES:
                    name = run_name(optimizer, b, variant)
                    lr = grid_lr(base, rule_k(rule, b))
                    cells.append(cell(seeds_of(runs, name, lr)) if (name, "digits", lr, 0) in runs else "")
                lines.append(f"| adam, {VARIANT_LABELS[variant]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


RULE_LABELS = {"linear": "linear", "sqrt": "square root", "fixed": "fixed rate"}
VARIANT_LABELS = {"srr": "square root with its betas", "warmup": "linear with warm-up"}


def best_rate_table(runs: dict[RunKey, list[Row]]) -> str:
    r"""
    ### The grid's best rate at each batch (seed 0), as a multiple of the batch-64 rate $\alpha_0$
    """
    lines = ["| Optimizer | " + " | ".join(f"B = {b}" for b in BATCH_SIZES) + " | Fitted $p$ |"]
    lines.append("|---|" + "---|" * (len(BATCH_SIZES) + 1))
    for optimizer, base in OPTIMIZERS.items():
        cells = [f"{best_grid_rate(runs, optimizer, b) / base:.3g}" for b in BATCH_SIZES]
        lines.append(f"| {optimizer} | " + " | ".join(cells) + f" | {fitted_exponent(runs, optimizer):.2f} |")
    return "\n".join(lines) + "\n"


def load_noise_scale(folder: Path = RESULTS) -> list[dict[str, Any]]:
    return json.loads((folder / "noise_scale.json").read_text())


def noise_scale_table(stats: list[dict[str, Any]]) -> str:
    r"""
    ### $|G|^2$, $\operatorname{tr}\Sigma$ and $B_\text{simple}$ along each run
    """
    lines = [
        "| Run | Step | Squared norm of the gradient, $\\lvert G\\rvert^2$ | Trace of its covariance, $\\operatorname{tr}\\Sigma$ | Noise scale, $B_\\text{simple}$ |",
        "|---|---|---|---|---|",
    ]
    for s in stats:
        lines.append(
            f"| {s['optimizer']} | {s['step']} | {s['grad_sq']:.3g} | {s['trace_sigma']:.3g} | "
            f"{s['trace_sigma'] / s['grad_sq']:.0f} |"
        )
    return "\n".join(lines) + "\n"


# ## Exercises
#
# :::: exercise When is a batch large enough?
# The error of a batch gradient, $g_B - G$, has expected squared norm $\operatorname{tr}\Sigma / B$. At step 200 of
# the momentum SGD run, $\lvert G\rvert^2 = 0.063$ and $\operatorname{tr}\Sigma = 11.7$. At which batch is the error's
# expected squared norm equal to $\lvert G\rvert^2$, and at which is it a tenth of it?
#
# ::: answer
# $\operatorname{tr}\Sigma / B = \lvert G\rvert^2$ at $B = \operatorname{tr}\Sigma/\lvert G\rvert^2 = B_\text{simple} = 186$;
# a tenth at $10 B_\text{simple} = 1860$, more images than the training set has (1,077). So at batch 64 the
# gradient's noise is about three times its signal ($186/64 = 2.9$).
# :::
# ::::
#
# :::: exercise The square-root rule's betas
# Malladi et al.'s rule maps $1-\beta \to \kappa(1-\beta)$ at batch $\kappa B$. Compute Adam's betas at batch 256 and 16
# from $(0.9, 0.999)$ at 64, and show that the averages then span the same number of *examples*.
#
# ::: answer
# $\kappa = 4$: $\beta_1 = 1 - 4 \cdot 0.1 = 0.6$, $\beta_2 = 1 - 4 \cdot 0.001 = 0.996$; $\kappa = 1/4$: $0.975$ and
# $0.99975$. An average with decay $\beta$ spans about $1/(1-\beta)$ steps, so $B/(1-\beta)$ examples: for $\beta_1$,
# $64/0.1 = 640$, $256/0.4 = 640$ and $16/0.025 = 640$; for $\beta_2$, $64\,000$ each time.
# :::
# ::::
#
# :::: exercise Where momentum SGD's rate stops growing
# Heavy ball on a quadratic of curvature $\lambda$, $x_{t+1} = (1 + \mu - \alpha\lambda)x_t - \mu x_{t-1}$, is stable
# exactly when $\alpha\lambda < 2(1+\mu)$. With $\mu = 0.9$, what range of the largest curvature $\lambda_\text{max}$
# do the runs at batches 128 and 256 suggest, where $0.141$ trained and $0.2$ did not?
#
# ::: answer
# The edge $\alpha = 2(1+\mu)/\lambda_\text{max} = 3.8/\lambda_\text{max}$ lies between 0.141 and 0.2, so
# $19 < \lambda_\text{max} < 27$ (3.8/0.2 = 19, 3.8/0.141 = 27.0), if the edge is the curvature's along the run.
# A batch changes the gradient's noise, not the curvature, which is why the edge stays put above batch 64.
# :::
# ::::


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="The batch-size runs of the learning rate and batch size page.")
    parser.add_argument("--run", action="store_true", help="make the runs the results folder lacks")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.run:
        begin = time.perf_counter()
        make_runs(args.out)
        path = args.out / "noise_scale.json"
        if not path.exists():
            stats = [s for name, lr in OPTIMIZERS.items() for s in noise_scale(args.out, name, lr)]
            path.write_text(json.dumps(stats, indent=1) + "\n")
        print(f"{experiment.machine(1)}; {time.perf_counter() - begin:.0f}s")
    runs = load_runs(args.out)
    print(rules_table(runs))
    print(best_rate_table(runs))
    print(noise_scale_table(load_noise_scale(args.out)))


if __name__ == "__main__":
    main()
