"""Independent float64 references for optimizers that have no `torch.optim` twin.

A reference reads the parameter and its gradient as float64 on the CPU, keeps its own state in
float64, and writes the new value back. Each test module writes its `update` from the paper's
algorithm, with plain tensor arithmetic and none of the code under test.
"""

import math
from typing import Any

import torch


class Float64Reference(torch.optim.Optimizer):
    """Base class: the loop over parameters; subclasses write `update`."""

    def __init__(self, params, **hyper: Any):
        super().__init__(params, hyper)

    def update(
        self, state: dict[str, Any], group: dict[str, Any], theta: torch.Tensor, g: torch.Tensor
    ) -> torch.Tensor:
        """Returns $\\theta_t$ from $\\theta_{t-1}$ and $g_t$ (both float64)."""
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.detach().to("cpu", torch.float64)
                g = p.grad.detach().to("cpu", torch.float64)
                p.copy_(self.update(self.state[p], group, theta, g))


class AdamFamilyReference(Float64Reference):
    """Adam with optional AMSGrad, L2 or decoupled decay and a learning-rate schedule, in the textbook
    form: $\\theta_t = \\theta_{t-1} - \\alpha_t \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)$.

    `schedule(group, t)` returns the multiplier of `group["lr"]` at step `t` (counting from 1).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        amsgrad=False,
        weight_decay=0.0,
        decoupled=False,
        schedule=None,
    ):
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, weight_decay=weight_decay, decoupled=decoupled
        )
        self.schedule = schedule or (lambda group, t: 1.0)

    def update(self, state, group, theta, g):
        if not state:
            state.update(t=0, m=torch.zeros_like(theta), v=torch.zeros_like(theta), v_max=torch.zeros_like(theta))
        beta1, beta2 = group["betas"]
        state["t"] += 1
        t = state["t"]
        lr = group["lr"] * self.schedule(group, t)
        if group["weight_decay"] and group["decoupled"]:
            theta = theta * (1 - lr * group["weight_decay"])
        elif group["weight_decay"]:
            g = g + group["weight_decay"] * theta
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
        v = state["v"]
        if group["amsgrad"]:
            state["v_max"] = torch.maximum(state["v_max"], state["v"])
            v = state["v_max"]
        m_hat = state["m"] / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - lr * m_hat / (v_hat.sqrt() + group["eps"])


def rectification(beta2: float, t: int):
    """RAdam's $(\\rho_t, r_t)$ from the paper's closed forms; $r_t$ is None when $\\rho_t \\le 5$."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho <= 5:
        return rho, None
    return rho, math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
