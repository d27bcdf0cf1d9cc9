"""Tests of the Sophia page: trajectories against a transcription of the update in the form the page follows
(the authors' denominator rho * h + eps, with clip written as a clamp of the ratio), the every-k Hessian
estimate of the training loop, and the Gauss-Newton-Bartlett estimator itself."""

import copy

import pytest
import torch
from torch import nn

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.sophia import Sophia, estimate_hessian, training_step
from tests.optimizers.common import DEVICES, DTYPES, OpenLoop, make_data, resume_is_bit_identical, train


class ReferenceSophia(torch.optim.Optimizer):
    r"""Sophia-G: h <- b2 h + (1 - b2) B g_hat^2 on each estimate; theta <- theta (1 - lr wd);
    m <- b1 m + (1 - b1) g; theta <- theta - lr clip(m / (rho h + eps), 1).

    It also keeps, per coordinate, `bound`: how far our `Sophia`, fed the same gradients and estimates
    (`OpenLoop`), may be from it. The ratio multiplies a rounding difference of $m$ by $1/(\rho h + \epsilon)$,
    which is huge where $h$ is small, so a few ulps can become a different step of up to $2\eta$; the clip
    removes the difference again where both ratios are beyond $\pm 1$ on the same side.
    """

    def __init__(self, params, lr, betas, eps, rho, weight_decay):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, rho=rho, weight_decay=weight_decay))

    def _state(self, p):
        state = self.state[p]
        if not state:
            state["m"], state["h"], state["dm"], state["dh"], state["bound"] = (torch.zeros_like(p) for _ in range(5))
        return state

    @torch.no_grad()
    def update_hessian(self, batch_size):
        for group in self.param_groups:
            beta2 = group["betas"][1]
            for p in group["params"]:
                state, eps = self._state(p), torch.finfo(p.dtype).eps
                new = (1 - beta2) * (batch_size * p.grad * p.grad)
                # each side rounds this average within $5\epsilon$ of its terms (three products, one sum, one more
                # product in $\beta_2 h$): $10\epsilon$ for the pair
                state["dh"] = beta2 * state["dh"] + 10 * eps * (beta2 * state["h"] + new)
                state["h"] = beta2 * state["h"] + new

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, lr = group["betas"][0], group["lr"]
            for p in group["params"]:
                state, g, eps = self._state(p), p.grad, torch.finfo(p.dtype).eps
                # $m_t$ of the two sides: within $3\epsilon(|m| + |g|)$ each, as a multiply-add here or a lerp in ours
                state["dm"] = beta1 * state["dm"] + 6 * eps * (state["m"].abs() + g.abs())
                state["m"] = beta1 * state["m"] + (1 - beta1) * g
                denominator = group["rho"] * state["h"] + group["eps"]
                ratio = state["m"] / denominator
                # $|r_a - r_b| \le (\delta m + |r| \delta D) / (D - \delta D) + 4\epsilon|r|$, with
                # $\delta D = \rho\,\delta h + 4\epsilon D$ (two roundings of $D$ on each side)
                d_denominator = group["rho"] * state["dh"] + 4 * eps * denominator
                d_ratio = (state["dm"] + ratio.abs() * d_denominator) / (denominator - d_denominator).clamp(
                    min=0
                ) + 4 * eps * ratio.abs()
                # Clipped to the same side in both: the same step exactly. Otherwise the clip is 1-Lipschitz and
                # its values lie in [-1, 1]: at most $\eta \min(2, |r_a - r_b|)$ apart.
                both_clipped = ratio.abs() - d_ratio >= 1
                step_difference = torch.where(both_clipped, torch.zeros_like(ratio), lr * d_ratio.clamp(max=2.0))
                # how often rounding may be worth more than a tenth of a step
                state["doubtful"] = state.get("doubtful", 0) + int((step_difference > 0.1 * lr).sum())
                state["decisions"] = state.get("decisions", 0) + ratio.numel()
                # A difference already there shrinks by $1 - \eta\lambda$; each side rounds $\theta$ twice
                # (decay, step) and $\eta \cdot \text{clip}$ once: $2\epsilon(|\theta| + \eta)$ for the pair
                state["bound"] = (
                    state["bound"] * (1 - lr * group["weight_decay"]) + step_difference + 2 * eps * (p.abs() + lr)
                )
                p.mul_(1 - lr * group["weight_decay"])
                p.sub_(lr * ratio.clamp(-1.0, 1.0))


def assert_within_bound(model, twin, reference):
    for p, q in zip(model.parameters(), twin.parameters()):
        assert ((p - q).abs() <= reference.state[q]["bound"]).all()


def make_classifier(device, dtype, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).to(device=device, dtype=dtype)


def make_labels(x):
    # Three classes from two features, so the problem is learnable but not trivial
    return (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()


def run(model, optimizer, device, dtype, steps=100, k=5, seed=7):
    x, _ = make_data(device, dtype)
    labels = make_labels(x)
    generator = torch.Generator(device=device).manual_seed(seed)
    return [training_step(model, optimizer, x, labels, t, k, generator) for t in range(steps)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "lr,betas,rho,wd,k",
    [(1e-3, (0.9, 0.95), 0.03, 0.0, 5), (1e-2, (0.965, 0.99), 0.04, 0.1, 10), (3e-3, (0.5, 0.8), 1.0, 0.5, 1)],
)
def test_matches_reference(device, dtype, lr, betas, rho, wd, k):
    # Both sides get the gradients and the Hessian estimates of `model` (`OpenLoop`), through the page's own loop
    model = make_classifier(device, dtype)
    twin = copy.deepcopy(model)
    ours = Sophia(model.parameters(), lr=lr, betas=betas, rho=rho, weight_decay=WeightDecay(wd))
    reference = ReferenceSophia(twin.parameters(), lr=lr, betas=betas, eps=1e-12, rho=rho, weight_decay=wd)
    losses = run(model, OpenLoop(model, ours, twin, reference), device, dtype, k=k)
    assert_within_bound(model, twin, reference)
    # The allowance is not vacuous: rounding may be worth more than a tenth of a step in under 0.1% of the steps
    # of a coordinate
    states = [reference.state[q] for q in twin.parameters()]
    assert sum(s["doubtful"] for s in states) <= 1e-3 * sum(s["decisions"] for s in states)
    assert losses[-1] < 0.7 * losses[0]


def test_hessian_estimate_runs_every_k_steps():
    model = make_classifier("cpu", torch.float64)
    opt = Sophia(model.parameters(), lr=1e-3)
    x, _ = make_data("cpu", torch.float64)
    labels = make_labels(x)
    weight = model[0].weight
    changed_at = []
    for t in range(12):
        before = opt.state[weight]["hessian"].clone() if opt.state[weight] else torch.zeros_like(weight)
        training_step(model, opt, x, labels, t, k=4)
        if not torch.equal(opt.state[weight]["hessian"], before):
            changed_at.append(t)
    assert changed_at == [3, 7, 11]
    assert all(opt.state[p]["hessian_step"] == 3 and opt.state[p]["step"] == 12 for p in model.parameters())
    # the sampled-label gradient is cleared, so it cannot leak into the next training step
    assert all(p.grad is None for p in model.parameters())


def test_first_steps_before_any_estimate_are_signed_momentum():
    # h = 0, so |m| / eps >= 1 is clipped and every coordinate moves by exactly lr
    p = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64))
    opt = Sophia([p], lr=0.1)
    p.grad = torch.tensor([3.0, -1e-3, 0.0], dtype=torch.float64)
    opt.step()
    assert torch.equal(p.detach(), torch.tensor([0.9, -0.9, 0.5], dtype=torch.float64))


def test_update_by_hand_clipped_and_unclipped():
    b1, b2, rho, eps, lr, B = 0.9, 0.95, 0.03, 1e-12, 0.1, 8
    p = torch.nn.Parameter(torch.tensor([0.0, 0.0], dtype=torch.float64))
    opt = Sophia([p], lr=lr, betas=(b1, b2), rho=rho, eps=eps)
    g_hat = torch.tensor([20.0, 0.1], dtype=torch.float64)
    p.grad = g_hat
    opt.update_hessian(B)
    h = (1 - b2) * B * g_hat**2  # [160, 0.004]
    assert torch.allclose(opt.state[p]["hessian"], h, rtol=1e-15, atol=0)
    p.grad = torch.tensor([0.5, 0.5], dtype=torch.float64)
    opt.step()
    # m = 0.05. Coordinate 0: rho h = 4.8, ratio 0.05 / 4.8, not clipped.
    # Coordinate 1: rho h = 1.2e-4, ratio 417, clipped to 1: the step is exactly lr.
    assert p[0].item() == pytest.approx(-lr * 0.05 / (4.8 + eps), rel=1e-12)
    assert p[1].item() == -lr


def test_bartlett_estimate_averages_to_the_fisher_diagonal():
    # A linear softmax model on a batch of B = 8 copies of one input x: the Gauss-Newton (= Fisher) diagonal of the
    # mean loss, for W[c, j], is p_c (1 - p_c) x_j^2. With beta2 = 0, h holds the latest estimate B g_hat^2; averaged
    # over many estimates it approaches that diagonal (without the factor B it would approach 1/8 of it).
    torch.manual_seed(0)
    layer = nn.Linear(4, 3, bias=False).double()
    x = torch.tensor([[1.0, -0.5, 2.0, 0.25]], dtype=torch.float64).repeat(8, 1)
    opt = Sophia(layer.parameters(), betas=(0.9, 0.0))
    generator = torch.Generator().manual_seed(3)
    total, n = torch.zeros_like(layer.weight), 4000
    for _ in range(n):
        estimate_hessian(opt, layer(x), generator)
        total += opt.state[layer.weight]["hessian"]
    p = torch.softmax(layer(x), -1).detach()[0]
    fisher = (p * (1 - p))[:, None] * x[0][None, :] ** 2
    assert torch.allclose(total / n, fisher, rtol=0.1)


def test_estimate_is_unbiased_because_cross_terms_vanish():
    # Exact expectations by enumerating every label pair of a batch of B = 2 different inputs (3 classes):
    # E[grad of l_b] = 0 for each example, and E[B g_hat^2] is the Gauss-Newton diagonal of the mean loss,
    # (1/B) sum_b p_bc (1 - p_bc) x_bj^2 for W[c, j] of a linear softmax model.
    torch.manual_seed(2)
    layer = nn.Linear(4, 3, bias=False).double()
    x = torch.tensor([[1.0, -0.5, 2.0, 0.25], [-1.5, 0.5, 0.0, 1.0]], dtype=torch.float64)
    p = torch.softmax(layer(x), -1).detach()

    def gradient(labels):
        layer.zero_grad()
        nn.functional.cross_entropy(layer(x), torch.tensor(labels)).backward()
        return layer.weight.grad.clone()

    expected_square = torch.zeros_like(layer.weight)
    mean_of_example_gradients = [torch.zeros_like(layer.weight) for _ in range(2)]
    for y0 in range(3):
        for y1 in range(3):
            probability = p[0, y0] * p[1, y1]
            expected_square += probability * 2 * gradient([y0, y1]) ** 2
    for b in range(2):
        for y in range(3):
            layer.zero_grad()
            nn.functional.cross_entropy(layer(x[b : b + 1]), torch.tensor([y])).backward()
            mean_of_example_gradients[b] += p[b, y] * layer.weight.grad
    assert all(g.abs().max() < 1e-15 for g in mean_of_example_gradients)
    gauss_newton = sum((p[b] * (1 - p[b]))[:, None] * x[b][None, :] ** 2 for b in range(2)) / 2
    assert torch.allclose(expected_square, gauss_newton, rtol=1e-12, atol=0)


def test_estimate_uses_batch_size_and_sampled_labels():
    # B = 5 positions of a [1, 5, 3] "sequence" output: h = (1 - b2) * 5 * g_hat^2, where g_hat is the gradient
    # of the mean cross-entropy on labels drawn (with the same generator) from softmax(logits).
    torch.manual_seed(1)
    layer = nn.Linear(2, 3).double()
    x = torch.randn(1, 5, 2, dtype=torch.float64)
    opt = Sophia(layer.parameters(), betas=(0.9, 0.5))
    estimate_hessian(opt, layer(x), torch.Generator().manual_seed(11))
    logits = layer(x).reshape(-1, 3)
    labels = torch.multinomial(torch.softmax(logits, -1), 1, generator=torch.Generator().manual_seed(11)).squeeze(-1)
    (g_hat,) = torch.autograd.grad(nn.functional.cross_entropy(logits, labels), [layer.weight])
    assert torch.allclose(opt.state[layer.weight]["hessian"], 0.5 * 5 * g_hat**2, rtol=1e-12, atol=0)


def test_param_groups_use_their_own_hyper_parameters():
    model = make_classifier("cpu", torch.float64)
    twin = copy.deepcopy(model)
    ours = Sophia(
        [
            {"params": model[0].parameters(), "rho": 0.5, "lr": 1e-2, "weight_decay": 0.1},
            {"params": model[2].parameters(), "betas": (0.8, 0.9)},
        ],
        lr=1e-3,
    )
    reference = ReferenceSophia(
        [
            {"params": twin[0].parameters(), "rho": 0.5, "lr": 1e-2, "weight_decay": 0.1},
            {"params": twin[2].parameters(), "betas": (0.8, 0.9)},
        ],
        lr=1e-3,
        betas=(0.9, 0.95),
        eps=1e-12,
        rho=0.03,
        weight_decay=0.0,
    )
    run(model, OpenLoop(model, ours, twin, reference), "cpu", torch.float64, steps=30, k=3)
    assert_within_bound(model, twin, reference)


def test_every_hyper_parameter_is_in_the_param_groups():
    group = Sophia([torch.nn.Parameter(torch.zeros(2))]).param_groups[0]
    assert {"lr", "betas", "eps", "rho", "weight_decay", "weight_decouple", "weight_decay_absolute"} <= group.keys()
    assert (group["lr"], group["betas"], group["eps"], group["rho"]) == (1e-4, (0.9, 0.95), 1e-12, 0.03)


def train_with_estimates(model, optimizer, x, y, steps, scheduler=None, k=3):
    # Regression stand-in for the loop: Sophia does not care where g_hat comes from, so every k steps the
    # gradient of the training loss itself is averaged into h (with B = 64), enough to exercise the state.
    for _ in range(steps):
        train(model, optimizer, x, y, 1, scheduler)
        if optimizer.state[next(model.parameters())]["step"] % k == 0:
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.update_hessian(x.shape[0])


def test_state_dict_resume_is_bit_identical(tmp_path):
    assert resume_is_bit_identical(
        lambda p: Sophia(p, lr=1e-2, weight_decay=WeightDecay(0.1)),
        tmp_path / "s.pt",
        steps_before=7,
        steps_after=8,
        train_fn=train_with_estimates,
        scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
    )


def test_scheduler_drives_lr_and_weight_decay():
    # Before any estimate each coordinate moves by the scheduled lr_t; decoupled decay uses lr_t too.
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = Sophia([p], lr=0.1, weight_decay=WeightDecay(0.5))
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
        (dict(lr=-1.0), "Invalid learning rate"),
        (dict(eps=-1e-12), "Invalid epsilon"),
        (dict(rho=0.0), "Invalid rho"),
        (dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1"),
    ],
)
def test_argument_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Sophia([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_update_hessian_checks_batch_size():
    opt = Sophia([torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ValueError, match="n_tokens_training_batch"):
        opt.update_hessian(0)
