"""The README's build-speed tables are what scripts/build_tables.py makes of the committed runs, and those
runs are what they say: interleaved with pycco on one machine, the A/A control within its noise."""

from __future__ import annotations

from pathlib import Path

from tests.scripts import load_script

tables = load_script("build_tables")
README = Path(__file__).resolve().parents[2] / "README.md"


def between(text: str, name: str) -> str:
    start, end = f"<!-- {name}: begin -->\n", f"\n<!-- {name}: end -->"
    return text[text.index(start) + len(start) : text.index(end)]


def test_the_readme_holds_the_generated_tables():
    readme = README.read_text(encoding="utf-8")
    for name, block in tables.blocks().items():
        assert between(readme, name) == block, f"README's {name} table: run scripts/build_tables.py --readme"


def test_every_corpus_was_measured_before_and_after_on_one_machine():
    rows = tables.speed_rows()
    assert {corpus for corpus, *_ in rows} == set(tables.CORPORA)
    assert {(corpus, jobs) for corpus, _, jobs, _, _ in rows} >= {(c, 1) for c in tables.CORPORA} | {("labml_nn", 2)}
    for corpus, files, jobs, before, after in rows:
        assert before["files"] == after["files"] == files and before["jobs"] == after["jobs"] == jobs
        assert before["cpu"] == after["cpu"] and before["python"] == after["python"]
        assert before["runs"] == after["runs"] == 3
        # The same litdoc for every "after" run, a clean checkout (no "+"), and one before it.
        assert not after["litdoc_commit"].endswith("+") and before["litdoc_commit"] != after["litdoc_commit"]
        # The A/A control: pycco against itself stays within 10% in every run, else the machine was busy.
        for first, again in zip(after["seconds"]["pycco"], after["seconds"]["pycco_again"]):
            assert 0.9 <= again / first <= 1.1, (corpus, first, again)


def test_the_profile_adds_up_and_the_readme_says_what_the_runs_show():
    for name in ("before", "after", "before-fresh", "after-fresh"):
        record = tables._load(tables.FOLDER, f"profile-labml_nn-{name}.json")
        stages = record["median_seconds"]
        assert abs(sum(stages[s] for s in tables.STAGES) - stages["total"]) < 1e-6, name
    readme = README.read_text(encoding="utf-8")
    # "Highlighting was Pygments, the largest stage before (1.29 s of 5.98 s)"
    before = tables._load(tables.FOLDER, "profile-labml_nn-before.json")["median_seconds"]
    assert max(tables.STAGES, key=before.__getitem__) == "highlight"
    assert f"the largest stage before ({before['highlight']:.2f} s of {before['total']:.2f} s)" in readme
    # The aims, corpus by corpus: "met on all five (0.74× to 0.83×)", "0.79× with `-j 1`, 0.48× with `-j 2`".
    cold = {(corpus, jobs): after["cold_over_pycco"] for corpus, _, jobs, _, after in tables.speed_rows()}
    others = [ratio for (corpus, jobs), ratio in cold.items() if corpus != "labml_nn" and jobs == 1]
    assert len(others) == 5 and max(others) <= 1.0
    assert f"met on\nall five ({min(others):.2f}× to {max(others):.2f}×)" in readme
    labml = f"{cold[('labml_nn', 1)]:.2f}× with `-j 1`,\n{cold[('labml_nn', 2)]:.2f}× with `-j 2`"
    assert labml in readme and "is met with `-j 2`" in readme and cold[("labml_nn", 2)] <= 0.5
    # "the math stage went from 0.48 s to 0.04 s" (the conversions kept in the cache folder)
    after = tables._load(tables.FOLDER, "profile-labml_nn-after.json")["median_seconds"]
    assert f"the math stage went from\n  {before['math']:.2f} s to {after['math']:.2f} s" in readme
