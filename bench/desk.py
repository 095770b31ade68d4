"""Benchmark the review desk at scale: p50/p95 per desk page and per read command on stores of 100k-1M listings.

    .venv/bin/python bench/desk.py --sizes 91000 1001000 --scale-from 91000   # README's figures
    .venv/bin/python bench/desk.py --sizes 20000 --repeat 5                    # a quick run

The stores (what they hold, how they are built and cached) are bench/desk_store.py's.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import html
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desk_store import OUT, PASSWORD, USER, build, scale, store_path  # noqa: E402

import db  # noqa: E402


class _Collections:
    """Wall time spent in Python's cyclic garbage collector: a full collection of the process's heap lands on
    whichever request happens to trigger it, and says nothing about that page."""

    def __init__(self):
        self.ms, self._started = 0.0, 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._started) * 1000


def timed(fn, repeat: int) -> dict:
    """p50/p95 of wall time, and of this process's CPU time: on a shared machine the wall time includes waiting for
    a core, which the CPU time leaves out (SQLite's reads from the page cache are CPU time too). `gc_max_ms`: the
    most time one request spent in garbage collection."""
    fn()  # warm the page cache and the app's first-request work
    wall, cpu, collecting = [], [], []
    collections = _Collections()
    gc.callbacks.append(collections)
    try:
        for _ in range(repeat):
            collections.ms = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            collecting.append(collections.ms)
    finally:
        gc.callbacks.remove(collections)

    def p(samples, q):
        samples = sorted(samples)
        return round(samples[min(len(samples) - 1, int(len(samples) * q))], 1)

    return {
        "p50_ms": p(wall, 0.5),
        "p95_ms": p(wall, 0.95),
        "cpu_p50_ms": p(cpu, 0.5),
        "cpu_p95_ms": p(cpu, 0.95),
        "gc_max_ms": round(max(collecting), 1),
    }


def _line(name: str, r: dict) -> str:
    return (
        f"  {name:<44} wall {r['p50_ms']:>7} p50 {r['p95_ms']:>7} p95   cpu {r['cpu_p50_ms']:>7} p50 "
        f"{r['cpu_p95_ms']:>7} p95 (ms)  gc max {r['gc_max_ms']}"
    )


def _get(client, url: str):
    def fetch():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return response

    return fetch


def desk_pages(client, store) -> dict[str, str]:
    """The pages measured: {name: URL}."""
    busy = next(
        store.query(
            "SELECT seller, count(*) AS n FROM listings WHERE flagged = 1 GROUP BY seller ORDER BY n DESC LIMIT 1"
        )
    )
    listing_pk = next(store.query("SELECT pk FROM listings WHERE flagged = 1 ORDER BY pk DESC LIMIT 1"))["pk"]
    month_ago = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)).date().isoformat()
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    pages = {
        "queue": "/",
        "queue, category+marketplace": "/?category=key_programmer&marketplace=ebay_uk",
        f"queue, busiest seller ({busy['n']} flagged)": f"/?seller={busy['seller']}&status=all",
        "queue, first seen last 30 days": f"/?since={month_ago}&until={today}",
        "search 'programmer'": "/?q=programmer",
        "search 'xhorse relay' (rare pair)": "/?q=xhorse+relay",
        "search 'ford' (in most listings)": "/?q=ford",
        **{f"tab {s}": f"/?status={s}" for s in ("pending", "escalated", "confirmed", "dismissed", "all")},
        "queue, uncertain first": "/?order=uncertain",
        "missed? sample": "/?status=missed",
        "queue, page 2": None,  # the queue's own "Next" link
        "dashboard": "/dashboard",
        "report": "/report",
        "listing page": f"/listing/{listing_pk}",
        "audit": "/audit",
    }
    first = client.get("/").text
    pages["queue, page 2"] = _next_link(first)
    return {k: v for k, v in pages.items() if v}


def _next_link(page: str) -> str | None:
    import re

    found = re.search(r'<a href="([^"]+)"[^>]*>Next', page)
    return html.unescape(found.group(1)) if found else None


def measure(path: Path, repeat: int) -> dict:
    from click.testing import CliRunner

    from keywatch.cli import cli
    from webui.app import create_app, settle

    app = create_app(path, secret_key=b"bench" * 8)
    settle()  # as `keywatch serve` does before it takes requests
    client = app.test_client()
    token = _token(client)
    response = client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, "bench login failed"
    store = db.connect(path)
    # Stores in use never run ANALYZE: the desk's plans must not depend on its statistics.
    store.execute("DROP TABLE IF EXISTS sqlite_stat1")
    results = {}
    for name, url in desk_pages(client, store).items():
        results[name] = timed(_get(client, url), repeat)
        print(_line(name, results[name]), flush=True)
    runner = CliRunner()
    for name, args in {
        "keywatch hits --format jsonl": ["hits", "--db", str(path), "--format", "jsonl"],
        "keywatch report --format html": ["report", "--db", str(path), "--format", "html", "--out", os.devnull],
    }.items():

        def run(args=args):
            result = runner.invoke(cli, args, catch_exceptions=False)
            assert result.exit_code == 0, result.output

        results[name] = timed(run, max(3, repeat // 5))
        print(_line(name, results[name]), flush=True)
    counts = next(
        store.query(
            "SELECT count(*) AS listings, sum(flagged) AS flagged, (SELECT count(*) FROM decisions) AS decisions, "
            "(SELECT count(*) FROM captures) AS captures FROM listings"
        )
    )
    store.close()
    return {"store": counts, "pages": results}


def _token(client) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[91_000], help="listings per store [91000]")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page [20]")
    parser.add_argument("--build-only", action="store_true", help="build (or find) the stores, measure nothing")
    parser.add_argument(
        "--scale-from",
        type=int,
        metavar="N",
        help="make missing stores by copying the N-listing store (see bench/desk_store.py's scale)",
    )
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    report = {}
    for n in args.sizes:
        path = store_path(n)
        if not path.exists() and args.scale_from and n > args.scale_from:
            if not store_path(args.scale_from).exists():
                print(f"building {args.scale_from} listings at {store_path(args.scale_from)}", flush=True)
                build(store_path(args.scale_from), args.scale_from)
            print(f"copying {args.scale_from} to {n} listings at {path}", flush=True)
            scale(store_path(args.scale_from), path, n // args.scale_from)
        elif not path.exists():
            print(f"building {n} listings at {path}", flush=True)
            build(path, n)
        if args.build_only:
            continue
        print(f"measuring {path}", flush=True)
        report[n] = measure(path, args.repeat)
    if report:
        out = OUT / f"desk-results{'-' + args.label if args.label else ''}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
