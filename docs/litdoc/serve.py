# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""`litdoc serve`: build, serve the output on 127.0.0.1, rebuild when a file changes, reload open pages.

Changes are found by polling (sizes and modification times of the sources, the templates and
`pyproject.toml`): it needs nothing from the OS and costs little for a site's worth of files.
Each rebuild that writes or removes something bumps a version number; the HTML the server sends
carries a small script polling `/__litdoc__/version` that reloads the page when the number moves.
The script is added to the response only, never to the built files.

The server answers only with files inside the output folder: a path with `..` (also
percent-encoded), a NUL byte, or a symlink leading out of the folder gets 404. It serves only a folder
that litdoc built (one with a manifest: a folder the build refused holds someone else's files), and
only requests addressed to the host it listens on (a `Host` header naming another host is a web page's
DNS-rebinding attempt to read the site through the reader's browser). A connection that sends nothing
for a minute is closed, so idle clients cannot hold the server's threads.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import sys
import threading
import traceback
import weakref
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, TextIO
from urllib.parse import unquote

from litdoc.build import BuildOptions, BuildReport, build_site, message
from litdoc.config import Config
from litdoc.model import LitdocError, forget_interrupt_in_string_code
from litdoc.store import MANIFEST_NAME, LockedError

VERSION_PATH = "/__litdoc__/version"
# Polling more often than this is a busy loop over the whole source tree; less often, a stuck server.
MIN_INTERVAL, MAX_INTERVAL = 0.01, 3600.0
IDLE_TIMEOUT = 60.0  # seconds a connection may send nothing before it is closed

# The servers whose listening socket a forked process closes first. `SiteServer.start` builds before the
# server's threads start, so that build forks its workers (`litdoc.build.pool_start_method`); a worker that
# kept the socket held the port after a kill -9 of serve, until it noticed (up to half a second). Weak, and
# closing a closed socket does nothing, so a server that is gone or closed needs no unregistering.
_LISTENING: weakref.WeakSet[ThreadingHTTPServer] = weakref.WeakSet()


def _close_listening_in_child() -> None:
    for server in list(_LISTENING):
        server.socket.close()  # the child's copy: the parent's socket stays open


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_close_listening_in_child)


def check_interval(interval: float) -> None:
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:  # also false for nan
        raise LitdocError(
            "command line",
            0,
            f"--interval must be a number of seconds from {MIN_INTERVAL} to {MAX_INTERVAL:.0f}, not {interval}",
        )


_RELOAD_SCRIPT = """<script>
(function () {
  var seen = "%s";
  function poll() {
    fetch("%s", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (v) {
      if (v !== seen) { location.reload(); }
    }).catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  setTimeout(poll, 700);
})();
</script>
"""

Snapshot = dict[str, tuple[int, int]]


def snapshot(*roots: Path | None) -> Snapshot:
    """(size, mtime) of every file under `roots` (files or folders), skipping hidden and cache folders."""
    state: Snapshot = {}
    for root in roots:
        if root is None or not root.exists():
            continue
        if root.is_file():
            stat = root.stat()
            state[str(root)] = (stat.st_size, stat.st_mtime_ns)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in names:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:  # deleted between the listing and the stat
                    continue
                state[path] = (stat.st_size, stat.st_mtime_ns)
    return state


def request_path(target: str) -> str:
    """The path part of a request target, taken literally (urlsplit would read `//x` as a host)."""
    return target.split("?", 1)[0].split("#", 1)[0]


def resolve_request(root: Path, target: str) -> Path | None:
    """The file under `root` that the request `target` names, or None when it names nothing servable there."""
    path = unquote(request_path(target))
    if "\0" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        return None
    try:
        candidate = root.joinpath(*parts)
        if candidate.is_dir():
            candidate = candidate / "index.html"
        real = candidate.resolve(strict=True)
        real.relative_to(root.resolve())
        return real if real.is_file() else None
    except (OSError, ValueError):  # missing, a name too long, or a symlink out of the output folder
        return None


class SiteServer:
    """The output folder over HTTP on `host:port`, with a watcher thread that rebuilds on change."""

    def __init__(
        self,
        load: Callable[[], Config],
        options: BuildOptions = BuildOptions(),
        host: str = "127.0.0.1",
        port: int = 8000,
        interval: float = 0.5,
        stream: TextIO | None = None,
    ):
        self.load = load
        self.options = options
        self.interval = interval
        self.stream = sys.stderr if stream is None else stream  # the sys.stderr of now, not of the import
        self.config = load()
        self.root = self.config.output
        self.version = 0
        self.stopping = threading.Event()
        self.rebuilt = threading.Condition()
        check_interval(interval)
        self.pending = False  # a change seen while another process held the output folder
        try:
            self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        except OverflowError:
            raise LitdocError("command line", 0, f"--port must be 0 (any free port) to 65535, not {port}") from None
        except OSError as error:
            hint = "; pass --port 0 for any free port" if error.errno == errno.EADDRINUSE else ""
            raise LitdocError(f"{host}:{port}", 0, f"cannot listen: {error.strerror}{hint}") from None
        self.httpd.daemon_threads = True
        _LISTENING.add(self.httpd)
        self.threads: list[threading.Thread] = []

    @property
    def hosts(self) -> set[str]:
        """The `Host` values a browser sends for this server: its address, or a loopback name, with the port."""
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, (bytes, bytearray)) else str(host)
        names: set[str] = {name, f"[{name}]" if ":" in name else name}
        if name in ("127.0.0.1", "::1", "localhost"):
            names |= {"localhost", "127.0.0.1", "[::1]"}
        return {f"{candidate}:{port}" for candidate in names} | (names if port == 80 else set())

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host  # typeshed allows bytes for AF_UNIX
        return f"http://{name}:{port}/"

    def _report(self, report: BuildReport) -> None:
        for line in report.failed:
            print(line, file=self.stream)
        print(report.summary(), file=self.stream)

    def build(self) -> BuildReport | None:
        try:
            self.config = self.load()
            report = build_site(self.config, self.options, stream=self.stream)
        except LockedError as error:
            if not self.pending:  # one line, not one per retry
                print(f"{message(error)} (litdoc serve builds again when it can)", file=self.stream)
            self.pending = True
            return None
        except LitdocError as error:
            self.pending = False
            print(message(error), file=self.stream)
            return None
        except Exception as error:  # litdoc's own bug: say so, and keep serving and watching
            if self.options.traceback:
                traceback.print_exc(file=self.stream)
            print(
                f"litdoc: internal error: {type(error).__name__}: {error} (please report; --traceback shows where)",
                file=self.stream,
            )
            return None
        self.pending = False
        self._report(report)
        if report.built or report.copied or report.removed or report.failed:
            with self.rebuilt:
                self.version += 1
                self.rebuilt.notify_all()
        return report

    def _watched(self) -> Snapshot:
        return snapshot(self.config.source, self.config.templates, self.config.project / "pyproject.toml")

    def _watch(self, seen: Snapshot) -> None:
        while not self.stopping.wait(self.interval):
            current = self._watched()
            if current != seen or self.pending:
                # The snapshot from before the build: an edit made while it runs triggers the next one.
                # A build that could not start (another process held the folder) is tried again.
                seen = current
                self.build()

    def start(self) -> None:
        """Build once, then serve and watch in background threads. Raises LitdocError when the output
        is not a folder litdoc built (the build refused it): its files are not the site's to publish."""
        # Taken before the first build, as before every build: an edit made during it, or before the
        # watching thread first runs (which a busy machine can delay), triggers the next build.
        seen = self._watched()
        self.build()
        if not (self.root / MANIFEST_NAME).is_file():
            self.httpd.server_close()
            raise LitdocError(str(self.root), 0, "not served: litdoc has not built this folder (see above)")
        for target, args in ((self.httpd.serve_forever, ()), (self._watch, (seen,))):
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=10)

    def _handler_class(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = IDLE_TIMEOUT  # socket timeout: an idle connection is closed

            def log_message(self, format: str, *args: object) -> None:
                pass  # a request log would bury the build messages

            def _host_allowed(self) -> bool:
                host = self.headers.get("Host")
                return host is None or host.lower() in server.hosts

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:
                if not self._host_allowed():
                    self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host\n", "text/plain; charset=utf-8")
                    return
                path = request_path(self.path)
                if path == VERSION_PATH:
                    self._send(HTTPStatus.OK, str(server.version).encode(), "text/plain; charset=utf-8")
                    return
                target = resolve_request(server.root, self.path)
                if target is None:
                    self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
                    return
                if target.name == "index.html" and not path.endswith("/") and not path.endswith("index.html"):
                    # Relative links in a folder's index.html need the URL to end with '/'.
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header("Location", path + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    body = target.read_bytes()
                except OSError:  # removed by a rebuild since it was resolved
                    self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
                    return
                content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                if content_type == "text/html":
                    body = inject_reload(body, server.version)
                    content_type = "text/html; charset=utf-8"
                self._send(HTTPStatus.OK, body, content_type)

            do_HEAD = do_GET

        return Handler


def inject_reload(html: bytes, version: int) -> bytes:
    """The page with the reload script just before its last `</body>` (or at the end)."""
    script = (_RELOAD_SCRIPT % (version, VERSION_PATH)).encode()
    at = html.lower().rfind(b"</body>")
    return html + script if at < 0 else html[:at] + script + html[at:]


def serve(
    load: Callable[[], Config], options: BuildOptions, port: int = 8000, interval: float = 0.5, host: str = "127.0.0.1"
) -> None:
    server = SiteServer(load, options, host=host, port=port, interval=interval)
    server.start()
    print(f"litdoc: serving {server.root} at {server.url} (Ctrl-C stops)", file=sys.stderr)
    try:
        while not server.stopping.wait(3600):
            pass
    except KeyboardInterrupt:
        forget_interrupt_in_string_code()
        print("litdoc: stopped", file=sys.stderr)
    finally:
        server.stop()
