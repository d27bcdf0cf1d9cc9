"""Every optimizer page's Try it demo, run as its notebook and `python -m` run it, with real values checked."""

import runpy
import sys
from importlib.util import find_spec

import pytest
import torch

from labml_nn.optimizers import try_it
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.registry import optimizer_entries
from tests.optimizers.common import MAX_ABS_PARAM, MAX_ABS_STEP, tolerance

HAS_SCHEDULEFREE = find_spec("schedulefree") is not None

# A page whose demo's twin is the authors' optional package rather than a `torch.optim` class in its registry entry:
# a dev dependency, without which the page trains ours alone (tested below).
AUTHORS_PACKAGE = {"schedule_free": HAS_SCHEDULEFREE}
# Every page of the chapter's registry, and whether its demo trains a twin with a reference: the page's, or one of
# its entries' (RMSProp's page compares RMSProp with `torch.optim.RMSprop`).
PAGES = {
    entry.page: AUTHORS_PACKAGE.get(
        entry.page, any(e.reference is not None for e in optimizer_entries() if e.page == entry.page)
    )
    for entry in optimizer_entries()
}

# The bound on the printed difference is `common.tolerance` for float64 and the demo's steps:
# $\text{steps} \cdot \epsilon_{64} \cdot (|\theta|_{\max} + 2 k |s|_{\max})$ with $|\theta| < 4$, $|s| \le 0.2$
# and $k = 200$ roundings reaching a step, which is $1.9 \times 10^{-12}$ for 100 steps. It applies because the
# demo is the situation `tolerance` is derived for: the twin steps on bit-identical gradients (`SameGradients`),
# so the two parameter sets differ only by the rounding of the two updates, each at most half an ulp of
# $\theta$ plus $k$ roundings relative to the step. `k` was counted for 100 steps (the longest memory is
# $\beta_2 = 0.999$'s), so the demos may not run longer, and the `checked` fixture asserts the ranges of
# $|\theta|$ and $|s|$ at every step. Muon's Newton–Schulz iteration runs in bfloat16, far outside this count,
# but both sides run it operation for operation alike, so it adds no difference (as test_muon.py finds).
MAX_STEPS = 100

# runpy warns when the page is already imported (the training example imports every page); the demo then runs in
# a fresh copy of the module, as in a notebook, whose cells define the page's classes anew.
pytestmark = pytest.mark.filterwarnings("ignore:.*found in sys.modules after import of package:RuntimeWarning")


@pytest.fixture
def runs(monkeypatch):
    """The results of the `try_optimizer` calls a page makes, with the bound's assumptions checked every step."""
    results = []
    try_optimizer = try_it.try_optimizer

    def recording(*args, **kwargs):
        results.append(try_optimizer(*args, **kwargs))
        return results[-1]

    step = try_it.SameGradients.step

    def checked(self):
        before = [p.detach().clone() for p in self.model.parameters()]
        step(self)
        largest = max(p.abs().max().item() for p in self.model.parameters())
        assert largest < MAX_ABS_PARAM, f"|theta| = {largest} leaves the range `tolerance` is derived for"
        size = max((p - q).abs().max().item() for p, q in zip(self.model.parameters(), before))
        assert size <= MAX_ABS_STEP, f"a step of {size} leaves the range `tolerance` is derived for"

    # A page imports `try_optimizer` when its demo runs, so it picks up the recording one.
    monkeypatch.setattr(try_it, "try_optimizer", recording)
    monkeypatch.setattr(try_it.SameGradients, "step", checked)
    return results


def run_page(page: str, monkeypatch) -> None:
    """Runs the page's `__main__` block in this process, as a notebook's kernel runs it."""
    monkeypatch.setattr(sys, "argv", [page])
    if page == "adagrad":
        # Its demo follows a figure, which a test must not try to show in a window.
        import matplotlib

        matplotlib.use("Agg")
    runpy.run_module(f"labml_nn.optimizers.{page}", run_name="__main__")


@pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")
@pytest.mark.parametrize("page", PAGES)
def test_demo_trains_and_matches_its_reference(page, runs, monkeypatch, capsys):
    run_page(page, monkeypatch)
    out = capsys.readouterr().out
    (result,) = runs
    assert result.steps[-1] <= MAX_STEPS
    # The loss went down, by more than a tenth in 100 steps (the slowest, RAdam and Adafactor, by 15%).
    assert result.losses[-1] < 0.9 * result.losses[0]
    # The table's last row is the last step's losses, as printed for the learner.
    last_row = [float(word) for word in out.splitlines()[-2 if PAGES[page] else -1].split()]
    expected = [result.steps[-1], result.losses[-1]] + ([result.reference_losses[-1]] if PAGES[page] else [])
    assert last_row == pytest.approx(expected, abs=1e-6)
    # The run leaves PyTorch's default dtype as it found it.
    assert torch.get_default_dtype() == torch.float32
    if not PAGES[page]:
        assert result.reference_losses is None and result.max_diff is None
        return
    assert result.reference_losses is not None and result.max_diff is not None
    assert result.reference_losses[-1] < 0.9 * result.reference_losses[0]
    assert result.max_diff <= tolerance("cpu", torch.float64, result.steps[-1])
    assert f"after {result.steps[-1]} steps: {result.max_diff:.3g}" in out


def test_schedule_free_without_the_package(runs, monkeypatch, capsys):
    # `None` in `sys.modules` makes `import schedulefree` raise ImportError, as on a learner's machine.
    monkeypatch.setitem(sys.modules, "schedulefree", None)
    run_page("schedule_free", monkeypatch)
    assert "schedulefree is not installed: training ours alone" in capsys.readouterr().out
    (result,) = runs
    assert result.max_diff is None
    assert result.losses[-1] < 0.9 * result.losses[0]


def test_a_different_update_is_far_above_the_bound(capsys):
    # The bound means something only if a real difference exceeds it: Adam's optimized update with its tiny
    # default eps is not torch.optim.Adam(eps=1e-8), and the demo shows it.
    result = try_it.try_optimizer(lambda p: Adam(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2, eps=1e-8))
    assert result.max_diff is not None
    assert result.max_diff > 1e3 * tolerance("cpu", torch.float64, 100)
