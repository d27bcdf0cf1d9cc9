"""`litdoc check`: broken links, anchors and assets in a built site are listed, with exit code 1."""

from __future__ import annotations

from pathlib import Path

from litdoc.check import check_site
from tests.sitefixtures import make_project, run


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_clean_site_passes(tmp_path):
    write(
        tmp_path,
        "index.html",
        '<a href="a/b.html#x">b</a><a href="a/">a</a><img src="a/i.png"><a href="#top">t</a>'
        '<span id="top"></span><a href="https://example.org/missing">ext</a>'
        '<a href="mailto:me@example.org">m</a><link rel="stylesheet" href="s.css">',
    )
    write(
        tmp_path,
        "a/b.html",
        '<h2 id="x">x</h2><a href="../index.html#top">up</a><a name="old"></a><a href="b.html#old">old</a>',
    )
    write(tmp_path, "a/index.html", "<p>a</p>")
    write(tmp_path, "a/i.png", "png")
    write(tmp_path, "s.css", "@font-face { src: url('fonts/f.woff2') format('woff2'); }")
    write(tmp_path, "fonts/f.woff2", "font")
    assert check_site(tmp_path) == []


def test_every_kind_of_breakage_is_listed(tmp_path):
    write(
        tmp_path,
        "index.html",
        '<p>\n<a href="gone.html">g</a>\n<a href="a.html#nope">n</a>\n'
        '<a href="#missing">m</a>\n<img src="pic.png">\n<a href="../../etc/passwd">x</a>\n'
        '<script src="js/app.js"></script>\n<link rel="stylesheet" href="s.css"></p>',
    )
    write(tmp_path, "a.html", '<h2 id="yes">y</h2>')
    write(tmp_path, "s.css", "body { background: url(img/bg.png); }")
    problems = check_site(tmp_path)
    text = "\n".join(problems)
    assert len(problems) == 7, text
    assert "index.html:2: broken link 'gone.html': no file gone.html" in text
    assert "index.html:3: broken anchor 'a.html#nope': no id 'nope' in a.html" in text
    assert "index.html:4: broken anchor '#missing': no id 'missing' in index.html" in text
    assert "index.html:5: broken link 'pic.png'" in text
    assert "index.html:6: link '../../etc/passwd' points outside the site" in text
    assert "index.html:7: broken link 'js/app.js'" in text
    assert "s.css:1: broken link 'img/bg.png'" in text


def test_check_command_exits_1_with_a_list(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    # MathJax mode: this test is about the pages' own links, not the math assets' stylesheets.
    code, _, err = run(capsys, "build", "--project", str(project), "-j1", "--math", "mathjax")
    assert code == 0, err
    code, _, err = run(capsys, "check", "--project", str(project))
    assert code == 0, err
    assert "0 problems" in err
    page = project / "site" / "pkg" / "model.html"
    page.write_text(
        page.read_text(encoding="utf-8")
        .replace("href='#Square'", "href='#section-99'", 1)
        .replace('href="index.html"', 'href="nothere.html"', 1),
        encoding="utf-8",
    )
    (project / "site" / "pkg" / "figure.svg").unlink()
    code, _, err = run(capsys, "check", "--project", str(project))
    assert code == 1
    assert "broken anchor '#section-99'" in err
    assert "broken link 'nothere.html'" in err
    assert "model.html:" in err and "broken link 'figure.svg'" in err
    assert "notes/index.html:" in err and "broken link '../pkg/figure.svg'" in err
    assert "4 problems" in err


def test_check_needs_only_the_output_folder(tmp_path, capsys):
    write(tmp_path, "site/index.html", '<a href="a.html">a</a>')
    write(tmp_path, "site/a.html", "<p>a</p>")
    code, _, err = run(capsys, "check", "--project", str(tmp_path), "--output", "site")
    assert code == 0 and "0 problems" in err
    code, _, err = run(capsys, "check", "--project", str(tmp_path))
    assert code == 1 and "no 'output' given" in err


def test_a_dangling_html_symlink_is_one_line(tmp_path):
    """Issue 9, bug 3: `check` on a dangling `.html` symlink raised FileNotFoundError."""
    write(tmp_path, "index.html", "<p>home</p>")
    (tmp_path / "gone.html").symlink_to(tmp_path / "nowhere.html")
    assert check_site(tmp_path) == [f"{tmp_path / 'gone.html'}: broken symlink: No such file or directory"]


def test_a_broken_link_names_the_source_line_it_was_written_on(tmp_path, capsys):
    """Issue 9, point 7: beside the HTML location, the notes line in the `.py` or `.md`."""
    project = make_project(
        tmp_path / "p",
        files={
            "src/pkg/model.py": '"""\n# Model\n"""\n\n# See [the paper](paper.pdf) and\n# [the data](data/)\nx = 1\n',
            "src/notes/README.md": "# Notes\n\nText.\n\nBroken: [gone](../nothere.md#x).\n",
        },
    )
    code, _, err = run(capsys, "build", "--project", str(project), "-j1", "--math", "mathjax")
    assert code == 0, err
    code, _, err = run(capsys, "check", "--project", str(project))
    assert code == 1
    lines = [line for line in err.splitlines() if "broken" in line]
    assert any(
        line.startswith(str(project / "site" / "pkg" / "model.html"))
        and line.endswith("broken link 'paper.pdf': no file pkg/paper.pdf (source: src/pkg/model.py:5)")
        for line in lines
    ), err
    assert any("broken link 'data/'" in line and line.endswith("(source: src/pkg/model.py:6)") for line in lines), err
    assert any(
        "broken link '../nothere.md#x'" in line and line.endswith("(source: src/notes/README.md:5)") for line in lines
    ), err


def test_a_broken_anchor_on_another_page_names_its_source_line(tmp_path, capsys):
    """The usual broken link: an anchor on another page. litdoc rewrote `model.py#gone` to
    `model.html#gone`, so the source line was not found by the page's spelling (issue 26)."""
    project = make_project(
        tmp_path / "p",
        files={
            "src/notes/README.md": (
                "# Notes\n\nText.\n\n[a](../pkg/model.py#gone)\n\n[b](../pkg/#nowhere)\n\n"
                "[c](../pkg/__init__.py#missing)\n"
            ),
            "src/pkg/__init__.py": '"""\n# Package\n"""\n',
        },
    )
    code, _, err = run(capsys, "build", "--project", str(project), "-j1", "--math", "mathjax")
    assert code == 0, err
    code, _, err = run(capsys, "check", "--project", str(project))
    assert code == 1
    anchors = sorted(line.split(": broken anchor ", 1)[1] for line in err.splitlines() if "broken anchor" in line)
    assert anchors == [
        "'../pkg/index.html#missing': no id 'missing' in pkg/index.html (source: src/notes/README.md:9)",
        "'../pkg/index.html#nowhere': no id 'nowhere' in pkg/index.html (source: src/notes/README.md:7)",
        "'../pkg/model.html#gone': no id 'gone' in pkg/model.html (source: src/notes/README.md:5)",
    ], err
