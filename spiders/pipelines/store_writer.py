"""The store's writer: a process of its own that commits the groups of captures StorePipeline hands it.

Building a capture's canonical JSON and chain links is pure Python: in a writer thread it held the crawl's GIL
for about half of what the store cost per page. In a process it runs on the other core while Scrapy downloads
and parses (bench/crawl.py measures both). It dies with the crawl (spiders/pipelines/workers.py): a crawl killed
mid-group loses that group, none of which it had counted as stored, and `crawl --resume` fetches those pages again.
"""

from concurrent.futures import ProcessPoolExecutor

from spiders.pipelines import workers

PROCESS_NAME = "kw-writer"
_store = None  # the writer's own connection to the store, opened once by its initializer


def start(db_path) -> ProcessPoolExecutor:
    """A writer process for the store at `db_path`: submit `save_group` to it."""
    return workers.start(PROCESS_NAME, _open_store, str(db_path))


def start_early(db_path) -> None:
    """Start the process `start` will ask for with the same path now, before the crawl opens."""
    workers.start_early(PROCESS_NAME, _open_store, str(db_path))


def save_group(records: list[dict], run_id: int) -> list:
    """db.save_captures in the writer: per record its capture id, or what refused it."""
    import db

    return [workers.picklable(outcome) for outcome in db.save_captures(_store, records, run_id)]


def _open_store(db_path: str) -> None:
    global _store
    import db

    _store = db.connect_group_writer(db_path)
