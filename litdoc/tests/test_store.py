"""`litdoc.store`: the journal and manifest invariant, the lock, folder ownership, and write failures,
checked on the store directly (the end-to-end kills are in test_faults.py)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import litdoc.store
from litdoc.store import JOURNAL_NAME, LOCK_NAME, MANIFEST_NAME, Store, StoreError


def test_a_build_writes_records_and_removes_its_stale_files(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    with Store(out, cache=cache) as store:
        store.write("a/b/page.html", b"one", key="k1", remember={"search": "row"}, title="Page")
        store.write("top.html", b"two", key="k2")
        store.commit()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["format"] == "litdoc-manifest/3"
    assert manifest["files"]["a/b/page.html"] == {"sha256": litdoc.store.sha256(b"one"), "title": "Page"}
    assert manifest["folders"] == ["a", "a/b"]
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "a", "top.html"]  # no journal, no lock left
    with Store(out, cache=cache) as store:
        assert store.unchanged("top.html", "k2")
        removed, kept = store.commit()
    assert removed == ["a/b/page.html"] and kept == []
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "top.html"]  # the folders litdoc made went too


def test_the_manifest_holds_only_what_follows_from_the_bytes(tmp_path):
    """Issue 24: a key hashed fontTools' version, so a committed docs/ changed with a library release.
    Keys, search rows, glyphs and failures live in the cache; the manifest of two builds that wrote the
    same bytes is the same, whatever their keys, and neither names litdoc's version."""
    manifests = []
    for run, key in enumerate(("made-with-fonttools-4.69.0", "made-with-fonttools-4.69.1")):
        out, cache = tmp_path / f"out{run}", tmp_path / f"cache{run}"
        with Store(out, cache=cache) as store:
            store.write("page.html", b"<p>same</p>", key=key, remember={"search": key, "glyphs": key}, title="T")
            store.fail("bad.html", key, f"bad.py:3: {key}")
            store.commit()
        manifests.append((out / MANIFEST_NAME).read_bytes())
        remembered = json.loads(litdoc.store.outputs_cache_path(cache, out).read_bytes())
        assert remembered["files"]["page.html"]["key"] == key and remembered["failed"]["bad.html"]["key"] == key
    assert manifests[0] == manifests[1]
    assert b"key" not in manifests[0] and b"generator" not in manifests[0] and b"litdoc 0" not in manifests[0]


def test_a_cache_entry_counts_only_with_the_bytes_the_manifest_names(tmp_path):
    """A lost, stale or foreign cache costs a rebuild, never a wrong page."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    with Store(out, cache=cache) as store:
        store.write("page.html", b"v1", key="k", remember={"search": "row1"})
        store.commit()
    stale = litdoc.store.outputs_cache_path(cache, out).read_bytes()
    with Store(out, cache=cache) as store:
        assert store.unchanged("page.html", "k") and store.remembered_fields("page.html")["search"] == "row1"
        assert not store.unchanged("other.html", "k")
        store.commit()
    with Store(out, cache=None) as store:  # no cache: nothing is known to be unchanged
        assert not store.unchanged("page.html", "k")
        store.write("page.html", b"v2", key="k")
        store.commit()
    litdoc.store.outputs_cache_path(cache, out).write_bytes(stale)  # remembers "k" for v1's bytes
    with Store(out, cache=cache) as store:
        assert not store.unchanged("page.html", "k")
        store.write("page.html", b"v2", key="k")
        store.commit()
    (tmp_path / "elsewhere").mkdir()
    os.replace(
        litdoc.store.outputs_cache_path(cache, out), litdoc.store.outputs_cache_path(cache, tmp_path / "elsewhere")
    )
    with Store(tmp_path / "elsewhere", cache=cache, force=True) as store:  # another folder's record
        assert store.remembered.files == {}


def test_rewriting_the_same_bytes_leaves_the_file_alone(tmp_path):
    out = tmp_path / "out"
    with Store(out) as store:
        store.write("page.html", b"same", key="k1")
        store.commit()
    os.utime(out / "page.html", ns=(1_000_000_000, 1_000_000_000))
    with Store(out) as store:
        assert store.refusal("page.html") is None
        store.write("page.html", b"same", key="k2")
        store.commit()
    assert (out / "page.html").stat().st_mtime_ns == 1_000_000_000


def test_a_format_2_manifest_is_read_and_its_keys_forgotten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "page.html").write_bytes(b"x")
    digest = litdoc.store.sha256(b"x")
    entry = {"key": "k", "sha256": digest, "search": "row", "title": "T"}
    (out / MANIFEST_NAME).write_text(json.dumps({"format": "litdoc-manifest/2", "files": {"page.html": entry}}))
    with Store(out) as store:
        assert store.old.files == {"page.html": {"sha256": digest, "title": "T"}}
        assert not store.unchanged("page.html", "k") and store.refusal("page.html") is None
        store.write("page.html", b"x", key="k")
        store.commit()
    assert json.loads((out / MANIFEST_NAME).read_bytes())["format"] == "litdoc-manifest/3"


def test_a_folder_litdoc_did_not_make_is_never_removed(tmp_path):
    """Issue 9, bug 5b: a user's empty folder survived only by luck before; now only created folders go."""
    out = tmp_path / "out"
    (out / "mine" / "deeper").mkdir(parents=True)
    (out / MANIFEST_NAME).write_bytes(b'{"format": "litdoc-manifest/2", "files": {}}')
    with Store(out) as store:
        store.write("mine/deeper/page.html", b"x")
        store.write("made/page.html", b"y")
        store.commit()
    with Store(out) as store:
        store.commit()  # both pages stale now
    assert (out / "mine" / "deeper").is_dir() and not (out / "made").exists()


def test_a_killed_build_is_recovered_from_the_journal(tmp_path):
    out = tmp_path / "out"
    with Store(out, cache=tmp_path / "cache") as store:
        store.write("old.html", b"old", key="k")
        store.commit()
    # A build that dies after writing (what kill -9 leaves: journal, files, a temporary file, the lock).
    store = Store(out, cache=tmp_path / "cache")
    store.open()
    store.declare(["new/page.html", "old.html"])
    store.write("new/page.html", b"half a build")
    (out / "old.html").write_bytes(b"rewritten by the dead build")
    (out / f".old.html.{store.token}.litdoc-tmp").write_bytes(b"torn")  # the journal names its token
    with open(out / JOURNAL_NAME, "ab") as journal:
        journal.write(b'["f", "torn/li')  # a torn last line names nothing that was made
    os.close(store._journal)
    os.close(store._lock.fd)  # the kernel drops a dead process's flock; the file stays
    assert (out / LOCK_NAME).exists()
    with Store(out, cache=tmp_path / "cache") as store:
        assert not store.unchanged("old.html", "k")  # its bytes are unknown: rendered again
        assert store.refusal("old.html") is None and store.refusal("new/page.html") is None
        store.write("old.html", b"old", key="k")
        removed, _ = store.commit()
    assert removed == ["new/page.html"]
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "old.html"]


def test_a_second_build_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "out"
    with Store(out):
        with pytest.raises(StoreError) as caught:
            Store(out).open()
        assert f"pid {os.getpid()}" in caught.value.reason and "another litdoc build" in caught.value.reason


def test_a_build_that_starts_while_another_makes_its_first_files_is_told_it_is_busy(tmp_path, monkeypatch):
    """Two builds started together into an empty folder: the second read "no manifest, no journal", then
    listed the folder after the first had journaled and made its first pages, and refused it as a
    non-empty folder litdoc did not make (seen under load in CI) instead of naming the build holding it."""
    out = tmp_path / "out"
    out.mkdir()
    with Store(out) as first:
        first.write("ch0/p0.html", b"page")  # journaled, then made; the first build goes on
        second = Store(out)
        monkeypatch.setattr(second, "_has_record", iter([False, True]).__next__)  # read before the first began
        with pytest.raises(StoreError) as caught:
            second.open()
        assert "another litdoc build" in caught.value.reason, caught.value.reason


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / LOCK_NAME).write_text(f"pid {dead.stdout.strip()} on elsewhere\n", encoding="utf-8")
    with Store(out) as store:
        store.commit()
    assert not (out / LOCK_NAME).exists()


def test_a_full_disk_is_one_line_and_the_next_build_finishes(tmp_path, monkeypatch):
    out = tmp_path / "out"
    real_write = os.write
    writes = []

    def full(fd, data):
        writes.append(fd)
        if len(writes) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(litdoc.store.os, "write", full)
    with pytest.raises(StoreError) as caught:
        with Store(out) as store:
            for i in range(5):
                store.write(f"p{i}.html", b"x")
    assert caught.value.reason == "cannot write: no space left on the device"
    assert not any(name.endswith(".litdoc-tmp") for name in os.listdir(out))
    monkeypatch.setattr(litdoc.store.os, "write", real_write)
    with Store(out) as store:
        store.write("p0.html", b"x")
        store.commit()
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "p0.html"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_output_is_one_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(StoreError) as caught:
            Store(out).open()
    finally:
        out.chmod(0o755)
    assert "cannot use the output folder" in caught.value.reason


@pytest.mark.skipif(os.sep != "/", reason="a backslash separates folders on Windows")
def test_a_name_with_a_backslash_is_litdocs_own_on_the_next_build(tmp_path):
    """Issue 9, bug 3b: the manifest reader dropped such names, so the next build refused its own page."""
    out = tmp_path / "out"
    with Store(out, cache=tmp_path / "cache") as store:
        store.write("a\\b.html", b"x", key="k")
        store.commit()
    with Store(out, cache=tmp_path / "cache") as store:
        assert store.unchanged("a\\b.html", "k")


def test_a_file_where_litdoc_needs_a_folder_is_refused_not_a_traceback(tmp_path):
    """Issue 9, bug 3d (`site/_litdoc` a user's file, with --force)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "_litdoc").write_text("mine", encoding="utf-8")
    with Store(out, force=True) as store:
        refusal = store.refusal("_litdoc/theme.css")
        assert refusal is not None and not refusal.user and "needs a folder" in refusal.reason
        store.commit()
    assert (out / "_litdoc").read_text(encoding="utf-8") == "mine"


def test_a_manifest_cannot_name_paths_outside_the_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "format": "litdoc-manifest/2",
                "files": {"../x": {"sha256": ""}, "/etc/passwd": {"sha256": ""}, "a/../../x": {"sha256": ""}},
                "folders": ["..", "/tmp"],
            }
        ),
        encoding="utf-8",
    )
    with Store(out) as store:
        assert store.owned == {} and store.created == set()


def _open_while_held(tmp_path, last_line: str, holder_code: str) -> tuple[str, int]:
    """Opens a store on a folder whose lock file holds `last_line` while a process running `holder_code`
    (given the lock file's path; it prints "held" once it holds the lock) holds it: (why the store
    refused, the holder's pid)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST_NAME).write_text('{"format": "litdoc-manifest/3", "files": {}}', encoding="utf-8")
    (out / LOCK_NAME).write_text(last_line, encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code, str(out / LOCK_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StoreError) as caught:
            Store(out).open()
    finally:
        holder.communicate("", timeout=30)
    return caught.value.reason, holder.pid


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="the holder's pid comes from /proc/locks (Linux)")
def test_a_lock_held_by_another_program_names_its_pid(tmp_path):
    """It said "another litdoc build", with no pid, for any process holding the file (or with the pid of a
    dead build whose text was still in it)."""
    reason, pid = _open_while_held(
        tmp_path,
        "pid 999999999 on a-dead-build\n",
        "import fcntl, sys; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
        "sys.stdin.read()",
    )
    assert f"process {pid} (python" in reason and "not a litdoc build" in reason
    lock = tmp_path / "out" / LOCK_NAME
    assert lock.read_text(encoding="utf-8") == "pid 999999999 on a-dead-build\n"  # untouched


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="the holder's pid comes from /proc/locks (Linux)")
def test_a_build_that_has_just_taken_the_lock_is_named_as_a_build(tmp_path):
    """A build writes "pid N on host" just after it takes the lock. A second build that looked in between
    read the last build's line (or none) and said the holder was "not a litdoc build" (seen in
    test_two_builds_at_once, and in 10 of 40 pairs of builds started together on a busy machine)."""
    reason, pid = _open_while_held(
        tmp_path,
        "pid 999999999 on the-last-build\n",
        "import fcntl, os, socket, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
        "print('held', flush=True); time.sleep(0.5); os.ftruncate(fd, 0); "
        "os.write(fd, f'pid {os.getpid()} on {socket.gethostname()}\\n'.encode()); sys.stdin.read()",
    )
    assert reason == (
        f"another litdoc build (pid {pid} on {socket.gethostname()}) is writing this folder; "
        "run again when it has finished"
    )


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        # A torn write: the lines before the tear are read (p0 and p1; p1 was edited since).
        (lambda text: text[: text.index('"p2.html"')], {"p0.html"}),
        (
            lambda text: text.replace('"files": {\n', '"files": {\n<<<<<<< HEAD\n=======\n>>>>>>> theirs\n'),
            {"p0.html", "p2.html", "p3.html", "p4.html", "p5.html"},
        ),
    ],
    ids=["torn", "merge-conflict"],
)
def test_force_over_a_damaged_manifest_takes_back_what_litdoc_wrote(tmp_path, damage, expected):
    """The error's advice was "move it away to rebuild": then --force recorded every old page as the
    user's, and no later build published a change to them again. Now the advice is `--force`, which
    takes back each file that still has the bytes a readable line of the manifest names."""
    out = tmp_path / "out"
    with Store(out) as store:
        for i in range(6):
            store.write(f"p{i}.html", f"page {i}".encode(), title=f"P{i}")
        store.commit()
    (out / "p1.html").write_bytes(b"edited by hand")  # no longer litdoc's bytes: stays the user's
    manifest = out / MANIFEST_NAME
    manifest.write_text(damage(manifest.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(StoreError) as caught:
        Store(out).open()
    assert "litdoc build --force" in caught.value.reason
    with Store(out, force=True) as store:
        taken = set(store.owned)
        for i in range(6):
            if store.refusal(f"p{i}.html") is None:
                store.write(f"p{i}.html", f"page {i}, edited".encode())
        store.commit()
    assert taken == expected
    assert (out / "p1.html").read_bytes() == b"edited by hand"
    with Store(out) as store:  # plain builds from here on publish every change to litdoc's pages
        for i in range(6):
            refusal = store.refusal(f"p{i}.html")
            if i in [int(rel[1]) for rel in taken]:
                assert refusal is None
                store.write(f"p{i}.html", f"page {i}, again".encode())
        store.commit()
    assert {rel for rel in taken if (out / rel).read_bytes().endswith(b"again")} == taken


def test_force_after_the_manifest_was_moved_away_takes_back_what_the_cache_names(tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    with Store(out, cache=cache) as store:
        store.write("a.html", b"a", key="k")
        store.write("b.html", b"b", key="k")
        store.commit()
    (out / MANIFEST_NAME).rename(tmp_path / "moved-away.json")
    (out / "b.html").write_bytes(b"mine now")
    with Store(out, force=True, cache=cache) as store:
        assert store.refusal("a.html") is None
        assert store.refusal("b.html") is not None and store.refusal("b.html").user
        store.write("a.html", b"a2", key="k2")
        store.commit()
    assert (out / "a.html").read_bytes() == b"a2" and (out / "b.html").read_bytes() == b"mine now"


# -- durability: what is flushed, and when ---------------------------------------------------------


def _recording_syncfs(calls: list[tuple[str, bool]], out: Path, fail: int = 0) -> Callable[[int], int]:
    """A stand-in for libc's syncfs that notes the folder it was given and whether the manifest was
    there yet; with `fail`, it fails with that errno as libc's would."""
    import ctypes

    def syncfs(fd: int) -> int:
        calls.append((os.readlink(f"/proc/self/fd/{fd}"), (out / MANIFEST_NAME).exists()))
        if fail:
            ctypes.set_errno(fail)
            return -1
        return 0

    return syncfs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_a_durable_build_flushes_its_file_system_once_before_the_manifest(tmp_path, monkeypatch):
    """A few hundred fsyncs (one per file, each a journal commit) slowed the build's own writes by a
    tenth; one syncfs before the manifest puts the same files and renames on disk."""
    assert litdoc.store._syncfs_function() is not None  # the real one, which every other durable test calls
    out, calls = tmp_path / "out", []
    monkeypatch.setattr(litdoc.store, "_syncfs_function", lambda: _recording_syncfs(calls, out))
    monkeypatch.setattr(litdoc.store, "_dirty_bytes", lambda: 0)
    fsyncs: list[object] = []
    monkeypatch.setattr(litdoc.store, "_fsync_file", fsyncs.append)
    with Store(out) as store:
        store.write("a/b/page.html", b"one")
        store.write("c/page.html", b"two")
        store.write("top.html", b"three")
        assert calls == [] and store._flusher is None
        store.commit()
    assert calls == [(str(out), False)]  # one file system: one call, before the manifest
    assert fsyncs == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_with_much_unwritten_data_on_the_machine_each_file_is_fsynced_instead(tmp_path, monkeypatch):
    """syncfs would also wait for every other program's unwritten data on that file system."""
    out, calls = tmp_path / "out", []
    monkeypatch.setattr(litdoc.store, "_syncfs_function", lambda: _recording_syncfs(calls, out))
    monkeypatch.setattr(litdoc.store, "_dirty_bytes", lambda: litdoc.store.SYNCFS_DIRTY_LIMIT + 1)
    fsyncs: list[object] = []
    monkeypatch.setattr(litdoc.store, "_fsync_file", fsyncs.append)
    with Store(out) as store:
        store.write("a/page.html", b"one")
        store.write("top.html", b"two")
        store.commit()
    assert calls == [] and sorted(fsyncs) == [out / "a" / "page.html", out / "top.html"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_a_failed_flush_keeps_the_old_manifest_and_the_next_build_repairs(tmp_path, monkeypatch):
    """An I/O error reported by syncfs is a failed write: the build stops before the manifest names
    files that may not be on disk, and the journal lets the next build finish the job."""
    out, calls = tmp_path / "out", []
    with Store(out) as store:
        store.write("page.html", b"v1")
        store.commit()
    old_manifest = (out / MANIFEST_NAME).read_bytes()
    monkeypatch.setattr(litdoc.store, "_syncfs_function", lambda: _recording_syncfs(calls, out, errno.EIO))
    monkeypatch.setattr(litdoc.store, "_dirty_bytes", lambda: 0)
    with pytest.raises(StoreError, match="cannot write: .*Input/output error"):
        with Store(out) as store:
            store.write("page.html", b"v2")
            store.commit()
    assert len(calls) == 1 and (out / MANIFEST_NAME).read_bytes() == old_manifest
    assert (out / JOURNAL_NAME).exists()
    monkeypatch.undo()
    with Store(out) as store:  # the real syncfs again
        store.write("page.html", b"v2")
        store.commit()
    assert not (out / JOURNAL_NAME).exists() and (out / "page.html").read_bytes() == b"v2"


def test_the_readme_states_the_limits_the_code_uses():
    from litdoc.build import POOL_THRESHOLD

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert f"more than {litdoc.store.SYNCFS_DIRTY_LIMIT // 2**20} MB of other unwritten data" in readme
    assert POOL_THRESHOLD == 8 and "A build of eight pages or more renders them in worker processes" in readme
