"""Tests of the NAdam page against torch.optim.NAdam (single-tensor path, foreach=False)."""

import contextlib
import math

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.nadam import NAdam
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    MAX_ABS_STEP,
    OpenLoop,
    compare_trajectories,
    make_data,
    make_model,
    resume_is_bit_identical,
    tolerance,
    train,
)


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """torch.optim.NAdam keeps its product of mu in a tensor of the default dtype; we keep a Python float.
    Comparisons run with the default dtype float64, so that both products are float64 and only the parameter
    dtype differs between the float32 and the float64 runs. (With a float32 product, a float32 run at lr=1e-2
    and weight decay drifts from ours by 1e-8 after 3 steps and the drift grows: the trajectory is sensitive.)"""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def compare_with_torch(ours, theirs, device, dtype, steps=100):
    with default_dtype(torch.float64):
        return compare_trajectories(ours, theirs, device, dtype, steps)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "lr,betas,eps,psi",
    [(2e-3, (0.9, 0.999), 1e-8, 4e-3), (1e-2, (0.8, 0.99), 1e-6, 4e-2), (5e-3, (0.95, 0.9), 1e-3, 0.0)],
)
def test_matches_torch_nadam(device, dtype, lr, betas, eps, psi):
    diff = compare_with_torch(
        lambda p: NAdam(p, lr=lr, betas=betas, eps=eps, momentum_decay=psi),
        lambda p: torch.optim.NAdam(p, lr=lr, betas=betas, eps=eps, momentum_decay=psi, foreach=False),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [True, False])
def test_weight_decay_matches_torch_nadam(device, dtype, decoupled):
    diff = compare_with_torch(
        lambda p: NAdam(p, lr=1e-2, weight_decay=WeightDecay(0.1, weight_decouple=decoupled)),
        lambda p: torch.optim.NAdam(p, lr=1e-2, weight_decay=0.1, decoupled_weight_decay=decoupled, foreach=False),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


def test_float32_product_of_mu_agrees_with_torch_default():
    # With torch's default dtype float32 its product of mu is rounded to float32 every step; ours is not.
    diff = compare_trajectories(
        lambda p: NAdam(p, lr=1e-2), lambda p: torch.optim.NAdam(p, lr=1e-2, foreach=False), "cpu", torch.float64
    )
    # After t roundings torch's $\prod_{i \le t} \mu_i$ is off by at most $t\epsilon_{32}$ relative, which moves the
    # coefficients $1/(1 - \prod \mu)$ of the step by $t\epsilon_{32} \prod\mu / (1 - \prod\mu)$ relative (the
    # product at $t + 1$ enters too, and is smaller). Summed over the steps, each at most `MAX_ABS_STEP`, plus the
    # float64 rounding bound: about $8 \times 10^{-8}$, dominated by the first steps, where $\prod\mu \approx 0.45^t$.
    beta1, psi, product, bound = 0.9, 4e-3, 1.0, tolerance("cpu", torch.float64)
    for t in range(1, 101):
        product *= beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        bound += MAX_ABS_STEP * (t + 1) * torch.finfo(torch.float32).eps * product / (1 - product)
    assert 0 < diff <= bound


def test_is_not_adam():
    # Same betas, eps and lr: the Nesterov mix moves the parameters somewhere else than Adam.
    diff = compare_with_torch(
        lambda p: NAdam(p, lr=1e-2),
        lambda p: torch.optim.Adam(p, lr=1e-2, eps=1e-8, foreach=False),
        "cpu",
        torch.float64,
    )
    assert diff > 1e-3


def test_first_step_by_hand():
    # t = 1: m_1 = (1-b1) g, v_hat = g^2, mu_1 = b1 (1 - 0.5 * 0.96^psi), mu_2 likewise;
    # step = -lr [ (1-mu_1)/(1-mu_1) * g + mu_2 (1-b1) g / (1 - mu_1 mu_2) ] / (|g| + eps)
    b1, b2, lr, psi, eps = 0.9, 0.999, 0.1, 4e-3, 1e-8
    g = torch.tensor([2.0, -0.5], dtype=torch.float64)
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    p.grad = g.clone()
    opt = NAdam([p], lr=lr, betas=(b1, b2), eps=eps, momentum_decay=psi)
    opt.step()
    mu1 = b1 * (1 - 0.5 * 0.96**psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    expected = -lr * (g + mu2 * (1 - b1) * g / (1 - mu1 * mu2)) / (g.abs() + eps)
    assert torch.allclose(p.detach(), expected, rtol=1e-14, atol=0)
    assert opt.state[p]["mu_product"] == pytest.approx(mu1, rel=1e-15)


def test_momentum_schedule_warms_up():
    # mu_t rises from about b1/2 towards b1; the product of mu over 1000 steps is tracked exactly.
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = NAdam([p])
    for _ in range(1000):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
    expected = math.prod(0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3)) for t in range(1, 1001))
    assert opt.state[p]["mu_product"] == pytest.approx(expected, rel=1e-12)
    assert opt.state[p]["step"] == 1000


def test_param_groups_use_their_own_hyper_parameters():
    model = make_model("cpu", torch.float64)
    twin = make_model("cpu", torch.float64)
    x, y = make_data("cpu", torch.float64)
    head = list(model[4].parameters())
    body = [p for m in (model[0], model[2]) for p in m.parameters()]
    opt = NAdam([{"params": body}, {"params": head, "lr": 5e-2, "momentum_decay": 0.1, "betas": (0.5, 0.9)}], lr=1e-2)
    with default_dtype(torch.float64):
        reference = torch.optim.NAdam(
            [
                {"params": [p for m in (twin[0], twin[2]) for p in m.parameters()]},
                {"params": list(twin[4].parameters()), "lr": 5e-2, "momentum_decay": 0.1, "betas": (0.5, 0.9)},
            ],
            lr=1e-2,
            foreach=False,
        )
        # both fed the model's gradients, so the difference is the two optimizers' rounding (see `common.tolerance`)
        train(model, OpenLoop(model, opt, twin, reference), x, y, steps=30)
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=tolerance("cpu", torch.float64, steps=30))


def test_every_hyper_parameter_is_in_the_param_groups():
    group = NAdam([torch.nn.Parameter(torch.zeros(2))]).param_groups[0]
    assert {
        "lr",
        "betas",
        "eps",
        "momentum_decay",
        "weight_decay",
        "weight_decouple",
        "weight_decay_absolute",
        "optimized_update",
    } <= group.keys()
    assert group["optimized_update"] is False


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert resume_is_bit_identical(
        lambda p: NAdam(p, lr=1e-2, weight_decay=WeightDecay(0.01)),
        tmp_path / "nadam.pt",
        scheduler=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15),
    )


def test_scheduler_matches_torch_with_the_same_scheduler():
    with default_dtype(torch.float64):
        model, twin = make_model("cpu", torch.float64), make_model("cpu", torch.float64)
        x, y = make_data("cpu", torch.float64)
        ours = NAdam(model.parameters(), lr=1e-2)
        theirs = torch.optim.NAdam(twin.parameters(), lr=1e-2, foreach=False)
        pair = OpenLoop(model, ours, twin, theirs)
        step_lr = lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.3)
        losses = train(model, pair, x, y, 50, pair.schedulers(step_lr))
    assert ours.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.3**5)
    assert max((p - q).abs().max().item() for p, q in zip(model.parameters(), twin.parameters())) <= tolerance(
        "cpu", torch.float64, steps=50
    )
    assert losses[-1] < losses[0]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(lr=-1.0), "Invalid learning rate"),
        (dict(eps=-1e-8), "Invalid epsilon"),
        (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
        (dict(momentum_decay=-1e-3), "Invalid momentum_decay"),
    ],
)
def test_argument_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NAdam([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_optimized_update_is_refused():
    with pytest.raises(ValueError, match="optimized_update must be False"):
        NAdam([{"params": [torch.nn.Parameter(torch.zeros(2))], "optimized_update": True}])


def test_mu_reaches_95_percent_of_beta1_after_14100_steps():
    # $\mu_t = 0.95\beta_1$ where $0.96^{t\psi} = 0.1$: $t = \ln 0.1 / (\psi \ln 0.96) = 14{,}101$ for $\psi = 0.004$
    mu = lambda t: 0.9 * (1 - 0.5 * 0.96 ** (t * 4e-3))
    assert mu(14_101) < 0.95 * 0.9 < mu(14_102)


def test_constant_mu_weights_add_up_to_more_than_one():
    # With $\mu_t = \beta_1$ (a huge momentum_decay makes $0.96^{t\psi} = 0$), a constant gradient 1, eps = 0 and
    # so $\hat v_t = 1$, the step is $\alpha$ times the sum of the two weights of $\bar m_t$:
    # $(1-\beta_1)/(1-\beta_1^t) + \beta_1(1-\beta_1^t)/(1-\beta_1^{t+1})$, not one.
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = NAdam([p], lr=1.0, eps=0.0, momentum_decay=1e6)
    sums = []
    for _t in range(1, 6):
        before = p.item()
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sums.append(before - p.item())
    assert sums == pytest.approx(
        [0.1 / (1 - 0.9**t) + 0.9 * (1 - 0.9**t) / (1 - 0.9 ** (t + 1)) for t in range(1, 6)], rel=1e-13
    )
    assert [round(sums[t - 1], 3) for t in (1, 2, 5)] == [1.474, 1.157, 1.031]


def test_scheduled_mu_first_step_is_larger_then_smaller_than_adams():
    # The page's ratios of NAdam's step to Adam's on a constant gradient, default hyper-parameters
    # and the same learning rate: $1.056$ at $t = 1$, then $0.784, 0.732, 0.731, 0.746$, and not
    # back to $0.98$ before $t = 30$.
    def steps(make_optimizer, n=30):
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        optimizer, sizes = make_optimizer([p]), []
        for _ in range(n):
            before = p.item()
            p.grad = torch.ones(1, dtype=torch.float64)
            optimizer.step()
            sizes.append(before - p.item())
        return sizes

    with default_dtype(torch.float64):
        adam = steps(lambda p: torch.optim.Adam(p, lr=2e-3, foreach=False))
        for make_nadam in (NAdam, lambda p: torch.optim.NAdam(p, foreach=False)):
            ratios = [ours / theirs for ours, theirs in zip(steps(make_nadam), adam)]
            assert [round(r, 3) for r in ratios[:5]] == [1.056, 0.784, 0.732, 0.731, 0.746]
            assert max(ratios[1:29]) < 0.98 <= ratios[29]
