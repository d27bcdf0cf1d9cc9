"""The optimizers under `torch.distributed`: DistributedDataParallel, ZeroRedundancyOptimizer and FSDP2.

Two processes form a real gloo process group on this machine. They run every scenario in one
start-up (starting processes and importing torch costs far more than the training), write what they
got to files, and the tests compare those files with single-process training here.

* Adam: DDP, ZeRO, and a ZeRO checkpoint resumed by plain Adam and by a fresh ZeRO optimizer.
* Every optimizer of the chapter's registry (`labml_nn/optimizers/registry.py`, which a test here
  checks against the classes the chapter defines), with each entry's test arguments: DDP, ZeRO and
  FSDP2 (`fully_shard`, DTensor parameters), 20 steps in float64, against single-process training; under FSDP2 the optimizer state is compared too, gathered from
  the shards, which checks that Adafactor's row and column statistics cover the whole matrix.

`python -m tests.optimizers.test_distributed` prints the matrix of measured differences.

The process group is CPU-only: gloo is the backend that every machine has, and the CUDA kernels of the
update are covered by the device-parametrized tests of test_adam.py and test_base.py.
"""

import dataclasses
import datetime
import importlib
import inspect
import pkgutil
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel

import labml_nn.optimizers
from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import optimizer_entries
from tests.optimizers.common import make_data, make_model, tolerance, train

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.skipif(
        not (dist.is_available() and dist.is_gloo_available()),
        reason="this torch build has no torch.distributed with gloo",
    ),
]

WORLD_SIZE = 2
DTYPE = torch.float64
LR = 1e-2
STEPS = 20
# The ZeRO state is saved after this many steps and training is resumed from it.
SAVE_AT = 10


def make_adam(params, **overrides) -> Adam:
    """The optimizer of every scenario; weight decay and a non-default eps so that they are exercised too."""
    return Adam(params, **{**dict(lr=LR, eps=1e-8, weight_decay=WeightDecay(0.1)), **overrides})


def make_zero(params, **overrides) -> ZeroRedundancyOptimizer:
    return ZeroRedundancyOptimizer(
        params, optimizer_class=Adam, **{**dict(lr=LR, eps=1e-8, weight_decay=WeightDecay(0.1)), **overrides}
    )


def params_list(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


@dataclasses.dataclass
class Case:
    """One optimizer of the matrix: its class, its arguments, and what its loop does besides `step()`."""

    cls: type
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Called after every step with (optimizer, step index): Sophia's Hessian estimate
    after_step: Optional[Callable[[torch.optim.Optimizer, int], None]] = None
    # A substring of the error the optimizer raises when constructed over DTensor parameters, if it refuses FSDP2
    refuses_fsdp2: Optional[str] = None
    # Which of the model's parameters it trains (Muon takes only matrices); the others keep their initial values
    select: Callable[[list[nn.Parameter]], list[nn.Parameter]] = list

    def make(self, params) -> torch.optim.Optimizer:
        return self.cls(self.select(list(params)), **self.kwargs)


def matrix_cases() -> dict[str, Case]:
    """Every entry of the chapter's registry, by class name, and each of its variants, by class and variant name.

    An entry's test arguments make its optimizer move the parameters noticeably in 20 steps.
    """
    cases = {}
    for entry in optimizer_entries():
        for variant, kwargs in {"": {}, **entry.variants}.items():
            name = f"{entry.cls.__name__}, {variant}" if variant else entry.cls.__name__
            cases[name] = Case(
                entry.cls, {**entry.test_kwargs, **kwargs}, entry.after_step, entry.refuses_fsdp2, entry.select
            )
    return cases


OPTIMIZERS: dict[str, Case] = matrix_cases()
WRAPPERS = ["DDP", "ZeRO", "FSDP2"]


def train_case(model: nn.Module, optimizer, case: Case, x, y, steps: int = STEPS) -> None:
    for t in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        if case.after_step is not None:
            case.after_step(optimizer, t)


def full(tensor: torch.Tensor) -> torch.Tensor:
    """The whole tensor, gathered from the shards for a DTensor."""
    from torch.distributed.tensor import DTensor

    return (tensor.full_tensor() if isinstance(tensor, DTensor) else tensor).detach().clone()


def state_list(optimizer: torch.optim.Optimizer, model: nn.Module) -> list[dict[str, torch.Tensor]]:
    """Every parameter's tensor state, whole, in the order of `model.parameters()`."""
    return [
        {k: full(v) for k, v in sorted(optimizer.state[p].items()) if isinstance(v, torch.Tensor) and v.dim() > 0}
        for p in model.parameters()
    ]


def run_matrix(rank: int, x: torch.Tensor, y: torch.Tensor) -> dict[str, dict[str, Any]]:
    """Every optimizer under every wrapper; each result is params and state, or the refusal or failure message."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (WORLD_SIZE,))
    half = x.chunk(WORLD_SIZE)[rank], y.chunk(WORLD_SIZE)[rank]
    results: dict[str, dict[str, Any]] = {}
    for name, case in OPTIMIZERS.items():
        for wrapper in WRAPPERS:
            model = make_model("cpu", DTYPE)
            result: dict[str, Any] = {}
            try:
                if wrapper == "DDP":
                    net, data = DistributedDataParallel(model), half
                    optimizer = case.make(net.parameters())
                elif wrapper == "ZeRO":
                    # Every rank computes the whole batch's gradient; each updates the parameters it owns.
                    net, data = model, (x, y)
                    optimizer = ZeroRedundancyOptimizer(
                        case.select(list(model.parameters())), optimizer_class=case.cls, **case.kwargs
                    )
                else:
                    for layer in model:
                        if isinstance(layer, nn.Linear):
                            fully_shard(layer, mesh=mesh)
                    net, data = fully_shard(model, mesh=mesh), half
                    try:
                        optimizer = case.make(model.parameters())
                    except Exception as e:
                        result["refused"] = f"{type(e).__name__}: {e}"
                        results[f"{name}/{wrapper}"] = result
                        continue
                # ZeRO's wrapper has no `update_hessian`; its local optimizer does.
                local = optimizer.optim if wrapper == "ZeRO" else optimizer
                train_case(
                    net,
                    optimizer,
                    dataclasses.replace(
                        case,
                        after_step=(lambda o, t, case=case, local=local: case.after_step(local, t))
                        if case.after_step
                        else None,
                    ),
                    *data,
                )
                result["params"] = [full(p) for p in model.parameters()]
                if wrapper == "FSDP2":
                    result["state"] = state_list(optimizer, model)
            except Exception:
                result["failed"] = traceback.format_exc()
            results[f"{name}/{wrapper}"] = result
    return results


def worker(rank: int, port: int, out: str) -> None:
    """Runs in each of the two processes."""
    out = Path(out)
    # Both processes share two cores with the test runner; more threads would only contend.
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        x, y = make_data("cpu", DTYPE)

        # DDP: each rank trains on its half of the batch. The loss is a mean over the half, and DDP
        # averages the two gradients, which is the gradient of the mean loss over the whole batch.
        model = make_model("cpu", DTYPE)
        ddp = DistributedDataParallel(model)
        opt = make_adam(ddp.parameters())
        train(ddp, opt, x.chunk(WORLD_SIZE)[rank], y.chunk(WORLD_SIZE)[rank], STEPS)
        if rank == 0:
            torch.save(params_list(model), out / "ddp.pt")

        # ZeRO: every rank computes the gradient of the whole batch; each updates the parameters
        # it owns and broadcasts them.
        model = make_model("cpu", DTYPE)
        zero = make_zero(model.parameters())
        train(model, zero, x, y, SAVE_AT)
        # Every rank takes part in consolidation; only rank 0 then holds the whole state.
        zero.consolidate_state_dict(to=0)
        if rank == 0:
            # The ranks own different parameters, so a rank that holds all of them proves the sharding happened.
            assert len(zero.optim.state) < len(list(model.parameters()))
            torch.save({"model": model.state_dict(), "optimizer": zero.state_dict()}, out / "zero_checkpoint.pt")
        train(model, zero, x, y, STEPS - SAVE_AT)
        if rank == 0:
            torch.save(params_list(model), out / "zero.pt")

        # Resume: a fresh model and a fresh ZeRO optimizer, built with other hyper-parameters,
        # load the consolidated checkpoint on every rank.
        dist.barrier()
        checkpoint = torch.load(out / "zero_checkpoint.pt", weights_only=True)
        model = make_model("cpu", DTYPE, seed=123)
        model.load_state_dict(checkpoint["model"])
        zero = make_zero(model.parameters(), lr=0.5, weight_decay=WeightDecay(0.0))
        zero.load_state_dict(checkpoint["optimizer"])
        train(model, zero, x, y, STEPS - SAVE_AT)
        if rank == 0:
            torch.save(params_list(model), out / "zero_resumed.pt")

        matrix = run_matrix(rank, x, y)
        if rank == 0:
            torch.save(matrix, out / "matrix.pt")
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("distributed")
    mp.spawn(worker, args=(free_port(), str(out)), nprocs=WORLD_SIZE, join=True)
    return {
        name: torch.load(out / f"{name}.pt", weights_only=True)
        for name in ("ddp", "zero", "zero_checkpoint", "zero_resumed", "matrix")
    }


def single_process(steps: int = STEPS) -> list[torch.Tensor]:
    model = make_model("cpu", DTYPE)
    x, y = make_data("cpu", DTYPE)
    train(model, make_adam(model.parameters()), x, y, steps)
    return params_list(model)


def assert_params_close(a: list[torch.Tensor], b: list[torch.Tensor], atol: float) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=0, atol=atol)


def test_ddp_equals_single_process_on_the_whole_batch(results):
    # The averaged gradient is summed in another order than the whole-batch one, hence a tolerance
    # rather than bit equality.
    assert_params_close(results["ddp"], single_process(), tolerance("cpu", DTYPE))
    # And training moved the parameters, so the comparison is not between two initial models.
    assert (results["ddp"][0] - make_model("cpu", DTYPE)[0].weight).abs().max() > 1e-2


def test_zero_equals_plain_adam(results):
    # Every rank sees the same gradient and each parameter is updated by one rank with the same
    # operations as plain Adam: no reduction differs, so the parameters are bit-identical.
    for p, q in zip(results["zero"], single_process()):
        assert torch.equal(p, q)


def test_zero_consolidated_state_dict_is_a_plain_adam_state_dict(results):
    saved = results["zero_checkpoint"]["optimizer"]
    n_params = len(list(make_model("cpu", DTYPE).parameters()))
    # The state of every parameter, gathered from both ranks, under the global parameter numbering.
    assert sorted(saved["state"]) == list(range(n_params))
    assert all(s["step"] == SAVE_AT and set(s) == {"step", "exp_avg", "exp_avg_sq"} for s in saved["state"].values())
    group = saved["param_groups"][0]
    assert (group["lr"], group["eps"], group["weight_decay"], group["weight_decouple"]) == (LR, 1e-8, 0.1, True)


def test_zero_state_dict_loads_into_plain_adam(results):
    checkpoint = results["zero_checkpoint"]
    model = make_model("cpu", DTYPE, seed=123)
    model.load_state_dict(checkpoint["model"])
    # Built with other hyper-parameters: the loaded groups must replace them.
    opt = make_adam(model.parameters(), lr=0.5, weight_decay=WeightDecay(0.0))
    opt.load_state_dict(checkpoint["optimizer"])
    x, y = make_data("cpu", DTYPE)
    train(model, opt, x, y, STEPS - SAVE_AT)
    for p, q in zip(params_list(model), results["zero"]):
        assert torch.equal(p, q)


def test_zero_state_dict_loads_into_fresh_zero(results):
    for p, q in zip(results["zero_resumed"], results["zero"]):
        assert torch.equal(p, q)


# ## Every optimizer under DDP, ZeRO and FSDP2


def chapter_optimizers() -> dict[str, type]:
    """Every `GenericAdaptiveOptimizer` subclass defined in a module of the chapter, by class name."""
    found = {}
    for module_info in pkgutil.iter_modules(labml_nn.optimizers.__path__):
        module = importlib.import_module(f"labml_nn.optimizers.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, GenericAdaptiveOptimizer) and cls.__module__ == module.__name__:
                found[cls.__name__] = cls
    return found


def test_every_optimizer_of_the_chapter_is_in_the_table():
    table = {name: case.cls for name, case in OPTIMIZERS.items()}
    chapter = chapter_optimizers()
    missing = sorted(set(chapter) - set(table))
    assert not missing, f"declare an OptimizerEntry for each of {missing} on its page"
    # A line named after a class is that class; other lines (a second configuration) are of chapter classes too.
    assert all(cls is chapter[name] if name in chapter else cls in chapter.values() for name, cls in table.items())


def single_process_case(name: str):
    """Params and state after training on the whole batch in this process, once per optimizer."""
    if name not in SINGLE:
        case = OPTIMIZERS[name]
        model = make_model("cpu", DTYPE)
        x, y = make_data("cpu", DTYPE)
        optimizer = case.make(model.parameters())
        train_case(model, optimizer, case, x, y)
        SINGLE[name] = params_list(model), state_list(optimizer, model)
    return SINGLE[name]


SINGLE: dict[str, Any] = {}


def max_difference(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    assert len(a) == len(b) and all(p.shape == q.shape for p, q in zip(a, b))
    return max((p - q).abs().max().item() for p, q in zip(a, b) if p.numel())


def matrix_differences(results, name: str, wrapper: str) -> dict[str, Any]:
    """The largest parameter and state differences from single-process training, or the refusal."""
    result = results["matrix"][f"{name}/{wrapper}"]
    assert "failed" not in result, result["failed"]
    if "refused" in result:
        return {"refused": result["refused"]}
    params, state = single_process_case(name)
    out = {"params": max_difference(result["params"], params)}
    if "state" in result:
        assert [sorted(s) for s in result["state"]] == [sorted(s) for s in state]
        # Relative to each state tensor's largest entry (at least 1): some state grows large (RMSProp's momentum
        # buffer holds g / sqrt(v), about 1e3 here), and its rounding with it.
        out["state"] = max(
            max_difference([s[k]], [t[k]]) / max(1.0, t[k].abs().max().item())
            for s, t in zip(result["state"], state)
            for k in s
            if t[k].numel()
        )
    return out


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_matches_single_process_or_refuses(results, name, wrapper):
    """Float64 and 20 steps: the only difference from one process is the order in which the two halves' gradients
    are summed, a rounding error of about 1e-16 per step; 1e-12 leaves room for 20 steps of its growth while an
    algorithmic error (statistics of one shard instead of the whole matrix, a missed reduction) is of the size of
    the update, 1e-3 or more."""
    case = OPTIMIZERS[name]
    diff = matrix_differences(results, name, wrapper)
    if wrapper == "FSDP2" and case.refuses_fsdp2 is not None:
        assert case.refuses_fsdp2 in diff.get("refused", ""), diff
        return
    assert "refused" not in diff, diff
    assert diff["params"] <= tolerance("cpu", DTYPE)
    assert diff.get("state", 0.0) <= tolerance("cpu", DTYPE)
    # And training moved the parameters, so the comparison is not between two initial models.
    assert max_difference(single_process_case(name)[0], params_list(make_model("cpu", DTYPE))) > 1e-3


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(worker, args=(free_port(), folder), nprocs=WORLD_SIZE, join=True)
        loaded = {"matrix": torch.load(Path(folder) / "matrix.pt", weights_only=True)}
    # A report to the terminal, not a test's output: written to stdout, as the linter's ban on print() intends
    lines = [
        "Largest parameter difference against one process, 20 steps in float64 (under FSDP2 also the state's)",
        "| optimizer | " + " | ".join(WRAPPERS) + " |",
        "|---|" + "---|" * len(WRAPPERS),
    ]
    for name in OPTIMIZERS:
        cells = []
        for wrapper in WRAPPERS:
            d = matrix_differences(loaded, name, wrapper)
            cells.append(
                "refused"
                if "refused" in d
                else f"{d['params']:.1e}" + (f" (state {d['state']:.1e} relative)" if "state" in d else "")
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    sys.stdout.write("\n".join(lines) + "\n")
