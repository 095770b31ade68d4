"""What a weekly crawl did: a report per spider run, read back from the evidence store, with the broken-spider
checks' verdict (spiders/monitors.py); the summary `crawl --all` prints and the JSON report beside the database.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import db
from common import atomic
from db import rechecks
from keywatch.terminal import printable
from spiders.monitors import Problem, RunFacts, accounting, check_run

# Exit codes of `keywatch crawl --all` (docs/operations.md): 1 is a user error or a held lock (click's own).
EXIT_OK = 0
EXIT_BROKEN = 2
EXIT_INTERRUPTED = 3


def reports_dir(db_path: Path) -> Path:
    """Where run reports go: `<db dir>/reports/`."""
    return Path(db_path).parent / "reports"


@dataclass
class SpiderReport:
    spider: str
    run_id: int | None
    finish_reason: str
    started_at: str | None = None
    finished_at: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["problems"] = [{"kind": p.kind, "message": p.message, "broken": p.broken} for p in self.problems]
        return data


def _stats_of(run: dict | None) -> dict:
    if not run or not run.get("stats"):
        return {}
    return json.loads(run["stats"])


def run_counts(stats: dict, store, run_id: int) -> dict[str, Any]:
    """The per-spider numbers of the report: Scrapy's stats, plus what the store actually holds for the run."""

    def prefixed(prefix):
        return {k[len(prefix) :]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix)}

    def n(key):
        return int(stats.get(key) or 0)

    stored = rechecks.run_capture_counts(store, run_id)
    return {
        "requests": n("downloader/request_count"),
        "responses_by_status": prefixed("downloader/response_status_count/"),
        "search_pages": n("keywatch/search_pages"),
        "cards": n("keywatch/cards_screened"),
        "fetched": n("keywatch/cards_fetched"),
        "fetched_by_purpose": prefixed("keywatch/cards_fetched/"),
        "items": n("keywatch/items"),
        "listing_pages": accounting(stats),
        "hits": n("keywatch/hits"),
        "rechecks": prefixed("keywatch/rechecks/"),
        "captures_stored": stored["by_purpose"],
        "flagged_listings_stored": stored["flagged_listings"],
        "statuses_recorded": rechecks.run_status_observations(store, run_id),
        "errors": {
            "parse": n("keywatch/parse_errors"),
            "request": n("keywatch/request_errors"),
            "log_errors": n("log_count/ERROR"),
            "item_errors": n("item_error_count") + sum(prefixed("spider_exceptions/").values()),
        },
    }


def facts(store, run: dict) -> RunFacts:
    coverage = rechecks.run_field_coverage(store, run["id"])
    return RunFacts(
        spider=run["spider"],
        run_id=run["id"],
        finish_reason=run.get("finish_reason") or "killed",
        stats=_stats_of(run),
        captures=coverage["captures"],
        missing=coverage["missing"],
    )


def spider_report(
    store, spider: str, run_id: int | None, fallback_reason: str, error: str | None = None
) -> SpiderReport:
    """Report one spider run from what the store recorded, with the monitors' verdict on it."""
    if run_id is None:
        problem = (
            Problem(spider, "failed", f"did not start: {error}")
            if error
            else Problem(spider, "interrupted", "not run: the crawl was interrupted before it")
        )
        return SpiderReport(spider, None, fallback_reason, problems=[problem])
    run = db.get_run(store, run_id)
    current = facts(store, run)
    history = [facts(store, earlier) for earlier in rechecks.previous_finished_runs(store, spider, run_id)]
    return SpiderReport(
        spider=spider,
        run_id=run_id,
        finish_reason=current.finish_reason,
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        counts=run_counts(current.stats, store, run_id),
        problems=check_run(current, history),
    )


@dataclass
class WeeklyReport:
    batch: str
    started_at: str
    finished_at: str
    resumed: bool
    config: str
    db: str
    disabled: list[str]
    spiders: list[SpiderReport]
    chain_head: str
    routes: list[str] = field(default_factory=list)  # which spider crawled a marketplace, when there was a choice

    @property
    def problems(self) -> list[Problem]:
        return [p for s in self.spiders for p in s.problems]

    @property
    def exit_code(self) -> int:
        if any(p.broken for p in self.problems):
            return EXIT_BROKEN
        if self.problems:
            return EXIT_INTERRUPTED
        return EXIT_OK

    def to_dict(self) -> dict:
        data = asdict(self)
        data["spiders"] = [s.to_dict() for s in self.spiders]
        data["exit_code"] = self.exit_code
        return data

    def write(self, directory: Path) -> Path:
        path = directory / f"crawl-{self.batch}.json"
        atomic.write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True))
        return path


def _statuses(counts: dict) -> str:
    return " ".join(f"{code}:{n}" for code, n in counts.items()) or "-"


def format_summary(report: WeeklyReport) -> str:
    """The table `crawl --all` prints: one row per spider, then any problems, the chain head and the report file."""
    lines = [
        f"Weekly crawl {report.batch}{' (resumed)' if report.resumed else ''}: "
        f"{len(report.spiders)} marketplace(s) from {report.config}"
    ]
    if report.disabled:
        lines.append(f"  disabled: {', '.join(report.disabled)}")
    lines.extend(f"  {route}" for route in report.routes)
    header = (
        "spider",
        "run",
        "finish",
        "requests",
        "responses",
        "cards",
        "fetched",
        "sampled",
        "items",
        "hits",
        "rechecks",
        "errors",
    )
    rows = [header]
    for s in report.spiders:
        c = s.counts
        # Log errors repeat the parse and request errors already counted; they stay in the JSON report only.
        errors = sum(v for k, v in c.get("errors", {}).items() if k != "log_errors") if c else 0
        rows.append(
            (
                s.spider,
                str(s.run_id or "-"),
                s.finish_reason,
                str(c.get("requests", 0)),
                _statuses(c.get("responses_by_status", {})),
                str(c.get("cards", 0)),
                str(c.get("fetched", 0)),
                str(c.get("fetched_by_purpose", {}).get("sample", 0)),
                str(c.get("items", 0)),
                str(c.get("hits", 0)),
                _statuses(c.get("rechecks", {})),
                str(errors),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if report.problems:
        lines.append("Problems:")
        lines.extend(f"  {'BROKEN' if p.broken else 'note'}: {p}" for p in report.problems)
    else:
        lines.append("No problems found.")
    lines.append(f"Evidence chain head: {report.chain_head}")
    lines.append(f"Database: {report.db}")
    # Problems quote error text, and names come from the config: each line shows as stored, on one line.
    return "\n".join(printable(line) for line in lines)
