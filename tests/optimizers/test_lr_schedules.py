"""The schedules page plots the optimizers' own rates; check the points it draws."""
import pytest

from labml_nn.optimizers.lr_schedules import cosine_rates, noam_rates, unclipped_cosine


def test_noam_peaks_at_warmup():
    r = noam_rates(4000, 512, 8000)
    assert max(range(len(r)), key=r.__getitem__) + 1 == 4000
    assert r[3999] == pytest.approx((512 * 4000) ** -0.5, rel=1e-14)


def test_cosine_holds_its_floor_where_the_unclipped_formula_climbs_back():
    ours, unclipped = cosine_rates(200, 600, 1000), unclipped_cosine(200, 600, 1000)
    assert ours[:600] == pytest.approx(unclipped[:600], abs=1e-15)
    assert ours[600:] == [0.0] * 400
    assert unclipped[999] == pytest.approx(1.0)  # t = 2T - w = 1000
