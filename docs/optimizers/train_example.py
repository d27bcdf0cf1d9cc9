# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Train a small model with an optimizer of this chapter
summary: A runnable example that trains a small MLP on two interleaved spirals with any optimizer of the chapter, chosen by name, and prints its loss and accuracy.
---

# Train a small model with an optimizer of this chapter

This page is a complete training script. It trains a small multi-layer perceptron to tell
apart two interleaved spirals, with an optimizer chosen by name:

```shell
python -m labml_nn.optimizers.train_example --optimizer adam --steps 300
python -m labml_nn.optimizers.train_example --optimizer torch-adam --steps 300
```

It finishes in a few seconds on a CPU; `--device cuda` runs it on a GPU.
Every run with the same arguments prints the same numbers, since the data and the initial
weights come from fixed seeds, so two optimizers can be compared line by line.

The data set is generated here rather than downloaded: two spirals that wind around each other.
No straight line separates them, so the model has to learn a curved boundary,
yet the problem is small enough that a few hundred full-batch steps solve it.
"""

import argparse
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch
from torch import nn

from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adafactor import Adafactor
from labml_nn.optimizers.adagrad import Adagrad
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adam_warmup_cosine_decay import AdamWarmupCosineDecay
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.fused_adam import FusedAdam
from labml_nn.optimizers.lion import Lion
from labml_nn.optimizers.muon import Muon
from labml_nn.optimizers.nadam import NAdam
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.rmsprop import RMSProp
from labml_nn.optimizers.schedule_free import ScheduleFreeAdamW
from labml_nn.optimizers.sgd import SGD

# A factory makes an optimizer from the model's parameters and a learning rate.
OptimizerFactory = Callable[[Iterable[nn.Parameter], float], Union[torch.optim.Optimizer, "OptimizerPair"]]


class OptimizerPair:
    r"""
    ## Two optimizers stepped as one

    [Muon](muon.html) takes only the weight matrices; the biases go to AdamW. The training loop
    below only calls `zero_grad()` and `step()`, so this is all it needs.
    """

    def __init__(self, *optimizers: torch.optim.Optimizer):
        self.optimizers = optimizers

    def zero_grad(self) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad()

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()


def muon_and_adamw(params: Iterable[nn.Parameter], lr: float) -> OptimizerPair:
    r"""
    ### Muon for the matrices, AdamW for the rest
    """
    params = list(params)
    # Muon's update has unit singular values, so its learning rate is the size of a step in the spectral
    # norm; 5 times Adam's, 0.05 for the default, is near Keller Jordan's 0.02 and trains this model fastest
    # of the factors 2 and 5 we tried.
    return OptimizerPair(
        Muon([p for p in params if p.ndim == 2], lr=5 * lr), AdamW([p for p in params if p.ndim != 2], lr=lr)
    )


# ## The optimizers that can be chosen
#
# Each optimizer page of the chapter adds one line here. PyTorch's own Adam sits beside ours,
# under a `torch-` name, so that a run can be compared with a trusted baseline.
# [Sophia](sophia.html) is not in the table: it also needs a Hessian-estimate pass every $k$
# steps, which its own page adds to the training loop.
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "adam": lambda params, lr: Adam(params, lr=lr),
    "torch-adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "fused-adam": lambda params, lr: FusedAdam(params, lr=lr),
    "amsgrad": lambda params, lr: AMSGrad(params, lr=lr),
    "adamw": lambda params, lr: AdamW(params, lr=lr, weight_decay=1e-2),
    # The warm-up and schedule lengths are in steps, sized for runs of a few hundred steps.
    "adam-warmup": lambda params, lr: AdamWarmup(params, lr=lr, warmup=20),
    "adam-warmup-cosine": lambda params, lr: AdamWarmupCosineDecay(params, lr=lr, warmup=20, total_steps=1000),
    # Noam's rate is $\alpha\, d^{-1/2} \min(t^{-1/2}, t w^{-3/2})$; with $d = 1$ its peak, at $t = w$, is $\alpha / \sqrt{w}$.
    "noam": lambda params, lr: Noam(params, lr=lr * math.sqrt(20), warmup=20, d_model=1),
    "radam": lambda params, lr: RAdam(params, lr=lr),
    "adabelief": lambda params, lr: AdaBelief(params, lr=lr),
    "nadam": lambda params, lr: NAdam(params, lr=lr),
    # Every coordinate of Lion's sign update has size 1, larger than Adam's typical $|\hat m|/\sqrt{\hat v}$,
    # so the paper uses a learning rate 3 to 10 times smaller than Adam's.
    "lion": lambda params, lr: Lion(params, lr=lr / 5),
    "adafactor": lambda params, lr: Adafactor(params, lr=lr, relative_step=False, scale_parameter=False),
    # The foundations. Each coordinate of SGD's step is $\alpha g$, far smaller than Adam's $\approx\alpha$ at
    # these gradient sizes, so it takes a 30 times larger rate (with momentum 0.9; 10 times barely moves in
    # 150 steps). Adagrad's first step is $\alpha$ per coordinate but its rate then falls like $1/\sqrt{t}$: 5 times.
    # RMSProp's first steps are $\alpha/\sqrt{1-\beta} = 10\alpha$ without bias correction: a third.
    "sgd-momentum": lambda params, lr: SGD(params, lr=30 * lr, momentum=0.9),
    "adagrad": lambda params, lr: Adagrad(params, lr=5 * lr),
    "rmsprop": lambda params, lr: RMSProp(params, lr=lr / 3),
    # The newest pages. Schedule-Free AdamW's held-out accuracy is measured at its average $x$ (see `train`).
    "schedule-free-adamw": lambda params, lr: ScheduleFreeAdamW(params, lr=lr),
    "muon": muon_and_adamw,
}


def make_spirals(n_per_class: int, seed: int, noise: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    r"""
    ## Two interleaved spirals

    Returns points `x` of shape `[2 * n_per_class, 2]` and class labels `y` of shape
    `[2 * n_per_class]`, with values 0 and 1.
    """
    # A private generator: the data does not depend on, or disturb, the global random state.
    generator = torch.Generator().manual_seed(seed)
    # The angle $\phi$ along the spiral, from 0 to one and a half turns. Taking the square root of
    # a uniform sample spreads the points evenly along the curve's length instead of
    # crowding them at the centre, where the curve is short.
    phi = torch.rand(2, n_per_class, generator=generator).sqrt() * 3 * math.pi
    # The second spiral is the first turned by half a turn, $\pi$.
    rotation = torch.tensor([[0.0], [math.pi]])
    # The radius grows with the angle, $r = \phi / 3\pi \in [0, 1]$, so one class sits in the gaps of the other.
    radius = phi / (3 * math.pi)
    # `[2, n_per_class, 2]`: two classes, their points, the $(x_1, x_2)$ coordinates
    points = torch.stack([radius * torch.cos(phi + rotation), radius * torch.sin(phi + rotation)], dim=-1)
    # Gaussian noise blurs the boundary, so the task is not a matter of memorising two thin curves.
    points = points + noise * torch.randn(points.shape, generator=generator)
    labels = torch.arange(2).repeat_interleave(n_per_class)
    return points.reshape(-1, 2), labels


def make_model(hidden: int = 64) -> nn.Module:
    r"""
    ## The model

    A perceptron with two hidden layers: two coordinates in, one score per class out.
    """
    return nn.Sequential(
        nn.Linear(2, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, 2),
    )


@dataclass
class LogLine:
    r"""
    ## One line of the training log
    """

    # The number of optimizer steps taken
    step: int
    # Mean cross-entropy loss over the training points
    loss: float
    # Fraction of held-out points classified correctly
    accuracy: float


def train(
    optimizer: str = "adam",
    steps: int = 300,
    lr: float = 1e-2,
    device: str = "cpu",
    log_every: int = 50,
    n_per_class: int = 512,
    seed: int = 0,
    log: Optional[Callable[[LogLine], None]] = None,
) -> list[LogLine]:
    r"""
    ## Train

    * `optimizer` is a name from `OPTIMIZERS`
    * `steps` is the number of optimizer steps
    * `lr` is the learning rate $\alpha$
    * `log_every` is the number of steps between two log lines
    * `n_per_class` is the number of training points of each spiral
    * `log` is called with every log line as it is made

    Returns the log lines.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")

    # Training and held-out points come from the same spirals, drawn with different seeds.
    x, y = (t.to(device) for t in make_spirals(n_per_class, seed=seed))
    x_test, y_test = (t.to(device) for t in make_spirals(n_per_class, seed=seed + 1))

    # The same seed gives every optimizer the same initial weights.
    torch.manual_seed(seed)
    model = make_model().to(device)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr)
    loss_func = nn.CrossEntropyLoss()

    lines = []
    for step in range(1, steps + 1):
        # The data set is small, so every step uses all of it (full-batch training);
        # the trajectory then depends on the optimizer alone, not on how batches were drawn.
        opt.zero_grad()
        loss = loss_func(model(x), y)
        loss.backward()
        opt.step()

        if step % log_every == 0 or step == steps:
            # Schedule-Free AdamW trains at $y$; its answer is the average $x$, which `eval()` puts in the parameters.
            if isinstance(opt, ScheduleFreeAdamW):
                opt.eval()
            # The held-out accuracy shows whether the model learnt the spirals or only its training points.
            with torch.no_grad():
                accuracy = (model(x_test).argmax(dim=-1) == y_test).float().mean().item()
            if isinstance(opt, ScheduleFreeAdamW):
                opt.train()
            # The loss is that of the parameters *before* this step's update, the one the gradient came from.
            line = LogLine(step, loss.item(), accuracy)
            lines.append(line)
            if log is not None:
                log(line)

    return lines


def main(argv: Optional[Sequence[str]] = None) -> list[LogLine]:
    r"""
    ## Command line
    """
    parser = argparse.ArgumentParser(description="Train a small MLP on two spirals with an optimizer of this chapter.")
    parser.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda when a GPU is present")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.steps < 1 or args.log_every < 1:
        parser.error("--steps and --log-every must be at least 1")
    # Fail with a one-line message, not a stack trace from deep inside `Tensor.to`.
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but torch.cuda.is_available() is False")

    print(f"{args.optimizer} on {args.device}, lr={args.lr}, {args.steps} steps")
    start = time.perf_counter()
    lines = train(
        args.optimizer,
        args.steps,
        args.lr,
        args.device,
        args.log_every,
        seed=args.seed,
        log=lambda line: print(f"step {line.step:5d}  loss {line.loss:.4f}  held-out accuracy {line.accuracy:.3f}"),
    )
    print(f"done in {time.perf_counter() - start:.1f}s")
    return lines


# Nothing runs on import; only `python -m labml_nn.optimizers.train_example` trains.
if __name__ == "__main__":
    main()
