"""Tests of the Lion page: trajectories against a plain transcription of the paper's algorithm."""

import copy

import pytest
import torch

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.lion import Lion
from tests.optimizers.common import DEVICES, DTYPES, OpenLoop, make_data, make_model, resume_is_bit_identical, train


class ReferenceLion(torch.optim.Optimizer):
    r"""Algorithm 2 of Chen et al. (2023), line by line, with decoupled weight decay.

    It also keeps, per coordinate, `bound`: how far our `Lion`, fed the same gradients (`OpenLoop`), may be from
    it. Rounding alone moves the two by a few ulps; but where $c_t$ is so close to zero that the two roundings of
    it may have different signs, the two steps may differ by a whole $2\eta$, and that is allowed only there.
    """

    def __init__(self, params, lr, betas, weight_decay):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["m"], state["dm"], state["bound"] = (torch.zeros_like(p) for _ in range(3))
                m, g, eps = state["m"], p.grad, torch.finfo(p.dtype).eps
                c = beta1 * m + (1 - beta1) * g
                # Each side rounds an average of $m$ and $g$ within $3\epsilon(|m| + |g|)$: two products and a sum
                # here ($2\epsilon$), a lerp $m + w(g - m)$ in ours ($2w\epsilon|g - m| + \epsilon|c|$). So the two
                # values of $c_t$ differ by at most $\beta_1 \delta m + 6\epsilon(|m| + |g|)$, and those of $m_t$ likewise.
                dc = beta1 * state["dm"] + 6 * eps * (m.abs() + g.abs())
                state["dm"] = beta2 * state["dm"] + 6 * eps * (m.abs() + g.abs())
                # A difference already there shrinks by $1 - \eta\lambda$; each side rounds $\theta$ twice
                # (decay, step): $2\epsilon|\theta|$ for the pair; and where $|c_t| \le \delta c$ the signs may differ
                doubtful = c.abs() <= dc
                state["bound"] = state["bound"] * (1 - lr * wd) + 2 * eps * p.abs() + 2 * lr * doubtful.to(p.dtype)
                state["doubtful"] = state.get("doubtful", 0) + int(doubtful.sum())
                state["decisions"] = state.get("decisions", 0) + c.numel()
                p.copy_(p - lr * (torch.sign(c) + wd * p))
                state["m"] = beta2 * m + (1 - beta2) * g


def assert_within_bound(model, twin, reference):
    for p, q in zip(model.parameters(), twin.parameters()):
        assert ((p - q).abs() <= reference.state[q]["bound"]).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lr,betas,wd", [(1e-4, (0.9, 0.99), 0.0), (3e-3, (0.95, 0.98), 0.5), (1e-3, (0.0, 0.9), 1.0)])
def test_matches_paper_algorithm(device, dtype, lr, betas, wd):
    model = make_model(device, dtype)
    twin = copy.deepcopy(model)
    reference = ReferenceLion(twin.parameters(), lr=lr, betas=betas, weight_decay=wd)
    train(
        model,
        OpenLoop(model, Lion(model.parameters(), lr=lr, betas=betas, weight_decay=WeightDecay(wd)), twin, reference),
        *make_data(device, dtype),
        steps=100,
    )
    assert_within_bound(model, twin, reference)
    # The allowance is not vacuous: a sign is in doubt (so a whole 2 lr allowed) in under 0.1% of the decisions
    # (in none at all on the machine where this was written)
    states = [reference.state[q] for q in twin.parameters()]
    assert sum(s["doubtful"] for s in states) <= 1e-3 * sum(s["decisions"] for s in states)


def test_first_step_moves_every_coordinate_by_lr():
    # m_0 = 0, so c_1 = (1 - beta1) g_1 and each coordinate moves by exactly lr against its gradient
    # (a zero gradient gives sign 0: no move).
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0, 0.5]))
    p.grad = torch.tensor([0.3, -1e-6, 5.0, 0.0])
    Lion([p], lr=0.1).step()
    assert torch.allclose(p.detach(), torch.tensor([0.9, -1.9, 2.9, 0.5]))


def test_direction_and_memory_use_different_betas():
    # With beta1 = 0 the direction is the current gradient alone, while the momentum (beta2 = 0.5)
    # still remembers the past: m_1 = 0.5 after g_1 = 1.
    p = torch.nn.Parameter(torch.zeros(1))
    opt = Lion([p], lr=1.0, betas=(0.0, 0.5))
    p.grad = torch.tensor([1.0])
    opt.step()
    assert p.item() == -1.0 and opt.state[p]["exp_avg"].item() == 0.5
    p.grad = torch.tensor([-0.25])
    opt.step()
    # c_2 = g_2 < 0 although m_1 > 0, so theta goes up by 1; m_2 = 0.5 * 0.5 + 0.5 * (-0.25) = 0.125
    assert p.item() == 0.0 and opt.state[p]["exp_avg"].item() == 0.125


def test_state_is_one_tensor_per_parameter():
    model = make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    opt = Lion(model.parameters(), lr=1e-3)
    train(model, opt, x, y, steps=2)
    for p in model.parameters():
        assert [k for k, v in opt.state[p].items() if torch.is_tensor(v)] == ["exp_avg"]
        assert opt.state[p]["step"] == 2


def test_trains():
    model = make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    losses = train(model, Lion(model.parameters(), lr=3e-3), x, y, steps=100)
    assert losses[-1] < 0.5 * losses[0]


def test_param_groups_use_their_own_hyper_parameters():
    model = make_model("cpu", torch.float64)
    twin = make_model("cpu", torch.float64)
    x, y = make_data("cpu", torch.float64)
    first, rest = list(model[0].parameters()), [p for m in (model[2], model[4]) for p in m.parameters()]
    opt = Lion([{"params": first, "lr": 1e-2, "betas": (0.8, 0.9), "weight_decay": 0.1}, {"params": rest}], lr=1e-3)
    reference = ReferenceLion(
        [
            {"params": list(twin[0].parameters()), "lr": 1e-2, "betas": (0.8, 0.9), "weight_decay": 0.1},
            {"params": [p for m in (twin[2], twin[4]) for p in m.parameters()]},
        ],
        lr=1e-3,
        betas=(0.9, 0.99),
        weight_decay=0.0,
    )
    train(model, OpenLoop(model, opt, twin, reference), x, y, steps=30)
    assert_within_bound(model, twin, reference)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9) and opt.param_groups[1]["betas"] == (0.9, 0.99)
    assert opt.param_groups[0]["weight_decay"] == 0.1 and opt.param_groups[1]["weight_decay"] == 0.0


def test_every_hyper_parameter_is_in_the_param_groups():
    group = Lion([torch.nn.Parameter(torch.zeros(2))]).param_groups[0]
    assert {"lr", "betas", "eps", "weight_decay", "weight_decouple", "weight_decay_absolute"} <= group.keys()
    # the defaults of the authors' code (google/automl, lion/lion_pytorch.py): lr 1e-4, betas (0.9, 0.99), no decay
    assert (group["lr"], group["betas"], group["weight_decay"]) == (1e-4, (0.9, 0.99), 0.0)


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert resume_is_bit_identical(
        lambda p: Lion(p, lr=1e-3, weight_decay=WeightDecay(0.1)),
        tmp_path / "lion.pt",
        scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    )


def test_scheduler_drives_lr_and_weight_decay():
    # A scheduler halves lr after every step; each step moves by exactly the scheduled lr_t, and decoupled
    # decay uses it too: theta <- theta (1 - lr_t * wd) - lr_t * sign(c_t).
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = Lion([p], lr=0.1, weight_decay=WeightDecay(0.5))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    expected = 1.0
    for t in range(4):
        lr = 0.1 * 0.5**t
        p.grad = torch.tensor([1.0], dtype=torch.float64)
        opt.step()
        sched.step()
        expected = expected * (1 - lr * 0.5) - lr
        assert p.item() == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(lr=-1e-4), "Invalid learning rate"),
        (dict(betas=(1.0, 0.99)), "Invalid beta parameter at index 0"),
        (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (dict(betas=(0.9,)), "Invalid betas"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Lion([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_invalid_group_arguments():
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="Lion has no epsilon"):
        Lion([{"params": [p], "eps": 1e-8}])
    with pytest.raises(ValueError, match="Invalid weight_decay"):
        Lion([{"params": [p], "weight_decay": -1.0}])
    opt = Lion([p])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": -1.0})
