"""The claims of the variance page, on fewer samples than the plot uses."""

import pytest

from labml_nn.optimizers.radam import RAdam
from labml_nn.optimizers.radam_variance import adaptive_rate_variance


def test_adam_rate_variance_falls_and_rectified_rate_is_steady():
    psi_var, rectified_var = adaptive_rate_variance(0.999, steps=60, samples=20_000)
    # Huge at first (psi_1 = 1/|g_1| has infinite variance), then orders of magnitude lower.
    assert psi_var[0] > 1e3 * psi_var[9] and psi_var[9] > 5 * psi_var[59]
    # RAdam's rate only exists from t = 6 on; its variance stays within a factor of about 2
    # (2.08 measured), while Adam's falls by more than a factor of 10^6 over the same steps.
    assert rectified_var[:5] == [None] * 5
    shown = rectified_var[5:]
    assert max(shown) < 2.5 * min(shown)
    # ... and far below Adam's at the same steps.
    assert all(r < p / 10 for r, p in zip(shown, psi_var[5:]))
    # The ratio of the two is exactly $1/r_t^2$, since $r_t$ is not random: 1500 at t = 6, 37.2 at t = 60
    assert psi_var[5] / rectified_var[5] == pytest.approx(1 / RAdam.calc_rectification_term(0.999, 6) ** 2, rel=1e-12)
    assert round(psi_var[5] / rectified_var[5]) == 1500
    assert round(psi_var[59] / rectified_var[59], 1) == 37.2
