"""The weekly job behind `keywatch crawl --all`: every enabled marketplace, one after another, in one process.

The pieces, each in its own module: which marketplaces (keywatch/marketplaces.py, marketplaces.yaml), one crawl
at a time per store (keywatch/crawl_lock.py), resuming an interrupted batch (keywatch/job_state.py: a Scrapy
JOBDIR per spider beside the database) and the report (keywatch/weekly_report.py: each spider run judged against
its previous finished run by spiders/monitors.py, written as JSON beside the database).
"""

from pathlib import Path

import db
from db.canonical import utc_now
from keywatch.crawl_lock import CrawlLock
from keywatch.job_state import JobState
from keywatch.marketplaces import load_config
from keywatch.weekly_report import WeeklyReport, reports_dir, spider_report


def run_all(config_path: Path, db_path: Path, settings, *, resume: bool = False, known_spiders=None) -> WeeklyReport:
    """Crawl every enabled marketplace of `config_path` into `db_path`, one after another, under the lock.

    `settings` are the project's Scrapy settings (keywatch.crawling.project_settings). Raises ConfigError for a
    bad config, LockHeld when another run holds the lock. The report is also written to `<db dir>/reports/`.
    """
    from keywatch.crawling import run_crawls

    jobs = load_config(config_path, known_spiders)
    enabled = [job for job in jobs if job.enabled]
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
        )
        report.write(reports_dir(db_path))
    return report
