"""Verify's check of the chain and the records it covers: the chain walked link by link, each record re-hashed
against its chain entry (in worker processes on a large store), and no evidence row left out of the chain."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from db.canonical import GENESIS, link_hash
from db.chain import RECORD_TYPES, content_hash
from db.connection import read_only
from db.verify_result import Problem


def walk_chain(store, result, problems, seq_of, *, after=0, prev=GENESIS):
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


def check_records(store, record_type, problems, seq_of, *, after=0, hashed_elsewhere=False):
    spec = RECORD_TYPES[record_type]
    if not store[spec.table].exists():
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
    with read_only(path) as store:
        return [problem for kind in record_types for problem in _record_problems(store, kind, after, upto)]


def start_record_hashing(store, after: int, workers: int):
    """Hand the records' hash checks to worker processes when the store is a large file: (pool, futures) or None."""
    path = next((row["file"] for row in store.query("PRAGMA database_list") if row["name"] == "main"), "")
    last = next(store.query("SELECT coalesce(max(seq), 0) AS seq FROM chain"))["seq"]
    if workers < 2 or not path or last - after < PARALLEL_RECORDS:
        return None
    kinds = [kind for kind, spec in RECORD_TYPES.items() if store[spec.table].exists()]
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    step = -(-(last - after) // (workers * 4))
    futures = [pool.submit(_records_in_file, path, kinds, lo, min(lo + step, last)) for lo in range(after, last, step)]
    return pool, futures
