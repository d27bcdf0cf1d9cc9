# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The site's search index: a small manifest, `_litdoc/search-index.js`, and the files it points to
under `_litdoc/search/`, all built with the site.

Scripts, not JSON: a page opened from `file://` may not `fetch` a file beside it, but it may load a
script, so search works from a folder on disk as from any static host, with no server and no network.
The page's script (`theme/static/litdoc.js`) loads the manifest on first use, then only the files a
query needs.

**What is indexed is what a reader sees**: the notes' rendered text (a formula as the characters of its
MathML, so "β2" finds $\\beta_2$; TeX, under MathJax, is turned into the same characters by
`tex_text`), the headings as rendered, and, with the notes, the names the section's code uses and its
definition's qualified name (`Adam.step_param`).

**Words, not substrings.** Text is cut into words (`tokens`: letters, digits and `_`, after NFKC and
lower case; `litdoc.js` cuts a query the same way). A query word matches a word that equals it, starts
with it, or is one edit away from it (a typo after the second letter). An identifier's `_`-separated
parts are words too, so "param" finds `step_param`.

**Split so a query loads little.** A 2,000-page site's whole index is megabytes; a query needs a few
words' postings and the text of 30 results. So:

- `search-index.js` (the manifest): where each page's entries start, where each postings shard and
  each text chunk starts, and a version that is added to every other file's URL;
- `search/t<N>.js`: postings shards, a contiguous range of the sorted vocabulary each, cut at
  `SHARD_BYTES`: `[[word, [ids in titles], [ids in text]], ...]`, ids as differences from the last;
- `search/d<N>.js`: text chunks, consecutive entries cut at `CHUNK_BYTES`: the pages they belong to
  and `[anchor, title, snippet text]` per entry.

An entry is a page (its title, and its summary as its text) or a part of a page (a section, or the text under a heading). A page's
entry comes first, then its parts; the manifest's page starts say which entries are pages. Ranking
(in `litdoc.js`): page titles, then headings and definitions, then text; see litdoc's README for why
this is our own code and not a library's.
"""

from __future__ import annotations

import hashlib
import html
import json
import keyword
import re
import unicodedata
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser

from litdoc import anchors, htmlscan
from litdoc.model import ParsedModule

INDEX_PATH = "_litdoc/search-index.js"
SHARD_DIR = "_litdoc/search"
TEXT_LIMIT = 600  # characters of a part's text kept for its snippet; all of its words are indexed
SHARD_BYTES = 32_000
CHUNK_BYTES = 12_000

# One row of a page, remembered in the build cache: [anchor, title, own title?, text, more words].
# "own title" is 1 when the title is the part's heading or definition, 0 when it is the heading above.
PageEntry = tuple[str, str, list[list[object]]]

_WORD = re.compile(r"[^\W]+")  # letters, digits and `_`: the same as litdoc.js's /[\p{L}\p{N}_]+/u
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def tokens(text: str) -> list[str]:
    """The words of `text` as search sees them: NFKC, lower case, letters/digits/`_` runs."""
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.lower())


def index_words(text: str) -> set[str]:
    """The words a text is found by: its tokens, and the parts of those joined by `_`."""
    words = set()
    for word in tokens(text):
        words.add(word)
        if "_" in word:
            words.update(part for part in word.split("_") if part)
    return words


# -- TeX to the characters a reader sees (for math left to MathJax) -----------------------------
_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
    "upsilon phi chi psi omega"
).split()
_UNICODE_NAME = {"lambda": "LAMDA"}  # Unicode spells it so
_TEX_SYMBOLS: dict[str, str] = {}
for _name in _GREEK:
    _letter = _UNICODE_NAME.get(_name, _name.upper())
    _TEX_SYMBOLS[_name] = unicodedata.lookup(f"GREEK SMALL LETTER {_letter}")
    _TEX_SYMBOLS[_name.capitalize()] = unicodedata.lookup(f"GREEK CAPITAL LETTER {_letter}")
_TEX_SYMBOLS.update(
    {
        "epsilon": "\u03f5",
        "varepsilon": "\u03b5",
        "vartheta": "\u03d1",
        "varphi": "\u03c6",
        "phi": "\u03d5",
        "ell": "\u2113",
        "nabla": "\u2207",
        "partial": "\u2202",
        "infty": "\u221e",
        "sqrt": "\u221a",
        "sum": "\u2211",
        "prod": "\u220f",
        "int": "\u222b",
        "cdot": "\u22c5",
        "times": "\u00d7",
        "odot": "\u2299",
        "pm": "\u00b1",
        "leq": "\u2264",
        "le": "\u2264",
        "geq": "\u2265",
        "ge": "\u2265",
        "neq": "\u2260",
        "approx": "\u2248",
        "sim": "\u223c",
        "in": "\u2208",
        "leftarrow": "\u2190",
        "gets": "\u2190",
        "rightarrow": "\u2192",
        "to": "\u2192",
        "mapsto": "\u21a6",
        "log": "log",
        "exp": "exp",
        "max": "max",
        "min": "min",
        "sin": "sin",
        "cos": "cos",
        "tanh": "tanh",
    }
)
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+)\s*|\\(.)")
_SCRIPT = re.compile(r"\s*([_^])\s*")


def tex_text(tex: str) -> str:
    """`\\eta_t / (\\sqrt{G_t} + \\epsilon)` -> `ηt/(√Gt+ϵ)`: roughly what MathJax shows, as characters.
    Commands that only style (`\\mathbf`, `\\frac`, `\\text`) leave their arguments."""

    def command(match: re.Match[str]) -> str:
        if match.group(2) is not None:
            return " " if match.group(2) in ",;:! " else match.group(2)
        return _TEX_SYMBOLS.get(match.group(1), "") + " "

    text = _SCRIPT.sub(r"\1", _TEX_COMMAND.sub(command, tex))  # a script joins its base: `\beta_2` is `β2`
    return " ".join(text.translate({ord(c): None for c in "{}_^$&~"}).split())


# -- the rendered notes as text, cut at their headings -------------------------------------------
_BLOCKS = frozenset("p div li ul ol table tr td th pre blockquote h1 h2 h3 h4 h5 h6 br dt dd figure figcaption".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_MATH_SCRIPTS = frozenset("msub msup msubsup munder mover munderover mmultiscripts".split())
_MATH_TOKENS = frozenset("mi mn mo mtext ms".split())
_SKIPPED = frozenset({"annotation", "annotation-xml", "script", "style", "template"})


class _TextParser(HTMLParser):
    """The text a reader sees in rendered notes, in chunks: before the first heading, then one per heading
    (its id, its text, the text under it). MathML's characters are joined without spaces (`β2`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[list[object]] = [["", "", []]]  # [heading id, heading text, text pieces]
        self.skip = 0
        self.math = 0
        self.script = 0  # inside msub, msup...: the base and its scripts are one word (`β2`)
        self.tex: list[str] | None = None  # a MathJax formula's TeX, while inside its span
        self.tex_depth = 0
        self.heading: list[str] | None = None
        self.depth = 0

    def _out(self, text: str) -> None:
        if self.heading is not None:
            self.heading.append(text)
        else:
            pieces = self.chunks[-1][2]
            assert isinstance(pieces, list)
            pieces.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += 1
        if tag in _SKIPPED:
            self.skip += 1
        elif tag == "math":
            self.math += 1
        elif self.math and tag in _MATH_SCRIPTS:
            if not self.script:
                self._out(" ")
            self.script += 1
        elif self.math and tag in _MATH_TOKENS and not self.script:
            self._out(" ")  # `β1β2` would be one word: a token outside a script is a word of its own
        elif tag in _HEADINGS:
            self.heading = []
            self.chunks.append([dict(attrs).get("id") or "", "", []])
        elif tag == "span" and self.tex is None and "math" in (dict(attrs).get("class") or "").split():
            self.tex, self.tex_depth = [], self.depth
        elif tag == "img":
            self._out(" " + (dict(attrs).get("alt") or "") + " ")
        if tag in _BLOCKS:
            self._out(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag == "math":
            self.math = max(0, self.math - 1)
            self._out(" ")
        elif self.math and tag in _MATH_SCRIPTS:
            self.script = max(0, self.script - 1)
        elif tag in _HEADINGS and self.heading is not None:
            self.chunks[-1][1] = " ".join("".join(self.heading).split())
            self.heading = None
        elif tag == "span" and self.tex is not None and self.depth == self.tex_depth:
            tex, self.tex = "".join(self.tex), None
            self._out(" " + tex_text(_strip_delimiters(tex)) + " ")
        if tag in _BLOCKS:
            self._out(" ")
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.tex is not None and not self.math:
            self.tex.append(data)
        elif self.math:
            self._out(data.strip())
        else:
            self._out(data)


def _strip_delimiters(tex: str) -> str:
    tex = tex.strip()
    for left, right in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
        if tex.startswith(left) and tex.endswith(right) and len(tex) >= len(left) + len(right):
            return tex[len(left) : len(tex) - len(right)]
    return tex


_ATTRIBUTES_READ = _HEADINGS | {"span", "img"}  # the tags whose attributes _TextParser looks at


def _read_strict(parser: _TextParser, text: str) -> bool:
    """Give `parser` the events of `text` (`htmlscan`), or False where `text` leaves that grammar."""
    events = htmlscan.scan(text)
    if events is None:
        return False
    unescape = html.unescape
    for event in events:
        if len(event) == 2:
            parser.handle_data(unescape(text[event[0] : event[1]]))
        elif len(event) == 5:
            _, _, tag, attribute_text, closed = event
            read = attribute_text and tag in _ATTRIBUTES_READ
            parser.handle_starttag(tag, htmlscan.attributes(attribute_text) if read else [])
            if closed:
                parser.handle_endtag(tag)
        else:
            parser.handle_endtag(event[2])
    return True


def visible_chunks(docs_html: str) -> list[tuple[str, str, str]]:
    """Rendered notes as (heading id, heading text, text): first the text before any heading (id "")."""
    parser = _TextParser()
    if not _read_strict(parser, docs_html):  # read as HTMLParser reads it, at a tenth of its cost
        parser = _TextParser()
        parser.feed(docs_html)
        parser.close()
    if parser.tex is not None:  # an unclosed math span: keep its text
        parser._out(" " + "".join(parser.tex))
    out = []
    for heading_id, heading_text, pieces in parser.chunks:
        assert isinstance(pieces, list)
        out.append((str(heading_id), str(heading_text), " ".join("".join(map(str, pieces)).split())))
    return out


def html_text(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (a heading's inner HTML), math as its characters."""
    chunks = visible_chunks(f"<p>{fragment}</p>")
    return " ".join(text for _, _, text in chunks if text) or html.unescape(re.sub(r"<[^>]*>", "", fragment))


def code_names(lines: Iterable[str]) -> list[str]:
    """The names a section's code uses (`lerp_`, `exp_avg`), keywords left out, in first-use order."""
    seen: dict[str, None] = {}
    for line in lines:
        for name in _NAME.findall(line):
            if not keyword.iskeyword(name):
                seen.setdefault(name, None)
    return list(seen)


def _cut(text: str) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    return text[: TEXT_LIMIT - 1].rsplit(" ", 1)[0] + "\u2026"


def page_entry(
    output_path: str,
    title: str,
    module: ParsedModule,
    infos: Sequence[anchors.SectionInfo],
    docs_html: Sequence[str] = (),
) -> PageEntry:
    """One page's row of the index: each part (a section's notes before its first heading, and the notes
    under each heading) that has text, a heading, or code. `docs_html` is each section's rendered notes
    (what the reader sees); without it the notes' Markdown source is used."""
    # The page's own row (anchor ""): its summary, which says what the whole page is about.
    summary = module.front_matter.summary or ""
    rows: list[list[object]] = [["", "", 0, summary, ""]] if summary else []
    context = title  # a part without a heading of its own is named by the heading above it
    for number, (section, info) in enumerate(zip(module.sections, infos)):
        rendered = docs_html[number] if number < len(docs_html) else ""
        headed: list[list[str]] = []  # [slug, heading, text] per heading of the section
        if rendered:
            slugs = {heading.slug: heading.text for heading in info.headings}
            chunks = visible_chunks(rendered)
            first_text = chunks[0][2]
            for heading_id, heading, body in chunks[1:]:
                if heading_id in slugs:
                    headed.append([heading_id, heading or slugs[heading_id], body])
                elif headed:  # a heading litdoc did not make (raw HTML): its text joins the part above
                    headed[-1][2] = f"{headed[-1][2]} {heading} {body}".strip()
                else:
                    first_text = f"{first_text} {heading} {body}".strip()
        else:
            parts = [list(part) for part in info.parts]
            first_text = parts.pop(0)[2] if len(parts) > len(info.headings) else ""
            headed = parts
        # The code's names belong with its definition, else with the notes just above the code.
        names = " ".join(code_names(line for _, line in section.code_lines))
        if first_text or info.qualname or (names and not headed):
            context = info.qualname or context
            rows.append([info.anchor, context, 1 if info.qualname else 0, first_text, names])
            names = ""
        for number_in, (slug, heading, body) in enumerate(headed):
            context = heading
            rows.append([slug, heading, 1, body, names if number_in == len(headed) - 1 else ""])
    for row in rows:
        text = str(row[3])
        if len(text) > TEXT_LIMIT:
            shown = _cut(text)
            rest = index_words(text) - index_words(shown)
            row[3], row[4] = shown, " ".join(filter(None, [str(row[4]), " ".join(sorted(rest))]))
    return output_path, title, rows


# -- the split index -------------------------------------------------------------------------------
def _deltas(ids: Iterable[int]) -> list[int]:
    out, last = [], 0
    for value in sorted(ids):
        out.append(value - last)
        last = value
    return out


# One encoder for every item: `json.dumps` with options makes a new encoder per call, which cost more
# than the encoding of a posting.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(data: object) -> str:
    return _ENCODE(data)


def _script(name: str, body: str) -> bytes:
    """A file of the index: `body`, JSON, handed to the page's loader."""
    # `</script` can not occur in JSON loaded as a file; the escape keeps it safe to inline too.
    return f"litdocSearchData({json.dumps(name)},{body.replace('</', '<' + chr(92) + '/')});\n".encode()


def _packs(items: Iterable[tuple[int, object, str]], limit: int) -> list[tuple[int, list[object], str]]:
    """Consecutive items, each given with its JSON, in packs of about `limit` bytes of JSON: (index of the
    first item, items, their JSON array). The pack's array is its items' JSON joined, which is the array's
    own JSON."""
    packs: list[tuple[int, list[object], list[str]]] = []
    size = 0
    for number, item, text in items:
        cost = len(text) + 1
        if not packs or size + cost > limit:
            packs.append((number, [], []))
            size = 0
        packs[-1][1].append(item)
        packs[-1][2].append(text)
        size += cost
    return [(first, pack_items, "[" + ",".join(texts) + "]") for first, pack_items, texts in packs]


class _Postings:
    """word -> the entries it is found in, in increasing order: entries are added in order, so a list,
    appended to, stays sorted (and one that is not, which no caller makes, is sorted when read)."""

    def __init__(self) -> None:
        self.entries: dict[str, list[int]] = {}
        self.unsorted: set[str] = set()

    def add(self, words: Iterable[str], entry: int) -> None:
        entries = self.entries
        for word in words:
            found = entries.get(word)
            if found is None:
                entries[word] = [entry]
            elif entry > found[-1]:
                found.append(entry)
            elif entry < found[-1]:
                found.append(entry)
                self.unsorted.add(word)

    def deltas(self, word: str) -> str:
        """The word's entries as differences from the last (`_deltas`), in JSON (without the brackets)."""
        found = self.entries.get(word, [])
        return ",".join(map(str, _deltas(set(found) if word in self.unsorted else found)))


def index_files(entries: Iterable[PageEntry]) -> list[tuple[str, bytes]]:
    """The manifest and the files it points to, as (output path, bytes); pages sorted by path so that two
    builds of the same pages give the same bytes."""
    pages = sorted(entries, key=lambda page: str(page[0]))
    docs: list[tuple[int, list[str]]] = []  # (page number, [anchor, title, snippet text]) per entry
    page_starts: list[int] = []
    titles, texts = _Postings(), _Postings()
    for number, (_path, title, rows) in enumerate(pages):
        page_at = len(docs)
        page_starts.append(page_at)
        titles.add(index_words(title), page_at)
        docs.append((number, ["", "", ""]))
        for anchor, part_title, own, text, more in rows:
            words = index_words(f"{text} {more}")
            if not anchor:  # the page's summary: the page entry's text
                docs[page_at][1][2] = str(text)
                entry = page_at
            else:
                entry = len(docs)
                docs.append((number, [str(anchor), str(part_title), str(text)]))
                if own:
                    titles.add(index_words(str(part_title)) | index_words(str(anchor).replace(".", " ")), entry)
            texts.add(words, entry)

    files: list[tuple[str, str]] = []  # (name, JSON)
    # A word is letters, digits and `_` (`_WORD`), none of which JSON escapes: its JSON is itself, quoted.
    postings = (
        (0, word, f'["{word}",[{titles.deltas(word)}],[{texts.deltas(word)}]]')
        for word in sorted(titles.entries.keys() | texts.entries.keys())
    )
    shard_starts: list[str] = []
    for number, (_, shard, shard_json) in enumerate(_packs(postings, SHARD_BYTES)):
        files.append((f"t{number}", shard_json))
        shard_starts.append(str(shard[0]))

    chunk_starts: list[int] = []
    chunks = _packs(((i, row, _json(row)) for i, (_, row) in enumerate(docs)), CHUNK_BYTES)
    for number, (start, rows_of_chunk, rows_json) in enumerate(chunks):
        chunk_pages = {}
        for entry in range(start, start + len(rows_of_chunk)):
            page = docs[entry][0]
            chunk_pages[page] = [str(pages[page][0]), str(pages[page][1])]
        files.append((f"d{number}", '{"p":' + _json(chunk_pages) + ',"e":' + rows_json + "}"))
        chunk_starts.append(start)

    out = [(f"{SHARD_DIR}/{name}.js", _script(name, body)) for name, body in files]
    digest = hashlib.sha256(b"".join(data for _, data in out)).hexdigest()[:12]
    manifest = {
        "version": digest,
        "pages": _deltas(page_starts),
        "entries": len(docs),
        "shards": shard_starts,
        "chunks": _deltas(chunk_starts),
    }
    return [(INDEX_PATH, _script("index", _json(manifest))), *out]
