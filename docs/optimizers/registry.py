# To run this file, first install the code it imports:  pip install 'labml-nn-annotated[notebooks] @ git+https://github.com/labml-nn/annotated'
r"""
---
title: The chapter's registry of optimizers
summary: Each optimizer page declares one small record of what it is (its class, its paper, the torch.optim class that computes the same update, its line in the experiment); the chapter finds the records by importing its modules, and the tests, the experiment and the comparison table read them.
---

# The registry of optimizers

Every page of this chapter that defines an optimizer also declares, at module level, an
`OptimizerEntry` for it, usually as `ENTRY`: the class, the paper it implements, the
`torch.optim` class that computes the same update (with the arguments under which it does), and
its line in the [experiment](experiment.html), if it has one. `optimizer_entries()` finds the
entries by importing every module of the chapter; no file lists the pages by hand.

Four things read the registry:

* the tests that compare each optimizer with its reference (`tests/optimizers/test_registry.py`);
* the `maximize` and distributed matrices (`tests/optimizers/test_maximize.py`,
  `tests/optimizers/test_distributed.py`), which run every entry with its `test_kwargs`;
* the [experiment](experiment.html), which runs the entries that have an `ExperimentLine`, in
  the order of their `position`;
* the comparison table of the [chapter's page](index.html), which is prose and so cannot be made
  from the registry when the page is imported: a test checks that its rows and the registry name
  the same pages, and that each row cites its entry's paper.

So adding an optimizer means adding its page, with its entry, and its tests.
`tests/optimizers/test_registry.py` fails when a module defines an optimizer without declaring an
entry for it, and when an entry's class is not defined on the page that declares it.

Nothing is found when this module is imported: `optimizer_entries()` imports the pages the
first time it is called, since the pages themselves import this module for its classes.
"""

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Optional

import torch

__all__ = ["ExperimentLine", "OptimizerEntry", "Reference", "declared_entries", "optimizer_entries"]


@dataclass(frozen=True)
class Reference:
    r"""
    ## Someone else's implementation of the same update

    `ours` and `theirs` are arguments under which the two compute the same update, to float64
    rounding. They switch on what the update has beyond its defaults (weight decay, Nesterov
    momentum, a centred second moment), so that the comparison covers it; and they give `torch.optim`
    `foreach=False` where it takes it, its one-tensor-at-a-time path, which rounds as ours does.
    """

    cls: type[torch.optim.Optimizer]
    ours: Mapping[str, Any] = field(default_factory=dict)
    theirs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def takes_maximize(self) -> bool:
        r"""
        ### Whether the reference itself can climb

        `torch.optim.Muon` has no `maximize`; a test then compares ours climbing $f$ with it
        descending $-f$, which is the same thing.
        """
        return "maximize" in inspect.signature(self.cls).parameters


@dataclass(frozen=True)
class ExperimentLine:
    r"""
    ## A line of the experiment

    The experiment's committed results are keyed by `label`, so a label never changes.
    """

    # The optimizer's name in the experiment's CSV, tables and figures
    label: str
    # $\alpha_0$, the rate the optimizer is usually run with; the sweep is centred on it
    lr: float
    # The arguments that are not the class's defaults (the page says why, beside its entry)
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    # The place in the run order, after `torch.optim.AdamW`'s baseline at 0. Runs go line by line,
    # so a new line takes the next number and runs on top of a finished experiment, whose CSV then
    # stays that of the whole table run from nothing.
    position: int = 0
    # For an optimizer that schedules its own rate: the arguments it takes from the run's number of
    # steps (how long to warm up, when to end the decay), merged over `kwargs`
    schedule: Optional[Callable[[int], Mapping[str, Any]]] = None


@dataclass(frozen=True)
class OptimizerEntry:
    r"""
    ## What a page declares about its optimizer
    """

    cls: type[torch.optim.Optimizer]
    # The paper, post or lecture the page implements: the link its row of the chapter's table cites
    paper: str
    # Arguments with which it moves the tests' small model noticeably in 20 steps, with the switches of
    # its update on, so that the `maximize` and distributed matrices cover them
    test_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # `torch.optim`'s class with the same update, if there is one
    reference: Optional[Reference] = None
    # Its line in the experiment; `None` for a page the experiment leaves out (the page says why)
    experiment: Optional[ExperimentLine] = None
    # It takes 2-D parameters only (Muon): the tests give it the model's matrices, and the experiment
    # gives the rest to AdamW
    matrices_only: bool = False
    # What a training loop does after each `step()`, called with the optimizer and the step's index from 0:
    # Sophia's Hessian estimate
    after_step: Optional[Callable[[Any, int], None]] = None
    # A part of the message it raises when built over FSDP2's `DTensor` parameters, if it refuses them
    refuses_fsdp2: Optional[str] = None
    # Other configurations the distributed matrix runs too, by name, for a code path that `test_kwargs`
    # does not take (FusedAdam's compiled kernel); each is merged over `test_kwargs`
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def page(self) -> str:
        r"""
        ### The page's module name, `adam` for `labml_nn/optimizers/adam.py`
        """
        return self.cls.__module__.rsplit(".", 1)[-1]

    def select(self, params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
        r"""
        ### The parameters it trains, out of a model's
        """
        return [p for p in params if p.dim() == 2] if self.matrices_only else list(params)

    def make(self, params: Iterable[torch.Tensor], **overrides: Any) -> torch.optim.Optimizer:
        r"""
        ### The optimizer with its `test_kwargs`, over the parameters it takes
        """
        return self.cls(self.select(params), **{**self.test_kwargs, **overrides})


def declared_entries(module: ModuleType) -> list[OptimizerEntry]:
    r"""
    ## The entries a module declares for the classes it defines

    An entry imported from another page is that page's, so it is not counted twice.
    """
    return [
        value
        for value in vars(module).values()
        if isinstance(value, OptimizerEntry) and value.cls.__module__ == module.__name__
    ]


def chapter_modules() -> list[ModuleType]:
    r"""
    ## Every module of the chapter, imported, in file-name order
    """
    package = importlib.import_module(__name__.rpartition(".")[0])
    return [
        importlib.import_module(f"{package.__name__}.{info.name}") for info in pkgutil.iter_modules(package.__path__)
    ]


@functools.cache
def optimizer_entries() -> tuple[OptimizerEntry, ...]:
    r"""
    ## The registry: every entry of every page, in file-name order
    """
    return tuple(entry for module in chapter_modules() for entry in declared_entries(module))
