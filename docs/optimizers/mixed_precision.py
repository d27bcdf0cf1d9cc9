# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Adam with Float32 Master Weights for Mixed Precision
summary: An annotated PyTorch implementation of Adam for float16 and bfloat16 models, keeping float32 master weights and moments, used with torch.amp.GradScaler.
paper_title: Mixed Precision Training
paper_authors: Paulius Micikevicius, Sharan Narang, Jonah Alben, Gregory Diamos, Erich Elsen, David Garcia, Boris Ginsburg, Michael Houston, Oleksii Kuchaiev, Ganesh Venkatesh and Hao Wu
paper_year: 2018
paper_type: inproceedings
paper_venue: 6th International Conference on Learning Representations (ICLR 2018)
paper_arxiv: 1710.03740
paper_arxiv_class: cs.AI
---

# Adam with Float32 Master Weights

Training with parameters stored in float16 or bfloat16 halves their memory and speeds up the
matrix products, but the optimizer step cannot be done in those formats. The technique on this
page, *master weights*, is from
[Mixed Precision Training](https://arxiv.org/abs/1710.03740) (arXiv 1710.03740) by Micikevicius
et al., 2018; the optimizer is our [Adam](adam.html).

## Why the step needs float32

bfloat16 has 8 significant bits: between 1 and 2 its numbers are $2^{-7} \approx 0.0078$ apart,
between $0.5$ and 1 they are $2^{-8}$ apart. An Adam step is at most about the learning rate, say
$10^{-3}$, less than half of $2^{-8}$, so $\theta + \Delta\theta$ rounds back to $\theta$ for every
weight of magnitude above $0.5$, and for $0.5$ itself when the step points away from zero: the
update is lost, step after step. (From exactly $0.5$ towards zero it is not: just below a power of
two the spacing halves, to $2^{-9}$, and $0.5 - 10^{-3}$ rounds to $0.498$.) Smaller weights move, but
by a whole spacing rather than by $\Delta\theta$. float16 has 11 significant bits, which moves the
problem to weights of magnitude 4 or more at this step size, and to smaller weights as the steps
shrink late in training. The moments suffer too: $(1-\beta_2) g^2$ with
$\beta_2 = 0.999$ is rounded against $v$ in the same way.

The fix is to keep, in the optimizer, a float32 *master* copy $\theta^{32}$ of each low-precision
parameter, and the moments in float32. The model computes with its low-precision copy
$\theta^{16}$; the optimizer accumulates the small updates in $\theta^{32}$, where they are not
lost, and writes the rounded result back:

\begin{align}
g_t &= \nabla_\theta \mathcal{L}(\theta^{16}_{t-1}) \quad \text{(in float16/bfloat16, cast to float32)} \\
m_t, v_t &\leftarrow \text{Adam's moments of } g_t \text{ in float32} \\
\theta^{32}_t &\leftarrow \theta^{32}_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} \\
\theta^{16}_t &\leftarrow \operatorname{round}\big(\theta^{32}_t\big)
\end{align}

This costs 4 bytes per parameter for the master and 8 for the moments, on top of the 2 of the
model's copy: $2 + 4 + 8 = 14$ bytes, against $4 + 8 = 12$ for float32 weights with Adam. Weights
and optimizer state together take *more* memory than in float32 training; what low precision saves
is the activations kept for the backward pass, which are often the larger part, and time in the
matrix products.

## Loss scaling

float16 (not bfloat16) also has a small range: its smallest positive number is
$2^{-24} \approx 6 \times 10^{-8}$, and gradients up to half of it, $2^{-25} \approx 3 \times 10^{-8}$,
become zero.
`torch.amp.GradScaler` multiplies the loss by a large factor $S$ before the backward pass, so
that gradients are $S$ times larger, divides them by $S$ before the step, and skips the step
(and halves $S$) when a gradient overflowed to infinity or NaN. It is used through its public
methods:

```python
scaler = torch.amp.GradScaler("cuda")   # or "cpu"
scaler.scale(loss).backward()
scaler.step(optimizer)   # unscales the gradients it finds in optimizer.param_groups, then steps or skips
scaler.update()
```

## How the pieces connect

`GradScaler` unscales and checks the `.grad` of the tensors in `optimizer.param_groups`, and it
refuses float16 gradients (`"Attempting to unscale FP16 gradients."`): they would lose precision
in the division. So the parameter groups of this optimizer hold the float32 **masters**, not the
model's parameters, and a hook on each low-precision model parameter
(`Tensor.register_post_accumulate_grad_hook`, public since PyTorch 2.1) moves its gradient, as
soon as the backward pass has computed it, into the master's `.grad` in float32. Gradients of
several backward passes (gradient accumulation) are summed there, in float32.

Everything that reads the parameter groups then sees float32 tensors with float32 gradients:
the scaler, gradient clipping applied to the tensors of the groups, learning-rate schedulers. Parameters that already are float32 (or float64) are their own master
and train exactly as with [Adam](adam.html).

The masters are part of the optimizer's `state_dict()` (under `master_params`), so a resumed run
continues from the float32 values, not from the rounded model weights, and bit for bit.
"""

from typing import Any, Optional

import torch

from labml_nn.optimizers import Params, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import OptimizerEntry

# Parameter dtypes that get a float32 master copy
LOW_PRECISION = (torch.float16, torch.bfloat16)


class MixedPrecisionAdam(Adam):
    r"""
    ## Adam with float32 master weights

    The parameter groups hold float32 masters; `model_params` maps each master (by `id`) to the
    low-precision model parameter that it stands for.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: WeightDecay = WeightDecay(),
        optimized_update: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        The arguments are [Adam](adam.html)'s. `params` are the model's parameters, of any
        floating dtype; float16 and bfloat16 ones are replaced by float32 masters.
        """
        # Set before `Adam.__init__`, which calls `add_param_group` for every group.
        # master `id` $\rightarrow$ (master, model parameter)
        self.model_params: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        # `id`s of model parameters that already have a master, to refuse duplicates
        self.has_master: dict[int, torch.Tensor] = {}
        self.hook_handles: list[Any] = []
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, defaults, maximize=maximize)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        r"""
        ### Add a parameter group, with masters in place of low-precision parameters
        """
        # A group's `params` may be one tensor or any iterable; each becomes $\theta^{32}$
        params = param_group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        masters = [self.make_master(param) for param in params]
        super().add_param_group(dict(param_group, params=masters))

    def make_master(self, param: torch.Tensor) -> torch.Tensor:
        r"""
        ### The master of one parameter
        """
        # float32 and float64 parameters are their own masters.
        if param.dtype not in LOW_PRECISION:
            return param
        if id(param) in self.has_master:
            raise ValueError("some parameters appear in more than one parameter group")
        # $\theta^{32}_0$, exact: every float16 and bfloat16 number is a float32 number
        master = param.detach().to(torch.float32, copy=True)
        self.model_params[id(master)] = (master, param)
        self.has_master[id(param)] = master
        self.hook_handles.append(param.register_post_accumulate_grad_hook(self.make_grad_hook(master)))
        return master

    @staticmethod
    def make_grad_hook(master: torch.Tensor):
        r"""
        ### Move a gradient to the master

        Returns the hook that runs after the backward pass has accumulated `param.grad`.
        """

        # `param` is the model's low-precision parameter, $\theta^{16}$
        def move_grad(param: torch.Tensor) -> None:
            grad = param.grad
            if grad is None:  # the hook runs after accumulation, so there always is one
                return
            with torch.no_grad():
                # $g$ in float32: a new tensor on the first backward pass since `zero_grad()`,
                # a float32 sum over the passes of gradient accumulation after it
                if master.grad is None:
                    master.grad = grad.to(torch.float32)
                else:
                    master.grad.add_(grad)
            # The low-precision gradient is no longer needed; freeing it saves its memory.
            param.grad = None

        return move_grad

    @torch.no_grad()
    def step(self, closure=None) -> Optional[torch.Tensor]:  # type: ignore[override]  # torch's stub types the closure's loss as float; like torch.optim's own optimizers we return what it returns
        r"""
        ### Take a step

        Adam updates the masters; then every model parameter whose master was updated gets
        $\theta^{16}_t = \operatorname{round}(\theta^{32}_t)$. When `GradScaler` finds an
        overflow it does not call `step()`, so masters and model stay as they are.
        """
        # $\theta^{32}_t$ from Adam, on the masters of the groups
        loss = super().step(closure)
        for master, param in self.model_params.values():
            if master.grad is not None:
                # `copy_` rounds to the parameter's dtype (to nearest, ties to even)
                param.copy_(master)
        return loss

    def state_dict(self) -> dict[str, Any]:
        r"""
        ### Save the state, with the masters

        `torch.optim.Optimizer.state_dict()` saves no parameter values, since the model saves
        them; but the model only has the rounded $\theta^{16}$. The masters are saved by their
        index, the numbering that `state_dict()` gives to the parameters of all the groups in order.
        """
        # PyTorch's state: $m_t$, $v_t$, $t$ and the groups
        state = super().state_dict()
        masters = [p for group in self.param_groups for p in group["params"]]
        state["master_params"] = {
            i: master.detach() for i, master in enumerate(masters) if id(master) in self.model_params
        }
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""
        ### Load the state and the masters
        """
        # A copy, so the caller's dictionary keeps its masters
        state_dict = dict(state_dict)
        saved_masters = state_dict.pop("master_params", {})
        super().load_state_dict(state_dict)
        masters = [p for group in self.param_groups for p in group["params"]]
        with torch.no_grad():
            for i, value in saved_masters.items():
                master = masters[i]
                if id(master) not in self.model_params:
                    raise ValueError(
                        f"the saved state has a master for parameter {i}, "
                        f"which is not a float16 or bfloat16 parameter here"
                    )
                master.copy_(value)
                # The model continues from the rounded master, whatever it was loaded with
                self.model_params[id(master)][1].copy_(master)


# ## Exercises
#
# :::: exercise When a bfloat16 weight first moves
# A bfloat16 weight $\theta = 1$ gets the constant gradient $g = -1$, so that every Adam step is $+\alpha$, with
# $\alpha = 10^{-3}$. Predict $\theta^{16}$ over the first dozen steps with this page's optimizer, and with our plain
# [Adam](adam.html) stepping the bfloat16 parameter itself.
#
# ::: answer
# Above 1 the bfloat16 numbers are $2^{-7} = 0.0078$ apart, so $1 + \Delta$ rounds back to 1 while
# $\Delta < 2^{-8} = 0.0039$ (and at exactly $2^{-8}$, where the tie goes to the even neighbour, 1). Plain Adam rounds
# after every step of $10^{-3}$: $\theta^{16}$ stays at 1 for ever. With a master, $\theta^{32}_t = 1 + t\alpha$, and
# $\theta^{16}_t$ jumps to $1 + 2^{-7} = 1.0078$ at $t = 4$, when $0.004 > 0.0039$, ahead of the master, as rounding
# to nearest can be. It stays there until $\theta^{32}$ passes the next midpoint, $1 + 3 \cdot 2^{-8} = 1.0117$, at
# step 12: a staircase of steps $2^{-7}$ that follows $1 + t\alpha$ to within half a step.
# :::
# ::::
#
# :::: exercise The second moment in bfloat16
# Run plain Adam on a bfloat16 parameter, so that $m$ and $v$ are bfloat16 too, with the constant gradient $g = 1$
# and $\beta_2 = 0.999$. What does `v.mul_(0.999)` do to $v$? Where does $v_t$ stop, and what does that do to the
# step once $1 - \beta_2^t \approx 1$?
#
# ::: answer
# Multiplying by $0.999$ changes a number by a relative $10^{-3}$, less than half the relative spacing of bfloat16
# numbers, which is at least $2^{-9} = 0.00195$: it is always rounded away, and in bfloat16 $v$ never decays at
# all. Adding $(1-\beta_2)g^2 = 0.001$ is rounded to whole spacings: about $0.001$ per step while $v < 0.25$, then
# $2^{-9} = 0.00195$ per step (rounded up) below $0.5$. From $0.5$ up, half a spacing is $2^{-9}$, more than
# $0.001$, and the addition is rounded away too. So $v_t$ reaches $0.5$ at step 383, where the exact value is
# $1 - 0.999^{383} = 0.318$, and stays there: $\hat v_t \to 0.5$ instead of 1, and each step would be
# $\sqrt2 = 1.41$ times too large (for a weight that can move at all). This page's float32 moments follow the
# exact values.
# :::
# ::::
#
# :::: exercise What the loss scale buys
# Which gradients does float16 round to zero? With `GradScaler`'s default initial scale $S = 2^{16}$, which
# gradients survive, and what does a gradient of $10^{-9}$ become after scaling, rounding to float16 and
# unscaling in float32?
#
# ::: answer
# float16's smallest positive number is the subnormal $2^{-24} = 5.96 \times 10^{-8}$ (the "about
# $6 \times 10^{-8}$" above). Rounding to nearest sends everything up to half of it, $2^{-25} = 2.98 \times 10^{-8}$,
# to zero (at exactly $2^{-25}$ the tie goes to the even 0) and rounds what lies between $2^{-25}$ and $2^{-24}$ up
# to $2^{-24}$. Scaled by $2^{16}$, the threshold is $2^{-41} = 4.55 \times 10^{-13}$. A gradient of $10^{-9}$ is 0
# in float16; scaled, it is $6.56 \times 10^{-5}$, a normal float16 number (above $2^{-14} = 6.10 \times 10^{-5}$)
# with 11 significant bits, and unscaled in float32 it comes back as $1.0004 \times 10^{-9}$, within float16's
# relative rounding of $2^{-11} = 0.00049$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. The experiment has no line for it: it is Adam
# on low-precision weights, which the experiment's models do not have.
ENTRY = OptimizerEntry(
    MixedPrecisionAdam,
    paper="https://arxiv.org/abs/1710.03740",
    test_kwargs=dict(lr=1e-2, eps=1e-8, weight_decay=WeightDecay(0.1)),
)


# ## Try it
#
# The small model of [Try it](try_it.html), with its weights in bfloat16, trained with this page's
# optimizer, which steps float32 masters and writes their rounding back into the model. PyTorch has no
# optimizer that keeps master weights, so it trains alone. The losses are computed in float64 from the
# model's bfloat16 outputs.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: MixedPrecisionAdam(params, lr=1e-2), name="MixedPrecisionAdam", dtype=torch.bfloat16)
