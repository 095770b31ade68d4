"""The crawl's classifier: a process of its own that scores the listings ClassifyPipeline hands it, a batch at a time,
and reads the item pages the crawl fetched without reading them (MarketplaceSpider.complete_pages).

Classifying was the largest single cost of the crawl's own process (bench/crawl.py): here it runs on the other
core, and `classify_many` scores each batch's model features together. Reading an item page (its HTML tree, its
JSON-LD, identity from the fetch, sanitising) came next, and the crawl's process, one thread, is what bounds a
crawl: reading is a pure function of the capture (bytes, URLs, headers), so it runs here too, by a copy of the
crawl's spider built from the same arguments. The worker loads the watchlist itself, and each result names the
watchlist and classifier versions that produced it. Each crawl starts its own and stops it when it closes (the
crawls of a weekly run go one after another).

When no pipeline comes between classifying and storing (rendering and photos off), this process also commits what
it classified (`classify_and_store`, the store writer's `db.save_captures` in this process): the crawl's process
then hands each page over once, body included, and awaits one outcome, the capture id once its group has committed.
A separate writer would take a second copy of every body through a pipe, and the commit could reach the crawl only
through this process anyway (2026-12-02, bench/crawl.py: docs/operations.md, *What a crawl costs per page*).
"""

from concurrent.futures import ProcessPoolExecutor

from classifier import classifier_version, classify, load_watchlist
from classifier.classify import classify_many
from spiders.items import LISTING_FIELDS, NEVER_STORED
from spiders.pipelines import workers
from spiders.robot_check import BlockedPage

PROCESS_NAME = "kw-classifier"
_watchlist = None  # loaded once by the worker's initializer
_reader = None  # the spider that reads item pages here, if the crawl hands any over
_store = None  # the store, opened by `open_store` when this process stores what it classifies


def start(watchlist_path, reader: tuple[str, dict] | None = None) -> ProcessPoolExecutor:
    """A classifier process for the watchlist at `watchlist_path`: submit `classify_batch` to it. `reader`: the
    crawl's spider class (its import path) and arguments, when the crawl leaves its item pages to be read here."""
    return workers.start(PROCESS_NAME, _load, str(watchlist_path), reader)


def start_early(watchlist_path, reader: tuple[str, dict] | None = None) -> None:
    """Start the process `start` will ask for with the same arguments now, before the crawl opens."""
    workers.start_early(PROCESS_NAME, _load, str(watchlist_path), reader)


def _load(path: str, reader: tuple[str, dict] | None = None) -> None:
    global _watchlist, _reader
    _watchlist = load_watchlist(path)
    if reader is not None:
        from scrapy.utils.misc import load_object

        spider_class, arguments = reader
        _reader = load_object(spider_class)(**arguments)
    # The model and the term index are built on first use: here, while the crawl is still starting (its robots.txt,
    # its first search pages), and before the worker freezes what it has loaded (workers.py), rather than in the
    # middle of the first batch (0.5-0.6 s of CPU on the shipped model, 2026-12-02), which held its listings.
    classifier_version(_watchlist)
    _watchlist.matcher  # noqa: B018 - built now, kept by the watchlist


def classify_batch(tasks: list[tuple]) -> list[tuple]:
    """`read_and_classify` in the worker, with what went wrong made to cross back to the crawl."""
    return [tuple(map(workers.picklable, result)) for result in read_and_classify(tasks, _watchlist, _reader)]


def open_store(db_path: str) -> None:
    """Open the store this process commits to (`classify_and_store`): called once, before the first group."""
    global _store
    import db

    if _store is None:
        _store = db.connect_group_writer(db_path)


def classify_and_store(tasks: list[tuple], records: list[dict], run_id: int, counted: list[bool] | None = None):
    """Per record (the item as the store keeps it; `tasks[i]` is `task_of` it): its reading and classification
    (`read_and_classify`), filled into the record, then the whole group committed in one transaction. Per item
    (fields, classification, capture id or what refused it); for one whose `counted` is True, the fields and the
    classification only as far as the crawl counts them (`counted_only`). An error of the commit itself refuses every
    item. A page the reading found to be a robot check (fields: BlockedPage) is not stored (capture id None)."""
    import db

    results = read_and_classify(tasks, _watchlist, _reader)
    storing = []  # robot checks are not stored (the crawl drops their items)
    for record, (fields, classification) in zip(records, results, strict=True):
        if isinstance(fields, BlockedPage):
            continue
        fill_in(record, fields, classification)
        for name in NEVER_STORED:
            record.pop(name, None)
        storing.append(record)
    try:
        saved = iter(db.save_captures(_store, storing, run_id) if storing else [])
    except Exception as error:  # noqa: BLE001 - the group did not commit: no item of it is stored
        saved = iter([error] * len(storing))
    if counted is not None:
        results = [counted_only(*result) if brief else result for result, brief in zip(results, counted, strict=True)]
    return [
        (
            workers.picklable(fields),
            workers.picklable(classification),
            None if isinstance(fields, BlockedPage) else workers.picklable(next(saved)),
        )
        for fields, classification in results
    ]


def counted_only(fields, classification) -> tuple:
    """A page's reading and classification cut down to what the crawl counts of a capture it no longer holds (its
    problems, claims and parse error; flagged, category and risk). A whole result cost this process about 10
    microseconds a page to pickle (2026-12-03); the crawl's instructions per page moved by less than their noise."""
    if isinstance(fields, dict):
        extra = fields.get("extra") or {}
        fields = {"extra": {name: extra[name] for name in ("field_problems", "claims", "parse_error") if name in extra}}
    if isinstance(classification, dict):
        classification = {name: classification.get(name) for name in ("flagged", "category", "risk")}
    return fields, classification


def fill_in(target, fields, classification) -> dict | None:
    """An item (or its record) with its reading's listing fields, if its page was read apart from it, and its
    classification, if it has one. A reading or classification that failed is kept as why, in `extra`: the page is
    stored as fetched all the same (`reclassify` can redo a classification). Returns the fields filled in."""
    if fields is not None:
        if isinstance(fields, Exception):
            fields = {"extra": {"parse_error": f"{type(fields).__name__}: {fields}"}}
        for name in ("marketplace", "listing_id", "url", *LISTING_FIELDS):
            if fields.get(name) is not None:
                target[name] = fields[name]
        target["unread"] = None
    if isinstance(classification, Exception):
        target["extra"]["classification_error"] = f"{type(classification).__name__}: {classification}"
    elif classification is not None:
        # the classifier version names the model and its training set too (chained with the rest)
        target["classification"] = classification
    return fields


def read_and_classify(tasks: list[tuple], watchlist, reader) -> list[tuple]:
    """Per (capture, pair): (fields, classification). A capture (an item page not read yet) is read first, by
    `reader.read_fetched`, and its title and description classified; else `pair` is (title, description). fields
    is None for a pair; classification is None for a listing with neither title nor description. Either may be
    the exception that stopped it."""
    read: list[tuple] = []
    for capture, pair in tasks:
        if capture is None:
            read.append((None, pair))
            continue
        try:
            fields = reader.read_fetched(capture)
        except Exception as error:  # noqa: BLE001 - read_listing keeps a page's errors; this is anything else
            read.append((error, None))
            continue
        read.append((fields, pair_of(fields)))
    outcomes = iter(classify_pairs([pair for _, pair in read if pair is not None], watchlist))
    return [(fields, None if pair is None else next(outcomes)) for fields, pair in read]


def task_of(item) -> tuple:
    """(capture, None) for an item page to read and classify, (None, (title, description)) for a listing to
    classify, (None, None) for one with nothing to classify. `item`: an item's fields (`fields_of`) or a record."""
    if item.get("unread") is None:
        return None, pair_of(item)
    capture = {name: item[name] for name in ("unread", "response_url", "status", "headers", "body")}
    return capture, None


def pair_of(fields) -> tuple[str, str] | None:
    """What a listing is classified on, or None when it has neither title nor description (a gone listing)."""
    if not fields.get("title") and not fields.get("description"):
        return None
    return (fields.get("title") or "", fields.get("description") or "")


def classify_pairs(pairs: list[tuple[str, str]], watchlist) -> list:
    """The classifications of `pairs` (dicts, with the versions that made them), or per pair what went wrong: a
    failing batch is retried one listing at a time, so one bad listing does not cost the others theirs."""
    if not pairs:
        return []
    versions = {"watchlist_version": watchlist.version, "classifier_version": classifier_version(watchlist)}
    try:
        return [{**result.to_dict(), **versions} for result in classify_many(pairs, watchlist)]
    except Exception:  # noqa: BLE001 - find out which listing, below
        pass
    outcomes: list = []
    for title, description in pairs:
        try:
            outcomes.append({**classify(title, description, watchlist).to_dict(), **versions})
        except Exception as error:  # noqa: BLE001 - the page is still stored, unclassified (`reclassify` redoes it)
            outcomes.append(error)
    return outcomes
