"""AMSGrad against `torch.optim.Adam(amsgrad=True)`, and the checks every optimizer of the chapter gets."""

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.amsgrad import AMSGrad
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    OpenLoop,
    assert_resumes_identically,
    compare_trajectories,
    make_data,
    make_model,
    max_param_diff,
    tolerance,
    train,
)

LR = 1e-2
EPS = 1e-8

# (our weight decay, torch class, torch keyword arguments)
DECAYS = {
    "none": (WeightDecay(), torch.optim.Adam, {}),
    "l2": (WeightDecay(0.1, weight_decouple=False), torch.optim.Adam, {"weight_decay": 0.1}),
    "decoupled": (WeightDecay(0.1), torch.optim.AdamW, {"weight_decay": 0.1}),
}


def ours(amsgrad=True, weight_decay=WeightDecay(), **kw):
    # `optimized_update=False` puts eps where torch puts it (see the Adam page).
    return lambda p: AMSGrad(
        p, lr=LR, eps=EPS, weight_decay=weight_decay, optimized_update=False, amsgrad=amsgrad, **kw
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", list(DECAYS))
def test_matches_torch_amsgrad(device, dtype, decay):
    weight_decay, torch_class, torch_kw = DECAYS[decay]
    diff = compare_trajectories(
        ours(weight_decay=weight_decay),
        lambda p: torch_class(p, lr=LR, eps=EPS, amsgrad=True, foreach=False, **torch_kw),
        device,
        dtype,
    )
    assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_amsgrad_false_is_adam(device, dtype):
    diff = compare_trajectories(
        ours(amsgrad=False), lambda p: torch.optim.Adam(p, lr=LR, eps=EPS, foreach=False), device, dtype
    )
    assert diff <= tolerance(device, dtype)


def test_maximum_changes_the_trajectory():
    # If the maximum were never used, the two runs would be identical; this guards the test above
    # against a problem on which AMSGrad and Adam happen to coincide.
    assert compare_trajectories(ours(amsgrad=True), ours(amsgrad=False), "cpu", torch.float64) > 1e-4


def test_max_buffer_dominates_the_running_average():
    model = make_model("cpu", torch.float64)
    optimizer = AMSGrad(model.parameters(), lr=LR)
    train(model, optimizer, *make_data("cpu", torch.float64), steps=100)
    strictly_larger = 0
    for p in model.parameters():
        state = optimizer.state[p]
        assert torch.all(state["max_exp_avg_sq"] >= state["exp_avg_sq"])
        strictly_larger += int((state["max_exp_avg_sq"] > state["exp_avg_sq"]).sum())
    assert strictly_larger > 0


def test_adam_state_has_no_max_buffer():
    model = make_model("cpu", torch.float64)
    optimizer = AMSGrad(model.parameters(), amsgrad=False)
    train(model, optimizer, *make_data("cpu", torch.float64), steps=2)
    assert all("max_exp_avg_sq" not in optimizer.state[p] for p in model.parameters())


def test_param_groups_match_torch():
    def groups(model):
        first, second, third = model[0], model[2], model[4]
        return [
            {"params": first.parameters(), "lr": 3e-2, "amsgrad": True},
            {"params": second.parameters(), "lr": 1e-3, "amsgrad": False},
            {"params": third.parameters(), "betas": (0.8, 0.99)},
        ]

    model = make_model("cpu", torch.float64)
    twin = make_model("cpu", torch.float64)
    x, y = make_data("cpu", torch.float64)
    optimizer = AMSGrad(groups(model), lr=LR, eps=EPS, optimized_update=False)
    reference = torch.optim.Adam(groups(twin), lr=LR, eps=EPS, amsgrad=True, foreach=False)
    # both fed the model's gradients, so the difference is the two optimizers' rounding (see `common.tolerance`)
    train(model, OpenLoop(model, optimizer, twin, reference), x, y)
    for p, q in zip(model.parameters(), twin.parameters()):
        assert (p - q).abs().max().item() <= tolerance("cpu", torch.float64)
    assert [g["amsgrad"] for g in optimizer.param_groups] == [True, False, True]
    assert optimizer.param_groups[2]["betas"] == (0.8, 0.99)


def test_state_dict_resume_is_bit_identical(tmp_path):
    resumed, resumed_optimizer = assert_resumes_identically(
        ours(),
        tmp_path,
        "cpu",
        torch.float32,
        # The fresh optimizer is built with other hyper-parameters: loading must restore ours.
        fresh=lambda p: AMSGrad(p, lr=0.5, amsgrad=False),
    )
    assert resumed_optimizer.param_groups[0]["amsgrad"] is True


@pytest.mark.parametrize("device", DEVICES)
def test_scheduler_drives_the_learning_rate(device):
    def step_lr(optimizer):
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)

    diff = compare_trajectories(
        ours(),
        lambda p: torch.optim.Adam(p, lr=LR, eps=EPS, amsgrad=True, foreach=False),
        device,
        torch.float64,
        scheduler=step_lr,
    )
    assert diff <= tolerance(device, torch.float64)
    # The scheduler did act: the rate was halved five times, and the run ends elsewhere than without it.
    x, y = make_data("cpu", torch.float64)
    scheduled, unscheduled = make_model("cpu", torch.float64), make_model("cpu", torch.float64)
    optimizer = ours()(scheduled.parameters())
    train(scheduled, optimizer, x, y, scheduler=step_lr(optimizer))
    train(unscheduled, ours()(unscheduled.parameters()), x, y)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(LR * 0.5**5)
    assert max_param_diff(scheduled, unscheduled) > 1e-3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
        ({"eps": -1e-8}, "Invalid epsilon"),
        ({"amsgrad": "False"}, "Invalid amsgrad value: 'False'"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AMSGrad(make_model("cpu", torch.float32).parameters(), **kwargs)


def test_invalid_group_is_rejected_when_added():
    model = make_model("cpu", torch.float32)
    optimizer = AMSGrad(model[0].parameters())
    with pytest.raises(ValueError, match="Invalid amsgrad value"):
        optimizer.add_param_group({"params": model[2].parameters(), "amsgrad": 1})


def test_bias_corrected_maximum_lets_the_step_size_grow():
    # One gradient of 10, then 0.01 forever, eps = 0: $v^{max}_t$ stays at $v_1 = 0.1$ while $1-\beta_2^t$ grows, so
    # $\alpha/\sqrt{\hat v_t} = \alpha\sqrt{(1-\beta_2^t)/0.1}$ grows towards $31.6$ times its first value. It is read
    # off each step as $|\Delta\theta_t| / \hat m_t$, for ours and for torch.
    def effective_steps(make):
        theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        optimizer = make([theta])
        sizes = {}
        for t in range(1, 1001):
            before = theta.item()
            theta.grad = torch.tensor([10.0 if t == 1 else 0.01], dtype=torch.float64)
            optimizer.step()
            m_hat = optimizer.state[theta]["exp_avg"].item() / (1 - 0.9**t)
            sizes[t] = (before - theta.item()) / m_hat
        return sizes

    ours_ = effective_steps(lambda p: AMSGrad(p, lr=1.0, eps=0.0, optimized_update=False))
    torch_ = effective_steps(lambda p: torch.optim.Adam(p, lr=1.0, eps=0.0, amsgrad=True, foreach=False))
    assert [round(ours_[t], 3) for t in (1, 10, 100)] == [0.100, 0.316, 0.976]
    assert round(ours_[1000], 2) == 2.51 and round(torch_[1000], 4) == 2.5146
    assert all(ours_[t] == pytest.approx(torch_[t], rel=1e-12) for t in ours_)
    # the growth is the bias correction's: sqrt((1 - 0.999^t) / 0.1), bounded by 1 / sqrt(1 - 0.999) = 31.6 times
    assert ours_[1000] == pytest.approx(((1 - 0.999**1000) / 0.1) ** 0.5, rel=1e-12)
