"""CITATION.cff is what scripts/citation_cff.py writes from pyproject.toml and the pages' front matter:
the version, the site and the repository of this checkout, and every paper a page cites, once."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_file_is_what_the_script_writes():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "citation_cff.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_it_names_this_version_and_every_paper_the_pages_cite():
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the file as any CFF tool would")
    import tomllib

    script = load_script("citation_cff")
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["cff-version"] == "1.2.0"
    assert data["version"] == data["preferred-citation"]["version"] == project["project"]["version"]
    assert data["url"] == project["tool"]["litdoc"]["base_url"]
    assert data["repository-code"] == "https://github.com/labml-nn/annotated"
    papers = script.papers()
    assert len(papers) >= 20 and len({paper.title for paper in papers}) == len(papers)
    assert [reference["title"] for reference in data["references"]] == [paper.title for paper in papers]
    for reference, paper in zip(data["references"], papers):
        names = [
            " ".join((a.get("given-names", ""), a.get("family-names", a.get("alias", "")))).strip()
            for a in reference["authors"]
        ]
        assert names == list(paper.authors) and reference["year"] == int(paper.year)
    adam = next(reference for reference in data["references"] if reference["title"].startswith("Adam:"))
    assert adam["type"] == "conference-paper" and adam["url"] == "https://arxiv.org/abs/1412.6980"
