"""A new listing whose first capture's values are plain (db.listing_index.first_index's exact guess) gets its index
row from the insert alone: the refresh after the group writes its search row and derives nothing, and the row is
what the rules define. Any value the rules might read otherwise sends the listing through the full refresh."""

import random

import pytest

import db
from db import listing_index
from tests.support.items import CLASSIFIED, make_item
from tests.support.store_checks import assert_store_agrees, statements_run


class Text(str):
    pass


# Values a field or a classification column may hold: plain text, nothing, and what the rules read otherwise.
VALUES = ["Relay box", 'Ünïcode “quoted” \\ "x"\n\t', None, "", "a\x00b", 249.87, 7, True, ["a"], {"k": 1}, Text("t")]
SCORES = [None, 91.5, 12, 0, float("nan"), "91.5", True, 2**60 + 1]


def _derives(store, fn) -> int:
    """How many times `fn` runs the rules' query (listing_index.derived_rows)."""
    return len([s for s in statements_run(store, fn) if s.lstrip().startswith("WITH page AS NOT MATERIALIZED")])


def test_a_group_of_plain_new_listings_derives_nothing(store):
    items = [make_item(f"{n}") for n in range(5)]
    assert _derives(store, lambda: db.save_captures(store, items)) == 0
    found = [r["rowid"] for r in store.query("SELECT rowid FROM listings_fts WHERE listings_fts MATCH 'relay'")]
    assert found == [1, 2, 3, 4, 5]
    assert_store_agrees(store)


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": ""},
        {"price": 249.87},
        {"seller": "a\x00b"},
        {"description": ["not", "text"]},
        {"classification": {**CLASSIFIED, "category": ""}},
        {"classification": {**CLASSIFIED, "score": "91.5"}},
        {"classification": {**CLASSIFIED, "risk": ""}},
    ],
)
def test_a_value_the_rules_may_read_otherwise_is_refreshed(store, overrides):
    assert _derives(store, lambda: db.save_captures(store, [make_item("1001", **overrides)])) == 1
    assert_store_agrees(store)


def test_a_listing_captured_twice_in_its_first_group_is_refreshed(store):
    items = [make_item("1001"), make_item("1001", fetched_at="2026-11-28T11:00:00Z", title="Phone case")]
    assert _derives(store, lambda: db.save_captures(store, items)) == 1
    assert db.get_listing(store, "demo_market", "1001")["title"] == "Phone case"
    assert_store_agrees(store)


def _random_item(rng: random.Random, n: int) -> dict:
    fields = {k: rng.choice(VALUES) for k in ("title", "seller", "price", "currency", "description")}
    if rng.random() < 0.3:
        fields["url"] = rng.choice(VALUES)
    classification = None
    if rng.random() < 0.8:
        risk = rng.choice(["high", "", None, 3, "a\x00"])
        category = rng.choice(["relay_attack", "", None, 5, Text("c")])
        classification = {**CLASSIFIED, "flagged": rng.random() < 0.5, "category": category, "risk": risk}
        classification["score"] = rng.choice(SCORES)
    listing_status = rng.choice([None, None, "ended", "removed"])
    minute = rng.randrange(60)
    return make_item(
        f"{rng.randrange(n)}",
        fetched_at=f"2026-11-28T10:{minute:02d}:00Z",
        classification=classification,
        listing_status=listing_status,
        status=rng.choice([200, 200, 404]),
        **fields,
    )


def _index(store) -> tuple[list, list]:
    listings = [tuple(r) for r in store.conn.execute("SELECT * FROM listings ORDER BY pk")]
    search = [tuple(r) for r in store.conn.execute("SELECT rowid, * FROM listings_fts ORDER BY rowid")]
    return listings, search


def test_random_groups_keep_every_index_and_search_row_as_the_full_refresh_writes_it(store):
    """Rows compared as stored, types included, with what rebuilding every row by the rules gives. (Not with
    `disagreements`: a number given as a title or URL is stored as text by its column, which they name.)"""
    rng = random.Random(20261203)
    for _ in range(15):
        group = [_random_item(rng, 40) for _ in range(rng.randrange(1, 12))]
        outcomes = db.save_captures(store, group)
        assert all(isinstance(o, int) for o in outcomes), outcomes
        before = _index(store)
        listing_index.rebuild(store)
        assert _index(store) == before
    assert store["listings"].count > 20
