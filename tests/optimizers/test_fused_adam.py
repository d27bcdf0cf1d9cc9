"""Tests of the Fused Adam page: the same numbers as Adam in every mode, state dicts that move between the two
classes, and the flat buffers under awkward parameters (many small, zero-size, non-contiguous, mixed dtypes,
missing gradients, replaced `.data`).

Most tests run the eager kernel (`compiled=False`), which needs no compiler and is exactly Adam's own operations.
The compiled kernels are checked against it per dtype and device: all modes share them (the step's numbers are a
tensor argument), and the multi-tensor kernel is compiled once per model layout, so few models are used.
"""

import copy
import gc
import io
import itertools

import pytest
import torch
from torch import nn

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.fused_adam import FusedAdam, adam_kernel, huge_page_size
from tests.optimizers.common import (
    DEVICES,
    DTYPES,
    assert_resumes_identically,
    compare_trajectories,
    make_data,
    make_model,
    tolerance,
    train,
)

LR = 1e-2
EPS = 1e-8

# Every weight-decay mode of the index page, by name.
WEIGHT_DECAYS = {
    "none": dict(),
    "l2": dict(weight_decay=0.1, weight_decouple=False),
    "decoupled": dict(weight_decay=0.1, weight_decouple=True),
    "absolute": dict(weight_decay=0.01, weight_decouple=True, absolute=True),
}
MODES = list(itertools.product(WEIGHT_DECAYS, [True, False]))

# The compiled loop rounds differently from the eager kernels by an ulp here and there: it may fuse a multiply and
# an add, and it multiplies by a reciprocal where the eager form divides. Each is one rounding more or less per
# operation, within the count of roundings that `common.tolerance` derives its bound from, so the compiled kernel is
# held to that bound (measured on one CPU, with the closed-loop comparison used before: 7.5e-7 in float32, 2.2e-15
# in float64).


def adam_factory(cls, weight_decay: str, optimized_update: bool, **kwargs):
    return lambda params: cls(
        params,
        lr=LR,
        eps=EPS,
        weight_decay=WeightDecay(**WEIGHT_DECAYS[weight_decay]),
        optimized_update=optimized_update,
        **kwargs,
    )


# ## The same numbers as Adam


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay,optimized_update", MODES)
def test_eager_matches_adam(device, dtype, weight_decay, optimized_update):
    diff = compare_trajectories(
        adam_factory(FusedAdam, weight_decay, optimized_update, compiled=False),
        adam_factory(Adam, weight_decay, optimized_update),
        device,
        dtype,
    )
    if device == "cpu":
        # The same kernels on the same numbers: not one bit may differ. An element's result does not depend on
        # where it sits in the flat buffer: elementwise kernels sum nothing, and ATen's vector body and scalar
        # tail round each operation once alike (checked on AVX512; the same source builds the AVX2 kernels).
        assert diff == 0.0
    else:
        assert diff <= tolerance(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_matches_adam_in_every_mode(device, dtype):
    for weight_decay, optimized_update in MODES:
        diff = compare_trajectories(
            adam_factory(FusedAdam, weight_decay, optimized_update, compiled=True),
            adam_factory(Adam, weight_decay, optimized_update),
            device,
            dtype,
        )
        assert diff <= tolerance(device, dtype), (weight_decay, optimized_update, diff)


def test_a_wrong_update_is_caught():
    """The tolerances above are far below the effect of a real change: a different beta2 moves the parameters
    by orders of magnitude more."""
    ours = lambda p: FusedAdam(p, lr=LR, eps=EPS, betas=(0.9, 0.99), compiled=False)
    assert compare_trajectories(ours, adam_factory(Adam, "none", True), "cpu", torch.float32) > 1e-3


@pytest.mark.parametrize("device", DEVICES)
def test_kernel_on_plain_tensors(device):
    """`adam_kernel` alone, eager, against Adam's `step_param` on one tensor, for one step of each mode's numbers."""
    torch.manual_seed(0)
    for weight_decay, optimized_update in MODES:
        param = torch.randn(37, device=device, dtype=torch.float64)
        grad, m, v = torch.randn_like(param), torch.randn_like(param), torch.rand_like(param)
        twin = param.clone()
        adam = Adam(
            [nn.Parameter(param)],
            lr=LR,
            eps=EPS,
            weight_decay=WeightDecay(**WEIGHT_DECAYS[weight_decay]),
            optimized_update=optimized_update,
        )
        group = adam.param_groups[0]
        adam.step_param({"step": 6, "exp_avg": m.clone(), "exp_avg_sq": v.clone()}, group, grad, twin)
        fused = FusedAdam(
            [nn.Parameter(param.clone())],
            lr=LR,
            eps=EPS,
            weight_decay=WeightDecay(**WEIGHT_DECAYS[weight_decay]),
            optimized_update=optimized_update,
        )
        adam_kernel(param, grad, m, v, fused.step_scalars(fused.param_groups[0], 7, param))
        assert (param - twin).abs().max().item() <= 1e-15, (weight_decay, optimized_update)


# ## Resuming across the two classes


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("first,then", [(Adam, FusedAdam), (FusedAdam, Adam), (FusedAdam, FusedAdam)])
def test_resume_across_classes(tmp_path, device, first, then):
    """Train with one class, save to disk, load into the other and train on: bit-identical to an uninterrupted
    run of the first class, since the eager path does Adam's operations."""
    kwargs = lambda cls: dict(compiled=False) if cls is FusedAdam else {}
    ours = lambda p: first(p, lr=LR, eps=EPS, weight_decay=WeightDecay(0.1), **kwargs(first))
    fresh = lambda p: then(p, lr=LR, eps=EPS, weight_decay=WeightDecay(0.1), **kwargs(then))
    assert_resumes_identically(ours, tmp_path, device, torch.float32, fresh=fresh)


def test_state_dict_has_adams_layout():
    model = make_model("cpu", torch.float32)
    twin = copy.deepcopy(model)
    x, y = make_data("cpu", torch.float32)
    fused, adam = FusedAdam(model.parameters(), compiled=False), Adam(twin.parameters())
    train(model, fused, x, y, 3)
    train(twin, adam, x, y, 3)
    a, b = fused.state_dict(), adam.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert {i: set(s) for i, s in a["state"].items()} == {i: set(s) for i, s in b["state"].items()}
    assert all(s["step"] == 3 and isinstance(s["step"], int) for s in a["state"].values())


def test_load_in_process_copies_into_the_buffers():
    """Loading another optimizer's state (not through a file) must not alias its tensors."""
    model = make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    adam = Adam(model.parameters(), lr=LR)
    train(model, adam, x, y, 5)
    saved = copy.deepcopy(adam.state_dict())
    fused = FusedAdam(model.parameters(), lr=LR, compiled=False)
    fused.load_state_dict(adam.state_dict())
    train(model, fused, x, y, 5)
    for i, p in enumerate(model.parameters()):
        assert torch.equal(adam.state[p]["exp_avg"], saved["state"][i]["exp_avg"])
        assert fused.state[p]["step"] == 10


# ## Awkward parameters


def train_params(
    params: list[nn.Parameter], optimizer: torch.optim.Optimizer, steps: int, seed: int = 0, use=None
) -> None:
    """Minimises a fixed random quadratic in every parameter. `use(step)`, when given, is the set of indices of
    the parameters that take part in that step's loss."""
    g = torch.Generator().manual_seed(seed)
    targets = [torch.randn(p.shape, generator=g, dtype=torch.float64).to(p) for p in params]
    for step in range(steps):
        optimizer.zero_grad()
        used = range(len(params)) if use is None else use(step)
        loss = sum(((params[i] - targets[i]) ** 2 * (1 + i % 3)).sum() for i in used)
        loss.backward()
        optimizer.step()


def twin_runs(make_params, steps: int = 30, use=None, **kwargs):
    """The same parameters trained with Adam and with FusedAdam (eager); returns both parameter lists."""
    a, b = make_params(), make_params()
    train_params(a, Adam(a, lr=LR, eps=EPS, **kwargs), steps, use=use)
    fused = FusedAdam(b, lr=LR, eps=EPS, compiled=False, **kwargs)
    train_params(b, fused, steps, use=use)
    return a, b, fused


def test_many_small_tensors():
    def make():
        torch.manual_seed(0)
        return [nn.Parameter(torch.randn(int(torch.randint(1, 9, ()).item()))) for _ in range(500)]

    a, b, fused = twin_runs(make)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    # All 500 live in one buffer of one dtype, and no parameter is left where it was.
    assert len(fused.flat) == 1 and len(fused.flat[0]) == 1
    storage = fused.flat[0][0].param.untyped_storage().data_ptr()
    assert all(p.untyped_storage().data_ptr() == storage for p in b)


def test_zero_size_and_non_contiguous_parameters():
    def make():
        torch.manual_seed(0)
        return [
            nn.Parameter(torch.empty(0, 3)),
            nn.Parameter(torch.randn(5, 4).t()),  # transposed
            nn.Parameter(torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)),
            nn.Parameter(torch.randn(6, 8)[:, ::2]),  # gapped
            nn.Parameter(torch.randn(7)),
            nn.Parameter(torch.empty(0)),
        ]

    a, b, fused = twin_runs(make)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    # Dense layouts keep their strides; the gapped view becomes contiguous.
    assert b[1].stride() == (1, 4)
    assert b[2].is_contiguous(memory_format=torch.channels_last)
    assert b[3].is_contiguous()
    assert [tuple(p.shape) for p in b] == [tuple(p.shape) for p in a]
    # Gradients are views of the buffer, laid out like their parameters.
    assert all(p.grad.stride() == p.stride() for p in b)


def test_mixed_dtypes_across_and_within_groups():
    def make():
        torch.manual_seed(0)
        return [
            nn.Parameter(torch.randn(10)),
            nn.Parameter(torch.randn(3, 3, dtype=torch.float64)),
            nn.Parameter(torch.randn(4)),
            nn.Parameter(torch.randn(5, dtype=torch.float64)),
        ]

    def groups(params):
        return [
            {"params": params[:2], "lr": 0.03},
            {"params": params[2:], "weight_decay": 0.1, "weight_decouple": False, "optimized_update": False},
        ]

    a, b = make(), make()
    train_params(a, Adam(groups(a), lr=LR, eps=EPS), 30)
    fused = FusedAdam(groups(b), lr=LR, eps=EPS, compiled=False)
    train_params(b, fused, 30)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert all(p.dtype == q.dtype for p, q in zip(a, b))
    assert [[f.param.dtype for f in group] for group in fused.flat] == [[torch.float32, torch.float64]] * 2


def test_parameters_without_gradient_are_skipped():
    """Parameter 1 takes part only in even steps, parameter 3 never: they fall out of the whole-buffer update,
    their step counts drift apart, and still every number equals Adam's."""

    def make():
        torch.manual_seed(0)
        return [nn.Parameter(torch.randn(4)) for _ in range(4)]

    use = lambda step: [0, 2] + ([1] if step % 2 == 0 else [])
    a, b, fused = twin_runs(make, use=use)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert [fused.state[p]["step"] if p in fused.state else None for p in b] == [30, 15, 30, None]
    assert torch.equal(b[3], make()[3])


@pytest.mark.parametrize("per_tensor_min_numel", [2**16, 0])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_either_way(set_to_none, per_tensor_min_numel):
    """`zero_grad()` means what it means for any optimizer: `None` gradients (PyTorch's default) or zeros. With
    `set_to_none=False` autograd accumulates straight into the buffer; with `True` the step copies small new gradients
    into it, and reads large ones (here, with the limit at 0, all of them) where autograd made them. Every way gives
    Adam's numbers."""
    model, twin = make_model("cpu", torch.float32), make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    fused, adam = FusedAdam(model.parameters(), lr=LR, compiled=False), Adam(twin.parameters(), lr=LR)
    fused.per_tensor_min_numel = per_tensor_min_numel
    for _ in range(20):
        for m, opt in ((model, fused), (twin, adam)):
            opt.zero_grad(set_to_none=set_to_none)
            if opt is fused and fused.flat is not None:
                flat = fused.flat[0][0]
                assert all((p.grad is None) if set_to_none else not p.grad.any() for p in flat.params)
            nn.functional.mse_loss(m(x), y).backward()
            opt.step()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))
    flat = fused.flat[0][0]
    in_buffer = [p.grad is view for p, view in zip(flat.params, flat.grad_views)]
    assert all(in_buffer) if (per_tensor_min_numel > 0 or not set_to_none) else not any(in_buffer)


def test_large_gradients_are_read_in_place():
    """A weight of 65,536 elements is updated on the gradient autograd made, as a loop of its own in the step's
    compiled call; the bias's gradient is copied into the buffer. Compiled, against Adam."""
    torch.manual_seed(0)
    layer = nn.Linear(256, 256, dtype=torch.float64)
    twin = copy.deepcopy(layer)
    fused, adam = FusedAdam(layer.parameters(), lr=LR, eps=EPS), Adam(twin.parameters(), lr=LR, eps=EPS)
    x = torch.randn(4, 256, dtype=torch.float64)
    for t in range(5):
        grads = []
        for m, opt in ((layer, fused), (twin, adam)):
            opt.zero_grad()
            m(x).square().mean().backward()
            grads.append(m.weight.grad)
            opt.step()
        # After the first step (which builds the buffers and moves every gradient there), the step leaves the
        # large gradient where autograd put it.
        assert (layer.weight.grad is grads[0]) == (t > 0)
    flat = fused.flat[0][0]
    # Small parameters come first in the buffers.
    assert flat.params == [layer.bias, layer.weight]
    assert layer.weight.grad is not flat.grad_views[1] and layer.bias.grad is flat.grad_views[0]
    assert max((p - q).abs().max().item() for p, q in zip(layer.parameters(), twin.parameters())) <= tolerance(
        "cpu", torch.float64
    )


def count_kernel_calls(monkeypatch) -> list[int]:
    """Counts the calls of `run_kernel_many` (each entry: how many tensors the call updated), which still run."""
    from labml_nn.optimizers import fused_adam

    calls: list[int] = []
    run = fused_adam.run_kernel_many

    def counted(params, *rest):
        calls.append(len(params))
        run(params, *rest)

    monkeypatch.setattr(fused_adam, "run_kernel_many", counted)
    return calls


def test_large_gradients_share_compiled_calls(monkeypatch):
    """Several large gradients, read in place, and the run of small ones go to the multi-tensor kernel together:
    with at most 4 tensors per call (lowered from 32 so that the test compiles little), 5 weights and the run of
    biases make 2 calls per step. The numbers are Adam's, to the compiled kernel's bound, and `maximize` too."""
    from labml_nn.optimizers import fused_adam

    monkeypatch.setattr(fused_adam, "MAX_TENSORS_PER_CALL", 4)
    calls = count_kernel_calls(monkeypatch)
    for maximize in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(*[nn.Linear(256, 256, dtype=torch.float64) for _ in range(5)])
        twin = copy.deepcopy(model)
        fused = FusedAdam(model.parameters(), lr=LR, eps=EPS, maximize=maximize)
        adam = Adam(twin.parameters(), lr=LR, eps=EPS, maximize=maximize)
        x = torch.randn(4, 256, dtype=torch.float64)
        for t in range(4):
            calls.clear()
            for m, opt in ((model, fused), (twin, adam)):
                opt.zero_grad()
                m(x).square().mean().backward()
                opt.step()
            if t > 0:  # the first step copies every gradient into the buffer: one run, one call
                assert sorted(calls) == [2, 4], calls
                flat = fused.flat[0][0]
                assert all(layer.weight.grad is not view for layer, view in zip(model, flat.grad_views[5:]))
        diff = max((p - q).abs().max().item() for p, q in zip(model.parameters(), twin.parameters()))
        assert diff <= tolerance("cpu", torch.float64), (maximize, diff)


class TwoDtypes(nn.Module):
    """Two float64 layers and a float32 one on separate paths: with a loss that is a sum over the two outputs, the
    float64 gradients do not depend on the float32 layer's rounding, so each can be held to its own dtype's bound."""

    def __init__(self):
        super().__init__()
        self.wide = nn.Sequential(nn.Linear(64, 64, dtype=torch.float64), nn.Linear(64, 64, dtype=torch.float64))
        self.narrow = nn.Linear(64, 64, dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.wide(x), self.narrow(x.float())


@pytest.mark.distributed
@pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()), reason="needs gloo"
)
def test_sharded_parameters_share_compiled_calls(tmp_path, monkeypatch):
    """Under FSDP2 a rank's local shards go to the multi-tensor kernel together, a call per dtype: FSDP2 lets
    modules sharded apart differ in dtype, and one call's tensors must share one. Two float64 layers and a float32
    one, in a one-process gloo group (two processes are `test_distributed.py`'s), make a call of 4 tensors and one
    of 2 per step. The numbers are Adam's, to the compiled kernel's bound for each dtype."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor

    calls = count_kernel_calls(monkeypatch)
    dist.init_process_group("gloo", store=dist.FileStore(str(tmp_path / "store"), 1), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        torch.manual_seed(0)
        model = TwoDtypes()
        twin = copy.deepcopy(model)
        for layer in (*model.wide, model.narrow):
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        assert all(isinstance(p, DTensor) for p in model.parameters())
        fused = FusedAdam(model.parameters(), lr=LR, eps=EPS)
        adam = Adam(twin.parameters(), lr=LR, eps=EPS)
        x = torch.randn(4, 64, dtype=torch.float64)
        for _ in range(3):
            calls.clear()
            for m, opt in ((model, fused), (twin, adam)):
                opt.zero_grad()
                wide, narrow = m(x)
                (wide.square().mean() + narrow.square().mean()).backward()
                opt.step()
            assert sorted(calls) == [2, 4], calls
        assert fused.flat == [[]]  # nothing was flattened
        for p, q in zip(model.parameters(), twin.parameters()):
            diff = (p.full_tensor() - q).abs().max().item()
            assert diff <= tolerance("cpu", q.dtype), (q.dtype, diff)
    finally:
        dist.destroy_process_group()


def test_many_models_in_one_process_stay_compiled(caplog, monkeypatch):
    """The multi-tensor kernel is compiled for each model's lengths; PyTorch allows eight variants of a function,
    and with `fullgraph=True` a ninth fails. Nine models of other sizes in one process (a sweep, a test suite) must
    all get the compiled kernel, without PyTorch reporting the limit. After its first step, each model's steps call
    its compiled variant directly, not through `torch.compile` (whose guards would choose it at several times the
    cost), including a step under `torch.autocast`, where the guards would see another global state and compile
    again; the numbers stay Adam's."""
    import logging

    from labml_nn.optimizers import fused_adam

    graphs = []
    with caplog.at_level(logging.WARNING, logger="torch._dynamo"):
        for size in range(11, 20):
            torch.manual_seed(size)
            model = nn.Linear(size, 1, bias=False, dtype=torch.float64)
            twin = copy.deepcopy(model)
            fused, adam = FusedAdam(model.parameters(), lr=LR), Adam(twin.parameters(), lr=LR)
            x = torch.randn(3, size, dtype=torch.float64)
            for _ in range(2):
                for m, opt in ((model, fused), (twin, adam)):
                    opt.zero_grad()
                    m(x).square().mean().backward()
                    opt.step()
            graphs.append(torch._dynamo.utils.counters["stats"]["unique_graphs"])
            assert (torch.float64, torch.float64, torch.device("cpu"), False, size) in fused_adam.COMPILED
            assert (model.weight - twin.weight).abs().max().item() <= tolerance("cpu", torch.float64)
    assert not [r for r in caplog.records if "recompile_limit" in r.getMessage()]
    # Each model compiled its own variant: the count of compiled graphs grew with every model.
    assert all(b > a for a, b in zip(graphs, graphs[1:])), graphs

    # From now on nothing goes through `torch.compile`: it would fail.
    def refuse():
        raise AssertionError("a compiled variant went through torch.compile again")

    monkeypatch.setattr(fused_adam, "compiled_adam_kernel_many", refuse)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for _ in range(2):
            for m, opt in ((model, fused), (twin, adam)):
                opt.zero_grad()
                m(x).float().square().mean().backward()
                opt.step()
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs[-1]
    assert (model.weight - twin.weight).abs().max().item() <= tolerance("cpu", torch.float64)
    # A length not compiled yet does go through it.
    other = nn.Linear(7, 1, bias=False, dtype=torch.float64)
    other(torch.randn(3, 7, dtype=torch.float64)).sum().backward()
    with pytest.raises(AssertionError, match="went through torch.compile"):
        FusedAdam(other.parameters(), lr=LR).step()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_steps_take_float32_numbers(dtype):
    """For `float16` and `bfloat16` parameters the step's numbers are `float32`, as an eager kernel computes with a
    Python scalar: rounded to `float16`, eps = 1e-8 was 0 and every element with a zero gradient became 0/0 = NaN
    (it did, before); rounded to `bfloat16`, beta2 = 0.999 was 1. One compiled step on `float16` is then the
    `float32` step (Adam's, on the same values) rounded once: within one `float16` ulp."""
    fused = FusedAdam([nn.Parameter(torch.zeros(1, dtype=dtype))], lr=LR, eps=EPS)
    scalars = fused.step_scalars(fused.param_groups[0], 1, torch.zeros(1, dtype=dtype))
    assert scalars.dtype == torch.float32 and scalars[3].item() == torch.tensor(0.999, dtype=torch.float32).item()
    if dtype == torch.bfloat16:
        return  # the kernel is the same one; float16 shows the arithmetic
    torch.manual_seed(0)
    start = torch.randn(4096, dtype=torch.float16)
    grad = torch.randn(4096, dtype=torch.float16)
    grad[::2] = 0
    param, reference = nn.Parameter(start.clone()), nn.Parameter(start.float())
    fused = FusedAdam([param], lr=LR, eps=EPS)
    adam = Adam([reference], lr=LR, eps=EPS)
    param.grad, reference.grad = grad.clone(), grad.float()
    fused.step()
    adam.step()
    assert not param.isnan().any()
    assert torch.equal(param[::2], start[::2])  # zero gradient, zero moments: no step
    ulp = torch.finfo(torch.float16).eps * reference.detach().abs()
    assert ((param.float() - reference).abs() <= ulp).all()


def test_a_direct_call_is_the_compiled_call():
    """`run_kernel_many`'s direct call of a compiled variant gives, bit for bit, what the call through
    `torch.compile` gives, on the same inputs, for each input in its place: a call with the arguments mapped wrongly
    (a gradient taken for a moment, say) would differ."""
    from labml_nn.optimizers import fused_adam

    torch.manual_seed(0)
    lengths = (5, 9, 13)
    scalars = torch.tensor([1.0, 0.0, 0.1, 0.999, 0.001, 1.0, 1e-8, -1e-3], dtype=torch.float64)

    def inputs():
        torch.manual_seed(1)
        return [[torch.randn(n, dtype=torch.float64) for n in lengths] for _ in range(3)] + [
            [torch.rand(n, dtype=torch.float64) for n in lengths]
        ]

    with torch.no_grad():
        first = inputs()
        fused_adam.run_kernel_many(*first, scalars)  # compiles (or finds in torch.compile's cache) and runs
        via_compile = inputs()
        fused_adam.compiled_adam_kernel_many()(*via_compile, scalars)
        direct = inputs()
        assert fused_adam.variant_key(direct[0], scalars) in fused_adam.COMPILED
        fused_adam.run_kernel_many(*direct, scalars)
    for a, b in zip(via_compile, direct):
        for x, y in zip(a, b):
            assert torch.equal(x, y)
    assert not torch.equal(direct[0][0], inputs()[0][0])  # it did update the parameters


@pytest.mark.parametrize(
    "enabled, size, expected",
    [
        ("always [madvise] never", "2097152", 2097152),
        ("[always] madvise never", "2097152", 2097152),
        ("always madvise [never]", "2097152", 0),
        # arm64 with 64 KiB base pages: a huge page of 512 MiB is not worth rounding buffers up to
        ("always [madvise] never", "536870912", 0),
        (None, None, 0),  # no such files: not Linux, or no THP in the kernel
    ],
)
def test_huge_page_size_reads_the_kernels_settings(monkeypatch, enabled, size, expected):
    from labml_nn.optimizers import fused_adam

    files = {
        "/sys/kernel/mm/transparent_hugepage/enabled": enabled,
        "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size": size,
    }

    def fake_open(path, *args, **kwargs):
        if files.get(path) is None:
            raise FileNotFoundError(path)
        return io.StringIO(files[path] + "\n")

    monkeypatch.setattr(fused_adam, "open", fake_open, raising=False)
    fused_adam.huge_page_size.cache_clear()
    try:
        assert fused_adam.huge_page_size() == expected
    finally:
        monkeypatch.undo()
        fused_adam.huge_page_size.cache_clear()


def advised_mappings() -> dict[int, int]:
    """This process's memory mappings marked `MADV_HUGEPAGE` (`hg` among the VmFlags of /proc/self/smaps), as
    start address to end address. Others than `FusedAdam`'s may be among them (PyTorch's allocator under
    `THP_MEM_ALLOC_ENABLE=1`, glibc's under `glibc.malloc.hugetlb=1`), so the test below asks only about the
    addresses of its buffers."""
    mappings, current = {}, None
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if "-" in head and not head.endswith(":"):
                current = tuple(int(a, 16) for a in head.split("-"))
            elif head == "VmFlags:" and "hg" in line.split()[1:]:
                mappings[current[0]] = current[1]
    return mappings


@pytest.mark.skipif(huge_page_size() == 0, reason="the system offers no transparent huge pages")
@pytest.mark.parametrize("huge_pages", [True, False])
def test_large_buffers_ask_for_huge_pages(huge_pages):
    """A model of at least one huge page (4 MiB here) gets buffers that start at a huge-page boundary in mappings
    marked for huge pages, and lose nothing: the same numbers as Adam, a `state_dict()` that saves the parameters'
    buffer once, a deep copy, and the mappings gone with the optimizer and the model. `huge_pages = False` gives
    ordinary memory (PyTorch's allocator, whose storages can be resized; a mapping's cannot). Whether the kernel
    then finds free huge pages is its business, so it is not asserted."""

    def advised(ranges: list[tuple[int, int]]) -> list[bool]:
        mappings = advised_mappings()
        return [any(s <= a and b <= e for s, e in mappings.items()) for a, b in ranges]

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1024, 1024), nn.Tanh(), nn.Linear(1024, 4))
    twin = copy.deepcopy(model)
    fused = FusedAdam(model.parameters(), lr=LR, eps=EPS, compiled=False)
    fused.huge_pages = huge_pages
    adam = Adam(twin.parameters(), lr=LR, eps=EPS)
    x, y = torch.randn(8, 1024), torch.randn(8, 4)
    for _ in range(3):
        for m, opt in ((model, fused), (twin, adam)):
            opt.zero_grad()
            nn.functional.mse_loss(m(x), y).backward()
            opt.step()
    # Eager, on a CPU, `FusedAdam` is Adam's own operations: equal, not close.
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))

    flat = fused.flat[0][0]
    buffers = (flat.param, flat.grad, flat.exp_avg, flat.exp_avg_sq)
    ranges = [(b.data_ptr(), b.data_ptr() + b.nbytes) for b in buffers]
    if huge_pages:
        assert all(a % huge_page_size() == 0 for a, _ in ranges)
        assert not any(b.untyped_storage().resizable() for b in buffers)
        # Each buffer lies inside a mapping marked for huge pages (the kernel merges neighbouring mappings of the
        # same kind into one, so the four may share one).
        assert all(advised(ranges))
    else:
        assert all(b.untyped_storage().resizable() for b in buffers)

    # The saved model holds its parameters once: the parameters' buffer, not the gradients' or moments'.
    saved = io.BytesIO()
    torch.save(model.state_dict(), saved)
    assert flat.param.nbytes < len(saved.getvalue()) < flat.param.nbytes + 2**16
    saved.seek(0)
    twin.load_state_dict(torch.load(saved))
    copied = copy.deepcopy(model)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), copied.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))

    del model, fused, flat, buffers
    gc.collect()
    if huge_pages:
        # The mappings went with the last views of the buffers.
        assert not any(advised(ranges))


def test_gradients_accumulate_in_the_buffer():
    """Two backward passes after `zero_grad(set_to_none=False)` add into the buffer in place, and the sum is the one
    plain autograd makes."""
    model, twin = make_model("cpu", torch.float64), make_model("cpu", torch.float64)
    x, y = make_data("cpu", torch.float64)
    fused = FusedAdam(model.parameters(), lr=LR, compiled=False)
    train(model, fused, x, y, 1)
    twin.load_state_dict(model.state_dict())
    fused.zero_grad(set_to_none=False)
    for m in (model, twin):
        for half in (slice(0, 32), slice(32, 64)):
            nn.functional.mse_loss(m(x[half]), y[half]).backward()
    flat = fused.flat[0][0]
    assert all(p.grad is view for p, view in zip(flat.params, flat.grad_views))
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(model.parameters(), twin.parameters()))


def test_replaced_param_data_is_flattened_again():
    model, twin = make_model("cpu", torch.float32), make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    fused, adam = FusedAdam(model.parameters(), lr=LR, compiled=False), Adam(twin.parameters(), lr=LR)
    train(model, fused, x, y, 5)
    train(twin, adam, x, y, 5)
    for m in (model, twin):
        m[0].weight.data = torch.full_like(m[0].weight, 0.5)
    train(model, fused, x, y, 5)
    train(twin, adam, x, y, 5)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))
    # The new tensor was copied into a new buffer, and the state followed.
    assert model[0].weight.untyped_storage().data_ptr() == fused.flat[0][0].param.untyped_storage().data_ptr()
    assert fused.state[model[0].weight]["step"] == 10


def test_added_param_group():
    model, twin = make_model("cpu", torch.float32), make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    params, twin_params = list(model.parameters()), list(twin.parameters())
    fused = FusedAdam(params[:2], lr=LR, compiled=False)
    adam = Adam(twin_params[:2], lr=LR)
    train(model, fused, x, y, 5)
    train(twin, adam, x, y, 5)
    fused.add_param_group({"params": params[2:], "lr": 0.05})
    adam.add_param_group({"params": twin_params[2:], "lr": 0.05})
    train(model, fused, x, y, 5)
    train(twin, adam, x, y, 5)
    assert all(torch.equal(p, q) for p, q in zip(params, twin_params))


# ## What FusedAdam shares with Adam


def test_sparse_gradients_are_refused():
    embedding = nn.Embedding(10, 3, sparse=True)
    optimizer = FusedAdam(embedding.parameters(), compiled=False)
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        optimizer.step()


def test_hyper_parameters_are_validated_once_as_in_adam():
    with pytest.raises(ValueError, match="Invalid learning rate"):
        FusedAdam([nn.Parameter(torch.zeros(1))], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid beta"):
        FusedAdam([nn.Parameter(torch.zeros(1))], betas=(0.9, 1.0))


def test_closure_returns_the_loss():
    model = make_model("cpu", torch.float32)
    x, y = make_data("cpu", torch.float32)
    optimizer = FusedAdam(model.parameters(), compiled=False)

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    expected = nn.functional.mse_loss(model(x), y).item()
    assert optimizer.step(closure).item() == pytest.approx(expected)


def test_subclass_that_changes_the_update_is_refused_when_compiled():
    # The compiled kernel is plain Adam; a subclass overriding get_mv (as AMSGrad does) would
    # silently lose its change, so FusedAdam refuses it and the eager path keeps the hook.
    class MaxFused(FusedAdam):
        def get_mv(self, state, group, grad):
            m, v = super().get_mv(state, group, grad)
            return m, v * 2

    param = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(
        TypeError, match="MaxFused overrides get_mv, which the compiled kernel of FusedAdam does not call"
    ):
        MaxFused([param])
    eager = MaxFused([param], compiled=False, lr=0.1, optimized_update=False, eps=0.0)
    param.grad = torch.ones(3)
    eager.step()
    # v_1 = 0.001 doubled: step = 0.1 * 1 / (sqrt(0.002 / 0.001)) = 0.1 / sqrt(2)
    assert torch.allclose(param.detach(), torch.full((3,), 1 - 0.1 / 2**0.5), atol=1e-7)
