"""Fault injection (issue 9): builds killed at many instants, a full disk, a read-only output, two
builds at once, Ctrl-C, and kill -9 during `serve`'s rebuild; and (issue 26) symlinks and planted files
at litdoc's own names, a killed `--force` build, a site with output collisions and a damaged manifest's
`--force` recovery, each killed at counted instants, a page that crashes its worker, and workers left
when the build is killed. After each, one plain `litdoc build` (no
--force, no cleanup) must exit 0 and leave the output byte for byte as a build from scratch, with the
files litdoc did not write untouched. The invariant that makes this hold is in `litdoc.store`.

The kills are of two kinds. *Instants*: a forked child builds with every file-system call of the store
counted (open, write, replace, mkdir, unlink, rmdir) and dies by `os._exit` just before call n,
or halfway through it for a write (a torn write); n is drawn over the whole build, so every phase
(reading sources, journal, pages, copies, stale removal, manifest, journal removal) is hit. *Signals*:
a real `python -m litdoc` process group sent SIGKILL or SIGINT at a random time. The suite is sized
(a 250-file site, a fixed number of trials, a fixed seed) to run in about a minute on a CI machine.
"""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from litdoc import build
from litdoc.build import BuildOptions, BuildReport, build_site
from litdoc.config import load_config
from litdoc.model import LitdocError
from litdoc.store import JOURNAL_NAME, LOCK_NAME, MANIFEST_NAME, Store
from tests.sitefixtures import litdoc_command, run

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kills are injected in forked children (POSIX)")

PYPROJECT = """\
[tool.litdoc]
source = "src"
output = "site"
title = "Faults"
base_url = "https://example.org/faults/"
math = "mathjax"
cache = ""
"""
# The kill instants: the store's (and the source reader's) calls into the OS. The killed builds skip
# fsync: it changes what survives a power loss, not what a surviving OS shows after a kill, and it
# would make each trial several times slower. The repairing builds run as users run them, durable.
_FAULT_OPS = ("open", "write", "fsync", "replace", "mkdir", "unlink", "rmdir", "sync")
SEED = 9
# Kills at counted instants, half from nothing, half during an incremental build: 20 take about a minute
# on a loaded 2-core machine. LITDOC_FAULT_TRIALS=200 runs a longer campaign by hand.
INSTANT_TRIALS = int(os.environ.get("LITDOC_FAULT_TRIALS", "20"))
SIGNAL_TRIALS = 4  # real SIGKILLs of a `python -m litdoc build` process group


def _page(name: str, version: str, i: int) -> str:
    return (
        f'"""\n# Page {name}\n\nVersion {version}: the square $x_{i}^2$, and [home](../index.md).\n"""\n\n'
        f"# Step {i}\nX = {i}\n\n\ndef f(y):\n    # Multiply by {i}\n    return y * X\n"
    )


def make_corpus(root: Path, version: str) -> Path:
    """A site of 246 files (A): 5 chapters of 8 pages and 40 copied files each, and a home page.
    B edits 4 pages, deletes a chapter and half of another's files, and adds a chapter and a page."""
    files: dict[str, str] = {"src/index.md": f"# Home {version}\n\nThe site.\n"}
    chapters = [0, 2, 3, 4, 5] if version == "B" else [0, 1, 2, 3, 4]
    for c in chapters:
        files[f"src/ch{c}/__init__.py"] = f'"""\n# Chapter {c}\n"""\n'
        for p in range(8):
            edited = version == "B" and c == 0 and p < 4
            files[f"src/ch{c}/p{p}.py"] = _page(f"{c}.{p}", "B" if edited else "A", p)
        for s in range(40):
            if not (version == "B" and c == 2 and s < 20):
                files[f"src/ch{c}/data/d{s:02}.txt"] = f"data {c} {s}\n"
    if version == "B":
        files["src/ch3/notes.md"] = "# Notes\n\nNew in B.\n"
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def build_into(project: Path, output: Path, durable: bool = True, force: bool = False) -> BuildReport:
    config = load_config(project, {"output": str(output)})
    options = BuildOptions(jobs=1, progress=False, durable=durable, force=force)
    return build_site(config, options, stream=io.StringIO())


def snapshot(output: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every file's bytes and every folder, hidden ones included (a journal or lock left would show)."""
    files, folders = {}, set()
    for path in sorted(output.rglob("*")):
        rel = path.relative_to(output).as_posix()
        if path.is_dir():
            folders.add(rel)
        else:
            files[rel] = path.read_bytes()
    return files, folders


def add_user_files(output: Path) -> dict[str, bytes]:
    """Files litdoc did not write: a user's note, a nested site with its own manifest, a file in a
    folder whose pages B deletes. They must come through every fault untouched."""
    user = {
        "USER.txt": b"mine",
        "nested/index.html": b"<p>another site</p>",
        f"nested/{MANIFEST_NAME}": b'{"format": "litdoc-manifest/2", "files": {}}',
        "ch1/mine.txt": b"also mine",
    }
    for rel, data in user.items():
        (output / rel).parent.mkdir(parents=True, exist_ok=True)
        (output / rel).write_bytes(data)
    return user


def killed_build(project: Path, output: Path, kill_at: int, tear: bool, force: bool = False) -> tuple[int, int]:
    """Build in a forked child that dies just before its `kill_at`-th OS call (a write torn in half
    when `tear`). Returns the child's exit code (137: killed) and the calls it made (when it finished)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            originals = {name: getattr(os, name) for name in _FAULT_OPS}
            exit_now = os._exit
            count = [0]

            def counted(name: str):
                original = originals[name]

                def call(*args, **kwargs):
                    count[0] += 1
                    if count[0] == kill_at:
                        if name == "write" and tear and len(args[1]) > 1:
                            original(args[0], bytes(args[1])[: len(args[1]) // 2])
                        exit_now(137)
                    return original(*args, **kwargs)

                return call

            for name in _FAULT_OPS:
                setattr(os, name, counted(name))
            build_into(project, output, durable=False, force=force)
            originals["write"](write_end, str(count[0]).encode())
            exit_now(0)
        except BaseException:
            os._exit(3)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    calls = os.read(read_end, 64)
    os.close(read_end)
    return os.waitstatus_to_exitcode(status), int(calls or b"0")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Sources A and B, scratch builds of each, and a built A with user files, to start trials from."""
    root = tmp_path_factory.mktemp("faults")
    a, b = make_corpus(root / "a", "A"), make_corpus(root / "b", "B")
    for project, name in ((a, "scratch-a"), (b, "scratch-b")):
        assert build_into(project, root / name).ok
    base = root / "base-a"
    shutil.copytree(root / "scratch-a", base)
    user = add_user_files(base)
    scratch = {}
    for name in ("a", "b"):
        files, folders = snapshot(root / f"scratch-{name}")
        scratch[name] = files, folders
        scratch[name + "+user"] = ({**files, **user}, folders | {"nested", "ch1"})
    return {"root": root, "a": a, "b": b, "base": base, "scratch": scratch}


def recover_and_compare(project: Path, output: Path, expected: tuple[dict[str, bytes], set[str]]) -> float:
    """One plain build; asserts exit 0 and the scratch build's bytes; returns its time."""
    started = time.perf_counter()
    report = build_into(project, output)
    seconds = time.perf_counter() - started
    assert report.ok, report.failed
    files, folders = snapshot(output)
    want_files, want_folders = expected
    assert sorted(files) == sorted(want_files), set(files) ^ set(want_files)
    assert [rel for rel in files if files[rel] != want_files[rel]] == []
    assert folders == want_folders, folders ^ want_folders
    return seconds


def test_builds_killed_at_many_instants_are_repaired_by_one_plain_build(corpus, tmp_path):
    rng = random.Random(SEED)
    root, a, b = corpus["root"], corpus["a"], corpus["b"]
    # The number of OS calls of each kind of build, from a child that is never killed.
    _, full_calls = killed_build(a, tmp_path / "count-full", kill_at=-1, tear=False)
    shutil.copytree(corpus["base"], tmp_path / "count-incremental")
    _, incremental_calls = killed_build(b, tmp_path / "count-incremental", kill_at=-1, tear=False)
    assert full_calls > 500 and incremental_calls > 100, (full_calls, incremental_calls)
    tried = matched = 0
    worst = 0.0
    for trial in range(INSTANT_TRIALS):
        output = tmp_path / f"trial-{trial}"
        from_nothing = trial % 2 == 0
        if from_nothing:
            project, expected, calls = a, corpus["scratch"]["a"], full_calls
        else:
            shutil.copytree(corpus["base"], output)
            project, expected, calls = b, corpus["scratch"]["b+user"], incremental_calls
        kill_at = rng.randint(1, calls)
        code, _ = killed_build(project, output, kill_at, tear=rng.random() < 0.5)
        assert code == 137, (trial, kill_at, code)
        tried += 1
        if trial % 8 == 7:  # and now and then the repairing build is killed too, before the one that finishes
            code, _ = killed_build(project, output, rng.randint(1, calls // 2), tear=False)
            assert code in (0, 137)
        worst = max(worst, recover_and_compare(project, output, expected))
        matched += 1
        shutil.rmtree(output)
    with open(root / "summary.txt", "a", encoding="utf-8") as summary:
        summary.write(
            f"instants: {tried} kill points ({full_calls} calls from nothing, {incremental_calls} "
            f"incremental), {matched} rebuilds matched a scratch build, worst recovery {worst:.2f}s\n"
        )


def _litdoc(*args: str, spawn: bool = False) -> subprocess.Popen:
    """`python -m litdoc ARGS` in a process group of its own, as a terminal runs it; with `spawn`, run
    from a program that has started a thread, so that the pool spawns its workers."""
    return subprocess.Popen(
        [*litdoc_command(spawn), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_builds_sent_sigkill_at_random_times_are_repaired(corpus, tmp_path):
    rng = random.Random(SEED + 1)
    worst = 0.0
    for trial in range(SIGNAL_TRIALS):
        output = tmp_path / f"sig-{trial}"
        shutil.copytree(corpus["base"], output)
        jobs = "2" if trial % 2 else "1"  # the pool too: its workers die with the group
        process = _litdoc("build", "--project", str(corpus["b"]), "--output", str(output), "-j", jobs)
        time.sleep(rng.uniform(0.3, 2.5))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        worst = max(worst, recover_and_compare(corpus["b"], output, corpus["scratch"]["b+user"]))


def _workers(pid: int, spawned: bool) -> list[int]:
    """The pool's workers among `pid`'s children, from /proc: spawned ones run multiprocessing's
    `spawn_main` (the resource tracker, also a child, does not); forked ones share `pid`'s command line."""
    try:
        own = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    workers = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:  # it exited while we looked
            continue
        if b"spawn_main" in cmdline if spawned else cmdline == own:
            workers.append(child)
    return workers


@pytest.mark.parametrize("instant", ["journal", "workers-spawning", "workers-forked"])
def test_ctrl_c_prints_one_line_exits_130_and_leaves_a_repairable_output(corpus, tmp_path, instant):
    """Ctrl-C as the build opens its journal, while spawned workers are still importing litdoc, and
    once forked workers exist: before `_init_worker` ignored SIGINT, a worker interrupted then printed a
    traceback of its own (and could break the pool), which the one-line assertion below catches."""
    if instant.startswith("workers") and not Path("/proc/self/stat").exists():
        pytest.skip("finds the workers in /proc")  # pragma: no cover - not Linux
    output = tmp_path / "site"
    spawn = instant == "workers-spawning"
    process = _litdoc("build", "--project", str(corpus["a"]), "--output", str(output), "-j", "2", spawn=spawn)
    deadline = time.monotonic() + 60

    def ready() -> bool:
        if instant == "journal":
            return (output / JOURNAL_NAME).exists()
        return bool(_workers(process.pid, spawned=spawn))  # spawned: a second or so from ignoring SIGINT

    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if spawn:
        time.sleep(0.05)  # past the interpreter's own start (which dies of SIGINT silently), into its imports
    os.killpg(process.pid, signal.SIGINT)  # what the terminal sends to the whole group
    _, err = process.communicate(timeout=60)
    if "pages built" in err:
        # The build finished before the interrupt arrived: exit 0, or death by SIGINT when it arrived
        # as the interpreter was exiting (a shell reports both 130 and that as interrupted).
        pytest.skip("the build finished before the interrupt arrived")  # pragma: no cover - a very fast machine
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["litdoc: interrupted; the next build repairs the output"], err
    recover_and_compare(corpus["a"], output, corpus["scratch"]["a"])


def test_workers_are_forked_only_from_a_process_with_one_thread(monkeypatch):
    """Fork copies no other thread: a lock held by one when it forks stays held in the child for good."""
    probe = (
        "import sys, threading\n"
        "from litdoc.build import pool_start_method\n"
        "print(pool_start_method())\n"
        "if sys.argv[1] == 'thread':\n"
        "    threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
        "else:\n"  # a math build's V8 context (mini-racer runs threads of its own)
        "    from py_mini_racer import MiniRacer\n"
        "    context = MiniRacer()\n"
        "    context.eval('1 + 1')\n"
        "print(pool_start_method(), flush=True)\n"
        # Closed before exit, as litdoc closes its own: left to the garbage collector at interpreter
        # shutdown, mini-racer can block on its event-loop thread (this probe hung so, once in CI).
        "if sys.argv[1] == 'v8':\n"
        "    context.close()\n"
    )
    for after in ("thread", "v8"):
        found = subprocess.run(
            [sys.executable, "-c", probe, after], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
        fresh = "fork" if sys.platform.startswith("linux") else "spawn"
        assert found == [fresh, "spawn"], after
    monkeypatch.setattr(sys, "platform", "darwin")
    assert build.pool_start_method() == "spawn"


@pytest.mark.parametrize("spawn", [False, True], ids=["forked", "spawned"])
def test_forked_and_spawned_workers_build_the_same_site(corpus, tmp_path, spawn):
    """`python -m litdoc` forks its workers; a program with a thread of its own spawns them. Both give
    the bytes of the scratch build (made in this process)."""
    output = tmp_path / "site"
    process = _litdoc("build", "--project", str(corpus["a"]), "--output", str(output), "-j", "2", spawn=spawn)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert snapshot(output) == corpus["scratch"]["a"]


def test_ctrl_c_in_code_run_from_a_string_still_exits_130(tmp_path):
    """CPython notes a KeyboardInterrupt that ends code run from a string (`eval`, `exec`: `namedtuple` and
    `dataclasses` run such code, as `import concurrent.futures` does) as unhandled, and at exit kills the
    process with SIGINT even though litdoc handled it: CI saw the one line and then exit -2. Run as a module
    (`python -m`, as litdoc runs), where CPython makes that check, with the interrupt raised inside `eval`."""
    (tmp_path / "interrupted_in_eval.py").write_text(
        "import sys\n"
        "from litdoc import cli\n"
        "def _run(args):\n"
        "    eval('(_ for _ in ()).throw(KeyboardInterrupt)')\n"
        "cli._run = _run\n"
        "sys.exit(cli.main(['build']))\n",
        encoding="utf-8",
    )
    process = subprocess.run(
        [sys.executable, "-m", "interrupted_in_eval"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 130, (process.returncode, process.stderr)
    assert process.stderr.strip().splitlines() == ["litdoc: interrupted; the next build repairs the output"]


def test_a_full_disk_is_one_line_and_the_next_build_repairs(corpus, tmp_path, monkeypatch, capsys):
    output = tmp_path / "site"
    shutil.copytree(corpus["base"], output)
    real_write = os.write
    writes = [0]

    def write(fd: int, data) -> int:
        writes[0] += 1
        if writes[0] > 40:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    code, _, err = run(capsys, "build", "--project", str(corpus["b"]), "--output", str(output), "-j1")
    monkeypatch.setattr(os, "write", real_write)
    assert code == 1 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(str(output)) and line.endswith(": cannot write: no space left on the device"), line
    recover_and_compare(corpus["b"], output, corpus["scratch"]["b+user"])


def test_a_read_only_output_is_one_line_and_the_next_build_repairs(corpus, tmp_path, monkeypatch, capsys):
    output = tmp_path / "site"
    shutil.copytree(corpus["base"], output)
    real_open = os.open
    inside = str(output)

    def read_only(path, flags, *args, **kwargs):
        # What a read-only mount (or, for a user who is not root, chmod -w) answers to every write.
        if str(path).startswith(inside) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    code, _, err = run(capsys, "build", "--project", str(corpus["b"]), "--output", str(output), "-j1")
    monkeypatch.setattr(os, "open", real_open)
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"{output}: cannot use the output folder: cannot write there (Read-only file system)"
    ]
    recover_and_compare(corpus["b"], output, corpus["scratch"]["b+user"])


def test_two_builds_at_once(corpus, tmp_path):
    output = tmp_path / "site"
    # A build that finds the folder held exits 1 at once, naming the holder.
    output.mkdir()
    with Store(output):
        held = subprocess.run(
            [sys.executable, "-m", "litdoc", "build", "--project", str(corpus["a"]), "--output", str(output), "-j1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert held.returncode == 1
    assert held.stderr.strip().splitlines() == [
        f"{output}: another litdoc build (pid {os.getpid()} on {os.uname().nodename}) is writing this folder; "
        "run again when it has finished"
    ]
    assert sorted(os.listdir(output)) == []
    # Two started together: each either builds or says the folder is busy; the output is never wedged.
    first = _litdoc("build", "--project", str(corpus["a"]), "--output", str(output), "-j1")
    second = _litdoc("build", "--project", str(corpus["a"]), "--output", str(output), "-j1")
    results = [(process.wait(timeout=120), process.communicate()[1]) for process in (first, second)]
    assert all(code == 0 or "another litdoc build" in err for code, err in results), results
    assert any(code == 0 for code, _ in results), results
    recover_and_compare(corpus["a"], output, corpus["scratch"]["a"])


def test_kill_9_during_serves_rebuild(corpus, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(corpus["a"], project)
    output = project / "site"
    # The kill must land while the rebuild runs, and how long a rebuild takes depends on the machine: a wait
    # that lets it write some pages first can outlast it. So each attempt waits less (the last kills as soon
    # as the journal appears), and swaps the sources back and forth for another rebuild of many changes.
    for attempt, pause in enumerate((0.05, 0.02, 0.005, 0.0, 0.0)):
        process = _litdoc("serve", "--project", str(project), "--port", "0", "-j1", "--interval", "0.02")
        try:
            deadline = time.monotonic() + 120
            while not (output / MANIFEST_NAME).exists() and time.monotonic() < deadline:
                assert process.poll() is None, process.communicate()
                time.sleep(0.02)
            while (output / LOCK_NAME).exists() and time.monotonic() < deadline:  # the first build is done
                time.sleep(0.02)
            shutil.rmtree(project / "src")
            source = corpus["b"] if attempt % 2 == 0 else corpus["a"]
            shutil.copytree(source / "src", project / "src")  # many changes: a long rebuild
            while not (output / JOURNAL_NAME).exists() and time.monotonic() < deadline:
                time.sleep(0.002)
            assert (output / JOURNAL_NAME).exists(), "the rebuild never started"
            time.sleep(pause)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
        if (output / JOURNAL_NAME).exists():  # it died in the middle
            break
    assert (output / JOURNAL_NAME).exists(), "every rebuild finished before the kill"
    # The scratch build: the same sources, into the same place in a project of their own (where the
    # output lies relative to the project shows in the pages' links).
    scratch = tmp_path / "scratch"
    shutil.copytree(project, scratch, ignore=shutil.ignore_patterns("site"))
    assert build_into(scratch, scratch / "site").ok
    recover_and_compare(project, output, snapshot(scratch / "site"))


# ---------------------------------------------------------------------------------------------
# Attacks on the output folder (issue: never write outside the output folder). Each plants a name
# litdoc writes (its lock, its journal, a temporary file) as a symlink or a hard link to a file outside
# the output, or as a user's file; the file outside must keep its bytes, and the planted name stays.
# ---------------------------------------------------------------------------------------------


def _victim(tmp_path: Path) -> tuple[Path, bytes]:
    victim = tmp_path / "outside" / "precious.txt"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_bytes(b"precious bytes\n")
    return victim, victim.read_bytes()


@pytest.mark.parametrize("name", [LOCK_NAME, JOURNAL_NAME])
@pytest.mark.parametrize("folder", ["litdoc's", "refused"])
def test_a_symlink_at_litdocs_own_name_is_never_followed(corpus, tmp_path, capsys, name, folder):
    """The lock was opened through the link (the file outside truncated to `pid N on host`, and the link
    deleted after), even in a folder the build then refused; the journal appended to the file outside."""
    victim, before = _victim(tmp_path)
    output = tmp_path / "site"
    if folder == "litdoc's":
        shutil.copytree(corpus["root"] / "scratch-a", output)
    else:
        output.mkdir()
        (output / "USER.txt").write_bytes(b"mine")
    (output / name).symlink_to(victim)
    code, _, err = run(capsys, "build", "--project", str(corpus["a"]), "--output", str(output), "-j", "1")
    assert code == 1
    assert victim.read_bytes() == before
    assert (output / name).is_symlink() and os.readlink(output / name) == str(victim)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "symlink" in lines[0], lines
    assert name == LOCK_NAME or not os.path.lexists(output / LOCK_NAME)  # refused before making anything


def test_a_hard_link_at_the_lock_is_refused(corpus, tmp_path, capsys):
    victim, before = _victim(tmp_path)
    output = tmp_path / "site"
    shutil.copytree(corpus["root"] / "scratch-a", output)
    os.link(victim, output / LOCK_NAME)
    code, _, err = run(capsys, "build", "--project", str(corpus["a"]), "--output", str(output), "-j", "1")
    assert code == 1 and "hard link" in err
    assert victim.read_bytes() == before


def test_planted_temporary_files_are_neither_followed_nor_taken(corpus, tmp_path, capsys):
    """A temporary file had one fixed name per target (`.p0.html.litdoc-tmp`), opened with O_TRUNC: a
    symlink there had the page's bytes written through it, and a user's file of that name was truncated
    and renamed over the page. Now each build names its temporaries with a random token and creates
    them with O_EXCL; planted files at the old names are left as they are."""
    victim, before = _victim(tmp_path)
    output = tmp_path / "site"
    shutil.copytree(corpus["root"] / "scratch-a", output)
    (output / "ch0" / ".p0.html.litdoc-tmp").symlink_to(victim)
    (output / "ch0" / ".p1.html.litdoc-tmp").write_bytes(b"the user's notes")
    # A journal of an interrupted build that names the pages (so they are rewritten) but no token.
    (output / JOURNAL_NAME).write_bytes(b'["f", "ch0/p0.html"]\n["f", "ch0/p1.html"]\n')
    code, _, err = run(capsys, "build", "--project", str(corpus["a"]), "--output", str(output), "-j", "1")
    assert code == 0, err
    assert victim.read_bytes() == before
    assert os.readlink(output / "ch0" / ".p0.html.litdoc-tmp") == str(victim)
    assert (output / "ch0" / ".p1.html.litdoc-tmp").read_bytes() == b"the user's notes"
    scratch = corpus["scratch"]["a"][0]
    assert (output / "ch0" / "p1.html").read_bytes() == scratch["ch0/p1.html"]
    assert not [name for name in os.listdir(output / "ch0") if name.endswith(".litdoc-tmp") and name.count(".") > 3]


def test_a_killed_force_build_is_finished_by_the_next_plain_build(corpus, tmp_path):
    """The README promises it; the next plain build said "litdoc did not write it" for the user's files
    at paths litdoc wants (4 of 4 runs). The journal now says the build was a --force build."""
    output = tmp_path / "site"
    output.mkdir()
    (output / "index.html").write_bytes(b"<p>the user's own home page</p>")
    (output / "USER.txt").write_bytes(b"mine")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: a --force build that dies after its first page
        try:
            import litdoc.store

            real_write = litdoc.store.Store.write
            calls = [0]

            def dying_write(self, *args, **kwargs):
                calls[0] += 1
                if calls[0] == 3:
                    os._exit(137)
                return real_write(self, *args, **kwargs)

            litdoc.store.Store.write = dying_write
            config = load_config(corpus["a"], {"output": str(output)})
            build_site(config, BuildOptions(jobs=1, progress=False, durable=False, force=True), stream=io.StringIO())
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 137 and (output / JOURNAL_NAME).exists()
    report = build_into(corpus["a"], output)
    assert report.ok, report.failed
    assert any("index.html" in line and "user's file" in line for line in report.warnings)
    assert (output / "index.html").read_bytes() == b"<p>the user's own home page</p>"
    assert (output / "USER.txt").read_bytes() == b"mine"
    assert build_into(corpus["a"], output).ok  # and every build after it


# Kills at counted instants of the two builds below: 4 each keep the suite near its minute.
SMALL_TRIALS = max(4, INSTANT_TRIALS // 5)


def test_a_site_with_output_collisions_killed_at_many_instants_reports_them_and_nothing_else(corpus, tmp_path):
    """A source notebook beside the page's own (`p1.ipynb` next to `p1.py`) and a `404.md` at the root
    claimed one output from two writers: the manifest recorded the wrong hash, and from the second or third
    build on every build failed with "changed since litdoc wrote it". Each collision is now one line, every
    build, killed or not, and the rest of the site is built as from scratch."""
    project = tmp_path / "project"
    shutil.copytree(corpus["a"], project)
    (project / "src" / "ch0" / "p1.ipynb").write_text('{"cells": []}\n', encoding="utf-8")
    (project / "src" / "404.md").write_text("# Lost\n", encoding="utf-8")
    scratch = build_into(project, tmp_path / "scratch")
    collisions = sorted(scratch.failed)
    assert len(collisions) == 2 and all("404" in line or "p1.ipynb" in line for line in collisions), collisions
    expected = snapshot(tmp_path / "scratch")
    rng = random.Random(SEED + 5)
    _, calls = killed_build(project, tmp_path / "count", kill_at=-1, tear=False)
    for trial in range(SMALL_TRIALS):
        output = tmp_path / f"trial-{trial}"
        code, _ = killed_build(project, output, rng.randint(1, calls), tear=rng.random() < 0.5)
        assert code == 137, (trial, code)
        for _ in range(3):  # the next plain build repairs, and so do the ones after it, each with the same lines
            report = build_into(project, output)
            assert sorted(report.failed) == collisions, report.failed
            assert snapshot(output) == expected
        shutil.rmtree(output)


def test_a_merge_damaged_manifest_rebuilt_by_a_killed_force_build_publishes_changes_again(corpus, tmp_path):
    """The error's advice for a damaged manifest is `--force`; killed halfway, that build is finished by
    the next plain one, and from then on plain builds publish every change: B's pages replace A's while
    the user's files stay (before, recovery froze the old pages as "yours")."""
    rng = random.Random(SEED + 6)
    counted = tmp_path / "count"
    shutil.copytree(corpus["base"], counted)
    _damage_as_a_merge_would(counted / MANIFEST_NAME)
    _, calls = killed_build(corpus["a"], counted, kill_at=-1, tear=False, force=True)
    for trial in range(SMALL_TRIALS):
        output = tmp_path / f"trial-{trial}"
        shutil.copytree(corpus["base"], output)
        _damage_as_a_merge_would(output / MANIFEST_NAME)
        with pytest.raises(LitdocError) as refused:
            build_into(corpus["a"], output)
        assert "--force" in str(refused.value)
        code, _ = killed_build(corpus["a"], output, rng.randint(1, calls), tear=rng.random() < 0.5, force=True)
        assert code == 137, (trial, code)
        assert build_into(corpus["a"], output).ok  # finishes the --force build
        recover_and_compare(corpus["b"], output, corpus["scratch"]["b+user"])
        shutil.rmtree(output)


def _damage_as_a_merge_would(manifest: Path) -> None:
    """Conflict markers inside the manifest's file list, as a merge of two committed sites leaves them."""
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"files": {\n', '"files": {\n<<<<<<< HEAD\n=======\n>>>>>>> theirs\n', 1))


# ---------------------------------------------------------------------------------------------
# One page must not take down the build
# ---------------------------------------------------------------------------------------------

_CRASHING_WORKERS = """\
import os
import signal

import litdoc.build

_render_job = litdoc.build.render_job


def render_job(renderer, job, show_traceback):
    if b"CRASH-THE-INTERPRETER" in job.data:  # as a C stack overflow in the parser did on Python 3.9
        os.kill(os.getpid(), signal.SIGSEGV)
    return _render_job(renderer, job, show_traceback)


litdoc.build.render_job = render_job
"""


def test_a_page_that_crashes_its_worker_fails_alone_and_named(corpus, tmp_path, monkeypatch):
    """With -j 2 a segfault in one page's parse failed the build as BrokenProcessPool, naming no page and
    committing nothing, and every later build failed the same way."""
    project = tmp_path / "project"
    shutil.copytree(corpus["a"], project)
    (project / "src" / "ch1" / "p3.py").write_text('"""\n# Crash\n"""\n\nX = "CRASH-THE-INTERPRETER"\n')
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_CRASHING_WORKERS, encoding="utf-8")  # runs in each worker
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hooks), *sys.path]))
    output = tmp_path / "site"
    for _ in range(2):
        config = load_config(project, {"output": str(output)})
        report = build_site(config, BuildOptions(jobs=2, progress=False), stream=io.StringIO())
        assert report.failed == [
            "src/ch1/p3.py:1: the Python interpreter crashed while rendering this page (killed by SIGSEGV); "
            "the other pages were built"
        ]
        assert (output / MANIFEST_NAME).exists() and not (output / JOURNAL_NAME).exists()
        assert len(report.built) + len(report.unchanged) == 45 and "ch1/p3.html" not in report.built
    assert (output / "ch1" / "p2.html").exists() and not (output / "ch1" / "p3.html").exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_workers_exit_when_the_build_is_killed(corpus, tmp_path):
    """kill -9 of a -j 2 build's own process left its workers (and multiprocessing's resource tracker,
    which they keep alive) running for good, about 90 MB each."""
    output = tmp_path / "site"
    process = subprocess.Popen(
        [sys.executable, "-m", "litdoc", "build", "--project", str(corpus["b"]), "--output", str(output), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        children = _children(process.pid)
    assert len(children) >= 2, "the build finished before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)  # the workers may still be starting: they exit all the same
    process.wait(timeout=30)
    # The folder is free at once, though the workers take up to half a second to notice: a forked worker
    # shares the build's open lock file (and its flock) unless it closed it (`store._HELD_LOCK_FDS`).
    import fcntl

    lock = os.open(output / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while a worker holds it
    finally:
        os.close(lock)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and [pid for pid in children if _alive(pid)]:
        time.sleep(0.1)
    assert [pid for pid in children if _alive(pid)] == []


def test_serve_killed_in_its_first_build_leaves_its_port_free(corpus, tmp_path):
    """`litdoc serve` builds once before its threads start, so that build forks its workers; a worker that
    kept the listening socket held the port after a kill -9 of serve, until it noticed (up to 0.5 s)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = ["serve", "--project", str(corpus["b"]), "--output", str(tmp_path / "site"), "-j", "2"]
    process = _litdoc(*command, "--port", str(port))
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
        workers = _workers(process.pid, spawned=False)
    assert len(workers) >= 2, "the first build finished before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)  # not communicate(): its pipes stay open in the workers until they exit
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # EADDRINUSE while a worker holds the listening socket
        again.listen()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and [pid for pid in workers if _alive(pid)]:
        time.sleep(0.1)
    assert [pid for pid in workers if _alive(pid)] == []


def _children(pid: int) -> list[int]:
    """Every child of `pid` (its workers, and multiprocessing's resource tracker beside spawned ones), from
    /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not asked yet
