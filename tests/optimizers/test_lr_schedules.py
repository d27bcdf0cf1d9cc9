"""The schedules page plots the optimizers' own rates; check the points it draws."""

import pytest

from labml_nn.optimizers.lr_schedules import cosine_rates, labml_cosine, noam_rates


def test_noam_peaks_at_warmup():
    r = noam_rates(4000, 512, 8000)
    assert max(range(len(r)), key=r.__getitem__) + 1 == 4000
    assert r[3999] == pytest.approx((512 * 4000) ** -0.5, rel=1e-14)


def test_cosine_goes_to_zero_where_labml_floors_at_a_tenth_and_climbs_back():
    ours, labml = cosine_rates(200, 600, 1000), labml_cosine(200, 600, 1000)
    # the same cosine while it is above 0.1: up to p = arccos(-0.8) / pi = 0.795, t = 200 + 0.795 * 400 = 518
    assert ours[:518] == pytest.approx(labml[:518], abs=1e-15)
    assert ours[518] < 0.1 and labml[518] == 0.1
    # nn.labml.ai's floor is 0.1 and it stays there from t = 519 to t = 681 (p = 1.205) ...
    assert min(labml[199:]) == 0.1 and labml[518:681] == [0.1] * 163 and labml[681] > 0.1
    # ... then climbs back to 1 at t = 2T - w = 1000; ours reaches 0 at T = 600 and holds there
    assert labml[999] == pytest.approx(1.0)
    assert ours[599:] == [0.0] * 401
