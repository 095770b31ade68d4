"""Re-check the whole store: every body against its SHA-256, every record against its chain entry, every link.

The checks, in the words of docs/evidence.md: (1) the chain is a gap-free sequence from seq 1 whose prev_hash
links and link hashes recompute; (2) every chain entry's content hash recomputes from the record's row as it is
stored now, and every evidence row has exactly one chain entry; (3) every stored body decompresses to bytes whose
SHA-256 is its key and whose length is its size; (4) every capture's body is either stored or covered by a
tombstone naming that capture; no body is stored that no capture refers to; (5) every capture of a crawl run
was fetched from a host that run declared for its listing's marketplace, and each marketplace is written by one
spider; (6) each listing's index columns and search row (what the queue, exports, notices and search show) are
what its chained captures, classifications and status records say (db/listing_index.py).

Each check has a module of its own: db/verify_records.py (1, 2), db/verify_bodies.py (3, 4), db/verify_hosts.py (5),
db/verify_index.py (6, and the desk's stored counts). This one runs them over one snapshot, in full or past a verify
anchor (`--since-anchor`).
"""

import os

from db.canonical import GENESIS
from db.chain import RECORD_TYPES
from db.connection import read_snapshot
from db.verify_bodies import check_bodies
from db.verify_hosts import check_hosts
from db.verify_index import check_desk_counts, check_listing_index
from db.verify_records import check_records, start_record_hashing, walk_chain
from db.verify_result import Problem, VerifyResult

MAX_PROBLEMS = 1000


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
        hashing = start_record_hashing(store, after, workers)
        try:
            walk_chain(store, result, problems, seq_of, after=after, prev=since["head"] if since else GENESIS)
            for record_type in RECORD_TYPES:
                check_records(store, record_type, problems, seq_of, after=after, hashed_elsewhere=bool(hashing))
            check_bodies(store, result, problems, seq_of, after=after, workers=workers)
            check_hosts(store, problems, seq_of, after=after)
            check_listing_index(store, problems, seq_of, _listings_touched_after(store, after) if since else None)
            if not since:  # a recount of every listing: the full verify's job
                check_desk_counts(store, problems)
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
