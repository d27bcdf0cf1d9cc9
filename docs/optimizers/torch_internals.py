# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: The two places Fused Adam reaches into torch.compile
summary: The private torch.compile settings and functions that the Fused Adam page uses, isolated in one module, with the torch versions they were checked on and a fallback for the day they change.
---

# The two places Fused Adam reaches into `torch.compile`

[Fused Adam](fused_adam.html) builds its kernel with `torch.compile`, a public API. Two things it
needs are not public, and this page is the only place that touches them:

* **the limit on compiled variants.** `torch.compile` stops compiling new variants of a function
  after `torch._dynamo.config.recompile_limit` of them (8 by default) and falls back to running it
  eagerly; Fused Adam compiles one variant per shape of a model's flat buffers, so it raises the limit
  while it compiles a new one. The setting was called `cache_size_limit` before torch 2.6.
* **Inductor's entry point, `torch._inductor.compile_fx.compile_fx`**, which the default backend
  calls. Fused Adam calls it itself with one option (`size_asserts=False`), and keeps the compiled
  function it returns, so that later steps call it directly (see `capturing_backend` on that page).

Both were checked on the torch versions in `CHECKED_ON`; `tests/optimizers/test_torch_internals.py`
fails on the first release where either is gone or renamed. Until then, and on any other version,
each has a fallback that keeps Fused Adam correct and only slower: without `compile_fx`, the default
backend (the compiled wrapper checks its inputs' sizes again on every call, and nothing is kept for
direct calls); without the limit setting, `torch.compile`'s own limit.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any, Callable

import torch

# The torch releases on which both internals below were found and Fused Adam's tests passed.
CHECKED_ON = ("2.13",)


@functools.cache
def inductor_compile_fx() -> Callable[..., Any] | None:
    r"""
    ### Inductor's `compile_fx`, or None where this torch has no such function
    """
    try:
        from torch._inductor.compile_fx import compile_fx
    except ImportError:
        return None
    return compile_fx


def recompile_limit_name() -> str | None:
    r"""
    ### The name of the variant limit in this torch's `torch._dynamo.config`, or None
    """
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):  # the second is the name before torch 2.6
        if hasattr(config, name):
            return name
    return None


@contextlib.contextmanager
def raised_recompile_limit(limit: int) -> Iterator[None]:
    r"""
    ### While compiling a new variant: allow up to `limit` variants of one function
    """
    name = recompile_limit_name()
    if name is None:
        yield
        return
    with torch._dynamo.config.patch(name, limit):
        yield
