"""Run litdoc's test suite on every Python that `requires-python` admits, from the built wheel.

    python litdoc/scripts/test_pythons.py            # 3.9 ... 3.13, as litdoc/pyproject.toml claims
    python litdoc/scripts/test_pythons.py 3.12       # one of them
    python litdoc/scripts/test_pythons.py --except-running   # all but this interpreter's version
    python litdoc/scripts/test_pythons.py --jobs 2           # two versions at a time

For each version it builds litdoc's wheel once (`pip wheel --no-deps`), makes a fresh virtual
environment under `.venvs/litdoc-py3.X`, installs the wheel and its test extra with
`--only-binary=:all:` (so a dependency that would need a compiler fails here, as it would for a
user), checks that neither torch nor Node is involved, and runs `pytest` on `litdoc/tests` with
a fresh, empty home folder (the default math mode must work offline at once).

An interpreter that cannot be found is an error, not a skip: CI must test what litdoc claims.
Interpreters are looked up in pyenv's versions folder, then as `python3.X` on the PATH.
"""

from __future__ import annotations

import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LITDOC = Path(__file__).resolve().parents[1]
REPO = LITDOC.parent
VENVS = REPO / ".venvs"


def claimed_versions() -> list[str]:
    """The minor versions named in litdoc's classifiers, which CI keeps equal to requires-python."""
    text = (LITDOC / "pyproject.toml").read_text(encoding="utf-8")
    versions = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    floor = re.search(r'requires-python = ">=(3\.\d+)"', text)
    if not versions or floor is None or versions[0] != floor.group(1):
        sys.exit("test_pythons: litdoc/pyproject.toml's classifiers must start at its requires-python")
    return versions


def find_python(version: str) -> str | None:
    """An interpreter of this minor version that really runs: pyenv's newest patch release, else
    `python3.X` on the PATH (a pyenv shim there fails unless that version is selected, so each
    candidate is asked for its version)."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(
        glob.glob(f"{root}/versions/{version}.*/bin/python{version}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", Path(p).parents[1].name)],
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    for candidate in candidates + ([on_path] if on_path else []):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def run(command: list[str], log: list[str], **kwargs: Any) -> None:
    """Run `command`, its output kept in `log` (versions tested at once print one after the other)."""
    log.append("+ " + " ".join(str(c) for c in command))
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    log.append(done.stdout + done.stderr)
    done.check_returncode()


def test_one(version: str, wheel: Path) -> tuple[bool, str]:
    """Install the wheel into a fresh environment of `version` and run litdoc's suite there; (passed,
    everything it printed)."""
    log: list[str] = []
    started = time.monotonic()
    python = find_python(version)
    assert python is not None
    venv = VENVS / f"litdoc-py{version}"
    shutil.rmtree(venv, ignore_errors=True)
    try:
        run([python, "-m", "venv", str(venv)], log)
        bin_dir = venv / "bin"
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        install = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--only-binary=:all:"]
        run(install + [f"litdoc[test] @ {wheel.as_uri()}"], log, env=env)
        installed = time.monotonic() - started
        # No torch and no Node: litdoc alone, on a machine that has neither in this environment.
        run(
            [
                str(bin_dir / "python"),
                "-c",
                "import importlib.util as u, litdoc; assert u.find_spec('torch') is None and u.find_spec('quickjs') is None; "
                "print('litdoc', litdoc.__version__, 'from', litdoc.__file__)",
            ],
            log,
        )
    except subprocess.CalledProcessError:
        return False, "\n".join(log)
    with tempfile.TemporaryDirectory(prefix="litdoc-home-") as home:
        test_env = dict(env, HOME=home, XDG_CACHE_HOME=f"{home}/.cache", PATH=str(bin_dir))  # no node, no npm
        result = subprocess.run(
            [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser", "tests"],
            cwd=LITDOC,
            env=test_env,
            capture_output=True,
            text=True,
        )
    log.append(result.stdout + result.stderr)
    took = time.monotonic() - started
    passed = result.returncode == 0
    log.append(
        f"Python {version}: install {installed:.0f} s, install + tests {took:.0f} s, {'passed' if passed else 'FAILED'}"
    )
    return passed, "\n".join(log)


def main(argv: list[str]) -> int:
    # --except-running: leave out the running interpreter's version, whose suite `make test-litdoc` has
    # just run (the wheel's contents are still checked, on every other version). --jobs N: test N
    # versions at once (each suite is one process; CI's two cores take two).
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    skip = "--except-running" in argv
    jobs = 1
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        if word == "--jobs":
            jobs = int(next(rest, "1"))
        elif word != "--except-running":
            words.append(word)
    versions = words or claimed_versions()
    if skip:
        versions = [v for v in versions if v != running]
    missing = [v for v in versions if find_python(v) is None]
    if missing:
        print(
            f"test_pythons: no interpreter for Python {', '.join(missing)} (looked in pyenv's versions folder "
            f"and for python3.X on the PATH); install it, e.g. `pyenv install {missing[0]}`",
            file=sys.stderr,
        )
        return 1
    wheel_dir = Path(tempfile.mkdtemp(prefix="litdoc-wheel-"))
    failed = []
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel_dir), str(LITDOC)],
            check=True,
        )
        (wheel,) = wheel_dir.glob("litdoc-*.whl")
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {version: pool.submit(test_one, version, wheel) for version in versions}
            for version, future in futures.items():
                passed, output = future.result()
                print(output, flush=True)
                if not passed:
                    failed.append(version)
    finally:
        shutil.rmtree(wheel_dir, ignore_errors=True)
    if failed:
        print(f"test_pythons: litdoc's tests failed on Python {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"test_pythons: litdoc's tests passed on Python {', '.join(versions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
