# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The files made beside a page from the same parse: one emitter each, listed in `EMITTERS`.

A page's HTML is the main output (`litdoc.pages`); an emitter turns the same parsed module into one more
file beside it: its notebook (`adam.ipynb`, `litdoc.notebook`) and its download (`adam.py`). They share
the page's key, so they are carried over or made again together with it. A new output format is one
more class here and one more entry in `EMITTERS`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from litdoc import notebook, site
from litdoc.config import Config
from litdoc.model import ParsedModule
from litdoc.site import PYTHON, SourceFile

__all__ = ["EMITTERS", "Emitter", "Source", "companion_paths", "notebook_file", "quote_name"]


def notebook_file(output_path: str, suffix: str, full: bool = False) -> str:
    """`optimizers/adam.html` -> `adam.ipynb` (beside the page), or the output-relative path when `full`.
    An index page's files are named after its package: `optimizers/index.html` -> `__init__.py`."""
    folder, name = posixpath.split(output_path)
    stem = posixpath.splitext(name)[0]
    if stem == "index" and suffix == ".py":
        stem = "__init__"
    return posixpath.join(folder, stem + suffix) if full else stem + suffix


def quote_name(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@dataclass(frozen=True)
class Source:
    """What an emitter is given: the page's file, its bytes and text, and their parse."""

    item: SourceFile
    data: bytes
    text: str
    module: ParsedModule


class Emitter:
    """One kind of file made beside a page."""

    suffix = ""

    def applies(self, item: SourceFile) -> bool:
        return item.kind == PYTHON

    def path(self, item: SourceFile) -> str:
        return notebook_file(item.output_path, self.suffix, full=True)

    def emit(self, source: Source, config: Config) -> bytes:
        raise NotImplementedError


class NotebookEmitter(Emitter):
    """The page as a Jupyter notebook that runs top to bottom in a fresh kernel (`litdoc.notebook`)."""

    suffix = ".ipynb"

    def emit(self, source: Source, config: Config) -> bytes:
        root = config.source
        item = source.item
        package = notebook.module_package((root / "__init__.py").is_file(), root.name, item.source_path)
        options = notebook.NotebookOptions(
            package,
            site.absolute_url(config.base_url, item.output_path) or "",
            config.notebook_install,
            posixpath.basename(item.source_path),
            config.raw_html,
        )
        return notebook.notebook_bytes(source.module, source.text, options)


class ScriptEmitter(Emitter):
    """The source itself, as the page's download, with a first line that says how to install what it imports."""

    suffix = ".py"

    def emit(self, source: Source, config: Config) -> bytes:
        return notebook.script_bytes(source.data, config.notebook_install)


EMITTERS: tuple[Emitter, ...] = (NotebookEmitter(), ScriptEmitter())


def companion_paths(item: SourceFile) -> tuple[str, ...]:
    """The output paths of the files made beside a page."""
    return tuple(emitter.path(item) for emitter in EMITTERS if emitter.applies(item))
