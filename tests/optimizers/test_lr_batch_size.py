"""The learning rate and batch size page against its committed runs (labml_nn/optimizers/lr_batch_size_results/):
the tables it shows are the ones its functions make from the files, and each number its prose states is computed
here from them. Nothing is trained here."""

from pathlib import Path

import pytest

from labml_nn.optimizers import experiment
from labml_nn.optimizers import lr_batch_size as page

PAGE = page.__doc__ or ""
SOURCE = Path(page.__file__).read_text(encoding="utf-8")


def on_page(text: str) -> bool:
    return " ".join(text.split()) in " ".join(PAGE.split())


@pytest.fixture(scope="module")
def runs():
    return page.load_runs()


@pytest.fixture(scope="module")
def noise():
    return page.load_noise_scale()


def test_the_plan_and_the_committed_runs_agree(runs):
    planned = page.planned_runs()
    assert len(planned) == 160 and on_page("The 160 runs")
    assert {(spec.name, "digits", lr, seed) for spec, lr, seed, _ in planned} == set(runs)
    assert [page.budget(b).steps for b in page.BATCH_SIZES] == [1600, 800, 400, 200, 100]
    assert all(page.budget(b).steps * b == 25_600 for b in page.BATCH_SIZES)
    assert page.srr_betas(256) == (0.6, 0.996) and page.srr_betas(16) == (0.975, 0.99975)
    # The grid holds every rule's rate at every batch.
    for b in page.BATCH_SIZES:
        assert all(page.rule_k(rule, b) in page.GRID for rule in page.RULES)


def test_batch_64_is_the_experiments_run(runs):
    # At batch 64 the page's budget trains as the experiment's: the same test accuracies, seed for seed.
    committed = experiment.load_results(Path(experiment.__file__).parent / "experiment_results" / "results.csv")
    for name, lr in page.OPTIMIZERS.items():
        for seed in page.SEEDS:
            mine = runs[(page.run_name(name, 64), "digits", lr, seed)][-1][6:]
            assert mine == committed[(name, "digits", lr, seed)][-1][6:]


def test_the_environment_is_recorded():
    lines = (page.RESULTS / "environment.jsonl").read_text().splitlines()
    machine = {line.split('"machine": "')[1].split('"')[0] for line in lines}
    assert len(machine) == 1 and on_page(machine.pop())


def test_the_pages_tables_are_made_from_the_files(runs):
    assert page.rules_table(runs) in PAGE
    assert page.best_rate_table(runs) in PAGE


def test_momentum_sgd_follows_the_linear_rule_below_64_only(runs):
    def mean(optimizer, rule, b):
        lr = page.grid_lr(page.OPTIMIZERS[optimizer], page.rule_k(rule, b))
        return round(100 * experiment.Summary.mean_std(page.seeds_of(runs, page.run_name(optimizer, b), lr))[0], 1)

    sgd = "sgd-momentum"
    assert [mean(sgd, "linear", b) for b in (16, 32, 64)] == [98.8, 99.2, 97.7]
    assert [page.failed_seeds(runs, sgd, "linear", b) for b in page.BATCH_SIZES] == [0, 0, 0, 1, 3]
    assert [page.failed_seeds(runs, sgd, "fixed", b) for b in page.BATCH_SIZES] == [3, 1, 0, 0, 0]
    assert [mean(sgd, "fixed", b) for b in (128, 256)] == [98.7, 93.3]
    assert [page.largest_stable_rate(runs, sgd, b) for b in page.BATCH_SIZES] == [0.05, 0.1, 0.141, 0.141, 0.141]
    assert on_page("0.05, 0.1, 0.141, 0.141 and 0.141 at batches 16 to 256")
    assert on_page("failed on 3 seeds of 3 at 16 and on 1 of 3 at 32")
    assert on_page("failed on 1 seed of 3 at 128 and its $4\\alpha_0$ on all 3 at 256")
    assert on_page("(98.7% at 128, 93.3% at 256)") and on_page("(98.8% at 16 and 99.2% at 32, against 97.7% at 64)")
    assert round(page.fitted_exponent(runs, sgd), 2) == 0.40 and on_page("fitted slope, 0.40")
    assert page.best_grid_rate(runs, sgd, 64) == page.OPTIMIZERS[sgd]


def test_adam_hardly_cares(runs):
    def mean(name, rule, b):
        lr = page.grid_lr(page.OPTIMIZERS["adam"], page.rule_k(rule, b))
        return round(100 * experiment.Summary.mean_std(page.seeds_of(runs, name, lr))[0], 1)

    adam = lambda b: page.run_name("adam", b)  # noqa: E731
    assert [mean(adam(16), rule, 16) for rule in ("fixed", "sqrt", "linear")] == [98.8, 98.7, 98.1]
    assert [mean(adam(256), rule, 256) for rule in ("linear", "sqrt", "fixed")] == [98.3, 97.6, 97.6]
    assert on_page("At 16 the fixed rate (98.8%) and the square root (98.7%) are ahead of the linear rule (98.1%)")
    assert on_page("at 256 the linear rule (98.3%) is ahead of the other two (97.6%)")
    # Every seed's standard deviation at most 0.5 points, every mean within a point of 98%
    for b in page.BATCH_SIZES:
        for rule in page.RULES:
            lr = page.grid_lr(page.OPTIMIZERS["adam"], page.rule_k(rule, b))
            m, s = experiment.Summary.mean_std(page.seeds_of(runs, adam(b), lr))
            assert abs(100 * m - 98) <= 1.0 and 100 * s <= 0.5
    # Trained at every rate of the grid, at every batch
    assert all(page.largest_stable_rate(runs, "adam", b) == page.grid_lr(0.00316, 4) for b in page.BATCH_SIZES)
    assert round(page.fitted_exponent(runs, "adam"), 2) == 0.70 and on_page("a fitted slope of 0.70")
    srr = [mean(page.run_name("adam", b, "srr"), "sqrt", b) for b in (16, 256)]
    assert srr == [98.4, 98.1] and on_page("(98.4% against 98.7% at 16, 98.1% against 97.6% at 256)")
    warm = [mean(page.run_name("adam", b, "warmup"), "linear", b) for b in (128, 256)]
    assert warm == [98.1, 98.1] and [mean(adam(b), "linear", b) for b in (128, 256)] == [98.1, 98.3]
    assert on_page("(98.1% and 98.1% at 128 and 256, against 98.1% and 98.3%)")
    assert round(100 / 360, 2) == 0.28


def test_the_noise_scale(noise):
    assert page.noise_scale_table(noise) in PAGE
    b = {(s["optimizer"], s["step"]): s["trace_sigma"] / s["grad_sq"] for s in noise}
    assert round(b["sgd-momentum", 0]) == round(b["adam", 0]) == 207  # the same initial weights
    assert (round(b["sgd-momentum", 40]), round(b["adam", 40])) == (17, 42)
    assert (round(b["sgd-momentum", 200]), round(b["adam", 200])) == (186, 191)
    assert (round(b["sgd-momentum", 360]), round(b["adam", 360])) == (497, 298)
    assert on_page("to 186 and 191 at step 200 and 497 and 298 at step 360")


def test_exercises(noise):
    s = next(s for s in noise if s["optimizer"] == "sgd-momentum" and s["step"] == 200)
    assert (round(s["grad_sq"], 3), round(s["trace_sigma"], 1)) == (0.063, 11.7)
    b = s["trace_sigma"] / s["grad_sq"]
    assert round(b) == 186 and round(10 * b, -1) == 1860 and round(b / 64, 1) == 2.9
    assert page.srr_betas(256) == (0.6, 0.996) and page.srr_betas(16) == (0.975, 0.99975)
    for batch in (16, 64, 256):
        beta1, beta2 = page.srr_betas(batch)
        assert round(batch / (1 - beta1)) == 640 and round(batch / (1 - beta2)) == 64_000
    assert round(3.8 / 0.2) == 19 and round(3.8 / 0.141, 1) == 27.0 and 2 * (1 + 0.9) == 3.8
    assert "B_\\text{simple} = 186$" in SOURCE and "$10 B_\\text{simple} = 1860$" in SOURCE
    assert "$19 < \\lambda_\\text{max} < 27$" in SOURCE
