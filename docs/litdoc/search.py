# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The site's search index: one script file, `_litdoc/search-index.js`, built with the site.

A script, not JSON: a page opened from `file://` may not `fetch` a file beside it, but it may load a
script, so search works from a folder on disk as from any static host, with no server and no network.
The page's script (`theme/static/litdoc.js`) loads it on first use and scans it.

Shape (arrays, not objects, to keep the file small):

```
litdocSearchIndex = {"pages": [[output path, page title, [[anchor, section title, text], ...]], ...]}
```

The text of a section is its notes as plain text (math as its TeX) and the names its code defines,
cut to `TEXT_LIMIT` characters: a result needs a snippet, not the whole page, and a 2,000-page site's
index stays a few megabytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from litdoc import anchors
from litdoc.model import ParsedModule

INDEX_PATH = "_litdoc/search-index.js"
TEXT_LIMIT = 600

PageEntry = tuple[str, str, list[list[str]]]


def page_entry(output_path: str, title: str, module: ParsedModule, infos: Sequence[anchors.SectionInfo]) -> PageEntry:
    """One page's row of the index: each section that has notes or defines something."""
    sections: list[list[str]] = []
    context = title  # a part without a heading of its own is named by the heading above it
    for section, info in zip(module.sections, infos):
        names = " ".join(anchors.identifiers(section))
        for number, (anchor, part_title, text) in enumerate(info.parts):
            if number == 0 and names:
                text = f"{names} {text}".strip()  # the names a section defines are searched with its notes
            if not text and not part_title:
                continue
            if len(text) > TEXT_LIMIT:
                text = text[: TEXT_LIMIT - 1].rsplit(" ", 1)[0] + "\u2026"
            context = part_title or context
            sections.append([anchor, context, text])
    return output_path, title, sections


def index_script(entries: Iterable[PageEntry]) -> bytes:
    """The index file's bytes, pages sorted by path so that two builds give the same bytes."""
    pages = sorted(([path, title, sections] for path, title, sections in entries), key=lambda page: str(page[0]))
    body = json.dumps({"pages": pages}, ensure_ascii=False, separators=(",", ":"))
    # `</script` can not occur in JSON text loaded as a file; the escape keeps it safe to inline too.
    return ("window.litdocSearchIndex=" + body.replace("</", "<\\/") + ";\n").encode("utf-8")
