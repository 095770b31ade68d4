"""Crawl runs: operational records (mutable), one per crawl, that captures point at."""

import json

from common import VERSION
from db.canonical import utc_now


def default_crawler_version() -> str:
    return f"keywatch {VERSION}"


def start_run(
    store,
    spider: str,
    args: dict | None = None,
    *,
    crawler_version: str | None = None,
    watchlist_version: str | None = None,
) -> int:
    """Record the start of a crawl and return its id."""
    cursor = store.execute(
        "INSERT INTO crawl_runs (spider, args, started_at, crawler_version, watchlist_version) VALUES (?, ?, ?, ?, ?)",
        [
            spider,
            json.dumps(args or {}, sort_keys=True, default=str),
            utc_now(),
            crawler_version or default_crawler_version(),
            watchlist_version,
        ],
    )
    return cursor.lastrowid


def finish_run(store, run_id: int, stats: dict | None = None, finish_reason: str = "finished") -> None:
    """Record how a crawl ended (Scrapy's stats and finish reason)."""
    store.execute(
        "UPDATE crawl_runs SET finished_at = ?, stats = ?, finish_reason = ? WHERE id = ?",
        [utc_now(), json.dumps(stats or {}, sort_keys=True, default=str), finish_reason, run_id],
    )


def get_run(store, run_id: int) -> dict | None:
    return next(store.query("SELECT * FROM crawl_runs WHERE id = ?", [run_id]), None)


def stat_total_since(store, spider: str, stat: str, since: str) -> int:
    """One Scrapy stat summed over the runs of `spider` started at or after `since` (UTC ISO 8601): the calls an
    API spider made in the last day, whichever runs made them. A run that recorded no stats counts 0."""
    total = 0
    for row in store.query("SELECT stats FROM crawl_runs WHERE spider = ? AND started_at >= ?", [spider, since]):
        try:
            total += int(json.loads(row["stats"] or "{}").get(stat) or 0)
        except (ValueError, TypeError, AttributeError):  # stats that are not a JSON object of numbers
            continue
    return total


def captures_of_run(store, run_id: int) -> dict[tuple[str, str], int]:
    """The captures a run has committed, by (URL, SHA-256 of the body): which pages of a group whose writer died
    mid-way did commit (spiders/pipelines/classify.py)."""
    rows = store.query("SELECT id, url, sha256 FROM captures WHERE run_id = ?", [run_id])
    return {(row["url"], row["sha256"]): row["id"] for row in rows}
