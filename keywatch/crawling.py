"""Run Scrapy crawls from the CLI and collect what each did."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet import defer


@dataclass
class CrawlResult:
    spider: str
    stats: dict[str, Any]
    run_id: int | None = None

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", "not started"))

    def count(self, key: str) -> int:
        return int(self.stats.get(key, 0))


def project_settings(db_path: Path, watchlist_path: Path, overrides: dict[str, str] | None = None) -> Settings:
    # From the settings module, not scrapy.cfg: the CLI must work from any directory.
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("KEYWATCH_DB", str(db_path), priority="cmdline")
    settings.set("KEYWATCH_WATCHLIST", str(watchlist_path), priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawls(jobs: list[tuple[str, dict[str, str]]], settings: Settings) -> list[CrawlResult]:
    """Run spiders, given as (name, spider arguments), one after another in this process.

    Scrapy's reactor starts once per process, so every crawl of one command goes through one call.
    Ctrl-C / SIGTERM stop the running crawl gracefully (Scrapy's handlers) and skip the rest.
    """
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(name) for name, _ in jobs]
    stopping = []

    @defer.inlineCallbacks
    def run_one_by_one():
        for crawler, (_, args) in zip(crawlers, jobs):
            if stopping:
                break
            yield process.crawl(crawler, **args)
            if crawler.stats and crawler.stats.get_value("finish_reason") == "shutdown":
                stopping.append(True)

    def stop_reactor(_):
        from twisted.internet import reactor

        if reactor.running:
            reactor.stop()

    run_one_by_one().addBoth(stop_reactor)
    process.start(stop_after_crawl=False)
    return [
        CrawlResult(
            spider=name,
            stats=crawler.stats.get_stats() if crawler.stats else {},
            run_id=getattr(getattr(crawler, "spider", None), "run_id", None),
        )
        for crawler, (name, _) in zip(crawlers, jobs)
    ]
