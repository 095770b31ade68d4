"""Where the crawl process's CPU goes while crawling, by family of functions: bare Scrapy against the full pipeline.

    .venv/bin/python bench/crawl_sample.py [--scale 31]

Crawls the demo marketplace both ways as bench/crawl.py does (each crawl's CPU per page while crawling, measured
without a profiler), then both again under the sampling profiler py-spy (`pip install -e .[bench]`), and prints
each family's share of the samples times that CPU: what bench/crawl.py's per-step table cannot see (Scrapy's
handling of items, the worker processes' pipes, search pages, collections).
"""

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import crawl  # bench/crawl.py, beside this file

# Families of the crawl process's samples, first match wins (a frame's name: `Class.method` or `function`). Ours
# come first, so what Scrapy does inside our callbacks and pipelines counts as theirs.
FAMILIES = (
    ("spider: robot check", r"^blocked_reason$"),
    ("spider: parse_listing", r"\.parse_listing$"),
    ("spider: identity, sanitise (read_listing)", r"^ListingReader\.read_listing$"),
    ("spider: search pages (cards, their requests)", r"^MarketplaceSpider\.parse_search$"),
    ("spider: the rest (parse_item, build_item, counts)", r"^(MarketplaceSpider|ListingReader|Counts)\."),
    (
        "pipelines and their workers' pipes",
        r"^(ClassifyPipeline|StorePipeline|OpenGroup)\.|concurrent/futures|multiprocessing/",
    ),
    (
        "Scrapy: each callback's output (scraper, spider middlewares, item pipelines, signals)",
        r"^(ItemPipelineManager|Scraper|SpiderMiddlewareManager|_parallel_asyncio|MutableAsyncChain|SignalManager)",
    ),
    ("Scrapy, Twisted, asyncio: downloads, scheduling, the loop (and collections)", r"."),
)
IDLE_FRAMES = re.compile(r"select|Condition\.wait|untilConcludes")


def sampled_families(raw: Path) -> dict[str, float]:
    """Share of the crawl process's busy samples while crawling, per family (py-spy --format raw: one line per
    stack, `frame;frame;... count`, the root first). The executors' threads (pickling, pipes) count as pipelines."""
    rules = [(name, re.compile(pattern)) for name, pattern in FAMILIES]
    counts: dict[str, int] = dict.fromkeys((name for name, _ in FAMILIES), 0)
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        names = [frame.split(" (")[0] for frame in stack.split(";")]
        if not names or IDLE_FRAMES.search(names[-1]):
            continue
        if names[0].startswith("Thread._bootstrap"):
            counts["pipelines and their workers' pipes"] += int(n)
        elif "BaseEventLoop.run_forever" in names:  # not imports before the crawl nor the work after it
            family = next(name for name, rule in rules if any(rule.search(frame) for frame in names))
            counts[family] += int(n)
    total = sum(counts.values()) or 1
    return {name: n / total for name, n in counts.items()}


def sample_crawls(url: str, workdir: Path, crawling_ms: dict[str, float]) -> None:
    """Both crawls again under py-spy; the families' shares times each crawl's CPU per page while crawling as
    measured without the profiler (`crawling_ms`: under py-spy the crawl is the profiler's child)."""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise SystemExit("--sample needs py-spy: .venv/bin/pip install py-spy")
    per_page = {}
    for name, args in (
        ("bare", [sys.executable, crawl.__file__, "bare-child", url, str(workdir / "sampled-bare.json")]),
        ("full", [sys.executable, *crawl.full_crawl_args(url, workdir / "sampled.sqlite")]),
    ):
        raw = workdir / f"{name}.raw"
        crawl.run_measured([spy, "record", "-r", "200", "-f", "raw", "-o", str(raw), "--", *args])
        per_page[name] = {family: share * crawling_ms[name] for family, share in sampled_families(raw).items()}
    print("\nThe crawl process's CPU ms per page while crawling, by family (py-spy samples x measured CPU):")
    print(f"  {'family':86} {'bare':>6} {'full':>6} {'added':>6}")
    for family, _ in FAMILIES:
        bare, full = per_page["bare"][family], per_page["full"][family]
        print(f"  {family:86} {bare:6.2f} {full:6.2f} {full - bare:+6.2f}")
    bare, full = sum(per_page["bare"].values()), sum(per_page["full"].values())
    print(f"  {'while crawling':86} {bare:6.2f} {full:6.2f} {full - bare:+6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=31, help="catalogue copies (31 x 166 = 5,146 item pages)")
    options = parser.parse_args()

    from demo_market import DemoMarket

    with (
        tempfile.TemporaryDirectory(prefix="keywatch-bench-") as tmp,
        DemoMarket(port=0, scale=options.scale) as market,
    ):
        workdir = Path(tmp)
        market.prerender()  # as bench/crawl.py does
        print(f"Demo marketplace: {len(market.listings):,} item pages at {market.url} (scale {options.scale})")
        runs = {"bare": crawl.crawl_bare(market.url, workdir), "full": crawl.crawl_full(market.url, workdir, 0)}
        crawling_ms = {name: 1000 * r["crawler_cpu_s_crawling"] / r["pages"] for name, r in runs.items()}
        for name, r in runs.items():
            print(f"  {name}: {r['pages_per_s']} pages/s, crawl process {crawling_ms[name]:.2f} ms/page while crawling")
        sample_crawls(market.url, workdir, crawling_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
