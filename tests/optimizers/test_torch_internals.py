"""The private torch.compile internals that Fused Adam uses (labml_nn/optimizers/torch_internals.py): this
test fails on the first torch release where either is gone or renamed, so that the page's fallback is
noticed and CHECKED_ON is revisited, rather than Fused Adam silently getting slower."""

from __future__ import annotations

import inspect

import torch

from labml_nn.optimizers import torch_internals


def test_the_variant_limit_is_where_fused_adam_sets_it():
    assert torch_internals.recompile_limit_name() == "recompile_limit"
    before = torch._dynamo.config.recompile_limit
    with torch_internals.raised_recompile_limit(before + 57):
        assert torch._dynamo.config.recompile_limit == before + 57
    assert torch._dynamo.config.recompile_limit == before


def test_inductor_compile_fx_takes_config_patches():
    compile_fx = torch_internals.inductor_compile_fx()
    assert compile_fx is not None
    assert "config_patches" in inspect.signature(compile_fx).parameters
    from torch._inductor import config

    assert hasattr(config, "size_asserts")  # the one option Fused Adam's backend sets


def test_the_versions_checked_include_the_one_installed():
    installed = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    assert installed in torch_internals.CHECKED_ON, (
        f"torch {torch.__version__}: check the two internals on this release (this file's tests and "
        "tests/optimizers/test_fused_adam.py), then add it to CHECKED_ON"
    )
