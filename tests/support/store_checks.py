"""What a test asks of a store after writing to it: every derived row and count agrees with the evidence."""

import db
from db import dashboard_counts, desk_counts, listing_index


def assert_store_agrees(store) -> None:
    """The listings index, the desk's and dashboard's counts match the evidence, and `verify` passes."""
    assert listing_index.disagreements(store) == {}
    assert desk_counts.disagreements(store) == []
    assert dashboard_counts.disagreements(store) == []
    result = db.verify(store)
    assert result.ok, result.summary()


def statements_run(store, fn) -> list[str]:
    """The SQL statements the store's connection runs while `fn()` runs."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        fn()
    finally:
        store.conn.set_trace_callback(None)
    return seen
