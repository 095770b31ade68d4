"""The store writer's shortcuts (a new listing's guessed index row, refresh writing only what changed, values
stored by exact type) give the rows, counters and search rows the full rules give."""

import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

import db
from db import dashboard_counts, desk_counts, listing_index
from db.captures import _json, _storable
from tests.support.items import CLASSIFIED, make_item
from tests.support.store_checks import assert_store_agrees, statements_run


def _attachment(listing_id: str) -> dict:
    return {
        "kind": "description",
        "url": f"http://127.0.0.1:8000/d/{listing_id}",
        "status": 200,
        "headers": {},
        "body": b"<p>desc</p>",
    }


# Items whose first capture the guess cannot (or must not) get right: refresh has to set what it got wrong.
AWKWARD = {
    "plain": {},
    "unflagged": {"classification": {**CLASSIFIED, "flagged": False, "category": None, "risk": None, "score": 12}},
    "no classification": {"classification": None},
    "NUL in the title": {"title": "Relay\x00box"},
    "a number as the price": {"price": 249.87},
    "empty title and seller": {"title": "", "seller": ""},
    "no page URL in the fields": {"url": None},
    "an empty category": {"classification": {**CLASSIFIED, "category": ""}},
    "a risk that is not text": {"classification": {**CLASSIFIED, "risk": 3}},
    "no score": {"classification": {**CLASSIFIED, "score": None}},
    "a score as text": {"classification": {**CLASSIFIED, "score": "91.5"}},
    "with an attachment": {"attachments": [_attachment("x")]},
}


@pytest.mark.parametrize("overrides", list(AWKWARD.values()), ids=list(AWKWARD))
def test_a_new_listings_index_row_is_what_the_rules_define(store, overrides):
    outcomes = db.save_captures(store, [make_item("1001", **overrides), make_item("2002")])
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert_store_agrees(store)


@pytest.mark.parametrize("purpose", ["attachment:description", "ATTACHMENT:dom"])
def test_a_listing_known_only_by_an_attachment_gets_no_guessed_index_columns(store, purpose):
    """LIKE 'attachment:%' ignores ASCII case: neither capture is a page, so refresh leaves the row alone, and a
    guess would stay. (Such a listing's first_seen and last_seen disagree with the rules, as they did before.)"""
    db.save_captures(store, [make_item("1001", purpose=purpose)])
    listing = db.get_listing(store, "demo_market", "1001")
    assert [listing[c] for c in ("title", "seller", "url", "price", "flagged", "category", "score")] == [
        None,
        None,
        None,
        None,
        0,
        None,
        None,
    ]
    assert listing_index.disagreements(store) == {1: ["first_seen", "last_seen"]}
    assert desk_counts.disagreements(store) == [] and dashboard_counts.disagreements(store) == []


def test_a_second_capture_in_the_same_group_corrects_the_guess(store):
    first = make_item("1001", fetched_at="2026-11-28T10:00:00Z")
    newer = make_item(
        "1001",
        fetched_at="2026-11-28T11:00:00Z",
        title="Phone case",
        seller="someone_else",
        classification={**CLASSIFIED, "flagged": False, "category": None, "risk": None},
    )
    db.save_captures(store, [first, newer])
    listing = db.get_listing(store, "demo_market", "1001")
    # The first seller is the seller of record; a flag stays while any page capture's verdict flags it.
    assert (listing["title"], listing["seller"], listing["latest_seller"]) == (
        "Phone case",
        "keyshop_uk",
        "someone_else",
    )
    assert listing["flagged"] == 1
    assert_store_agrees(store)


def test_a_refused_item_leaves_no_guess_behind(store):
    db.save_captures(store, [make_item("1001")])
    outcomes = db.save_captures(store, [make_item("2002", fetched_at="not a time"), make_item("3003")])
    assert isinstance(outcomes[0], ValueError) and isinstance(outcomes[1], int)
    assert [r["listing_id"] for r in store.query("SELECT listing_id FROM listings ORDER BY pk")] == ["1001", "3003"]
    assert_store_agrees(store)


def _assigned(seen: list[str]) -> list[str]:
    # The trace repeats a statement for each trigger it fires: one statement, however often it shows.
    [update] = {s for s in seen if s.startswith("UPDATE listings SET [")}
    return [part.split(" = ")[0] for part in update.split(" SET ")[1].split(" WHERE ")[0].split(", ")]


IDS = ["[latest_capture_id]", "[classification_id]", "[latest_classification_id]"]


def test_a_new_listing_is_written_whole_and_refresh_updates_nothing(store):
    """Its ids are known before it is inserted (db/capture_group.py): no UPDATE follows, so no trigger fires twice."""
    seen = statements_run(store, lambda: db.save_captures(store, [make_item("1001"), make_item("2002")]))
    assert not [s for s in seen if s.startswith("UPDATE listings")]
    assert db.get_listing(store, "demo_market", "2002")["uncertainty"] is None  # rules-only: no probability
    assert_store_agrees(store)


def test_a_new_listings_uncertainty_is_what_the_trigger_sets(store):
    model = {**CLASSIFIED, "probability": 0.8125, "model": {"threshold": 0.3}}
    db.save_captures(store, [make_item("1001", classification=model)])
    assert db.get_listing(store, "demo_market", "1001")["uncertainty"] == abs(0.8125 - 0.3)
    assert_store_agrees(store)


def test_refresh_sets_only_the_columns_the_evidence_changed(store):
    db.save_captures(store, [make_item("1001", fetched_at="2026-11-28T10:00:00Z")])
    again = make_item("1001", fetched_at="2026-11-28T11:00:00Z")
    seen = statements_run(store, lambda: db.save_captures(store, [again]))
    assert _assigned(seen) == ["[last_seen]", *IDS]
    # Same title and description: the search row is left as it was.
    assert not [s for s in seen if "listings_fts (rowid" in s or s.startswith("DELETE FROM listings_fts")]
    assert_store_agrees(store)


def test_a_new_title_rewrites_the_search_row(store):
    db.save_captures(store, [make_item("1001", fetched_at="2026-11-28T10:00:00Z")])
    db.save_captures(store, [make_item("1001", fetched_at="2026-11-28T11:00:00Z", title="Key programmer")])
    found = [r["rowid"] for r in store.query("SELECT rowid FROM listings_fts WHERE listings_fts MATCH 'programmer'")]
    assert found == [1]
    assert not list(store.query("SELECT rowid FROM listings_fts WHERE listings_fts MATCH 'repeater'"))
    assert_store_agrees(store)


def test_a_rebuilt_index_matches_what_the_writer_kept(store):
    for n, listing_id in enumerate(["1001", "2002", "1001"]):
        db.save_captures(store, [make_item(listing_id, fetched_at=f"2026-11-28T1{n}:00:00Z")])
    before = list(store.query("SELECT * FROM listings ORDER BY pk"))
    assert listing_index.rebuild(store) == 2
    assert list(store.query("SELECT * FROM listings ORDER BY pk")) == before
    assert_store_agrees(store)


class Text(str):
    pass


@pytest.mark.parametrize(
    "value, stored",
    [
        ({"b": 1, "a": [True, None, 2.5]}, '{"a": [true, null, 2.5], "b": 1}'),
        ({True: "yes", 3: "three"}, '{"3": "three", "True": "yes"}'),
        ({None: 1, 2.0: (3, 4)}, '{"2.0": [3, 4], "None": 1}'),
        ({"t\x00": "a\x00b"}, '{"t\ufffd": "a\ufffdb"}'),
        ({"x": math.nan, "y": -math.inf}, '{"x": null, "y": null}'),
        ({"s": Text("a\x00")}, '{"s": "a\ufffd"}'),
        (b"raw", "\"b'raw'\""),
    ],
)
def test_values_are_stored_as_before_whatever_their_type(value, stored):
    assert _json(value) == stored


def test_storable_keeps_a_str_subclass_key_as_text():
    assert _storable({Text("k"): 1}) == {"k": 1}


def test_an_item_refused_after_its_first_links_leaves_the_chain_whole(store):
    """Its listing and capture were linked before its classification was refused (no hash for infinity): the
    savepoint undoes those links, and the next item links onto the head as it was before."""
    late = make_item("2002", classification={**CLASSIFIED, "score": math.inf})
    outcomes = db.save_captures(store, [make_item("1001"), late, make_item("3003")])
    assert isinstance(outcomes[1], ValueError) and "non-finite" in str(outcomes[1])
    assert [r["listing_id"] for r in store.query("SELECT listing_id FROM listings ORDER BY pk")] == ["1001", "3003"]
    assert_store_agrees(store)


def test_each_item_of_a_run_that_does_not_exist_is_refused(store):
    """The run is read once per group; its absence still refuses every item that needs its crawler version."""
    outcomes = db.save_captures(store, [make_item("1001"), make_item("2002")], run_id=999)
    assert [str(o) for o in outcomes] == ["crawl run 999 does not exist"] * 2
    assert store["captures"].count == 0 and store["chain"].count == 0


@pytest.mark.parametrize("score", [10**400, 2**70, True, "91.5"])
def test_a_score_no_real_column_holds_as_given_is_not_guessed(score):
    index, search = listing_index.first_index("t", "u", "all", {}, {**CLASSIFIED, "score": score})
    assert index["score"] is None and search is None


def test_times_are_written_as_strftime_wrote_them():
    from db.canonical import format_utc

    rng = random.Random(7)
    moments = [datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    moments += [datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)]
    moments += [
        datetime(1000, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(9000 * 365 * 86400 * 10**6))
        for _ in range(2000)
    ]
    moments += [datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))]
    for moment in moments:
        assert format_utc(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
