"""Find (or fetch once) the third-party files that build-time MathML needs.

The files are not committed: `litdoc/assets/package.json` and `package-lock.json` pin them
(Temml's JS and CSS, and a math font with an OpenType MATH table), and npm fetches them.

Where litdoc looks, in order:

1. `$LITDOC_NODE_MODULES`, a `node_modules` folder the user installed the pins into;
2. `litdoc/assets/node_modules` beside this file: a source checkout after `make install`
   (which runs `npm ci` there);
3. a cache folder, `$LITDOC_CACHE_DIR` or `$XDG_CACHE_HOME/litdoc` or `~/.cache/litdoc`, keyed by a
   hash of the lock file, filled by `npm ci` the first time litdoc needs it (`python -m
   litdoc.math_assets` does it ahead of time). Without npm that step fails with one line saying so.

A folder counts only if every pinned package is there at its pinned version, so a stale install
is never used silently.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from litdoc.model import LitdocError

__all__ = ["ASSETS_DIR", "MATH_DIR", "pinned_packages", "find_node_modules", "ensure_node_modules",
           "mathml_assets", "temml_js_path"]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
PACKAGE_JSON = ASSETS_DIR / "package.json"
PACKAGE_LOCK = ASSETS_DIR / "package-lock.json"

# Where the files land, relative to the output root; `MarkupRenderer.head_html` links them here.
MATH_DIR = "_litdoc/math"

# (path inside node_modules, or inside litdoc/assets for our own file) -> name in MATH_DIR.
_TEMML_JS = "temml/dist/temml.min.js"
_NODE_FILES: Tuple[Tuple[str, str], ...] = (
    ("temml/dist/Temml-NotoSans.css", "Temml-NotoSans.css"),
    ("temml/LICENSE", "LICENSE-temml.txt"),
    ("@fontsource/noto-sans-math/files/noto-sans-math-latin-400-normal.woff2", "NotoSansMath-Regular.woff2"),
    ("@fontsource/noto-sans-math/LICENSE", "LICENSE-NotoSansMath.txt"),
)
_OWN_FILES: Tuple[Tuple[str, str], ...] = (
    ("litdoc-math.css", "litdoc-math.css"),
)
# The stylesheets in the order the page must link them.
STYLESHEETS = ("Temml-NotoSans.css", "litdoc-math.css")


def pinned_packages() -> Dict[str, str]:
    """Package name -> exact version, as pinned in litdoc/assets/package.json."""
    return dict(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["dependencies"])


def _is_complete(node_modules: Path) -> bool:
    for name, version in pinned_packages().items():
        manifest = node_modules / name / "package.json"
        try:
            if json.loads(manifest.read_text(encoding="utf-8")).get("version") != version:
                return False
        except (OSError, ValueError):
            return False
    return all((node_modules / source).is_file() for source, _ in _NODE_FILES + ((_TEMML_JS, ""),))


def _cache_dir() -> Path:
    if os.environ.get("LITDOC_CACHE_DIR"):
        return Path(os.environ["LITDOC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "litdoc"


def _cache_node_modules() -> Path:
    digest = hashlib.sha256(PACKAGE_LOCK.read_bytes()).hexdigest()[:16]
    return _cache_dir() / f"math-assets-{digest}" / "node_modules"


def find_node_modules() -> Optional[Path]:
    """The first complete install of the pinned packages, or None."""
    candidates: List[Path] = []
    if os.environ.get("LITDOC_NODE_MODULES"):
        candidates.append(Path(os.environ["LITDOC_NODE_MODULES"]))
    candidates += [ASSETS_DIR / "node_modules", _cache_node_modules()]
    for candidate in candidates:
        if _is_complete(candidate):
            return candidate
    return None


@lru_cache(maxsize=None)
def ensure_node_modules() -> Path:
    """A complete install of the pinned packages, running `npm ci` into the cache if needed."""
    found = find_node_modules()
    if found is not None:
        return found
    npm = shutil.which("npm")
    pins = ", ".join(f"{name}@{version}" for name, version in pinned_packages().items())
    if npm is None:
        raise LitdocError(str(PACKAGE_JSON), 1,
                          f'math = "mathml" needs npm once to fetch {pins}; install Node.js/npm '
                          f'(or set math = "mathjax")')
    target = _cache_node_modules().parent
    target.parent.mkdir(parents=True, exist_ok=True)
    # Install into a private folder and rename it into place, so that parallel builds never see
    # a half-written install; whoever renames first wins and the others use theirs.
    staging = Path(tempfile.mkdtemp(prefix="math-assets-", dir=target.parent))
    try:
        shutil.copy2(PACKAGE_JSON, staging / "package.json")
        shutil.copy2(PACKAGE_LOCK, staging / "package-lock.json")
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                                cwd=staging, capture_output=True, text=True)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise LitdocError(str(PACKAGE_JSON), 1, f"npm ci for {pins} failed: {last}")
        try:
            os.rename(staging, target)
        except OSError:
            if not _is_complete(target / "node_modules"):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    if not _is_complete(target / "node_modules"):
        raise LitdocError(str(PACKAGE_JSON), 1, f"npm ci ran but {pins} are not all in {target}")
    return target / "node_modules"


def temml_js_path() -> Path:
    return ensure_node_modules() / _TEMML_JS


# Temml's stylesheet declares its font as a `.ttf` file that no npm package ships; the pinned
# font package has the same face as WOFF2, so the declaration is pointed there on the way out.
_FONT_SRC_AS_PUBLISHED = "src: url('NotoSansMath-Regular.ttf');"
_FONT_SRC_AS_SHIPPED = "src: url('NotoSansMath-Regular.woff2') format('woff2');"


def _temml_css(source: Path) -> bytes:
    text = source.read_text(encoding="utf-8")
    if _FONT_SRC_AS_PUBLISHED not in text:
        # A new Temml release changed its stylesheet: refuse rather than ship a page whose
        # math font silently fails to load.
        raise LitdocError(str(source), 1, f"expected the font declaration {_FONT_SRC_AS_PUBLISHED!r} "
                                          f"to point it at the shipped WOFF2 font")
    return text.replace(_FONT_SRC_AS_PUBLISHED, _FONT_SRC_AS_SHIPPED).encode("utf-8")


def mathml_assets() -> List[Tuple[str, bytes]]:
    """(destination relative to the output root, content) of every file MathML pages use."""
    node_modules = ensure_node_modules()
    files = []
    for source, name in _NODE_FILES:
        path = node_modules / source
        content = _temml_css(path) if name == "Temml-NotoSans.css" else path.read_bytes()
        files.append((f"{MATH_DIR}/{name}", content))
    files += [(f"{MATH_DIR}/{name}", (ASSETS_DIR / source).read_bytes()) for source, name in _OWN_FILES]
    return files


def main() -> int:
    """`python -m litdoc.math_assets`: fetch the pinned files now and say where they are."""
    try:
        print(ensure_node_modules())
    except LitdocError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
