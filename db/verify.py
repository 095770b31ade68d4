"""Re-check the whole store: every body against its SHA-256, every record against its chain entry, every link.

The checks, in the words of docs/evidence.md: (1) the chain is a gap-free sequence from seq 1 whose prev_hash
links and link hashes recompute; (2) every chain entry's content hash recomputes from the record's row as it is
stored now, and every evidence row has exactly one chain entry; (3) every stored body decompresses to bytes whose
SHA-256 is its key and whose length is its size; (4) every capture's body is either stored or covered by a
tombstone naming that capture; no body is stored that no capture refers to; (5) every capture of a crawl run
was fetched from a host that run declared for its listing's marketplace, and each marketplace is written by one
spider; (6) each listing's index columns and search row (what the queue, exports, notices and search show) are
what its chained captures, classifications and status records say (db/listing_index.py).
"""

import hashlib
import json
import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

from db import desk_counts, listing_index
from db.canonical import GENESIS, link_hash
from db.captures import decompress_body
from db.chain import RECORD_TYPES, content_hash
from db.connection import read_snapshot
from db.hosts import MEDIA_PURPOSES, foreign_host, writer_of

MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class Problem:
    seq: int | None
    record: str
    message: str
    # 0: a record or chain link is wrong; 1: a body problem, which may only be a consequence of a rank-0 one;
    # 2: a listing's index disagrees with its evidence (also the consequence of any altered or removed record).
    rank: int = 0

    def __str__(self):
        where = f"chain seq {self.seq} ({self.record})" if self.seq is not None else self.record
        return f"{where}: {self.message}"


@dataclass
class VerifyResult:
    count: int = 0
    head: str = GENESIS
    bodies: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return f"{self.count} records, chain head {self.head}"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        return f"verification FAILED: {self.first}{more}"


def _table_exists(store, table) -> bool:
    found = store.query("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    return next(found, None) is not None


def verify(store, anchor: str | None = None, *, since: dict | None = None, workers: int | None = None) -> VerifyResult:
    """Check everything; `anchor`, a chain head written down earlier, must still be in the chain.

    `since`, a verify anchor (db/anchors.py), checks only what the chain holds after it: the chain from there on,
    those records, the bodies of those captures, their hosts and the index rows of the listings they touch; the
    anchor itself must still match the chain. Bodies are decompressed and hashed by `workers` threads (zlib and
    hashlib let go of the GIL on large buffers; default: one per core).
    """
    result = VerifyResult()
    problems: list[Problem] = []
    seq_of: dict[tuple[str, int], int] = {}
    after = since["seq"] if since else 0
    with read_snapshot(store):
        if since and not _anchor_holds(store, since, problems):
            result.problems = problems
            return result
        workers = workers or os.cpu_count() or 1
        hashing = _start_record_hashing(store, after, workers)
        try:
            _walk_chain(store, result, problems, seq_of, after=after, prev=since["head"] if since else GENESIS)
            for record_type in RECORD_TYPES:
                _check_records(store, record_type, problems, seq_of, after=after, hashed_elsewhere=bool(hashing))
            _check_bodies(store, result, problems, seq_of, after=after, workers=workers)
            _check_hosts(store, problems, seq_of, after=after)
            _check_listing_index(store, problems, seq_of, _listings_touched_after(store, after) if since else None)
            if not since:  # a recount of every listing: the full verify's job
                _check_desk_counts(store, problems)
            if hashing:
                problems.extend(problem for future in hashing[1] for problem in future.result())
        finally:
            if hashing:
                hashing[0].shutdown(cancel_futures=True)
        if (
            anchor is not None
            and next(store.query("SELECT 1 AS found FROM chain WHERE hash = ?", [anchor]), None) is None
        ):
            problems.append(Problem(None, "anchor", f"chain head {anchor} written down earlier is not in the chain"))
    # Report record and chain problems first, in chain order; body problems (often their consequence) after.
    problems.sort(key=lambda p: (p.rank, p.seq is None, p.seq or 0))
    result.problems = problems[:MAX_PROBLEMS]
    return result


def _anchor_holds(store, anchor: dict, problems) -> bool:
    """The chain still has the anchor's head at the anchor's position: nothing before it was rewritten."""
    if anchor["seq"] == 0:
        return anchor["head"] == GENESIS or _anchor_problem(problems, anchor, "an empty chain has no head")
    row = next(store.query("SELECT hash FROM chain WHERE seq = ?", [anchor["seq"]]), None)
    if row is None:
        return _anchor_problem(problems, anchor, f"the chain has no record {anchor['seq']}")
    if row["hash"] != anchor["head"]:
        return _anchor_problem(problems, anchor, f"the chain's record {anchor['seq']} has another hash")
    return True


def _anchor_problem(problems, anchor, why) -> bool:
    problems.append(
        Problem(
            anchor["seq"],
            f"verify anchor {anchor['id']}",
            f"{why}: the chain before the anchor changed, or the anchor did (run a full verify)",
        )
    )
    return False


def _listings_touched_after(store, after: int) -> set[int]:
    """Listings with a capture, classification or status record chained after position `after`."""
    rows = store.query(
        "SELECT c.listing_pk AS pk FROM chain ch JOIN captures c ON c.id = ch.record_id "
        "WHERE ch.seq > :after AND ch.record_type = 'capture' "
        "UNION SELECT c.listing_pk FROM chain ch JOIN classifications k ON k.id = ch.record_id "
        "JOIN captures c ON c.id = k.capture_id WHERE ch.seq > :after AND ch.record_type = 'classification' "
        "UNION SELECT s.listing_pk FROM chain ch JOIN listing_status s ON s.id = ch.record_id "
        "WHERE ch.seq > :after AND ch.record_type = 'status'",
        {"after": after},
    )
    return {row["pk"] for row in rows}


def _walk_chain(store, result, problems, seq_of, *, after=0, prev=GENESIS):
    expected_seq = after + 1
    for row in store.query(
        "SELECT seq, record_type, record_id, content_hash, prev_hash, hash FROM chain WHERE seq > ? ORDER BY seq",
        [after],
    ):
        seq, record_type, record_id = row["seq"], row["record_type"], row["record_id"]
        digest, prev_hash, stored_hash = row["content_hash"], row["prev_hash"], row["hash"]
        record = f"{record_type} {record_id}"
        if seq != expected_seq:
            gone = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            problems.append(Problem(expected_seq, "deleted", f"chain record {gone} missing (the next is seq {seq})"))
        if prev_hash != prev:
            problems.append(
                Problem(seq, record, "previous-hash link broken (a record before it was altered or removed)")
            )
        try:
            relinked = link_hash(prev_hash, digest)
        except (TypeError, UnicodeError):  # altered to something that is not hex text
            relinked = None
        if stored_hash != relinked:
            problems.append(Problem(seq, record, "chain hash does not match sha256(prev_hash + content_hash)"))
        if record_type not in RECORD_TYPES:
            problems.append(Problem(seq, record, "unknown record type"))
        key = (record_type, record_id)
        if key in seq_of:
            problems.append(
                Problem(seq, record, f"second chain record for the same record (first at seq {seq_of[key]})")
            )
        else:
            seq_of[key] = seq
        expected_seq, prev = seq + 1, stored_hash
        result.count += 1
    result.head = prev


def _check_records(store, record_type, problems, seq_of, *, after=0, hashed_elsewhere=False):
    spec = RECORD_TYPES[record_type]
    if not _table_exists(store, spec.table):
        for (kind, record_id), seq in seq_of.items():
            if kind == record_type:
                problems.append(Problem(seq, f"{record_type} {record_id}", f"table {spec.table} is missing"))
        return
    if not hashed_elsewhere:
        problems.extend(_record_problems(store, record_type, after, None))
    # Rows are numbered in the order they are chained: past an anchor, only rows numbered after its last one.
    newer = (
        f"t.[{spec.pk}] > coalesce((SELECT max(record_id) FROM chain WHERE record_type = :type AND seq <= :after), 0) "
        "AND "
        if after
        else ""
    )
    unchained = store.query(
        f"SELECT t.[{spec.pk}] AS record_id FROM [{spec.table}] t WHERE {newer}NOT EXISTS "
        f"(SELECT 1 FROM chain ch WHERE ch.record_type = :type AND ch.record_id = t.[{spec.pk}])",
        {"type": record_type, "after": after},
    )
    for row in unchained:
        problems.append(
            Problem(
                None, f"{record_type} {row['record_id']}", "record has no chain entry (inserted outside the chain?)"
            )
        )


def _record_problems(store, record_type: str, after: int, upto: int | None) -> list[Problem]:
    """Each chain record of this type after position `after` (up to `upto`) against its row as stored now."""
    spec = RECORD_TYPES[record_type]
    columns = ", ".join(f"t.[{c}]" for c in spec.columns) if spec.columns else "t.*"
    # The chain's columns under names no record column has, so that the rest of each row is the record as stored.
    rows = store.query(
        f"SELECT ch.seq AS [chain seq], ch.record_id AS [chain record_id], ch.content_hash AS [chain content_hash], "
        f"ch.created_at AS [chain created_at], t.[{spec.pk}] IS NOT NULL AS [chain present], {columns} "
        f"FROM chain ch LEFT JOIN [{spec.table}] t ON t.[{spec.pk}] = ch.record_id "
        "WHERE ch.record_type = ? AND ch.seq > ? AND ch.seq <= ?",
        [record_type, after, 2**63 - 1 if upto is None else upto],
    )
    problems = []
    for row in rows:
        seq, record_id, digest = row.pop("chain seq"), row.pop("chain record_id"), row.pop("chain content_hash")
        created_at, present = row.pop("chain created_at"), row.pop("chain present")
        record = f"{record_type} {record_id}"
        if not present:
            problems.append(Problem(seq, record, f"record missing from {spec.table} (deleted?)"))
            continue
        try:
            recomputed = content_hash(record_type, record_id, created_at, row)
        except (TypeError, ValueError) as error:  # a value no honest write stores: a blob, an infinity
            problems.append(Problem(seq, record, f"record holds a value that cannot be hashed ({error})"))
            continue
        if recomputed != digest:
            problems.append(Problem(seq, record, "content hash mismatch (the record or its chain entry was altered)"))
    return problems


# Past this many chain records, a full verify re-hashes records in worker processes, one per core (hashing a
# record is Python work that holds the GIL); fewer are not worth starting them.
PARALLEL_RECORDS = 20_000


def _records_in_file(path: str, record_types: list[str], after: int, upto: int) -> list[Problem]:
    """_record_problems for a slice of the chain, in a worker process with its own read-only connection.
    Chain records up to `upto` (the main snapshot's last) never change, so its later snapshot sees the same."""
    from db.connection import read_only

    with read_only(path) as store:
        return [problem for kind in record_types for problem in _record_problems(store, kind, after, upto)]


def _start_record_hashing(store, after: int, workers: int):
    """Hand the records' hash checks to worker processes when the store is a large file: (pool, futures) or None."""
    path = next((row["file"] for row in store.query("PRAGMA database_list") if row["name"] == "main"), "")
    last = next(store.query("SELECT coalesce(max(seq), 0) AS seq FROM chain"))["seq"]
    if workers < 2 or not path or last - after < PARALLEL_RECORDS:
        return None
    kinds = [kind for kind, spec in RECORD_TYPES.items() if _table_exists(store, spec.table)]
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    step = -(-(last - after) // (workers * 4))
    futures = [pool.submit(_records_in_file, path, kinds, lo, min(lo + step, last)) for lo in range(after, last, step)]
    return pool, futures


def _check_bodies(store, result, problems, seq_of, *, after=0, workers=None):
    kinds = {
        row["id"]: row["purpose"].partition(":")[2]
        for row in store.query("SELECT id, purpose FROM captures WHERE purpose LIKE 'attachment:%'")
    }

    def capture_problem(capture_id, message):
        # A screenshot, photo or other attachment says what it is: "capture 12 (screenshot)".
        record = f"capture {capture_id}" + (f" ({kinds[capture_id]})" if capture_id in kinds else "")
        problems.append(Problem(seq_of.get(("capture", capture_id)), record, message, rank=1))

    stored: dict[str, int] = {}
    # The first capture of each body names it in a problem; none at all means a body nothing refers to.
    first_capture = "(SELECT min(id) FROM captures WHERE sha256 = b.sha256) AS capture_id"
    rows = (
        store.query(
            f"SELECT b.sha256, b.body, b.size, b.encoding, {first_capture} FROM bodies b WHERE b.sha256 IN "
            "(SELECT c.sha256 FROM chain ch JOIN captures c ON c.id = ch.record_id "
            "WHERE ch.record_type = 'capture' AND ch.seq > ?)",
            [after],
        )
        if after
        else store.query(f"SELECT b.sha256, b.body, b.size, b.encoding, {first_capture} FROM bodies b")
    )
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in _batches(rows, BODY_BATCH):
            for row, problem in zip(batch, pool.map(_body_problem, batch), strict=True):
                result.bodies += 1
                stored[row["sha256"]] = row["size"]
                if row["capture_id"] is None:
                    problems.append(
                        Problem(None, f"body {row['sha256']}", "stored body is referenced by no capture", rank=1)
                    )
                elif problem:
                    capture_problem(row["capture_id"], problem)

    tombstoned: dict[str, set[int]] = {}
    for tombstone in store.query("SELECT id, sha256, capture_ids FROM tombstones"):
        tombstone_id = tombstone["id"]
        try:
            ids = {int(i) for i in json.loads(tombstone["capture_ids"])}
        except (ValueError, TypeError):
            problems.append(
                Problem(
                    seq_of.get(("tombstone", tombstone_id)),
                    f"tombstone {tombstone_id}",
                    "capture_ids is not a JSON list of ids",
                )
            )
            continue
        tombstoned.setdefault(tombstone["sha256"], set()).update(ids)

    if after:  # only the captures chained after the anchor; their bodies are the ones read above
        stored.update(
            (row["sha256"], row["size"])
            for row in store.query(
                "SELECT sha256, size FROM bodies WHERE sha256 IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted({row["sha256"] for row in _captures_after(store, after)} - set(stored)))],
            )
        )
    for capture in _captures_after(store, after):
        capture_id, sha256, body_size = capture["id"], capture["sha256"], capture["body_size"]
        if sha256 in stored:
            if stored[sha256] != body_size:
                capture_problem(capture_id, f"body size {body_size} differs from stored body's {stored[sha256]}")
        elif capture_id not in tombstoned.get(sha256, ()):
            capture_problem(capture_id, f"body {sha256} is missing and no tombstone records its removal")


def _captures_after(store, after: int):
    if not after:
        return store.query("SELECT id, sha256, body_size FROM captures ORDER BY id")
    return store.query(
        "SELECT c.id, c.sha256, c.body_size FROM chain ch JOIN captures c ON c.id = ch.record_id "
        "WHERE ch.record_type = 'capture' AND ch.seq > ? ORDER BY c.id",
        [after],
    )


# Bodies handed to the hashing threads at a time: enough to keep them busy, few enough to bound memory.
BODY_BATCH = 64


def _batches(rows, size):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _body_problem(row) -> str | None:
    """What is wrong with one stored body (it does not decompress, hash or measure up), or None. Runs in a thread."""
    sha256, size = row["sha256"], row["size"]
    try:
        body = decompress_body(row["body"], row["encoding"])
    except (zlib.error, ValueError, TypeError) as error:
        return f"stored body {sha256} cannot be decompressed ({error})"
    if hashlib.sha256(body).hexdigest() != sha256:
        return f"stored body does not hash to {sha256}"
    if len(body) != size:
        return f"stored body {sha256} is {len(body)} bytes, recorded size {size}"
    return None


def listing_index_problems(store, listing_pks=None) -> list[Problem]:
    """Index problems of these listings (all when None): what an export checks before it quotes the index."""
    problems: list[Problem] = []
    _check_listing_index(store, problems, {}, listing_pks)
    return problems


def _check_listing_index(store, problems, seq_of, listing_pks=None):
    """The index is rewritten as captures arrive, so no trigger guards it; it must still be what the evidence says.

    An edited title, seller, price or URL would otherwise reach notices and packs, and an edited `flagged` or a
    deleted search row would hide a hit from the review queue, with every hash still verifying.
    """
    migrated = "latest_seller" in {r["name"] for r in store.query("PRAGMA table_info(listings)")}
    why = "" if migrated else " (the store predates the current index rules: any writing command rebuilds it)"
    for pk, columns in listing_index.disagreements(store, listing_pks).items():
        problems.append(
            Problem(
                seq_of.get(("listing", pk)),
                f"listing {pk}",
                f"index column(s) {', '.join(columns)} disagree with the chained evidence{why}",
                rank=2,
            )
        )


def _check_desk_counts(store, problems):
    """The review desk's stored counts and review statuses (db/desk_counts.py) against a recount: a wrong one would
    hide listings from a queue tab or misstate the work left."""
    if "review_status" not in {r["name"] for r in store.query("PRAGMA table_info(listings)")}:
        return  # a store read before the desk migration m008: nothing stored to check
    for message in desk_counts.disagreements(store):
        problems.append(Problem(None, "desk counts", message, rank=2))


def _check_hosts(store, problems, seq_of, *, after=0):
    """Every capture of a crawl run was fetched from a host that run declared for its listing's marketplace, and
    every marketplace is written by one spider: a page fetched from one site cannot stand as another's listing."""
    spiders: dict[str, set[str]] = {}
    # Runs record their spider (crawl_runs) since the first store: this part also reads stores made before runs
    # declared their hosts, where a page filed under another site's listing came from a run of another spider.
    # Past an anchor, the captures after it (their ids are above every capture chained before it).
    first_capture = (
        next(
            store.query(
                "SELECT coalesce(max(record_id), 0) AS id FROM chain WHERE record_type = 'capture' AND seq <= ?",
                [after],
            )
        )["id"]
        if after
        else -(2**63)
    )
    for row in store.query(
        "SELECT DISTINCT l.marketplace, r.spider FROM captures c JOIN listings l ON l.pk = c.listing_pk "
        "JOIN crawl_runs r ON r.id = c.run_id WHERE c.id > ?",
        [first_capture],
    ):
        spiders.setdefault(row["marketplace"], set()).add(writer_of(row["marketplace"], row["spider"]))
    declared: dict[int, dict[str, list[str]]] = {}
    rows = (
        store.query("SELECT run_id, spider, marketplace, host FROM marketplace_hosts ORDER BY id")
        if _table_exists(store, "marketplace_hosts")
        else ()
    )
    for row in rows:
        declared.setdefault(row["run_id"], {}).setdefault(row["marketplace"], []).append(row["host"])
        spiders.setdefault(row["marketplace"], set()).add(writer_of(row["marketplace"], row["spider"]))
    for marketplace, names in sorted(spiders.items()):
        if len(names) > 1:
            problems.append(
                Problem(
                    None, f"marketplace {marketplace}", f"written by more than one spider ({', '.join(sorted(names))})"
                )
            )
    if not declared:
        return
    captures = store.query(
        "SELECT c.id, c.run_id, l.marketplace, c.request_url, c.url FROM captures c "
        "JOIN listings l ON l.pk = c.listing_pk WHERE c.run_id IN (SELECT run_id FROM marketplace_hosts) "
        f"AND c.id > ? AND coalesce(c.purpose, '') NOT IN ({', '.join('?' * len(MEDIA_PURPOSES))}) ORDER BY c.id",
        [first_capture, *MEDIA_PURPOSES],
    )
    for capture in captures:
        problem = foreign_host(
            declared[capture["run_id"]], capture["marketplace"], [capture["request_url"], capture["url"]]
        )
        if problem:
            problems.append(
                Problem(
                    seq_of.get(("capture", capture["id"])),
                    f"capture {capture['id']}",
                    f"fetched off its listing's marketplace: {problem} (run {capture['run_id']})",
                )
            )
