"""Counter tables kept by triggers (the desk's counts, db/desk_counts.py; the dashboard's hourly counts,
db/dashboard_counts.py): compared with, and set right from, a recount of the evidence.

A table holds one row per key with its count `n`; its recount is a query giving the same columns. Setting the
table right is done without holding the write lock for the recount (1.8 s of CPU at 1,000,000 listings): the
recount and the table are read in one snapshot, and what the snapshot's table got wrong is added, as a
correction, in one short write transaction. Whatever was written in between moved the table by its triggers
from the snapshot's values, so the snapshot's error is still exactly what is wrong.
"""

from __future__ import annotations

from sqlite_utils import Database

from db.connection import read_snapshot, write_transaction


def stored_and_counted(store: Database, table: str, keys: tuple[str, ...], recount: str) -> tuple[dict, dict]:
    """({key: n} in the table, {key: n} by the recount), zero counts left out, read in one snapshot."""
    columns = ", ".join(keys)
    with read_snapshot(store):
        stored = {tuple(r[:-1]): r[-1] for r in store.conn.execute(f"SELECT {columns}, n FROM {table} WHERE n != 0")}
        counted = {tuple(r[:-1]): r[-1] for r in store.conn.execute(f"SELECT {columns}, n FROM ({recount})")}
    return stored, counted


def differences(stored: dict, counted: dict) -> list[tuple[tuple, int, int]]:
    """(key, stored n, counted n) for every key whose counts differ, in key order."""
    return [
        (k, stored.get(k, 0), counted.get(k, 0))
        for k in sorted(set(stored) | set(counted), key=lambda key: [str(part) for part in key])
        if stored.get(k, 0) != counted.get(k, 0)
    ]


def correct(store: Database, table: str, keys: tuple[str, ...], recount: str) -> int:
    """Set `table` right by its recount (see the module's docstring); returns how many keys were corrected."""
    wrong = differences(*stored_and_counted(store, table, keys, recount))
    if wrong:
        apply(store, table, keys, [(key, counted - stored) for key, stored, counted in wrong])
    return len(wrong)


def apply(store: Database, table: str, keys: tuple[str, ...], corrections: list[tuple[tuple, int]]) -> None:
    """Add each correction to its key's count, in one write transaction."""
    columns = ", ".join(keys)
    with write_transaction(store):
        store.conn.executemany(
            f"INSERT INTO {table} ({columns}, n) VALUES ({', '.join('?' * (len(keys) + 1))}) "
            "ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(*key, delta) for key, delta in corrections],
        )
