"""What the distribution says about itself, and what importing it checks."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from pathlib import Path

import pytest

import labml_nn

ROOT = Path(__file__).resolve().parents[1]


def test_importing_beside_upstream_labml_nn_says_what_to_do(monkeypatch):
    """Issue 24: PyPI's labml-nn installs the same package name; a mixed install must fail at import with
    one clear message, not later with "cannot import name 'Group'"."""
    installed = {"labml-nn", "labml-nn-annotated"}

    def distribution(name: str) -> object:
        if name in installed:
            return object()
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    with pytest.raises(ImportError, match="both labml-nn-annotated .* and PyPI's labml-nn are installed"):
        importlib.reload(labml_nn)
    installed.discard("labml-nn")
    importlib.reload(labml_nn)  # ours alone: imports


def test_torch_is_the_only_run_time_requirement_and_litdoc_a_docs_extra():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dependencies = re.search(r"^dependencies = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert dependencies is not None
    names = re.findall(r'^\s*"([A-Za-z0-9_.\-]+)', dependencies.group(1), re.MULTILINE)
    assert names == ["torch"]
    assert re.search(r'^docs = \[\s*"litdoc', text, re.MULTILINE)
    assert 'license = "MIT"' in text and 'license-files = ["LICENSE"]' in text
