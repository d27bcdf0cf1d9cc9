"""What the Fused Adam page says about its measurements: the numbers it derives from others, and the labels the
review asked for (a reference time, not a floor; level within noise; a loaded run; one-off figures).

The timings themselves are one-off measurements whose raw output is not committed; nothing here times anything.
"""

import re
import statistics
from pathlib import Path

from torch import nn

from labml_nn.optimizers import fused_adam
from tests.scripts import load_script

PAGE = fused_adam.__doc__ or ""
# 28 bytes per float32 parameter: read parameter, gradient and both moments, write back three
BYTES_PER_PARAM = 28


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def linears(count: int, width: int) -> nn.Module:
    return nn.Sequential(*[nn.Linear(width, width) for _ in range(count)])


def reference_ms(params: int, gb_per_s: float) -> float:
    return BYTES_PER_PARAM * params / (gb_per_s * 1e9) * 1e3


# The step table's models: (a) 24 x Linear(512), (b) 100 x Linear(64), (L3) 32 x Linear(1024)
N_A, N_B, N_L3 = n_params(linears(24, 512)), 100 * (64 * 64 + 64), 32 * (1024 * 1024 + 1024)


def test_the_models_sizes():
    assert N_A == 6_303_744 and N_B == 416_000 and N_L3 == 33_587_200
    # (L3): 134 MB of parameters, 537 MB with gradients and moments, 4 and 16 times a 32 MiB L3
    assert round(4 * N_L3 / 1e6) == 134 and round(16 * N_L3 / 1e6) == 537
    assert round(4 * N_L3 / 2**25) == 4 and round(16 * N_L3 / 2**25) == 16


def test_the_reference_time_row_and_fractions():
    # B = 46.6 GB/s: 3.79, 0.25 and 20.2 ms
    assert [f"{reference_ms(n, 46.6):.3g}" for n in (N_A, N_B, N_L3)] == ["3.79", "0.25", "20.2"]
    assert "| reference time, $28N/B$ | 3.79 | 0.25 | 20.2 |" in PAGE
    # [reference / time] of FusedAdam() and fused=True: both above 1 on (L3), which is why it is no floor
    fused_adam_ms, torch_fused_ms = (3.88, 0.49, 17.2), (3.97, 1.54, 17.9)
    refs = [reference_ms(n, 46.6) for n in (N_A, N_B, N_L3)]
    assert [round(r / t, 2) for r, t in zip(refs, fused_adam_ms)] == [0.98, 0.51, 1.17]
    assert [round(r / t, 2) for r, t in zip(refs, torch_fused_ms)] == [0.95, 0.16, 1.13]
    assert "| `FusedAdam()` | **3.88 (0.98x) [0.98]** | **0.49 (0.32x) [0.51]** | **17.2 (0.96x) [1.17]** |" in PAGE


def test_goal_three_on_the_model_larger_than_l3():
    # Four runs: B, FusedAdam's and fused=True's step on (L3), in ms
    runs = [(46.6, 17.2, 17.9), (35.8, 11.7, 12.8), (48.0, 11.3, 13.2), (42.6, 18.3, 19.2)]
    refs = [reference_ms(N_L3, b) for b, _, _ in runs]
    assert [f"{r:.1f}" for r in refs] == ["20.2", "26.3", "19.6", "22.1"]
    ours = [round(t / r, 2) for (_, t, _), r in zip(runs, refs)]
    theirs = [round(t / r, 2) for (_, _, t), r in zip(runs, refs)]
    assert ours == [0.85, 0.45, 0.58, 0.83] and theirs == [0.89, 0.49, 0.67, 0.87]
    assert all(x <= 1.15 for x in ours)
    row = next(line for line in PAGE.splitlines() if line.startswith("| `FusedAdam` within 1.15x"))
    assert "0.85x, 0.45x, 0.58x and 0.83x" in row and "0.89x, 0.49x, 0.67x and 0.87x" in row
    assert "20.2" in row and "26.3" in row and "19.6" in row and "22.1" in row
    assert "on the model larger than the L3 cache" in row and "not a floor" in row
    # The earlier 25.6M model's working set (parameters, gradients, moments) fits in a 480 MiB L3
    assert 16 * 25_600_000 < 480 * 2**20 and round(16 * 25_600_000 / 1e6) == 410


def test_no_floor_is_claimed():
    # "floor" survives only where the page explains the word, names the old label, or speaks of a true floor
    assert "| floor" not in PAGE and "[floor / time]" not in PAGE
    assert "*reference time*" in PAGE and "scripts/bandwidth.py" in PAGE
    for sentence in re.split(r"(?<=[.:])\s", PAGE):
        if "floor" in sentence and "reference" not in sentence:
            assert re.search(r"STREAM|a floor|no floor|not a floor|floor only if|old name|labelled floor", sentence), (
                sentence
            )


def test_goal_one_is_level_within_noise_on_a_and_c():
    # The earlier runs' row: the baseline in PyTorch's default environment, one process for every contender
    row = next(line for line in PAGE.splitlines() if line.startswith("| earlier (*one-off*") and "iteration" in line)
    verdict = row.rsplit(" | ", 1)[1]
    assert "(a) and (c): **level within noise**, not met" in verdict
    # Their run-by-run ratios lie inside the control's spread
    a_and_c = [0.97, 1.00, 0.96, 0.96, 0.99, 0.99]
    control = (0.96, 1.03)
    assert all(control[0] <= r <= control[1] for r in a_and_c)
    assert (min(a_and_c), max(a_and_c)) == (0.96, 1.00) and "0.96x to 1.00x" in verdict
    # (d) is outside it
    assert max([0.90, 0.89, 0.91]) < control[0] and "(d): met" in verdict
    assert "`THP_MEM_ALLOC_ENABLE=1`: the row above" in verdict


def test_the_loaded_ablation_run_is_flagged():
    assert "| | run 1 (loaded), huge pages | run 1 (loaded), 4 KiB pages |" in PAGE
    # Its steps on (a) are more than twice the fused steps of every other training-loop run
    loaded = (8.7, 8.9)
    others = [4.1, 4.0, 4.1, 4.2, 4.1, 3.9, 4.0, 4.0, 4.2, 3.8, 3.7]
    assert (min(others), max(others)) == (3.7, 4.2) and min(loaded) > 2 * max(others)
    assert "more than twice the 3.7 to\n4.2 ms" in PAGE


def test_the_baseline_settings_and_pytorchs_huge_pages():
    assert "cannot do this" not in PAGE
    assert "`THP_MEM_ALLOC_ENABLE=1`" in PAGE and "c10/core/impl/alloc_cpu.cpp" in PAGE
    assert "not been measured" not in PAGE
    # PyTorch's threshold is 2 MiB (gAlloc_threshold_thp): (a)'s weights fall below it, (c)'s MLP weights above
    threshold = 2 * 1024 * 1024
    assert 512 * 512 * 4 == 2**20 < threshold and 2048 * 512 * 4 == 4 * 2**20 >= threshold
    assert "(a)'s weights are 1 MiB\n   each, (c)'s MLP weights 4 MiB" in PAGE


def test_one_off_figures_are_marked():
    assert "a one-off measurement" in PAGE and "Figures marked *(one-off)*" in PAGE
    assert "### Earlier: one step, in blocks, with the model in the cache (one-off)" in PAGE
    for marked in ("that took 0.3 ms (*one-off*)", "(*one-off*: 3.32 against 3.30", "throwaway timings)"):
        assert marked in PAGE


# The training-loop runs against the baseline under THP_MEM_ALLOC_ENABLE=1: their JSON is committed beside the page,
# and scripts/fused_adam_tables.py renders the page's tables from it.
ROOT = Path(__file__).resolve().parents[2]


tables = load_script("fused_adam_tables")
RUNS = tables.load_runs()


def test_the_training_loop_tables_are_generated_from_the_committed_runs():
    assert len(RUNS) == 3
    for part in (
        tables.machine_line,
        tables.environment_lines,
        tables.training_table,
        tables.thp_table,
        tables.runs_table,
        tables.gains_table,
        tables.goal_row,
    ):
        assert part(RUNS) in PAGE, f"the page's {part.__name__} is stale: run python scripts/fused_adam_tables.py"


def test_the_committed_runs_are_full_runs_with_the_thp_baseline():
    for run in RUNS:
        args = run["args"]
        assert not args["tiny"] and not args["quick"] and not args["no_thp_baseline"] and args["ablate_huge_pages"]
        assert (args["iters"], args["warmup"], args["placements"], args["device"]) == (36, 5, 3, "cpu")
        assert [r["model"].split(" ")[0] for r in run["results"]] == ["(a)", "(b)", "(c)", "(d)"]
        # One process per contender: PyTorch's huge-page switch on in the THP baseline's only, all else alike
        workers = run["workers"]
        assert set(workers) == set(run["results"][0]["times"])
        for name, worker in workers.items():
            env = dict(worker["environment"])
            assert env.pop("THP_MEM_ALLOC_ENABLE") == ("1" if name == tables.THP_BASELINE else "unset")
            assert env == {
                k: v for k, v in workers[tables.BASELINE]["environment"].items() if k != "THP_MEM_ALLOC_ENABLE"
            }
            assert worker["threads"] == workers[tables.BASELINE]["threads"]
            # ... and it took effect: a fresh 8 MiB tensor lay in huge pages in the THP baseline's process only
            assert (worker["probe_huge_kib"] > 0) == (name == tables.THP_BASELINE)
        assert run["machine"]["thp"] == "madvise"
        # The environment lines the page shows (from the first run) hold in every run, up to the probe's KiB
        strip = lambda lines: [re.sub(r"huge pages: \d+ KiB", "", line) for line in lines]
        assert strip(run["environment"]) == strip(RUNS[0]["environment"])


def test_the_committed_medians_are_those_of_the_samples():
    for run in RUNS:
        for r in run["results"]:
            samples = r["samples"]
            base, thp = samples[tables.BASELINE], samples[tables.THP_BASELINE]
            for name, t in r["times"].items():
                ts = samples[name]
                assert len(ts) == 36
                assert t["total"] == statistics.median(a + b for a, b in ts)
                assert t["step"] == statistics.median(b for _, b in ts)
                assert t["paired"] == statistics.median((a + b) / (c + d) for (a, b), (c, d) in zip(ts, base))
                assert t["paired_thp"] == statistics.median((a + b) / (c + d) for (a, b), (c, d) in zip(ts, thp))


def test_what_these_runs_can_say_is_what_the_runs_hold():
    """Every figure of the paragraph that reads the THP-baseline runs, computed from their JSON."""
    text = PAGE[PAGE.index("**What these runs can say.**") : PAGE.index("### In the training loop, earlier:")]
    text = " ".join(text.split())

    def ratios(i, name, against, paired=True):
        return [round(x, 2) for pair in tables.per_run(RUNS, i, name, against) for x in (pair if paired else pair[:1])]

    def gain(i, name, against):
        a, b = tables.combined(RUNS)[i]["times"][name], tables.combined(RUNS)[i]["times"][against]
        return round((a["fwd_bwd"] - b["fwd_bwd"]) * 1e3, 1), round((a["step"] - b["step"]) * 1e3, 1)

    a, b, c, d = range(4)
    control = {i: ratios(i, tables.CONTROL, tables.BASELINE) for i in (a, b, c, d)}
    assert (min(control[b]), max(control[b])) == (0.95, 1.18)
    assert "its ratios ran from 0.95x to 1.18x" in text and "the verdict is *not determined*" in text
    assert (min(min(control[i]) for i in (a, c, d)), max(max(control[i]) for i in (a, c, d))) == (0.98, 1.02)
    assert "(a), (c) and (d) they stayed within 0.98x to 1.02x" in text
    # Huge pages for PyTorch's tensors: the THP baseline against the default, run by run
    thp = {i: ratios(i, tables.THP_BASELINE, tables.BASELINE, paired=False) for i in (a, c, d)}
    assert thp == {a: [1.02, 1.00, 1.00], c: [1.05, 1.06, 0.99], d: [1.00, 1.00, 1.02]}
    assert "gave nothing: 1.02x, 1.00x and 1.00x on (a)" in text and "1.00x, 1.00x and 1.02x on (d)" in text
    assert "slower: 1.05x, 1.06x and 0.99x, 2.0 ms more of forward and backward" in text
    assert gain(c, tables.THP_BASELINE, tables.BASELINE)[0] == 2.0
    # PyTorch's 2 MiB threshold: (a)'s weights are 1 MiB, (c)'s MLP weights 4 MiB (float32)
    assert 512 * 512 * 4 == 2**20 and 512 * 2048 * 4 == 4 * 2**20
    # The flat buffer and one kernel
    assert gain(d, tables.SMALL_PAGES, tables.BASELINE)[1] == -3.1
    assert gain(a, tables.SMALL_PAGES, tables.BASELINE)[1] == gain(c, tables.SMALL_PAGES, tables.BASELINE)[1] == 0.0
    assert "3.1 ms less per step on (d)'s 1,024 tensors, and nothing on (a)'s 48 and (c)'s 96" in text
    # Huge pages for the flat buffers, and the noise
    assert gain(c, "FusedAdam", tables.SMALL_PAGES) == (-6.0, -0.7)
    assert "6.0 ms less of forward and backward on (c), 0.7 ms less of step" in text
    assert (
        gain(c, tables.SMALL_PAGES, tables.BASELINE)[0] == 6.2 and gain(c, tables.CONTROL, tables.BASELINE)[0] == -1.4
    )
    assert "6.2 ms longer than the baseline's" in text and "the control's moved by 1.4 ms" in text
    # In all, against the THP baseline
    ours = {i: ratios(i, "FusedAdam", tables.THP_BASELINE) for i in (a, c, d)}
    assert ours[d] == [0.94, 0.95, 0.92, 0.93, 0.90, 0.91] and max(ours[d]) < min(control[d]) == 0.99
    assert "on (d), 0.94x, 0.92x and 0.90x (paired 0.95x, 0.93x and 0.91x), below the control's lowest 0.99x" in text
    assert gain(d, "FusedAdam", tables.THP_BASELINE)[1] == -2.8 and "its step 2.8 ms shorter: **met**" in text
    assert ours[a][::2] == [1.04, 1.03, 0.99] and ours[c][::2] == [0.98, 0.93, 1.10]
    assert "(a), 1.04x, 1.03x and 0.99x, and on (c), 0.98x, 0.93x and 1.10x: **level within noise**" in text
    for i in (a, c):  # inside the control's spread on one side, outside on the other: neither met nor not met
        assert min(ours[i]) <= max(control[i]) and max(ours[i]) >= min(control[i])
    steps = [gain(i, "FusedAdam", tables.THP_BASELINE)[1] for i in (a, c)]
    assert steps == [-0.2, -0.4] and "their steps are level (0.2 and 0.4 ms shorter)" in text
    # The verdicts the Goals row gives say the same
    assert [tables.verdict(RUNS, i).split(",")[0] for i in (a, c, d)] == [
        "**level within noise**",
        "**level within noise**",
        "met",
    ]
    assert tables.verdict(RUNS, b).startswith("**not determined**")


def test_the_loaded_runs_are_kept_and_not_used():
    """The two runs made on a busy machine: committed for the record, left out of every table."""
    loaded = tables.load_runs(sorted((tables.RESULTS / "loaded").glob("training-cpu-run*.json")))
    assert len(loaded) == 2
    assert [run["load_start"].split()[0] for run in loaded] == ["3.33", "4.93"]
    assert "load averages of 3.33 and 4.93 at their start" in PAGE
    control = [round(x, 2) for pair in tables.per_run(loaded, 0, tables.CONTROL, tables.BASELINE) for x in pair]
    assert (min(control), max(control)) == (0.59, 1.54)
    assert "control's ratios ran from 0.59x to 1.54x on (a)" in " ".join(PAGE.split())
    # The quiet runs' own control stayed within 0.9x to 1.1x on (a)
    quiet = [x for pair in tables.per_run(RUNS, 0, tables.CONTROL, tables.BASELINE) for x in pair]
    assert 0.9 <= min(quiet) and max(quiet) <= 1.1
    assert all(run["load_start"] != loaded_run["load_start"] for run in RUNS for loaded_run in loaded)


def test_the_readme_summary_is_generated_from_the_committed_runs():
    readme = (ROOT / "README.md").read_text()
    assert tables.readme_table(RUNS) in readme
    assert "about 3 ms per iteration at 1,024 tensors" in readme
    assert (
        tables.combined(RUNS)[3]["times"]["FusedAdam"]["step"]
        < tables.combined(RUNS)[3]["times"][tables.THP_BASELINE]["step"] - 0.0025
    )


STEPS = tables.load_step_runs()


def test_the_step_tables_and_goal_rows_are_generated_from_the_committed_runs():
    assert len(STEPS) == 3
    for run in STEPS:
        args = run["args"]
        assert args["no_sweep"] and args["ablate_huge_pages"] and not args["tiny"] and not args["no_thp_baseline"]
        assert (args["steps"], args["device"]) == (30, "cpu")
    for part in (tables.step_table(STEPS[0]), tables.step_summary(STEPS), tables.step_goal_rows(STEPS)):
        assert part in PAGE, "the page's step tables are stale: run python scripts/fused_adam_tables.py"


def test_what_the_step_runs_say_is_what_they_hold():
    text = " ".join(
        PAGE[PAGE.index("### One step, against both baselines") : PAGE.index("### One step, interleaved")].split()
    )
    cases = [tables.step_cases(run) for run in STEPS]
    a, b, big = 0, 1, 2
    # The big case is capped by memory, and its working set is 1.9 x L3
    assert all("capped by memory" in run[big]["case"] and "working set 1.9 x L3" in run[big]["case"] for run in cases)
    assert "(L3) is 57 × Linear(1024)" in text and all(run[big]["params"] == 57 * (1024 * 1024 + 1024) for run in cases)
    # FusedAdam's step is the shortest of all contenders on (a) and (L3), in every run
    for run in cases:
        for i in (a, big):
            assert min(run[i]["times"], key=run[i]["times"].get) == "FusedAdam"
    assert "`FusedAdam`'s step is the shortest in every run, against either baseline" in text
    # Its huge pages give some of it: the 4 KiB FusedAdam is closer to fused=True
    for run in cases:
        for i in (a, big):
            t = run[i]["times"]
            assert t["FusedAdam"] < t[tables.SMALL_PAGES] < t[tables.BASELINE]
    # (b): the THP baseline in its worker is 3.4 to 4.7 times fused=True
    slow = [run[b]["times"][tables.THP_BASELINE] / run[b]["times"][tables.BASELINE] for run in cases]
    assert (round(min(slow), 1), round(max(slow), 1)) == (3.4, 4.7) and "3.4 to 4.7 times" in text
    assert 64 * 64 * 4 < 2 * 2**20  # (b)'s tensors are below PyTorch's 2 MiB huge-page threshold
    # The triad: FusedAdam's step beat the triad's time on (a) and (L3)
    triad = [run[i]["stream_floor"] / run[i]["times"]["FusedAdam"] for run in cases for i in (a, big)]
    assert (round(min(triad), 2), round(max(triad), 2)) == (1.35, 1.72) and "1.35 to 1.72 times faster" in text
    assert all(run["stream"]["elements"] * 4 == 128 * 2**20 for run in STEPS)


def test_the_readme_step_figures_are_the_committed_runs():
    readme = " ".join((ROOT / "README.md").read_text().split())
    big = [tables.step_cases(run)[-1] for run in STEPS]
    ours = ", ".join(f"{r['times']['FusedAdam'] / r['times'][tables.BASELINE]:.2f}×" for r in big[:-1])
    thp = ", ".join(f"{r['times']['FusedAdam'] / r['times'][tables.THP_BASELINE]:.2f}×" for r in big[:-1])
    last = big[-1]["times"]
    assert f"took {ours} and {last['FusedAdam'] / last[tables.BASELINE]:.2f}× the time of `fused=True`" in readme
    assert f"and {thp} and {last['FusedAdam'] / last[tables.THP_BASELINE]:.2f}× that of `fused=True`" in readme
