"""The JSON the store keeps (storable_json) and hashes (canonical_json) is the same text whichever way it is made:
the shortcuts for plain values give what the full rules give."""

import json
import math
import random

import pytest

from db.canonical import _normalise, canonical_json
from db.captures import _json_headers, normalise_headers
from db.stored_values import storable, storable_json


class Text(str):
    pass


class Number(int):
    pass


LEAVES = [
    "relay",
    "",
    "a\x00b",
    "\\u0000",
    'é “q” \n\t"\\',
    0,
    -7,
    2**70,
    True,
    False,
    None,
    1.5,
    87.0,
    2.0**60,
    math.nan,
    math.inf,
    -math.inf,
    Text("t\x00"),
    Number(3),
    b"raw",
]
KEYS = ["a", "b", "k\x00", "k\ufffd", "", 1, 2.5, None, True, Text("s")]


def _value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}
    if depth < 3 and roll < 0.4:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 3 and roll < 0.45:
        return tuple(_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    return rng.choice(LEAVES)


def _stored_as_before(value) -> str:
    return json.dumps(storable(value), ensure_ascii=False, sort_keys=True, default=str)


def _containers_by_the_rule(value):
    """_normalise's rule for dicts and lists, applied without its shortcut for plain dicts: to its leaves alone."""
    if isinstance(value, dict):
        return {str(k): _containers_by_the_rule(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_containers_by_the_rule(v) for v in value]
    return _normalise(value)


def _canonical_as_before(value) -> bytes:
    return json.dumps(
        _containers_by_the_rule(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def test_storable_json_is_what_storable_then_json_gives():
    rng = random.Random(1203)
    for _ in range(20000):
        value = _value(rng)
        assert storable_json(value) == _stored_as_before(value), value


def test_canonical_json_is_what_it_was():
    rng = random.Random(1204)
    for _ in range(20000):
        value = _value(rng)
        try:
            expected = _canonical_as_before(value)
        except (ValueError, TypeError) as error:
            with pytest.raises(type(error)):
                canonical_json(value)
        else:
            assert canonical_json(value) == expected, value


HEADERS = [
    {"Content-Type": ["text/html"], "Set-Cookie": ["a=1", "b=2"]},
    {},
    None,
    {"X": []},
    {"X": "one value"},
    {b"X": [b"caf\xe9"]},
    [("X", "1"), ("x", "2"), ("X", "3")],
    {"X": ("tuple",)},
    {Text("X"): [Text("v\x00")]},
    {"X": ["é", "\x00", '"q"']},
]


@pytest.mark.parametrize("headers", HEADERS)
def test_headers_are_stored_as_normalise_headers_then_json_gives(headers):
    assert _json_headers(headers) == json.dumps(normalise_headers(headers), ensure_ascii=False)
