# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Schedule-Free AdamW
summary: An annotated PyTorch implementation of Schedule-Free AdamW, equal to the schedulefree package's AdamWScheduleFree; the three sequences y, z and x, why no learning-rate schedule is needed, and the train()/eval() switch.
paper_title: The Road Less Scheduled
paper_authors: Aaron Defazio, Xingyu Alice Yang, Harsh Mehta, Konstantin Mishchenko, Ahmed Khaled and Ashok Cutkosky
paper_year: 2024
paper_type: inproceedings
paper_venue: Advances in Neural Information Processing Systems 37 (NeurIPS 2024)
paper_arxiv: 2405.15682
paper_arxiv_class: cs.LG
---

# Schedule-Free AdamW

This page implements *Schedule-Free AdamW* from
[The Road Less Scheduled](https://arxiv.org/abs/2405.15682) (arXiv:2405.15682) by Defazio,
Yang, Mehta, Mishchenko, Khaled and Cutkosky, 2024, on top of the `GenericAdaptiveOptimizer` of
the [chapter's index page](index.html). It is tested against `AdamWScheduleFree` of the
authors' [`schedulefree`](https://github.com/facebookresearch/schedule_free) package.

Every other Adam page of this chapter needs a [learning-rate schedule](adam_warmup_cosine_decay.html)
to reach its best result, and the schedule needs the length of the run, $T$, in advance: a
cosine that ends at step $T$ cannot be extended. Schedule-Free replaces the schedule by an
average of the iterates, which is a good point to stop at after *any* number of steps.

*Notation.* The learning rate is the paper's $\gamma$, not the chapter's $\alpha$, because the averaging weights $c_{t+1}$ are written in the $\gamma_i$ of past steps as in the paper and its package.

## Three sequences

The method keeps three points in parameter space:

* $z_t$, the *base* sequence: plain Adam-like steps with a constant learning rate;
* $x_t$, a weighted running *average* of the $z$'s; this is the point to evaluate and to keep;
* $y_t$, an *interpolation* between the two, where the gradient is taken.

At step $t$, with learning rate $\gamma$, warm-up length $w$ and $\beta_1$, $\beta_2$, $\epsilon$,
$\lambda$ as in [AdamW](adamw.html),

\begin{align}
y_t &= (1 - \beta_1) z_t + \beta_1 x_t \\
g_t &= \nabla f(y_t) \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\gamma_t &= \gamma \min(1, t / w) \\
z_{t+1} &\leftarrow z_t - \gamma_t \Big(\frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda y_t\Big) \\
c_{t+1} &= \frac{t^r \,(\max_{i \le t} \gamma_i)^p}{\sum_{j \le t} j^r \,(\max_{i \le j} \gamma_i)^p} \\
x_{t+1} &\leftarrow (1 - c_{t+1})\, x_t + c_{t+1} z_{t+1}
\end{align}

with $x_1 = z_1 = \theta_0$. With the defaults $r = 0$, $p = 2$ and no warm-up, $c_{t+1} = 1/t$
and $x_{t+1}$ is the plain mean of $z_2, \dots, z_{t+1}$; with a warm-up, the steps taken at a
small learning rate get a small weight. The warm-up $\gamma_t = \gamma \min(1, t/w)$ is the linear one
of [Adam with warm-up](adam_warmup.html), whose page also says
[why Adam needs it](adam_warmup.html#why-adam-needs-it); here it is the only part of a schedule
that is left.

## Why no schedule is needed

A decaying schedule does two jobs: large steps early to make progress, small steps late to
settle at a good point instead of bouncing around it with the gradient noise. The average $x_t$
does the second job without shrinking the steps: averaging $t$ noisy iterates cancels their noise
the way a small step would, and it can be read off at any $t$. The paper's guarantee is for
Schedule-Free *SGD* (no second moment) on convex $G$-Lipschitz problems with the optimum within
$D$ of the start: with the constant learning rate $\gamma = D/(G\sqrt{T})$, $x_T$ attains the
worst-case optimal rate $O(DG/\sqrt{T})$ for every $\beta_1 \in [0, 1]$. That $\gamma$ is chosen
knowing $T$, so the theorem does not remove the need to know the run's length; what it removes
is the decaying schedule. The AdamW form on this page is the paper's practical variant; the theorem
is not about it. [What convergence theorems promise](convergence.html) derives that rate for plain SGD.

Plain averaging (Polyak–Ruppert, $\beta_1 = 0$: gradient at $z$) is known to help little in
deep learning, because the average lags far behind the base sequence. Taking the gradient at
$y_t$, between the two, is the paper's new ingredient: $\beta_1 = 0.9$ puts it mostly at the
average, so the steps of $z$ are corrected by what the average sees. Written for $y$ alone (the
last equation of the next section), each step moves $y$ by a fraction $c_{t+1}$ of $z_t - y_t$, the
sum of past steps not yet absorbed into the average: a form of momentum. This is why
Schedule-Free keeps no momentum buffer; $\beta_1$ plays that role.

## What is stored, and `train()` / `eval()`

Storing $x$, $y$ and $z$ would cost three copies of the model. As in the package, only $z$ is
stored with the second moment $v$ (so the memory is Adam's $2n$), and the parameter tensor itself
holds $y_t$ during training. Since $y = (1 - \beta_1) z + \beta_1 x$,

$$x = \frac{y - (1 - \beta_1) z}{\beta_1} = y + \Big(1 - \frac{1}{\beta_1}\Big)(z - y)$$

`eval()` turns the parameters into $x_t$ with that formula, for evaluating or saving the model,
and `train()` turns them back into $y_t$, `lerp` by $1 - \beta_1$. A model evaluated in train mode
is evaluated at $y_t$, not at the average: call `eval()` first. Each switch rounds once, so a
model switched back and forth is not bit-for-bit where it was.

Without $x$ the update of $y$ must be written in terms of $y$ and $z$. Substituting
$x_t = (y_t - (1-\beta_1) z_t)/\beta_1$ into $y_{t+1} = (1-\beta_1) z_{t+1} + \beta_1 x_{t+1}$ gives,
with $u_t$ the bracket of the $z$ update,

$$y_{t+1} = (1 - c_{t+1})\, y_t + c_{t+1} z_t - \gamma_t \big(1 - \beta_1 (1 - c_{t+1})\big)\, u_t$$

which the code below uses.

## Where we differ

* **From the paper.** Its Algorithm 1 folds the bias correction into the learning rate,
  $\gamma_t \sqrt{1 - \beta_2^t}$, and adds $\epsilon$ to $\sqrt{v_t}$. The package's main class, which
  we follow, divides $v_t$ by $1 - \beta_2^t$ inside the root instead; its authors keep the paper's
  form as `AdamWScheduleFreePaper` and note that it can be unstable on some problems. The weights
  $c_{t+1}$ then use the learning rate without the correction. The paper weighs step $t$ by
  $\gamma_t^2$; the package, and we, by the largest rate so far, $(\max_{i \le t}\gamma_i)^2$, which
  is the same while the rate does not fall.
* **From the package.** The package keeps the step count and the weight sum per group; we keep them
  per parameter, in its state, as every page of this chapter does, which is the same while every
  parameter of a group gets a gradient on every step. The package starts in eval mode and refuses to
  step until `train()` is called; at $t = 0$, $x = y = z$, so both modes are the same point, and we
  start in train mode, so that a plain training loop works. The package divides the gradient tensor
  `p.grad` in place; we leave it as the backward pass wrote it. We refuse $\beta_1 = 0$, with
  which $x$ cannot be recovered from $y$ and $z$ (the package divides by zero in `eval()`).
  `maximize=True` works through the base class.
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry


class ScheduleFreeAdamW(GenericAdaptiveOptimizer):
    r"""
    ## Schedule-Free AdamW
    """

    def __init__(
        self,
        params: Params,
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        *,
        maximize: bool = False,
        defaults: Optional[dict[str, Any]] = None,
    ):
        r"""
        ### Initialize the optimizer

        The defaults are the package's.

        * `params` is the list of parameters, or of parameter groups
        * `lr` is $\gamma$, constant after the warm-up
        * `betas` is $(\beta_1, \beta_2)$: $\beta_1$ places $y$ between $z$ and $x$, $\beta_2$ is Adam's
        * `eps` is $\epsilon$
        * `weight_decay` is $\lambda$, decoupled decay as in AdamW (it skips the division by
          $\sqrt{\hat v_t}$), computed at the point $y_t$ where the gradient is taken and applied to $z$:
          $z_{t+1}$ loses $\gamma_t \lambda y_t$, and $x$ and $y$ follow through the average
        * `warmup_steps` is $w$
        * `r` and `weight_lr_power` are the powers $r$ and $p$ of the averaging weights
        * `maximize` climbs the objective instead of descending it
        * `defaults` holds the group defaults of a subclass
        """
        defaults = dict(defaults or {})
        defaults.update(
            weight_decay=weight_decay, warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power, train_mode=True
        )
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        super().validate_group(group)
        if not 0.0 < group["betas"][0]:
            raise ValueError(
                f"Invalid beta parameter at index 0: {group['betas'][0]} "
                f"(Schedule-Free needs beta1 > 0 to recover x from y and z)"
            )
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} (must be >= 0)")
        if not (isinstance(group["warmup_steps"], int) and group["warmup_steps"] >= 0):
            raise ValueError(f"Invalid warmup_steps: {group['warmup_steps']} (must be an integer >= 0)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t$
        state["step"] = 0
        # $z_1 = \theta_0$
        state["z"] = param.detach().clone(memory_format=torch.preserve_format)
        # $v_0 = 0$
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # $\sum_{j<t} j^r (\max_{i \le j}\gamma_i)^p$ and $\max_{i<t}\gamma_i$, Python floats
        state["weight_sum"] = 0.0
        state["lr_max"] = -1.0

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `param` holds $y_t$ and `grad` is $g_t = \nabla f(y_t)$
        """
        if not group["train_mode"]:
            raise RuntimeError(
                "ScheduleFreeAdamW is in eval mode, where the parameters hold the average x; "
                "call optimizer.train() before training steps"
            )
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        # $\gamma_t = \gamma \min(1, t/w)$
        lr = group["lr"] * (t / group["warmup_steps"] if t < group["warmup_steps"] else 1.0)
        # $c_{t+1}$ from the running maximum of $\gamma_i$ and the running sum of the weights
        state["lr_max"] = max(lr, state["lr_max"])
        weight = t ** group["r"] * state["lr_max"] ** group["weight_lr_power"]
        state["weight_sum"] += weight
        c = weight / state["weight_sum"] if state["weight_sum"] != 0 else 0.0

        z, v = state["z"], state["exp_avg_sq"]
        # $v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2$
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        # $\sqrt{v_t / (1-\beta_2^t)} + \epsilon$
        denominator = v.div(1 - beta2**t).sqrt_().add_(group["eps"])
        # $u_t = g_t / (\sqrt{\hat v_t} + \epsilon) + \lambda y_t$, a new tensor
        u = grad.div(denominator)
        if group["weight_decay"] != 0:
            u.add_(param, alpha=group["weight_decay"])
        # $y \leftarrow (1 - c_{t+1}) y_t + c_{t+1} z_t$ ...
        param.lerp_(z, c)
        # ... $- \gamma_t (1 - \beta_1(1 - c_{t+1})) u_t$, which is $y_{t+1}$
        param.add_(u, alpha=lr * (beta1 * (1 - c) - 1))
        # $z_{t+1} \leftarrow z_t - \gamma_t u_t$
        z.sub_(u, alpha=lr)

    @torch.no_grad()
    def eval(self) -> None:
        r"""
        ### Switch the parameters to $x_t$, to evaluate or save the model

        $x = y + (1 - 1/\beta_1)(z - y)$. Parameters that never took a step have $x = y = z$ and are left alone.
        """
        for group in self.param_groups:
            if group["train_mode"]:
                beta1 = group["betas"][0]
                for param in group["params"]:
                    if "z" in self.state[param]:
                        param.lerp_(self.state[param]["z"], 1 - 1 / beta1)
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        r"""
        ### Switch the parameters back to $y_t$, to train

        $y = x + (1 - \beta_1)(z - x)$.
        """
        for group in self.param_groups:
            if not group["train_mode"]:
                beta1 = group["betas"][0]
                for param in group["params"]:
                    if "z" in self.state[param]:
                        param.lerp_(self.state[param]["z"], 1 - beta1)
                group["train_mode"] = True


def average_of_iterates(optimizer: ScheduleFreeAdamW, param: torch.Tensor) -> torch.Tensor:
    r"""
    ## $x_t$ of one parameter, without switching modes

    For tests and plots: $x = y + (1 - 1/\beta_1)(z - y)$ in train mode, the parameter itself in eval mode.
    """
    group = next(g for g in optimizer.param_groups if any(p is param for p in g["params"]))
    state = optimizer.state[param]
    if not group["train_mode"] or "z" not in state:
        return param.detach().clone()
    return torch.lerp(param.detach(), state["z"], 1 - 1 / group["betas"][0])


# ## Exercises
#
# :::: exercise Derive the update of $y$
# From $y_t = (1-\beta_1) z_t + \beta_1 x_t$, $z_{t+1} = z_t - \gamma_t u_t$ and
# $x_{t+1} = (1-c_{t+1}) x_t + c_{t+1} z_{t+1}$, derive the update of $y$ that the code uses.
#
# ::: answer
# $y_{t+1} = (1-\beta_1) z_{t+1} + \beta_1 (1-c_{t+1}) x_t + \beta_1 c_{t+1} z_{t+1}$. Put
# $\beta_1 x_t = y_t - (1-\beta_1) z_t$ and $z_{t+1} = z_t - \gamma_t u_t$:
#
# \begin{align}
# y_{t+1} &= \big(1 - \beta_1 + \beta_1 c_{t+1}\big) z_{t+1} + (1-c_{t+1})\big(y_t - (1-\beta_1) z_t\big) \\
# &= (1-c_{t+1})\, y_t + \big(1 - \beta_1 + \beta_1 c_{t+1} - (1-c_{t+1})(1-\beta_1)\big) z_t - \big(1 - \beta_1(1-c_{t+1})\big)\gamma_t u_t \\
# &= (1-c_{t+1})\, y_t + c_{t+1} z_t - \gamma_t \big(1 - \beta_1(1-c_{t+1})\big) u_t
# \end{align}
#
# since $1 - \beta_1 + \beta_1 c - (1-c)(1-\beta_1) = c$.
# :::
# ::::
#
# :::: exercise The weights of the average
# With $r = 0$, $p = 2$ and a warm-up of $w = 4$ steps, what weight $c_{t+1}$ does the average give
# $z_{t+1}$ at $t = 2$? Predict before reading the formula's value.
#
# ::: answer
# $\gamma_t \propto \min(1, t/4)$, so the running maxima are $\gamma/4, \gamma/2$ and
# $c_3 = (1/2)^2/\big((1/4)^2 + (1/2)^2\big) = 0.25/0.3125 = 0.8$: the second step outweighs the first
# four to one, where plain averaging would give $1/2$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. Its reference is the authors' `schedulefree`,
# not `torch.optim`, and it is optional; `tests/optimizers/test_schedule_free.py` compares the two. In the
# [experiment](experiment.html) it runs where it is meant to, at a constant rate with no schedule, from the
# package's default rate $2.5 \cdot 10^{-3}$, with AdamW's decay of $10^{-2}$ and a warm-up over the first 5% of
# the run; the experiment evaluates the average $x_t$ (`eval()`) and trains on (`train()`).
def experiment_schedule(steps: int) -> dict[str, int]:
    """The warm-up of the experiment's line: the first 5% of its `steps`."""
    return dict(warmup_steps=steps // 20)


ENTRY = OptimizerEntry(
    ScheduleFreeAdamW,
    paper="https://arxiv.org/abs/2405.15682",
    test_kwargs=dict(lr=1e-2, warmup_steps=5, weight_decay=0.1),
    experiment=ExperimentLine(
        "schedule-free", 2.5e-3, dict(weight_decay=1e-2), position=14, schedule=experiment_schedule
    ),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Schedule-Free AdamW, and, when the
# authors' `schedulefree` package is installed (`pip install schedulefree`; it is a test dependency here,
# not a requirement), a twin trained with its `AdamWScheduleFree` on the same gradients; the two compute
# the same update. The losses are those at $y_t$, the point where the gradients are taken, since the
# parameters hold $y$ in train mode; `optimizer.eval()` would swap in the average $x_t$. The package's
# optimizer starts in eval mode, ours in train mode, hence its `train()` call; `foreach=False` picks its
# one-tensor-at-a-time path, whose operations are ours.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try:
        import schedulefree
    except ImportError:
        schedulefree = None
        print("schedulefree is not installed: training ours alone")

    def authors(params):
        optimizer = schedulefree.AdamWScheduleFree(params, lr=1e-2, foreach=False)
        optimizer.train()
        return optimizer

    try_optimizer(
        lambda params: ScheduleFreeAdamW(params, lr=1e-2),
        authors if schedulefree is not None else None,
        name="ScheduleFreeAdamW",
        reference_name="schedulefree",
    )
