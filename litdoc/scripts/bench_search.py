"""Search as a reader meets it, on a built site opened from file:// in headless Chromium: for each query,
the bytes of index files it loaded and the time from the keystroke to the result count on screen;
first the query on a freshly opened page (it loads the manifest too), then the same page's later
queries. Prints the machine first.

    python scripts/bench_search.py SITE [--page PAGE] [--query Q ...]

SITE is a folder built by `litdoc build`. To measure at scale, build a real corpus of ~2,000 Python
files: the README's figures come from the Python 3.11 standard library's 1,790 `.py` files (site-packages
left out) and the first 210 of Pygments' package, copied under /tmp/corpus/src/{stdlib,pygments}:

    litdoc build --source /tmp/corpus/src --output /tmp/corpus/site --math mathjax
    python scripts/bench_search.py /tmp/corpus/site --page stdlib/json/index.html

The budget it checks (issue 23): ≤ 1 MB of index files and ≤ 300 ms per query. The baseline it names is
the whole index, which the previous client loaded for every first query.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

QUERIES = [
    "json",
    "socket timeout",
    "decode utf",
    "asyncio.gather",
    "thread lock",
    "subproces",  # a typo
    "http client request",
    "re",
    "lexer token",
    "β2",
]
BUDGET_BYTES = 1_000_000
BUDGET_MS = 300.0

_TIME_QUERY = """async (q) => {
  const box = document.getElementById('search-box'), count = document.getElementById('search-count');
  const t0 = performance.now();
  const done = new Promise(resolve => {
    const watch = new MutationObserver(() => { if (count.textContent) { watch.disconnect(); resolve(performance.now() - t0); } });
    watch.observe(count, {childList: true, characterData: true, subtree: true});
  });
  box.value = q;
  box.dispatchEvent(new Event('input'));
  return [await done, count.textContent];
}"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{cpu}, {os.cpu_count()} CPUs, load {load}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def index_bytes(site: Path) -> tuple[int, int]:
    files = [site / "_litdoc" / "search-index.js", *sorted((site / "_litdoc" / "search").glob("*.js"))]
    files = [f for f in files if f.is_file()]
    return sum(f.stat().st_size for f in files), len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--page", default="index.html", help="the page to search from, relative to SITE")
    parser.add_argument("--query", action="append", help="a query (repeat); default: a fixed list")
    parser.add_argument("--chromium", default=os.environ.get("LITDOC_CHROMIUM") or shutil.which("chromium"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    site = args.site.resolve()
    queries = args.query or QUERIES
    pages = sum(1 for _ in site.rglob("*.html"))
    total, count = index_bytes(site)
    version = subprocess.run([args.chromium, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {machine()}")
    print(f"browser: {version} (headless), from file://")
    print(
        f"site: {site} ({pages} pages); whole index: {total / 1e6:.2f} MB in {count} files (the baseline: what a client that loads it all transfers)"
    )
    print()
    print(f"{'query':24} {'first: KB':>10} {'ms':>7}   {'later: KB':>10} {'ms':>7}   results")
    firsts, laters, first_bytes, later_bytes = [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for number, query in enumerate(queries):
            context = browser.new_context(viewport={"width": 1000, "height": 900})
            page = context.new_page()
            loaded: list[str] = []
            page.on("request", lambda request, loaded=loaded: loaded.append(request.url))
            page.goto((site / args.page).as_uri())
            page.wait_for_load_state("load")

            def measure(text: str, page=page, loaded=loaded) -> tuple[float, int, str]:
                loaded.clear()
                elapsed, shown = page.evaluate(_TIME_QUERY, text)
                paths = [Path(unquote(urlparse(url).path)) for url in loaded if "/_litdoc/search" in url]
                return elapsed, sum(p.stat().st_size for p in paths if p.is_file()), shown

            first_ms, first_b, shown = measure(query)
            # Later: the same page, after another query (its shards and the manifest are loaded).
            measure(queries[(number + 1) % len(queries)])
            later_ms, later_b, _ = measure(query + " ")  # the same words again: nothing new to load
            other = queries[(number + 3) % len(queries)]
            other_ms, other_b, _ = measure(other)
            firsts.append(first_ms)
            laters.extend([later_ms, other_ms])
            first_bytes.append(first_b)
            later_bytes.append(other_b)
            print(f"{query:24} {first_b / 1e3:10.1f} {first_ms:7.1f}   {other_b / 1e3:10.1f} {other_ms:7.1f}   {shown}")
            context.close()
        browser.close()
    print()
    print(
        f"first query: median {statistics.median(firsts):.0f} ms, max {max(firsts):.0f} ms; "
        f"{statistics.median(first_bytes) / 1e3:.0f} KB median, {max(first_bytes) / 1e3:.0f} KB max "
        f"({max(first_bytes) / total:.1%} of the whole index at most)"
    )
    print(
        f"later queries: median {statistics.median(laters):.0f} ms, max {max(laters):.0f} ms; "
        f"{max(later_bytes) / 1e3:.0f} KB max"
    )
    ok = max(first_bytes + later_bytes) <= BUDGET_BYTES and max(firsts + laters) <= BUDGET_MS
    print(f"budget (≤ {BUDGET_BYTES / 1e6:.0f} MB, ≤ {BUDGET_MS:.0f} ms per query): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
