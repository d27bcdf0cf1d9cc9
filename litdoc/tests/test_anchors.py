"""Stable anchors, outline, heading levels, reading order, citations and the notebook of a page."""

from __future__ import annotations

import json
import re
import textwrap

from litdoc import anchors, cite, notebook, search, site
from litdoc.parse import parse_module
from litdoc.site import MARKDOWN, PYTHON, SiteTree, SourceFile

SOURCE = textwrap.dedent('''\
    """
    # Steps

    Intro.

    ## How large is a step?

    | a | b |
    |---|---|
    | 1 | 2 |
    """

    import math


    class Adam:
        """
        ## Adam
        """

        def get_mv(self, g):
            # The first moment
            m = g
            # The second moment, $v = g^2$.
            return m, g * g


    def helper():
        return 1
    ''')


def infos_of(source: str):
    module = parse_module(source, "steps.py")
    return module, anchors.analyse_sections(module, source)


def test_anchors_come_from_headings_and_qualified_names():
    _, infos = infos_of(SOURCE)
    assert [info.anchor for info in infos] == ["steps", "Adam", "Adam.get_mv", "Adam.get_mv-1", "helper"]
    assert [h.slug for info in infos for h in info.headings] == ["steps", "how-large-is-a-step", "adam"]
    assert infos[0].anchor_on_heading and not infos[1].anchor_on_heading
    assert infos[0].wide and not infos[1].wide  # the table needs the whole row


def test_anchors_do_not_move_when_a_section_is_inserted_elsewhere():
    _, before = infos_of(SOURCE)
    inserted = SOURCE.replace("def helper():", "def added():\n    # A new note\n    return 2\n\n\ndef helper():")
    _, after = infos_of(inserted)
    old = {info.anchor for info in before}
    assert old <= {info.anchor for info in after}
    assert "added" in {info.anchor for info in after}


def test_ids_are_unique_on_a_page_and_never_take_a_positional_id():
    source = '"""\n# A\n\n## A\n\n## Section 0\n"""\nx = 1\n'
    _, infos = infos_of(source)
    slugs = [h.slug for info in infos for h in info.headings]
    assert slugs == ["a", "a-2", "section-0-2"]  # section-0 is kept for the old positional id


def test_slugify():
    assert anchors.slugify("How large is a step?") == "how-large-is-a-step"
    assert anchors.slugify("What `eps` means here") == "what-eps-means-here"
    assert anchors.slugify("Update $m_t$ and $v_t$") == "update-m_t-and-v_t"
    assert anchors.slugify("???") == "section"


def test_outline_and_heading_levels():
    _, infos = infos_of(SOURCE)
    assert [(e.level, e.title, e.anchor) for e in anchors.outline(infos)] == [
        (2, "How large is a step?", "how-large-is-a-step"),
        (2, "Adam", "adam"),
        (3, "Adam.get_mv", "Adam.get_mv"),
        (2, "helper", "helper"),
    ]
    levels = [h for info in infos for h in info.headings]
    assert [h.level for h in levels] == [1, 2, 2]
    # `###` right under the `#` title is rendered as h2, and its siblings too.
    _, skipping = infos_of('"""\n# T\n\n### a\n\n### b\n\n#### c\n"""\nx = 1\n')
    assert anchors.heading_levels(skipping) == [[1, 2, 2, 3]]


def test_search_rows_go_to_the_heading_or_the_definition():
    module, infos = infos_of(SOURCE)
    path, title, rows = search.page_entry("steps.html", "Steps", module, infos)
    anchors_found = [row[0] for row in rows]
    assert "how-large-is-a-step" in anchors_found and "Adam.get_mv" in anchors_found
    row = rows[anchors_found.index("how-large-is-a-step")]
    assert row[1] == "How large is a step?" and "a b 1 2" in str(row[3])
    # A definition is its own row, titled by its qualified name, with the names its code uses.
    get_mv = rows[anchors_found.index("Adam.get_mv")]
    assert get_mv[1:3] == ["Adam.get_mv", 1] and "get_mv" in str(get_mv[4])
    files = dict(search.index_files([(path, title, rows)]))
    script = files[search.INDEX_PATH].decode()
    assert script.startswith('litdocSearchData("index",{') and json.loads(script[len('litdocSearchData("index",') : -3])


def test_reading_order_follows_the_chapter_index_links():
    tree = SiteTree(
        tuple(
            sorted(
                [
                    SourceFile("pkg/__init__.py", "pkg/index.html", PYTHON),
                    SourceFile("pkg/a.py", "pkg/a.html", PYTHON),
                    SourceFile("pkg/b.py", "pkg/b.html", PYTHON),
                    SourceFile("pkg/c.md", "pkg/c.html", MARKDOWN),
                    SourceFile("__init__.py", "index.html", PYTHON),
                ],
                key=lambda f: f.output_path,
            )
        )
    )
    order = site.reading_order(tree, {"pkg/index.html": "[b](b.html) then [a](a.py) and [out](https://x.org/a.py)"})
    assert order == ("index.html", "pkg/index.html", "pkg/b.html", "pkg/a.html", "pkg/c.html")
    assert site.neighbours("pkg/b.html", order) == ("pkg/index.html", "pkg/a.html")
    assert site.neighbours("pkg/index.html", order) == (None, "pkg/b.html")  # chapters do not run into each other


def test_colab_link_only_for_github_blob_urls_with_output_in_the_repository():
    assert (
        site.colab_url("https://github.com/o/r/blob/main", "docs", "opt/adam.ipynb")
        == "https://colab.research.google.com/github/o/r/blob/main/docs/opt/adam.ipynb"
    )
    assert site.colab_url("https://gitlab.com/o/r/blob/main", "docs", "a.ipynb") is None
    assert site.colab_url("https://github.com/o/r/blob/main", "..", "a.ipynb") is None


def test_page_and_paper_bibtex():
    entry = cite.page_bibtex(
        "labml_nn: annotated", "Adam Optimizer", "https://x.org/opt/adam.html", "opt/adam.html", "0.1.0", "2026-11-29"
    )
    assert entry.splitlines() == [
        "@misc{labml_nn:opt_adam,",
        "  title        = {Adam Optimizer},",
        "  howpublished = {labml\\_nn: annotated},",
        "  url          = {https://x.org/opt/adam.html},",
        "  version      = {0.1.0},",
        "  note         = {Version 0.1.0},",
        "  year         = {2026},",
        "  date         = {2026-11-29},",
        "}",
    ]
    paper = cite.papers_bibtex(
        {
            "arxiv": "1412.6980",
            "paper_title": "Adam: A Method for Stochastic Optimization",
            "authors": "Diederik P. Kingma and Jimmy Ba",
            "year": "2014",
        }
    )
    assert paper.startswith("@misc{kingma2014_1412_6980,") and "eprint        = {1412.6980}," in paper
    assert cite.papers_bibtex({}) == ""
    # No date without git: nothing from the clock.
    assert "date" not in cite.page_bibtex("s", "t", "u", "p.html", "1", "")


NOTEBOOK_SOURCE = textwrap.dedent(r'''
    r"""
    ---
    title: Counter
    ---

    # Counter

    Counts with $n \leftarrow n + 1$.
    """

    from collections import OrderedDict


    class Counter:
        """
        ## Counter
        """

        def __init__(self):
            # Start at $0$
            self.n = 0

        def step(self):
            """Add one."""

        def bump(self):
            # $n \leftarrow n + 1$
            self.n += 1
            return self.n


    TABLE = OrderedDict(a=1)
    COUNT = Counter().bump() + Counter().bump()

    if __name__ == "__main__":
        COUNT = -1
    ''')


def test_notebook_runs_top_to_bottom_like_an_import(tmp_path):
    module = parse_module(NOTEBOOK_SOURCE, "counter.py")
    data = json.loads(notebook.notebook_bytes(module, NOTEBOOK_SOURCE, notebook.NotebookOptions("pkg")))
    cells = data["cells"]
    kinds = [cell["cell_type"] for cell in cells]
    assert kinds[0] == "markdown" and "code" in kinds
    assert "$n \\leftarrow n + 1$" in "".join(cells[0]["source"])  # math intact
    # Code cells in source order, each whole statements: exec them in one namespace...
    namespace = {"__name__": "counter"}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "<cell>", "exec"), namespace)
    # ...and compare with importing the module.
    (tmp_path / "counter.py").write_text(NOTEBOOK_SOURCE, encoding="utf-8")
    imported = {"__name__": "counter"}
    exec(compile(NOTEBOOK_SOURCE, str(tmp_path / "counter.py"), "exec"), imported)
    public = {k for k in imported if not k.startswith("__")}
    assert public <= set(namespace)
    assert namespace["COUNT"] == imported["COUNT"] == 2 and namespace["TABLE"] == imported["TABLE"]
    assert namespace["Counter"]().bump() == 1
    # The same module gives the same bytes.
    options = notebook.NotebookOptions("pkg")
    assert notebook.notebook_bytes(module, NOTEBOOK_SOURCE, options) == notebook.notebook_bytes(
        module, NOTEBOOK_SOURCE, options
    )


def test_relative_imports_become_absolute():
    assert (
        notebook._absolute_imports("from .base import X\nfrom .. import y\n", "a.b")
        == "from a.b.base import X\nfrom a import y\n"
    )
    assert notebook.module_package(True, "labml_nn", "optimizers/adam.py") == "labml_nn.optimizers"


MATH_HEADINGS = textwrap.dedent('''\
    r"""
    # Momentum

    ## $(\\rho_{\\text{GD}}, \\rho_{\\text{HB}})$

    ## Update $m_t$ and $v_t$

    ## How large is a step?

    ## rho_-texthb-2
    """

    x = 1
    ''')


def test_a_math_headings_slug_is_the_text_it_shows_and_its_tex_slug_still_lands():
    _, infos = infos_of(MATH_HEADINGS)
    # The math as the characters it shows, short and readable; headings without math keep their slugs.
    assert [h.slug for h in infos[0].headings] == [
        "momentum",
        "ρ-gd-ρ-hb",
        "update-mt-and-vt",
        "how-large-is-a-step",
        "rho_-texthb-2",
    ]
    # The slugs earlier versions made from the TeX stay as aliases, after every other id is given out.
    assert infos[0].aliases == ("section-0", "rho_-textgd-rho_-texthb", "update-m_t-and-v_t")


def test_a_tex_slug_that_another_id_has_is_no_alias():
    source = MATH_HEADINGS.replace("## How large is a step?", "## update-m_t-and-v_t")
    _, infos = infos_of(source)
    assert "update-m_t-and-v_t" in [h.slug for h in infos[0].headings]
    assert infos[0].aliases == ("section-0", "rho_-textgd-rho_-texthb")


def test_a_built_math_heading_has_its_readable_id_and_its_old_one(tmp_path):
    import io

    from litdoc.build import BuildOptions, build_site
    from litdoc.check import check_site
    from litdoc.config import load_config
    from tests.sitefixtures import make_project

    page = MATH_HEADINGS.replace(
        '"""\n\nx = 1', 'See [the update](#update-mt-and-vt) and [the old link](#update-m_t-and-v_t).\n"""\n\nx = 1'
    )
    project = make_project(tmp_path / "proj", {"src/pkg/momentum.py": page})
    assert build_site(load_config(project), BuildOptions(jobs=1), stream=io.StringIO()).ok
    html = (project / "site" / "pkg" / "momentum.html").read_text(encoding="utf-8")
    assert 'id="ρ-gd-ρ-hb"' in html and 'href="#ρ-gd-ρ-hb"' in html  # the heading and its outline entry
    assert '<span class="old-anchor" id="rho_-textgd-rho_-texthb"></span>' in html
    assert '<span class="old-anchor" id="update-m_t-and-v_t"></span>' in html
    assert 'id="how-large-is-a-step"' in html
    assert check_site(project / "site") == []
    # Its name for assistive technology is what it shows, not its TeX
    assert 'id="ρ-gd-ρ-hb" aria-label="(ρ GD, ρ HB)"' in html and "\\rho" not in html.split("<h", 1)[1].split(">", 1)[0]


LEGACY = textwrap.dedent('''\
    """
    ---
    title: Steps
    legacy_anchors: >
      section-1: how-large-is-a-step
      section-5: Adam.get_mv, old-name: Adam
    ---

    # Steps

    ## How large is a step?
    """

    class Adam:
        """
        ## Adam
        """

        def get_mv(self, g):
            return g
    ''')


def test_legacy_anchors_of_the_front_matter_land_where_they_say():
    module, infos = infos_of(LEGACY)
    by_anchor = {info.anchor: info.aliases for info in infos}
    # nn.labml.ai's section-1 was this page's heading, section-5 its method: the declared anchors replace
    # the page's own positional section-1, which no longer lands on the class.
    assert by_anchor == {
        "steps": ("section-0", "section-1"),
        "Adam": ("old-name",),
        "Adam.get_mv": ("section-2", "section-5"),
    }
    ids = [alias for info in infos for alias in info.aliases]
    assert len(ids) == len(set(ids))


def test_a_legacy_anchor_that_names_nothing_or_takes_an_id_fails_in_one_line():
    import pytest

    from litdoc.model import LitdocError

    for wrong, message in (
        ("section-5: Adam.nope", "'section-5' names 'Adam.nope', which is no anchor of this page"),
        ("steps: Adam", "'steps' is already an id of this page"),
        ("section-5 Adam", "'section-5' is not an 'old: anchor' pair"),
    ):
        source = LEGACY.replace("section-5: Adam.get_mv, old-name: Adam", wrong)
        with pytest.raises(LitdocError, match=re.escape(message)):
            infos_of(source)
