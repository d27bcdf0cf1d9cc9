"""Run litdoc's test suite on every Python that `requires-python` admits, from the built wheel.

    python litdoc/scripts/test_pythons.py            # 3.9 ... 3.13, as litdoc/pyproject.toml claims
    python litdoc/scripts/test_pythons.py 3.12       # one of them
    python litdoc/scripts/test_pythons.py --except-running   # all but this interpreter's version

For each version it builds litdoc's wheel once (`pip wheel --no-deps`), makes a fresh virtual
environment under `.venvs/litdoc-py3.X`, installs the wheel and its test extra with
`--only-binary=:all:` (so a dependency that would need a compiler fails here, as it would for a
user), checks that neither torch nor Node is involved, and runs `pytest` on `litdoc/tests` with
a fresh, empty home folder (the default math mode must work offline at once).

An interpreter that cannot be found is an error, not a skip: CI must test what litdoc claims.
Interpreters are looked up in pyenv's versions folder, then as `python3.X` on the PATH.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def main(argv: list[str]) -> int:
    # --except-running: leave out the running interpreter's version, whose suite `make test-litdoc` has
    # just run (the wheel's contents are still checked, on every other version).
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    skip = "--except-running" in argv
    versions = [v for v in argv if v != "--except-running"] or claimed_versions()
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
    try:
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel_dir), str(LITDOC)])
        (wheel,) = wheel_dir.glob("litdoc-*.whl")
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB")
        failed = []
        for version in versions:
            started = time.monotonic()
            python = find_python(version)
            venv = VENVS / f"litdoc-py{version}"
            shutil.rmtree(venv, ignore_errors=True)
            run([python, "-m", "venv", str(venv)])
            bin_dir = venv / "bin"
            env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
            run(
                [
                    str(bin_dir / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--only-binary=:all:",
                    f"litdoc[test] @ {wheel.as_uri()}",
                ],
                env=env,
            )
            installed = time.monotonic() - started
            # No torch and no Node: litdoc alone, on a machine that has neither in this environment.
            run(
                [
                    str(bin_dir / "python"),
                    "-c",
                    "import importlib.util as u, litdoc; assert u.find_spec('torch') is None and u.find_spec('quickjs') is None; "
                    "print('litdoc', litdoc.__version__, 'from', litdoc.__file__)",
                ]
            )
            with tempfile.TemporaryDirectory(prefix="litdoc-home-") as home:
                test_env = dict(env, HOME=home, XDG_CACHE_HOME=f"{home}/.cache", PATH=str(bin_dir))  # no node, no npm
                result = subprocess.run(
                    [
                        str(bin_dir / "python"),
                        "-m",
                        "pytest",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                        "-m",
                        "not browser",
                        "tests",
                    ],
                    cwd=LITDOC,
                    env=test_env,
                )
            took = time.monotonic() - started
            print(
                f"Python {version}: install {installed:.0f} s, install + tests {took:.0f} s, "
                f"{'passed' if result.returncode == 0 else 'FAILED'}",
                flush=True,
            )
            if result.returncode != 0:
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
