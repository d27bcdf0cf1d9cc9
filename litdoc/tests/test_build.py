"""`litdoc build`: the pages it writes, bad input, safety of the output folder, incremental and
deterministic builds, templates and config precedence."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import litdoc.build
from litdoc.build import MANIFEST_NAME, BuildOptions, build_site
from litdoc.config import load_config
from tests.sitefixtures import (
    PYPROJECT,
    make_project,
    python_lines_run,
    run,
    run_subprocess,
    site_files,
    summary_counts,
)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def build(capsys, project: Path, *flags: str):
    return run(capsys, "build", "--project", str(project), "-j1", *flags)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------


def test_tree_is_mirrored(capsys, project):
    code, _, err = build(capsys, project)
    assert code == 0, err
    files = set(site_files(project / "site"))
    assert {
        "index.html",
        "pkg/index.html",
        "pkg/model.html",
        "pkg/readme.html",
        "pkg/figure.svg",
        "notes/index.html",
        "plain/other.html",
        "plain/index.html",
        "sitemap.xml",
        MANIFEST_NAME,
        "_litdoc/litdoc.css",
        "_litdoc/pygments.css",
    } <= files
    # No page for the README beside an __init__.py under the index name, no Markdown source copied;
    # a Python page's source is copied beside it, as its download, with its notebook.
    assert not any(name.endswith(".md") for name in files)
    assert {name for name in files if name.endswith((".py", ".ipynb"))} == {
        "__init__.py",
        "index.ipynb",
        "pkg/__init__.py",
        "pkg/index.ipynb",
        "pkg/model.py",
        "pkg/model.ipynb",
        "plain/other.py",
        "plain/other.ipynb",
    }
    assert {"_litdoc/search-index.js", "_litdoc/theme.css", "_litdoc/litdoc.js", "404.html"} <= files
    assert summary_counts(err) == [7, 0, 0]


def test_page_carries_head_breadcrumbs_source_link_and_sections(capsys, project):
    assert build(capsys, project)[0] == 0
    html = (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")
    assert "<title>The model</title>" in html
    assert '<meta name="description" content="Squares with math.">' in html
    assert '<meta property="og:title" content="The model">' in html
    assert '<meta name="twitter:description" content="Squares with math.">' in html
    assert '<link rel="canonical" href="https://example.org/demo/pkg/model.html">' in html
    assert '<meta property="og:url" content="https://example.org/demo/pkg/model.html">' in html
    # home, then the package's own index, then the page itself (not a link).
    crumbs = re.findall(r'<a class="parent" href="([^"]+)">([^<]+)</a>', html)
    assert crumbs == [("../index.html", "home"), ("index.html", "pkg")]
    assert '<span class="current" aria-current="page">The model</span>' in html
    assert 'href="https://git.example.org/demo/blob/main/src/pkg/model.py"' in html
    assert '<div id="container" class="">' in html  # code beside notes, in two columns
    # Anchors from content (litdoc.anchors): the first section's heading, then qualified names; every
    # section keeps its old positional id too.
    assert '<h1 id="the-model">' in html
    ids = re.findall(r"<div class='section' id='([^']+)'>", html)
    assert ids == ["Square", "Square.__call__", "norm", "norm-1"]  # norm-1: the note inside norm
    old = re.findall(r'<span class="old-anchor" id="section-(\d+)"></span>', html)
    assert old == ["0", "1", "2", "3", "4"]
    for anchor in ["the-model"] + ids:
        assert (
            f"<div class='section-link'>\n<a href='#{anchor}' aria-label=\"link to this section\">#</a>\n</div>" in html
        )
    assert "<div class='docs doc-strings'>" in html  # the module and class docstrings
    assert "<div class='docs'>" in html  # the `#` comments
    assert '<span class="lineno">' in html
    # Math became MathML at build time: no TeX delimiters left (the TeX is only in the MathML's
    # annotation), no script needed to read the page (litdoc.js adds search, copy and the theme toggle).
    text = re.sub(r'<annotation encoding="application/x-tex">.*?</annotation>', "", html, flags=re.S)
    assert "<math" in html and "\\begin{align}" not in text and "$y = x^2$" not in html
    assert re.findall(r"<script[^>]*>", html) == [
        "<script>",
        '<script defer src="../_litdoc/litdoc.js" data-root="..">',
    ]


def test_no_request_leaves_the_machine_in_mathml_mode(capsys, project):
    assert build(capsys, project)[0] == 0
    for rel, data in site_files(project / "site").items():
        if rel.endswith((".html", ".css")):
            text = data.decode("utf-8")
            # Absolute URLs may appear only as links a reader follows, or as metadata.
            for match in re.finditer(r'(src|href)="(https?:[^"]+)"', text):
                tag_start = text.rfind("<", 0, match.start())
                tag = text[tag_start : match.start()]
                assert tag.startswith("<a ") or 'rel="canonical"' in text[tag_start : match.end() + 2], (rel, tag)
            assert "url(http" not in text and "@import" not in text


def test_markdown_links_point_at_pages(capsys, project):
    assert build(capsys, project)[0] == 0
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="pkg/model.html#section-1"' in home
    assert 'href="pkg/readme.html"' in home
    assert 'href="notes/index.html"' in home
    assert 'href="https://arxiv.org/abs/1412.6980"' in home
    notes = (project / "site" / "notes" / "index.html").read_text(encoding="utf-8")
    assert 'href="../pkg/model.html#section-2"' in notes
    assert 'href="../pkg/figure.svg"' in notes
    readme = (project / "site" / "pkg" / "readme.html").read_text(encoding="utf-8")
    assert 'href="model.html"' in readme and 'href="../index.html"' in readme
    assert '<div id="container" class="no-code">' in readme  # no code: the notes take the page


def test_folder_without_index_gets_a_listing(capsys, project):
    assert build(capsys, project)[0] == 0
    listing = (project / "site" / "plain" / "index.html").read_text(encoding="utf-8")
    assert 'href="other.html"' in listing
    assert '<div id="container" class="no-code">' in listing
    crumbs = re.findall(r'<a class="parent" href="([^"]+)">([^<]+)</a>', listing)
    assert crumbs == [("../index.html", "home")]


def test_sitemap_is_valid_and_absolute(capsys, project):
    assert build(capsys, project)[0] == 0
    root = ET.fromstring((project / "site" / "sitemap.xml").read_bytes())
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert root.tag == f"{ns}urlset"
    locs = [url.find(f"{ns}loc").text for url in root.findall(f"{ns}url")]
    assert locs == sorted(locs)
    assert "https://example.org/demo/pkg/model.html" in locs
    assert all(loc.startswith("https://example.org/demo/") for loc in locs)
    assert not any(loc.endswith(".svg") for loc in locs)
    assert len(locs) == 7


# ---------------------------------------------------------------------------------------------
# Bad input: one line each, the other pages still built, exit 1, no traceback
# ---------------------------------------------------------------------------------------------

BAD_INPUTS = {
    "src/bad_syntax.py": ("text", "def f(:\n    pass\n", "src/bad_syntax.py:1: "),
    "src/bad_indent.py": ("text", "x = 1\n  y = 2\n", "src/bad_indent.py:2: "),
    "src/open_string.py": ("text", 'x = 1\ny = """never closed\n\n', "src/open_string.py:2: "),
    "src/latin1.py": ("bytes", b"# caf\xe9\nx = 1\n", "src/latin1.py:1: not UTF-8"),
    "src/blob.py": ("bytes", b"x = 1\n\x00\x01\x02", "src/blob.py:2: binary file"),
    "src/wide.py": (
        "bytes",
        "\ufeffx = 1\n".encode("utf-16-le"),
        "src/wide.py:1: UTF-16 little-endian text (byte-order mark FF FE): save it as UTF-8",
    ),
    "src/wide32.md": (
        "bytes",
        "\ufeff# Notes\n".encode("utf-32-le"),
        "src/wide32.md:1: UTF-32 little-endian text (byte-order mark FF FE 00 00): save it as UTF-8",
    ),
    "src/bad_tex.py": (
        "text",
        '"""\n# TeX\n\nA fraction $\\frac{1}$ here.\n"""\nx = 1\n',
        "src/bad_tex.py:4: TeX error",
    ),
}


@pytest.mark.parametrize("rel", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_the_rest_is_built(capsys, project, rel):
    kind, content, prefix = BAD_INPUTS[rel]
    path = project / rel
    path.write_bytes(content if kind == "bytes" else content.encode("utf-8"))
    code, _, err = build(capsys, project)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("src/")]
    assert len(errors) == 1, err
    assert errors[0].startswith(prefix), err
    assert "Traceback" not in err
    assert summary_counts(err) == [7, 0, 1]
    assert (project / "site" / "pkg" / "model.html").is_file()
    assert not (project / "site" / Path(rel).relative_to("src").with_suffix(".html")).exists()


def test_bad_input_from_the_command_line_has_no_traceback(project):
    (project / "src" / "bad.py").write_text("def (\n", encoding="utf-8")
    result = run_subprocess("build", "-j1", cwd=project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(r"^src/bad\.py:1: .+", result.stderr, re.M), result.stderr
    assert "1 failed" in result.stderr


def test_missing_template_is_reported_per_page(capsys, project):
    (project / "templates").mkdir()
    (project / "templates" / "page.html").write_text('{% extends "nowhere.html" %}', encoding="utf-8")
    code, _, err = build(capsys, project, "--templates", "templates")
    assert code == 1
    assert "src/pkg/model.py:1: template 'nowhere.html' not found" in err
    assert "Traceback" not in err
    # The listing page uses another template, and is still written.
    assert (project / "site" / "plain" / "index.html").is_file()


def test_template_syntax_error_names_the_template_line(capsys, project):
    (project / "templates").mkdir()
    (project / "templates" / "footer.html").write_text("<footer>\n{% if %}\n</footer>\n", encoding="utf-8")
    code, _, err = build(capsys, project, "--templates", "templates")
    assert code == 1
    assert re.search(r"templates/footer\.html:2: template error: ", err), err


def test_compiling_the_theme_ahead_leaves_a_broken_template_to_the_page_that_uses_it(project):
    """A forking build compiles every template before its workers start (`Theme.compile_all`); one that
    does not compile is still reported where a page uses it, as above, not by the compiling."""
    from litdoc.config import load_config
    from litdoc.templating import Theme

    (project / "templates").mkdir()
    (project / "templates" / "footer.html").write_text("<footer>\n{% if %}\n</footer>\n", encoding="utf-8")
    theme = Theme(load_config(project, {"templates": "templates"}))
    theme.compile_all()
    compiled = {template.name for template in theme.environment.cache.values()} if theme.environment.cache else set()
    assert {"page.html", "base.html", "listing.html", "header.html"} <= compiled and "footer.html" not in compiled


# ---------------------------------------------------------------------------------------------
# Safety of the output folder
# ---------------------------------------------------------------------------------------------


def test_refuses_a_non_empty_folder_it_did_not_make(capsys, project):
    (project / "site").mkdir()
    (project / "site" / "thesis.tex").write_text("mine", encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1
    assert "refusing to write into a non-empty folder" in err and "--force" in err
    assert sorted(p.name for p in (project / "site").iterdir()) == ["thesis.tex"]


def test_force_writes_beside_but_never_over_a_users_file(capsys, project):
    (project / "site" / "pkg").mkdir(parents=True)
    (project / "site" / "thesis.tex").write_text("mine", encoding="utf-8")
    (project / "site" / "pkg" / "model.html").write_text("my own page", encoding="utf-8")
    (project / "site" / ".nojekyll").write_text("", encoding="utf-8")
    code, _, err = build(capsys, project, "--force")
    # The user's files at litdoc's paths are remembered as the user's: a warning each, not a failure.
    assert code == 0, err
    assert "pkg/model.html is the user's file" in err and "warning" in err
    assert (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8") == "my own page"
    assert (project / "site" / "thesis.tex").read_text(encoding="utf-8") == "mine"
    assert (project / "site" / "index.html").is_file()
    manifest = json.loads((project / "site" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert "pkg/model.html" not in manifest["files"] and "thesis.tex" not in manifest["files"]
    assert manifest["user"] == [".nojekyll", "pkg/model.html"]
    # Issue 9, bug 5c: a later plain build succeeds, and still leaves the user's files alone.
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8") == "my own page"
    assert (project / "site" / "thesis.tex").read_text(encoding="utf-8") == "mine"
    # Once the user deletes their file, litdoc's page takes its place and is litdoc's from then on.
    (project / "site" / "pkg" / "model.html").unlink()
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert "The model" in (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")
    assert json.loads((project / "site" / MANIFEST_NAME).read_text(encoding="utf-8"))["user"] == [".nojekyll"]


def test_stale_pages_are_removed_and_user_files_kept(capsys, project):
    assert build(capsys, project)[0] == 0
    site = project / "site"
    (site / "plain" / "notes.txt").write_text("mine", encoding="utf-8")
    (project / "src" / "plain" / "other.py").unlink()
    (project / "src" / "pkg" / "figure.svg").unlink()
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert not (site / "plain" / "other.html").exists()
    assert not (site / "plain" / "index.html").exists()  # the listing of a folder with no pages left
    assert not (site / "pkg" / "figure.svg").exists()
    assert (site / "plain" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_edited_generated_file_is_neither_overwritten_nor_deleted(capsys, project):
    assert build(capsys, project)[0] == 0
    page = project / "site" / "pkg" / "model.html"
    page.write_text("hand-edited", encoding="utf-8")
    (project / "src" / "pkg" / "model.py").write_text(
        (project / "src" / "pkg" / "model.py").read_text(encoding="utf-8") + "\nZ = 3\n", encoding="utf-8"
    )
    code, _, err = build(capsys, project)
    assert code == 1 and "changed since litdoc wrote it" in err
    assert page.read_text(encoding="utf-8") == "hand-edited"
    (project / "src" / "pkg" / "model.py").unlink()
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert page.read_text(encoding="utf-8") == "hand-edited"
    assert "left in place" in err


def test_a_tampered_manifest_cannot_delete_outside_the_output(capsys, project, tmp_path):
    assert build(capsys, project)[0] == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    manifest_path = project / "site" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    digest = __import__("hashlib").sha256(b"precious").hexdigest()
    manifest["files"]["../../victim.txt"] = {"sha256": digest}
    manifest["files"][str(victim)] = {"sha256": digest}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert build(capsys, project)[0] == 0
    assert victim.read_text(encoding="utf-8") == "precious"


def test_an_unreadable_manifest_stops_the_build(capsys, project):
    (project / "site").mkdir()
    (project / "site" / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1 and "not a litdoc manifest" in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Incremental and deterministic
# ---------------------------------------------------------------------------------------------


def test_second_build_rebuilds_nothing(capsys, project):
    assert build(capsys, project)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in (project / "site").rglob("*") if p.is_file()}
    code, _, err = build(capsys, project)
    assert code == 0
    assert summary_counts(err) == [0, 7, 0]
    after = {p: p.stat().st_mtime_ns for p in (project / "site").rglob("*") if p.is_file()}
    assert before == after


def test_an_unchanged_bad_file_is_reported_again_without_rendering(capsys, project, monkeypatch):
    (project / "src" / "bad.py").write_text('"""\n# Bad\n\nRatio $\\frac{1}$ here.\n"""\n', encoding="utf-8")
    code, _, first = build(capsys, project)
    assert code == 1
    rendered = []
    original = litdoc.build.render_job
    monkeypatch.setattr(litdoc.build, "render_job", lambda *args: rendered.append(args[1]) or original(*args))
    code, _, second = build(capsys, project)
    assert code == 1 and rendered == []
    assert summary_counts(second) == [0, 7, 1]
    error = [line for line in first.splitlines() if line.startswith("src/bad.py:")]
    assert len(error) == 1 and error[0] in second.splitlines()
    (project / "src" / "bad.py").write_text('"""\n# Fixed\n\nCosts \\$5 and $x$.\n"""\n', encoding="utf-8")
    code, _, third = build(capsys, project)
    assert code == 0, third
    assert [job.item.source_path for job in rendered] == ["bad.py"]
    assert "failed" not in json.loads((project / "site" / MANIFEST_NAME).read_text(encoding="utf-8"))


def test_changing_one_file_rebuilds_one_page(capsys, project):
    assert build(capsys, project)[0] == 0
    model = project / "src" / "pkg" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# One more note\nW = 2\n", encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 0
    assert summary_counts(err) == [1, 6, 0]
    assert "One more note" in (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")


def source_reads(monkeypatch, project: Path) -> list:
    """Records every source file the build reads from now on."""
    reads = []
    original = litdoc.build.read_bytes

    def read_bytes(path: str) -> bytes:
        reads.append(Path(path).relative_to(project / "src").as_posix())
        return original(path)

    monkeypatch.setattr(litdoc.build, "read_bytes", read_bytes)
    return reads


def test_a_rebuild_reads_only_the_sources_whose_stat_changed(capsys, project, monkeypatch):
    monkeypatch.setattr(litdoc.build, "_RACY_NS", 0)  # the files were written just now; trust them anyway
    assert build(capsys, project)[0] == 0
    assert (project / ".litdoc-cache" / litdoc.build.SOURCE_HASHES_NAME).is_file()
    reads = source_reads(monkeypatch, project)
    code, _, err = build(capsys, project)
    assert code == 0 and summary_counts(err) == [0, 7, 0] and reads == []
    model = project / "src" / "pkg" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "# One more note\n", encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 0 and summary_counts(err) == [1, 6, 0]
    assert reads == ["pkg/model.py"]


def test_an_edit_that_keeps_size_and_modification_time_is_still_seen(capsys, project, monkeypatch):
    monkeypatch.setattr(litdoc.build, "_RACY_NS", 0)
    assert build(capsys, project)[0] == 0
    model = project / "src" / "pkg" / "model.py"
    before = model.stat()
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("Multiply", "Multiplx"), encoding="utf-8")
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))  # the change time still moves on
    code, _, err = build(capsys, project)
    assert code == 0 and summary_counts(err) == [1, 6, 0]
    assert "Multiplx" in (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")


def test_a_file_changed_just_now_is_not_remembered(capsys, project):
    assert build(capsys, project)[0] == 0
    hashes = project / ".litdoc-cache" / litdoc.build.SOURCE_HASHES_NAME
    remembered = json.loads(hashes.read_text(encoding="utf-8"))["files"] if hashes.is_file() else {}
    assert str(project / "src" / "pkg" / "model.py") not in remembered


def test_the_cache_folder_is_configurable_and_kept_out_of_the_site(capsys, project, monkeypatch):
    monkeypatch.setattr(litdoc.build, "_RACY_NS", 0)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'cache = "build/hashes"\n', encoding="utf-8")
    assert build(capsys, project)[0] == 0
    assert (project / "build" / "hashes" / litdoc.build.SOURCE_HASHES_NAME).is_file()
    assert not (project / ".litdoc-cache").exists()
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace("build/hashes", "src/hashes"), encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1 and "cache folder must be outside the source and output folders" in err
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('"src/hashes"', '""'), encoding="utf-8")
    shutil.rmtree(project / "build")
    assert build(capsys, project)[0] == 0
    assert not (project / "build").exists() and not (project / ".litdoc-cache").exists()


def test_changing_a_template_rebuilds_every_page(capsys, project):
    (project / "templates").mkdir()
    footer = project / "templates" / "footer.html"
    footer.write_text("<footer>one</footer>\n", encoding="utf-8")
    assert build(capsys, project, "--templates", "templates")[0] == 0
    footer.write_text("<footer>two</footer>\n", encoding="utf-8")
    code, _, err = build(capsys, project, "--templates", "templates")
    assert code == 0 and summary_counts(err) == [7, 0, 0]


def test_changing_the_config_rebuilds_every_page(capsys, project):
    assert build(capsys, project)[0] == 0
    code, _, err = build(capsys, project, "--title", "Another title")
    assert code == 0 and summary_counts(err) == [7, 0, 0]


def test_two_builds_are_byte_identical(tmp_path, capsys):
    first = make_project(tmp_path / "a")
    second = make_project(tmp_path / "b")
    assert build(capsys, first)[0] == 0
    assert run(capsys, "build", "--project", str(second), "-j2")[0] == 0
    assert site_files(first / "site") == site_files(second / "site")


def test_pool_build_matches_in_process_build(tmp_path, capsys):
    """More pages than the pool threshold, so the -j2 build really uses worker processes."""
    extra = {f"src/many/page{i:02d}.py": f'"""\n# Page {i}\n\n$a_{i}$\n"""\nX = {i}\n' for i in range(12)}
    serial = make_project(tmp_path / "serial", extra)
    pooled = make_project(tmp_path / "pooled", extra)
    assert build(capsys, serial)[0] == 0
    code, _, err = run(capsys, "build", "--project", str(pooled), "-j2")
    assert code == 0, err
    assert summary_counts(err) == [20, 0, 0]
    assert site_files(serial / "site") == site_files(pooled / "site")


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys, project):
    _, _, err = build(capsys, project)
    assert "\r" not in err and "[#" not in err


def test_progress_bar_on_a_terminal(project, tmp_path):
    class Terminal:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def isatty(self):
            return True

    stream = Terminal()
    build_site(load_config(project), BuildOptions(jobs=1), stream=stream)
    assert "6/6 pages" in stream.text  # the rendered pages; the one generated listing is not timed


# ---------------------------------------------------------------------------------------------
# Templates and config
# ---------------------------------------------------------------------------------------------


def test_project_templates_override_the_theme_one_by_one(capsys, project):
    (project / "templates").mkdir()
    (project / "templates" / "footer.html").write_text(
        '<footer class="section"><div class="docs">Our own footer for {{ page.title }}</div></footer>\n',
        encoding="utf-8",
    )
    assert build(capsys, project, "--templates", "templates")[0] == 0
    html = (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")
    assert "Our own footer for The model" in html
    assert "Made with litdoc" not in html
    assert '<span class="old-anchor" id="section-0"></span>' in html  # page.html still comes from the theme


def test_project_static_files_replace_and_join_the_themes(capsys, project):
    """Issue 24: the README promised that a CSS file in `templates/static/` replaces the theme's; it was
    silently ignored."""
    static = project / "templates" / "static"
    static.mkdir(parents=True)
    (static / "litdoc.css").write_text("body { color: rebeccapurple; }\n", encoding="utf-8")
    (static / "extra.css").write_text(".mine {}\n", encoding="utf-8")
    assert build(capsys, project, "--templates", "templates")[0] == 0
    theme = project / "site" / "_litdoc"
    assert (theme / "litdoc.css").read_text(encoding="utf-8") == "body { color: rebeccapurple; }\n"
    assert (theme / "extra.css").read_text(encoding="utf-8") == ".mine {}\n"
    assert (theme / "litdoc.js").is_file()  # the theme's other files are still there
    (static / "litdoc.css").unlink()  # without the override, the theme's own CSS comes back
    assert build(capsys, project, "--templates", "templates")[0] == 0
    assert "rebeccapurple" not in (theme / "litdoc.css").read_text(encoding="utf-8")


def test_flags_override_pyproject(tmp_path):
    project = make_project(
        tmp_path / "p",
        pyproject=('[tool.litdoc]\nsource = "src"\noutput = "site"\ntitle = "From file"\nmath = "mathml"\n'),
    )
    config = load_config(project)
    assert config.title == "From file" and config.output == project / "site" and config.math == "mathml"
    config = load_config(project, {"title": "From flag", "output": "elsewhere", "math": "mathjax", "source": None})
    assert config.title == "From flag" and config.output == project / "elsewhere" and config.math == "mathjax"
    assert config.source == project / "src"


def test_config_errors_name_the_line(tmp_path, capsys):
    project = make_project(tmp_path / "p", pyproject='[tool.litdoc]\nsource = "src"\noutput = "site"\nmath = "katex"\n')
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1
    assert err.strip().endswith("pyproject.toml:4: math must be one of mathml, mathjax, not 'katex'")
    project = make_project(tmp_path / "q", pyproject='[tool.litdoc]\nsource = "src"\noutput = "site"\ncolour = "red"\n')
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1 and "pyproject.toml:4: unknown key 'colour'" in err


def test_mathjax_mode_loads_mathjax(capsys, project):
    code, _, err = build(capsys, project, "--math", "mathjax", "--mathjax-url", "https://cdn.example.org/mathjax.js")
    assert code == 0, err
    html = (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")
    assert "https://cdn.example.org/mathjax.js" in html


def test_python_dash_m_litdoc_builds(project):
    result = run_subprocess("build", "-j1", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "site" / "pkg" / "model.html").is_file()


def test_cache_flag_overrides_pyproject(capsys, project, monkeypatch):
    # Files written just now are not remembered (their stat could still change within the clock's grain).
    monkeypatch.setattr(litdoc.build, "_RACY_NS", 0)
    # `--cache ""` builds with no cache at all, as CI's build from scratch does.
    code, _, err = build(capsys, project, "--cache", "")
    assert code == 0, err
    assert not (project / ".litdoc-cache").exists()
    code, _, err = build(capsys, project, "--cache", "elsewhere-cache", "--output", "site2")
    assert code == 0, err
    assert (project / "elsewhere-cache" / litdoc.build.SOURCE_HASHES_NAME).is_file()


# ---------------------------------------------------------------------------------------------
# Issue 9: every bad input is one line, nothing hangs, nothing Python runs is hidden
# ---------------------------------------------------------------------------------------------


def error_lines(err: str) -> list:
    return [line for line in err.splitlines() if not line.startswith("litdoc: ")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_and_sockets_are_skipped_with_a_warning_and_nothing_hangs(project):
    """Bug 4: a FIFO in the source tree hung the build forever (it was opened and read)."""
    import socket

    os.mkfifo(project / "src" / "pipe.py")
    os.mkfifo(project / "src" / "pkg" / "data.bin")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(project / "src" / "sock.py"))
        result = run_subprocess("build", "-j1", cwd=project)  # run_subprocess times out after 300 s
    assert result.returncode == 0, result.stderr
    assert "src/pipe.py: warning: a FIFO, not a file: skipped" in result.stderr
    assert "src/pkg/data.bin: warning: a FIFO, not a file: skipped" in result.stderr
    assert "src/sock.py: warning: a socket, not a file: skipped" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "site" / "pipe.html").exists() and (project / "site" / "pkg" / "model.html").is_file()


def test_a_dangling_symlink_is_one_line(capsys, project):
    """Bug 3a: FileNotFoundError from the hashing of a source that is a broken link."""
    (project / "src" / "gone.py").symlink_to(project / "nowhere.py")
    code, _, err = build(capsys, project)
    assert code == 1 and "Traceback" not in err
    assert error_lines(err) == [f"src/gone.py: broken symlink to {project / 'nowhere.py'} (No such file or directory)"]
    assert summary_counts(err) == [7, 0, 1]


def test_a_symlink_out_of_the_source_is_skipped_unless_configured(capsys, project, tmp_path):
    """Bug 5a: a link to /etc/passwd was published and served without a word."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0", encoding="utf-8")
    (project / "src" / "passwd.txt").symlink_to(secret)
    (project / "src" / "pkg" / "alias.py").symlink_to(project / "src" / "plain" / "other.py")  # inside: fine
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert f"src/passwd.txt: warning: symlink to {secret}, outside the source tree: skipped" in err
    assert not (project / "site" / "passwd.txt").exists()
    assert (project / "site" / "pkg" / "alias.html").is_file()
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text(encoding="utf-8") + "follow_external_links = true\n", encoding="utf-8"
    )
    code, _, err = build(capsys, project)
    assert code == 0 and "warning" not in err, err
    assert (project / "site" / "passwd.txt").read_text(encoding="utf-8") == "root:x:0:0"


@pytest.mark.skipif(os.sep != "/", reason="a backslash separates folders on Windows")
def test_a_name_with_a_backslash_builds_twice(capsys, project):
    """Bug 3b: the manifest reader dropped the name, so the second build refused litdoc's own page."""
    (project / "src" / "a\\b.py").write_text("# A page\nx = 1\n", encoding="utf-8")
    assert build(capsys, project)[0] == 0
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert summary_counts(err) == [0, 8, 0]


@pytest.mark.skipif(os.sep != "/" or sys.platform == "darwin", reason="needs a file system that takes any bytes")
def test_a_file_name_that_is_not_utf8_is_one_line(capsys, project):
    """Bug 3c: UnicodeEncodeError."""
    with open(os.path.join(os.fsencode(project / "src"), b"caf\xe9.py"), "w") as handle:
        handle.write("x = 1\n")
    code, _, err = build(capsys, project)
    assert code == 1 and "Traceback" not in err
    assert error_lines(err) == ["src/caf\\xe9.py: file name is not valid UTF-8: skipped (rename it)"]
    assert summary_counts(err) == [7, 0, 1]


def test_a_users_file_where_litdoc_needs_a_folder(capsys, project):
    """Bug 3d: `site/_litdoc` a user's file, with --force: FileExistsError."""
    (project / "site").mkdir()
    (project / "site" / "_litdoc").write_text("mine", encoding="utf-8")
    code, _, err = build(capsys, project, "--force")
    assert code == 1 and "Traceback" not in err
    assert f"litdoc needs a folder at {project / 'site' / '_litdoc'}, which is a file litdoc did not make" in err
    assert (project / "site" / "_litdoc").read_text(encoding="utf-8") == "mine"
    assert summary_counts(err)[:2] == [7, 0]  # every page was still built


def test_a_template_that_fails_while_it_runs(capsys, project):
    """Bug 3g: `{{ 1/0 }}` crashed the build in the folder listing; a non-UTF-8 template too."""
    (project / "templates").mkdir()
    (project / "templates" / "listing.html").write_text("<p>\n{{ 1/0 }}\n</p>\n", encoding="utf-8")
    code, _, err = build(capsys, project, "--templates", "templates")
    assert code == 1 and "Traceback" not in err
    listing = str(project / "templates" / "listing.html")
    assert f"{listing}:2: template error: ZeroDivisionError: division by zero (rendering plain/index.html)" in err
    assert (project / "site" / "pkg" / "model.html").is_file()
    (project / "templates" / "listing.html").write_bytes(b"<p>caf\xe9</p>\n")
    code, _, err = build(capsys, project, "--templates", "templates")
    assert code == 1 and "Traceback" not in err
    assert f"{listing}:1: template is not UTF-8 (byte 0xe9)" in err


def test_a_lone_carriage_return_hides_no_code(capsys, project):
    """Bug 1: Python ends a line at a lone CR; litdoc read `# <!--\rprint(...)` as one comment line, so
    the print went into the notes (inside an HTML comment) while Python ran it."""
    (project / "src" / "cr.py").write_bytes(b'x = 1\n# Note\rprint("RAN")\r# More\ny = 2\n')
    (project / "src" / "hidden.py").write_bytes(b'x = 1\n# <!--\rprint("HIDDEN CODE RAN")\r# -->\ny = 2\n')
    code, _, err = build(capsys, project)
    # The print is code now, between two notes: the first opens an HTML comment that would hide it in
    # the browser, so that page fails with a line saying so rather than hide code.
    assert error_lines(err) == [
        "src/hidden.py:2: HTML comment '<!--' is not closed in these notes: it would "
        "hide the rest of the page, code included"
    ]
    html = (project / "site" / "cr.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r'<span class="lineno">\s*(\d+)', html)]
    assert numbers == [1, 3, 5]  # the lines Python executes, with the numbers it gives them
    assert "&quot;RAN&quot;" in html and "<p>Note</p>" in html and "<p>More</p>" in html


def test_markdown_nested_past_the_parsers_limit_fails_the_page(capsys, project):
    """Bug 2: ten levels of list (or 21 of quotes) lost the deeper levels and the text after them."""
    deep_list = "\n".join("  " * i + f"- level {i}" for i in range(30)) + "\n\nThe paragraph after.\n"
    (project / "src" / "deep.md").write_text(deep_list, encoding="utf-8")
    (project / "src" / "quotes.md").write_text(">" * 40 + " deep quote\n\nAfter the quote.\n", encoding="utf-8")
    (project / "src" / "deeper.md").write_text("# Title\n\n" + ">" * 300 + " too deep\n", encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1
    assert error_lines(err) == [
        "src/deeper.md:3: Markdown nested too deeply (markdown-it's limit is 100 open blocks: "
        "about 50 levels of list or 99 of quotes); what is deeper would be dropped, so the page "
        "is not built"
    ]
    deep = (project / "site" / "deep.html").read_text(encoding="utf-8")
    assert "level 29" in deep and "The paragraph after." in deep
    quotes = (project / "site" / "quotes.html").read_text(encoding="utf-8")
    assert quotes.count("<blockquote>") == 40 and "deep quote" in quotes and "After the quote." in quotes


def test_a_users_empty_folder_is_kept_when_its_pages_go_stale(capsys, project):
    """Bug 5b: a folder litdoc did not make was removed once the pages litdoc wrote in it went."""
    (project / "site" / "plain").mkdir(parents=True)
    (project / "site" / MANIFEST_NAME).write_text('{"format": "litdoc-manifest/2", "files": {}}', encoding="utf-8")
    assert build(capsys, project)[0] == 0
    shutil.rmtree(project / "src" / "plain")
    assert build(capsys, project)[0] == 0
    assert (project / "site" / "plain").is_dir() and not any((project / "site" / "plain").iterdir())
    shutil.rmtree(project / "src" / "notes")
    assert build(capsys, project)[0] == 0
    assert not (project / "site" / "notes").exists()  # litdoc made that one


def test_a_coding_declaration_is_honoured_and_named(capsys, project):
    """Bug 5g: `# -*- coding: latin-1 -*-` got "not UTF-8: byte 0xe9" without naming the declaration."""
    (project / "src" / "latin.py").write_bytes(b'# -*- coding: latin-1 -*-\n# Caf\xe9 notes\nx = "caf\xe9"\n')
    (project / "src" / "ascii.py").write_bytes(b'# -*- coding: ascii -*-\nx = "caf\xe9"\n')
    code, _, err = build(capsys, project)
    assert error_lines(err) == [
        "src/ascii.py:2: not ascii (the file's coding declaration says ascii): byte 0xe9 cannot be decoded"
    ]
    assert "Café notes" in (project / "site" / "latin.html").read_text(encoding="utf-8")


def test_a_deep_brace_error_quotes_a_short_excerpt(capsys, project):
    """Bug 5h: a 3,000-deep brace error repeated the whole 6 KB expression."""
    (project / "src" / "braces.md").write_text(
        "# Braces\n\n$" + "{" * 3000 + "x" + "}" * 3000 + "$\n", encoding="utf-8"
    )
    code, _, err = build(capsys, project)
    assert code == 1 and "Traceback" not in err
    (line,) = [line for line in error_lines(err) if line.startswith("src/braces.md")]
    assert line.startswith("src/braces.md:3: TeX error in ${{{") and "\u2026$: " in line and len(line) < 200, line


def test_the_math_rule_does_work_linear_in_the_paragraph():
    """Bug 5d: 8,000 `$5` in one paragraph took 49 s: the math rule was quadratic in the paragraph
    (the lead's linear delimiter tables in litdoc.delimiters fixed it; this keeps it fixed).

    Counted, not timed (a timing belongs in a benchmark, and fails on a loaded machine): the Python
    lines run to render a paragraph eight times longer are about eight times as many when the rule is
    linear, and about 64 times as many when it is quadratic. 1.5x leaves room for fixed costs."""
    from litdoc.markup import MarkupRenderer

    renderer = MarkupRenderer(math="mathjax")  # no math engine: this counts the delimiter rule's work

    def lines_run(count: int) -> int:
        text = "Prices: " + " ".join(["$5"] * count) + "\n"
        return python_lines_run(lambda: renderer.render(text, "prices.md"))

    small, large = lines_run(1000), lines_run(8000)
    assert small > 1000  # the rule is Python code that the tracer sees
    assert large < 1.5 * 8 * small, (small, large)


def test_nested_sites_never_touch_each_others_files(capsys, tmp_path):
    """litdoc's own site is built into docs/litdoc inside this project's docs/: neither build, nor
    the stale removal of either, touches a file of the other."""
    outer = make_project(tmp_path / "outer")
    inner = make_project(
        tmp_path / "inner",
        pyproject=(
            f'[tool.litdoc]\nsource = "src"\noutput = "{(outer / "site" / "inner").as_posix()}"\nmath = "mathjax"\n'
        ),
    )
    assert build(capsys, outer)[0] == 0
    assert build(capsys, inner)[0] == 0
    inner_files = site_files(outer / "site" / "inner")
    shutil.rmtree(outer / "src" / "plain")  # stale pages in the outer site
    (outer / "src" / "inner").mkdir()  # and its own pages where the inner site lives
    (outer / "src" / "inner" / "clash.py").write_text("# Clash\nX = 1\n", encoding="utf-8")
    code, _, err = build(capsys, outer)
    assert code == 1 and "inner/index.html: refusing to overwrite" in err and "litdoc did not write it" in err
    now = site_files(outer / "site" / "inner")
    assert {rel: now[rel] for rel in inner_files} == inner_files  # the outer site wrote only beside them
    (outer / "src" / "inner" / "clash.py").unlink()
    (outer / "src" / "inner").rmdir()
    assert build(capsys, outer)[0] == 0
    assert site_files(outer / "site" / "inner") == inner_files
    shutil.rmtree(inner / "src" / "notes")  # stale pages in the inner site
    outer_files = {rel: data for rel, data in site_files(outer / "site").items() if not rel.startswith("inner/")}
    assert build(capsys, inner)[0] == 0
    assert {
        rel: data for rel, data in site_files(outer / "site").items() if not rel.startswith("inner/")
    } == outer_files


def test_an_output_collision_is_one_line_each_build_and_the_rest_is_built(capsys, tmp_path):
    """`x.py` beside `x.ipynb` (x.py's notebook) and a `404.md`: two writers for one output went
    unreported, and from the second build on every build failed with "changed since litdoc wrote it"."""
    project = make_project(
        tmp_path / "proj", {"src/plain/other.ipynb": '{"cells": []}\n', "src/404.md": "# Not found, mine\n"}
    )
    for _ in range(3):
        code, _, err = build(capsys, project)
        assert code == 1
        assert sorted(error_lines(err)) == [
            "src/404.md: its output, 404.html, is the 404 page litdoc generates: rename the source",
            "src/plain/other.ipynb: would be written to plain/other.ipynb, which plain/other.py already produces",
        ]
    files = site_files(project / "site")
    assert json.loads(files["plain/other.ipynb"])["cells"]  # litdoc's notebook of other.py
    assert b"Not found, mine" not in files["404.html"] and "pkg/model.html" in files


def test_a_warning_about_a_source_names_its_path_and_line_once(capsys, tmp_path):
    """On 3.12 and later an invalid escape printed `<unknown>:N: SyntaxWarning` lines (no path), once for
    each stage that parsed the source again."""
    project = make_project(tmp_path / "proj", {"src/plain/other.py": '# Just a comment\nX = 1\nY = "\\m"\n'})
    code, _, err = build(capsys, project)
    assert code == 0, err
    assert "<unknown>" not in err
    assert [line for line in err.splitlines() if "escape" in line] == [
        "src/plain/other.py:3: warning: invalid escape sequence '\\m'"
    ]


def test_each_page_carries_citation_meta_tags_for_reference_managers(capsys, tmp_path):
    """Zotero and Google Scholar read `citation_*` meta tags: the page's title, authors, URL and the
    paper it implements, escaped as text (a `"` or `<` in a title stays in its attribute)."""
    from html.parser import HTMLParser

    source = '"""\n---\ntitle: Say "<b>hi</b>" & go\npaper_title: Attention Is All You Need\n'
    source += 'paper_authors: Ashish Vaswani, Noam Shazeer\npaper_year: 2017\n---\n\n# Notes\n"""\n\nX = 1\n'
    project = make_project(tmp_path / "proj", {"src/pkg/cited.py": source})
    code, _, err = build(capsys, project)
    assert code == 0, err

    class Meta(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, str]] = []

        def handle_starttag(self, tag, attrs):
            values = dict(attrs)
            if tag == "meta" and (values.get("name") or "").startswith("citation_"):
                self.tags.append((values["name"] or "", values.get("content") or ""))

    meta = Meta()
    meta.feed((project / "site" / "pkg" / "cited.html").read_text(encoding="utf-8"))
    names = dict(meta.tags)
    assert names["citation_title"] == 'Say "<b>hi</b>" & go'
    assert names["citation_publisher"] == "Demo site"
    assert names["citation_public_url"] == "https://example.org/demo/pkg/cited.html"
    assert names["citation_reference"] == (
        "citation_title=Attention Is All You Need; citation_author=Ashish Vaswani; "
        "citation_author=Noam Shazeer; citation_publication_date=2017"
    )


def test_a_build_with_no_page_left_is_refused_and_removes_nothing(capsys, project):
    """`exclude = ["*"]` (or a `source` with no page) used to empty the site, deleting every page of the
    last build, and exit 0: now one line, exit 1, and the site as it was."""
    assert build(capsys, project)[0] == 0
    before = site_files(project / "site")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'exclude = ["*"]\n', encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"{project / 'src'}: no page to build: no .py or .md source that exclude = ['*'] leaves; the site was left as it was"
    ]
    assert site_files(project / "site") == before


def test_images_in_one_paragraph_take_work_linear_in_their_number():
    """10,000 images in one paragraph took 20 s: each image counted the links open before it from the
    start of the paragraph. Counted, not timed, like the math rule above."""
    from litdoc.markup import MarkupRenderer

    renderer = MarkupRenderer(math="mathjax")

    def lines_run(count: int) -> int:
        text = "Figures: " + " ".join(f"![f{n}](f{n}.png)" for n in range(count)) + " [a ![linked](l.png)](x.md)\n"
        return python_lines_run(lambda: renderer.render(text, "figures.md"))

    small, large = lines_run(500), lines_run(4000)
    assert small > 500
    assert large < 1.5 * 8 * small, (small, large)
    html = renderer.render("[a ![inside](i.png)](x.md) and ![outside](o.png)\n", "f.md")
    # The image inside a link keeps that link; the one outside gets its own to the full-size figure.
    assert html.count('class="image-link"') == 1 and 'href="o.png"' in html


def test_build_site_reports_to_the_stderr_of_the_call(tmp_path, monkeypatch):
    """`stream` defaulted to the `sys.stderr` of litdoc's import: after a test runner (or any caller)
    swapped and closed that stream, every later build failed with "I/O operation on closed file"."""
    import io

    project = make_project(tmp_path / "proj")
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    report = build_site(load_config(project), BuildOptions(jobs=1, progress=True))
    assert report.ok and now.getvalue()


@pytest.mark.parametrize(
    "line",
    ["- item {n}", "$$x_{{{n}}}$$", "1. step {n}"],
    ids=["list", "display-lines", "ordered-list"],
)
def test_a_long_run_of_lines_takes_work_linear_in_its_length(line):
    """A 10,000-item list took 186 s and 4,000 `$$` lines 168 s: each paragraph and each `$$` line looked
    for the end of its math as far as the next blank line. Now at most MATH_WINDOW_LINES ahead.
    Counted, not timed: eight times the lines in under 12 times the Python lines run."""
    from litdoc.markup import MarkupRenderer

    renderer = MarkupRenderer(math="mathjax")

    def lines_run(count: int) -> int:
        text = "\n".join(line.format(n=n) for n in range(count)) + "\n"
        return python_lines_run(lambda: renderer.render(text, "long.md"))

    # Past the window's 256 lines, so that a quadratic rule would show: 8 times the lines, 64 times the work.
    small, large = lines_run(300), lines_run(2400)
    assert large < 12 * small, (small, large)


def test_a_formula_over_many_lines_is_still_one_formula():
    """The window is long enough for real formulas: 200 lines of an `aligned` block stay one formula,
    and a `+` at the start of a line inside it does not start a list."""
    from litdoc.markup import MATH_WINDOW_LINES, MarkupRenderer

    assert MATH_WINDOW_LINES >= 200
    rows = "\n".join(f"+ x_{{{n}}} \\\\" for n in range(200))
    html = MarkupRenderer(math="mathjax").render(f"Sum:\n$$\\begin{{aligned}}\n{rows}\n\\end{{aligned}}$$\n", "f.md")
    assert "<li>" not in html and html.count("math display") == 1


HOSTILE_SOURCE = '''"""
---
title: Hi <script>alert("title")</script>
summary: <img src=x onerror=alert("summary")>
paper_title: A paper <script>alert("bib")</script>
paper_authors: Eve <img src=x onerror=alert(1)>
paper_year: 2024
---

# Notes <script>alert("heading")</script>

Inline <img src=x onerror=alert("inline")> and <a href="javascript:alert('a')">a link</a>,
[markdown](javascript:alert('md')), <javascript:alert('auto')> and ![img](javascript:alert('img')).

<script>alert("block")</script>

<div onclick="alert('div')">a block</div>

`<b>code stays code</b>`
"""

X = "<script>alert('code')</script>"
'''


def _active_content(page: str) -> list[str]:
    """Every script, event handler and `javascript:` URL in `page`, except litdoc's own scripts."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value}>")
            source = dict(attrs).get("src") or "" if tag == "script" else ""
            if source and "_litdoc/" not in source:  # litdoc's inline scripts are checked by their text
                found.append(f"<script src={source!r}>")

        def handle_data(self, data):
            if self.lasttag == "script" and "alert" in data:
                found.append(f"script text {data[:40]!r}")

    Tags().feed(page)
    return found


@pytest.mark.parametrize("raw_html", [False, True])
def test_untrusted_sources_put_no_script_handler_or_javascript_url_into_a_page(capsys, tmp_path, raw_html):
    """`raw_html = false`: a source's HTML is text in its page, its notebook and the search index, and
    TeX that links is refused. With the default (`true`) the author's HTML is kept, as trusted."""
    setting = "" if raw_html else "raw_html = false\n"
    project = make_project(tmp_path / "proj", {"src/pkg/evil.py": HOSTILE_SOURCE}, pyproject=PYPROJECT + setting)
    code, _, err = build(capsys, project)
    assert code == 0, err
    site = project / "site"
    page = (site / "pkg" / "evil.html").read_text(encoding="utf-8")
    if raw_html:
        assert "<div onclick" in page  # trusted: the author's HTML is the author's
        return
    for path in sorted(site.rglob("*.html")):
        assert _active_content(path.read_text(encoding="utf-8")) == [], path
    assert "&lt;script&gt;alert(&quot;block&quot;)&lt;/script&gt;" in page and "code stays code" in page
    notebook = json.loads((site / "pkg" / "evil.ipynb").read_text(encoding="utf-8"))
    markdown = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert "<script" not in markdown and "<img" not in markdown and "<div onclick" not in markdown
    assert "`<b>code stays code</b>`" in markdown  # a code span is left as written
    # TeX that links is one clear line, and the page is not built.
    (project / "src" / "pkg" / "evil.py").write_text('"""\n# T\n\n$\\\\href{javascript:x}{y}$\n"""\n', encoding="utf-8")
    code, _, err = build(capsys, project)
    assert code == 1 and "src/pkg/evil.py:4: \\href in math is not allowed with raw_html = false" in err


# ---------------------------------------------------------------------------------------------
# The conversions of formulas, remembered in the cache folder
# ---------------------------------------------------------------------------------------------


def _math_pages(count: int) -> dict[str, str]:
    """`count` pages, each with a formula of its own and two that every page shares."""
    return {
        f"src/maths/m{n}.py": f'"""\n# Page {n}\n\nShared $a^2 + b^2$ and its own $x_{n} = {n}$.\n\n'
        f'$$y = w x + b$$\n"""\n\nX{n} = {n}\n'
        for n in range(count)
    }


def _formulas_file(project: Path) -> dict[str, list[object]]:
    data = json.loads((project / ".litdoc-cache" / litdoc.build.FORMULAS_NAME).read_text(encoding="utf-8"))
    return data["formulas"]


def test_a_build_converts_only_the_formulas_no_build_converted_before(capsys, tmp_path, monkeypatch):
    from litdoc import mathengine
    from litdoc.mathengine import formula_id

    project = make_project(tmp_path / "proj", _math_pages(3))
    assert build(capsys, project)[0] == 0
    kept = _formulas_file(project)
    for tex, display in [("a^2 + b^2", False), ("y = w x + b", True), ("x_0 = 0", False), ("x_2 = 2", False)]:
        entry = kept[formula_id(tex, display)]
        assert entry[:2] == [tex, display] and str(entry[2]).startswith("<math")
    first = site_files(project / "site")

    class NoV8:
        def __init__(self) -> None:
            raise AssertionError("V8 started")

    # An emptied output folder: every page is rendered again, and V8 never starts (it would fail the pages).
    shutil.rmtree(project / "site")
    monkeypatch.setattr(mathengine, "_Temml", NoV8)
    code, _, err = build(capsys, project)
    assert code == 0 and summary_counts(err) == [11, 0, 0], err
    assert site_files(project / "site") == first
    # Another title: every page's key changes, no formula's conversion does.
    code, _, err = build(capsys, project, "--title", "Another title")
    assert code == 0 and summary_counts(err) == [11, 0, 0], err
    assert "Another title" in (project / "site" / "maths" / "m1.html").read_text(encoding="utf-8")
    # One formula edited: it alone is converted; the file then holds the site's formulas, the old one gone.
    monkeypatch.undo()
    converted: list[tuple[str, bool]] = []
    real = mathengine._Temml

    class Recording(real):
        def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
            converted.append((tex, display))
            return super().render(tex, display)

        def render_many(self, formulas: list[tuple[str, bool]]) -> list[tuple[str | None, str | None]]:
            converted.extend(formulas)
            return super().render_many(formulas)

    monkeypatch.setattr(mathengine, "_Temml", Recording)
    page = project / "src" / "maths" / "m0.py"
    page.write_text(page.read_text(encoding="utf-8").replace("x_0 = 0", "x_0 = 10"), encoding="utf-8")
    code, _, err = build(capsys, project, "--title", "Another title")
    assert code == 0 and summary_counts(err)[0] == 1, err
    assert converted == [("x_0 = 10", False)]
    now = _formulas_file(project)
    assert set(now) == set(kept) - {formula_id("x_0 = 0", False)} | {formula_id("x_0 = 10", False)}
    assert now[formula_id("x_1 = 1", False)] == kept[formula_id("x_1 = 1", False)]  # an unchanged page's, kept


def _forge(project: Path, html: str) -> None:
    """Put `html` in place of every conversion the cache folder holds, under the key it was kept with."""
    path = project / ".litdoc-cache" / litdoc.build.FORMULAS_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    for name, entry in data["formulas"].items():
        data["formulas"][name] = [entry[0], entry[1], html.replace("ID", name)]
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_remembered_conversion_is_taken_only_under_its_key_and_only_for_trusted_sources(capsys, tmp_path):
    """A conversion is HTML put into the page as it is. The cache folder is the author's, so a build of
    trusted sources takes what it holds (shown here by forging it); with `raw_html = false` nothing is
    read from it, and with another key (litdoc's code, the math assets, `numbered_equations`) nothing is
    taken."""
    project = make_project(tmp_path / "proj", _math_pages(1))
    assert build(capsys, project)[0] == 0
    _forge(project, '<math><mtext>forged ID</mtext></math><script>alert("x")</script>')
    page = project / "site" / "maths" / "m0.html"
    shutil.rmtree(project / "site")
    assert build(capsys, project)[0] == 0
    assert "forged" in page.read_text(encoding="utf-8")  # the control: trusted, the cache is used
    pyproject = project / "pyproject.toml"
    trusted = pyproject.read_text(encoding="utf-8")
    kept = project / ".litdoc-cache" / litdoc.build.FORMULAS_NAME
    for setting in ("raw_html = false\n", "numbered_equations = true\n"):
        _forge(project, '<math><mtext>forged ID</mtext></math><script>alert("x")</script>')
        forged = kept.read_bytes()
        pyproject.write_text(trusted + setting, encoding="utf-8")
        shutil.rmtree(project / "site")
        code, _, err = build(capsys, project)
        assert code == 0, err
        html = page.read_text(encoding="utf-8")
        assert "forged" not in html and "<script>alert" not in html and "<math" in html, setting
        if setting.startswith("raw_html"):
            assert kept.read_bytes() == forged  # neither read nor written
        else:  # written again under the new key, with the conversions this build made
            assert not any("forged" in str(entry[2]) for entry in _formulas_file(project).values())


@pytest.mark.parametrize("spawn", [False, True], ids=["forked", "spawned"])
def test_worker_processes_report_their_conversions_and_recall_the_kept_ones(tmp_path, spawn):
    """A parallel build's workers send the formulas they converted to the build, which keeps them; the next
    build's workers, forked (with the build's renderer) or spawned (given the conversions), take them."""
    from litdoc.mathengine import formula_id

    project = make_project(tmp_path / "proj", _math_pages(9))
    process = run_subprocess("build", "--project", str(project), "-j", "2", spawn=spawn)
    assert process.returncode == 0, process.stderr
    kept = _formulas_file(project)
    assert {formula_id(f"x_{n} = {n}", False) for n in range(9)} <= set(kept)
    _forge(project, "<math><mtext>recalled ID</mtext></math>")
    shutil.rmtree(project / "site")
    process = run_subprocess("build", "--project", str(project), "-j", "2", spawn=spawn)
    assert process.returncode == 0, process.stderr
    for n in range(9):
        html = (project / "site" / "maths" / f"m{n}.html").read_text(encoding="utf-8")
        assert f"recalled {formula_id(f'x_{n} = {n}', False)}" in html and "<annotation" not in html


def test_cached_font_cuts_once_and_distrusts_a_changed_file(tmp_path: Path) -> None:
    from litdoc.build import FONT_CACHE_PREFIX, cached_font

    calls = []

    def make(data: bytes = b"font-A") -> bytes:
        calls.append(data)
        return data

    assert cached_font(tmp_path, "k1", make) == b"font-A"
    assert cached_font(tmp_path, "k1", make) == b"font-A"
    assert len(calls) == 1  # the second build read the cut it kept
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith(FONT_CACHE_PREFIX)]
    kept.write_bytes(b"torn")  # bytes that do not match the name: never used
    assert cached_font(tmp_path, "k1", make) == b"font-A"
    assert len(calls) == 2
    assert cached_font(tmp_path, "k2", lambda: make(b"font-B")) == b"font-B"
    assert [p.name.startswith(f"{FONT_CACHE_PREFIX}k2-") for p in tmp_path.iterdir()] == [True]  # only the latest
    assert cached_font(None, "k2", lambda: make(b"font-C")) == b"font-C"  # no cache folder: cut every time
