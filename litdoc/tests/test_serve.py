"""`litdoc serve`: pages over HTTP on 127.0.0.1, a reload script in responses only, rebuilds on change,
and nothing outside the output folder, however the path is spelt."""

from __future__ import annotations

import http.client
import io
import os
import threading
import time

import pytest

import litdoc.serve
from litdoc.build import BuildOptions
from litdoc.config import load_config
from litdoc.model import LitdocError
from litdoc.serve import VERSION_PATH, SiteServer, resolve_request
from tests.sitefixtures import make_project


def start_server(root):
    project = make_project(root / "proj")
    (root / "secret.txt").write_text("top secret", encoding="utf-8")
    server = SiteServer(lambda: load_config(project), BuildOptions(jobs=1), port=0, interval=0.05, stream=io.StringIO())
    server.start()
    return project, server


@pytest.fixture()
def served(tmp_path):
    """A server of its own, for a test that changes the project or the output."""
    project, server = start_server(tmp_path)
    yield project, server
    server.stop()


@pytest.fixture(scope="module")
def served_read_only(tmp_path_factory):
    """One server for the tests that only make requests (building a site and starting a server for each
    of 18 such cases cost more than the requests)."""
    project, server = start_server(tmp_path_factory.mktemp("read-only"))
    yield project, server
    server.stop()


def get(server: SiteServer, path: str):
    """A GET with the path sent exactly as written (no client-side normalisation)."""
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_serves_pages_on_localhost_with_the_reload_script(served_read_only):
    project, server = served_read_only
    assert server.httpd.server_address[0] == "127.0.0.1"
    status, headers, body = get(server, "/pkg/model.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>The model</title>" in body
    assert VERSION_PATH.encode() in body and body.index(VERSION_PATH.encode()) < body.rindex(b"</body>")
    # The script is in the response only, never in the built file.
    assert VERSION_PATH.encode() not in (project / "site" / "pkg" / "model.html").read_bytes()
    status, _, body = get(server, "/")
    assert status == 200 and b"<title>Demo home</title>" in body
    status, headers, _ = get(server, "/pkg")
    assert status == 301 and headers["Location"] == "/pkg/"
    status, headers, body = get(server, "/pkg/figure.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml" and body.startswith(b"<svg")
    assert get(server, "/nothing.html")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/pkg/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2e%2e%5csecret.txt",
        "/..\\secret.txt",
        "/pkg/%00/../../secret.txt",
        "//secret.txt",
        "/proj/../secret.txt",
    ],
)
def test_paths_out_of_the_output_are_refused(served_read_only, path):
    _, server = served_read_only
    status, _, body = get(server, path)
    assert status == 404
    assert b"top secret" not in body


def test_a_symlink_out_of_the_output_is_refused(served, tmp_path):
    project, server = served
    os.symlink(tmp_path / "secret.txt", project / "site" / "link.txt")
    os.symlink(tmp_path, project / "site" / "linkdir")
    assert get(server, "/link.txt")[0] == 404
    assert get(server, "/linkdir/secret.txt")[0] == 404
    assert resolve_request(project / "site", "/link.txt") is None
    assert resolve_request(project / "site", "/pkg/model.html") == (project / "site" / "pkg" / "model.html").resolve()


def test_a_changed_source_is_rebuilt_and_the_version_moves(served):
    project, server = served
    _, _, before = get(server, VERSION_PATH)
    model = project / "src" / "pkg" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# A note written while serving\nQ = 4\n", encoding="utf-8")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, _, now = get(server, VERSION_PATH)
        if now != before:
            break
        time.sleep(0.05)
    assert int(now) == int(before) + 1
    _, _, body = get(server, "/pkg/model.html")
    assert b"A note written while serving" in body
    assert f'var seen = "{int(now)}"'.encode() in body


def test_an_edit_before_the_watcher_first_runs_is_rebuilt(tmp_path, monkeypatch):
    """On a busy machine the watching thread can start well after `start()` returns. An edit made in that
    gap is still an edit since the last build, and is rebuilt: the watcher compares with the sources as
    they were before the first build, not as it first finds them (which failed once in CI)."""
    project = make_project(tmp_path / "proj")
    watch = SiteServer._watch
    edited = threading.Event()

    def late_watch(self, *args):
        edited.wait(10)  # the watcher's first run comes after the edit
        watch(self, *args)

    monkeypatch.setattr(SiteServer, "_watch", late_watch)
    stream = io.StringIO()
    server = SiteServer(lambda: load_config(project), BuildOptions(jobs=1), port=0, interval=0.05, stream=stream)
    server.start()
    try:
        model = project / "src" / "pkg" / "model.py"
        model.write_text(model.read_text(encoding="utf-8") + "\n# Written before the watcher ran\n", encoding="utf-8")
        edited.set()
        with server.rebuilt:
            assert server.rebuilt.wait_for(lambda: server.version == 2, timeout=30), stream.getvalue()
        assert b"Written before the watcher ran" in get(server, "/pkg/model.html")[2]
    finally:
        server.stop()


def test_a_path_segment_too_long_for_the_file_system_is_a_404(served_read_only):
    """Issue 9, bug 3: a 300-byte segment reset the connection and left a traceback in the log."""
    project, server = served_read_only
    for path in ("/" + "a" * 300, "/" + "a" * 300 + "/index.html", "/pkg/" + "%C3%A9" * 200):
        status, _, body = get(server, path)
        assert status == 404 and body == b"not found\n"
    assert "Traceback" not in server.stream.getvalue()


def test_a_rebuild_while_another_build_holds_the_folder_is_one_line(served):
    project, server = served
    from litdoc.store import Store

    with Store(project / "site"):
        assert server.build() is None
    assert f"another litdoc build (pid {os.getpid()}" in server.stream.getvalue()
    assert server.build() is not None  # and once it is free, the next change builds


def test_a_folder_the_build_refused_is_not_served(tmp_path):
    """serve published a folder the build refused (no manifest: someone else's files), private ones too."""
    project = make_project(tmp_path / "proj")
    (project / "site").mkdir()
    (project / "site" / "private.txt").write_text("my diary", encoding="utf-8")
    stream = io.StringIO()
    server = SiteServer(lambda: load_config(project), BuildOptions(jobs=1), port=0, interval=0.05, stream=stream)
    with pytest.raises(LitdocError) as caught:
        server.start()
    assert "not served" in caught.value.reason and "refusing to write into a non-empty folder" in stream.getvalue()
    assert server.threads == []


def test_a_change_made_while_another_process_held_the_folder_is_built_when_it_lets_go(served):
    """A change made while another build held the lock was never built: the watcher had already taken
    the new snapshot as seen."""
    project, server = served
    from litdoc.store import Store

    before = server.version
    with Store(project / "site"):
        (project / "src" / "plain" / "other.py").write_text("# Changed while locked\nX = 2\n", encoding="utf-8")
        deadline = time.monotonic() + 10
        while "builds again when it can" not in server.stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # several more polls while the folder is held
    deadline = time.monotonic() + 20
    while server.version == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.version > before
    assert b"Changed while locked" in (project / "site" / "plain" / "other.html").read_bytes()
    assert server.stream.getvalue().count("builds again when it can") == 1  # one line, not one per poll


@pytest.mark.parametrize("host", ["evil.example:80", "attacker.test", "127.0.0.1.evil.example"])
def test_a_request_for_another_host_is_refused(served_read_only, host):
    """DNS rebinding: a page on attacker.test whose name comes to resolve to 127.0.0.1 could read the site
    (and any file in the output) through the reader's browser; its requests carry `Host: attacker.test`."""
    _, server = served_read_only
    address, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(address, port, timeout=10)
    connection.putrequest("GET", "/pkg/model.html", skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 421 and response.read() == b"unknown host\n"
    connection.close()
    for allowed in (f"127.0.0.1:{port}", f"localhost:{port}"):
        connection = http.client.HTTPConnection(address, port, timeout=10)
        connection.putrequest("GET", "/pkg/model.html", skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", allowed)
        connection.endheaders()
        assert connection.getresponse().status == 200
        connection.close()


def test_an_idle_connection_is_closed(served, monkeypatch):
    """A client that connects and sends nothing held a server thread for ever."""
    import socket

    _, server = served
    handler = server.httpd.RequestHandlerClass
    assert handler.timeout == litdoc.serve.IDLE_TIMEOUT == 60  # the socket timeout of every connection
    monkeypatch.setattr(handler, "timeout", 0.5)  # the same, shortened for the test
    client = socket.create_connection(server.httpd.server_address[:2], timeout=10)
    started = time.monotonic()
    assert client.recv(1) == b""  # the server closed it
    assert time.monotonic() - started < 5
    client.close()
