"""Check that the committed site is a pure function of the sources, whatever the day it is built on.

    python scripts/check_docs_reproducible.py

`make docs` builds with the versions that `constraints.txt` pins. This script makes a second virtual
environment, `.venvs/docs-newest`, with litdoc and the newest *patch* release of each of its
dependencies that the pins allow (`Pygments==2.21.0` becomes `Pygments~=2.21.0`: 2.21.x, the newest
one), builds both sites from nothing (an empty output folder and no cache) and compares every byte
with the committed `docs/`, manifests included (of the last commit: a clone of it is built, so
commit first). A difference means the site depends on a library's
version, or on a cache key, rather than on the sources alone: the issue that failed a fresh clone's CI
the day fontTools 4.69.1 was released.

Exit status 0 when the bytes agree; 1, with the differing files listed, when they do not.
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venvs" / "docs-newest"
# The two sites: (the folder whose pyproject.toml has its [tool.litdoc], its output relative to REPO).
SITES = ((REPO, "docs"), (REPO / "litdoc", "docs/litdoc"))


def newest_patch_constraints(pinned: str) -> str:
    """`name==X.Y.Z` becomes `name~=X.Y.Z` (at least X.Y.Z, below X.(Y+1)); other lines stay as they are.
    A pin with one number (`name==5`) cannot be widened to its patch releases and stays a pin."""
    lines = []
    for line in pinned.splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\d+(?:\.\d+)+)(.*)", line.strip())
        lines.append(f"{match.group(1)}~={match.group(2)}{match.group(3)}" if match else line)
    return "\n".join(lines) + "\n"


def differences(built: Path, committed: Path) -> list[str]:
    """Paths (relative to `committed`) that exist on one side only or whose bytes differ."""
    found = []

    def walk(compare: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + name for name in compare.left_only + compare.right_only + compare.funny_files)
        for name in compare.common_files:
            if not filecmp.cmp(Path(compare.left) / name, Path(compare.right) / name, shallow=False):
                found.append(prefix + name)
        for name, sub in compare.subdirs.items():
            walk(sub, prefix + name + "/")

    walk(filecmp.dircmp(built, committed), "")
    return sorted(found)


def run(*command: str | os.PathLike[str], cwd: Path = REPO) -> None:
    subprocess.run([os.fspath(part) for part in command], cwd=cwd, check=True)


def main() -> int:
    python = sys.executable
    if not (VENV / "bin" / "python").exists():
        run(python, "-m", "venv", VENV)
    pip = VENV / "bin" / "pip"
    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "newest-patch.txt"
        constraints.write_text(newest_patch_constraints((REPO / "constraints.txt").read_text(encoding="utf-8")))
        run(pip, "install", "--quiet", "--upgrade", "--upgrade-strategy", "eager", "-c", constraints, REPO / "litdoc")
        versions = subprocess.run([pip, "freeze"], capture_output=True, text=True, check=True).stdout.split()
        print("check_docs_reproducible: built with " + ", ".join(v for v in versions if not v.startswith("-e")))
        # Build in a clone of the last commit (git's history gives the pages their dates): its docs/ is
        # moved aside, the sites are built into an empty folder, and the two are compared. The working
        # tree, its docs/ included, is never touched.
        clone = Path(scratch) / "repo"
        run("git", "clone", "--quiet", REPO, clone)
        committed = Path(scratch) / "committed"
        (clone / "docs").rename(committed)
        for project, _ in SITES:
            run(VENV / "bin" / "litdoc", "build", "--cache", "", cwd=clone / project.relative_to(REPO))
        found = differences(clone / "docs", committed)
    if found:
        print("check_docs_reproducible: a build from nothing with the newest patch releases differs from docs/:")
        for path in found:
            print(f"  docs/{path}")
        return 1
    print("check_docs_reproducible: docs/ is byte-identical to a build from nothing with the newest patch releases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
