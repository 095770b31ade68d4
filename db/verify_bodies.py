"""Verify's check of the stored bodies: each decompressed and re-hashed (in threads: zlib and hashlib let go of the
GIL on large buffers), and each capture's body either stored at its size or covered by a tombstone."""

import hashlib
import json
import zlib
from concurrent.futures import ThreadPoolExecutor

from db.captures import decompress_body
from db.verify_result import Problem


def check_bodies(store, result, problems, seq_of, *, after=0, workers=None):
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
