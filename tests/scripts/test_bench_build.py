"""The build benchmark and the build profile, run on a small corpus: every figure they print is there, the
A/A control included, and the profile's stages add up to no more than the build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"

MODULE = '''"""
# A module

Its notes, with math: $\\\\beta_2$.
"""


# ## Twice
def twice(x):
    """Twice `x`."""
    return 2 * x
'''


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.py").write_text(MODULE, encoding="utf-8")
    (folder / "sub" / "b.py").write_text(MODULE.replace("A module", "Another") + "\nfrom tiny.a import twice\n")
    return folder


def test_bench_build_times_fresh_cold_noop_one_file_and_pycco_twice(tmp_path):
    out = tmp_path / "run.json"
    command = [sys.executable, str(SCRIPTS / "bench_build.py"), "--corpus", str(corpus(tmp_path)), "--runs", "1"]
    result = subprocess.run([*command, "--jobs", "1", "--json", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["files"] == 2 and record["jobs"] == 1 and record["litdoc_commit"]
    # litdoc ran from bytecode, as pip installs it (and as pycco's wheel runs), even where
    # PYTHONDONTWRITEBYTECODE keeps Python from writing it.
    import importlib.util

    import litdoc.build

    assert record["litdoc_bytecode"] is True
    assert Path(importlib.util.cache_from_source(litdoc.build.__file__)).is_file()
    seconds = record["seconds"]
    assert set(seconds) == {"pycco", "pycco_again", "litdoc_fresh", "litdoc_cold", "litdoc_noop", "litdoc_one_file"}
    assert all(len(runs) == 1 and runs[0] > 0 for runs in seconds.values())
    assert record["control_over_pycco"] == seconds["pycco_again"][0] / seconds["pycco"][0]
    assert record["summaries"][0].startswith("litdoc: 5 pages built")  # two sources and three folder listings
    assert "pycco again (A/A)" in result.stdout and "litdoc fresh clone" in result.stdout


def test_profile_build_gives_each_second_to_one_stage(tmp_path):
    out = tmp_path / "profile.json"
    command = [sys.executable, str(SCRIPTS / "profile_build.py"), "--corpus", str(corpus(tmp_path)), "--runs", "1"]
    result = subprocess.run([*command, "--fresh", "--json", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text(encoding="utf-8"))
    stages = record["runs"][0]["stages"]
    total = record["runs"][0]["total"]
    # The fresh build cuts the font for the page's math and reads both sources' names first.
    for stage in ("parse", "anchors", "markup", "math", "highlight", "xref", "notebook", "search", "font", "writing"):
        assert stages[stage] > 0, stage
    assert sum(stages.values()) <= total
    assert record["median_seconds"]["other"] == pytest.approx(total - sum(stages.values()))
