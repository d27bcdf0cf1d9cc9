"""Tests of the gradient clipping page: clip_grad_norm and clip_grad_value against torch.nn.utils in float64 (norms
1, 2, 3 and inf, the returned norm, a threshold not reached, non-finite gradients), and every number the page states:
the direction examples, the 10^-6 in the divisor, the order of clipping and unscaling under torch.amp.GradScaler, Adam
and a clipped spike, the three exercises and the demo."""

import math
import runpy

import pytest
import torch
from torch import nn

from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.gradient_clipping import (
    NORM_EPS,
    clip_grad_norm,
    clip_grad_value,
    scaler_step_with_clipping,
    total_norm,
    train_with_clipping,
)

# The unit roundoff of float64
U = 2.0**-53
SHAPES = [(7, 5), (13,), (3, 4, 2), (1,), (20, 6)]


def make_params(seed=0, scale=1.0, dtype=torch.float64, shapes=SHAPES):
    """Parameters with gradients drawn from a fixed seed; the fourth has no gradient (it took no part in the loss)."""
    gen = torch.Generator().manual_seed(seed)
    params = [nn.Parameter(torch.zeros(shape, dtype=dtype)) for shape in shapes]
    for i, p in enumerate(params):
        if i != 3:
            p.grad = (scale * torch.randn(shape := p.shape, generator=gen, dtype=torch.float64)).to(dtype)
            assert p.grad.shape == shape
    return params


def copies(params):
    twin = [nn.Parameter(p.detach().clone()) for p in params]
    for p, q in zip(params, twin):
        q.grad = None if p.grad is None else p.grad.clone()
    return twin


def grads(params):
    return [p.grad for p in params if p.grad is not None]


def angle_degrees(a: torch.Tensor, b: torch.Tensor) -> float:
    cos = (a @ b / (a.norm() * b.norm())).clamp(-1.0, 1.0)
    return math.degrees(math.acos(cos.item()))


# ## Against torch.nn.utils, in float64


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm_matches_torch(norm_type, foreach):
    ours = make_params()
    theirs = copies(ours)
    before = [g.clone() for g in grads(ours)]
    # A threshold a tenth of the norm, so that every gradient is clipped
    max_norm = 0.1 * total_norm(before, norm_type).item()
    norm = clip_grad_norm(ours, max_norm, norm_type, foreach=foreach)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=foreach)
    assert norm.dtype == expected.dtype == torch.float64
    if math.isinf(norm_type):
        # max and abs round nothing, and the factor is then computed from the same number by the same operations
        assert norm == expected
        assert all(torch.equal(a, b) for a, b in zip(grads(ours), grads(theirs)))
        return
    # The bound on the two norms' difference, to first order in the unit roundoff u = 2^-53, for n elements in k
    # tensors (n = 192, k = 4 here). Each |g_i|^p is within 2u of its value (pow within one ulp; abs is exact), and a
    # sum of n non-negative terms, in any order, within (n - 1)u; the 1/p-th power divides a relative error by p and
    # adds 2u. So ours, (sum |g_i|^p)^(1/p) over all elements, is within ((n + 1)/p + 2)u <= (n + 3)u of the norm.
    # PyTorch's norm of each tensor is within (n_j + 3)u; raised to p (p times that, plus 2u), summed over the k
    # tensors (plus (k - 1)u) and taken to the 1/p-th power again (divided by p, plus 2u): within
    # (max n_j + 3)u + ((k + 1)/p + 2)u <= (n + k + 6)u. The difference is at most the sum, (2n + k + 9)u; one more u
    # covers the second-order terms, below (n u)^2 = 1e-27. The 1/p-th power is S^fl(1/p), and fl(1/p) (inexact for
    # p = 3) is within u/p of 1/p, which multiplies S^(1/p) by exp(ln S * u/p) = 1 + |ln N| u: once on our side,
    # |ln N| + max |ln n_j| on PyTorch's (6u to 15u here, against the 400u above). Measured: 1.2u at most
    # between the norms, 3.9u between the clipped gradients (none for p = 1).
    n, k = sum(g.numel() for g in before), len(before)
    logs = abs(math.log(expected.item())) * 2 + max(
        abs(math.log(torch.linalg.vector_norm(g, norm_type))) for g in before
    )
    norm_bound = (2 * n + k + 10 + logs) * U
    assert abs(norm - expected) <= norm_bound * expected
    # The clipped gradients: the factor c / (N + 1e-6) rounds twice (the sum, the division) on each side, so the two
    # factors differ by the norms' relative difference plus 4u; each product rounds once more, 2u for both; one more
    # u for second-order terms.
    grad_bound = norm_bound + 7 * U
    for a, b in zip(grads(ours), grads(theirs)):
        assert ((a - b).abs() <= grad_bound * b.abs()).all()


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_the_returned_norm_is_the_norm_before_clipping(norm_type):
    params = make_params()
    flat = torch.cat([g.flatten() for g in grads(params)])
    exact = torch.linalg.vector_norm(flat, norm_type)
    norm = clip_grad_norm(params, 1e-3, norm_type)
    assert abs(norm - exact) <= (flat.numel() + 3) * 2 * U * exact
    clipped = torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads(params)]), norm_type)
    # after clipping, the norm is c N / (N + 1e-6), to rounding
    assert clipped == pytest.approx(1e-3 * norm.item() / (norm.item() + NORM_EPS), rel=1e-13)


def test_a_norm_below_the_threshold_changes_nothing_bit_for_bit():
    params = make_params()
    before = [g.clone() for g in grads(params)]
    theirs = copies(params)
    norm = clip_grad_norm(params, 1e6)
    torch.nn.utils.clip_grad_norm_(theirs, 1e6)
    assert all(torch.equal(a, b) for a, b in zip(grads(params), before))
    assert all(torch.equal(a, b) for a, b in zip(grads(theirs), before))
    assert norm.item() > 0


def test_clipping_starts_at_one_millionth_below_the_threshold():
    # The page: the factor is below 1 once N > c - 1e-6, so a gradient just under c is still (slightly) shortened
    for clip in (clip_grad_norm, torch.nn.utils.clip_grad_norm_):
        p = nn.Parameter(torch.zeros(2, dtype=torch.float64))
        p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
        clip([p], 5.0 + 0.5e-6)  # N = 5 > c - 1e-6
        assert p.grad.norm().item() < 5.0
        assert p.grad.norm().item() == pytest.approx(5.0 * (5.0 + 0.5e-6) / (5.0 + 1e-6), rel=1e-15)
        p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
        clip([p], 5.0 + 2e-6)  # N = 5 < c - 1e-6: the factor is clamped to exactly 1
        assert torch.equal(p.grad, torch.tensor([3.0, 4.0], dtype=torch.float64))


def test_no_gradients_give_a_norm_of_zero_like_torch():
    params = [nn.Parameter(torch.zeros(3, dtype=torch.float64))]
    assert clip_grad_norm(params, 1.0) == torch.nn.utils.clip_grad_norm_(params, 1.0) == 0.0


def test_a_single_tensor_is_accepted():
    p = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert clip_grad_norm(p, 1.0) == 5.0
    assert torch.allclose(p.grad, torch.tensor([0.6, 0.8], dtype=torch.float64), rtol=1e-6)


def test_a_non_positive_norm_type_is_refused():
    with pytest.raises(ValueError):
        clip_grad_norm(make_params(), 1.0, norm_type=0.0)


# ## Gradients that are not finite


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_gradients_raise_when_asked(bad):
    for clip in (clip_grad_norm, torch.nn.utils.clip_grad_norm_):
        params = make_params()
        params[0].grad[0, 0] = bad
        with pytest.raises(RuntimeError):
            clip(params, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_an_infinite_gradient_zeroes_the_finite_ones_and_is_nan_itself(norm_type):
    ours = make_params()
    ours[0].grad[0, 0] = math.inf
    theirs = copies(ours)
    assert clip_grad_norm(ours, 1.0, norm_type) == torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type) == math.inf
    for a, b in zip(grads(ours), grads(theirs)):
        assert torch.equal(a.isnan(), b.isnan())
        assert torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))
    assert ours[0].grad[0, 0].isnan()
    assert all((g == 0).sum() + g.isnan().sum() == g.numel() for g in grads(ours))
    assert sum(int(g.isnan().sum()) for g in grads(ours)) == 1


def test_a_nan_gradient_makes_every_gradient_nan():
    ours = make_params()
    ours[2].grad[1, 1, 1] = math.nan
    theirs = copies(ours)
    assert clip_grad_norm(ours, 1.0).isnan() and torch.nn.utils.clip_grad_norm_(theirs, 1.0).isnan()
    assert all(g.isnan().all() for g in grads(ours) + grads(theirs))


def test_a_finite_float32_gradient_can_overflow_its_norm_and_be_zeroed():
    # The page: a value above 1.8e19 overflows when squared in float32 (sqrt of float32's largest, 3.4e38)
    assert math.sqrt(torch.finfo(torch.float32).max) == pytest.approx(1.8e19, rel=0.03)
    for clip in (clip_grad_norm, torch.nn.utils.clip_grad_norm_):
        p = nn.Parameter(torch.zeros(2))
        p.grad = torch.tensor([1.9e19, 1.0])
        assert torch.isfinite(p.grad).all()
        assert clip([p], 1.0) == math.inf
        assert torch.equal(p.grad, torch.zeros(2))


# ## Clipping by value


@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_value_matches_torch_bit_for_bit(foreach):
    ours = make_params(scale=3.0)
    ours[0].grad[0, :3] = torch.tensor([math.inf, -math.inf, math.nan], dtype=torch.float64)
    theirs = copies(ours)
    clip_grad_value(ours, 1.5, foreach=foreach)
    torch.nn.utils.clip_grad_value_(theirs, 1.5, foreach=foreach)
    for a, b in zip(grads(ours), grads(theirs)):
        assert torch.equal(a.isnan(), b.isnan()) and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))
    g = ours[0].grad[0]
    assert g[0] == 1.5 and g[1] == -1.5 and g[2].isnan()
    assert all((g.nan_to_num().abs() <= 1.5).all() for g in grads(ours))


def test_value_clipping_bounds_the_norm_only_by_c_root_n():
    p = nn.Parameter(torch.zeros(100, dtype=torch.float64))
    p.grad = torch.full((100,), 7.0, dtype=torch.float64)
    clip_grad_value(p, 1.0)
    assert p.grad.norm().item() == pytest.approx(1.0 * math.sqrt(100), rel=1e-15)


# ## Direction


def test_the_global_norm_keeps_the_direction():
    params = make_params()
    before = torch.cat([g.flatten() for g in grads(params)])
    clip_grad_norm(params, 0.1)
    after = torch.cat([g.flatten() for g in grads(params)])
    assert angle_degrees(before, after) < 1e-5  # acos near 1 loses half the digits: 1e-8 radians is rounding


def test_per_tensor_clipping_turns_the_example_by_33_7_degrees():
    a, b = torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([0.6, 0.8], dtype=torch.float64)
    params = [nn.Parameter(torch.zeros(2, dtype=torch.float64)) for _ in range(2)]
    params[0].grad, params[1].grad = a.clone(), b.clone()
    per_tensor = copies(params)
    norm = clip_grad_norm(params, 1.0)
    # The page: the global norm is sqrt(26) = 5.10 and both are scaled by 0.196
    assert norm.item() == pytest.approx(math.sqrt(26)) and round(norm.item(), 2) == 5.10
    assert round(params[0].grad[0].item() / 3.0, 3) == round(params[1].grad[0].item() / 0.6, 3) == 0.196
    for p in per_tensor:
        clip_grad_norm(p, 1.0)
    # Both become (0.6, 0.8), to the 1e-6 in the divisor
    for p in per_tensor:
        assert torch.allclose(p.grad, b, rtol=1e-6, atol=0.0)
    g = torch.cat([a, b])
    assert round(angle_degrees(g, torch.cat([p.grad for p in params])), 6) == 0.0
    assert round(angle_degrees(g, torch.cat([p.grad for p in per_tensor])), 1) == 33.7
    # b's part was a fifth of a's; now as large
    assert b.norm() / a.norm() == pytest.approx(0.2)
    assert per_tensor[1].grad.norm() / per_tensor[0].grad.norm() == pytest.approx(1.0, rel=1e-6)


# ## Exercise: how far clipping by value turns a gradient


def test_exercise_value_clipping_turns_100_1_by_44_4_degrees():
    g = torch.tensor([100.0, 1.0], dtype=torch.float64)
    by_norm = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    by_norm.grad = g.clone()
    norm = clip_grad_norm(by_norm, 1.0)
    assert f"{norm.item():.3f}" == "100.005" and norm.item() == pytest.approx(math.sqrt(10001))
    assert f"{by_norm.grad[0].item():.5f}" == "0.99995" and f"{by_norm.grad[1].item():.7f}" == "0.0099995"
    # length 1, less 1e-8 (the 1e-6 in the divisor, relative to 100)
    assert 1.0 - by_norm.grad.norm().item() == pytest.approx(1e-8, rel=0.01)
    assert round(angle_degrees(g, by_norm.grad), 6) == 0.0
    by_value = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    by_value.grad = g.clone()
    clip_grad_value(by_value, 1.0)
    assert torch.equal(by_value.grad, torch.tensor([1.0, 1.0], dtype=torch.float64))
    assert round(by_value.grad.norm().item(), 3) == 1.414
    assert round(math.degrees(math.atan2(1.0, 100.0)), 3) == 0.573
    assert round(angle_degrees(g, by_value.grad), 1) == 44.4


# ## Clipping and Adam


def adam_steps(gradient_values, max_norm=None, eps=0.0, scale=1.0):
    """The successive step lengths of a one-element float64 parameter under Adam (betas 0.9, 0.999, rate 1)."""
    p = nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = Adam([p], lr=1.0, eps=eps, optimized_update=False)
    out = []
    for g in gradient_values:
        before = p.item()
        p.grad = torch.tensor([scale * g], dtype=torch.float64)
        if max_norm is not None:
            clip_grad_norm(p, max_norm)
        optimizer.step()
        out.append(abs(p.item() - before))
    return out


def test_adam_ignores_clipping_that_scales_every_step_alike():
    # Gradient norm 5 on every step, clipped at 1: every gradient is multiplied by the same 1 / (5 + 1e-6)
    signs = [1.0 if (t * 7) % 3 else -1.0 for t in range(200)]
    gs = [5.0 * s for s in signs]
    plain, clipped = adam_steps(gs), adam_steps(gs, max_norm=1.0)
    # With eps = 0 the ratio m / sqrt(v) does not see the factor; what is left is rounding (a few ulps of each step;
    # measured 2e-16 relative, the bound allows 200 steps' worth of relative 1e-14)
    assert max(abs(a - b) / a for a, b in zip(plain, clipped)) < 1e-13


def test_adam_on_k_g_with_eps_steps_as_adam_on_g_with_eps_over_k():
    gen = torch.Generator().manual_seed(1)
    gs = torch.randn(300, generator=gen, dtype=torch.float64).tolist()
    k = 1e-3
    scaled = adam_steps(gs, eps=1e-8, scale=k)
    unscaled = adam_steps(gs, eps=1e-8 / k)
    assert max(abs(a - b) / a for a, b in zip(scaled, unscaled)) < 1e-12
    # and eps matters: with the same eps the steps differ
    assert max(abs(a - b) / a for a, b in zip(scaled, adam_steps(gs, eps=1e-8))) > 1e-5


def test_exercise_one_large_gradient_slows_adam_for_thousands_of_steps():
    gs = [1.0] * 100 + [100.0] + [1.0] * 4000
    steps = adam_steps(gs)
    assert all(s == pytest.approx(1.0, rel=1e-12) for s in steps[:100])
    # (1 - beta2) * 100^2 = 10 added to v, which held 1 - beta2^100 = 0.095; memories of 10 and 1000 steps
    assert (1 - 0.999) * 100.0**2 == pytest.approx(10.0)
    assert round(1 - 0.999**100, 3) == 0.095
    assert 1 / (1 - 0.9) == pytest.approx(10) and 1 / (1 - 0.999) == pytest.approx(1000)
    after = steps[101:]
    low = min(range(len(after)), key=after.__getitem__)
    assert round(after[low], 3) == 0.126 and low + 102 == 155
    # the first step, after the minimum, from which the step is back above alpha / 2 and 0.9 alpha
    assert next(t for t in range(low, len(after)) if after[t] >= 0.5) + 102 == 1545
    assert next(t for t in range(low, len(after)) if after[t] >= 0.9) + 102 == 3873
    # Clipped at 2: the spike adds (1 - beta2) * 2^2 = 0.004 to v; the largest step is 1.083 alpha at step 101 and
    # none falls below 0.990 alpha
    clipped = adam_steps(gs, max_norm=2.0)
    assert (1 - 0.999) * 2.0**2 == pytest.approx(0.004)
    assert round(max(clipped), 3) == 1.083 and clipped.index(max(clipped)) + 1 == 101
    assert round(min(clipped[101:]), 3) == 0.990 and min(clipped) >= 0.99


# ## Mixed precision: unscale, then clip


def scaled_sgd_step(clip_first: bool, gradient, max_norm=1.0, lr=0.1, init_scale=2.0**16):
    """One SGD step on a float64 parameter whose true gradient is `gradient`, with a GradScaler on the CPU; returns the
    parameter's change, the norm the clipping returned, the scaler and the optimizer."""
    w = nn.Parameter(torch.zeros(len(gradient), dtype=torch.float64))
    v = torch.tensor(gradient, dtype=torch.float64)
    optimizer = torch.optim.SGD([w], lr=lr)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    loss = (w * v).sum()
    if clip_first:
        # The wrong order: clipping sees S g; `step` unscales afterwards
        scaler.scale(loss).backward()
        norm = clip_grad_norm([w], max_norm)
        scaler.step(optimizer)
        scaler.update()
    else:
        norm = scaler_step_with_clipping(loss, optimizer, scaler, max_norm)
    return w.detach().clone(), norm, scaler, optimizer


def test_torch_amp_grad_scaler_works_on_the_cpu():
    scaler = torch.amp.GradScaler("cpu")
    assert scaler.is_enabled() and scaler.get_scale() == 2.0**16


def test_exercise_clipping_before_unscaling_makes_the_step_65536_times_shorter():
    lr, S = 0.1, 2.0**16
    right, right_norm, _, _ = scaled_sgd_step(False, [0.0, 4.0], lr=lr)
    wrong, wrong_norm, _, _ = scaled_sgd_step(True, [0.0, 4.0], lr=lr)
    # After unscale_: clipping returns the true norm 4, and the step is alpha * 4 / (4 + 1e-6): alpha to 2.5e-7
    assert right_norm.item() == 4.0
    assert right.norm().item() == pytest.approx(lr * 4.0 / (4.0 + 1e-6), rel=1e-15)
    assert 1.0 - right.norm().item() / lr == pytest.approx(2.5e-7, rel=1e-6)
    # Before: it returns 4 * 2^16 = 262144, and the step is alpha / 65536 = 1.53e-5 alpha
    assert wrong_norm.item() == 4.0 * S == 262144.0
    assert wrong.norm().item() == pytest.approx(lr / S * 262144.0 / (262144.0 + 1e-6), rel=1e-15)
    assert f"{wrong.norm().item() / lr:.3g}" == "1.53e-05"
    assert right.norm().item() / wrong.norm().item() == pytest.approx(65536.0, rel=3e-7)
    # Both steps point along the gradient
    assert right[0] == wrong[0] == 0.0


def test_the_threshold_on_the_true_gradient_is_c_over_s_when_clipping_first():
    # A true gradient of norm 1e-3, far below c = 1: the right order leaves it alone, the wrong one clips it to c / S
    lr, S = 0.1, 2.0**16
    right, _, _, _ = scaled_sgd_step(False, [0.0, 1e-3], lr=lr)
    wrong, _, _, _ = scaled_sgd_step(True, [0.0, 1e-3], lr=lr)
    assert right.norm().item() == pytest.approx(lr * 1e-3, rel=1e-15)
    assert wrong.norm().item() == pytest.approx(lr / S, rel=1e-9)
    # and below c / S both orders agree
    right, _, _, _ = scaled_sgd_step(False, [0.0, 1e-6], lr=lr)
    wrong, _, _, _ = scaled_sgd_step(True, [0.0, 1e-6], lr=lr)
    assert 1e-6 < 1.0 / S and torch.equal(right, wrong)


def test_an_overflow_skips_the_step_after_clipping():
    # 1e305 scaled by 2^16 overflows float64 (largest 1.8e308): unscale_ records it and step skips the update
    w, norm, scaler, optimizer = scaled_sgd_step(False, [1.0, 1e305])
    assert norm.item() == math.inf
    assert torch.equal(w, torch.zeros(2, dtype=torch.float64))
    assert scaler.get_scale() == 2.0**15  # halved
    # clipping turned the finite gradient into 0 and the infinite one into NaN, which never reached the parameter
    grad = optimizer.param_groups[0]["params"][0].grad
    assert grad[0] == 0.0 and grad[1].isnan()


# ## The demo


def test_the_demo_clips_12_steps_and_matches_torch():
    _, plain_norms, _ = train_with_clipping(None)
    ours_losses, ours_norms, ours = train_with_clipping(clip_grad_norm)
    theirs_losses, theirs_norms, theirs = train_with_clipping(torch.nn.utils.clip_grad_norm_)
    # The page: 0.33 at the start, more than three times c = 0.1; 12 of the first 16 steps clipped, none after
    assert round(plain_norms[0], 2) == 0.33 and plain_norms[0] > 3 * 0.1
    for norms in (ours_norms, theirs_norms):
        assert sum(n > 0.1 for n in norms[:16]) == 12 and norms[15] > 0.1
        assert all(n <= 0.1 for n in norms[16:])
    # Each run steps on its own gradients, so rounding differences are carried by training: measured 1.7e-13
    diff = max((p - q).abs().max().item() for p, q in zip(ours.parameters(), theirs.parameters()))
    assert diff < 1e-10
    assert ours_losses == pytest.approx(theirs_losses, rel=1e-10)
    # and clipping changed the run
    assert ours_losses[-1] != pytest.approx(train_with_clipping(None)[0][-1], rel=1e-3)


@pytest.mark.filterwarnings("ignore:.*found in sys.modules after import of package:RuntimeWarning")
def test_the_page_runs_as_a_script(capsys):
    runpy.run_module("labml_nn.optimizers.gradient_clipping", run_name="__main__")
    out = capsys.readouterr().out
    assert "steps clipped by clip_grad_norm: 12 of 100" in out
    assert "steps clipped by torch clip_grad_norm_: 12 of 100" in out
    assert "largest |parameter difference| between the two clipped runs" in out
