# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The output folder: which files in it are litdoc's, and the only code that writes or deletes there.

**Invariant** (crash consistency, like git's index). Every file or folder in the output that litdoc
created or replaced is named by the manifest (`.litdoc-manifest.json`, with the SHA-256 of the bytes
litdoc wrote) or by the journal (`.litdoc-journal`). A path is appended to the journal, and the journal
flushed to disk, *before* the file or folder is created or replaced; the manifest is replaced atomically
(temporary file, fsync, rename) at the end of a build, and only then is the journal deleted. So whatever
instant a build dies at (kill -9, Ctrl-C, power loss, a full disk), every path it touched is accounted
for. The next build, under the lock, reads both: a journaled path that exists is taken as litdoc's with
unknown bytes (a page is rendered again, a folder removed if no page needs it), its temporary file is
deleted, and the build then ends exactly as a build from scratch would. Nothing outside
manifest and journal is ever overwritten or deleted: files another build or the user put there (a
nested site, a `.nojekyll`) are left alone by writes, stale removal, recovery and `--force`.

**What is committed.** The manifest lies in the output folder, which a project may commit (its `docs/`),
so it holds only what follows from the bytes litdoc wrote: each file's SHA-256, a page's title and source
path, the folders litdoc made and the user's files. What a build remembers to skip work next time (each
output's key, which hashes litdoc's own code and the versions of the libraries that render it; a page's
search row and math glyphs; the errors of failed pages) goes to the cache folder instead
(`outputs-<output folder's hash>.json`, not committed). So the committed output changes only when an output's
bytes change: a new fontTools release or an edited comment in litdoc leaves it as it is. A cache entry is
trusted only together with the manifest entry whose SHA-256 it repeats, so a lost, stale or foreign cache
costs a rebuild (of the same bytes), never a wrong page; it is written after the manifest.

Rules that follow from it:

* litdoc overwrites or deletes a file only when the manifest names it *and* it still has the bytes litdoc
  wrote (or the journal names it); an edited file becomes the user's and is left in place.
* litdoc removes a folder only when it created it (the manifest's `folders`) and it is empty.
* `--force` into a folder litdoc did not make: the files already at paths litdoc wants are recorded as
  the user's (`user`) and skipped, with a warning, by this build and every later one.
* One build at a time: `.litdoc-lock`, held with `flock` (released by the kernel when the holder dies,
  so a stale lock from a dead process is simply taken over). A second build exits with one line naming
  the holder.
* Durability (power loss): the journal is fsynced before the files it names are made; each file litdoc
  writes is on disk before the manifest that names it is replaced (the journal already names the file,
  so until the manifest is replaced a power loss leaves it as "litdoc's, bytes unknown"), and so are the
  new entries of the folders it renamed files into; then the manifest itself is fsynced. On Linux, with
  little other unwritten data on the machine (`SYNCFS_DIRTY_LIMIT`), that is one `syncfs` per file
  system of the output just before the manifest: a few hundred fsyncs, each a journal commit, made the
  file system slow for the build's own writes while they ran (a tenth of a 223-page build). Elsewhere,
  or with more unwritten data (which `syncfs` would wait for too), each file is fsynced by a few
  background threads while the build goes on, then each folder a rename changed. Never `os.sync()`,
  which flushes every disk of the machine. A build that writes the same bytes again writes, and flushes,
  nothing. So after a power loss no file the manifest names holds other bytes, and every file that may
  hold half of a write is named by the journal.

**API** (all paths are output-relative and '/'-separated):

```python
with Store(output, force=False, cache=folder) as store:   # takes the lock, repairs an interrupted build
    if store.unchanged(rel, key):              # same inputs as last time: the entry is carried over
        row = store.remembered(rel)            # what was remembered with it (search row, glyphs)
    refusal = store.refusal(rel)               # None, or why rel may not be written (.user: a warning only)
    store.declare([rel, ...])                  # optional: journal many paths with one fsync
    store.write(rel, data, key=key, remember={"search": row}, title=t)
                                               # atomic; `remember` goes to the cache, other str fields
                                               # (title, source) to the manifest entry
    store.keep_previous(rel)                   # a failed output: its last version stays litdoc's
    store.fail(rel, key, error)                # remember an error, reported again while `key` holds
    removed, kept = store.commit()             # stale removal, then the manifest, then the journal goes
```

A site-wide output (a sitemap, a search index, a 404 page) is one more `store.write` with a key made of
what it depends on; whatever a build does not write or carry over by `unchanged` is stale at `commit`
and removed. An `OSError` while writing (full disk, read-only folder) becomes a `StoreError` naming the
path; the build stops, and the journal lets the next build finish the job.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import posixpath
import secrets
import socket
import stat as stat_module
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from litdoc.model import LitdocError

try:  # POSIX; on Windows the lock falls back to msvcrt's byte-range lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MANIFEST_NAME = ".litdoc-manifest.json"
JOURNAL_NAME = ".litdoc-journal"
LOCK_NAME = ".litdoc-lock"
# Seconds a build that finds the lock held waits for the holder's "pid N on host" line (written just
# after the lock is taken) before it names the holder as another program.
HOLDER_TEXT_WAIT = 2.0
MANIFEST_FORMAT = "litdoc-manifest/3"
# Format 1 recorded no folders and no user files; formats 1 and 2 kept keys, search rows and glyphs
# beside each file. Both are read (those fields dropped: the next build renders again) and rewritten as 3.
_READABLE_FORMATS = ("litdoc-manifest/1", "litdoc-manifest/2", MANIFEST_FORMAT)
# The fields of a manifest entry: what follows from the bytes written. Anything else is the cache's.
_MANIFEST_FIELDS = ("sha256", "title", "source")
OUTPUTS_CACHE_FORMAT = "litdoc-outputs/1"
_OWN_NAMES = (MANIFEST_NAME, JOURNAL_NAME, LOCK_NAME)
_TEMPORARY_SUFFIX = ".litdoc-tmp"


class StoreError(LitdocError):
    """The output folder cannot be used or written (locked, foreign, full, read-only)."""


class LockedError(StoreError):
    """Another process holds the output folder's lock: the same build may succeed once it is gone."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_relpath(path: str) -> bool:
    """True for a plain relative '/'-path that stays inside the output (a manifest is not trusted).
    A backslash is an ordinary character of a POSIX file name, and a separator on Windows."""
    return (
        bool(path)
        and isinstance(path, str)
        and not path.startswith("/")
        and "\0" not in path
        and (os.sep == "/" or "\\" not in path)
        and posixpath.normpath(path) == path
        and path != ".."
        and not path.startswith("../")
        and path not in _OWN_NAMES
    )


# Every file litdoc creates or writes in the output is opened with these: a symlink planted at its
# name fails the open (ELOOP) instead of being followed to a file outside the output.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def _temporary(path: Path, token: str) -> Path:
    """The temporary file of a write to `path`: `.<name>.<token>.litdoc-tmp`. `token` is random (one per
    build, journaled before its first temporary, so recovery can find them): a name no one can plant a
    file or a symlink at in advance, and it is created with O_EXCL anyway."""
    return path.with_name(f".{path.name}.{token}{_TEMPORARY_SUFFIX}")


def new_token() -> str:
    return secrets.token_hex(8)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder; NTFS journals its renames
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    """Flush a file litdoc has written and renamed into place (its bytes, not its folder's entry)."""
    flags = (
        (os.O_RDONLY | _NOFOLLOW) if os.name == "posix" else (os.O_RDWR | _BINARY)
    )  # Windows flushes a writable handle
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return  # replaced by a folder later in the build: nothing of it is left to flush
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Threads that flush written files while the build goes on: an fsync waits on the disk, not the CPU, and
# concurrent ones share the file system's journal commits.
_FLUSH_THREADS = 4

# Above this much unwritten data on the machine (/proc/meminfo's Dirty), a build flushes its files one by
# one rather than its output's whole file system, which would wait for the others' data too.
SYNCFS_DIRTY_LIMIT = 64 * 2**20


def _syncfs_function() -> Callable[[int], int] | None:
    """libc's `syncfs(fd)` (Linux: flush the file system that holds fd), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (ImportError, OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast(Callable[[int], int], function)


def _dirty_bytes() -> int | None:
    """The machine's data written but not yet on disk, from /proc/meminfo; None where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as meminfo:
            for line in meminfo:
                if line.startswith("Dirty:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _syncfs(folder: Path, syncfs: Callable[[int], int]) -> None:
    """Flush the file system holding `folder`; an error (EIO, ENOSPC: Linux 5.8 and later report the
    write-back errors since the folder was opened) is raised as OSError."""
    import ctypes

    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if syncfs(fd) != 0:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, durable: bool = True, token: str = "") -> None:
    """`data` to a new temporary file beside `path` (O_EXCL, never following a symlink), fsynced, then
    renamed over it: a reader (or a crash) sees the old bytes or the new ones, never half a file. The
    rename replaces a symlink at `path` itself, never the file it points to."""
    temporary = _temporary(path, token or new_token())
    created = False
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o644)
        created = True
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        if created:  # only the file this call made: O_EXCL failing means the name was someone else's
            try:
                temporary.unlink()
            except OSError:
                pass
        raise


def _own_file(path: Path, flags: int) -> int:
    """Open one of litdoc's own files in the output (the lock, the journal) for writing: never through a
    symlink, and only a plain file with no other hard link (truncating or appending to one would change
    the file it is linked to, which may lie outside the output). Raises StoreError otherwise."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _BINARY, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP or os.path.islink(path):
            raise StoreError(str(path), 0, _SYMLINK_REASON) from None
        raise
    info = os.fstat(fd)
    if not stat_module.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        raise StoreError(
            str(path),
            0,
            "not a plain file litdoc made (a hard link or a special file); litdoc did not touch it: "
            "remove it and run again",
        )
    return fd


_SYMLINK_REASON = "is a symlink, which litdoc never makes; litdoc did not follow it: remove it and run again"


def inside(root: Path, path: Path) -> bool:
    """True when `path` (following any symlinked folders on the way) lies inside `root` and is not
    itself a symlink."""
    try:
        path.parent.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return not path.is_symlink()


@dataclass(frozen=True)
class Refusal:
    """Why a path may not be written. `user`: it is a file the user had there before `--force`; the
    build skips it with a warning. Otherwise the output fails with `reason`."""

    reason: str
    user: bool = False


@dataclass
class Manifest:
    """`files`: path -> {"sha256", and "title"/"source" for a page}; `folders`: folders litdoc created;
    `user`: paths that are the user's (see `--force`). Nothing in it depends on litdoc's code or the
    libraries' versions: see "What is committed" above."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    user: set[str] = field(default_factory=set)


@dataclass
class Remembered:
    """The cache's half of a build's record (see "What is committed"): `files`: path -> {"sha256" (that
    of the manifest entry it goes with), "key", and what the build asked to remember}; `failed`: path ->
    {"key", "error"} for pages that failed on a user's mistake."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)


def read_cache_table(path: Path | None, form: str, field: str, **expected: str) -> dict[str, Any]:
    """The table `field` of a JSON file in the cache folder (`write_cache_table`), or {} when there is
    none, it cannot be read, or another format or another `expected` value (litdoc's code, say) wrote it:
    a cache that misses costs work, never a wrong output."""
    try:
        data = json.loads(path.read_bytes()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != form:
        return {}
    if any(data.get(name) != value for name, value in expected.items()):
        return {}
    table = data.get(field)
    return table if isinstance(table, dict) else {}


def write_cache_table(path: Path, form: str, field: str, table: dict[str, Any], **fields: str) -> None:
    """Keep `table` in the cache folder (atomically, not flushed: a lost cache costs work again). A folder
    that cannot be written (a read-only project) is no error: the next build does the work again."""
    data = json.dumps({"format": form, **fields, field: table}, sort_keys=True).encode("ascii")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, durable=False)
    except OSError:
        pass


def outputs_cache_path(cache: Path, output: Path) -> Path:
    """One cache file per output folder, so that two sites built from one project (or a test's many
    outputs) never read each other's keys."""
    return cache / f"outputs-{sha256(os.fsencode(output.resolve()))[:16]}.json"


def read_remembered(path: Path | None, output: Path) -> Remembered:
    """The cache's record; empty when there is none or it cannot be read (a rebuild, nothing worse)."""
    if path is None:
        return Remembered()
    try:
        data = json.loads(path.read_bytes().decode("utf-8", "surrogateescape"))
    except (OSError, ValueError):
        return Remembered()
    if (
        not isinstance(data, dict)
        or data.get("format") != OUTPUTS_CACHE_FORMAT
        or data.get("output") != os.fsdecode(os.fsencode(output.resolve()))
    ):
        return Remembered()
    files = {rel: entry for rel, entry in _string_entries(data.get("files")).items() if {"sha256", "key"} <= set(entry)}
    failed = {
        rel: entry for rel, entry in _string_entries(data.get("failed")).items() if {"key", "error"} <= set(entry)
    }
    return Remembered(files, failed)


def remembered_bytes(remembered: Remembered, output: Path) -> bytes:
    data = {
        "format": OUTPUTS_CACHE_FORMAT,
        "output": os.fsdecode(os.fsencode(output.resolve())),
        "files": remembered.files,
        "failed": remembered.failed,
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogateescape")


def _string_entries(table: object) -> dict[str, dict[str, str]]:
    if not isinstance(table, dict):
        return {}
    return {
        rel: dict(entry)
        for rel, entry in table.items()
        if safe_relpath(rel) and isinstance(entry, dict) and all(isinstance(v, str) for v in entry.values())
    }


def _path_list(value: object) -> set[str]:
    return {rel for rel in value if safe_relpath(rel)} if isinstance(value, list) else set()


def read_manifest(output: Path) -> Manifest | None:
    """The manifest, `None` when there is none. Entries with unsafe paths are dropped, so a tampered
    manifest cannot make litdoc delete anything outside the output folder."""
    path = output / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise StoreError(str(path), 0, f"not a litdoc manifest ({error}); {_REBUILD_ADVICE}") from None
    except OSError as error:
        raise StoreError(str(path), 0, f"cannot read the manifest: {error.strerror}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") not in _READABLE_FORMATS
        or not isinstance(data.get("files"), dict)
    ):
        raise StoreError(str(path), 0, f"not a {MANIFEST_FORMAT} manifest; {_REBUILD_ADVICE}")
    files = {
        rel: {name: entry[name] for name in _MANIFEST_FIELDS if name in entry}
        for rel, entry in _string_entries(data["files"]).items()
        if "sha256" in entry
    }
    if data["format"] != "litdoc-manifest/1":
        folders = _path_list(data.get("folders"))
    else:
        # Format 1 did not say which folders litdoc made: those holding its files are taken as its own.
        folders = {folder for rel in files for folder in _ancestors(rel) if (output / folder).is_dir()}
    return Manifest(files, folders, _path_list(data.get("user")))


_REBUILD_ADVICE = (
    "run `litdoc build --force` to rebuild it (the files that still hold the bytes its readable lines, "
    "or the cache, record are litdoc's again; any other file is kept as yours)"
)


def salvage_manifest(output: Path) -> Manifest | None:
    """What can still be read of a damaged manifest (a torn write, a merge conflict's markers in a
    committed one), line by line: each line of `files` that parses as an entry, and each path of `user`.
    Nothing in it is trusted as it stands: `Store._take_back` keeps an entry only for a file that still
    has the SHA-256 it names. None when there is no manifest."""
    try:
        raw = (output / MANIFEST_NAME).read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(str(output / MANIFEST_NAME), 0, f"cannot read the manifest: {error.strerror}") from None
    manifest = Manifest()
    section = ""
    for line in raw.splitlines():
        stripped = line.strip().rstrip(",")
        if stripped.startswith('"') and stripped.endswith(("{", "[")):
            section = stripped.split('"')[1]  # '"files": {' or '"user": ['
            continue
        try:
            value = json.loads("{" + stripped + "}" if section == "files" else stripped)
        except ValueError:
            continue
        if section == "files" and isinstance(value, dict):
            manifest.files.update(
                (rel, {name: entry[name] for name in _MANIFEST_FIELDS if name in entry})
                for rel, entry in _string_entries(value).items()
                if "sha256" in entry
            )
        elif section == "user" and isinstance(value, str) and safe_relpath(value):
            manifest.user.add(value)
    return manifest


def _remove_temporary(target: Path, token: str) -> None:
    """Delete the temporary file a build with `token` left for `target`: only a plain file (what
    atomic_write makes), never a symlink or a folder someone put at that name."""
    temporary = _temporary(target, token)
    try:
        if stat_module.S_ISREG(os.lstat(temporary).st_mode):
            temporary.unlink()
    except OSError:
        pass


def manifest_bytes(manifest: Manifest) -> bytes:
    """Sorted JSON with one file per line: small diffs when the output is committed, and each line is
    encoded by json's C encoder (`indent=` would switch to the slow pure-Python one). Nothing in it
    depends on the time or on the order of the build, so a rebuild and a scratch build agree."""

    def table(name: str, entries: dict[str, dict[str, str]]) -> str:
        rows = [
            f"  {json.dumps(rel, ensure_ascii=False)}: {json.dumps(entries[rel], sort_keys=True, ensure_ascii=False)}"
            for rel in sorted(entries)
        ]
        return f' "{name}": {{\n' + ",\n".join(rows) + "\n }" if rows else f' "{name}": {{}}'

    def paths(name: str, values: set[str]) -> str:
        rows = [f"  {json.dumps(rel, ensure_ascii=False)}" for rel in sorted(values)]
        return f' "{name}": [\n' + ",\n".join(rows) + "\n ]"

    # No generator version: a release of litdoc that writes the same bytes leaves the manifest as it is.
    parts = [f' "format": "{MANIFEST_FORMAT}"', table("files", manifest.files)]
    if manifest.folders:
        parts.append(paths("folders", manifest.folders))
    if manifest.user:
        parts.append(paths("user", manifest.user))
    # surrogateescape: a POSIX file name that is not UTF-8 is kept byte for byte.
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8", "surrogateescape")


def _ancestors(rel: str) -> list[str]:
    """'a/b/c.html' -> ['a', 'a/b'], outermost first; the output root itself is never one."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _describe(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write there ({error.strerror})"
    return error.strerror or str(error)


# The descriptors of the locks this process holds. A worker forked from the build (`build.pool_start_method`)
# would share each one's open file, and with it the flock: after a kill -9 of the build its workers, which
# take up to half a second to notice, would keep the folder locked. A forked child closes them first.
_HELD_LOCK_FDS: set[int] = set()


def _close_held_locks_in_child() -> None:
    for fd in _HELD_LOCK_FDS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCK_FDS.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_close_held_locks_in_child)


class _Lock:
    """`.litdoc-lock` held with flock (or msvcrt.locking on Windows) for the whole build. The file holds
    the holder's pid and host for the message a second build prints; it is removed on release."""

    def __init__(self, output: Path):
        self.path = output / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> None:
        while True:
            fd = _own_file(self.path, os.O_RDWR | os.O_CREAT)
            try:
                locked = self._try_lock(fd)
            except BaseException:
                os.close(fd)
                raise
            if not locked:
                holder = self._holder(fd)
                os.close(fd)
                raise LockedError(str(self.path.parent), 0, holder)
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(self.path))
            except OSError:
                same = False
            if not same:  # the holder removed the file as we opened it: lock the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
            self.fd = fd
            _HELD_LOCK_FDS.add(fd)
            return

    @staticmethod
    def _try_lock(fd: int) -> bool:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
                return False
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
                return True  # a file system without locks (some network mounts): build unguarded, as before
            raise
        return True

    def _holder(self, fd: int) -> str:
        """Why the lock cannot be taken, naming the process that holds it. The file's text names the
        litdoc build that wrote it, but a process that is not litdoc may hold the lock (or a dead build's
        text may still be there): the kernel's table of locks (Linux: /proc/locks) says who holds it.
        A build writes its text just after it takes the lock, so a holder whose text is not there yet
        is given HOLDER_TEXT_WAIT seconds to write it before it is called another program."""
        deadline = time.monotonic() + HOLDER_TEXT_WAIT
        while True:
            text = _read_head(fd)
            claimed = text.split()[1] if text.startswith("pid ") and len(text.split()) > 1 else ""
            pid = _flock_holder(fd)
            if pid is None or str(pid) == claimed or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if pid is None or str(pid) == claimed:
            who = f"another litdoc build ({text})" if claimed else "another process"
            return f"{who} is writing this folder; run again when it has finished"
        return (
            f"process {pid} ({_process_name(pid)}), which is not a litdoc build, holds {self.path}; "
            "run again when it has let it go"
        )

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            # Only the file this build locked: never a file or a symlink put at its name since.
            same = os.path.samestat(os.fstat(self.fd), os.lstat(self.path))
        except OSError:
            same = False
        unlinked = False
        if same:
            try:
                self.path.unlink()  # while still holding it, so no one locks a file about to vanish
                unlinked = True
            except OSError:
                pass  # Windows removes no open file: close first, then remove
        _HELD_LOCK_FDS.discard(self.fd)
        os.close(self.fd)
        self.fd = None
        if same and not unlinked:
            try:
                self.path.unlink()
            except OSError:
                pass


def _read_head(fd: int) -> str:
    """The first line or so of an open file, as text ("" if it cannot be read)."""
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() if hasattr(os, "pread") else ""
    except OSError:
        return ""


def _flock_holder(fd: int) -> int | None:
    """The pid holding a lock on the file open as `fd`, from /proc/locks (Linux); None elsewhere."""
    try:
        info = os.fstat(fd)
        with open("/proc/locks", encoding="ascii", errors="replace") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF"; a waiter's line has "->" after the number.
        if "->" in fields:
            continue
        if len(fields) >= 6 and fields[5] == wanted and fields[4].isdigit():
            return int(fields[4])
    return None


def _process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().strip() or "unknown"
    except OSError:
        return "unknown"


class Store:
    """The output folder of one build; see the module's docstring for the invariant and the API."""

    def __init__(self, output: Path, force: bool = False, durable: bool = True, cache: Path | None = None):
        self.output = output
        self.cache_path = outputs_cache_path(cache, output) if cache is not None else None
        self.remembered = Remembered()  # the cache's record of the last build (see "What is committed")
        self.new_remembered = Remembered()
        self.force = force
        self.durable = durable  # fsync files and folders (off only in tests that kill builds)
        self.old = Manifest()
        self.owned: dict[str, dict[str, str]] = {}  # what litdoc may overwrite: old files + recovered
        self.recovered: set[str] = set()  # journaled paths: litdoc's, bytes unknown
        self.new = Manifest()
        self.created: set[str] = set()  # folders litdoc made (old manifest + recovered + now)
        self.journaled: set[str] = set()
        self._journal: int | None = None
        self._renamed_in: set[Path] = set()  # folders whose entries a rename changed (fsynced at commit)
        self._flusher: ThreadPoolExecutor | None = None  # fsyncs written files (see Durability)
        self._flushes: list[tuple[Path, Future[None]]] = []
        # Durable files are flushed by one syncfs per file system at commit where Linux has it and the
        # machine holds little other unwritten data; else each by its own fsync (see Durability).
        self._syncfs = _syncfs_function() if durable else None
        if self._syncfs is not None and (_dirty_bytes() or 0) > SYNCFS_DIRTY_LIMIT:
            self._syncfs = None
        self._lock = _Lock(output)
        self.token = new_token()  # names this build's temporary files (see _temporary)
        # Folders `refusal` found to be real folders (not symlinks) this build: not looked at again for
        # each of their files. Only litdoc changes the output while it holds the lock, and it never
        # makes a symlink; the files themselves are still opened without following one.
        self._real_folders: set[str] = set()

    # ----- opening: lock, manifest, recovery --------------------------------------------------

    def __enter__(self) -> Store:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        output = self.output
        if output.exists() and not output.is_dir():
            raise StoreError(str(output), 0, "output exists and is not a folder")
        # Refuse before touching anything: no lock file is made in a folder that is refused.
        self._refuse_folder(self._has_record())
        try:
            output.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except OSError as error:
            raise StoreError(str(output), 0, f"cannot use the output folder: {_describe(error)}") from None
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    def _has_record(self) -> bool:
        """Whether the folder holds a manifest or a journal (checked again under the lock)."""
        return any(os.path.lexists(self.output / name) for name in (MANIFEST_NAME, JOURNAL_NAME))

    def _refuse_folder(self, has_record: bool) -> None:
        """A folder with a symlink at one of litdoc's own names, or a non-empty folder litdoc did not
        make (unless --force), is refused."""
        output = self.output
        if not output.is_dir():
            return
        for name in _OWN_NAMES:
            if (output / name).is_symlink():
                raise StoreError(str(output / name), 0, _SYMLINK_REASON)
        if has_record or self.force:
            return
        if any(entry not in _OWN_NAMES for entry in os.listdir(output)):
            if self._has_record():
                # Another build started since `has_record` was read: it journals each file before it
                # makes it, so its files come with its journal (or, once it is done, its manifest).
                # The lock, taken next, says whether it is still writing.
                return
            raise StoreError(
                str(output),
                0,
                "refusing to write into a non-empty folder that litdoc did not make "
                "(no .litdoc-manifest.json); pass --force to write beside its files",
            )

    def _load(self) -> None:
        output = self.output
        journal = self._read_journal()
        tokens = [rel for kind, rel in journal if kind == "t"]
        if any(kind == "force" for kind, _ in journal):
            # A --force build was interrupted: this one finishes its job, so the files it found at
            # paths litdoc wants are still the user's (and not "litdoc did not write it").
            self.force = True
        salvaged = False
        try:
            manifest = read_manifest(output)
        except StoreError:
            if not self.force:
                raise
            manifest, salvaged = salvage_manifest(output), True
        if manifest is None and not journal:
            self._refuse_folder(False)
        self.old = manifest or Manifest()
        self.remembered = read_remembered(self.cache_path, output)
        self.owned = {rel: dict(entry) for rel, entry in self.old.files.items()}
        if salvaged or (manifest is None and self.force):
            self._take_back()
        self.created = set(self.old.folders)
        self.new.user = set(self.old.user)
        for token in tokens:  # the manifest's temporary file, if the build died replacing it
            _remove_temporary(output / MANIFEST_NAME, token)
        for kind, rel in journal:
            target = output / rel
            if kind == "d":
                if target.is_dir() and not target.is_symlink():
                    self.created.add(rel)
                continue
            if kind != "f":
                continue
            for token in tokens:
                if inside(output, target):
                    _remove_temporary(target, token)  # half of a write the last build did not finish
            if inside(output, target) and target.is_file():
                entry = self.owned.get(rel, {})
                self.owned[rel] = {"sha256": "", **({"title": entry["title"]} if "title" in entry else {})}
                self.recovered.add(rel)
                self.new.user.discard(rel)
        if self.force:
            self._append([json.dumps(["force", ""]).encode() + b"\n"])

    def _take_back(self) -> None:
        """--force over a corrupt or missing manifest: the files that still hold the bytes the readable
        part of the manifest, or the cache, records for them are litdoc's again; any other file at a path
        litdoc wants stays the user's (as --force promises). A salvaged entry or a cache entry is trusted
        only for a file whose SHA-256 it names, so this never takes a file someone changed."""
        output = self.output
        candidates = dict(self.owned)
        for rel, entry in self.remembered.files.items():
            candidates.setdefault(rel, {"sha256": entry["sha256"]})
        self.owned = {}
        for rel, entry in candidates.items():
            target = output / rel
            try:
                if inside(output, target) and target.is_file() and _file_sha256(target) == entry["sha256"]:
                    self.owned[rel] = entry
                    self.old.user.discard(rel)
            except OSError:
                continue
        # The folders holding its files are taken as its own, as for a format 1 manifest.
        self.old.folders |= {folder for rel in self.owned for folder in _ancestors(rel) if (output / folder).is_dir()}
        self.old.files = dict(self.owned)

    def _read_journal(self) -> list[tuple[str, str]]:
        path = self.output / JOURNAL_NAME
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _BINARY)
        except FileNotFoundError:
            return []
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise StoreError(str(path), 0, _SYMLINK_REASON) from None
            raise StoreError(str(path), 0, f"cannot read the journal: {error.strerror}") from None
        try:
            if not stat_module.S_ISREG(os.fstat(fd).st_mode):
                raise StoreError(str(path), 0, "not a plain file litdoc made; remove it and run again")
            with os.fdopen(os.dup(fd), "rb") as handle:
                raw = handle.read()
        finally:
            os.close(fd)
        entries = []
        for line in raw.split(b"\n"):
            try:
                kind, rel = json.loads(line.decode("utf-8", "surrogateescape"))
            except (ValueError, TypeError):
                continue  # the torn last line of a build that died while appending: nothing was made for it
            if kind in ("f", "d") and isinstance(rel, str) and safe_relpath(rel):
                entries.append((kind, rel))
            elif kind == "t" and isinstance(rel, str) and rel.isalnum():
                entries.append((kind, rel))
            elif kind == "force":
                entries.append((kind, ""))
        return entries

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.shutdown(wait=True)
            self._flusher = None
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None
        self._lock.release()

    # ----- planning ---------------------------------------------------------------------------

    def previous(self, rel: str) -> dict[str, str] | None:
        """The manifest entry of the last build for `rel` (None for a recovered or unknown path)."""
        return None if rel in self.recovered else self.old.files.get(rel)

    def unchanged(self, rel: str, key: str) -> bool:
        """True, and the entry carried over, when the last build made `rel` from the same inputs and the
        file is still there: the cache remembers `key` for the very bytes the manifest names."""
        return self.unchanged_together([rel], key)

    def unchanged_together(self, rels: Sequence[str], key: str) -> bool:
        """`unchanged` for files made together (a page and its notebook, the search index's files): all
        carried over, or none."""
        entries = [self._carried(rel, key) for rel in rels]
        if any(entry is None for entry in entries):
            return False
        for rel, entry in zip(rels, entries):
            self.new.files[rel] = entry  # type: ignore[assignment]
            self.new_remembered.files[rel] = self.remembered.files[rel]
        return True

    def _carried(self, rel: str, key: str) -> dict[str, str] | None:
        """The manifest entry of `rel` when the last build made it from inputs with `key`, else None."""
        entry = self.previous(rel)
        remembered = self.remembered.files.get(rel)
        if (
            not key
            or entry is None
            or remembered is None
            or remembered["key"] != key
            or remembered["sha256"] != entry["sha256"]
            or not (self.output / rel).is_file()
        ):
            return None
        return entry

    def previous_fields(self, rel: str) -> dict[str, str]:
        """What the last build asked to remember with `rel` (`write`'s `remember`)."""
        return dict(self.remembered.files.get(rel) or {})

    def remembered_fields(self, rel: str) -> dict[str, str]:
        """What the build asked to remember with `rel` (`write`'s `remember`), for an output carried over
        by `unchanged`; empty otherwise."""
        return self.new_remembered.files.get(rel, {})

    def known_failure(self, rel: str, key: str) -> str | None:
        """The error of the last build for `rel`, when it failed on the same inputs; it is remembered again."""
        entry = self.remembered.failed.get(rel)
        if entry is None or entry["key"] != key:
            return None
        self.new_remembered.failed[rel] = entry
        return entry["error"]

    def fail(self, rel: str, key: str, error: str) -> None:
        """Remember that `rel` failed with `error` on inputs `key` (a user's mistake, not litdoc's bug)."""
        self.new_remembered.failed[rel] = {"key": key, "error": error}

    def refusal(self, rel: str) -> Refusal | None:
        """None when litdoc may (over)write `rel`; otherwise why not."""
        output = self.output
        target = output / rel
        real_folders = True  # every folder on the way exists and is no symlink
        for folder in _ancestors(rel):
            if folder in self._real_folders:
                continue
            path = output / folder
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                if folder in self.owned and path.is_file() and not path.is_symlink():
                    real_folders = False
                    continue  # litdoc's own stale file; it goes when the folder is made (see write)
                return Refusal(
                    f"refusing to write {rel}: litdoc needs a folder at {output / folder}, which is "
                    f"{'a symlink' if path.is_symlink() else 'a file'} litdoc did not make"
                )
            if path.is_dir():
                self._real_folders.add(folder)
            else:
                real_folders = False  # made when the file is written
        # Real folders all the way: the file's folder is inside the output; else resolve the path.
        if os.path.islink(target) if real_folders else not inside(output, target):
            return Refusal(f"refusing to write {rel}: it would land outside the output folder (a symlink?)")
        if not os.path.lexists(target):
            return None
        if rel in self.new.user or (rel not in self.owned and self.force):
            self.new.user.add(rel)
            return Refusal(
                f"{target} is the user's file (there before litdoc --force), so litdoc's is not written", user=True
            )
        if rel not in self.owned:
            return Refusal(f"refusing to overwrite {target}: litdoc did not write it")
        expected = self.owned[rel]["sha256"]
        if not target.is_file() or (expected and _file_sha256(target) != expected):
            return Refusal(
                f"refusing to overwrite {target}: it changed since litdoc wrote it (delete it to regenerate)"
            )
        return None

    # ----- writing ----------------------------------------------------------------------------

    def declare(self, rels: Iterable[str]) -> None:
        """Journal `rels` (and the folders they need) before writing them, with one flush for all."""
        lines = []
        for rel in rels:
            lines += self._journal_lines(rel)
        self._append(lines)

    def _journal_lines(self, rel: str) -> list[bytes]:
        lines = []
        for folder in _ancestors(rel):
            if folder not in self.journaled and not (self.output / folder).is_dir():
                self.journaled.add(folder)
                lines.append(json.dumps(["d", folder], ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n")
        if rel not in self.journaled:
            self.journaled.add(rel)
            lines.append(json.dumps(["f", rel], ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n")
        return lines

    def _append(self, lines: list[bytes]) -> None:
        """Append `lines` to the journal, flushed; with no lines, only make sure the journal exists."""
        if not lines and self._journal is not None:
            return
        path = self.output / JOURNAL_NAME
        try:
            if self._journal is None:
                self._journal = _own_file(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
                # This build's temporary names, before the first of them is made (see _temporary).
                lines = [json.dumps(["t", self.token]).encode() + b"\n"] + lines
            data = b"".join(lines)
            # A line torn by a crash is skipped by the reader; the path it named was not yet made.
            view = memoryview(b"\n" + data)
            while view:
                view = view[os.write(self._journal, view) :]
            if self.durable:
                os.fsync(self._journal)
        except OSError as error:
            raise StoreError(str(path), 0, f"cannot write: {_describe(error)}") from None

    def write(
        self,
        rel: str,
        data: bytes,
        key: str = "",
        *,
        remember: dict[str, str] | None = None,
        title: str = "",
        source: str = "",
    ) -> None:
        """Write `data` to `rel` atomically and record it: its SHA-256, a page's `title` and `source` in
        the manifest, its `key` and `remember` (what saves work next time) in the cache. The caller has asked
        `refusal(rel)` first. When litdoc's file there already holds these bytes (a build with no cache,
        say), it is left untouched: the same record, and no new modification time."""
        digest = sha256(data)
        fields = {name: value for name, value in (("title", title), ("source", source)) if value}
        old = self.owned.get(rel)
        target = self.output / rel
        if old is not None and old["sha256"] == digest and rel not in self.recovered and inside(self.output, target):
            try:
                same = target.is_file() and target.stat().st_size == len(data)
            except OSError:
                same = False
            if same:  # refusal() has checked that the file still holds the bytes the manifest names
                self._record(rel, digest, key, remember, fields)
                return
        self._append(self._journal_lines(rel))
        target = self.output / rel
        try:
            for folder in _ancestors(rel):
                path = self.output / folder
                if path.is_file() and not path.is_symlink() and folder in self.owned:
                    path.unlink()  # a page litdoc wrote where a folder is now needed
                    self.owned.pop(folder, None)
                if not path.is_dir():
                    path.mkdir()
                    self.created.add(folder)
            atomic_write(target, data, durable=False, token=self.token)
        except OSError as error:
            raise StoreError(str(target), 0, f"cannot write: {_describe(error)}") from None
        if self.durable and self._syncfs is None:  # flushed before the manifest names it (see Durability)
            if self._flusher is None:
                self._flusher = ThreadPoolExecutor(_FLUSH_THREADS, thread_name_prefix="litdoc-fsync")
            self._flushes.append((target, self._flusher.submit(_fsync_file, target)))
        self._renamed_in.add(target.parent)
        self._record(rel, digest, key, remember, fields)

    def _record(self, rel: str, digest: str, key: str, remember: dict[str, str] | None, fields: dict[str, str]) -> None:
        entry = {"sha256": digest, **fields}
        self.new.files[rel] = entry
        self.owned[rel] = entry
        self.new.user.discard(rel)
        if key:
            self.new_remembered.files[rel] = {**(remember or {}), "sha256": digest, "key": key}

    def keep_previous(self, rel: str) -> None:
        """`rel` failed this time: its previous version, if there is one, stays litdoc's with no key, so
        that the next build renders it again."""
        target = self.output / rel
        if rel not in self.owned or not target.is_file() or not inside(self.output, target):
            return
        old = self.owned[rel]
        digest = old["sha256"] or _file_sha256(target)
        # Kept in the manifest, forgotten by the cache: with no key, the next build renders it again.
        self.new.files[rel] = {"sha256": digest, **{name: old[name] for name in ("title", "source") if name in old}}

    # ----- committing -------------------------------------------------------------------------

    def commit(self) -> tuple[list[str], list[str]]:
        """Remove stale files and folders, write the manifest, drop the journal. Returns the files
        removed and the stale files kept because someone edited them."""
        output = self.output
        removed, kept = [], []
        for rel in sorted(set(self.owned) - set(self.new.files)):
            target = output / rel
            if not inside(output, target) or not target.is_file():
                continue
            expected = self.owned[rel]["sha256"]
            if expected and _file_sha256(target) != expected:
                kept.append(rel)  # edited by someone: theirs now, and no longer in the manifest
                continue
            # No journal line is needed: a crash after this leaves a manifest entry with no file, which
            # the next build drops.
            try:
                target.unlink()
            except OSError as error:
                raise StoreError(str(target), 0, f"cannot remove a stale file: {_describe(error)}") from None
            removed.append(rel)
        needed = {folder for rel in self.new.files for folder in _ancestors(rel)}
        for folder in sorted(self.created - needed, key=lambda f: -f.count("/")):  # deepest first
            path = output / folder
            if path.is_dir() and not path.is_symlink() and inside(output, path):
                try:
                    path.rmdir()  # only when empty: a user's file inside makes the folder theirs
                except OSError:
                    pass
        self.new.folders = {folder for folder in self.created & needed if (output / folder).is_dir()}
        self.new.user = {rel for rel in self.new.user if os.path.lexists(output / rel)}
        data = manifest_bytes(self.new)
        path = output / MANIFEST_NAME
        for target, flush in self._flushes:  # every written file is on disk before the manifest names it
            try:
                flush.result()
            except OSError as error:
                raise StoreError(str(target), 0, f"cannot write: {_describe(error)}") from None
        self._flushes = []
        try:
            if self.durable and self._syncfs is not None:
                self._sync_file_systems(self._syncfs)
            elif self.durable:
                for renamed_in in sorted(self._renamed_in):  # the renames reach the disk before the manifest
                    _fsync_folder(renamed_in)
            if not path.is_file() or path.read_bytes() != data:  # a no-op build writes nothing
                self._append([])  # its temporary file is named by the journal's token too
                atomic_write(path, data, durable=self.durable, token=self.token)
            if self._journal is not None:
                os.close(self._journal)
                self._journal = None
            journal = output / JOURNAL_NAME
            if journal.exists():
                journal.unlink()
                if self.durable:
                    _fsync_folder(output)
        except OSError as error:
            raise StoreError(str(path), 0, f"cannot write: {_describe(error)}") from None
        self._save_remembered()
        return removed, kept

    def _sync_file_systems(self, syncfs: Callable[[int], int]) -> None:
        """The files and renames of this build on disk: one syncfs per file system the written folders
        lie on (a folder of the output may be another file system's mount point)."""
        folders: dict[int, Path] = {}
        for folder in sorted(self._renamed_in):
            try:
                folders.setdefault(os.stat(folder).st_dev, folder)
            except FileNotFoundError:
                continue  # a folder emptied and removed since: nothing in it to flush
        for folder in folders.values():
            _syncfs(folder, syncfs)

    def _save_remembered(self) -> None:
        """The cache's record, after the manifest it goes with. Not durable and never an error: a lost or
        unwritable cache costs the next build a rebuild of the same bytes."""
        if self.cache_path is None:
            return
        files = {rel: entry for rel, entry in self.new_remembered.files.items() if rel in self.new.files}
        data = remembered_bytes(Remembered(files, self.new_remembered.failed), self.output)
        try:
            if self.cache_path.is_file() and self.cache_path.read_bytes() == data:
                return
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.cache_path, data, durable=False)
        except OSError:
            pass
