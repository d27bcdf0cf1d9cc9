"""Building the site: the only stage that touches the disk.

* **Safety.** The output folder holds a manifest, `.litdoc-manifest.json`, naming every file litdoc
  wrote there with its SHA-256. litdoc overwrites or deletes a file only when the manifest names it
  *and* the file still has the bytes litdoc wrote; anything else in the folder is the user's and is
  never touched. A non-empty folder with no manifest is refused unless `force` is set, and even then
  its existing files are not overwritten.
* **Incremental.** Each output's manifest entry carries a key: the hash of everything it was made
  from (its source bytes, the templates and theme files, the config, litdoc's own code and the
  versions of the libraries that render it, the site's shape). An output whose key is unchanged is
  not rebuilt. A source's hash is remembered, with the file's size, times and inode, in the cache folder
  (`SourceHashes`), so a rebuild reads only the files whose `stat` changed.
* **Parallel.** Pages are rendered in a process pool; each worker makes its `PageRenderer` (and so its
  math engine) once. A handful of pages is rendered in this process, where starting workers would
  cost more than it saves.
* **Atomic and deterministic.** Every file is written to a temporary name and renamed into place;
  nothing written depends on the time, the machine or the order in which workers finish.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, TextIO, Tuple, Union

from litdoc import __version__, site
from litdoc.config import Config
from litdoc.model import LitdocError
from litdoc.pages import PageRenderer, SiteContext, display_path, templates_fingerprint
from litdoc.site import SiteTree, SourceFile

MANIFEST_NAME = ".litdoc-manifest.json"
MANIFEST_FORMAT = "litdoc-manifest/1"
# Below this many pages to render, a pool costs more (process start, one math engine each) than it saves.
POOL_THRESHOLD = 8
# The libraries whose output lands in the pages, by module name (each has a __version__).
_RENDERING_LIBRARIES = ("jinja2", "pygments", "markdown_it", "mdit_py_plugins")


@dataclass(frozen=True)
class BuildOptions:
    force: bool = False         # write into a non-empty folder that litdoc did not make
    jobs: int = 0               # worker processes; 0 means one per CPU
    progress: Optional[bool] = None   # None: show a progress bar when stderr is a terminal
    traceback: bool = False     # print tracebacks of litdoc's own bugs (never of a user's mistake)


@dataclass
class BuildReport:
    built: List[str] = field(default_factory=list)       # pages written this time
    unchanged: List[str] = field(default_factory=list)   # pages whose key matched
    failed: List[str] = field(default_factory=list)      # one `path:line: reason` line each
    copied: List[str] = field(default_factory=list)      # assets and theme files written this time
    removed: List[str] = field(default_factory=list)     # stale generated files deleted
    kept: List[str] = field(default_factory=list)        # stale files left because they were edited
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (f"litdoc: {len(self.built)} pages built, {len(self.unchanged)} unchanged, "
                f"{len(self.failed)} failed in {self.seconds:.2f}s")


def message(error: LitdocError) -> str:
    """The one line a user sees for a mistake; a folder-level error has no line number."""
    return f"{error.path}: {error.reason}" if error.line <= 0 else str(error)


# ---------------------------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------------------------

def _safe_relpath(path: str) -> bool:
    """True for a plain relative '/'-path that stays inside the output (a manifest is not trusted)."""
    return (bool(path) and not path.startswith("/") and "\\" not in path and "\0" not in path
            and posixpath.normpath(path) == path and not path.startswith("..") and path != MANIFEST_NAME)


@dataclass(frozen=True)
class Manifest:
    """What a build left in the output folder.

    `files`: output path -> {"sha256": bytes written, "key": inputs' hash (pages), "title": (pages)}.
    `failed`: output path -> {"key", "error"} for pages that failed, so that an unchanged bad input is
    reported again without being rendered again.
    """
    files: Dict[str, Dict[str, str]] = field(default_factory=dict)
    failed: Dict[str, Dict[str, str]] = field(default_factory=dict)


def _string_entries(table: object) -> Dict[str, Dict[str, str]]:
    """The entries of a manifest table with a safe path and string values; anything else is dropped."""
    if not isinstance(table, dict):
        return {}
    return {rel: dict(entry) for rel, entry in table.items()
            if _safe_relpath(rel) and isinstance(entry, dict) and all(isinstance(v, str) for v in entry.values())}


def read_manifest(output: Path) -> Optional[Manifest]:
    """The manifest, `None` when there is none. Entries with unsafe paths are dropped, so a tampered
    manifest cannot make litdoc delete anything outside the output folder."""
    path = output / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise LitdocError(str(path), 0, f"not a litdoc manifest ({error}); move it away to rebuild") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), dict):
        raise LitdocError(str(path), 0, f"not a {MANIFEST_FORMAT} manifest; move it away to rebuild")
    files = {rel: entry for rel, entry in _string_entries(data["files"]).items() if "sha256" in entry}
    failed = {rel: entry for rel, entry in _string_entries(data.get("failed")).items() if {"key", "error"} <= set(entry)}
    return Manifest(files, failed)


def manifest_bytes(manifest: Manifest) -> bytes:
    """Sorted JSON with one file per line: small diffs when the output is committed, and each line is
    encoded by json's C encoder (`indent=` would switch to the slow pure-Python one)."""
    def table(name: str, entries: Dict[str, Dict[str, str]]) -> str:
        rows = [f"  {json.dumps(rel, ensure_ascii=False)}: {json.dumps(entries[rel], sort_keys=True, ensure_ascii=False)}"
                for rel in sorted(entries)]
        return f' "{name}": {{\n' + ",\n".join(rows) + "\n }" if rows else f' "{name}": {{}}'

    parts = [f' "format": "{MANIFEST_FORMAT}"', f' "generator": "litdoc {__version__}"', table("files", manifest.files)]
    if manifest.failed:
        parts.append(table("failed", manifest.failed))
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Writing files safely
# ---------------------------------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


SOURCE_HASHES_NAME = "source-hashes.json"
SOURCE_HASHES_FORMAT = "litdoc-source-hashes/1"
# A file changed this recently may change again within its file system's time granularity (two seconds
# on FAT) and keep its stat: its hash is not remembered, as git does not trust a "racily clean" entry.
_RACY_NS = 2_000_000_000


class SourceHashes:
    """SHA-256 of source files, remembered in `folder` by their stat, so that a rebuild need not read
    and hash every file again.

    A remembered hash is used only when the file's size, modification time, change time and inode all
    match (an edit, a copy over it or a `touch` changes one of them; the change time cannot be set
    back); otherwise the file is read again. The cache is one JSON file, written atomically; if the
    folder cannot be written, builds go on without it.
    """

    def __init__(self, folder: Optional[Path]):
        self.path = folder / SOURCE_HASHES_NAME if folder is not None else None
        self.known: Dict[str, list] = self._read()
        self.used: Dict[str, list] = {}   # what this build saw: the next cache holds only these

    def _read(self) -> Dict[str, list]:
        try:
            data = json.loads(self.path.read_bytes()) if self.path is not None else {}
        except (OSError, ValueError):
            return {}  # none yet, or unreadable: every file is read again
        files = data.get("files") if isinstance(data, dict) and data.get("format") == SOURCE_HASHES_FORMAT else None
        return files if isinstance(files, dict) else {}

    def digest(self, path: str) -> Tuple[str, Optional[bytes]]:
        """The hash of the file's bytes, and the bytes when they had to be read (None when remembered).
        `path` is a string: over thousands of files, making `Path` objects costs as much as the stats."""
        stat = os.stat(path)
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        entry = self.known.get(path)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == signature and isinstance(entry[4], str):
            self.used[path] = entry
            return entry[4], None
        data = read_bytes(path)
        digest = sha256(data)
        settled = time.time_ns() - _RACY_NS
        if len(data) == stat.st_size and stat.st_mtime_ns < settled and stat.st_ctime_ns < settled:
            self.used[path] = signature + [digest]
        return digest, data

    def save(self) -> None:
        if self.path is None or all(self.known.get(name) == entry for name, entry in self.used.items()):
            # Nothing learnt (a no-op build, or one that read only files changed just now): keep the
            # file as it is. An entry it holds for a file since changed or deleted is never matched.
            return
        data = json.dumps({"format": SOURCE_HASHES_FORMAT, "files": self.used}, sort_keys=True).encode("utf-8")
        try:
            atomic_write(self.path, data)
        except OSError:
            pass  # a read-only project: the next build reads every file again, nothing worse


def _inside(root: Path, path: Path) -> bool:
    """True when `path` (following any symlinked folders) lies inside `root`."""
    try:
        path.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return not path.is_symlink()


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and a rename, so a reader (or a
    crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.litdoc-{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def may_write(output: Path, rel: str, manifest: Dict[str, Dict[str, str]]) -> Optional[str]:
    """None when litdoc may (over)write `output/rel`; otherwise the reason it may not."""
    target = output / rel
    if not _inside(output, target):
        return f"refusing to write {rel}: it would land outside the output folder (a symlink?)"
    if not target.exists():
        return None
    if rel not in manifest:
        return f"refusing to overwrite {target}: litdoc did not write it"
    if not target.is_file() or sha256(target.read_bytes()) != manifest[rel]["sha256"]:
        return f"refusing to overwrite {target}: it changed since litdoc wrote it (delete it to regenerate)"
    return None


# ---------------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageJob:
    item: SourceFile
    data: bytes
    key: str


@dataclass(frozen=True)
class PageResult:
    output_path: str
    key: str
    sha256: str = ""
    title: str = ""
    error: str = ""             # one line, empty on success
    user_error: bool = True     # False for litdoc's own bugs, which are never cached


# The renderer of a worker process, made once by `_init_worker`; the build's own process never sets it.
_worker_renderer: Optional[PageRenderer] = None


def _init_worker(context: SiteContext) -> None:
    global _worker_renderer
    _worker_renderer = PageRenderer(context)


def render_job(renderer: PageRenderer, output: Path, job: PageJob, show_traceback: bool) -> PageResult:
    """Render one page and write it; a user's mistake becomes `PageResult.error`, never an exception."""
    path = display_path(renderer.context, job.item)
    try:
        html, title = renderer.render(job.item, job.data)
    except LitdocError as error:
        return PageResult(job.item.output_path, job.key, error=message(error))
    except RecursionError:
        return PageResult(job.item.output_path, job.key, error=f"{path}:1: too deeply nested to render")
    except Exception as error:  # litdoc's own bug: name it, keep building the other pages
        detail = traceback.format_exc() if show_traceback else ""
        return PageResult(job.item.output_path, job.key, user_error=False,
                          error=f"{path}:1: internal error: {type(error).__name__}: {error} "
                                f"(please report; --traceback shows where){detail and chr(10) + detail}")
    data = html.encode("utf-8")
    atomic_write(output / job.item.output_path, data)
    return PageResult(job.item.output_path, job.key, sha256=sha256(data), title=title)


def _worker_render(output: Path, job: PageJob, show_traceback: bool) -> PageResult:
    assert _worker_renderer is not None, "worker used before _init_worker"
    return render_job(_worker_renderer, output, job, show_traceback)


# ---------------------------------------------------------------------------------------------
# Keys: what an output depends on
# ---------------------------------------------------------------------------------------------

def _litdoc_code_hash() -> str:
    """litdoc's own Python files: an edited stage changes every page, version bump or not."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _library_versions() -> Dict[str, str]:
    """Versions of the rendering libraries, and the pins of the math assets (Temml's version decides the
    MathML). Read from the modules rather than importlib.metadata, whose import alone costs more than a
    no-op build's other work; every build imports these modules anyway."""
    import importlib

    from litdoc import math_assets

    versions = {name: str(getattr(importlib.import_module(name), "__version__", "unknown")) for name in _RENDERING_LIBRARIES}
    versions["math assets"] = math_assets.assets_fingerprint()
    return versions


def page_key(base_key: str, source_digest: str) -> str:
    """A page's key: the site's inputs and its own source's hash."""
    return sha256(f"{base_key}\0{source_digest}".encode())


def site_key(config: Config, tree: SiteTree) -> str:
    parts = {
        "litdoc": _litdoc_code_hash(),
        "libraries": _library_versions(),
        "templates": templates_fingerprint(config),
        "config": config.fingerprint(),
        "tree": tree.fingerprint(),
    }
    return sha256(json.dumps(parts, sort_keys=True).encode())


# ---------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------

class _Progress:
    """A one-line bar on stderr, redrawn in place; silent unless stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO, enabled: bool):
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = enabled and total > 0

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} pages")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def check_output_folder(output: Path, force: bool) -> Manifest:
    """The manifest of `output`, after refusing a foreign non-empty folder (unless `force`)."""
    if output.exists() and not output.is_dir():
        raise LitdocError(str(output), 0, "output exists and is not a folder")
    manifest = read_manifest(output) if output.is_dir() else None
    if manifest is None:
        if output.is_dir() and any(output.iterdir()) and not force:
            raise LitdocError(str(output), 0, "refusing to write into a non-empty folder that litdoc did not make "
                                              "(no .litdoc-manifest.json); pass --force to write beside its files")
        manifest = Manifest()
    return manifest


def _source_prefix(config: Config) -> str:
    prefix = Path(os.path.relpath(config.source, config.project)).as_posix()
    return "" if prefix == "." else prefix


def _listing_entries(item: SourceFile, tree: SiteTree, titles: Dict[str, str]) -> List[Tuple[str, str]]:
    """A folder's pages and sub-folders, each with its title."""
    folder = item.source_path
    entries = []
    for other in tree.files:
        if other.kind == site.ASSET or other.output_path == item.output_path:
            continue
        out_folder = posixpath.dirname(other.output_path)
        is_index = posixpath.basename(other.output_path) == "index.html"
        if (out_folder == folder and not is_index) or (is_index and posixpath.dirname(out_folder) == folder and out_folder != folder):
            entries.append((titles.get(other.output_path) or site.fallback_title(other, ""), other.output_path))
    return entries


def build_site(config: Config, options: BuildOptions = BuildOptions(), stream: TextIO = sys.stderr) -> BuildReport:
    """Build `config.source` into `config.output`. Raises `LitdocError` only for problems that stop the
    whole build (a foreign output folder, an unreadable manifest); a bad page is counted in the report."""
    started = time.perf_counter()
    report = BuildReport()
    output = config.output
    manifest = check_output_folder(output, options.force)
    old = manifest.files
    new: Dict[str, Dict[str, str]] = {}
    failed: Dict[str, Dict[str, str]] = {}

    tree, conflicts = site.scan_tree(config.source)
    prefix = _source_prefix(config)
    context = SiteContext(config=config, tree=tree, source_prefix=prefix)
    for source_path, reason in conflicts:
        report.failed.append(f"{posixpath.join(prefix, source_path)}:1: {reason}")
    base_key = site_key(config, tree)

    def keep_failed(rel: str) -> None:
        # The previous output (if any) stays litdoc's, with no key, so the next build retries it.
        if rel in old and (output / rel).exists():
            new[rel] = {"sha256": old[rel]["sha256"], "key": "", **({"title": old[rel]["title"]} if "title" in old[rel] else {})}

    # Pages: decide which need rendering.
    hashes = SourceHashes(config.cache)
    source_root, output_root = os.fspath(config.source), os.fspath(output)
    jobs: List[PageJob] = []
    titles: Dict[str, str] = {}
    for item in tree.pages:
        rel = item.output_path
        source = os.path.join(source_root, item.source_path)
        digest, data = hashes.digest(source)
        key = page_key(base_key, digest)
        previous = old.get(rel)
        if previous and previous.get("key") == key and os.path.isfile(os.path.join(output_root, rel)):
            new[rel] = previous
            titles[rel] = previous.get("title", "")
            report.unchanged.append(rel)
            continue
        known_failure = manifest.failed.get(rel)
        if known_failure and known_failure["key"] == key:  # same inputs, same error: no need to render again
            report.failed.append(known_failure["error"])
            failed[rel] = known_failure
            keep_failed(rel)
            continue
        refusal = may_write(output, rel, old)
        if refusal:
            report.failed.append(f"{display_path(context, item)}:1: {refusal}")
            keep_failed(rel)
            continue
        if data is None:
            # The hash was remembered; the key must be that of the bytes rendered, so read them now.
            data = read_bytes(source)
            key = page_key(base_key, sha256(data))
        jobs.append(PageJob(item, data, key))

    progress = _Progress(len(jobs), stream, stream.isatty() if options.progress is None else options.progress)
    results: List[PageResult] = []
    renderer: Optional[PageRenderer] = None
    workers = options.jobs or os.cpu_count() or 1
    if jobs and (workers == 1 or len(jobs) < POOL_THRESHOLD):
        renderer = PageRenderer(context)
        for job in jobs:
            results.append(render_job(renderer, output, job, options.traceback))
            progress.step()
    elif jobs:
        # spawn, not fork: `litdoc serve` builds from a process that also runs server threads.
        import concurrent.futures  # only a build with many pages pays for these imports
        import multiprocessing

        pool_context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=pool_context,
                                                    initializer=_init_worker, initargs=(context,)) as pool:
            # Largest first, so that no worker is left with one big file while the others sit idle.
            ordered = sorted(jobs, key=lambda job: (-len(job.data), job.item.output_path))
            futures = [pool.submit(_worker_render, output, job, options.traceback) for job in ordered]
            for future in concurrent.futures.as_completed(futures):
                results.append(future.result())
                progress.step()
    progress.close()
    for result in sorted(results, key=lambda r: r.output_path):
        if result.error:
            report.failed.append(result.error)
            if result.user_error:
                failed[result.output_path] = {"key": result.key, "error": result.error}
            keep_failed(result.output_path)
        else:
            new[result.output_path] = {"sha256": result.sha256, "key": result.key, "title": result.title}
            titles[result.output_path] = result.title
            report.built.append(result.output_path)

    # Generated folder listings depend on the titles of what they list.
    for item in tree.listings:
        rel = item.output_path
        entries = _listing_entries(item, tree, titles)
        key = sha256(base_key.encode() + b"\0" + json.dumps(entries).encode())
        title = site.fallback_title(item, config.title)
        titles[rel] = title
        previous = old.get(rel)
        if previous and previous.get("key") == key and (output / rel).is_file():
            new[rel] = previous
            report.unchanged.append(rel)
            continue
        refusal = may_write(output, rel, old)
        if refusal:
            report.failed.append(f"{rel}: {refusal}")
            keep_failed(rel)
            continue
        try:
            renderer = renderer or PageRenderer(context)
            data = renderer.render_listing(item, entries).encode("utf-8")
        except LitdocError as error:
            report.failed.append(message(error))
            keep_failed(rel)
            continue
        atomic_write(output / rel, data)
        new[rel] = {"sha256": sha256(data), "key": key, "title": title}
        report.built.append(rel)

    # Files copied from the source tree, and litdoc's own theme files.
    for rel, content, label in _extra_files(config, tree):
        previous = old.get(rel)
        if isinstance(content, Path):
            digest, data = hashes.digest(os.fspath(content))
        else:
            digest, data = sha256(content), content
        if previous and previous.get("sha256") == digest and (output / rel).is_file():
            new[rel] = {"sha256": digest}
            continue
        refusal = may_write(output, rel, old)
        if refusal:
            report.failed.append(f"{label}: {refusal}")
            keep_failed(rel)
            continue
        if data is None:  # a remembered hash: read the file to copy it, and name the bytes copied
            data = content.read_bytes()
            digest = sha256(data)
        atomic_write(output / rel, data)
        new[rel] = {"sha256": digest}
        report.copied.append(rel)

    hashes.save()
    _remove_stale(output, old, new, report)
    report.failed.sort()
    data = manifest_bytes(Manifest(new, failed))
    manifest_path = output / MANIFEST_NAME
    if not manifest_path.is_file() or manifest_path.read_bytes() != data:  # a no-op build writes nothing
        atomic_write(manifest_path, data)
    report.seconds = time.perf_counter() - started
    return report


def _extra_files(config: Config, tree: SiteTree) -> List[Tuple[str, Union[bytes, Path], str]]:
    """(output path, content, label for messages) of every non-page file: assets, theme, math, sitemap.
    The content of a file copied from the source tree is its path, read only if it must be copied."""
    from litdoc.highlight import pygments_css
    from litdoc.markup import math_assets

    files: List[Tuple[str, Union[bytes, Path], str]] = []
    for item in tree.assets:
        files.append((item.output_path, config.source / item.source_path, item.source_path))
    theme = site.THEME_DIR
    static = Path(__file__).parent / "theme" / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            files.append((f"{theme}/{path.relative_to(static).as_posix()}", path.read_bytes(), "theme"))
    files.append((f"{theme}/pygments.css", pygments_css().encode("utf-8"), "theme"))
    for dest, content in math_assets(config.math):  # destinations are relative to the output root
        files.append((dest, content, "math assets"))
    # GitHub Pages runs Jekyll, which would drop the `_litdoc` folder without this marker.
    files.append((".nojekyll", b"", "site"))
    if config.base_url:
        pages = [f.output_path for f in tree.files if f.kind != site.ASSET]
        files.append((site.SITEMAP, site.sitemap_xml(config.base_url, pages).encode("utf-8"), "sitemap"))
    return files


def _remove_stale(output: Path, old: Dict[str, Dict[str, str]], new: Dict[str, Dict[str, str]],
                  report: BuildReport) -> None:
    """Delete files litdoc wrote before and will not write now, if they still hold litdoc's bytes."""
    for rel in sorted(set(old) - set(new)):
        target = output / rel
        if not _inside(output, target) or not target.is_file():
            continue
        if sha256(target.read_bytes()) != old[rel]["sha256"]:
            report.kept.append(rel)  # edited by someone: theirs now, and no longer in the manifest
            continue
        target.unlink()
        report.removed.append(rel)
        folder = target.parent
        # Folders emptied by this removal go too, up to (not including) the output root.
        while folder != output and _inside(output, folder) and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
