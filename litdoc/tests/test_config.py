"""Configuration and command-line values litdoc cannot use: one `path[:line]: reason` line and exit 1,
never a traceback (issue 9, bug 3: pyproject encoding and shape, -j, --port, --interval)."""

from __future__ import annotations

import socket

import pytest

from tests.sitefixtures import PYPROJECT, make_project, run


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_pyproject_that_is_not_utf8(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    (project / "pyproject.toml").write_bytes(PYPROJECT.encode("utf-8") + b"# caf\xe9\n")
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1
    assert one_line(err) == f"{project / 'pyproject.toml'}:8: not UTF-8 (byte 0xe9); TOML files must be UTF-8"


@pytest.mark.parametrize(
    "text, line, shape",
    [
        ("[tool]\nlitdoc = 5\n", 2, "not a int"),
        ("[[tool.litdoc]]\nsource = 'src'\n", 1, "not an array of tables ([[tool.litdoc]])"),
        ("tool.litdoc = 'src'\n", 1, "not a str"),
    ],
)
def test_a_tool_litdoc_that_is_not_a_table(tmp_path, capsys, text, line, shape):
    project = make_project(tmp_path / "p", pyproject=text)
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1
    assert one_line(err) == f"{project / 'pyproject.toml'}:{line}: [tool.litdoc] must be a table of settings, {shape}"


def test_tool_that_is_not_a_table(tmp_path, capsys):
    project = make_project(tmp_path / "p", pyproject="tool = 3\n")
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1 and one_line(err).endswith("pyproject.toml:1: 'tool' must be a table")


def test_follow_external_links_must_be_a_boolean(tmp_path, capsys):
    project = make_project(tmp_path / "p", pyproject=PYPROJECT + 'follow_external_links = "yes"\n')
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1 and one_line(err).endswith("pyproject.toml:8: 'follow_external_links' must be a bool")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["build", "-j", "-1"], "command line: -j/--jobs must be 0 (one per CPU) or more, not -1"),
        (["serve", "--port", "99999"], "command line: --port must be 0 (any free port) to 65535, not 99999"),
        (["serve", "--port", "-1"], "command line: --port must be 0 (any free port) to 65535, not -1"),
        (
            ["serve", "--interval", "-1"],
            "command line: --interval must be a number of seconds from 0.01 to 3600, not -1.0",
        ),
        (
            ["serve", "--interval", "0"],
            "command line: --interval must be a number of seconds from 0.01 to 3600, not 0.0",
        ),
        (
            ["serve", "--interval", "nan"],
            "command line: --interval must be a number of seconds from 0.01 to 3600, not nan",
        ),
        # A busy loop over the whole source tree (issue: `--interval 1e-9` was accepted).
        (
            ["serve", "--interval", "1e-9"],
            "command line: --interval must be a number of seconds from 0.01 to 3600, not 1e-09",
        ),
    ],
)
def test_numbers_no_command_can_use(tmp_path, capsys, args, expected):
    project = make_project(tmp_path / "p")
    code, _, err = run(capsys, *args, "--project", str(project))
    assert code == 1 and one_line(err) == expected
    assert not (project / "site").exists()  # refused before anything was built


def test_serve_on_a_busy_port(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, _, err = run(capsys, "serve", "--project", str(project), "--port", str(port), "-j1")
    assert code == 1
    assert one_line(err) == f"127.0.0.1:{port}: cannot listen: Address already in use; pass --port 0 for any free port"


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("base_url", "javascript:alert(1)", "must be an http(s) URL or a relative one, not a 'javascript:' URL"),
        ("repo_url", "JavaScript:alert(1)", "must be an http(s) URL or a relative one, not a 'javascript:' URL"),
        ("repo_url", "java\\tscript:alert(1)", "must not contain spaces or control characters"),
        ("mathjax_url", "data:text/javascript,alert(1)", "must be an http(s) URL or a relative one, not a 'data:' URL"),
        (
            "release_url",
            "javascript:alert('{version}')",
            "must be an http(s) URL or a relative one, not a 'javascript:' URL",
        ),
        ("base_url", " https://e.org/", "must not contain spaces or control characters"),
    ],
)
def test_urls_that_pages_link_or_load_must_be_http_or_relative(tmp_path, capsys, key, value, reason):
    """A `javascript:` base or repository URL became a link on every page (issue 26)."""
    project = make_project(
        tmp_path / "p", pyproject=PYPROJECT.replace(f"{key} =", f"old_{key} =") + f'{key} = "{value}"\n'
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(f"old_{key} =", "# was"), encoding="utf-8")
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 1
    line = one_line(err)
    assert line.startswith(f"{pyproject}:") and line.endswith(f": '{key}' {reason}"), line
    assert not (project / "site").exists()


def test_http_and_relative_urls_are_accepted(tmp_path, capsys):
    extra = 'mathjax_url = "vendor/mathjax/tex-chtml.js"\n'
    project = make_project(
        tmp_path / "p", pyproject=PYPROJECT.replace('base_url = "https://', 'base_url = "HTTPS://') + extra
    )
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 0, err


def test_release_url_gives_each_page_a_permalink_at_its_version(tmp_path, capsys):
    """`release_url` with "{version}" replaced, + the file's path: the page's BibTeX cites its source at the tag."""
    extra = 'version = "2.0"\nrelease_url = "https://git.example.org/demo/blob/v{version}"\n'
    project = make_project(tmp_path / "p", pyproject=PYPROJECT + extra)
    code, _, err = run(capsys, "build", "--project", str(project))
    assert code == 0, err
    page = (project / "site" / "pkg" / "model.html").read_text(encoding="utf-8")
    assert "Version 2.0, source at https://git.example.org/demo/blob/v2.0/src/pkg/model.py" in page
    # A folder's listing page has no source file, so no permalink
    listing = (project / "site" / "plain" / "index.html").read_text(encoding="utf-8")
    assert "source at" not in listing and "Version 2.0" in listing
