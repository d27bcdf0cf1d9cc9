"""The numeric answers of the exercises of ten more pages, computed from the pages' code or in float64 from
the formula (`test_exercises.py` holds those of the other pages).

Each test names the page and the exercise whose answer it checks; a number the answer prints is compared
with what this file computes, at the precision the answer gives it.
"""

import math
import re

import pytest
import torch
from torch import nn

from labml_nn.optimizers import WeightDecay, fused_adam
from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.adafactor import Adafactor
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.amsgrad_counterexample import PERIOD, gradient
from labml_nn.optimizers.fused_adam import FusedAdam
from labml_nn.optimizers.lion import Lion
from labml_nn.optimizers.lr_schedules import cosine_rates, labml_cosine, noam_rates
from labml_nn.optimizers.mixed_precision import MixedPrecisionAdam
from labml_nn.optimizers.nadam import NAdam
from labml_nn.optimizers.sophia import Sophia
from tests.optimizers.common import steps_of

# -- ada_belief.py --------------------------------------------------------------------------------


def test_ada_belief_first_step():
    """Exercise "The first step": 1.11 alpha for any gradient unrectified, alpha g rectified."""
    beta1 = 0.9
    assert round(1 / beta1, 2) == 1.11
    for g in (5.0, 0.01):
        unrectified = steps_of(AdaBelief, [g], lr=1.0, rectify=False)
        assert unrectified[0] == pytest.approx(-1 / beta1, rel=1e-6)
        assert steps_of(AdaBelief, [g], lr=1.0, rectify=False, optimized_update=False)[0] == pytest.approx(
            -1 / beta1, rel=1e-6
        )
        assert steps_of(Adam, [g], lr=1.0)[0] == pytest.approx(-1.0, rel=1e-6)
    # Rectified: RAdam's momentum-SGD step alpha * m_hat_1 = alpha * g, for the first five steps
    assert steps_of(AdaBelief, [5.0], lr=1.0)[0] == pytest.approx(-5.0, rel=1e-12)
    assert steps_of(AdaBelief, [0.01], lr=1.0)[0] == pytest.approx(-0.01, rel=1e-12)
    five = steps_of(AdaBelief, [5.0] * 6, lr=1.0)
    assert all(step == pytest.approx(-5.0, rel=1e-12) for step in five[:5]) and abs(five[5]) < 1.0


def test_ada_belief_alternating_gradient():
    """Exercise "A gradient that flips sign every step": AdaBelief's steps are 1.056 times Adam's."""
    beta1 = 0.9
    c = (1 - beta1) / (1 + beta1)
    assert (round(c, 4), round(2 * beta1 / (1 + beta1), 3)) == (0.0526, 0.947)
    assert (round((1 - beta1) / (2 * beta1), 4), round((1 + beta1) / (2 * beta1), 3)) == (0.0556, 1.056)
    gradients = [(-1) ** t * 2.0 for t in range(1, 5001)]
    ada_belief = steps_of(AdaBelief, gradients, lr=1.0, rectify=False, optimized_update=False)
    adam = steps_of(Adam, gradients, lr=1.0, eps=1e-12, optimized_update=False)
    assert abs(ada_belief[-1]) == pytest.approx((1 - beta1) / (2 * beta1), rel=1e-6)
    assert abs(adam[-1]) == pytest.approx(c, rel=1e-6)
    assert round(abs(ada_belief[-1] / adam[-1]), 3) == 1.056


# -- adafactor.py ---------------------------------------------------------------------------------


def test_adafactor_state_of_a_4096_by_1024_matrix():
    """Exercise "How much a factored matrix saves"."""
    weight = nn.Parameter(torch.zeros(4096, 1024))
    adafactor, adam = Adafactor([weight]), Adam([weight])
    weight.grad = torch.ones_like(weight)
    adafactor.step()
    adam.step()
    ours = sum(v.numel() for v in adafactor.state[weight].values() if isinstance(v, torch.Tensor))
    theirs = sum(v.numel() for v in adam.state[weight].values() if isinstance(v, torch.Tensor))
    assert (ours, theirs) == (5120, 8_388_608)
    assert round(theirs / ours, 1) == 1638.4 and round(theirs / 2 / ours, 1) == 819.2


def first_step(grad: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    param = nn.Parameter(start.clone())
    optimizer = Adafactor([param])
    param.grad = grad.clone()
    optimizer.step()
    return param.detach() - start


def test_adafactor_rank_one_estimate():
    """Exercise "When the rank-one estimate is exact": 0.005 per element; 0.00707 on the identity's diagonal."""
    u = torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64)
    v = torch.tensor([0.5, -1.0, 4.0, 2.0], dtype=torch.float64)
    grad = torch.outer(u, v)
    start = torch.tensor([[0.5, -0.5, 0.5, -0.5]] * 3, dtype=torch.float64)
    torch.testing.assert_close(first_step(grad, start), -0.005 * grad.sign(), rtol=1e-12, atol=0)
    # The identity: V_hat is 1/2 everywhere, U = sqrt(2) I
    identity = torch.eye(2, dtype=torch.float64)
    step = first_step(identity, torch.full((2, 2), 0.5, dtype=torch.float64))
    assert round(-step[0, 0].item(), 5) == 0.00707 and step[0, 0] == step[1, 1]
    assert step[0, 1] == 0 and step[1, 0] == 0
    torch.testing.assert_close(step, -0.005 * math.sqrt(2) * identity, rtol=1e-12, atol=0)


def test_adafactor_clipping_after_a_jump():
    """Exercise "A sudden jump in the gradient": RMS(U) = 8.47, the step held at alpha by d = 1."""
    rate = 1000**-0.8
    assert round(rate, 5) == 0.00398 and round(1 + 99 * rate, 3) == 1.394
    assert round(math.sqrt(1 + 99 * rate), 3) == 1.181 and round(10 / math.sqrt(1 + 99 * rate), 2) == 8.47
    g = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    for d, size in ((1.0, 1.0), (100.0, 10 / math.sqrt(1 + 99 * rate))):
        param = nn.Parameter(torch.zeros(4, dtype=torch.float64))
        optimizer = Adafactor([param], lr=1.0, relative_step=False, scale_parameter=False, d=d)
        steps = []
        for t in range(1, 1001):
            before = param.detach().clone()
            param.grad = g * (10 if t == 1000 else 1)
            optimizer.step()
            steps.append(param.detach() - before)
        torch.testing.assert_close(steps[-2], -g.sign(), rtol=1e-12, atol=0)
        torch.testing.assert_close(steps[-1], -size * g.sign(), rtol=1e-9, atol=0)


# -- adam_warmup_cosine_decay.py ------------------------------------------------------------------


def test_cosine_rates_add_up_to_half_of_t():
    """Exercise "The sum of the rates": T/2 for every 1 <= w < T, (T - 1)/2 for w = 0."""
    for warmup, total in ((1, 1000), (100, 1000), (999, 1000), (7, 33), (200, 600)):
        assert sum(cosine_rates(warmup, total, total)) == pytest.approx(total / 2, abs=1e-9)
    assert round(sum(cosine_rates(100, 1000, 1000)), 6) == 500.0
    assert round(sum(cosine_rates(0, 1000, 1000)), 6) == 499.5


def test_cosine_ends_are_flat():
    """Exercise "How flat the ends are": 3.05e-6 at both ends, 1.75e-3 at most in the middle, 573 times more."""
    rates = cosine_rates(100, 1000, 1000)
    first_fall, last_fall = rates[99] - rates[100], rates[998] - rates[999]
    assert rates[99] == 1.0 and rates[999] == 0.0
    assert first_fall == pytest.approx(math.sin(math.pi / 1800) ** 2, rel=1e-9)
    assert last_fall == pytest.approx(math.sin(math.pi / 1800) ** 2, rel=1e-9)
    assert f"{first_fall:.2e}" == "3.05e-06" and f"{last_fall:.2e}" == "3.05e-06"
    largest = max(rates[t] - rates[t + 1] for t in range(99, 999))
    assert f"{largest:.2e}" == "1.75e-03" and largest <= math.sin(math.pi / 1800)
    assert round(largest / last_fall) == 573


# -- lr_schedules.py ------------------------------------------------------------------------------


def test_noam_figure_curves():
    """Exercise "Reading the Noam figure"."""
    steps = 20_000
    w4000, w8000 = noam_rates(4000, 512, steps), noam_rates(8000, 512, steps)
    narrow, no_warmup = noam_rates(4000, 256, steps), noam_rates(0, 512, steps)

    def same(a: float, b: float) -> bool:
        return a == pytest.approx(b, rel=1e-12)

    assert all(same(a, b) for a, b in zip(w4000[7999:], w8000[7999:])) and not same(w4000[7998], w8000[7998])
    assert all(same(a, b) for a, b in zip(w4000[3999:], no_warmup[3999:])) and not same(w4000[3998], no_warmup[3998])
    assert (f"{max(w8000):.2e}", f"{max(w4000):.2e}") == ("4.94e-04", "6.99e-04")
    assert all(same(a / b, math.sqrt(2)) for a, b in zip(narrow, w4000)) and round(math.sqrt(2), 3) == 1.414
    assert round(no_warmup[0], 4) == 0.0442 and 0.0025**-2 == pytest.approx(160_000)
    assert next(t for t, rate in enumerate(no_warmup, 1) if rate < 0.0025) == 313


def test_labml_cosine_floor():
    """Exercise "The dashed curve's floor": 519 to 681, back at 1 at 1000, the floor again at 1319."""
    assert round(math.acos(-0.8) / math.pi, 4) == 0.7952
    assert (round(math.acos(-0.8) / math.pi, 3), round(2 - math.acos(-0.8) / math.pi, 3)) == (0.795, 1.205)
    rates = labml_cosine(200, 600, 1500)
    floor = [t for t in range(201, 1501) if rates[t - 1] == 0.1]
    first_stretch = [t for t in floor if t < 1000]
    assert (first_stretch[0], first_stretch[-1]) == (519, 681)
    assert first_stretch == list(range(519, 682))
    assert [t for t in range(201, 1501) if rates[t - 1] == 1.0] == [1000]
    assert min(t for t in floor if t > 1000) == 1319
    assert round(sum(rates), 1) == 726.8
    assert sum(cosine_rates(200, 600, 1500)) == pytest.approx(300, abs=1e-9)


# -- lion.py --------------------------------------------------------------------------------------


def test_lion_weight_decay_box():
    """Exercise "The box that weight decay builds": 6.32 after 10,000 steps, towards 1/lambda = 10."""
    param = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = Lion([param], lr=1e-3, weight_decay=WeightDecay(0.1))
    for _ in range(10_000):
        param.grad = torch.tensor([-1.0], dtype=torch.float64)
        optimizer.step()
    closed_form = (1 - (1 - 1e-4) ** 10_000) / 0.1
    assert param.item() == pytest.approx(closed_form, rel=1e-12)
    assert round(param.item(), 2) == 6.32 and round(10 * (1 - math.exp(-1)), 2) == 6.32


def first_reversed_step(beta1: float, beta2: float) -> int:
    """The step after the gradient flips from +1 to -1 on which Lion first moves the other way."""
    param = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = Lion([param], lr=1.0, betas=(beta1, beta2))
    for _ in range(5000):  # m = 1 to within 0.99 ** 5000
        param.grad = torch.tensor([1.0], dtype=torch.float64)
        optimizer.step()
    for k in range(1, 1000):
        before = param.item()
        param.grad = torch.tensor([-1.0], dtype=torch.float64)
        optimizer.step()
        if param.item() > before:
            return k
    raise AssertionError("never reversed")


def test_lion_reacts_to_a_flipped_gradient():
    """Exercise "How long Lion keeps going after the gradient flips": step 60; signed momentum 69 and 7."""
    assert round(1 / 1.8, 3) == 0.556 and round(math.log(1.8) / math.log(1 / 0.99), 1) == 58.5
    assert first_reversed_step(0.9, 0.99) == 60
    assert first_reversed_step(0.99, 0.99) == 69 and first_reversed_step(0.9, 0.9) == 7
    # m itself changes sign ten steps later: m_k = 2 * 0.99^k - 1 < 0 from k = 69
    assert next(k for k in range(200) if 2 * 0.99**k - 1 < 0) == 69


# -- sophia.py ------------------------------------------------------------------------------------


def test_sophia_on_a_parabola():
    """Exercise "Sophia on a parabola": 98 clipped steps to 0.025, then 2/3 per step, 123 steps in all."""
    h = 2.0
    param = nn.Parameter(torch.tensor([1.005], dtype=torch.float64))
    optimizer = Sophia([param], lr=0.01, betas=(0.0, 0.95), rho=0.03)
    # One estimate whose average is h: (1 - beta2) * B * g_hat^2 = h with B = 1
    param.grad = torch.tensor([math.sqrt(h / 0.05)], dtype=torch.float64)
    optimizer.update_hessian(1)
    assert optimizer.state[param]["hessian"].item() == pytest.approx(h, rel=1e-15)
    positions = []
    for _ in range(200):
        param.grad = h * param.detach().clone()
        optimizer.step()
        positions.append(param.item())
    assert positions[96] == pytest.approx(0.035, abs=1e-12) and positions[97] == pytest.approx(0.025, abs=1e-12)
    assert all(b - a == pytest.approx(-0.01, abs=1e-12) for a, b in zip([1.005] + positions[:97], positions[:98]))
    assert positions[98] / positions[97] == pytest.approx(2 / 3, rel=1e-9)
    assert next(t for t, x in enumerate(positions, 1) if abs(x) < 1e-6) == 123
    assert 0.025 * (2 / 3) ** 25 < 1e-6 < 0.025 * (2 / 3) ** 24


def test_sophia_estimate_for_one_softmax():
    """Exercise "The estimate for one softmax": E[h_hat] = p(1 - p) = the Hessian's diagonal; the true label's."""
    logits = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    p = torch.softmax(logits, dim=0)
    assert [round(x, 4) for x in p.tolist()] == [0.0900, 0.2447, 0.6652]

    def h_hat(label: int) -> torch.Tensor:
        # The page's update_hessian with beta2 = 0 and B = 1 keeps exactly B * g_hat^2
        z = nn.Parameter(logits.clone())
        optimizer = Sophia([z], betas=(0.9, 0.0))
        nn.functional.cross_entropy(z[None], torch.tensor([label])).backward()
        optimizer.update_hessian(1)
        return optimizer.state[z]["hessian"]

    expected = sum(p[y] * h_hat(y) for y in range(3))
    torch.testing.assert_close(expected, p * (1 - p), rtol=1e-12, atol=0)
    assert [round(x, 4) for x in expected.tolist()] == [0.0819, 0.1848, 0.2227]
    hessian = torch.autograd.functional.hessian(
        lambda z: nn.functional.cross_entropy(z[None], torch.tensor([2])), logits
    )
    torch.testing.assert_close(hessian.diagonal(), expected, rtol=1e-12, atol=0)
    true_label = h_hat(2)
    assert [round(x, 4) for x in true_label.tolist()] == [0.0081, 0.0599, 0.1121]
    assert bool((true_label < expected).all())


# -- nadam.py -------------------------------------------------------------------------------------


def mu(t: int, beta1: float = 0.9, psi: float = 0.004) -> float:
    return beta1 * (1 - 0.5 * 0.96 ** (t * psi))


def test_nadam_schedule():
    """Exercise "The momentum schedule, step by step": mu_1 = 0.4501; 0.9 beta1 from step 9857."""
    param = nn.Parameter(torch.ones(1, dtype=torch.float64))
    optimizer = NAdam([param])
    for t in (1, 2):
        param.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
        if t == 1:
            assert optimizer.state[param]["mu_product"] == pytest.approx(mu(1), rel=1e-15)
    assert optimizer.state[param]["mu_product"] == pytest.approx(mu(1) * mu(2), rel=1e-15)
    assert round(mu(1), 4) == 0.4501 and mu(1) > 0.45
    assert round(math.log(5) / (0.004 * math.log(1 / 0.96)), 1) == 9856.4
    assert next(t for t in range(1, 100_000) if mu(t) >= 0.9 * 0.9) == 9857
    assert next(t for t in range(1, 100_000) if mu(t) >= 0.95 * 0.9) == 14102


def test_nadam_first_step():
    """Exercise "NAdam's first step": 1.056 alpha, Adam's alpha."""
    mu1, mu2 = mu(1), mu(2)
    assert (round(mu2, 4), round(1 - mu1 * mu2, 4)) == (0.4501, 0.7974)
    formula = 1 + 0.1 * mu2 / (1 - mu1 * mu2)
    assert round(formula, 3) == 1.056
    for g in (3.0, -0.02):
        step = steps_of(NAdam, [g], lr=1.0, eps=0.0)[0]
        assert step == pytest.approx(-math.copysign(formula, g), rel=1e-12)
        assert steps_of(Adam, [g], lr=1.0, eps=0.0)[0] == pytest.approx(-math.copysign(1.0, g), rel=1e-12)


def test_nadam_look_ahead():
    """Exercise "Nesterov's look-ahead in m_bar": the next momentum for a repeated gradient; 1.474 at t = 1."""
    generator = torch.Generator().manual_seed(0)
    beta1 = 0.9
    m_t, g_t = torch.randn(2, 5, dtype=torch.float64, generator=generator)
    m_bar = (1 - beta1) * g_t + beta1 * m_t
    # Adam's get_mv, one more step with the same gradient
    state = {"exp_avg": m_t.clone(), "exp_avg_sq": torch.zeros(5, dtype=torch.float64)}
    m_next, _ = Adam([nn.Parameter(torch.zeros(1))]).get_mv(state, {"betas": (beta1, 0.999)}, g_t)
    torch.testing.assert_close(m_bar, m_next, rtol=0, atol=1e-15)
    weight = (1 - beta1) / (1 - beta1) + beta1 * (1 - beta1) / (1 - beta1**2)
    assert round(weight, 3) == 1.474 and round(beta1 * (1 - beta1) / (1 - beta1**2), 3) == 0.474


# -- mixed_precision.py ---------------------------------------------------------------------------


def test_mixed_precision_weight_first_moves():
    """Exercise "When a bfloat16 weight first moves": 1.0078 at step 4, the next spacing at step 12; never
    without masters."""
    assert (2**-7, 2**-8, 1 + 3 * 2**-8) == (0.0078125, 0.00390625, 1.01171875)
    assert round(2**-7, 4) == 0.0078 and round(2**-8, 4) == 0.0039 and round(1 + 3 * 2**-8, 4) == 1.0117
    one = torch.ones(1, dtype=torch.bfloat16)
    assert (one + 2**-8).item() == 1.0 and (one + 0.004).item() == 1.0078125
    model = nn.Parameter(torch.ones(1, dtype=torch.bfloat16))
    optimizer = MixedPrecisionAdam([model], lr=1e-3)
    history = []
    for _ in range(12):
        optimizer.zero_grad()
        (-model).sum().backward()
        optimizer.step()
        history.append(model.item())
    assert history[:3] == [1.0] * 3 and history[3:11] == [1.0078125] * 8 and history[11] == 1.015625
    master = next(iter(optimizer.model_params.values()))[0]
    assert master.item() == pytest.approx(1.012, abs=1e-5)
    plain = nn.Parameter(torch.ones(1, dtype=torch.bfloat16))
    adam = Adam([plain], lr=1e-3)
    for _ in range(100):
        plain.grad = -torch.ones(1, dtype=torch.bfloat16)
        adam.step()
    assert plain.item() == 1.0


def test_mixed_precision_second_moment_stops_at_one_half():
    """Exercise "The second moment in bfloat16": v stops at 0.5 from step 383 (exact 0.318); a step 1.41 times
    too large."""
    # Multiplying by 0.999 never changes a positive normal bfloat16 number
    every_normal = torch.arange(0x0080, 0x7F80, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)
    assert bool((every_normal.clone().mul_(0.999) == every_normal).all())
    assert (2**-9, 2**-10) == (0.001953125, 0.0009765625) and round(2**-10, 5) == 0.00098
    param = nn.Parameter(torch.ones(1, dtype=torch.bfloat16))
    optimizer = Adam([param], lr=1e-3)
    second_moments = []
    for _ in range(3000):
        param.grad = torch.ones(1, dtype=torch.bfloat16)
        optimizer.step()
        second_moments.append(optimizer.state[param]["exp_avg_sq"].item())
    assert second_moments.index(0.5) + 1 == 383 and set(second_moments[382:]) == {0.5}
    # On the way: about 0.001 a step below 0.25, then 2^-9 a step (the 0.001 rounded up to one spacing)
    rises = [(v, after - v) for v, after in zip(second_moments[:382], second_moments[1:383])]
    below = [rise for v, rise in rises if v < 0.25]
    assert all(0.00097 < rise < 0.0015 for rise in below)
    assert sum(abs(rise - 0.001) < 3e-5 for rise in below) >= 0.95 * len(below)
    assert all(rise == 2**-9 for v, rise in rises if 0.25 <= v < 0.5)
    assert round(1 - 0.999**383, 3) == 0.318 and round(math.sqrt(2), 2) == 1.41
    # The float32 moments of the masters
    model = nn.Parameter(torch.ones(1, dtype=torch.bfloat16))
    masters = MixedPrecisionAdam([model], lr=1e-3)
    for _ in range(383):
        masters.zero_grad()
        model.sum().backward()
        masters.step()
    master = next(iter(masters.model_params.values()))[0]
    assert masters.state[master]["exp_avg_sq"].item() == pytest.approx(1 - 0.999**383, rel=1e-5)


def test_mixed_precision_loss_scale():
    """Exercise "What the loss scale buys"."""
    assert torch.amp.GradScaler("cpu").get_scale() == 2.0**16
    half = torch.float16
    assert torch.tensor(2**-25, dtype=torch.float64).to(half).item() == 0.0
    assert torch.tensor(2**-25 * 1.001, dtype=torch.float64).to(half).item() == 2**-24
    assert torch.tensor(2**-24 * 0.999, dtype=torch.float64).to(half).item() == 2**-24
    assert (f"{2**-24:.2e}", f"{2**-25:.2e}", f"{2**-41:.2e}", f"{2**-14:.2e}") == (
        "5.96e-08",
        "2.98e-08",
        "4.55e-13",
        "6.10e-05",
    )
    assert torch.tensor(1e-9).to(half).item() == 0.0
    scaled = torch.tensor(1e-9 * 2**16).to(half)
    assert f"{scaled.item():.2e}" == "6.56e-05" and scaled.item() > 2**-14
    unscaled = scaled.float() / 2**16
    assert unscaled.dtype == torch.float32 and f"{unscaled.item():.4e}" == "1.0004e-09"
    assert abs(unscaled.item() / 1e-9 - 1) < 2**-11 and round(2**-11, 5) == 0.00049


# -- fused_adam.py --------------------------------------------------------------------------------


class BytesMoved(torch.overrides.TorchFunctionMode):
    """The bytes each tensor operation reads and writes, counting only tensors of `numel` elements."""

    def __init__(self, numel: int):
        super().__init__()
        self.numel = numel
        self.operations: list[tuple[str, int, int]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name.startswith("_"):  # attribute reads (`__get__`) and the profiler's bookkeeping
            return result

        def size(tensor: torch.Tensor) -> int:
            return tensor.numel() * tensor.element_size()

        # A tensor passed twice (`addcmul_(g, g)`) is read once
        inputs = {
            id(a): a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor) and a.numel() == self.numel
        }
        read = sum(size(a) for a in inputs.values())
        written = size(result) if isinstance(result, torch.Tensor) and result.numel() == self.numel else 0
        self.operations.append((name, read, written))
        return result


def bytes_per_parameter(optimized_update: bool) -> tuple[list[tuple[str, int]], float]:
    n = 1000
    param = nn.Parameter(torch.randn(n))
    optimizer = Adam([param], lr=1e-3, optimized_update=optimized_update)
    param.grad = torch.randn(n)
    optimizer.step()
    param.grad = torch.randn(n)
    with BytesMoved(n) as counter:
        optimizer.step()
    per_operation = [(name, (read + written) // n) for name, read, written in counter.operations]
    return per_operation, sum(bytes_ for _, bytes_ in per_operation)


def test_fused_adam_bytes_of_the_per_tensor_loop():
    """Exercise "Counting the bytes of the per-tensor loop": 64 and 72 bytes, 2.29 and 2.57 times 28."""
    operations, total = bytes_per_parameter(optimized_update=True)
    assert operations == [("lerp_", 12), ("mul_", 8), ("addcmul_", 12), ("sqrt", 8), ("add_", 8), ("addcdiv_", 16)]
    assert total == 64
    operations, total = bytes_per_parameter(optimized_update=False)
    assert ("div", 8) in operations and total == 72
    assert (round(64 / 28, 2), round(72 / 28, 2)) == (2.29, 2.57)


def test_fused_adam_scalars_of_the_first_step():
    """Exercise "The eight numbers of the first step"."""
    like = torch.zeros(1, dtype=torch.float64)
    forms = {}
    for optimized in (True, False):
        optimizer = FusedAdam([nn.Parameter(like.clone())], lr=1e-3, optimized_update=optimized, compiled=False)
        scalars = optimizer.step_scalars(optimizer.param_groups[0], 1, like).tolist()
        forms[optimized] = (scalars[5], scalars[7])
    (inv_optimized, step_optimized), (inv_paper, step_paper) = forms[True], forms[False]
    assert inv_optimized == 1.0 and f"{step_optimized:.3e}" == "-3.162e-04"
    assert round(inv_paper, 2) == 31.62 and step_paper == pytest.approx(-0.01, rel=1e-12)
    assert step_optimized / inv_optimized == pytest.approx(step_paper / inv_paper, rel=1e-12)
    assert round(math.sqrt(1 - 0.999), 4) == 0.0316


def test_fused_adam_compilation_break_even_on_b():
    """Exercise "When compiling pays for model (b)": about 3,350 and 14,800 steps; (a)'s 1,600 and 24,000."""
    page = fused_adam.__doc__ or ""
    rows = ("1. labml `Adam`, per tensor |", "`torch.optim.Adam(fused=True)` |", "4. `FusedAdam()`, flat, one pass |")
    table = page[page.index("### Earlier: one step, in blocks") :]
    assert "**The first step** with a fresh compilation cache took 11.7 s" in page

    def cells(row_start: str) -> list[str]:
        line = next(line for line in table.splitlines() if line.startswith("| " + row_start))
        # The cells of (a) and (b), without their bold
        return [re.sub(r"[*]", "", cell).split()[0] for cell in line.split("|")[2:4]]

    per_tensor, torch_fused, ours = (cells(start) for start in rows)
    assert (per_tensor[1], torch_fused[1], ours[1]) == ("3.97", "1.27", "0.48")
    assert (per_tensor[0], torch_fused[0], ours[0]) == ("10.1", "3.41", "2.93")
    compile_ms = 11.7e3
    assert (round(3.97 - 0.48, 2), round(1.27 - 0.48, 2)) == (3.49, 0.79)
    assert (round(compile_ms / 3.49, -1), round(compile_ms / 0.79, -2)) == (3350, 14800)
    assert (round(10.1 - 2.93, 2), round(compile_ms / 7.17, -2), round(compile_ms / 0.48, -3)) == (7.17, 1600, 24000)
    prose = " ".join(page.split())
    assert "won back after about 1,600 steps" in prose and "after about 24,000" in prose


# -- amsgrad_counterexample.py --------------------------------------------------------------------


def moves_per_period(amsgrad: bool, beta1: float, periods: int = 200) -> tuple[float, float, AMSGrad, torch.Tensor]:
    """The last two periods' moves of x with a constant rate 1 and no projection."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = AMSGrad([x], lr=1.0, betas=(beta1, 0.99), eps=1e-8, amsgrad=amsgrad)
    moves = []
    for k in range(periods):
        start = x.item()
        for t in range(k * PERIOD + 1, (k + 1) * PERIOD + 1):
            x.grad = torch.full_like(x, gradient(t))
            optimizer.step()
        moves.append(x.item() - start)
    return moves[-1], moves[-2], optimizer, x


def test_counterexample_amsgrad_move_per_period():
    """Exercise "AMSGrad's move per period": V = 16097, sqrt(V) = 126.9, -0.0788 alpha per period."""
    assert sum(gradient(t) for t in range(1, PERIOD + 1)) == 10
    beta2 = 0.99
    peak = (beta2 * (1 - beta2**100) * 100 + (1 - beta2) * 1010**2) / (1 - beta2**101)
    assert (round(peak), round(math.sqrt(peak), 1), round(-10 / math.sqrt(peak), 4)) == (16097, 126.9, -0.0788)
    for beta1 in (0.9, 0.0):
        last, before, optimizer, x = moves_per_period(True, beta1)
        assert last == pytest.approx(before, rel=1e-9)
        assert last == pytest.approx(-10 / math.sqrt(peak), rel=1e-6)
        assert optimizer.state[x]["max_exp_avg_sq"].item() == pytest.approx(peak, rel=1e-9)


def test_counterexample_adam_move_per_period():
    """Exercise "Adam's move per period": +1.90 alpha with beta1 = 0.9, +2.28 alpha with beta1 = 0."""
    for beta1, expected in ((0.9, 1.90), (0.0, 2.28)):
        last, before, _, _ = moves_per_period(False, beta1)
        assert last == pytest.approx(before, rel=1e-9) and round(last, 2) == expected
