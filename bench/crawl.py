"""Crawl benchmark: the full pipeline against a bare download of the same pages, on the local demo marketplace.

    .venv/bin/python bench/crawl.py [--scale 31] [--repeat 1] [--profile]

Starts the demo marketplace on 127.0.0.1 scaled to >= 5,000 item pages, then crawls every search-results page
and item page twice, each crawl in its own process:
  full  `keywatch crawl demo_market -a mode=all` into a temporary database: parse, classify, store raw captures
        (rendering and photos off: they fetch more than the page, and bench/render.py measures them);
  bare  a Scrapy spider that follows the same links and keeps nothing (same settings, no item pipelines).
Prints pages/s for both (responses / Scrapy's elapsed time from spider open to close), their ratio (target:
full >= 80% of bare), each crawl's peak memory (max RSS from os.wait4) and where the CPU went: the crawl
process, its child processes (the full crawl's classifier, which also stores when rendering and photos are off as
here, and the store writer when one runs; in all and while the spider was open:
they start before it opens) and the demo server (threads of this process). Then the CPU cost per item page of each
step, timed alone. Results also go to bench/out/crawl.json. --profile re-runs the full crawl under cProfile (the
crawl process only) and prints where its time goes. bench/crawl_sample.py splits the crawl process's CPU per page
by family of functions.
"""

import argparse
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.80
MAX_PAGES = 100_000  # every search-results page: the crawl covers the whole catalogue


def bare_child(base_url: str, out_path: str) -> None:
    """Runs in its own process: download search pages and item pages, parse nothing, store nothing."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from keywatch.crawling import project_settings
    from spiders.spiders.demo_market import DemoMarketSpider

    class BareSpider(scrapy.Spider):
        name = "bare"
        custom_settings = DemoMarketSpider.custom_settings  # the same politeness as the demo spider

        async def start(self):
            yield scrapy.Request(f"{base_url}/search?q=&page=1", callback=self.parse_search)

        def parse_search(self, response):
            # Only what is needed to find the same pages: the links, by the same selectors.
            for href in response.css("li.result-card a::attr(href)").getall():
                yield response.follow(href, callback=self.parse_item)
            next_page = response.css("a.pagination__next::attr(href)").get()
            if next_page:
                yield response.follow(next_page, callback=self.parse_search)

        def parse_item(self, response):
            return None

    settings = project_settings(
        Path(out_path).with_suffix(".unused.sqlite"),
        ROOT / "watchlist.yaml",
        # Rendering off as in the full crawl: otherwise scrapy-playwright's handler (and its driver process) would
        # sit in front of every bare download.
        {"LOG_LEVEL": "WARNING", "ITEM_PIPELINES": {}, "KEYWATCH_RENDER": "off"},
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = json.loads(json.dumps(crawler.stats.get_stats(), default=str))
    Path(out_path).write_text(json.dumps(stats), encoding="utf-8")


def run_measured(args: list[str], env: dict | None = None) -> tuple[int, float, int, dict, list, dict]:
    """Run a child process; return its exit code, wall seconds, peak RSS in MiB, where the CPU went (the crawl
    process itself, its worker processes (classifier, store writer), and this process (the demo server's threads)
    meanwhile; on 2 shared cores all of them compete), the crawl process's CPU over time and each worker's
    ({name: [(UTC epoch seconds, CPU seconds)]}), for `cpu_during`."""
    started = time.perf_counter()
    server_before = resource.getrusage(resource.RUSAGE_SELF)
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    samples: list[tuple[float, float, float]] = []
    workers_seen: dict[int, dict] = {}
    sampler = threading.Thread(target=sample_cpu, args=(proc.pid, samples, 0.05, workers_seen), daemon=True)
    sampler.start()
    # wait4 gives this child's own rusage, its reaped children included (RUSAGE_CHILDREN would be the maximum
    # over all children so far).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    server_after = resource.getrusage(resource.RUSAGE_SELF)
    sampler.join()
    total = usage.ru_utime + usage.ru_stime
    workers = samples[-1][2] if samples else 0.0  # the crawl reaps its workers when its spider closes
    # By the name each worker gave itself last; unnamed ones (older code) or namesakes by start order.
    series: dict[str, list] = {}
    for pid, seen in sorted(workers_seen.items()):
        shared = sum(other["name"] == seen["name"] for other in workers_seen.values()) > 1
        series[f"{seen['name']}#{pid}" if shared else seen["name"]] = seen["samples"]
    by_worker = {name: cpu_samples[-1][1] for name, cpu_samples in series.items()}
    cpu = {
        "crawler_cpu_s": round(total - workers, 1),
        "workers_cpu_s": round(workers, 1),
        # Each worker's CPU as last sampled (up to 50 ms short); the workers' total above is exact.
        "cpu_s_by_worker": {name: round(cpu_s, 2) for name, cpu_s in by_worker.items() if cpu_s >= 0.05},
        "server_cpu_s": round(
            server_after.ru_utime + server_after.ru_stime - server_before.ru_utime - server_before.ru_stime, 1
        ),
    }
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"benchmark crawl failed ({' '.join(args[:4])} ...):\n{stderr[-3000:]}")
    return code, wall, usage.ru_maxrss // 1024, cpu, samples, series


def sample_cpu(pid: int, samples: list, every: float = 0.05, workers: dict | None = None) -> None:
    """Append (UTC epoch seconds, the process's own CPU seconds, its reaped children's) from /proc/<pid>/stat until
    it exits: a crawl reaps its worker processes when its spider closes, well before it exits itself. `workers`
    gets each child's name as last seen (the one it gave itself, spiders/pipelines/workers.py) and its CPU seconds
    over time: {pid: {"name": name, "samples": [(UTC epoch seconds, CPU seconds)]}}."""
    while True:
        try:
            name, own, children = proc_cpu(pid)
        except (OSError, IndexError, ValueError):
            return
        if name is None:  # exited, not yet reaped
            return
        samples.append((time.time(), own, children))
        if workers is not None:
            for child in child_pids(pid):
                try:
                    child_name, child_own, _ = proc_cpu(child)
                except (OSError, IndexError, ValueError):
                    continue
                if child_name is not None:
                    seen = workers.setdefault(child, {"name": child_name, "samples": []})
                    seen["name"] = child_name
                    seen["samples"].append((time.time(), child_own))
        time.sleep(every)


def proc_cpu(pid: int) -> tuple[str | None, float, float]:
    """(name, own CPU seconds, reaped children's) of a process from /proc; name None once it has exited."""
    ticks = os.sysconf("SC_CLK_TCK")
    head, _, rest = Path(f"/proc/{pid}/stat").read_text().rpartition(")")
    fields = rest.split()
    if fields[0] == "Z":
        return None, 0.0, 0.0
    own, children = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
    return head.split("(", 1)[1], own / ticks, children / ticks


def child_pids(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def cpu_during(samples: list, stats: dict, workers: dict | None = None) -> dict:
    """The crawl process's own CPU seconds before its spider opened (imports, settings, the store), while it
    crawled (Scrapy's start_time to finish_time: what bounds pages/s) and after (the run record, the networks
    recomputed by `keywatch crawl`); each worker's while the crawl crawled (a worker started before the spider
    opened has done its start-up by then, at least in part)."""
    from datetime import datetime

    opened_at = datetime.fromisoformat(stats["start_time"]).timestamp()
    closed_at = datetime.fromisoformat(stats["finish_time"]).timestamp()

    def at(series: list, when: float) -> float:
        if series[0][0] > when:
            return 0.0  # not started yet
        return next((cpu for t, cpu in series if t >= when), series[-1][1])

    own = [(t, cpu) for t, cpu, _ in samples]
    opened, closed = at(own, opened_at), at(own, closed_at)
    return {
        "crawler_cpu_s_before": round(opened, 2),
        "crawler_cpu_s_crawling": round(closed - opened, 2),
        "crawler_cpu_s_after": round(own[-1][1] - closed, 2),
        "workers_cpu_s_crawling": {
            name: round(at(series, closed_at) - at(series, opened_at), 2)
            for name, series in (workers or {}).items()
            if series[-1][1] >= 0.05
        },
    }


def rate(stats: dict) -> tuple[int, float, float]:
    pages = int(stats.get("downloader/response_count", 0))
    elapsed = float(stats["elapsed_time_seconds"])
    return pages, elapsed, pages / elapsed


def crawl_bare(url: str, workdir: Path) -> dict:
    out = workdir / "bare-stats.json"
    _, wall, rss, cpu, samples, _ = run_measured([sys.executable, __file__, "bare-child", url, str(out)])
    stats = json.loads(out.read_text())
    pages, elapsed, per_second = rate(stats)
    return {
        "pages": pages,
        "elapsed_s": round(elapsed, 2),
        "pages_per_s": round(per_second, 1),
        "wall_s": round(wall, 2),
        "peak_rss_mib": rss,
        **cpu,
        **cpu_during(samples, stats),
    }


def full_crawl_args(url: str, db_path: Path) -> list[str]:
    return [
        "-m",
        "keywatch",
        "crawl",
        "demo_market",
        "-a",
        f"base_url={url}",
        "-a",
        "mode=all",
        "-a",
        f"max_pages={MAX_PAGES}",
        "--db",
        str(db_path),
        "-s",
        "LOG_LEVEL=WARNING",
        # What the bare crawl does too: one download per page. Rendering and photos are bench/render.py's.
        "-s",
        "KEYWATCH_RENDER=off",
        "-s",
        "KEYWATCH_PHOTOS=0",
    ]


def crawl_full(url: str, workdir: Path, n: int) -> dict:
    import db

    db_path = workdir / f"full-{n}.sqlite"
    _, wall, rss, cpu, samples, workers = run_measured([sys.executable, *full_crawl_args(url, db_path)])
    store = db.connect(db_path)
    try:
        run = next(store.query("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1"))
        captures = next(store.query("SELECT count(*) AS n FROM captures"))["n"]
    finally:
        store.close()
    stats = json.loads(run["stats"])
    pages, elapsed, per_second = rate(stats)
    return {
        "pages": pages,
        "elapsed_s": round(elapsed, 2),
        "pages_per_s": round(per_second, 1),
        "wall_s": round(wall, 2),
        "peak_rss_mib": rss,
        **cpu,
        **cpu_during(samples, stats, workers),
        "captures": captures,
        "hits": int(stats.get("keywatch/hits", 0)),
        "db_mib": round(db_path.stat().st_size / 2**20, 1),
    }


def stage_costs(db_path: Path, workdir: Path, limit: int = 400) -> dict[str, float]:
    """CPU milliseconds per item page of each step the full pipeline adds to a bare download, timed one by one
    in this process over pages the full crawl captured (the same work, without Scrapy around it). Each name
    says which process does the step in a crawl: the crawl's own or its classifier's (which scores batches with
    classify_many, cheaper per listing than the per-call figure here, and stores them: rendering and photos off)."""
    import pickle
    import zlib

    from itemadapter import ItemAdapter
    from scrapy.http import HtmlResponse

    import db
    from classifier import classify, load_watchlist
    from spiders.items import ListingItem
    from spiders.pipelines.store import record_of
    from spiders.robot_check import blocked_reason
    from spiders.settings import KEYWATCH_STORE_GROUP_SIZE as GROUP_SIZE
    from spiders.spiders.demo_market import DemoMarketSpider

    store = db.connect(db_path)
    rows = list(
        store.query(
            "SELECT c.url, c.status, b.body FROM captures c JOIN bodies b ON b.sha256 = c.sha256 "
            "WHERE c.purpose = 'all' ORDER BY c.id LIMIT ?",
            [limit],
        )
    )
    store.close()
    spider = DemoMarketSpider(base_url="http://127.0.0.1")
    # The demo has hostile pages that fail to parse (the crawl stores them as parse errors): time the others.
    bodies = [(row["url"], zlib.decompress(row["body"])) for row in rows]
    readable = [(url, body) for url, body in bodies if parses(spider, url, body)]
    costs = {"pages left out: they fail to parse": len(bodies) - len(readable)}
    pages = readable

    def timed(name, fn):
        started = time.process_time()
        result = [fn(*page) for page in pages]
        costs[name] = round((time.process_time() - started) * 1000 / len(pages), 3)
        return result

    started = time.process_time()
    watchlist = load_watchlist(ROOT / "watchlist.yaml")
    # The model and the term index load on first use: with the watchlist, as the classifier worker does at start,
    # not inside the first page's classification.
    classify("", "", watchlist)
    costs["load watchlist and model (once per crawl, ms)"] = round((time.process_time() - started) * 1000, 1)
    responses = timed("build response", lambda url, body: HtmlResponse(url=url, body=body, encoding="utf-8"))
    pages = list(zip(responses, [None] * len(responses)))
    # In a crawl's order: the screen first, then the reading, which builds the page's tree. Both run where the page is
    # read: for the demo (complete_pages), in the classifier's process.
    timed("classifier: robot-check screen (blocked_reason)", lambda response, _: blocked_reason(response))
    # The demo's pages are read in the classifier's process (complete_pages); other spiders read in the crawl's.
    fields = timed(
        "classifier: read item page (read_listing)", lambda response, _: spider.read_listing(response, "demo")
    )
    pages = list(zip(responses, fields))
    results = timed(
        "classifier: classify title + description (per call)",
        lambda _, f: classify(f["title"], f["description"], watchlist),
    )
    pages = list(zip(results, [None] * len(results)))
    timed("classifier: Classification.to_dict", lambda result, _: result.to_dict())
    pages = list(zip(responses, fields))

    def item(response, f):
        known = {k: f[k] for k in ("title", "description", "price", "currency", "seller", "condition") if f.get(k)}
        return ListingItem(
            marketplace="demo",
            listing_id=f["listing_id"],
            url=response.url,
            **known,
            request_url=response.url,
            response_url=response.url,
            status=200,
            headers={"Content-Type": ["text/html"]},
            body=response.body,
            fetched_at="2026-11-28T10:00:00.000000+00:00",
            purpose="all",
        )

    items = timed("crawl: build item", item)
    for it, result in zip(items, results):
        it.classification = {**result.to_dict(), "watchlist_version": watchlist.version}
    pages = [(it, None) for it in items]
    records = timed("crawl: item -> record (no body copy)", lambda it, _: record_of(ItemAdapter(it)))
    pages = [(record, None) for record in records]
    timed("crawl: pickle the record for the classifier", lambda record, _: pickle.dumps(record))
    target = db.connect(workdir / "stages.sqlite")
    run_id = db.start_run(target, spider="stages")
    group = max(1, GROUP_SIZE)
    started = time.process_time()
    for start in range(0, len(records), group):
        db.save_captures(target, records[start : start + group], run_id=run_id)
    costs[f"classifier: db.save_captures (groups of {group})"] = round(
        (time.process_time() - started) * 1000 / len(records), 3
    )
    target.close()
    costs["pages timed"] = len(pages)
    return costs


def parses(spider, url: str, body: bytes) -> bool:
    from scrapy.http import HtmlResponse

    try:
        spider.parse_listing(HtmlResponse(url=url, body=body, encoding="utf-8"))
    except Exception:  # noqa: BLE001 - any failure: the crawl would count a parse error
        return False
    return True


def profile_full(url: str, workdir: Path, top: int = 25) -> None:
    out = workdir / "full.prof"
    db_path = workdir / "profiled.sqlite"
    run_measured([sys.executable, "-m", "cProfile", "-o", str(out), *full_crawl_args(url, db_path)])
    print(f"\nWhere the full crawl's time goes (cProfile, top {top} by own time):")
    pstats.Stats(str(out)).sort_stats("tottime").print_stats(top)
    print(f"Top {top} by cumulative time:")
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=31, help="catalogue copies (31 x 166 = 5,146 item pages)")
    parser.add_argument("--repeat", type=int, default=1, help="crawl each way this many times (best is kept)")
    parser.add_argument("--profile", action="store_true", help="also profile the full crawl with cProfile")
    options = parser.parse_args()

    from demo_market import DemoMarket

    with (
        tempfile.TemporaryDirectory(prefix="keywatch-bench-") as tmp,
        DemoMarket(port=0, scale=options.scale) as market,
    ):
        workdir = Path(tmp)
        market.prerender()  # every crawl measured finds the pages rendered, the first one too
        items = len(market.listings)
        print(f"Demo marketplace: {items:,} item pages at {market.url} (scale {options.scale})")
        if items < 5000:
            print("  note: fewer than 5,000 item pages; use --scale 31 or more for the reference numbers")
        bare_runs, full_runs = [], []
        for n in range(options.repeat):
            bare_runs.append(crawl_bare(market.url, workdir))
            print(f"  bare run {n + 1}: {bare_runs[-1]}")
            full_runs.append(crawl_full(market.url, workdir, n))
            print(f"  full run {n + 1}: {full_runs[-1]}")
        bare = max(bare_runs, key=lambda r: r["pages_per_s"])
        full = max(full_runs, key=lambda r: r["pages_per_s"])
        ratio = full["pages_per_s"] / bare["pages_per_s"]
        print()
        print(f"{'crawl':6} {'pages':>7} {'seconds':>8} {'pages/s':>8} {'peak RSS':>9}   CPU s: crawl workers server")
        for name, r in (("bare", bare), ("full", full)):
            print(
                f"{name:6} {r['pages']:>7,} {r['elapsed_s']:>8.1f} {r['pages_per_s']:>8.1f} {r['peak_rss_mib']:>6} MiB"
                f"   {r['crawler_cpu_s']:>12.1f} {r['workers_cpu_s']:>7.1f} {r['server_cpu_s']:>6.1f}"
            )
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        print(
            f"full / bare throughput: {ratio:.0%} ({verdict} the {TARGET_RATIO:.0%} target); "
            f"{full['captures']:,} captures, {full['hits']:,} hits, database {full['db_mib']} MiB"
        )
        if options.repeat > 1:
            # This VM's speed moves between runs, and the best of each can come from a fast minute and a slow one.
            rounds = sorted(f["pages_per_s"] / b["pages_per_s"] for b, f in zip(bare_runs, full_runs, strict=True))
            print(
                "  each round, full against the bare crawl just before it: "
                + ", ".join(f"{r:.0%}" for r in rounds)
                + f" (median {statistics.median(rounds):.0%}); bench/crawl_instructions.py counts instead"
            )
        per_page_ms = {"bare": round(1000 / bare["pages_per_s"], 2), "full": round(1000 / full["pages_per_s"], 2)}
        print(
            f"per page: bare {per_page_ms['bare']} ms, full {per_page_ms['full']} ms "
            f"(+{per_page_ms['full'] - per_page_ms['bare']:.2f} ms); 80% needs at most "
            f"+{per_page_ms['bare'] * (1 / TARGET_RATIO - 1):.2f} ms"
        )
        # With a core to spare for the workers, the crawl process's own CPU per page bounds the throughput.
        cpu_ms = {
            name: round(1000 * r["crawler_cpu_s"] / r["pages"], 2) for name, r in (("bare", bare), ("full", full))
        }
        crawling_ms = {
            name: round(1000 * r["crawler_cpu_s_crawling"] / r["pages"], 2)
            for name, r in (("bare", bare), ("full", full))
        }
        print(
            f"crawl process CPU per page: bare {cpu_ms['bare']} ms, full {cpu_ms['full']} ms "
            f"(bare/full {cpu_ms['bare'] / cpu_ms['full']:.0%}); the full crawl's workers "
            f"{1000 * full['workers_cpu_s'] / full['pages']:.2f} ms"
        )
        outside = {
            name: r["crawler_cpu_s_before"] + r["crawler_cpu_s_after"] for name, r in (("bare", bare), ("full", full))
        }
        print(
            f"  of it while crawling (spider open to close): bare {crawling_ms['bare']} ms, full "
            f"{crawling_ms['full']} ms (bare/full {crawling_ms['bare'] / crawling_ms['full']:.0%}); before and after "
            f"(imports, store, run record, networks): bare {outside['bare']:.1f} s, full {outside['full']:.1f} s"
        )
        # What 2 cores must hold: every process's CPU per page while the crawl crawls (the crawl's own, each
        # worker's: what they did before the spider opened competed with nothing that pages/s counts; the demo
        # server's) against the wall time per page that 80% of bare allows, twice (two cores).
        shares = {"crawl process (while crawling)": crawling_ms["full"]}
        shares |= {name: round(1000 * s / full["pages"], 2) for name, s in full["workers_cpu_s_crawling"].items()}
        shares["demo server"] = round(1000 * full["server_cpu_s"] / full["pages"], 2)
        allowed = per_page_ms["bare"] / TARGET_RATIO
        print(
            "full crawl, CPU ms per page while crawling: "
            + ", ".join(f"{name} {ms}" for name, ms in shares.items())
            + f"; total {sum(shares.values()):.2f}. 80% of bare allows {allowed:.2f} ms per page in any one process"
            f" and {2 * allowed:.2f} ms in all on 2 cores"
        )
        costs = stage_costs(workdir / f"full-{len(full_runs) - 1}.sqlite", workdir)
        print("What the full pipeline adds, CPU ms per item page (timed alone; the process that does it in a crawl):")
        for name, ms in costs.items():
            print(f"  {name:45} {ms}")
        result = {
            "item_pages": items,
            "scale": options.scale,
            "bare": bare,
            "full": full,
            "ratio": round(ratio, 3),
            "target": TARGET_RATIO,
            "per_page_ms": per_page_ms,
            "crawl_process_cpu_ms_per_page": cpu_ms,
            "crawl_process_cpu_ms_per_page_crawling": crawling_ms,
            "full_cpu_ms_per_page_by_process": shares,
            "stage_costs_ms": costs,
            "runs": {"bare": bare_runs, "full": full_runs},
        }
        out_dir = ROOT / "bench" / "out"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "crawl.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"Results written to {out_dir / 'crawl.json'}")
        if options.profile:
            profile_full(market.url, workdir)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "bare-child":
        bare_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
