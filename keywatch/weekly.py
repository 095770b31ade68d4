"""The weekly job behind `keywatch crawl --all`: every enabled marketplace, one after another, in one process.

The pieces, each in its own module: which marketplaces (keywatch/marketplaces.py, marketplaces.yaml), one crawl
at a time per store (keywatch/crawl_lock.py), resuming an interrupted batch (keywatch/job_state.py: a Scrapy
JOBDIR per spider beside the database) and the report (keywatch/weekly_report.py: each spider run judged against
its previous finished run by spiders/monitors.py, written as JSON beside the database).
"""

from dataclasses import replace
from pathlib import Path

import db
from db.canonical import utc_now
from keywatch.crawl_lock import CrawlLock
from keywatch.job_state import JobState
from keywatch.marketplaces import MarketplaceJob, load_config
from keywatch.weekly_report import WeeklyReport, reports_dir, spider_report


def run_all(config_path: Path, db_path: Path, settings, *, resume: bool = False, known_spiders=None) -> WeeklyReport:
    """Crawl every enabled marketplace of `config_path` into `db_path`, one after another, under the lock.

    `settings` are the project's Scrapy settings (keywatch.crawling.project_settings). Raises ConfigError for a
    bad config, LockHeld when another run holds the lock. The report is also written to `<db dir>/reports/`.
    """
    from keywatch.crawling import run_crawls

    jobs = load_config(config_path, known_spiders)
    routes = [official_route(job, settings) for job in jobs if job.enabled]
    enabled = [job for job, _ in routes]
    with CrawlLock(db_path):
        state = JobState(db_path)
        resumed = state.begin(resume)
        todo = [job for job in enabled if not state.is_done(job.spider)]
        crawls = []
        for job in todo:
            continuing = state.start_run(job.spider)
            crawls.append(
                (
                    job.spider,
                    job.args,
                    {**job.settings, "JOBDIR": str(state.jobdir(job.spider)), "KEYWATCH_RESUMING": continuing},
                )
            )
        results = run_crawls(crawls, settings)
        by_spider = {result.spider: result for result in results}
        for job in todo:
            result = by_spider.get(job.spider)
            state.end_run(job.spider, result.lost_pages if result is not None else 0)
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
                        spider_report(store, job.spider, result.run_id, result.finish_reason, error=result.error)
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
