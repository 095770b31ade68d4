"""A value as SQLite will hand it back from a column, known without reading the row back.

The chain hashes each record as stored (db/chain.py). A writer that knows what it inserted can hash that instead of
reading the row again, provided SQLite stores the value unchanged: text in a TEXT column, a whole number in an
INTEGER column, a finite float in a REAL column, and a whole number in a REAL column, which SQLite turns into the
same double Python's float() gives. For anything else (text in a number column, a number in a TEXT column, NaN)
SQLite's affinity rules decide, so the row is read back rather than guessed.
"""

import json
import math

UNKNOWN = object()  # what `as_stored` returns when only SQLite can say


def as_stored(value, declared: str):
    """`value` as a column of type `declared` (its declared type, upper case) stores it, or UNKNOWN."""
    kind = type(value)
    if value is None:
        return None
    if kind is str:
        return value if declared == "TEXT" else UNKNOWN
    if kind is int:
        if not -(2**63) <= value < 2**63:
            return UNKNOWN
        if declared == "INTEGER":
            return value
        return float(value) if declared == "REAL" else UNKNOWN
    if kind is float:
        return value if declared == "REAL" and math.isfinite(value) else UNKNOWN
    return UNKNOWN


def stored_row(values: dict, declared: dict[str, str]) -> dict | None:
    """The whole row as stored, from the values inserted, when every column is known (None otherwise).

    `declared` is {column: declared type} of the table: a column the insert did not name (a migration added it,
    with a default) means the row has to be read back."""
    if len(values) != len(declared):
        return None
    row = {}
    for column, value in values.items():
        kind = declared.get(column)
        if kind is None:
            return None
        if value is None or (type(value) is str and kind == "TEXT"):  # most values, without a call
            row[column] = value
            continue
        stored = as_stored(value, kind)
        if stored is UNKNOWN:
            return None
        row[column] = stored
    return row


def declared_types(store, table: str) -> dict[str, str]:
    """{column: declared type in upper case} of `table`; a generated or hidden column counts too (PRAGMA table_xinfo),
    so that a row with one is read back."""
    return {row[1]: (row[2] or "").upper() for row in store.conn.execute(f"PRAGMA table_xinfo([{table}])").fetchall()}


# One encoder each, not one per call as json.dumps builds when given options: the writer encodes a few values per
# capture. (An encoder keeps nothing between calls.)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
_PLAIN_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, allow_nan=False)
_PLAIN = frozenset({str, int, float, bool, type(None)})
_TEXT = frozenset({str})


def storable_json(value) -> str:
    if _plain(value):
        # What storable() returns as it is unless it holds a NUL or a number with no JSON form, which encoding
        # shows: a NUL is escaped as \u0000 (text that spells that out takes the long way too), and such a number
        # refused. Walking it first cost more than encoding it (a classification's matches: 28 -> 19 us).
        try:
            text = _PLAIN_ENCODER.encode(value)
        except ValueError:
            pass
        else:
            if "\\u0000" not in text:
                return text
    return _ENCODER.encode(storable(value))


def _plain(value) -> bool:
    """Whether `value` is JSON's values by exact type only: dicts with text keys, lists, text, numbers, None."""
    kind = type(value)
    if kind is dict:
        if not _TEXT.issuperset(map(type, value)):
            return False
        values = value.values()
    elif kind is list:
        values = value
    else:
        return kind in _PLAIN
    return _PLAIN.issuperset(map(type, values)) or all(map(_plain, values))


def storable(value):
    """What JSON and SQLite can hold faithfully: NaN and infinities have no JSON form (stored as null), and SQLite's
    JSON functions and FTS5 stop reading text at a NUL (stored as U+FFFD, which shows that something was there)."""
    kind = type(value)
    # The usual values first, by exact type: the isinstance chain below cost more than the JSON encoding itself.
    if kind is str:
        return value.replace("\x00", "\ufffd")
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {_text(k) if type(k) is str else storable(str(k)): _leaf(v) for k, v in value.items()}
    if kind is list:
        return [_leaf(v) for v in value]
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def _text(value: str) -> str:
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _leaf(value):
    """storable(value), without a call for the plain values that fill a classification's matches."""
    kind = type(value)
    if kind is str:
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if kind is int or kind is bool or value is None:
        return value
    return storable(value)
