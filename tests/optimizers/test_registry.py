"""The chapter's registry of optimizers (labml_nn/optimizers/registry.py): that it names every optimizer page and
only pages, that each entry computes the same update as its reference, and that the prose that lists the pages
(the chapter's comparison table and its course) agrees with it."""

import inspect
import re

import pytest
import torch

import labml_nn.optimizers
from labml_nn.optimizers import registry
from labml_nn.optimizers.registry import OptimizerEntry, optimizer_entries
from tests.optimizers.common import DEVICES, compare_group_trajectories, tolerance

ENTRIES = {entry.cls.__name__: entry for entry in optimizer_entries()}
PAGES = {entry.page for entry in optimizer_entries()}


def defined_optimizers(module) -> set[type]:
    """The `torch.optim.Optimizer` subclasses that a module defines (not those it imports)."""
    return {
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, torch.optim.Optimizer) and cls.__module__ == module.__name__
    }


# ## Pages and entries


def test_every_optimizer_page_declares_an_entry_for_each_class():
    # A page is a module of the chapter that defines an optimizer; it declares one entry per optimizer it defines.
    missing = {
        f"{module.__name__}.{cls.__name__}"
        for module in registry.chapter_modules()
        for cls in defined_optimizers(module) - {entry.cls for entry in registry.declared_entries(module)}
    }
    assert not missing, f"declare an OptimizerEntry for each of {sorted(missing)} on its page"


def test_every_entry_names_a_page():
    # An entry anywhere in the chapter whose class is not defined by the module that declares it names no page
    # (the registry would skip it), unless it is another page's entry imported under its own name.
    modules = {module.__name__: module for module in registry.chapter_modules()}
    for name, module in modules.items():
        for attribute, value in vars(module).items():
            if not isinstance(value, OptimizerEntry):
                continue
            home = modules.get(value.cls.__module__)
            assert home is not None, (
                f"{name}.{attribute} is the entry of {value.cls}, which no page of the chapter defines"
            )
            assert value in registry.declared_entries(home), f"{name}.{attribute} is not declared on its class's page"


def test_one_entry_per_class():
    classes = [entry.cls for entry in optimizer_entries()]
    assert len(classes) == len(set(classes)) == len(ENTRIES)


def test_the_registry_is_found_not_listed():
    # Importing the registry imports no page: the pages import it, and it finds them only when asked.
    assert "optimizer_entries" in registry.__all__
    assert {"adam", "sgd", "muon", "rmsprop"} <= PAGES
    assert all(
        entry.page in {m.__name__.rsplit(".", 1)[-1] for m in registry.chapter_modules()} for entry in ENTRIES.values()
    )


def test_experiment_lines_have_distinct_labels_and_positions():
    lines = [entry.experiment for entry in optimizer_entries() if entry.experiment is not None]
    assert len({line.label for line in lines}) == len(lines)
    # Position 0 is the baseline's, torch.optim.AdamW, which is not a page of the chapter.
    assert sorted(line.position for line in lines) == list(range(1, len(lines) + 1))


# ## Each entry against its reference


@pytest.fixture
def float64_default():
    # torch's NAdam keeps its product of $\mu$ in the default dtype; ours is a Python float (see test_nadam.py).
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(name for name, entry in ENTRIES.items() if entry.reference is not None))
def test_matches_its_reference(name, device, float64_default):
    # Both step on the same gradients (`compare_group_trajectories`), so in float64 the parameters differ by the
    # rounding of the two updates only, which `tolerance` bounds; a different algorithm is off by 1e-3 or more.
    entry = ENTRIES[name]
    reference = entry.reference
    assert reference is not None
    diff, _ = compare_group_trajectories(
        lambda p: entry.cls(p, **reference.ours),
        lambda p: reference.cls(p, **reference.theirs),
        lambda model: entry.select(model.parameters()),
        device,
        torch.float64,
    )
    assert diff <= tolerance(device, torch.float64)


# ## The prose that lists the pages


def chapter_section(heading: str) -> str:
    """The chapter page's text from `heading` to the next heading of the same or a higher level."""
    doc = labml_nn.optimizers.__doc__
    assert doc is not None
    level = heading.split(" ", 1)[0]
    start = doc.index("\n" + heading + "\n")
    end = re.search(rf"\n#{{1,{len(level)}}} ", doc[start + 1 :])
    return doc[start : start + 1 + end.start()] if end else doc[start:]


def comparison_rows() -> dict[str, str]:
    """The comparison table's rows, by the page their first cell links to."""
    rows = [line for line in chapter_section("### Comparison").splitlines() if line.startswith("| [")]
    return {re.match(r"\| \[[^]]*\]\((\w+)\.html\)", row).group(1): row for row in rows}


def test_the_comparison_table_has_a_row_for_every_page_and_only_for_pages():
    rows = comparison_rows()
    assert sorted(rows) == sorted(PAGES), (
        f"rows without a registered page: {sorted(set(rows) - PAGES)}; pages without a row: {sorted(PAGES - set(rows))}"
    )


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_comparison_table_cites_the_pages_paper(page):
    # A page with two classes (RMSProp's demonstration of Adam) has one row, which cites the page's own paper.
    paper_cell = comparison_rows()[page].split(" | ")[1]
    papers = [entry.paper for entry in ENTRIES.values() if entry.page == page]
    assert any(f"({paper})" in paper_cell for paper in papers), (paper_cell, papers)


def test_the_course_links_every_page():
    # The course orders the pages and says what each assumes, which no table can write; it must still miss none.
    course = chapter_section("## Pages in this chapter, as a course")
    linked = set(re.findall(r"\]\((\w+)\.html\)", course))
    assert PAGES <= linked, f"pages the course does not link: {sorted(PAGES - linked)}"


def test_the_experiment_page_names_the_pages_it_leaves_out():
    # The experiment page's opening says which pages it does not run; they are the pages with no experiment line.
    from labml_nn.optimizers import experiment

    doc = experiment.__doc__
    assert doc is not None
    sentence = doc[doc.index("It does not run") : doc.index(": Sophia needs")]
    left_out = set(re.findall(r"\]\((\w+)\.html\)", sentence))
    with_line = {entry.page for entry in optimizer_entries() if entry.experiment is not None}
    assert left_out == PAGES - with_line
