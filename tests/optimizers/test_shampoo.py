"""Shampoo against two float64 transcriptions (the paper's Algorithms 1 and 2, and Distributed Shampoo's step),
its relation to orthogonalization (beta2 = 0 gives U V^T up to eps), scale invariance, and the page's numbers."""

import math

import pytest
import torch

from labml_nn.optimizers.muon import NS_BAND, newton_schulz
from labml_nn.optimizers.shampoo import Shampoo, inverse_root, matrix_view
from tests.optimizers.common import compare_trajectories
from tests.optimizers.reference import Float64Reference


def matrix_power(a: torch.Tensor, exponent: float) -> torch.Tensor:
    """a^exponent of a symmetric positive definite matrix, by eigh."""
    lam, q = torch.linalg.eigh(a)
    return q @ torch.diag(lam.pow(exponent)) @ q.T


class PaperShampoo(Float64Reference):
    """Gupta, Koren & Singer (2018), https://arxiv.org/abs/1802.09568: Algorithm 1 for a matrix,
    L_0 = eps I_m, R_0 = eps I_n, L_t = L_{t-1} + G G^T, R_t = R_{t-1} + G^T G, W_{t+1} = W_t - eta L_t^{-1/4} G R_t^{-1/4};
    Algorithm 2 with k = 1 for a vector, H_t = H_{t-1} + g g^T, w_{t+1} = w_t - eta H_t^{-1/2} g."""

    def __init__(self, params, lr, eps):
        super().__init__(params, lr=lr, eps=eps)

    def update(self, state, group, theta, g):
        eps = group["eps"]
        if theta.dim() == 1:
            if not state:
                state["H"] = eps * torch.eye(g.numel(), dtype=torch.float64)
            state["H"] = state["H"] + torch.outer(g, g)
            return theta - group["lr"] * matrix_power(state["H"], -1 / 2) @ g
        if not state:
            state["L"] = eps * torch.eye(g.shape[0], dtype=torch.float64)
            state["R"] = eps * torch.eye(g.shape[1], dtype=torch.float64)
        state["L"] = state["L"] + g @ g.T
        state["R"] = state["R"] + g.T @ g
        return theta - group["lr"] * matrix_power(state["L"], -1 / 4) @ g @ matrix_power(state["R"], -1 / 4)


class DistributedShampooReference(Float64Reference):
    """The step of Meta's Distributed Shampoo for one block (a whole 1-D or 2-D parameter), transcribed from
    https://github.com/facebookresearch/optimizers at commit f60660661194de26d3ee78bae6d15820ff8e583d:
    `DistributedShampoo._compute_search_directions` (distributed_shampoo/distributed_shampoo.py), the default
    `RootInvShampooPreconditionerConfig` with eigendecomposition and `DefaultPerturbationConfig`
    (preconditioner/shampoo_preconditioner_list.py, preconditioner/matrix_functions.py), `AdamPreconditionerConfig`
    or `AdaGradPreconditionerConfig` grafting (preconditioner/adagrad_preconditioner_list.py), `DECOUPLED` weight
    decay, `use_bias_correction=True`, beta3 = beta1, no iterate averaging, on each parameter as one block in its
    own shape: their distributor's `merge_small_dims` (which squeezes dimensions of length 1 and by default merges a
    small matrix into a vector) is left out, as the page says. Written from their code's order:

        G <- G (L2 decay off)
        L <- beta2 L + w G G^T, R likewise (w = 1 - beta2, or 1 when beta2 = 1); V <- graft's update of G
        if (t % f == 0 and t > start) or t == start: roots of L / bc2 + eps I by eigh, perturbed to >= eps
        G_bar <- EMA_beta1(G) / (1 - beta1^t)
        P <- graft(G_bar) if t < start and grafting, else L_inv G_bar R_inv, times |graft(G_bar)| / (|P| + 1e-16)
        P <- P + lambda W;  W <- W - lr P
    """

    def __init__(
        self, params, lr, betas, epsilon, weight_decay, precondition_frequency, start, grafting, graft_beta2, graft_eps
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            epsilon=epsilon,
            weight_decay=weight_decay,
            f=precondition_frequency,
            start=start,
            grafting=grafting,
            graft_beta2=graft_beta2,
            graft_eps=graft_eps,
        )

    @staticmethod
    def root(factor, epsilon, root):
        # matrix_inverse_root_eigen: eigh of A + eps I, then matrix_inverse_root_from_eigendecomposition
        a = factor + epsilon * torch.eye(factor.shape[0], dtype=torch.float64)
        lam, q = torch.linalg.eigh(a)
        lam_min = torch.min(lam).item()
        if lam_min < epsilon:
            lam = lam + (-lam_min)
            lam = lam + epsilon
        return q * lam.pow(-1.0 / root).unsqueeze(0) @ q.T

    def update(self, state, group, theta, g):
        beta1, beta2 = group["betas"]
        matrix = g.reshape(1, -1) if g.dim() == 1 else g
        dims = [1] if g.dim() == 1 else [0, 1]
        if not state:
            state["t"] = 0
            state["factors"] = {d: torch.zeros(matrix.shape[d], matrix.shape[d], dtype=torch.float64) for d in dims}
            state["inv"] = {d: torch.eye(matrix.shape[d], dtype=torch.float64) for d in dims}
            state["filtered"] = torch.zeros_like(matrix)
            state["V"] = torch.zeros_like(matrix)
        state["t"] += 1
        t = state["t"]
        weighting = 1.0 if beta2 == 1.0 else 1 - beta2
        for d in dims:
            outer = matrix @ matrix.T if d == 0 else matrix.T @ matrix
            factor = state["factors"][d]
            if beta2 != 1.0:
                factor = factor * beta2
            state["factors"][d] = factor + weighting * outer
        if group["grafting"] == "adam":
            state["V"] = state["V"] * group["graft_beta2"] + (1 - group["graft_beta2"]) * matrix * matrix
            bc2_graft = 1 - group["graft_beta2"] ** t
        elif group["grafting"] == "adagrad":
            state["V"] = state["V"] + matrix * matrix
            bc2_graft = 1.0
        if (t % group["f"] == 0 and t > group["start"]) or t == group["start"]:
            bc2 = 1 - beta2**t if beta2 < 1.0 else 1.0
            for d in dims:
                state["inv"][d] = self.root(state["factors"][d] / bc2, group["epsilon"], 2 * len(dims))
        if beta1 != 0.0:
            state["filtered"] = state["filtered"] + (1 - beta1) * (matrix - state["filtered"])
            g_bar = state["filtered"] / (1.0 - beta1 * beta1 ** (t - 1))
        else:
            g_bar = matrix
        graft = None
        if group["grafting"] != "none":
            graft = g_bar / ((state["V"] / bc2_graft).sqrt() + group["graft_eps"])
        if t < group["start"] and graft is not None:
            p = graft
        else:
            p = g_bar
            if 0 in dims:
                p = state["inv"][0] @ p
            p = p @ state["inv"][1]
            if graft is not None:
                p = p * (torch.linalg.norm(graft) / (torch.linalg.norm(p) + 1e-16))
        p = p.reshape(theta.shape) + group["weight_decay"] * theta
        return theta - group["lr"] * p


# The largest eigenvalue of a (bias-corrected) factor along these trajectories: measured at most 93 (the paper's
# sums over 100 steps), 12 with Adam grafting's smaller steps.
LAMBDA_MAX = 100.0


def root_tolerance(eps: float, steps: int = 100, n: int = 16, dtype: torch.dtype = torch.float64) -> float:
    """A float64 bound for two implementations of the same roots, derived from `eigh`'s backward error.

    Each `eigh` of an n x n factor (n <= 16 here) returns eigenvalues off by about n u LAMBDA_MAX, u = 2^-53. The
    root (lambda + eps)^(-1/4) of the smallest moves by a quarter of that relative to lambda + eps >= eps, so by
    n u LAMBDA_MAX / (4 eps); two sides make it twice that, and the step, at most MAX_ABS_STEP = 0.2 (which
    `compare_trajectories` asserts), moves by that fraction of itself each step; over `steps` the differences add.
    A difference the two roundings already made is carried, not grown (the roots do not depend on W).
    """
    u = torch.finfo(dtype).eps / 2
    return steps * n * u * LAMBDA_MAX / (2 * eps) * 0.2


@pytest.mark.parametrize("eps", [1e-4, 1e-2])
def test_matches_the_papers_algorithms(eps):
    # Measured after 100 steps: 1.1e-14 (eps 1e-4) and 4.6e-16 (eps 1e-2); the bounds are 1.8e-8 and 1.8e-10.
    diff = compare_trajectories(
        lambda p: Shampoo(p, lr=1e-2, betas=(0.0, 1.0), eps=eps, grafting="none"),
        lambda p: PaperShampoo(p, lr=1e-2, eps=eps),
        "cpu",
        torch.float64,
    )
    assert diff <= root_tolerance(eps)


DS_CONFIGS = [
    # Distributed Shampoo's defaults with Adam grafting, roots every step
    dict(betas=(0.9, 1.0), weight_decay=0.0, f=1, start=1, grafting="adam"),
    # an average for the factors, roots every 3 steps from step 3, Adagrad grafting, decoupled decay
    dict(betas=(0.9, 0.99), weight_decay=0.01, f=3, start=3, grafting="adagrad"),
    # roots every 2 steps from step 4, no grafting (the identity before step 4), no first moment
    dict(betas=(0.0, 0.999), weight_decay=0.0, f=2, start=4, grafting="none"),
]


@pytest.mark.parametrize("eps", [1e-2, 1e-6])
@pytest.mark.parametrize("config", DS_CONFIGS, ids=str)
def test_matches_distributed_shampoo(config, eps):
    # Measured after 100 steps: at most 8.3e-16 with eps = 1e-2 and 3.2e-13 with eps = 1e-6, against bounds of
    # 1.8e-10 and 1.8e-6. Distributed Shampoo's default eps = 1e-12 is left out: the difference grows as eps falls
    # (measured 2.5e-12 there with Adam grafting, 1.4e-10 at 1e-8 without grafting), because the factors' near-zero
    # eigenvalues turn rounding into large root entries, and the bound above becomes meaningless.
    config = dict(config, eps=eps)
    ours = lambda p: Shampoo(
        p,
        lr=1e-2,
        betas=config["betas"],
        eps=config["eps"],
        weight_decay=config["weight_decay"],
        precondition_frequency=config["f"],
        start_preconditioning_step=config["start"],
        grafting=config["grafting"],
        grafting_beta2=0.999,
        grafting_eps=1e-8,
    )
    theirs = lambda p: DistributedShampooReference(
        p,
        lr=1e-2,
        betas=config["betas"],
        epsilon=config["eps"],
        weight_decay=config["weight_decay"],
        precondition_frequency=config["f"],
        start=config["start"],
        grafting=config["grafting"],
        graft_beta2=0.999,
        graft_eps=1e-8,
    )
    diff = compare_trajectories(ours, theirs, "cpu", torch.float64)
    assert diff <= root_tolerance(eps)


@pytest.mark.parametrize("eps", [1e-2, 1.0])
def test_float32_within_its_bound_of_the_paper(eps):
    # Ours in float32 against the float64 transcription, on the same gradients: the same derived bound with float32's
    # u = 2^-24, 9.5e-2 (eps 1e-2) and 9.5e-4 (eps 1); measured 5.6e-7 and 6.0e-8. The bound grows as 1/eps, and so
    # does what we measure (5.3e-5 at eps = 1e-4): in float32 a small eps costs digits.
    diff = compare_trajectories(
        lambda p: Shampoo(p, lr=1e-2, betas=(0.0, 1.0), eps=eps, grafting="none"),
        lambda p: PaperShampoo(p, lr=1e-2, eps=eps),
        "cpu",
        torch.float32,
    )
    assert diff <= root_tolerance(eps, dtype=torch.float32)


def _random_matrix(rows, cols, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=g, dtype=torch.float64)


def _one_step(grad, **kwargs):
    param = torch.nn.Parameter(torch.zeros_like(grad))
    param.grad = grad.clone()
    Shampoo([param], lr=1.0, **kwargs).step()
    return -param.detach()


@pytest.mark.parametrize("shape", [(16, 6), (6, 16)])
@pytest.mark.parametrize("max_precond_dim", [1024, 8])
def test_without_accumulation_the_step_is_orthogonalized(shape, max_precond_dim):
    # beta2 = 0, beta1 = 0, roots every step, no grafting: one step is (G G^T + eps I)^{-1/4} G (G^T G + eps I)^{-1/4},
    # or with one side left out (max_precond_dim = 8 drops the side of 16) the lone root -1/2. Either way each
    # singular value sigma of G becomes sigma / sqrt(sigma^2 + eps), with G's singular vectors.
    grad = _random_matrix(*shape)
    u, s, vh = torch.linalg.svd(grad, full_matrices=False)
    for eps in (1e-12, 1e-2, 1.0):
        step = _one_step(grad, betas=(0.0, 0.0), eps=eps, grafting="none", max_precond_dim=max_precond_dim)
        expected = u @ torch.diag(s / (s**2 + eps).sqrt()) @ vh
        assert (step - expected).abs().max().item() <= 1e-12
    # With eps = 1e-12 it is U V^T to 1e-12 relative to sigma_min^2 (sigma_min >= 0.9 here) ...
    step = _one_step(grad, betas=(0.0, 0.0), eps=1e-12, grafting="none", max_precond_dim=max_precond_dim)
    assert (step - u @ vh).abs().max().item() <= 1e-11
    # ... which Muon's five quintic steps approximate inside their band [0.6818, 1.2024].
    ns = newton_schulz(grad, dtype=torch.float64)
    values = torch.linalg.svdvals(ns)
    assert NS_BAND[0] - 1e-4 <= values.min().item() and values.max().item() <= NS_BAND[1] + 1e-4


def _psd_sqrt(a: torch.Tensor) -> torch.Tensor:
    """The square root of a symmetric positive semi-definite matrix, its rounding-negative eigenvalues taken as 0."""
    lam, q = torch.linalg.eigh(a)
    return q @ torch.diag(lam.clamp_min(0.0).sqrt()) @ q.T


def test_kronecker_bound_of_full_matrix_adagrad():
    # The page's bound: for gradients of rank at most r and eps >= 0,
    # eps I + H / r <= (eps I + L)^{1/2} kron (eps I + R)^{1/2}, with H = sum vec(G) vec(G)^T (vec stacking rows).
    generator = torch.Generator().manual_seed(0)
    for trial in range(60):
        rank, count = 1 + trial % 3, 1 + trial % 4
        grads = [
            torch.randn(4, rank, generator=generator, dtype=torch.float64)
            @ torch.randn(rank, 3, generator=generator, dtype=torch.float64)
            for _ in range(count)
        ]
        adagrad = sum(torch.outer(g.reshape(-1), g.reshape(-1)) for g in grads)
        left, right = sum(g @ g.T for g in grads), sum(g.T @ g for g in grads)
        for eps in (0.0, 1e-3, 1.0):
            bound = torch.kron(
                _psd_sqrt(left + eps * torch.eye(4, dtype=torch.float64)),
                _psd_sqrt(right + eps * torch.eye(3, dtype=torch.float64)),
            )
            gap = bound - eps * torch.eye(12, dtype=torch.float64) - adagrad / rank
            assert torch.linalg.eigvalsh(gap).min().item() >= -1e-12 * bound.norm().item()
    # 1/r cannot be raised: G = diag(1, 1, 0) (rank 2) makes the bound tight, and 0.51 H already breaks it.
    grad = torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64))
    bound = torch.kron(_psd_sqrt(grad @ grad.T), _psd_sqrt(grad.T @ grad))
    adagrad = torch.outer(grad.reshape(-1), grad.reshape(-1))
    assert torch.linalg.eigvalsh(bound - adagrad / 2).min().item() >= -1e-12
    assert torch.linalg.eigvalsh(bound - 0.51 * adagrad).min().item() <= -0.01
    # (L kron R) vec(G) = vec(L G R) for symmetric R, with vec stacking the rows.
    left, right, g = _random_matrix(4, 4, seed=5), _random_matrix(3, 3, seed=6), _random_matrix(4, 3, seed=7)
    left, right = left @ left.T, right @ right.T
    assert (torch.kron(left, right) @ g.reshape(-1) - (left @ g @ right).reshape(-1)).abs().max().item() <= 1e-12


def test_rank_one_step():
    # Exercise 1: G = u v^T with |u| = a, |v| = b: the paper's first step is G / sqrt(a^2 b^2 + eps).
    u = torch.tensor([[3.0], [0.0], [4.0]], dtype=torch.float64)
    v = torch.tensor([[1.0, 2.0, 2.0, 0.0]], dtype=torch.float64)
    grad = u @ v
    # (With eps = 1e-12 the null space of the factors gets roots of 1e3, which turn the rounding of G's zero
    # components into 1e-13 errors: the exercise's eps -> 0 is checked through the limit instead.)
    for eps in (1e-6, 1e-3, 10.0):
        step = _one_step(grad, betas=(0.0, 1.0), eps=eps, grafting="none")
        assert (step - grad / math.sqrt(15.0**2 + eps)).abs().max().item() <= 1e-14


def test_scale_invariance():
    # Exercise 3, with the factors invertible (a full-rank 6 x 6 gradient) and eps = 0.
    grad = _random_matrix(6, 6, seed=3)
    base = _one_step(grad, betas=(0.0, 1.0), eps=0.0, grafting="none")
    scaled = _one_step(7.0 * grad, betas=(0.0, 1.0), eps=0.0, grafting="none")
    assert (base - scaled).abs().max().item() <= 1e-12
    # One side at -1/4 (no class option: computed by hand) scales by sqrt(c).
    lone = lambda g: matrix_power(g @ g.T, -1 / 4) @ g
    ratio = (lone(7.0 * grad).norm() / lone(grad).norm()).item()
    assert ratio == pytest.approx(math.sqrt(7.0), rel=1e-12)


def test_state_count_of_the_exercise():
    # Exercise 2: a 512 x 64 matrix with the defaults keeps 598,016 numbers, 9.125 times Adam's 65,536.
    param = torch.nn.Parameter(torch.zeros(512, 64))
    param.grad = torch.randn(512, 64)
    optimizer = Shampoo([param])
    optimizer.step()
    count = sum(v.numel() for v in optimizer.state[param].values() if isinstance(v, torch.Tensor))
    assert count == 598_016
    assert count / (2 * 512 * 64) == 9.125


def test_sides_and_shapes():
    # A vector is a row with only its right factor; a kernel [out, in, h, w] is the matrix [out, in*h*w].
    assert matrix_view(torch.zeros(5)).shape == (1, 5)
    assert matrix_view(torch.zeros(4, 3, 2, 2)).shape == (4, 12)
    kernel = torch.nn.Parameter(torch.zeros(4, 3, 2, 2))
    bias = torch.nn.Parameter(torch.zeros(4))
    kernel.grad, bias.grad = torch.randn(4, 3, 2, 2), torch.randn(4)
    optimizer = Shampoo([kernel, bias], lr=0.1)
    optimizer.step()
    assert optimizer.state[kernel]["left_factor"].shape == (4, 4)
    assert optimizer.state[kernel]["right_factor"].shape == (12, 12)
    assert "left_factor" not in optimizer.state[bias] and optimizer.state[bias]["right_factor"].shape == (4, 4)


def test_inverse_root_shifts_a_rank_deficient_factor():
    # A rank-one factor (eigenvalues 14, 0, 0): its zero eigenvalues, after rounding, may fall below eps; the root
    # stays finite and equals (F + eps I)^{-1/4}. Two eigendecompositions of the same ill-conditioned matrix (kappa =
    # 14 / 1e-6) may differ by n u kappa relative in the small eigenvalues, a quarter of that in their roots, which are
    # the largest entries (1e-6^{-1/4} = 31.6): 3 * 1.1e-16 * 1.4e7 / 4 * 31.6 = 3.7e-8. Measured 5.7e-9.
    v = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    root = inverse_root(v @ v.T, 1e-6, 0.25)
    assert torch.isfinite(root).all()
    expected = matrix_power(v @ v.T + 1e-6 * torch.eye(3, dtype=torch.float64), -0.25)
    assert (root - expected).abs().max().item() <= 3.7e-8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(betas=(1.0, 1.0)), "index 0"),
        (dict(betas=(0.9, 1.5)), "index 1"),
        (dict(precondition_frequency=0), "precondition_frequency"),
        (dict(precondition_frequency=4, start_preconditioning_step=2), "start_preconditioning_step"),
        (dict(grafting="sgd"), "grafting"),
        (dict(grafting_beta2=1.0), "grafting_beta2"),
        (dict(max_precond_dim=0), "max_precond_dim"),
        (dict(eps=-1.0), "epsilon"),
    ],
)
def test_refuses_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Shampoo([torch.nn.Parameter(torch.zeros(2, 2))], **kwargs)
