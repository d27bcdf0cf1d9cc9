# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""What every page of one build shares: the tree, the reading order, the pages' dates and short titles.

`make_context` reads it once, in the build's own process, before any page renders; the pages render in
parallel, so a page's previous/next links cannot wait for the other pages' titles. It is picklable and
sent to each worker; its `fingerprint` is part of every page's key.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path

from litdoc import site
from litdoc.config import Config
from litdoc.site import SiteTree, SourceFile
from litdoc.xref import Target

__all__ = ["SiteContext", "display_path", "front_matter_title", "make_context"]


@dataclass(frozen=True)
class SiteContext:
    """What every page of one build shares; picklable, so it can be sent to worker processes.

    `order`, `dates` and `output_prefix` come from `make_context`; a page depends on them (its
    previous/next links, its date, its Colab link), so `fingerprint` must be part of the build's key."""

    config: Config
    tree: SiteTree
    source_prefix: str  # the source root's path in the repository, for source links
    order: tuple[str, ...] = ()  # every page's output path in reading order (site.reading_order)
    dates: tuple[tuple[str, str], ...] = ()  # (source path, YYYY-MM-DD of its last commit)
    output_prefix: str = ""  # the output folder's path in the project ("docs"), for Colab
    short_titles: tuple[tuple[str, str], ...] = ()  # (output path, front matter title), for previous/next
    # (output path, its module-level names that the site defines, with where: litdoc.xref), for the links
    # of its code column. Not in `fingerprint`: a page's key holds the digest of its own names only, so
    # that a new definition rebuilds the pages that link to it and no other.
    names: tuple[tuple[str, tuple[tuple[str, Target], ...]], ...] = ()

    @property
    def display_root(self) -> Path:
        return self.config.project

    def fingerprint(self) -> str:
        return json.dumps(
            [list(self.order), [list(d) for d in self.dates], self.output_prefix, [list(t) for t in self.short_titles]]
        )


def make_context(
    config: Config,
    tree: SiteTree,
    source_prefix: str,
    names: dict[str, tuple[tuple[str, Target], ...]] | None = None,
) -> SiteContext:
    """The shared context of a build: reads the index pages' sources (for the reading order) and git's
    history (for the dates); nothing else. `names`: `litdoc.xref.site_names`, computed by the build."""
    index_sources: dict[str, str] = {}
    for item in tree.pages:
        if posixpath.basename(item.output_path) == "index.html":
            try:
                index_sources[item.output_path] = (config.source / item.source_path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                pass  # the page itself reports the problem when it is rendered
    dates = site.git_dates(config.project, config.source)
    wanted = {item.source_path for item in tree.pages}
    try:
        output_prefix = config.output.relative_to(config.project).as_posix()
    except ValueError:
        output_prefix = ".."  # outside the project: not in the repository, so no Colab link
    titles = []
    for item in tree.pages:
        title = front_matter_title(config.source / item.source_path)
        if title:
            titles.append((item.output_path, title))
    return SiteContext(
        config=config,
        tree=tree,
        source_prefix=source_prefix,
        order=site.reading_order(tree, index_sources),
        dates=tuple(sorted((k, v) for k, v in dates.items() if k in wanted)),
        output_prefix=output_prefix,
        short_titles=tuple(titles),
        names=tuple(sorted((names or {}).items())),
    )


def front_matter_title(path: Path) -> str:
    """The `title:` of a Python source's front matter, by the page's own reader; "" when it has none."""
    if path.suffix != ".py":
        return ""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
    from litdoc.parse import read_front_matter

    return read_front_matter(text, str(path)).title or ""


def display_path(context: SiteContext, item: SourceFile) -> str:
    """The path a user sees in messages: relative to the project folder."""
    return posixpath.join(context.source_prefix, item.source_path) if context.source_prefix else item.source_path
