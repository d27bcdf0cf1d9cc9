"""Refresh the math files that litdoc's wheel carries, from the npm registry, with checked hashes.

    python litdoc/scripts/refresh_math_assets.py              # re-fetch the pinned versions, verify
    python litdoc/scripts/refresh_math_assets.py --temml 0.13.6 --font 5.3.1   # move a pin

The pins live in `src/litdoc/assets/math/SOURCES.json`: for each npm package its exact version,
the registry's `integrity` (a SHA-512 of the tarball) and the SHA-256 of every file taken from it.
Re-fetching a pinned version whose tarball no longer has the recorded integrity is an error (the
registry never changes a published version, so that would be tampering or corruption). Moving a
pin records the new integrity; review the diff of SOURCES.json and of the files, then run litdoc's
tests (`test_math_assets.py` checks every shipped file against SOURCES.json).

Only this script needs npm (for `npm pack`); building the wheel and using litdoc do not.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MATH_DIR = Path(__file__).resolve().parents[1] / "src" / "litdoc" / "assets" / "math"
SOURCES = MATH_DIR / "SOURCES.json"

# Package -> {file inside the package tarball ("package/..." stripped): name shipped in MATH_DIR}.
FILES: dict[str, dict[str, str]] = {
    "temml": {
        "dist/temml.min.js": "temml.min.js",
        "dist/Temml-NotoSans.css": "Temml-NotoSans.css",
        "LICENSE": "LICENSE-temml.txt",
    },
    "@fontsource/noto-sans-math": {
        "files/noto-sans-math-latin-400-normal.woff2": "NotoSansMath-Regular.woff2",
        "LICENSE": "LICENSE-NotoSansMath.txt",
    },
}
OPTION = {"temml": "temml", "@fontsource/noto-sans-math": "font"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_pack(name: str, version: str, workdir: Path) -> tuple:
    """(tarball path, integrity) of name@version, downloaded by `npm pack`."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("refresh_math_assets: npm is needed to fetch the packages (apt-get install npm)")
    result = subprocess.run(
        [npm, "pack", f"{name}@{version}", "--json", "--silent"], cwd=workdir, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"refresh_math_assets: npm pack {name}@{version} failed: {result.stderr.strip()[-300:]}")
    (info,) = json.loads(result.stdout)
    return workdir / info["filename"], info["integrity"]


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--temml", help="move the temml pin to this version")
    parser.add_argument("--font", help="move the @fontsource/noto-sans-math pin to this version")
    args = parser.parse_args(argv)
    pins = json.loads(SOURCES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in FILES.items():
            old = pins["packages"].get(name, {})
            version = getattr(args, OPTION[name]) or old.get("version")
            tarball, integrity = npm_pack(name, version, Path(tmp))
            actual = integrity_of(tarball.read_bytes())
            if actual != integrity:
                sys.exit(f"refresh_math_assets: {name}@{version}: tarball does not match npm's integrity")
            if version == old.get("version") and integrity != old.get("integrity"):
                sys.exit(
                    f"refresh_math_assets: {name}@{version} changed on the registry "
                    f"(integrity {integrity} != recorded {old.get('integrity')}); refusing"
                )
            shipped = {}
            with tarfile.open(tarball) as archive:
                for inner, target in files.items():
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        sys.exit(f"refresh_math_assets: {name}@{version} has no {inner}")
                    data = member.read()
                    (MATH_DIR / target).write_bytes(data)
                    shipped[target] = sha256(data)
            pins["packages"][name] = {"version": version, "integrity": integrity, "files": shipped}
            print(f"{name}@{version}: {', '.join(shipped)}")
    SOURCES.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
