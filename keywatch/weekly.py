"""The weekly job behind `keywatch crawl --all`: config, lock, resumable job state, run report, broken-spider checks.

One process runs every enabled marketplace in turn (keywatch.crawling.run_crawls). A lock file beside the
database keeps two runs from overlapping; each spider crawls with its own Scrapy JOBDIR beside the database so
an interrupted run can be continued with --resume; afterwards every spider run is judged against its previous
finished run (spiders/monitors.py) and a JSON report is written beside the database.
"""

import fcntl
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

import db
from db import rechecks
from db.canonical import utc_now
from spiders.monitors import Problem, RunFacts, accounting, check_run

DEFAULT_CONFIG = "marketplaces.yaml"

# Exit codes of `keywatch crawl --all` (docs/operations.md): 1 is a user error or a held lock (click's own).
EXIT_OK = 0
EXIT_BROKEN = 2
EXIT_INTERRUPTED = 3


class ConfigError(ValueError):
    """marketplaces.yaml cannot be used; the message names the file (and line) and the problem."""


class LockHeld(RuntimeError):
    """Another crawl --all holds the lock for this database."""


# ---------------------------------------------------------------- marketplaces.yaml


@dataclass
class MarketplaceJob:
    spider: str
    enabled: bool = True
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)


_ENTRY_KEYS = {"spider", "enabled", "args", "settings"}


def _scalar(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(f"{where}: expected a single value, got {type(value).__name__}")


def load_config(path: Path) -> list[MarketplaceJob]:
    """Read and check the marketplaces config; raises ConfigError("FILE:LINE: problem")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (give --config PATH)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read ({error})") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("marketplaces"), list):
        raise ConfigError(f"{path}: expected a top-level 'marketplaces:' list")
    lines = {}
    for key_node, value_node in root.value:
        if key_node.value == "marketplaces":
            lines = {i: node.start_mark.line + 1 for i, node in enumerate(value_node.value)}
    jobs, seen = [], set()
    for index, entry in enumerate(data["marketplaces"]):
        where = f"{path}:{lines.get(index, '?')}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: each marketplace is a mapping with at least 'spider:'")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
        spider = entry.get("spider")
        if not isinstance(spider, str) or not spider.strip():
            raise ConfigError(f"{where}: 'spider:' must name a spider")
        if spider in seen:
            raise ConfigError(
                f"{where}: {spider} is listed twice (give several shops as one comma-separated start_url)"
            )
        seen.add(spider)
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: 'enabled:' must be true or false")
        args = {}
        for name, value in (entry.get("args") or {}).items():
            if isinstance(value, list):  # queries: [a, b] -> "a,b", as -a queries=a,b
                value = ",".join(_scalar(v, f"{where}: args.{name}") for v in value)
            if value is None or value == "":
                continue  # left empty: the spider's default applies
            args[str(name)] = _scalar(value, f"{where}: args.{name}")
        if not isinstance(entry.get("args") or {}, dict) or not isinstance(entry.get("settings") or {}, dict):
            raise ConfigError(f"{where}: 'args:' and 'settings:' are mappings of NAME: value")
        settings = {str(k): _scalar(v, f"{where}: settings.{k}") for k, v in (entry.get("settings") or {}).items()}
        if enabled and spider == "webshop" and not args.get("start_url"):
            raise ConfigError(f"{where}: webshop is enabled but has no args.start_url")
        jobs.append(MarketplaceJob(spider.strip(), enabled, args, settings))
    if not any(job.enabled for job in jobs):
        raise ConfigError(f"{path}: no marketplace is enabled")
    return jobs


# ---------------------------------------------------------------- lock


class CrawlLock:
    """An exclusive fcntl lock on a file beside the database, held for the whole run.

    The kernel drops the lock when the process dies, so a crash never leaves a stale lock behind; the file
    itself stays (removing it would let two processes lock two different files).
    """

    def __init__(self, db_path: Path):
        self.path = Path(str(db_path) + ".crawl-lock")
        self.file = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "unknown process"
            self.file.close()
            self.file = None
            raise LockHeld(f"another crawl is running on this database ({holder}; lock {self.path})") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"pid {os.getpid()} since {utc_now()}\n")
        self.file.flush()
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.truncate(0)
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


# ---------------------------------------------------------------- resumable job state


class JobState:
    """Scrapy JOBDIRs and the list of spiders already done, under `<db dir>/jobs/<db name>/`.

    A run without --resume starts from nothing; with --resume it skips the spiders the interrupted run
    finished and lets the interrupted one continue from its JOBDIR (pending requests, seen fingerprints).
    """

    def __init__(self, db_path: Path):
        self.root = Path(db_path).parent / "jobs" / Path(db_path).stem
        self.batch_file = self.root / "batch.json"
        self.batch: dict[str, Any] = {}

    def begin(self, resume: bool) -> bool:
        """Start (or with `resume`, continue) a batch; returns True when an interrupted batch is continued."""
        if resume and self.batch_file.exists():
            self.batch = json.loads(self.batch_file.read_text(encoding="utf-8"))
            self.batch["resumed_at"] = self.batch.get("resumed_at", []) + [utc_now()]
            self._save()
            return True
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        started = utc_now()
        self.batch = {
            "batch": started.replace("-", "").replace(":", "").split(".")[0] + "Z",
            "started_at": started,
            "done": {},
            "runs": {},
        }
        self._save()
        return False

    def jobdir(self, spider: str) -> Path:
        return self.root / spider

    def is_done(self, spider: str) -> bool:
        return spider in self.batch["done"]

    def record(self, spider: str, run_id: int | None, finished: bool) -> None:
        self.batch["runs"].setdefault(spider, [])
        if run_id is not None:
            self.batch["runs"][spider].append(run_id)
        if finished:
            self.batch["done"][spider] = run_id
            # A finished JOBDIR would filter every request of the next run as already seen.
            shutil.rmtree(self.jobdir(spider), ignore_errors=True)
        self._save()

    def finish(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.batch_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.batch, indent=2), encoding="utf-8")
        tmp.replace(self.batch_file)


# ---------------------------------------------------------------- report


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
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crawl-{self.batch}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
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
    return "\n".join(lines)


# ---------------------------------------------------------------- the run


def reports_dir(db_path: Path) -> Path:
    """Where run reports go: `<db dir>/reports/`."""
    return Path(db_path).parent / "reports"


def run_all(config_path: Path, db_path: Path, settings, *, resume: bool = False, known_spiders=None) -> WeeklyReport:
    """Crawl every enabled marketplace of `config_path` into `db_path`, one after another, under the lock.

    `settings` are the project's Scrapy settings (keywatch.crawling.project_settings). Raises ConfigError for a
    bad config, LockHeld when another run holds the lock. The report is also written to `<db dir>/reports/`.
    """
    from keywatch.crawling import run_crawls

    jobs = load_config(config_path)
    if known_spiders is not None:
        for job in jobs:
            if job.spider not in known_spiders:
                raise ConfigError(
                    f"{config_path}: unknown spider {job.spider!r}; known: {', '.join(sorted(known_spiders))}"
                )
    routes = [official_route(job, settings) for job in jobs if job.enabled]
    enabled = [job for job, _ in routes]
    with CrawlLock(db_path):
        state = JobState(db_path)
        resumed = state.begin(resume)
        todo = [job for job in enabled if not state.is_done(job.spider)]
        results = run_crawls(
            [(job.spider, job.args, {**job.settings, "JOBDIR": str(state.jobdir(job.spider))}) for job in todo],
            settings,
        )
        by_spider = {result.spider: result for result in results}
        for result in results:
            state.record(result.spider, result.run_id, result.finish_reason == "finished")
        store = db.connect(db_path)
        try:
            spiders = []
            for job in enabled:
                result = by_spider.get(job.spider)
                if result is None:  # finished earlier in this (resumed) batch
                    run_id = state.batch["done"].get(job.spider)
                    spiders.append(spider_report(store, job.spider, run_id, "finished"))
                else:
                    spiders.append(
                        spider_report(
                            store, job.spider, result.run_id, result.finish_reason, error=getattr(result, "error", None)
                        )
                    )
            head = db.chain_head(store)
        finally:
            store.close()
        if all(state.is_done(job.spider) for job in enabled):
            state.finish()
        report = WeeklyReport(
            batch=state.batch["batch"],
            started_at=state.batch["started_at"],
            finished_at=utc_now(),
            resumed=resumed,
            config=str(config_path),
            db=str(db_path),
            disabled=[job.spider for job in jobs if not job.enabled],
            spiders=spiders,
            chain_head=head,
            routes=[note for _, note in routes if note],
        )
        report.write(reports_dir(db_path))
    return report


def official_route(job: MarketplaceJob, settings) -> tuple[MarketplaceJob, str | None]:
    """The job to run for a marketplace, and what to say about it: a spider that `replaces` the configured one
    (eBay's Browse API for ebay_uk) runs instead when it is configured (its API keys are set)."""
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(settings)
    for name in loader.list():
        official = loader.load(name)
        if getattr(official, "replaces", None) != job.spider:
            continue
        if official.is_configured(settings):
            return replace(job, spider=name), f"{job.spider}: crawled with {name} (API keys configured)"
        return job, f"{job.spider}: crawled from its web pages ({name} is not configured: no API keys)"
    return job, None


def default_config_path() -> Path:
    """`KEYWATCH_MARKETPLACES`, else `./marketplaces.yaml`, else the one at the repository root."""
    from keywatch.paths import ROOT

    env = os.environ.get("KEYWATCH_MARKETPLACES")
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG)
    return local if local.exists() else ROOT / DEFAULT_CONFIG
