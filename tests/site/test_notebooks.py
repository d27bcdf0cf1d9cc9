"""The committed notebooks (docs/**/*.ipynb) against their pages' sources: no line of a source is lost
between the page and its notebook, each notebook begins by installing what it imports, and no
relative link is left in it (a notebook opened in Colab has no site beside it). That they run is
`make test-notebooks`'s job (scripts/run_notebooks.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))
# A Markdown link's target, which the notebook makes absolute: compared without it.
LINK_TARGET = re.compile(r"\]\([^)\s]*")
FRONT_MATTER_LINE = re.compile(r"^[a-z][a-z0-9_]*: ")  # paper2_title: too


def normalized(text: str) -> str:
    return LINK_TARGET.sub("](", text)


def download(notebook: Path) -> Path:
    """The page's `.py` download: `adam.py` beside `adam.ipynb`; a folder's `index.ipynb` comes from
    its `__init__.py`."""
    return notebook.with_name("__init__.py") if notebook.name == "index.ipynb" else notebook.with_suffix(".py")


def test_every_page_has_a_notebook_and_a_download():
    assert len(NOTEBOOKS) >= 50
    for notebook in NOTEBOOKS:
        assert download(notebook).is_file(), notebook


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_no_source_line_is_lost(notebook):
    """Every line of the `.py` download (the page's source) is in a code cell as written, or, being a
    top-level note, in a Markdown cell; only the docstring quotes and the front matter (which gives the
    title) are not."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = normalized("\n".join("".join(cell["source"]) for cell in cells))
    source = download(notebook).read_text(encoding="utf-8").splitlines()
    if source and source[0].startswith("# To run this file, first install"):
        source = source[1:]  # the download's own header, not the page's
    lost = []
    in_front_matter = False
    for number, line in enumerate(source, start=1):
        stripped = line.strip()
        if stripped == "---":
            in_front_matter = not in_front_matter
            continue
        if in_front_matter and FRONT_MATTER_LINE.match(stripped):
            continue
        if stripped in ('"""', 'r"""', "'''", "r'''"):
            continue
        # A docstring's text, without the quotes that open or close it on the same line.
        content = re.sub(r'^r?"""|"""$', "", stripped.lstrip("#").strip()).strip()
        content = normalized(content)
        if content and content not in text:
            lost.append(f"{number}: {line}")
    assert lost == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_a_notebook_installs_before_it_imports_and_links_absolutely(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    if code:
        assert "importlib.metadata.version(" in code[0] and "pip" in code[0], code[0][:200]
        assert "git+https://github.com/labml-nn/annotated" in code[0]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for target in re.findall(r"\]\(([^)\s]+)", "".join(cell["source"])):
                assert target.startswith(("https://", "http://", "mailto:")), (notebook.name, target)
