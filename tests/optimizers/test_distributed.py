"""Adam under `torch.distributed`: DistributedDataParallel and ZeroRedundancyOptimizer.

Two processes form a real gloo process group on this machine. They run every scenario in one
start-up (starting processes and importing torch costs far more than the training), write what they
got to files, and the tests compare those files with single-process training here.

The process group is CPU-only: gloo is the backend that every machine has, and the CUDA kernels of the
update are covered by the device-parametrized tests of test_adam.py and test_base.py.
"""
import datetime
import socket
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel

from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.adam import Adam
from tests.optimizers.common import make_data, make_model, tolerance, train

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                       reason="this torch build has no torch.distributed with gloo"),
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
    return ZeroRedundancyOptimizer(params, optimizer_class=Adam,
                                   **{**dict(lr=LR, eps=1e-8, weight_decay=WeightDecay(0.1)), **overrides})


def params_list(model: nn.Module) -> List[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def worker(rank: int, port: int, out: str) -> None:
    """Runs in each of the two processes."""
    out = Path(out)
    # Both processes share two cores with the test runner; more threads would only contend.
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE,
                            timeout=datetime.timedelta(seconds=60))
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
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Dict[str, object]:
    out = tmp_path_factory.mktemp("distributed")
    mp.spawn(worker, args=(free_port(), str(out)), nprocs=WORLD_SIZE, join=True)
    return {name: torch.load(out / f"{name}.pt", weights_only=True)
            for name in ("ddp", "zero", "zero_checkpoint", "zero_resumed")}


def single_process(steps: int = STEPS) -> List[torch.Tensor]:
    model = make_model("cpu", DTYPE)
    x, y = make_data("cpu", DTYPE)
    train(model, make_adam(model.parameters()), x, y, steps)
    return params_list(model)


def assert_params_close(a: List[torch.Tensor], b: List[torch.Tensor], atol: float) -> None:
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
