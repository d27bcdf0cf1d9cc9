# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: Sophia Optimizer
summary: An annotated PyTorch implementation of Sophia-G, a clipped second-order optimizer with a Gauss-Newton-Bartlett estimate of the Hessian diagonal, and the training loop that feeds it.
paper_title: Sophia: A Scalable Stochastic Second-order Optimizer for Language Model Pre-training
paper_authors: Hong Liu, Zhiyuan Li, David Hall, Percy Liang and Tengyu Ma
paper_year: 2024
paper_type: inproceedings
paper_venue: 12th International Conference on Learning Representations (ICLR 2024)
paper_arxiv: 2305.14342
paper_arxiv_class: cs.LG
---

# Sophia Optimizer

This page implements *Sophia-G* from the paper
[Sophia: A Scalable Stochastic Second-order Optimizer for Language Model Pre-training](https://arxiv.org/abs/2305.14342)
(arXiv 2305.14342) by Liu et al., 2023, on top of the `GenericAdaptiveOptimizer` of this
[chapter's index page](index.html), together with the few lines of the training loop it needs.

*Notation.* The learning rate is $\alpha$, as on every page of the chapter (the paper writes $\eta$); $\rho$ keeps the name of the code's `rho` argument, the clip scale (the paper's $\gamma$), and means nothing else here.

## The idea

Newton's method divides the gradient by the curvature: along a direction where the loss
is a parabola $\frac{h}{2}\theta^2$, the step $g/h$ lands on the minimum at once.
[Adam](adam.html) divides by $\sqrt{v_t}$, the size of recent gradients, which is not curvature at all.
Sophia divides by an estimate $h_t$ of the *diagonal of the Hessian*, and adds two safeguards
that make this usable on the non-convex loss of a neural network:

* the ratio of momentum to curvature is **clipped** to $[-1, 1]$ per coordinate, so a
  coordinate with negative, tiny or badly estimated curvature moves by at most the learning rate;
* the Hessian estimate is **refreshed only every $k$ steps** (the paper uses $k = 10$), which
  keeps the cost to a few percent over Adam, and is **averaged** over time with $\beta_2$.

## Sophia-G: the Gauss-Newton-Bartlett estimate

For a model with output logits and a cross-entropy loss $\ell$, the Gauss-Newton part of the
Hessian can be estimated from one extra backward pass. Take a batch of $B$ inputs, **sample
labels $\hat y_b$ from the model's own output distribution** $\operatorname{softmax}(f(\theta, x_b))$,
compute the gradient $\hat g$ of the mean loss $\frac{1}{B}\sum_b \ell(f(\theta, x_b), \hat y_b)$
and use

$$\hat h = B \cdot \hat g \odot \hat g.$$

Its expectation is the diagonal of the Gauss-Newton matrix of the mean loss. Write
$\hat g = \frac{1}{B}\sum_b \hat g_b$ with $\hat g_b = \nabla_\theta \ell(f(\theta, x_b), \hat y_b)$:

$$B\, \hat g \odot \hat g = \frac{1}{B}\sum_b \hat g_b \odot \hat g_b
  + \frac{1}{B}\sum_{b \ne c} \hat g_b \odot \hat g_c.$$

The cross terms vanish in expectation: the labels are drawn independently, and each $\hat g_b$
has mean zero under the model's own distribution,
$\mathbb{E}_{\hat y}[\nabla \ell_b] = -\sum_y p_y \nabla \log p_y = -\nabla \sum_y p_y = 0$.
Each square term has expectation the diagonal of the Fisher information of example $b$, which
for a softmax cross-entropy is $J_b^\top (\operatorname{diag}(p_b) - p_b p_b^\top) J_b$
(Bartlett's identity), the Gauss-Newton matrix of $\ell_b$, with $J_b$ the Jacobian of the
logits. The factor $B$ turns the $\frac{1}{B^2}$ of the squared mean into the $\frac{1}{B}$ of a
mean of these $B$ terms; without the labels sampled from the model (with the true labels, say)
neither step holds.

## The update

At step $t$, with gradient $g_t$, learning rate $\alpha_t$ and decoupled weight decay $\lambda$:

\begin{align}
m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
h_t &\leftarrow \beta_2 h_{t-k} + (1 - \beta_2) \hat h_t
  \quad \text{every } k \text{ steps, else } h_t \leftarrow h_{t-1} \\
\theta_t &\leftarrow \theta_{t-1} (1 - \alpha_t \lambda) \\
\theta_t &\leftarrow \theta_t - \alpha_t \operatorname{clip}\Big(\frac{m_t}{\rho h_t + \epsilon}, 1\Big)
\end{align}

where $\operatorname{clip}(z, 1) = \max(\min(z, 1), -1)$ element by element.

### Which form of the update

The paper (Algorithm 3) writes the denominator as $\max(\gamma h_t, \epsilon)$; the authors'
code computes $|m_t| / (\rho B \bar h_t + 10^{-15})$, clips it at 1 and multiplies by
$\operatorname{sign}(m_t)$, with $\bar h_t$ the average of $\hat g \odot \hat g$ *without*
the factor $B$, which it passes to every `step` instead. We follow the code's denominator,
$\rho h_t + \epsilon$ (the `rho` here is the paper's $\gamma$), because that is what produced
the paper's results. The two denominators differ by at most a factor of two, and noticeably
only where $\rho h_t$ is of the order of $\epsilon$; with $\epsilon = 10^{-12}$ the ratio there is
clipped to 1 in both forms unless $|m_t|$ is of the order of $10^{-12}$ too. Note that
$\operatorname{sign}(m)\min(|m|/d, 1) = \operatorname{clip}(m/d, 1)$ for $d > 0$, so the code and
the paper agree on the rest. We put $B$ into $\hat h$ when the estimate is made, as the paper
writes it, rather than into every step as the code does: then $h_t$ is the curvature itself,
and a batch size that changes between estimates is weighted correctly.

### Defaults and the batch of the estimate

Our defaults, $\alpha = 10^{-4}$, $\beta = (0.9, 0.95)$, $\rho = 0.03$, $\epsilon = 10^{-12}$ and no
weight decay, are nn.labml.ai's. The authors' `SophiaG` uses $\beta = (0.965, 0.99)$,
$\rho = 0.04$ and weight decay $0.1$ (with the same $\alpha = 10^{-4}$); pass
`betas=(0.965, 0.99), rho=0.04, weight_decay=WeightDecay(0.1)` to get them. The authors'
training script also estimates the Hessian on the *next* training batch, the one it has already
fetched for the following step, while `training_step` below reuses the batch it has just
stepped on. Either way the estimate is made at the updated parameters.

Until the first estimate, $h = 0$ and every coordinate with $|m_t| > \epsilon$ is clipped:
Sophia starts as signed momentum, $\theta \leftarrow \theta - \alpha_t \operatorname{sign}(m_t)$.
As with [Lion](lion.html), whose whole update is such a sign, the sign-like update makes steps larger
than Adam's at the same learning rate.
"""

from typing import Any, Optional

import torch
from torch import nn

from labml_nn.optimizers import GenericAdaptiveOptimizer, Group, Params, State, WeightDecay
from labml_nn.optimizers.registry import OptimizerEntry


class Sophia(GenericAdaptiveOptimizer):
    r"""
    ## Sophia-G Optimizer

    `step()` updates the parameters from $m_t$ and the stored $h_t$; `update_hessian()`, called
    by the training loop every $k$ steps, refreshes $h_t$.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.95),
        eps: float = 1e-12,
        rho: float = 0.03,
        weight_decay: WeightDecay = WeightDecay(),
        defaults: Optional[dict[str, Any]] = None,
        *,
        maximize: bool = False,
    ):
        r"""
        ### Initialize the optimizer

        * `params` is the list of parameters, or of parameter groups
        * `lr` is the learning rate $\alpha$
        * `betas` is the pair $(\beta_1, \beta_2)$, of $m_t$ and of $h_t$
        * `eps` is $\epsilon$ of the denominator $\rho h_t + \epsilon$
        * `rho` is $\rho$ (the paper's $\gamma$): the larger it is, the more coordinates have
          a ratio below 1 and are not clipped
        * `weight_decay` is a `WeightDecay` from the [index page](index.html); the paper's is
          decoupled and multiplied by $\alpha_t$, which is what `WeightDecay(λ)` does
        * `maximize` climbs the objective instead of descending it, as `torch.optim`'s switch does
        * `defaults` holds the group defaults of a subclass
        """
        # The weight decay and $\rho$ join the group defaults, so each group can set its own
        defaults = dict(defaults or {})
        defaults.update(weight_decay.defaults())
        defaults.setdefault("rho", rho)
        super().__init__(params, defaults, lr, betas, eps, maximize=maximize)

    def validate_group(self, group: Group) -> None:
        r"""
        ### Check a group's hyper-parameters
        """
        # The shared checks, then $\rho > 0$: with $\rho = 0$ every coordinate would be clipped
        super().validate_group(group)
        if not 0.0 < group["rho"]:
            raise ValueError(f"Invalid rho value: {group['rho']} (must be > 0)")

    def init_state(self, state: State, group: Group, param: torch.Tensor) -> None:
        r"""
        ### Initialize the state of a parameter
        """
        # $t$, the number of parameter updates
        state["step"] = 0
        # The number of Hessian estimates averaged into $h$, so a training loop (and the tests)
        # can see that the estimate runs every $k$ steps
        state["hessian_step"] = 0
        # $m_t$
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # $h_t$, the running average of the estimates of the Hessian diagonal
        state["hessian"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    @torch.no_grad()
    def update_hessian(self, n_tokens_training_batch: int) -> None:
        r"""
        ### Average a new estimate into $h$

        * `n_tokens_training_batch` is $B$, the number of labels whose mean loss gave the gradient

        The `.grad` of every parameter must hold $\hat g$, the gradient of the mean loss on
        labels sampled from the model (see `estimate_hessian` below), not the training gradient.
        """
        # $B \ge 1$; a zero would silently decay $h$ towards zero
        if not n_tokens_training_batch > 0:
            raise ValueError(f"Invalid n_tokens_training_batch: {n_tokens_training_batch} (must be > 0)")
        for group in self.param_groups:
            _, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                # The first estimate may come before the first step.
                if len(state) == 0:
                    self.init_state(state, group, param)
                # $h \leftarrow \beta_2 h + (1 - \beta_2) \cdot B \cdot \hat g \odot \hat g$
                state["hessian"].mul_(beta2).addcmul_(
                    param.grad, param.grad, value=(1 - beta2) * n_tokens_training_batch
                )
                state["hessian_step"] += 1

    def step_param(self, state: State, group: Group, grad: torch.Tensor, param: torch.Tensor) -> None:
        r"""
        ### Take a step on one parameter tensor

        * `grad` is the training gradient $g_t$
        """
        # $\beta_1$, $\alpha_t$ (as a scheduler set it), $m_{t-1}$ and $h_t$; $t \leftarrow t + 1$
        beta1, _ = group["betas"]
        lr = group["lr"]
        m, h = state["exp_avg"], state["hessian"]
        state["step"] += 1

        # $\theta_{t-1} \leftarrow \theta_{t-1}(1 - \alpha_t \lambda)$ with the scheduled $\alpha_t$
        grad = WeightDecay.apply(param, grad, group, lr)
        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        m.lerp_(grad, 1 - beta1)
        # $\min\big(\frac{|m_t|}{\rho h_t + \epsilon}, 1\big)$; $h_t \ge 0$, so the denominator is positive
        ratio = (m.abs() / (group["rho"] * h + group["eps"])).clamp_(max=1.0)
        # $\theta_t \leftarrow \theta_{t-1} - \alpha_t \operatorname{sign}(m_t) \cdot \text{ratio}
        # = \theta_{t-1} - \alpha_t \operatorname{clip}\big(\frac{m_t}{\rho h_t + \epsilon}, 1\big)$
        param.addcmul_(m.sign(), ratio, value=-lr)


def estimate_hessian(optimizer: Sophia, logits: torch.Tensor, generator: Optional[torch.Generator] = None) -> None:
    r"""
    ## Gauss-Newton-Bartlett estimate

    * `logits` has shape `[..., n_classes]` (for a language model, `[batch, seq, vocab]`),
      computed by the model on a training batch with autograd on
    * `generator` is an optional random generator for the sampled labels

    It fills `.grad` with $\hat g$, averages $B \hat g \odot \hat g$ into $h$ and clears `.grad` again.
    """
    # Flatten to `[B, n_classes]`: every position is one sample of the model's distribution
    logits = logits.reshape(-1, logits.shape[-1])
    # $\hat y_b \sim \operatorname{softmax}(f(\theta, x_b))$; sampling needs no gradient
    with torch.no_grad():
        sampled = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(-1)
    # The mean cross-entropy on the sampled labels, whose gradient is $\hat g$
    loss = nn.functional.cross_entropy(logits, sampled)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.update_hessian(logits.shape[0])
    # $\hat g$ must not leak into the next training step
    optimizer.zero_grad(set_to_none=True)


def training_step(
    model: nn.Module,
    optimizer: Sophia,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    t: int,
    k: int = 10,
    generator: Optional[torch.Generator] = None,
) -> float:
    r"""
    ## A training step with Sophia

    * `t` counts training steps from 0; `k` is the interval of the Hessian estimates

    An ordinary step on the cross-entropy loss, and after every $k$-th one (`t` $= k-1, 2k-1, \dots$,
    as in the authors' training script) a Hessian estimate on the same inputs with the updated
    parameters. Returns the training loss.
    """
    # $g_t$, the gradient of the mean cross-entropy on the true labels, and the step
    logits = model(inputs)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # The estimate costs one forward and one backward pass; doing it every $k$ steps keeps the
    # overhead near $1/k$ of training
    if t % k == k - 1:
        estimate_hessian(optimizer, model(inputs), generator)
    return loss.item()


# ## Exercises
#
# :::: exercise Sophia on a parabola
# Take the loss $\frac{h}{2}\theta^2$ with its exact curvature stored, $h_t = h$, and $\beta_1 = 0$, so that
# $m_t = g_t = h\theta_{t-1}$. For which $\theta$ is the ratio clipped? What does a step do where it is not, and
# which $\alpha$ makes that a Newton step? From $\theta_0 = 1.005$, with $\alpha = 0.01$, $\rho = 0.03$ and $h = 2$,
# after how many steps is $|\theta_t| < 10^{-6}$?
#
# ::: answer
# The ratio is $h\theta/(\rho h + \epsilon) \approx \theta/\rho$: it is clipped while $|\theta| > \rho$ (to within
# $\epsilon/h$), whatever the curvature, and there every step moves by $\alpha$. Inside,
# $\theta_t = \theta_{t-1} - \alpha\theta_{t-1}/\rho = (1 - \alpha/\rho)\,\theta_{t-1}$: Newton's step $g/h$ times
# $\alpha/\rho$, so $\alpha = \rho$ lands on the minimum in one step. From $1.005$ the first 98 steps are clipped
# and bring $\theta$ to $0.025$; then each step multiplies it by $1 - 0.01/0.03 = 2/3$, and
# $0.025\,(2/3)^n < 10^{-6}$ takes $n = 25$: 123 steps in all. The curvature $h$ does not appear: on a parabola
# whose curvature Sophia knows, it moves by $\alpha$ per step far from the minimum and shrinks the distance by
# $1 - \alpha/\rho$ per step near it, for every $h$ with $\rho h \gg \epsilon$.
# :::
# ::::
#
# :::: exercise The estimate for one softmax
# Let the parameters be the logits $z = (0, 1, 2)$ of one example themselves, so that $J = I$ and $B = 1$. Compute
# $\mathbb{E}[\hat h]$ over the sampled label and compare it with the diagonal of the Hessian of the cross-entropy,
# and with $\hat h$ computed from the true label $y = 2$ instead of a sampled one.
#
# ::: answer
# The gradient of $\ell(z, y)$ is $p - e_y$, with $p = \operatorname{softmax}(z) = (0.0900, 0.2447, 0.6652)$.
# Element $i$ of $\hat h = (p - e_{\hat y})^2$ is $(1-p_i)^2$ when $\hat y = i$, with probability $p_i$, and $p_i^2$
# otherwise, so $\mathbb{E}[\hat h_i] = p_i(1-p_i)^2 + (1-p_i)\,p_i^2 = p_i(1-p_i)$: $(0.0819, 0.1848, 0.2227)$. The
# Hessian of $\ell$ with respect to $z$ is $\operatorname{diag}(p) - pp^\top$ for every label, and its diagonal is
# the same $p_i(1-p_i)$: the estimate is unbiased. With the true label, $\hat h = (p - e_2)^2 =
# (0.0081, 0.0599, 0.1121)$, smaller in every element: the square of the training gradient, not the curvature.
# :::
# ::::


# ## Registry entry
#
# What the chapter's [registry](registry.html) knows of this page. The tests' training loops estimate the
# Hessian every 5 steps from their batch of 64 examples, with the training gradient standing in for the
# sampled-label one: the update does not depend on where the gradient comes from, and the loop stays the same
# under every wrapper. The experiment has no Sophia line: that pass is a change to its training loop that no
# other line needs.
def estimate_hessian_every_5_steps(optimizer: Sophia, t: int) -> None:
    if t % 5 == 4:
        optimizer.update_hessian(64)


ENTRY = OptimizerEntry(
    Sophia,
    paper="https://arxiv.org/abs/2305.14342",
    test_kwargs=dict(lr=1e-2, weight_decay=WeightDecay(0.1)),
    after_step=estimate_hessian_every_5_steps,
)


# ## Try it
#
# The small model of [Try it](try_it.html), trained with this page's Sophia through `training_step`, which
# estimates the Hessian's diagonal every $k = 10$ steps on the same points. PyTorch has no Sophia and the
# authors publish a script rather than a package, so it trains alone.
if __name__ == "__main__":
    from labml_nn.optimizers.try_it import try_optimizer

    try_optimizer(lambda params: Sophia(params, lr=1e-2), name="Sophia", train_step=training_step)
