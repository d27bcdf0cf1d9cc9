# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: AdamW Optimizer
summary: An annotated PyTorch implementation of AdamW, Adam with weight decay decoupled from the adaptive gradient step, and why that is not the same as L2 regularization.
paper_title: Decoupled Weight Decay Regularization
paper_authors: Ilya Loshchilov and Frank Hutter
paper_year: 2019
paper_type: inproceedings
paper_venue: 7th International Conference on Learning Representations (ICLR 2019)
paper_url: https://openreview.net/forum?id=Bkg6RiCqY7
paper_arxiv: 1711.05101
paper_arxiv_class: cs.LG
---

# AdamW: Adam with decoupled weight decay

This page implements *AdamW* from the paper
[Decoupled Weight Decay Regularization](https://arxiv.org/abs/1711.05101)
(arXiv:1711.05101) by Loshchilov and Hutter, ICLR 2019, on top of our [Adam](adam.html).

*Notation.* $\eta_t$ is the paper's schedule multiplier, used only in the paragraph that compares with the paper; the learning rate in effect is $\alpha_t = \alpha\eta_t$, as everywhere in the chapter.

## L2 regularization is not weight decay for Adam

For plain SGD the two are the same thing. Adding $\frac{\lambda'}{2}\lVert\theta\rVert^2$
to the loss adds $\lambda'\theta$ to the gradient, and the step
$\theta \leftarrow \theta - \alpha(g + \lambda'\theta) = (1-\alpha\lambda')\theta - \alpha g$
shrinks the weights by a constant factor: weight decay.

For Adam they differ. The added $\lambda'\theta$ goes through the moments and is divided by
$\sqrt{\hat v_t}$ like the rest of the gradient. A weight whose loss gradient is large
(large $\hat v_t$) is barely decayed, and a weight with small gradients is decayed a lot. The
paper argues this is why Adam with L2 regularization generalizes worse than SGD with
momentum, and shows that shrinking the weights *outside* the adaptive step fixes it:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
\hat{m}_t &\leftarrow \frac{m_t}{1-\beta_1^t} \qquad \hat{v}_t \leftarrow \frac{v_t}{1-\beta_2^t} \\
\theta_t &\leftarrow \theta_{t-1} - \alpha_t \left( \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}
  + \lambda \theta_{t-1} \right)
\end{align}

Here $g_t$ is the gradient of the loss alone and $\alpha_t$ the learning rate in effect at
step $t$. Every weight now shrinks by the same factor $1 - \alpha_t\lambda$ per step, whatever
its gradient history.

## Where we differ from the paper

* **What multiplies $\lambda$.** The paper writes the step as
  $\eta_t(\alpha\,\hat m_t/(\sqrt{\hat v_t}+\epsilon) + \lambda\theta_{t-1})$, where
  $\eta_t$ is the schedule multiplier and $\alpha$ the base rate, so its decay per step is
  $\eta_t\lambda$. We multiply $\lambda$ by the whole learning rate $\alpha_t = \alpha\eta_t$,
  as `torch.optim.AdamW` does, because then a learning-rate scheduler scales the decay by
  itself and our trajectories match PyTorch's. The paper's $\lambda$ is our
  $\alpha\lambda$: with `lr=1e-3` our default `weight_decay=1e-2` decays by $10^{-5}$ per step.
* **Normalized weight decay.** The paper also suggests scaling $\lambda$ with the batch size
  and the number of steps, $\lambda = \lambda_{norm}\sqrt{b/(BT)}$. That is a choice of the
  value, so we leave it to the caller.
* `eps` and `optimized_update` mean what they mean on the [Adam page](adam.html); with
  `optimized_update=False` and `eps=1e-8` the optimizer equals `torch.optim.AdamW` (the tests
  check it).

The decay itself is `WeightDecay` on the [chapter's index page](index.html), which Adam
already calls with the learning rate in effect (`get_lr`) before the moment updates. This
page is therefore mostly its explanation: `AdamW` is `Adam` with the decay switched to
decoupled by default, and a check that it stays decoupled.
AdamW keeps two tensors of the parameter's size, $m$ and $v$, as Adam does.
"""

from typing import Any, Optional, Union

import torch

from labml_nn.optimizers import Group, Params, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import ExperimentLine, OptimizerEntry, Reference


class AdamW(Adam):
    r"""
    ## AdamW Optimizer
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: Union[float, WeightDecay] = 1e-2,
        optimized_update: bool = True,
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `weight_decay` is $\lambda$ as a number, or a `WeightDecay` that must be decoupled (it may
          be `absolute`, which decays by $\lambda$ per step whatever the learning rate). The default,
          `1e-2`, is `torch.optim.AdamW`'s.
        * the other arguments are as for [`Adam`](adam.html)
        """
        if not isinstance(weight_decay, WeightDecay):
            # `WeightDecay` checks the value, so a negative one fails here with its message.
            weight_decay = WeightDecay(weight_decay, weight_decouple=True)
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, defaults, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters

        A group that asks for L2 regularization would silently turn AdamW back into Adam, so it is refused.
        """
        super().validate_group(group)
        if not group["weight_decouple"]:
            raise ValueError(
                "AdamW decouples the weight decay from the gradient (weight_decouple=True); "
                "for L2 regularization use Adam with WeightDecay(weight_decouple=False)"
            )


# ## Exercises
#
# :::: exercise How fast decay alone shrinks a weight
# A weight whose gradient is zero is only decayed. With $\alpha = 10^{-3}$ and $\lambda = 10^{-2}$,
# after how many steps has AdamW halved it? And Adam with L2 decay of the same $\lambda$?
#
# ::: answer
# AdamW multiplies by $1 - \alpha\lambda = 1 - 10^{-5}$ per step: $\ln 2/-\ln(1-10^{-5}) = 69{,}315$ steps.
# With L2 the gradient is $\lambda\theta$ alone; Adam normalises it, so each step is about $\alpha$ whatever
# $\lambda$ is, and the weight (of size $|\theta| \gg \alpha$) shrinks by a nearly constant
# $\alpha$ per step, not by a fraction: $\lambda$ only sets the direction. This is the paper's point.
# :::
# ::::
#
# :::: exercise Where a constant gradient and the decay balance
# A weight receives the same loss gradient $g > 0$ on every step, with $\lambda = 10^{-2}$. Where does it come to
# rest under AdamW, and under Adam with L2 decay of the same $\lambda$, for $g = 0.5$ and for $g = 5$?
#
# ::: answer
# Under AdamW the moments see $g$ alone, so $\hat m_t = g$ and $\hat v_t = g^2$ on every step, and (with
# $\epsilon$ neglected) $\theta_t = (1 - \alpha\lambda)\theta_{t-1} - \alpha$. Its fixed point is
# $\theta = -1/\lambda = -100$, for $g = 0.5$ and $g = 5$ alike, and whatever $\alpha$ is. Adam with L2 sees the
# gradient $g + \lambda\theta$ and can only rest where it vanishes: $\theta = -g/\lambda$, that is $-50$ for
# $g = 0.5$ and $-500$ for $g = 5$. Under L2 the size of the loss gradient sets how far the decay lets the weight
# go; under decoupled decay the normalized step and the decay balance, and the gradient's size drops out.
# :::
# ::::
#
# :::: exercise The decay under a cosine schedule
# A weight with zero gradient, under AdamW with $\alpha = 10^{-3}$ and $\lambda = 10^{-2}$ for $T = 100{,}000$
# steps: by what factor has it shrunk at the end with a constant rate, and with `CosineAnnealingLR(T_max=T)`
# taking $\alpha_t$ from $\alpha$ down towards 0?
#
# ::: answer
# Each step multiplies the weight by $1 - \alpha_t\lambda$, so the factor is
# $\prod_t (1 - \alpha_t\lambda) \approx \exp(-\lambda\sum_t \alpha_t)$. With a constant rate,
# $(1 - 10^{-5})^{100{,}000} = 0.368$. The scheduler sets $\alpha_t = \frac{\alpha}{2}(1 + \cos(\pi(t-1)/T))$, whose
# sum is $\alpha(T+1)/2$, so the factor is $0.607$, about $e^{-1/2}$: because the decay is multiplied by the
# rate in effect, a schedule that halves the total step halves the total decay too. So does the paper's form, whose
# decay per step is $\eta_t\lambda$.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. In the experiment AdamW decays by $10^{-2}$,
# `torch.optim.AdamW`'s default, as the baseline line does.
ENTRY = OptimizerEntry(
    AdamW,
    paper="https://arxiv.org/abs/1711.05101",
    test_kwargs=dict(lr=1e-2, eps=1e-8),
    reference=Reference(
        torch.optim.AdamW,
        ours=dict(lr=1e-2, eps=1e-8, optimized_update=False, weight_decay=0.1),
        theirs=dict(lr=1e-2, eps=1e-8, weight_decay=0.1, foreach=False),
    ),
    experiment=ExperimentLine("adamw", 1e-3, dict(weight_decay=1e-2), position=2),
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's AdamW, and a twin trained with
# `torch.optim.AdamW` on the same gradients. The decay $\lambda = 10^{-2}$ is both defaults; `eps` is placed
# and sized as PyTorch's, as on the [Adam](adam.html) page, so the two compute the same update.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(
        lambda params: AdamW(params, lr=1e-2, eps=1e-8, optimized_update=False),
        lambda params: torch.optim.AdamW(params, lr=1e-2, eps=1e-8),
        name="AdamW",
        reference_name="torch.optim.AdamW",
    )
