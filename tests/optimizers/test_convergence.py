"""The convergence primer's numbers (labml_nn/optimizers/convergence.py), each computed here from the page's code
or in float64 from the formula, and found on the page as the page prints it."""

import math

import pytest

from labml_nn.optimizers import convergence
from labml_nn.optimizers.momentum_quadratic import curvatures, theory_rates

PAGE = convergence.__doc__ or ""
SOURCE = open(convergence.__file__, encoding="utf-8").read()


def on_page(text: str) -> bool:
    """The text, with its line breaks as the page happens to wrap it."""
    return " ".join(text.split()) in " ".join(PAGE.split())


def test_linear_rate_of_gradient_descent_on_the_quadratic():
    distance, value = convergence.quadratic_rates()
    assert (round(distance, 6), round(value, 6)) == (0.99, 0.9801)
    assert abs(distance - (1 - 1 / 100)) < 5e-7 and abs(value - (1 - 1 / 100) ** 2) < 5e-7
    early, _ = convergence.quadratic_rates(start=200, end=400)
    assert round(early, 5) == 0.9894 and early < 0.99
    assert round(curvatures(100)[-2].item(), 4) == 0.0127
    assert on_page("shrinks by 0.990000 a step") and on_page("it is 0.98940") and on_page("by 0.980100 a step")
    assert on_page("$h = 0.0127$")


def test_the_convex_quadratic_stays_under_its_1_over_T_bound():
    fractions = convergence.convex_quadratic()
    assert [float(f"{x:.2g}") for x in fractions] == [0.0019, 0.0062, 0.019]
    assert all(0 < x < 1 for x in fractions)
    # The gap falls like 1/sqrt(T): the fraction of a 1/T bound grows by about sqrt(10) a decade.
    assert all(2.5 < b / a < 3.5 for a, b in zip(fractions, fractions[1:]))
    assert on_page("the gap is 0.0019, 0.0062 and 0.019 of the bound")


def test_sgd_on_a_lipschitz_function_stays_under_RG_over_sqrt_T():
    fractions = convergence.sgd_lipschitz()
    assert [round(x, 2) for x in fractions] == [0.25, 0.33, 0.16]
    assert round(1 / max(fractions)) == 3 and round(1 / min(fractions)) == 6
    assert on_page("0.25, 0.33 and 0.16 of the bound") and on_page("a factor of 3 to 6")
    points, minimizer, best = convergence.median_l1_problem()
    assert points.shape == (100, 10)
    # The minimizer: no coordinate step of 1e-6 either way lowers f.
    for i in range(10):
        for step in (-1e-6, 1e-6):
            moved = minimizer.clone()
            moved[i] += step
            assert (
                convergence.l1_objective(points, moved.unsqueeze(0)).item() >= best - 1e-12
            )  # flat between the two middle values: equal up to rounding


def test_online_gradient_descent_regret_grows_like_sqrt_T_under_its_bound():
    fractions = convergence.ogd_regret()
    assert [round(x, 2) for x in fractions] == [0.34, 0.36, 0.31]
    assert all(0.25 < x < 0.4 for x in fractions)  # "about a third"
    assert on_page("is 0.34, 0.36 and 0.31 of the bound $3\\sqrt{T}$")


def test_adam_starts_its_periods_at_plus_one_on_the_counterexample():
    from labml_nn.optimizers.amsgrad_counterexample import PERIOD, gradient, run

    positions = run()
    played = [0.0] + positions["Adam"][:-1]
    # The first point of each of the last 400 periods is +1 ...
    firsts = [played[k * PERIOD] for k in range(100, 500)]
    assert all(x == 1.0 for x in firsts)
    # ... and each such period costs at least 20 more than x = -1.
    for k in range(100, 500):
        period = range(k * PERIOD, (k + 1) * PERIOD)
        cost = sum(gradient(t + 1) * played[t] for t in period)
        assert cost - (-10.0) >= 20.0 - 1e-9
    assert round(20 / 101, 3) == 0.198 and on_page("stays above $20/101 = 0.198$")


def test_exercise_the_quadratic_closest_to_the_bound():
    def fraction(T: int) -> float:
        h = 1 / (2 * T + 1)
        return 0.5 * h * (1 - h) ** (2 * T) / (1 / (2 * T))

    # The maximizer over h of h (1 - h)^(2T) is 1 / (2T + 1): a grid finds no larger value.
    T = 100
    grid = [i / 100_000 for i in range(1, 100_001)]
    assert max(0.5 * h * (1 - h) ** (2 * T) for h in grid) * 2 * T <= fraction(T) + 1e-12
    assert round(fraction(100), 4) == 0.1835 and round(1 / (2 * math.e), 4) == 0.1839
    assert round(fraction(10**7), 4) == 0.1839 and round(2 * math.e, 1) == 5.4
    assert "is 0.1835 for $T = 100$" in SOURCE and "$\\frac{1}{2e} = 0.1839$" in SOURCE and "factor of 5.4" in SOURCE


def test_exercise_steps_to_shrink_a_millionfold():
    assert round(math.log(1e6) / -math.log(0.99), 1) == 1374.6 and math.ceil(math.log(1e6) / -math.log(0.99)) == 1375
    rho_gd, _ = theory_rates(100)
    assert round(rho_gd, 4) == 0.9802 and math.ceil(math.log(1e6) / -math.log(rho_gd)) == 691
    distances, _ = convergence.gd_quadratic(curvatures(100), 1400, lr=1.0)
    # On the page's quadratic (not only its slowest coordinate), 1/L needs at most the worst case's 1375 steps.
    assert next(t for t, d in enumerate(distances) if d <= distances[0] / 1e6) <= 1375
    assert "1374.6$: 1375 steps" in SOURCE and "and 691 steps" in SOURCE


def test_exercise_from_regret_to_a_rate():
    assert 1.5 * 2 * 1 / math.sqrt(1e4) == pytest.approx(0.03)
    assert "3/100 = 0.03" in SOURCE


def test_exercise_adams_period():
    assert 1010 - 10 * 100 == 10 and -1010 + 1000 == -10 and round(20 / 101, 3) == 0.198
    assert "at least $20/101 = 0.198$ a step" in SOURCE
