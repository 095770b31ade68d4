"""Resumable crawls: Scrapy JOBDIRs and the weekly batch's progress, under `<db dir>/jobs/<db name>/`."""

import json
import shutil
from pathlib import Path
from typing import Any

from common import atomic
from db.canonical import utc_now

# In a spider's JOBDIR while a run uses it; left behind only by a process that was killed.
RUN_MARKER = "keywatch-run-in-progress"


class JobState:
    """Scrapy JOBDIRs and the list of spiders already done in this batch.

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

    def start_run(self, spider: str) -> bool:
        """Mark `spider`'s JOBDIR as in use by a run about to start; returns True when it holds the state of an
        earlier run to continue.

        A run killed outright (SIGKILL, power loss) never wrote its queue's state, and its seen-requests file holds
        requests whose pages were fetched but never stored: such a JOBDIR, still marked as in use, is discarded.
        The resumed run then starts its searches again and skips the listings the killed run stored (the store
        says which), so it fetches again exactly what was not committed.
        """
        jobdir = self.jobdir(spider)
        continuing = jobdir.exists()
        if (jobdir / RUN_MARKER).exists():
            shutil.rmtree(jobdir)
        jobdir.mkdir(parents=True, exist_ok=True)
        (jobdir / RUN_MARKER).write_text(utc_now(), encoding="utf-8")
        return continuing

    def end_run(self, spider: str, lost_pages: int = 0) -> None:
        """The run returned (finished or stopped gracefully): its JOBDIR is consistent, unless the run fetched pages
        it did not store (its store writer died): that JOBDIR keeps its marker and is discarded as a killed run's."""
        if not lost_pages:
            (self.jobdir(spider) / RUN_MARKER).unlink(missing_ok=True)

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
        atomic.write_text(self.batch_file, json.dumps(self.batch, indent=2))
