"""The README's tables of litdoc's build speed, generated from the committed runs in `litdoc/benchmarks/`.

`speed_table` sets litdoc against pycco, corpus by corpus, before and after a change (from the
`build-<corpus>-j<jobs>-<before|after>.json` files `bench_build.py --json` wrote); `profile_table`
gives where one build's time goes, stage by stage (from `profile-<corpus>-<before|after>[-fresh].json`,
written by `profile_build.py --json`). The README holds both between markers, and
`tests/scripts/test_build_tables.py` checks that it holds exactly what this prints.

    .venv/bin/python scripts/build_tables.py [--readme]

`--readme` writes them into README.md between their markers instead of printing them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "litdoc" / "benchmarks"
CORPORA = ["labml_nn", "requests", "click", "attrs", "more-itertools", "rich"]
NAMES = {"labml_nn": "labml-nn", "more-itertools": "more-itertools"}
STAGES = [
    "highlight",
    "anchors",
    "parse",
    "math",
    "search",
    "writing",
    "markup",
    "template",
    "xref",
    "notebook",
    "font",
    "other",
]


def _load(folder: Path, name: str) -> dict | None:
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _ratio(value: float) -> str:
    return f"{value:.2f}×"


def speed_rows(folder: Path = FOLDER) -> list[tuple[str, int, int, dict, dict]]:
    """(corpus, files, jobs, before, after) for each corpus and job count with both runs committed."""
    rows = []
    for corpus in CORPORA:
        for jobs in (1, 2):
            before = _load(folder, f"build-{corpus}-j{jobs}-before.json")
            after = _load(folder, f"build-{corpus}-j{jobs}-after.json")
            if before is not None and after is not None:
                rows.append((corpus, after["files"], jobs, before, after))
    return rows


def speed_table(folder: Path = FOLDER) -> str:
    lines = [
        "| corpus | files | `-j` | pycco | A/A | litdoc cold, before → after | vs pycco | fresh clone, before → after | vs pycco |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for corpus, files, jobs, before, after in speed_rows(folder):
        med = after["median_seconds"]
        lines.append(
            f"| {NAMES.get(corpus, corpus)} | {files} | {jobs} | {med['pycco']:.2f} s | {_ratio(after['control_over_pycco'])} "
            f"| {before['median_seconds']['litdoc_cold']:.2f} → {med['litdoc_cold']:.2f} s "
            f"| {_ratio(before['cold_over_pycco'])} → **{_ratio(after['cold_over_pycco'])}** "
            f"| {before['median_seconds']['litdoc_fresh']:.2f} → {med['litdoc_fresh']:.2f} s "
            f"| {_ratio(before['fresh_over_pycco'])} → {_ratio(after['fresh_over_pycco'])} |"
        )
    return "\n".join(lines)


def speed_summary(folder: Path = FOLDER) -> str:
    """The machine, the commits and the load of the runs behind `speed_table`."""
    rows = speed_rows(folder)
    runs = [run for *_, before, after in rows for run in (before, after)]
    loads = [value for run in runs for value in (run["load_before"], run["load_after"])]
    before_commits = sorted({before["litdoc_commit"] for *_, before, _ in rows})
    after_commits = sorted({after["litdoc_commit"] for *_, _, after in rows})
    return (
        f"{runs[0]['cpus']} CPUs ({runs[0]['cpu']}), Python {runs[0]['python']}, medians of "
        f"{runs[0]['runs']} interleaved runs; litdoc before: {', '.join(before_commits)}, after: "
        f"{', '.join(after_commits)}; load average {min(loads):.2f} to {max(loads):.2f}"
    )


def profile_table(folder: Path = FOLDER, corpus: str = "labml_nn") -> str:
    columns = [
        ("cold, before", f"profile-{corpus}-before.json"),
        ("cold, after", f"profile-{corpus}-after.json"),
        ("fresh clone, before", f"profile-{corpus}-before-fresh.json"),
        ("fresh clone, after", f"profile-{corpus}-after-fresh.json"),
    ]
    loaded = [(title, _load(folder, name)) for title, name in columns]
    present = [(title, record) for title, record in loaded if record is not None]
    lines = [
        "| stage | " + " | ".join(title for title, _ in present) + " |",
        "|---|" + "--:|" * len(present),
    ]
    for stage in [*STAGES, "total"]:
        cells = []
        for _, record in present:
            seconds = record["median_seconds"][stage]
            share = seconds / record["median_seconds"]["total"] * 100
            cells.append(f"{seconds:.2f} s" if stage == "total" else f"{seconds:.2f} s ({share:.0f}%)")
        name = f"**{stage}**" if stage == "total" else stage
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def blocks(folder: Path = FOLDER) -> dict[str, str]:
    """What the README holds between `<!-- NAME: begin -->` and `<!-- NAME: end -->`, by NAME."""
    return {
        "build speed": speed_table(folder) + "\n\n" + speed_summary(folder),
        "build profile": profile_table(folder),
    }


def write_readme(readme: Path = ROOT / "README.md", folder: Path = FOLDER) -> None:
    text = readme.read_text(encoding="utf-8")
    for name, block in blocks(folder).items():
        start, end = f"<!-- {name}: begin -->\n", f"<!-- {name}: end -->"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}{block}\n{end}{tail}"
    readme.write_text(text, encoding="utf-8")


def main() -> int:
    if sys.argv[1:] == ["--readme"]:
        write_readme()
        return 0
    print("\n\n".join(blocks().values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
