# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""Building the site: plan which outputs are stale, render them, hand the bytes to the store.

* **Safety.** `litdoc.store` owns the output folder: which files are litdoc's (its manifest), the lock,
  atomic writes, stale removal and the repair of an interrupted build (its journal). Its invariant is
  written at the top of that module. This module never writes or deletes an output file itself.
* **Incremental.** Each output has a key: the hash of everything it was made from (its source bytes,
  the templates and theme files, the config, litdoc's own code and the versions of the libraries that
  render it, the site's shape, and for a Python page the definitions elsewhere that its code links to,
  `litdoc.xref`). The store remembers it in the cache folder, never in the output, whose
  manifest names only what follows from the bytes (see `litdoc.store`). An output whose key is
  unchanged is not rebuilt; an output rebuilt to the same bytes is not written again. A source's hash is remembered, with the file's size, times and inode, in the cache folder
  (`SourceHashes`), so a rebuild reads only the files whose `stat` changed.
* **Parallel.** Pages are rendered in a process pool; each worker makes its `PageRenderer` (and so its
  math engine) once, and sends the page's bytes back to be written here, so that one process writes.
  A handful of pages is rendered in this process, where starting workers would cost more than it saves.
* **Deterministic.** Nothing written depends on the time, the machine or the order in which workers
  finish.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import json
import os
import posixpath
import re
import signal
import stat as stat_module
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from litdoc import __version__, search, site, xref
from litdoc.config import Config
from litdoc.context import SiteContext, display_path, make_context
from litdoc.emitters import companion_paths
from litdoc.mathengine import Converted, formula_id
from litdoc.model import LitdocError
from litdoc.pages import PageRenderer
from litdoc.site import SiteTree, SourceFile
from litdoc.store import MANIFEST_NAME, Store, atomic_write, read_cache_table, sha256, write_cache_table
from litdoc.templating import templates_fingerprint

__all__ = ["MANIFEST_NAME", "BuildOptions", "BuildReport", "build_site", "message"]

# Below this many pages to render, a pool costs more (process start, one math engine each) than it saves.
POOL_THRESHOLD = 8
# The libraries whose output lands in the pages, by module name (each has a __version__).
_RENDERING_LIBRARIES = ("jinja2", "pygments", "markdown_it", "mdit_py_plugins")


@dataclass(frozen=True)
class BuildOptions:
    force: bool = False  # write into a non-empty folder that litdoc did not make
    jobs: int = 0  # worker processes; 0 means one per CPU
    progress: bool | None = None  # None: show a progress bar when stderr is a terminal
    traceback: bool = False  # print tracebacks of litdoc's own bugs (never of a user's mistake)
    durable: bool = True  # fsync what is written (see litdoc.store); off only in tests


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)  # pages written this time
    unchanged: list[str] = field(default_factory=list)  # pages whose key matched
    failed: list[str] = field(default_factory=list)  # one `path:line: reason` line each
    warnings: list[str] = field(default_factory=list)  # skipped inputs and user files; no failure
    copied: list[str] = field(default_factory=list)  # assets and theme files written this time
    removed: list[str] = field(default_factory=list)  # stale generated files deleted
    kept: list[str] = field(default_factory=list)  # stale files left because they were edited
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"litdoc: {len(self.built)} pages built, {len(self.unchanged)} unchanged, "
            f"{len(self.failed)} failed in {self.seconds:.2f}s"
        )


def message(error: LitdocError) -> str:
    """The one line a user sees for a mistake; a folder-level error has no line number."""
    return f"{error.path}: {error.reason}" if error.line <= 0 else str(error)


# ---------------------------------------------------------------------------------------------
# Reading sources
# ---------------------------------------------------------------------------------------------


def read_bytes(path: str) -> bytes:
    """A source file's bytes. Opened without blocking and checked to be a regular file, so a FIFO or a
    device put in place of a file after the scan fails the page instead of hanging the build."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


SOURCE_HASHES_NAME = "source-hashes.json"
SOURCE_HASHES_FORMAT = "litdoc-source-hashes/1"
# A file changed this recently may change again within its file system's time granularity (two seconds
# on FAT) and keep its stat: its hash is not remembered, as git does not trust a "racily clean" entry.
_RACY_NS = 2_000_000_000


class SourceHashes:
    """SHA-256 of source files, remembered in `folder` by their stat, so that a rebuild need not read
    and hash every file again.

    A remembered hash is used only when the file's size, modification time, change time and inode all
    match (an edit, a copy over it or a `touch` changes one of them; the change time cannot be set
    back); otherwise the file is read again. The cache is one JSON file, written atomically; if the
    folder cannot be written, builds go on without it.
    """

    def __init__(self, folder: Path | None):
        self.path = folder / SOURCE_HASHES_NAME if folder is not None else None
        self.known: dict[str, list[Any]] = read_cache_table(self.path, SOURCE_HASHES_FORMAT, "files")
        self.used: dict[str, list[Any]] = {}  # what this build saw: the next cache holds only these

    def digest(self, path: str) -> tuple[str, bytes | None]:
        """The hash of the file's bytes, and the bytes when they had to be read (None when remembered).
        `path` is a string: over thousands of files, making `Path` objects costs as much as the stats."""
        stat = os.stat(path)
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self.known.get(path)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == signature and isinstance(entry[4], str):
            self.used[path] = entry
            return entry[4], None
        data = read_bytes(path)
        digest = sha256(data)
        settled = time.time_ns() - _RACY_NS
        if len(data) == stat.st_size and stat.st_mtime_ns < settled and stat.st_ctime_ns < settled:
            self.used[path] = signature + [digest]
        return digest, data

    def save(self) -> None:
        if self.path is None or all(self.known.get(name) == entry for name, entry in self.used.items()):
            # Nothing learnt (a no-op build, or one that read only files changed just now): keep the
            # file as it is. An entry it holds for a file since changed or deleted is never matched.
            return
        write_cache_table(self.path, SOURCE_HASHES_FORMAT, "files", self.used)


FORMULAS_NAME = "formulas.json"
FORMULAS_FORMAT = "litdoc-formulas/1"


class FormulaCache:
    """The math engine's conversions (Temml's MathML, made in V8, which each worker process would start
    anew), remembered in the cache folder, so that a build that renders pages again (an emptied output
    folder, a theme or a setting changed) converts only the formulas it has not met before. `key` names
    what decides a conversion: litdoc's code, the math assets, the engine's settings. The file holds the
    formulas of the site as last built: each page remembers its formulas' ids (`MathEngine.page_formulas`)
    with its key, and `save` keeps the conversions those ids name.

    Made with no folder (nothing read or kept) for a site built with `raw_html = false`: a conversion is
    HTML put into the page as it is, so it comes from the cache folder only for sources that are trusted
    (a folder that arrived with untrusted sources could hold any HTML)."""

    def __init__(self, folder: Path | None, key: str):
        self.path = folder / FORMULAS_NAME if folder is not None else None
        self.key = key
        self.known: dict[str, list[Any]] = {
            name: entry
            for name, entry in read_cache_table(self.path, FORMULAS_FORMAT, "formulas", key=key).items()
            if isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and isinstance(entry[1], bool)
            and isinstance(entry[2], str)
        }
        self.new: dict[str, list[Any]] = {}

    def recalled(self) -> list[Converted]:
        """What an earlier build converted, for `MathEngine.recall`."""
        return [(tex, display, html) for tex, display, html in self.known.values()]

    def add(self, converted: Iterable[Converted]) -> None:
        for tex, display, html in converted:
            self.new[formula_id(tex, display)] = [tex, display, html]

    def save(self, used: Iterable[str]) -> None:
        """Keep the conversions of the formulas `used` (ids) by the site's pages, known or new."""
        table = {}
        for name in sorted(set(used)):
            entry = self.new.get(name) or self.known.get(name)
            if entry is not None:
                table[name] = entry
        if self.path is not None and table != self.known:
            write_cache_table(self.path, FORMULAS_FORMAT, "formulas", table, key=self.key)


def formula_cache_key(config: Config, code: str) -> str:
    """What decides the math engine's conversion of a formula (see `FormulaCache`)."""
    from litdoc import math_assets

    parts = [code, math_assets.assets_fingerprint(), config.math, str(config.numbered_equations)]
    return sha256("\0".join(parts).encode())


FONT_CACHE_PREFIX = "math-font-"


def cached_font(folder: Path | None, key: str, make: Callable[[], bytes]) -> bytes:
    """The cut math font for `key` (which names the characters, the shipped font and fontTools' version),
    from `folder` when an earlier build cut it, else made and kept there. Cutting it costs seconds (the
    WOFF2 is decompressed, cut and compressed again) and every cold build of the same site asks for the
    same bytes. The file's name repeats its bytes' SHA-256, checked on reading, so a torn or foreign file
    costs a new cut, never a wrong font; only the latest font is kept."""
    if folder is None:
        return make()
    prefix = f"{FONT_CACHE_PREFIX}{key}-"
    try:
        names = [name for name in os.listdir(folder) if name.startswith(FONT_CACHE_PREFIX)]
    except OSError:
        names = []
    for name in names:
        if name.startswith(prefix) and name.endswith(".woff2"):
            try:
                data = (folder / name).read_bytes()
            except OSError:
                continue
            if sha256(data) == name[len(prefix) : -len(".woff2")]:
                return data
    data = make()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{prefix}{sha256(data)}.woff2", data, durable=False)  # a lost one costs a cut
        for name in names:
            if not name.startswith(prefix):
                (folder / name).unlink()
    except OSError:
        pass  # a read-only project: the next build cuts the font again, nothing worse
    return data


# ---------------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageJob:
    item: SourceFile
    data: bytes
    key: str


@dataclass(frozen=True)
class PageResult:
    output_path: str
    key: str
    source_path: str = ""
    data: bytes = b""  # the page's HTML, written by the build's own process
    title: str = ""
    search: str = ""  # the page's row of the search index (JSON), remembered in the cache with its key
    glyphs: str = ""  # the characters of its MathML (the math font keeps only these)
    formulas: str = ""  # the ids of its formulas (`FormulaCache` keeps their conversions)
    converted: tuple[Converted, ...] = ()  # its formulas converted anew, for `FormulaCache`
    companions: tuple[tuple[str, bytes], ...] = ()  # files made beside the page (notebook, .py), same key
    error: str = ""  # one line, empty on success
    user_error: bool = True  # False for litdoc's own bugs, which are never cached
    warnings: tuple[str, ...] = ()  # `path:line: warning: ...` lines (an invalid escape, say), each once


# The renderer of a worker process, made once by `_init_worker`; the build's own process never sets it.
_worker_renderer: PageRenderer | None = None


def _exit_with_parent(parent: int) -> None:
    """A worker's watch: when the build's process dies (kill -9 sends it no signal to pass on), the
    worker is handed to another parent, and it exits, and with the last of them multiprocessing's
    resource tracker, which stays only while a process holds its pipe."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _init_worker(
    context: SiteContext, parent: int = 0, renderer: PageRenderer | None = None, recalled: Iterable[Converted] = ()
) -> None:
    """`parent`: the build's pid, passed in (the worker's own parent may already be another process,
    if the build died while it started). `renderer`: the build's own, in a forked worker (made, and its
    templates compiled, once, before the fork); a spawned worker makes its own, and is given what
    `FormulaCache` recalled."""
    global _worker_renderer
    _init_helper(parent)
    if renderer is None:
        renderer = PageRenderer(context)
        renderer.markup.engine.recall(recalled)
    _worker_renderer = renderer


def _init_helper(parent: int = 0) -> None:
    """What every worker process does first: exit with the build, and leave Ctrl-C to it."""
    if os.name == "posix" and parent:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # Ctrl-C reaches the whole process group: the build's own process handles it (cancels the pool,
    # prints one line), so a worker ignores it rather than print a traceback of its own. The worker
    # started with SIGINT blocked (`_starting_workers`); ignoring it discards one that arrived while it
    # started, and only then is it unblocked.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def pool_start_method() -> str:
    """How the worker pool's processes start: "fork" where that is safe, else "spawn".

    A forked worker starts at once, with litdoc already imported and the site's context already in its
    memory; a spawned one is a fresh interpreter that imports litdoc and unpickles the context first
    (about 0.15 s before its first page, and that CPU again per worker). Fork is only safe in a process
    with no other thread: a thread that holds a lock (the allocator's, the import lock, V8's) at the
    moment of the fork leaves that lock held forever in the child. So litdoc forks only on Linux, and
    only while its process has exactly one thread, counted by the kernel (`/proc/self/task`), so that
    threads that Python code did not start count too (V8 runs some of its own once math is converted).
    `litdoc serve` rebuilds beside its server threads, and a program that calls `build_site` from a thread
    or after starting one gets spawned workers, as every build did before. macOS and Windows spawn."""
    if not sys.platform.startswith("linux"):
        return "spawn"
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return "spawn"
    return "fork" if threads == 1 else "spawn"


def _spawn_pool(workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...], method: str) -> Any:
    """A pool of `workers` processes started by `method` (`pool_start_method`), each set up by
    `initializer(*initargs)`; made, and its work submitted, inside `_starting_workers(method)`."""
    import concurrent.futures  # only a build with many pages pays for these imports
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=initializer,
        initargs=initargs,
    )


def _source_table(data: bytes, shown: str) -> xref.ModuleTable:
    """One source's table of names (`xref.source_table`), in a worker of the names pass or in the build."""
    from litdoc.markup import markdown_parser

    return xref.source_table(data, shown, markdown_parser())


@contextlib.contextmanager
def _starting_workers(method: str = "spawn") -> Iterator[None]:
    """Holds Ctrl-C while the pool is made and its workers are started (by `method`), then lets it through.

    A spawned worker is a fresh interpreter that takes a second to import litdoc before `_init_worker`
    makes it ignore SIGINT; a Ctrl-C in that second used to kill it with a traceback of its own. Started
    from a thread that blocks SIGINT, a worker starts with SIGINT blocked (the mask survives fork and
    exec), so the signal waits until `_init_worker` ignores it. In the build's own process the same block, and a handler that
    only notes the signal (for a Ctrl-C taken by another thread), keep KeyboardInterrupt out of the middle
    of a spawn, where it would leave a child the pool does not know of; the interrupt is raised here,
    once the pool is whole, and the caller's cleanup cancels it as usual.
    """
    held: list[int] = []
    previous_handler = None
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        previous_handler = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    previous_mask = None
    if hasattr(signal, "pthread_sigmask"):  # POSIX
        if method != "fork":  # a forking pool's semaphores are unlinked at once: it starts no tracker
            from multiprocessing import resource_tracker

            # The pool's first lock starts multiprocessing's resource tracker, which unblocks SIGINT in the
            # thread that started it (resource_tracker.ensure_running); started first, it is left alone.
            resource_tracker.ensure_running()
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if previous_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)  # a pending Ctrl-C is delivered now
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
    if held:
        raise KeyboardInterrupt


def render_job(renderer: PageRenderer, job: PageJob, show_traceback: bool) -> PageResult:
    """Render one page; a user's mistake becomes `PageResult.error`, never an exception."""
    path = display_path(renderer.context, job.item)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _render(renderer, job, show_traceback, path)
    lines = _source_warnings(caught, path)
    return dataclasses.replace(result, warnings=lines) if lines else result


def _source_warnings(caught: list[warnings.WarningMessage], path: str) -> tuple[str, ...]:
    """The warnings Python gave about the page's source (an invalid escape: SyntaxWarning on 3.12 and
    later, DeprecationWarning before), as `path:line: warning: ...`, each once. Python's parser names
    no file (`<unknown>`) when a stage parses the source again, so any such warning is the page's."""
    lines: dict[str, None] = {}
    for warning in caught:
        message = str(warning.message)
        if warning.filename not in (path, "<unknown>") or not (
            issubclass(warning.category, SyntaxWarning) or message.startswith("invalid escape sequence")
        ):
            continue
        lines[f"{path}:{warning.lineno}: warning: {_QUOTELESS_ESCAPE.sub(_quote_escape, message)}"] = None
    return tuple(lines)


# Python 3.9 says `invalid escape sequence \m`; 3.10 and later quote the escape. One wording on every
# Python, so a warning line reads (and greps) the same wherever litdoc runs.
_QUOTELESS_ESCAPE = re.compile(r"^(invalid escape sequence )(\\\S+)$")


def _quote_escape(match: re.Match[str]) -> str:
    return f"{match[1]}'{match[2]}'"


def _render(renderer: PageRenderer, job: PageJob, show_traceback: bool, path: str) -> PageResult:
    try:
        outputs = renderer.render_outputs(job.item, job.data)
    except LitdocError as error:
        return PageResult(job.item.output_path, job.key, error=message(error))
    except (RecursionError, MemoryError):  # a stack overflow on the author's nesting, not litdoc's bug
        return PageResult(job.item.output_path, job.key, error=f"{path}:1: too deeply nested to render")
    except Exception as error:  # litdoc's own bug: name it, keep building the other pages
        detail = traceback.format_exc() if show_traceback else ""
        return PageResult(
            job.item.output_path,
            job.key,
            user_error=False,
            error=f"{path}:1: internal error: {type(error).__name__}: {error} "
            f"(please report; --traceback shows where){detail and chr(10) + detail}",
        )
    return PageResult(
        job.item.output_path,
        job.key,
        job.item.source_path,
        data=outputs.html.encode("utf-8"),
        title=outputs.title,
        search=outputs.search,
        companions=outputs.companions,
        glyphs=outputs.glyphs,
        formulas=outputs.formulas,
        converted=outputs.converted,
    )


def _worker_render(job: PageJob, show_traceback: bool, marker: str) -> PageResult:
    """Render `job` in a pool worker. `marker` is a file that exists while the worker renders it: if the
    worker dies (a crash of the interpreter itself), the build knows which pages were being rendered."""
    assert _worker_renderer is not None, "worker used before _init_worker"
    with open(marker, "wb"):
        pass
    result = render_job(_worker_renderer, job, show_traceback)
    os.unlink(marker)
    return result


def _isolated_render(context: SiteContext, job: PageJob, show_traceback: bool, connection: Any, parent: int) -> None:
    """The body of a process that renders one page alone (`_Build._render_alone`)."""
    _init_worker(context, parent)
    assert _worker_renderer is not None
    connection.send(render_job(_worker_renderer, job, show_traceback))
    connection.close()


def _how_it_died(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


# ---------------------------------------------------------------------------------------------
# Keys: what an output depends on
# ---------------------------------------------------------------------------------------------


def _litdoc_code_hash() -> str:
    """litdoc's own Python files: an edited stage changes every page, version bump or not."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    """Versions of the rendering libraries, and the pins of the math assets (Temml's version decides the
    MathML). Read from the modules rather than importlib.metadata, whose import alone costs more than a
    no-op build's other work; every build imports these modules anyway."""
    import importlib

    from litdoc import math_assets

    versions = {
        name: str(getattr(importlib.import_module(name), "__version__", "unknown")) for name in _RENDERING_LIBRARIES
    }
    versions["math assets"] = math_assets.assets_fingerprint()
    return versions


def page_key(base_key: str, source_digest: str, names: str = "") -> str:
    """A page's key: the site's inputs, its own source's hash and the digest of the site's names it links
    to (`litdoc.xref.names_digest`; "" for a page that links to none)."""
    if names:
        return sha256(f"{base_key}\0{source_digest}\0{names}".encode())
    return sha256(f"{base_key}\0{source_digest}".encode())


def site_key(config: Config, tree: SiteTree, context: str = "", code: str = "") -> str:
    """`context`: `SiteContext.fingerprint()`, the reading order and dates that every page shows; `code`:
    `_litdoc_code_hash()`, when the caller has it."""
    parts = {
        "litdoc": code or _litdoc_code_hash(),
        "libraries": _library_versions(),
        "templates": templates_fingerprint(config),
        "config": config.fingerprint(),
        "tree": tree.fingerprint(),
        "context": context,
    }
    return sha256(json.dumps(parts, sort_keys=True).encode())


# ---------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------


class _Progress:
    """A one-line bar on stderr, redrawn in place; silent unless stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO, enabled: bool):
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = enabled and total > 0

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} pages")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def _source_prefix(config: Config) -> str:
    prefix = Path(os.path.relpath(config.source, config.project)).as_posix()
    return "" if prefix == "." else prefix


def _listing_entries(item: SourceFile, tree: SiteTree, titles: dict[str, str]) -> list[tuple[str, str]]:
    """A folder's pages and sub-folders, each with its title."""
    folder = item.source_path
    entries = []
    for other in tree.files:
        if other.kind == site.ASSET or other.output_path == item.output_path:
            continue
        out_folder = posixpath.dirname(other.output_path)
        is_index = posixpath.basename(other.output_path) == "index.html"
        if (out_folder == folder and not is_index) or (
            is_index and posixpath.dirname(out_folder) == folder and out_folder != folder
        ):
            entries.append((titles.get(other.output_path) or site.fallback_title(other, ""), other.output_path))
    return entries


class _Build:
    """One build's state; `build_site` below reads as its plan."""

    def __init__(self, config: Config, options: BuildOptions, store: Store, stream: TextIO):
        self.config, self.options, self.store, self.stream = config, options, store, stream
        self.report = BuildReport()
        self.titles: dict[str, str] = {}
        self.search: dict[str, str] = {}  # page -> its search-index row
        self.glyphs: dict[str, str] = {}  # page -> the characters of its math
        self.formulas: dict[str, str] = {}  # page -> the ids of its formulas (`FormulaCache`)
        self.renderer: PageRenderer | None = None
        warnings: list[tuple[str, str]] = []
        from litdoc import extras

        self.tree, conflicts = site.scan_tree(
            config.source,
            follow_external_links=config.follow_external_links,
            exclude=config.exclude,
            warnings=warnings,
            companions=companion_paths,
            reserved={extras.NOT_FOUND: "the 404 page litdoc generates"},
        )
        if not self.tree.pages:
            # An empty site would remove every page of the last build and still exit 0: a typo in
            # `exclude` (or `source`) is far likelier than a site meant to have no page.
            left = f" that exclude = {list(config.exclude)} leaves" if config.exclude else ""
            raise LitdocError(
                str(config.source), 0, f"no page to build: no .py or .md source{left}; the site was left as it was"
            )
        self.prefix = _source_prefix(config)
        self.hashes = SourceHashes(config.cache)
        self.code = _litdoc_code_hash()
        self.formulas_cache = FormulaCache(
            config.cache if config.raw_html else None, formula_cache_key(config, self.code)
        )
        # (hash, bytes or None) of the Python sources, as the pass over the site's names read them: the
        # pages are keyed by the same hash as the names they link to.
        self.digests: dict[str, tuple[str, bytes | None]] = {}
        names = self._site_names()
        self.names_digests = {rel: xref.names_digest(entries) for rel, entries in names.items() if entries}
        self.context = make_context(config, self.tree, self.prefix, names)
        for source_path, reason in conflicts:  # about the file, not a line of it
            self.report.failed.append(f"{self._shown(source_path)}: {reason}")
        for source_path, reason in warnings:
            self.report.warnings.append(f"{self._shown(source_path)}: warning: {reason}")
        self.base_key = site_key(config, self.tree, self.context.fingerprint(), self.code)

    def _site_names(self) -> dict[str, tuple[tuple[str, xref.Target], ...]]:
        """Every Python page's module-level names that the site defines (`litdoc.xref`): each source's
        table is remembered by its hash, so only the sources that changed are read and parsed."""
        from litdoc.notebook import module_package

        config = self.config
        is_package = (config.source / "__init__.py").is_file()
        tables = xref.TableCache(config.cache, self.code)
        source_root = os.fspath(config.source)
        found: list[tuple[SourceFile, str, xref.ModuleTable | None]] = []
        for item in self.tree.pages:
            if item.kind != site.PYTHON:
                continue
            source = os.path.join(source_root, item.source_path)
            try:
                digest, data = self.hashes.digest(source)
                self.digests[source] = (digest, data)
                table = tables.get(digest)
                if table is None and data is None:
                    data = read_bytes(source)
                    self.digests[source] = (sha256(data), data)
            except OSError:
                continue  # the page says so when it is planned
            found.append((item, source, table))
        missing = [(source, self._shown(item.source_path)) for item, source, table in found if table is None]
        made = self._make_tables([(self.digests[source][1] or b"", shown) for source, shown in missing])
        made_by_source = {}
        for (source, _), table in zip(missing, made):
            tables.put(self.digests[source][0], table)
            made_by_source[source] = table
        modules = []
        for item, source, table in found:
            package = module_package(is_package, config.source.name, item.source_path)
            modules.append(
                xref.SiteModule(
                    xref.module_name(package, item.source_path),
                    item.output_path,
                    posixpath.basename(item.source_path) == "__init__.py",
                    table if table is not None else made_by_source[source],
                )
            )
        tables.save()
        return xref.site_names(modules)

    def _make_tables(self, sources: list[tuple[bytes, str]]) -> list[xref.ModuleTable]:
        """The names table of each (bytes, shown path): in a pool of workers when there are many (a fresh
        clone's first build reads every source for them before any page renders), else here. A pool that
        breaks leaves the rest to this process, as a build with one worker does."""
        workers = self.options.jobs or os.cpu_count() or 1
        if workers == 1 or len(sources) < POOL_THRESHOLD:
            return [_source_table(data, shown) for data, shown in sources]
        from concurrent.futures.process import BrokenProcessPool

        made: list[xref.ModuleTable] = []
        pool = None
        try:
            method = pool_start_method()
            with _starting_workers(method):
                pool = _spawn_pool(min(workers, len(sources)), _init_helper, (os.getpid(),), method)
                futures = [pool.submit(_source_table, data, shown) for data, shown in sources]
            for future in futures:
                made.append(future.result())
        except BrokenProcessPool:
            pass
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return made + [_source_table(data, shown) for data, shown in sources[len(made) :]]

    def _shown(self, source_path: str) -> str:
        return posixpath.join(self.prefix, source_path) if self.prefix else source_path

    def _renderer(self) -> PageRenderer:
        if self.renderer is None:
            self.renderer = PageRenderer(self.context)
            self.renderer.markup.engine.recall(self.formulas_cache.recalled())
        return self.renderer

    def _ready_renderer(self) -> PageRenderer:
        """The build's renderer with everything a page needs made that a fork can share (its templates
        compiled, its Markdown parsers built); never the math engine, whose V8 runs threads of its own."""
        renderer = self._renderer()
        renderer.theme.compile_all()
        renderer.parser  # noqa: B018 - made now, for the workers to inherit
        return renderer

    def may_write(self, rel: str, label: str) -> bool:
        """False, with the reason reported, when the store may not write `rel`."""
        refusal = self.store.refusal(rel)
        if refusal is None:
            return True
        if refusal.user:
            self.report.warnings.append(f"{label}: warning: {refusal.reason}")
        else:
            self.report.failed.append(f"{label}: {refusal.reason}")
            self.store.keep_previous(rel)
        return False

    def plan_output(self, rel: str, key: str, label: str) -> str:
        """The one keep / refuse decision for an output made here (listings, copied and site-wide
        files): "unchanged" (carried over), "skipped" (refused, reported) or "write"."""
        if self.store.unchanged(rel, key):
            return "unchanged"
        return "write" if self.may_write(rel, label) else "skipped"

    def make_and_write(
        self,
        rel: str,
        key: str,
        make: Callable[[], bytes],
        label: str,
        title: str = "",
        remember: dict[str, str] | None = None,
    ) -> bool:
        """Make an output planned by `plan_output` and write it; False (reported) when `make` failed."""
        try:
            data = make()
        except LitdocError as error:
            self.report.failed.append(message(error))
            self.store.keep_previous(rel)
            return False
        except OSError as error:  # a copied file that went away or became unreadable since the scan
            self.report.failed.append(f"{label}: cannot read: {error.strerror or error}")
            self.store.keep_previous(rel)
            return False
        self.store.write(rel, data, key=key, title=title, remember=remember)
        return True

    # ----- pages ------------------------------------------------------------------------------

    def plan_pages(self) -> list[PageJob]:
        """The pages whose key changed, with their bytes; the others are carried over or reported."""
        store, report = self.store, self.report
        source_root = os.fspath(self.config.source)
        jobs: list[PageJob] = []
        for item in self.tree.pages:
            rel, shown = item.output_path, display_path(self.context, item)
            source = os.path.join(source_root, item.source_path)
            names = self.names_digests.get(rel, "")
            try:
                digest, data = self.digests.pop(source) if source in self.digests else self.hashes.digest(source)
                key = page_key(self.base_key, digest, names)
                # A page and the files made beside it are carried over together, or made again together.
                if store.unchanged_together((rel,) + companion_paths(item), key):
                    self.titles[rel] = (store.previous(rel) or {}).get("title", "")
                    remembered = store.remembered_fields(rel)
                    self.search[rel] = remembered.get("search", "")
                    self.glyphs[rel] = remembered.get("glyphs", "")
                    self.formulas[rel] = remembered.get("formulas", "")
                    report.unchanged.append(rel)
                    continue
                known_failure = store.known_failure(rel, key)
                if known_failure:  # same inputs, same error: no need to render again
                    report.failed.append(known_failure)
                    store.keep_previous(rel)
                    continue
                if not self.may_write(rel, f"{shown}:1"):
                    continue
                if data is None:
                    # The hash was remembered; the key must be that of the bytes rendered, so read them now.
                    data = read_bytes(source)
                    key = page_key(self.base_key, sha256(data), names)
            except OSError as error:  # deleted, replaced by a FIFO, unreadable since the scan
                report.failed.append(f"{shown}:1: cannot read: {error.strerror or error}")
                store.keep_previous(rel)
                continue
            jobs.append(PageJob(item, data, key))
        return jobs

    def record(self, result: PageResult) -> None:
        self.report.warnings.extend(result.warnings)
        if result.error:
            self.report.failed.append(result.error)
            if result.user_error:
                self.store.fail(result.output_path, result.key, result.error)
            self.store.keep_previous(result.output_path)
            for rel, _ in result.companions:
                self.store.keep_previous(rel)
            return
        # `source` (relative to the project) lets `litdoc check` name the line a broken link was written on.
        source = posixpath.join(self.prefix, result.source_path) if self.prefix else result.source_path
        self.store.write(
            result.output_path,
            result.data,
            key=result.key,
            remember={
                "search": result.search,
                **({"glyphs": result.glyphs} if result.glyphs else {}),
                **({"formulas": result.formulas} if result.formulas else {}),
            },
            title=result.title,
            source=source,
        )
        for rel, data in result.companions:
            if self.may_write(rel, f"{source}:1"):
                self.store.write(rel, data, key=result.key)
        self.titles[result.output_path] = result.title
        self.search[result.output_path] = result.search
        self.glyphs[result.output_path] = result.glyphs
        self.formulas[result.output_path] = result.formulas
        self.formulas_cache.add(result.converted)
        self.report.built.append(result.output_path)

    def render_pages(self, jobs: list[PageJob]) -> None:
        # One journal flush for them all: the pages and the files made beside them that litdoc may write
        # (one it may not is reported when its page is recorded, and is never journaled).
        store = self.store
        store.declare(
            [job.item.output_path for job in jobs]
            + [rel for job in jobs for rel in companion_paths(job.item) if store.refusal(rel) is None]
        )
        options = self.options
        progress = _Progress(
            len(jobs), self.stream, self.stream.isatty() if options.progress is None else options.progress
        )
        workers = options.jobs or os.cpu_count() or 1
        try:
            if jobs and (workers == 1 or len(jobs) < POOL_THRESHOLD):
                for job in jobs:
                    self.record(render_job(self._renderer(), job, options.traceback))
                    progress.step()
            elif jobs:
                self._render_in_pool(jobs, workers, progress)
        finally:
            progress.close()

    def _render_in_pool(self, jobs: list[PageJob], workers: int, progress: _Progress) -> None:
        """Render `jobs` in a pool of worker processes. A page that crashes the interpreter of its worker
        (a segfault in a C extension, a C stack overflow) breaks the whole pool: the pages the dead
        pool's workers were rendering are each rendered again alone, the one that crashes fails,
        named, and a new pool renders the rest."""
        import tempfile

        # Largest first, so that no worker is left with one big file while the others sit idle.
        remaining = sorted(jobs, key=lambda job: (-len(job.data), job.item.output_path))
        with tempfile.TemporaryDirectory(prefix="litdoc-workers-") as markers:
            while remaining:
                remaining, suspects = self._pool_round(remaining, workers, progress, markers)
                for job in suspects:
                    self.record(self._render_alone(job))
                    progress.step()
                if not suspects:  # the pool broke before any page started (a worker failed to start)
                    for job in remaining:
                        self.record(
                            PageResult(
                                job.item.output_path,
                                job.key,
                                user_error=False,
                                error=f"{display_path(self.context, job.item)}:1: internal error: the worker "
                                "processes died before rendering this page (please report)",
                            )
                        )
                        progress.step()
                    return

    def _pool_round(
        self, jobs: list[PageJob], workers: int, progress: _Progress, markers: str
    ) -> tuple[list[PageJob], list[PageJob]]:
        """Render `jobs` in one pool. Returns ([], []) when it finished; when it broke, the jobs not
        rendered and, among them, those a worker had started (one of them crashed it)."""
        import concurrent.futures  # only a build with many pages pays for these imports
        from concurrent.futures.process import BrokenProcessPool

        pool = None
        marker_of = {id(job): os.path.join(markers, str(number)) for number, job in enumerate(jobs)}
        try:
            method = pool_start_method()
            initargs: tuple[Any, ...] = (self.context, os.getpid())
            if method == "fork":  # made here, the workers inherit it ready: the templates compile once
                initargs += (self._ready_renderer(),)
            else:
                initargs += (None, self.formulas_cache.recalled())
            with _starting_workers(method):  # the pool starts its workers in `submit`
                pool = _spawn_pool(min(workers, len(jobs)), _init_worker, initargs, method)
                pending = {
                    pool.submit(_worker_render, job, self.options.traceback, marker_of[id(job)]): job for job in jobs
                }
            for future in concurrent.futures.as_completed(list(pending)):
                job = pending.pop(future)  # its page is written now: let its bytes go
                try:
                    result = future.result()
                except BrokenProcessPool:
                    pending[future] = job
                    break
                self.record(result)
                progress.step()
            else:
                pool.shutdown(wait=True)
                return [], []
        except BaseException:
            # Ctrl-C or a full disk: pages not started are dropped; the journal covers what was written.
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        left = list(pending.values())
        suspects = [job for job in left if os.path.exists(marker_of[id(job)])]
        return [job for job in left if not os.path.exists(marker_of[id(job)])], suspects

    def _render_alone(self, job: PageJob) -> PageResult:
        """Render one page in a process of its own, so that a crash of its interpreter names the page."""
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        with _starting_workers():
            process = context.Process(
                target=_isolated_render,
                args=(self.context, job, self.options.traceback, sending, os.getpid()),
                daemon=True,
            )
            process.start()
        sending.close()
        try:
            try:
                result: PageResult | None = receiving.recv()
            except EOFError:  # it died before sending its page
                result = None
            process.join()
        finally:
            receiving.close()
            if process.is_alive():
                process.kill()
                process.join()
        if result is not None:
            return result
        path = display_path(self.context, job.item)
        # Not remembered as a failure (user_error False): a process killed from outside (out of memory)
        # may render the page next time.
        return PageResult(
            job.item.output_path,
            job.key,
            user_error=False,
            error=f"{path}:1: the Python interpreter crashed while rendering this page "
            f"({_how_it_died(process.exitcode)}); the other pages were built",
        )

    # ----- the rest of the site ---------------------------------------------------------------

    def listings(self) -> None:
        """Generated folder listings, which depend on the titles of what they list."""
        planned = []
        for item in self.tree.listings:
            rel = item.output_path
            entries = _listing_entries(item, self.tree, self.titles)
            key = sha256(self.base_key.encode() + b"\0" + json.dumps(entries).encode())
            title = site.fallback_title(item, self.config.title)
            self.titles[rel] = title
            decision = self.plan_output(rel, key, rel)
            if decision == "write":
                planned.append((item, entries, key, title))
            elif decision == "unchanged":
                self.report.unchanged.append(rel)
        self.store.declare(item.output_path for item, _, _, _ in planned)  # one journal flush for them all
        for item, entries, key, title in planned:

            def make(item: SourceFile = item, entries: list[tuple[str, str]] = entries) -> bytes:
                return self._renderer().render_listing(item, entries).encode("utf-8")

            if self.make_and_write(item.output_path, key, make, item.output_path, title):
                self.report.built.append(item.output_path)

    def extra_files(self) -> None:
        """Files copied from the source tree, litdoc's own theme files, the sitemap: each keyed by its bytes."""
        planned = []
        for rel, content, label in _extra_files(self.config, self.tree):
            try:
                if isinstance(content, Path):
                    digest, data = self.hashes.digest(os.fspath(content))
                else:
                    digest, data = sha256(content), content
            except OSError as error:
                self.report.failed.append(f"{label}: cannot read: {error.strerror or error}")
                self.store.keep_previous(rel)
                continue
            if self.plan_output(rel, digest, label) == "write":
                planned.append((rel, digest, data, content, label))
        self.store.declare(rel for rel, _, _, _, _ in planned)
        for rel, digest, data, content, label in planned:

            def make(data: bytes | None = data, content: bytes | Path = content) -> bytes:
                # A remembered hash: read the file to copy it (its key is the hash of what was read).
                return data if data is not None else read_bytes(str(content))

            if self.make_and_write(rel, digest, make, label):
                self.report.copied.append(rel)

    def site_wide(self) -> None:
        """The search index (from every page's row, remembered in the cache, so no source is read again),
        the theme's colour overrides, the 404 page and the math font cut to the site's glyphs
        (`litdoc.extras`), each keyed by its bytes (the font by what it is cut from)."""
        from litdoc import extras

        rows = [self.search[rel] for rel in sorted(self.search)]
        outputs: list[tuple[str, str, Callable[[], bytes], str]] = [
            (rel, sha256(data), functools.partial(bytes, data), label)
            for rel, data, label in extras.theme_files(self._renderer())
        ]
        # The search index is a pure function of the rows (and of the code that lays it out, which the
        # base key hashes): with the same rows as last time its files are carried over, all or none,
        # without being made again (most of a no-op build's time went to remaking them).
        store = self.store
        search_key = hashlib.sha256("\n".join([self.base_key, *rows]).encode("utf-8", "surrogateescape")).hexdigest()
        index_files = json.loads(store.previous_fields(search.INDEX_PATH).get("files", "[]"))
        if not (index_files and store.unchanged_together(index_files, search_key)):
            made = extras.search_files(rows)
            index_files = [rel for rel, _, _ in made]
            outputs += [(rel, search_key, functools.partial(bytes, data), label) for rel, data, label in made]
        remember = {search.INDEX_PATH: {"files": json.dumps(index_files)}}
        font = self._renderer().markup.engine.site_font(self.glyphs[rel] for rel in sorted(self.glyphs))
        if font is not None:
            rel, key, make = font
            outputs.append((rel, key, functools.partial(cached_font, self.config.cache, key, make), "math assets"))
        planned = [output for output in outputs if self.plan_output(output[0], output[1], output[3]) == "write"]
        self.store.declare(rel for rel, _, _, _ in planned)  # one journal flush for them all
        for rel, key, make, label in planned:
            if self.make_and_write(rel, key, make, label, remember=remember.get(rel)):
                self.report.copied.append(rel)


def build_site(config: Config, options: BuildOptions = BuildOptions(), stream: TextIO | None = None) -> BuildReport:
    """Build `config.source` into `config.output`. Raises `LitdocError` only for problems that stop the
    whole build (a foreign or locked output folder, an unreadable manifest, a full disk); a bad page is
    counted in the report and the other pages are still built. Progress goes to `stream`, by default the
    `sys.stderr` of the moment of the call (not of litdoc's import, which a caller may since have closed)."""
    stream = sys.stderr if stream is None else stream
    if options.jobs < 0:
        raise LitdocError("command line", 0, f"--jobs must be 0 (one per CPU) or more, not {options.jobs}")
    started = time.perf_counter()
    with Store(config.output, force=options.force, durable=options.durable, cache=config.cache) as store:
        build = _Build(config, options, store, stream)
        build.render_pages(build.plan_pages())
        build.listings()
        build.extra_files()
        build.site_wide()
        build.hashes.save()
        build.formulas_cache.save(name for names in build.formulas.values() for name in names.split())
        report = build.report
        report.removed, report.kept = store.commit()
    report.failed.sort()
    report.seconds = time.perf_counter() - started
    return report


def _extra_files(config: Config, tree: SiteTree) -> list[tuple[str, bytes | Path, str]]:
    """(output path, content, label for messages) of every non-page file: assets, theme, math, sitemap.
    The content of a file copied from the source tree is its path, read only if it must be copied."""
    from litdoc.highlight import pygments_css

    files: list[tuple[str, bytes | Path, str]] = []
    for item in tree.assets:
        files.append((item.output_path, config.source / item.source_path, item.source_path))
    theme = site.THEME_DIR
    # The theme's static files, then the project's `templates/static/`: a file of the same name replaces
    # the theme's (its CSS, say), and any other file is added beside them.
    statics: dict[str, tuple[bytes | Path, str]] = {}
    own = Path(__file__).parent / "theme" / "static"
    for path in sorted(own.rglob("*")):
        if path.is_file():
            statics[path.relative_to(own).as_posix()] = (path.read_bytes(), "theme")
    project_static = config.templates / "static" if config.templates is not None else None
    if project_static is not None and project_static.is_dir():
        for path in sorted(project_static.rglob("*")):
            if path.is_file() and not path.is_symlink():
                statics[path.relative_to(project_static).as_posix()] = (path, os.path.relpath(path, config.project))
    for name, (content, label) in sorted(statics.items()):
        files.append((f"{theme}/{name}", content, label))
    files.append((f"{theme}/pygments.css", pygments_css().encode("utf-8"), "theme"))
    for dest, content in config.math_engine().assets():  # the font is cut to the site's glyphs: site_wide
        files.append((dest, content, "math assets"))
    # GitHub Pages runs Jekyll, which would drop the `_litdoc` folder without this marker.
    files.append((".nojekyll", b"", "site"))
    if config.base_url:
        pages = [f.output_path for f in tree.files if f.kind != site.ASSET]
        files.append((site.SITEMAP, site.sitemap_xml(config.base_url, pages).encode("utf-8"), "sitemap"))
    return files
