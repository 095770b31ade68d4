"""Run Scrapy crawls from the CLI and collect what each did."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Scrapy imports its HTTP download handler with a crawl's first download, and that module's deprecated aliases call
# `inspect.stack()`, which reads the source of every frame and scans every loaded module for each: 0.45 s of CPU deep
# in a running crawl with the classifier loaded, a stall in its first seconds; 0.1 s here, before any crawl opens.
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import defer

from spiders.pipelines import workers


@dataclass
class CrawlResult:
    spider: str
    stats: dict[str, Any]
    run_id: int | None = None
    error: str | None = None  # why the crawl could not start (e.g. a bad spider argument)

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", "not started"))

    def count(self, key: str) -> int:
        return int(self.stats.get(key, 0))

    @property
    def accounting(self) -> dict[str, Any]:
        """Where every listing page went (spiders.monitors.accounting): fetched = stored + skipped + not stored."""
        from spiders.monitors import accounting

        return accounting(self.stats)

    @property
    def lost_pages(self) -> int:
        """Listing pages fetched and not stored: a JOBDIR that saw them would never fetch them again."""
        pages = self.accounting
        return int(pages["not_stored"] + pages["lost"])


def project_settings(db_path: Path, watchlist_path: Path, overrides: dict[str, str] | None = None) -> Settings:
    # From the settings module, not scrapy.cfg: the CLI must work from any directory.
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("KEYWATCH_DB", str(db_path), priority="cmdline")
    settings.set("KEYWATCH_WATCHLIST", str(watchlist_path), priority="cmdline")
    for name, value in (overrides or {}).items():
        try:
            settings.set(name, value, priority="cmdline")
        except ValueError as error:  # a dict setting's value is read as JSON
            raise ValueError(f"setting {name}: not a value Scrapy can read ({error})") from None
    return settings


# A job: (spider name, spider arguments) or (spider name, spider arguments, settings for this spider only).
Job = tuple[str, dict[str, str]] | tuple[str, dict[str, str], dict[str, Any]]


def run_crawls(jobs: list[Job], settings: Settings) -> list[CrawlResult]:
    """Run spiders one after another in this process; each job is (name, args[, settings for that spider]).

    Scrapy's reactor starts once per process, so every crawl of one command goes through one call.
    Ctrl-C / SIGTERM stop the running crawl gracefully (Scrapy's handlers) and skip the rest. A spider that
    fails to start is recorded with its error and the next one still runs.
    """
    process = CrawlerProcess(settings)
    crawlers = []
    for name, _args, *rest in jobs:
        crawler = process.create_crawler(name)
        if rest and rest[0]:
            # Above the spider's custom_settings: per-marketplace settings and JOBDIR win.
            crawler.settings.setdict(rest[0], priority="cmdline")
        crawlers.append(crawler)
    if crawlers:
        # The first crawl's worker processes start while this one still sets Scrapy up (the later crawls' start
        # when their spiders open): their start-up then does not compete with the crawl's first pages.
        workers.start_early_for(crawlers[0], jobs[0][1])
    errors: dict[int, str] = {}
    stopping = []

    @defer.inlineCallbacks
    def run_one_by_one():
        for index, (crawler, (_, args, *_rest)) in enumerate(zip(crawlers, jobs)):
            if stopping:
                break
            try:
                yield process.crawl(crawler, **args)
            except Exception as error:  # noqa: BLE001 - reported per spider, the rest still run
                errors[index] = f"{type(error).__name__}: {error}"
                continue
            if _stats(crawler).get("finish_reason") == "shutdown":
                stopping.append(True)

    def stop_reactor(_):
        from twisted.internet import reactor

        if reactor.running:
            reactor.stop()

    run_one_by_one().addBoth(stop_reactor)
    try:
        process.start(stop_after_crawl=False)
    finally:
        workers.stop_early()  # a first crawl that did not start leaves its workers unclaimed
    return [
        CrawlResult(
            spider=job[0],
            stats=_stats(crawler),
            run_id=getattr(getattr(crawler, "spider", None), "run_id", None),
            error=errors.get(index),
        )
        for index, (crawler, job) in enumerate(zip(crawlers, jobs))
    ]


def _stats(crawler) -> dict[str, Any]:
    # A crawler that never started has no stats collector yet (Scrapy raises on reading it).
    try:
        return crawler.stats.get_stats()
    except (RuntimeError, AttributeError):
        return {}
