"""`litdoc.store`: the journal and manifest invariant, the lock, folder ownership, and write failures,
checked on the store directly (the end-to-end kills are in test_faults.py)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

import litdoc.store
from litdoc.store import JOURNAL_NAME, LOCK_NAME, MANIFEST_NAME, Store, StoreError


def test_a_build_writes_records_and_removes_its_stale_files(tmp_path):
    out = tmp_path / "out"
    with Store(out) as store:
        store.write("a/b/page.html", b"one", key="k1", title="Page")
        store.write("top.html", b"two", key="k2")
        store.commit()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["format"] == "litdoc-manifest/2"
    assert manifest["files"]["a/b/page.html"]["key"] == "k1" and manifest["files"]["a/b/page.html"]["title"] == "Page"
    assert manifest["folders"] == ["a", "a/b"]
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "a", "top.html"]  # no journal, no lock left
    with Store(out) as store:
        assert store.unchanged("top.html", "k2")
        removed, kept = store.commit()
    assert removed == ["a/b/page.html"] and kept == []
    assert sorted(os.listdir(out)) == [MANIFEST_NAME, "top.html"]  # the folders litdoc made went too


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
    with Store(out) as store:
        store.write("old.html", b"old", key="k")
        store.commit()
    # A build that dies after writing (what kill -9 leaves: journal, files, a temporary file, the lock).
    store = Store(out)
    store.open()
    store.declare(["new/page.html", "old.html"])
    store.write("new/page.html", b"half a build")
    (out / "old.html").write_bytes(b"rewritten by the dead build")
    (out / ".old.html.litdoc-tmp").write_bytes(b"torn")
    with open(out / JOURNAL_NAME, "ab") as journal:
        journal.write(b'["f", "torn/li')  # a torn last line names nothing that was made
    os.close(store._journal)
    os.close(store._lock.fd)  # the kernel drops a dead process's flock; the file stays
    assert (out / LOCK_NAME).exists()
    with Store(out) as store:
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
    with Store(out) as store:
        store.write("a\\b.html", b"x", key="k")
        store.commit()
    with Store(out) as store:
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
