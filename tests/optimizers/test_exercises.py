"""The exercises' numeric answers, computed here from the pages' code or in float64 from the formula.

Each test names the page and the exercise whose answer it checks; a number the answer prints is
compared with what this file computes, at the precision the answer gives it.
"""

import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adagrad import Adagrad
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.adam_warmup import AdamWarmup
from labml_nn.optimizers.adamw import AdamW
from labml_nn.optimizers.momentum_quadratic import theory_rates
from labml_nn.optimizers.muon import NS_BAND, NS_COEFFICIENTS
from labml_nn.optimizers.noam import Noam
from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.radam_variance import adaptive_rate_variance
from labml_nn.optimizers.rmsprop import RMSProp
from labml_nn.optimizers.sgd import SGD
from tests.optimizers.common import steps_of

# -- adam.py --------------------------------------------------------------------------------------


def test_adam_geometric_gradients_reach_7_27_alpha():
    """Exercise "The bound that geometric gradients reach": the limit, and Adam itself approaching it."""
    beta1, beta2 = 0.9, 0.999
    r = beta1**2 / beta2
    paper, factor = (1 - beta1) / math.sqrt(1 - beta2), 1 / math.sqrt(1 - r)
    assert (round(paper, 3), round(factor, 3), round(paper * factor, 2)) == (3.162, 2.299, 7.27)
    # Zeros (which stand for gradients too small for float64), then 3000 steps of growth by beta2 / beta1
    # ending at 1; the long run lets the bias corrections reach 1. A tiny eps makes the zeros' 0/0 a 0.
    growth = [(beta2 / beta1) ** (t - 3000) for t in range(1, 3001)]
    steps = steps_of(Adam, [0.0] * 7000 + growth, lr=1.0, eps=1e-300, optimized_update=False)
    assert abs(steps[-1]) == pytest.approx(7.27, abs=5e-3)


def test_adam_one_gradient_after_zeros_is_3_16_alpha():
    """Exercise "One gradient after a long silence"."""
    steps = steps_of(Adam, [0.0] * 20000 + [1.0], lr=1.0, eps=1e-300, optimized_update=False)
    assert round(abs(steps[-1]), 2) == 3.16


def test_adam_optimized_update_eps_is_31_6_times_on_step_one():
    """Exercise "What `optimized_update` does to $\\epsilon$ on the first step": the two forms agree on step 1."""
    eps_hat = 0.5  # large, so that the choice of eps shows in the step
    assert round(1 / math.sqrt(1 - 0.999), 1) == 31.6
    optimized = steps_of(Adam, [0.3], lr=1.0, eps=eps_hat, optimized_update=True)
    textbook = steps_of(Adam, [0.3], lr=1.0, eps=eps_hat / math.sqrt(1 - 0.999), optimized_update=False)
    assert optimized == pytest.approx(textbook, rel=1e-12)


# -- amsgrad.py -----------------------------------------------------------------------------------


def test_amsgrad_corrected_step_grows_towards_31_6():
    """Exercises "How far the corrected step can grow" and "Half of the way"."""
    beta2 = 0.999
    growth = [math.sqrt((1 - beta2**t) / (1 - beta2)) for t in (1, 100_000)]
    assert growth[0] == pytest.approx(1.0) and round(growth[1], 1) == 31.6
    half = math.log(4 / 3) / math.log(1 / beta2)
    assert round(half, 1) == 287.5 and math.ceil(half) == 288
    assert math.sqrt(1 - beta2**288) >= 0.5 > math.sqrt(1 - beta2**287)


# -- momentum_quadratic.py --------------------------------------------------------------------------


def test_momentum_speed_up_for_kappa_1000():
    """Exercise "The speed-up for $\\kappa = 1000$", from the page's `theory_rates`."""
    rho_gd, rho_hb = theory_rates(1000)
    assert (round(rho_gd, 6), round(rho_hb, 6)) == (0.998002, 0.938693)
    assert round(math.log(rho_hb) / math.log(rho_gd), 2) == 31.63 and round(math.sqrt(1000), 2) == 31.62
    assert round(math.log(1e6) / -math.log(rho_gd)) == 6908 and round(math.log(1e6) / -math.log(rho_hb)) == 218


# -- schedule_free.py -----------------------------------------------------------------------------


def test_schedule_free_y_update_and_average_weight():
    """Exercises "Derive the update of $y$" (checked on random numbers) and "The weights of the average"."""
    generator = torch.Generator().manual_seed(0)
    y, z, u = torch.randn(3, 5, dtype=torch.float64, generator=generator)
    beta1, c, gamma = 0.9, 0.3, 0.01
    x = (y - (1 - beta1) * z) / beta1
    z_next = z - gamma * u
    x_next = (1 - c) * x + c * z_next
    direct = (1 - beta1) * z_next + beta1 * x_next
    derived = (1 - c) * y + c * z - gamma * (1 - beta1 * (1 - c)) * u
    torch.testing.assert_close(derived, direct, rtol=0, atol=1e-15)
    # r = 0, p = 2, warm-up w = 4: the running maxima of gamma_t at t = 1, 2 are 1/4 and 1/2.
    weights = [min(1.0, t / 4) ** 2 for t in (1, 2)]
    assert weights[1] / sum(weights) == pytest.approx(0.8)


# -- muon.py --------------------------------------------------------------------------------------


def p(sigma: float) -> float:
    a, b, c = NS_COEFFICIENTS
    return a * sigma + b * sigma**3 + c * sigma**5


def test_muon_band_maps_into_itself():
    """Exercise "Why the band maps into itself": the critical points, the values at the band's ends, and
    every point of a fine grid of the band mapped inside it."""
    a, b, c = NS_COEFFICIENTS
    # p'(s) = a + 3b s^2 + 5c s^4 = 0, a quadratic in s^2
    disc = math.sqrt((3 * b) ** 2 - 4 * 5 * c * a)
    critical = sorted(math.sqrt((-3 * b + sign * disc) / (2 * 5 * c)) for sign in (-1, 1))
    assert (round(critical[0], 4), round(critical[1], 3)) == (0.5545, 1.050)
    assert (round(p(critical[0]), 4), round(p(critical[1]), 4)) == NS_BAND[::-1]
    low, high = NS_BAND
    assert (round(p(low), 3), round(p(high), 3)) == (1.134, 0.947)
    grid = torch.linspace(low, high, 100_001, dtype=torch.float64)
    a, b, c = NS_COEFFICIENTS
    mapped = a * grid + b * grid**3 + c * grid**5
    assert float(mapped.min()) >= low - 1e-4 and float(mapped.max()) <= high


def test_muon_small_singular_value_after_five_steps():
    """Exercise "The cubic's slow start"."""
    cubic, quintic = 0.01, 0.01
    for _ in range(5):
        cubic = 1.5 * cubic - 0.5 * cubic**3
        quintic = p(quintic)
    assert (round(cubic, 4), round(quintic, 3)) == (0.0758, 0.699)
    assert round(0.01 * NS_COEFFICIENTS[0] ** 5, 2) == 4.85


# -- radam.py and radam_variance.py --------------------------------------------------------------


def rectification(beta2: float, step: int) -> float:
    rho_inf, rho = RAdam.rho(beta2, step)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def test_radam_first_adaptive_step_is_6():
    """Exercises "When rectification switches on" and "The rectification on the first adaptive step",
    from the page's `RAdam.rho`."""
    rho_inf, rho5 = RAdam.rho(0.999, 5)
    rho6 = RAdam.rho(0.999, 6)[1]
    assert (round(rho_inf), round(rho5, 3), round(rho6, 3)) == (1999, 4.996, 5.994)
    first = next(t for t in range(1, 100) if RAdam.rho(0.999, t)[1] > 5)
    assert first == 6 and next(t for t in range(1, 100) if RAdam.rho(0.999, t)[1] > 4) == 5
    assert round(rectification(0.999, 6), 4) == 0.0258


def test_radam_variance_half_of_rho_infinity():
    """Exercise "The length of the average" (radam_variance.py)."""
    for beta2, rho_inf, half in ((0.99, 199, 126), (0.999, 1999, 1256)):
        assert round(RAdam.rho(beta2, 1)[0]) == rho_inf
        assert next(t for t in range(1, 10_000) if RAdam.rho(beta2, t)[1] >= rho_inf / 2) == half
        assert round(half * (1 - beta2), 2) == 1.26


def test_radam_variance_rho_t_from_the_centre_of_mass():
    """Exercise "Where $\\rho_t$ comes from" (radam_variance.py): the mean age of Adam's weights, summed in
    float64, against its closed form and against `RAdam.rho`."""
    for beta2 in (0.99, 0.999):
        for t in (1, 2, 6, 100, 1256, 50_000):
            k = torch.arange(t, dtype=torch.float64)
            weights = (1 - beta2) * beta2**k / (1 - beta2**t)
            assert float(weights.sum()) == pytest.approx(1, rel=1e-12)
            age = float((k * weights).sum())
            assert age == pytest.approx(beta2 / (1 - beta2) - t * beta2**t / (1 - beta2**t), rel=1e-9, abs=1e-12)
            assert 2 * age + 1 == pytest.approx(RAdam.rho(beta2, t)[1], rel=1e-9)
    assert round(0.999 / (1 - 0.999), 6) == 999 and round(RAdam.rho(0.999, 1)[0], 6) == 2 * 999 + 1


def test_radam_variance_level_of_the_rectified_curves():
    """Exercise "The level of the dashed curves" (radam_variance.py): r_t from the first-order variances, the
    level, the page's measurement at t = 100, and the effective number of squares against rho_100."""

    def first_order(rho: float) -> float:
        return rho / (2 * (rho - 2) * (rho - 4))

    predicted, measured = {}, {}
    for beta2 in (0.99, 0.999):
        rho_inf = RAdam.rho(beta2, 1)[0]
        for t in (6, 50, 100, 3000):
            rho = RAdam.rho(beta2, t)[1]
            ratio = first_order(rho_inf) / first_order(rho)
            assert math.sqrt(ratio) == pytest.approx(RAdam.calc_rectification_term(beta2, t), rel=1e-12)
        predicted[beta2] = first_order(rho_inf)
        assert predicted[beta2] == pytest.approx(1 / (2 * rho_inf), rel=0.05)
        measured[beta2] = adaptive_rate_variance(beta2, steps=100, samples=20_000)[1][99]
    assert (f"{predicted[0.999]:.2e}", f"{predicted[0.99]:.2e}") == ("2.51e-04", "2.59e-03")
    assert (f"{measured[0.999]:.2e}", f"{measured[0.99]:.2e}") == ("2.46e-04", "2.30e-03")
    below = [round(100 * (1 - measured[b] / predicted[b])) for b in (0.999, 0.99)]
    assert below == [2, 11]
    # (sum w)^2 / sum w^2 of Adam's weights, against rho_t, at t = 100 and (nearly) in the limit
    for beta2, t, effective, rho in ((0.999, 100, 99.9, 98.3), (0.99, 100, 92.4, 83.5)):
        k = torch.arange(t, dtype=torch.float64)
        weights = beta2**k / (beta2**k).sum()
        assert round(float(1 / (weights**2).sum()), 1) == effective and round(RAdam.rho(beta2, t)[1], 1) == rho
    for beta2 in (0.99, 0.999):
        k = torch.arange(100_000, dtype=torch.float64)
        weights = beta2**k / (beta2**k).sum()
        rho_inf = RAdam.rho(beta2, 1)[0]
        assert float(1 / (weights**2).sum()) == pytest.approx((1 + beta2) / (1 - beta2), rel=1e-9)
        assert (1 + beta2) / (1 - beta2) == pytest.approx(rho_inf, rel=1e-12)


# -- adamw.py, adagrad.py, rmsprop.py, sgd.py -----------------------------------------------------


def test_adamw_decay_halves_a_weight_in_69315_steps():
    """Exercise "How fast decay alone shrinks a weight": the formula, and AdamW on a zero gradient."""
    steps = math.log(2) / -math.log(1 - 1e-3 * 1e-2)
    assert math.ceil(steps) == 69315
    param = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    optimizer = AdamW([param], lr=1e-3, weight_decay=1e-2)
    for _ in range(1000):
        param.grad = torch.zeros(1, dtype=torch.float64)
        optimizer.step()
    assert param.item() == pytest.approx((1 - 1e-5) ** 1000, rel=1e-12)


def rest_point(optimizer_class, g: float, lr: float, steps: int, **kwargs) -> float:
    """Where a one-element float64 parameter, started at 5, is after `steps` steps of the constant gradient `g`."""
    param = torch.nn.Parameter(torch.tensor([5.0], dtype=torch.float64))
    optimizer = optimizer_class([param], lr=lr, **kwargs)
    for _ in range(steps):
        param.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
    return param.item()


def test_adamw_rests_at_minus_one_over_lambda_adam_l2_at_minus_g_over_lambda():
    """Exercise "Where a constant gradient and the decay balance": AdamW at -1/lambda for any g and rate, Adam
    with L2 decay at -g/lambda."""
    for g in (0.5, 5.0):
        for lr in (1.0, 0.5):
            assert rest_point(AdamW, g, lr, 6000, weight_decay=1e-2) == pytest.approx(-100, rel=1e-9)
    l2 = WeightDecay(1e-2, weight_decouple=False)
    assert round(rest_point(Adam, 0.5, 0.01, 20_000, weight_decay=l2)) == -50
    assert round(rest_point(Adam, 5.0, 0.1, 20_000, weight_decay=l2)) == -500


def test_adamw_cosine_schedule_leaves_0_607_of_a_weight():
    """Exercise "The decay under a cosine schedule": the product in float64 for T = 100,000, and AdamW under
    `CosineAnnealingLR` multiplying by exactly that product (on T = 1000 steps)."""
    alpha, lam, total = 1e-3, 1e-2, 100_000
    assert round((1 - alpha * lam) ** total, 3) == 0.368
    t = torch.arange(1, total + 1, dtype=torch.float64)
    rates = alpha / 2 * (1 + torch.cos(math.pi * (t - 1) / total))
    assert float(rates.sum()) == pytest.approx(alpha * (total + 1) / 2, rel=1e-12)
    assert round(float(torch.prod(1 - rates * lam)), 3) == 0.607
    assert round(math.exp(-0.5), 3) == 0.607
    # The page's AdamW under the scheduler: a zero-gradient weight shrinks by the same product
    total = 1000
    param = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    optimizer = AdamW([param], lr=alpha, weight_decay=lam)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    expected = 1.0
    for t in range(1, total + 1):
        expected *= 1 - alpha / 2 * (1 + math.cos(math.pi * (t - 1) / total)) * lam
        param.grad = torch.zeros(1, dtype=torch.float64)
        optimizer.step()
        scheduler.step()
    assert param.item() == pytest.approx(expected, rel=1e-12)


def test_adagrad_step_falls_as_one_over_root_t():
    """Exercise "The step under a constant gradient"."""
    steps = steps_of(Adagrad, [2.0] * 100, lr=0.1, eps=0.0)
    assert steps[-1] / steps[0] == pytest.approx(0.1, rel=1e-12)


def test_adagrad_lr_decay_limits_the_distance_to_30_1_alpha():
    """Exercise "How far `lr_decay` lets a weight travel": the page's Adagrad on the first steps, then the
    whole sum (to 10^6 steps, and the integral of the tail beyond)."""
    delta, n = 0.01, 1_000_000
    steps = steps_of(Adagrad, [1.0] * 2000, lr=1.0, lr_decay=delta, eps=0.0)
    sizes = [1 / ((1 + (t - 1) * delta) * math.sqrt(t)) for t in range(1, 2001)]
    assert [-s for s in steps] == pytest.approx(sizes, rel=1e-12)
    t = torch.arange(1, n + 1, dtype=torch.float64)
    head = float((1 / ((1 + (t - 1) * delta) * t.sqrt())).sum())
    # Beyond n: the integral of 1/((a + delta t) sqrt t) from n to infinity, with a = 1 - delta, less half the
    # last term (Euler-Maclaurin); the tail is about 0.2, and its error far below the printed precision.
    a = 1 - delta
    last = 1 / ((1 + (n - 1) * delta) * math.sqrt(n))
    tail = 2 / math.sqrt(a * delta) * (math.pi / 2 - math.atan(math.sqrt(n * delta / a))) - last / 2
    assert 0.1 < tail < 0.3
    assert round(head + tail, 1) == 30.1 and round(math.pi / math.sqrt(delta), 1) == 31.4


def test_adagrad_rare_gradient_ten_times_larger_moves_the_same():
    """Exercise "A rare feature with larger gradients": `dense_and_rare`'s setting with the rare gradient 10."""
    alpha, steps, every = 0.1, 10_000, 100
    moved = {}
    for name, make in (("adagrad", lambda p: Adagrad(p, lr=alpha)), ("sgd", lambda p: torch.optim.SGD(p, lr=alpha))):
        for rare in (1.0, 10.0):
            theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
            optimizer = make([theta])
            for t in range(1, steps + 1):
                theta.grad = torch.tensor([1.0, rare if t % every == 0 else 0.0], dtype=torch.float64)
                optimizer.step()
            moved[name, rare] = (-theta.detach()).tolist()
    assert moved["sgd", 10.0] == pytest.approx([1000, 100], rel=1e-9)
    assert moved["sgd", 1.0] == pytest.approx([1000, 10], rel=1e-9)
    assert moved["adagrad", 10.0] == pytest.approx(moved["adagrad", 1.0], rel=1e-9)
    frequent, rare_moved = moved["adagrad", 10.0]
    assert round(frequent, 2) == 19.85 and round(rare_moved, 3) == 1.859
    assert frequent == pytest.approx(alpha * sum(1 / math.sqrt(t) for t in range(1, steps + 1)), rel=1e-9)
    assert rare_moved == pytest.approx(alpha * sum(1 / math.sqrt(k) for k in range(1, 101)), rel=1e-9)
    assert round(frequent / rare_moved, 1) == 10.7


def test_rmsprop_zero_start_lasts_230_steps():
    """Exercise "How long the zero start lasts"."""
    assert round(math.log(10) / math.log(1 / 0.99), 1) == 229.1
    steps = steps_of(RMSProp, [1.0] * 230, lr=1.0, alpha=0.99, eps=0.0)
    assert (round(abs(steps[0]), 6), round(abs(steps[-1]), 3)) == (10.0, 1.054)


def test_rmsprop_centered_constant_gradient_steps():
    """Exercise "Centered RMSProp under a constant gradient"."""
    beta = 0.99
    steps = steps_of(RMSProp, [1.0] * 1000, lr=1.0, alpha=beta, eps=0.0, centered=True)
    closed = [-1 / math.sqrt(beta**t * (1 - beta**t)) for t in range(1, 1001)]
    assert steps == pytest.approx(closed, rel=1e-9)
    sizes = [abs(s) for s in steps]
    smallest = sizes.index(min(sizes)) + 1
    assert (round(sizes[0], 2), smallest, round(sizes[smallest - 1], 3), round(sizes[-1], 1)) == (10.05, 69, 2.0, 152.2)
    assert round(math.log(2) / math.log(1 / beta)) == 69


def test_rmsprop_forgets_a_larger_gradient_after_808_steps():
    """Exercise "How long RMSProp remembers a larger gradient", and Adagrad after the same gradients."""
    beta = 0.99
    steps = steps_of(RMSProp, [1.0] * 3000 + [0.01] * 2000, lr=1.0, alpha=beta, eps=0.0)[3000:]
    sizes = [abs(s) for s in steps]
    assert round(sizes[0], 5) == 0.01005
    assert sizes.index(next(s for s in sizes if s >= 0.5)) + 1 == 808
    assert round(math.log((1 - 1e-4) / 3e-4) / math.log(1 / beta), 1) == 807.1
    adagrad = steps_of(Adagrad, [1.0] * 3000 + [0.01] * 2000, lr=1.0, eps=0.0)[3000:]
    bound = 0.01 / math.sqrt(3000)
    assert f"{bound:.1e}" == "1.8e-04" and max(abs(s) for s in adagrad) < bound


def test_sgd_momentum_step_settles_at_ten_times():
    """Exercise "Momentum's effective step"."""
    steps = steps_of(SGD, [1.0] * 500, lr=0.1, momentum=0.9)
    assert steps[0] == pytest.approx(-0.1) and steps[-1] == pytest.approx(-1.0, rel=1e-12)


def test_sgd_alternating_gradient_step_is_1_19th_of_the_constant_one():
    """Exercise "Momentum on a gradient that flips sign": the closed form of $b_t$ and `SGD`'s steps."""
    mu, alpha = 0.9, 0.1
    steps = steps_of(SGD, [(-1.0) ** (t - 1) for t in range(1, 501)], lr=alpha, momentum=mu)
    closed = [-alpha * (-1.0) ** (t - 1) * (1 - (-mu) ** t) / (1 + mu) for t in range(1, 501)]
    assert steps == pytest.approx(closed, rel=1e-9, abs=1e-15)
    assert (round(1 / (1 + mu), 3), round(abs(steps[-1]), 4), round((1 + mu) / (1 - mu), 10)) == (0.526, 0.0526, 19)
    constant = steps_of(SGD, [1.0] * 500, lr=alpha, momentum=mu)
    assert round(abs(constant[-1]), 1) == 1.0 and constant[-1] / abs(steps[-1]) == pytest.approx(-19, rel=1e-9)


def test_sgd_halving_the_rate_polyak_travels_4_5_further():
    """Exercise "Halving the rate in mid-run": `SGD` with the rate changed in its group, against Polyak's form."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    ours = []
    for t in range(1, 1501):
        if t == 501:
            optimizer.param_groups[0]["lr"] = 0.05
        before = param.item()
        param.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
        ours.append(param.item() - before)
    assert ours[499] == pytest.approx(-1.0, rel=1e-12)
    assert ours[500:] == pytest.approx([-0.5] * 1000, rel=1e-12)
    # Polyak's form, run from the same start: theta_t - theta_{t-1} = -alpha g + mu (theta_{t-1} - theta_{t-2})
    polyak, last = [], 0.0
    for t in range(1, 1501):
        last = -(0.1 if t <= 500 else 0.05) + 0.9 * last
        polyak.append(last)
    after = polyak[500:]
    assert round(after[0], 10) == -0.95
    assert after == pytest.approx([-(0.5 + 0.45 * 0.9 ** (k - 1)) for k in range(1, 1001)], rel=1e-12)
    assert round(sum(ours[500:]) - sum(after), 10) == 4.5


# -- noam.py and adam_warmup.py ------------------------------------------------------------------


def rate_at(optimizer, step: int) -> float:
    group = optimizer.param_groups[0]
    return optimizer.get_lr({"step": step}, group)


def test_noam_peaks_at_the_warm_up():
    """Exercise "Where the schedule peaks", from `Noam.get_lr`."""
    noam = Noam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, warmup=4000, d_model=512)
    rates = [rate_at(noam, t) for t in range(1, 10_001)]
    assert rates.index(max(rates)) + 1 == 4000
    assert f"{max(rates):.2e}" == "6.99e-04"


def test_noam_rate_halves_at_4w_and_ends_at_1_40e_4():
    """Exercise "The rate at the end of training", from `Noam.get_lr`."""
    noam = Noam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, warmup=4000, d_model=512)
    peak = rate_at(noam, 4000)
    assert rate_at(noam, 16_000) == pytest.approx(peak / 2, rel=1e-12)
    assert all(rate_at(noam, t) > peak / 2 for t in range(4000, 16_000))
    last = rate_at(noam, 100_000)
    assert last / peak == pytest.approx(0.2, rel=1e-12) and f"{last:.2e}" == "1.40e-04"


def test_noam_without_warm_up_starts_63_times_higher():
    """Exercise "What `warmup=0` does to the first step", from `Noam.get_lr`."""
    noam = Noam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, warmup=4000, d_model=512)
    none = Noam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, warmup=0, d_model=512)
    first = rate_at(none, 1)
    assert round(first, 4) == 0.0442 and round(first / rate_at(noam, 4000), 1) == 63.2
    assert f"{rate_at(noam, 1):.2e}" == "1.75e-07"
    assert all(rate_at(none, t) == rate_at(noam, t) for t in range(4000, 10_001))
    assert all(rate_at(none, t) > rate_at(noam, t) for t in range(1, 4000))


def test_warm_up_rate_at_half_and_first_step():
    """Exercise "The rate at half the warm-up", from `AdamWarmup.get_lr`."""
    warmup = AdamWarmup([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, warmup=1000)
    assert rate_at(warmup, 500) == pytest.approx(5e-4) and rate_at(warmup, 1) == pytest.approx(1e-6)


def test_warm_up_lags_by_0_4995_under_a_constant_gradient():
    """Exercise "What the warm-up costs under a constant gradient", on `AdamWarmup` in float64."""
    alpha, w = 1e-3, 1000
    warm = steps_of(AdamWarmup, [1.0] * 1500, lr=alpha, warmup=w)
    cold = steps_of(AdamWarmup, [1.0] * 1500, lr=alpha, warmup=0)
    assert warm == pytest.approx([-alpha * min(1, t / w) for t in range(1, 1501)], rel=1e-12)
    assert round(sum(warm[:w]) - sum(cold[:w]), 10) == 0.4995 and round(alpha * (w - 1) / 2, 10) == 0.4995
    assert sum(warm) - sum(cold) == pytest.approx(sum(warm[:w]) - sum(cold[:w]), rel=1e-12)


def test_warm_up_from_lambda_lr():
    """Exercise "The same warm-up from a scheduler": `LambdaLR` with (s + 1) / w reproduces `AdamWarmup`;
    with s / w the first step stands still and the rate lags by one step."""
    alpha, w, steps = 1e-2, 10, 30
    gradients = torch.randn(steps, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def run(make_optimizer, schedule=None):
        param = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
        optimizer = make_optimizer([param])
        scheduler = None if schedule is None else torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        path, rates = [], []
        for g in gradients:
            rates.append(optimizer.param_groups[0]["lr"])
            param.grad = g.clone()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            path.append(param.detach().clone())
        return torch.stack(path), rates

    ours, _ = run(lambda p: AdamWarmup(p, lr=alpha, eps=1e-8, optimized_update=False, warmup=w))
    torch_adam = lambda p: torch.optim.Adam(p, lr=alpha, eps=1e-8, foreach=False)
    matched, _ = run(torch_adam, lambda s: min(1.0, (s + 1) / w))
    torch.testing.assert_close(matched, ours, rtol=1e-12, atol=1e-15)
    shifted, rates = run(torch_adam, lambda s: min(1.0, s / w))
    assert torch.equal(shifted[0], torch.ones(3, dtype=torch.float64))
    assert rates == pytest.approx([alpha * min(1, (t - 1) / w) for t in range(1, steps + 1)], rel=1e-12)
    assert rates.index(alpha) + 1 == w + 1
