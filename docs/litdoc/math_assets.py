# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The third-party files that build-time MathML needs, shipped inside litdoc's wheel.

`assets/math/` holds Temml's JavaScript and stylesheet and an OpenType MATH font (Noto Sans Math),
with their licences. `assets/math/SOURCES.json` pins each npm package's exact version and the
SHA-256 of every file taken from it; `litdoc/scripts/refresh_math_assets.py` fetches them again (or
moves a pin) and checks the registry's integrity hash. Nothing is fetched when litdoc runs: the
default math mode works offline from the moment the wheel is installed.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from litdoc.model import LitdocError

__all__ = [
    "ASSETS_DIR",
    "VENDORED_DIR",
    "MATH_DIR",
    "STYLESHEETS",
    "pinned_packages",
    "mathml_assets",
    "temml_js",
    "assets_fingerprint",
]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
VENDORED_DIR = ASSETS_DIR / "math"
SOURCES = VENDORED_DIR / "SOURCES.json"

# Where the files land, relative to the output root; `MarkupRenderer.head_html` links them here.
MATH_DIR = "_litdoc/math"

# Shipped files copied into every MathML site, in SOURCES.json's names, and our own stylesheet.
_SITE_FILES = ("Temml-NotoSans.css", "LICENSE-temml.txt", "NotoSansMath-Regular.woff2", "LICENSE-NotoSansMath.txt")
_OWN_FILES = ("litdoc-math.css",)
# The stylesheets in the order the page must link them.
STYLESHEETS = ("Temml-NotoSans.css", "litdoc-math.css")


@cache
def _sources() -> dict[str, dict[str, Any]]:
    return dict(json.loads(SOURCES.read_text(encoding="utf-8"))["packages"])


def pinned_packages() -> dict[str, str]:
    """npm package name -> the exact version whose files are shipped."""
    return {name: entry["version"] for name, entry in _sources().items()}


def _shipped(name: str) -> bytes:
    """A vendored file's bytes, checked against the SHA-256 pinned in SOURCES.json, so a damaged or
    hand-edited install is reported instead of producing subtly different pages."""
    expected = next((entry["files"][name] for entry in _sources().values() if name in entry["files"]), None)
    path = VENDORED_DIR / name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LitdocError(str(path), 0, f"litdoc's math file is missing ({error.strerror}); reinstall litdoc") from None
    if expected is None or hashlib.sha256(data).hexdigest() != expected:
        raise LitdocError(
            str(path), 0, "litdoc's math file does not match the SHA-256 in SOURCES.json; reinstall litdoc"
        )
    return data


def temml_js() -> str:
    return _shipped("temml.min.js").decode("utf-8")


def assets_fingerprint() -> str:
    """Changes whenever a shipped math file does: part of the build's key for every page."""
    return hashlib.sha256(SOURCES.read_bytes()).hexdigest()


# Temml's stylesheet declares its font as a `.ttf` file that no npm package ships; the pinned
# font package has the same face as WOFF2, so the declaration is pointed there on the way out.
_FONT_SRC_AS_PUBLISHED = "src: url('NotoSansMath-Regular.ttf');"
_FONT_SRC_AS_SHIPPED = "src: url('NotoSansMath-Regular.woff2') format('woff2');"


def _temml_css(data: bytes) -> bytes:
    text = data.decode("utf-8")
    if _FONT_SRC_AS_PUBLISHED not in text:
        # A new Temml release changed its stylesheet: refuse rather than ship a page whose
        # math font silently fails to load.
        raise LitdocError(
            str(VENDORED_DIR / "Temml-NotoSans.css"),
            1,
            f"expected the font declaration {_FONT_SRC_AS_PUBLISHED!r} to point it at the shipped WOFF2 font",
        )
    return text.replace(_FONT_SRC_AS_PUBLISHED, _FONT_SRC_AS_SHIPPED).encode("utf-8")


def mathml_assets() -> list[tuple[str, bytes]]:
    """(destination relative to the output root, content) of every file MathML pages use."""
    files = []
    for name in _SITE_FILES:
        data = _shipped(name)
        files.append((f"{MATH_DIR}/{name}", _temml_css(data) if name == "Temml-NotoSans.css" else data))
    files += [(f"{MATH_DIR}/{name}", (ASSETS_DIR / name).read_bytes()) for name in _OWN_FILES]
    return files
