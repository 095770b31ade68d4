"""The review desk at scale, checked without timing anything: every desk query is served by an index (its
EXPLAIN QUERY PLAN reads no listing it does not need), the stored counters match a recount after every kind of
write, keyset pages return every row once, and stores made before the desk migration gain it and still verify."""

from __future__ import annotations

import datetime
import re

import pytest

import db
from db import counters, dashboard, dashboard_counts, decisions, desk_counts, queue, recall
from db.canonical import format_utc
from exports.report import compliance
from tests.support.desk import build
from tests.support.items import CLASSIFIED, make_item
from tests.support.store_checks import statements_run

NOW = datetime.datetime.now(datetime.UTC)
CATEGORIES = ("relay_attack", "key_programmer", "signal_jammer")


def _save(store, n, *, start=0, flagged_every=2, ties=False):
    """n listings over three marketplaces; every `flagged_every`-th flagged; with `ties`, equal risk and score."""
    for i in range(start, start + n):
        flagged = i % flagged_every == 0
        classification = {
            **CLASSIFIED,
            "flagged": flagged,
            "category": CATEGORIES[i % 3] if flagged else None,
            "risk": "high" if ties or i % 4 else "critical",
            "score": 80.0 if ties else float(50 + i % 37),
            "probability": 0.5 if ties else round((i % 97) / 97, 4),
            "model": {"threshold": 0.5},
        }
        when = format_utc(NOW - datetime.timedelta(days=i % 90, minutes=i))
        item = make_item(str(10_000 + i), classification=classification, fetched_at=when, seller=f"s{i % 5}")
        db.save_capture(store, {**item, "marketplace": ("m_a", "m_b", "m_c")[i % 3]})


def _user(store, name="rev"):
    db.accounts.add_user(store, name, "x")
    return name


# ---------------------------------------------------------------- plans


def _plans(store, run) -> list[tuple[str, str]]:
    """(statement, plan line) for every SELECT that `run` sends to the store."""
    lines = []
    for sql in statements_run(store, run):
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            lines += [(sql, row[3]) for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return lines


def _full_scans(lines) -> list[tuple[str, str]]:
    # "SCAN l" / "SCAN listings" (with or without "USING ... INDEX") reads every listing or every index entry.
    return [(sql, plan) for sql, plan in lines if re.match(r"SCAN (l|listings)\b", plan)]


@pytest.fixture
def populated(store):
    _save(store, 60)
    reviewer = _user(store)
    flagged = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 1")]
    decisions.decide_many(store, flagged[:5], reviewer, "confirm", category="relay_attack")
    decisions.decide_many(store, flagged[5:8], reviewer, "dismiss", reason="false_positive")
    decisions.decide(store, flagged[8], reviewer, "escalate")
    return store


FILTERS = [
    queue.QueueFilter(),
    queue.QueueFilter(status="escalated"),
    queue.QueueFilter(status="all", category="relay_attack", marketplace="m_b"),
    queue.QueueFilter(seller="s1"),
    queue.QueueFilter(since="2026-01-01", until="2030-12-31"),
    queue.QueueFilter(q="relay"),
    queue.QueueFilter(q="relay", status="confirmed", category="relay_attack"),
    queue.QueueFilter(order="uncertain"),
    queue.QueueFilter(status=queue.MISSED),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f"{f.status}-{f.order}-{f.q or f.seller or f.category or ''}")
def test_queue_search_and_counts_read_no_listing_they_do_not_need(populated, f):
    first = queue.queue_page(populated, f, limit=3)

    def run():
        page = queue.queue_page(populated, f, limit=3, after=first.next_after)
        queue.queue_page(populated, f, limit=3, before=page.previous_before)
        queue.queue_counts(populated, f)
        queue.filter_choices(populated, CATEGORIES)
        if queue.search_size(populated, f) == "few":
            queue.search_matches(populated, f)  # the desk's one read of a search's few matches

    lines = _plans(populated, run)
    assert lines and not _full_scans(lines)
    # The order comes from the index, not from sorting every match (a seller's listings and a search's few
    # matches, at most queue.FEW_MATCHES, are sorted).
    if not f.seller and queue.search_size(populated, f) != "few":
        assert not [p for s, p in lines if "TEMP B-TREE FOR ORDER BY" in p and "LIMIT" in s and "l.pk FROM" in s]


def test_dashboard_and_report_read_no_listing_they_do_not_need(populated):
    since = format_utc(NOW - datetime.timedelta(days=7))
    start = format_utc(NOW - datetime.timedelta(weeks=12))
    reviewer = "rev"
    pk = next(populated.query("SELECT pk FROM listings WHERE review_status = 'confirmed'"))["pk"]
    db.notices.record_notice(
        populated,
        {
            "number": "KW-T-1",
            "created_at": format_utc(NOW - datetime.timedelta(days=3)),
            "recipient": {"name": "Shop", "seller_ids": ["S1 "]},
            "marketplace": "m_a",
            "scope": "seller",
            "review_status": "confirmed",
            "listing_pks": [pk],
            "pack_name": "p.zip",
            "pack_sha256": "0" * 64,
            "manifest_sha256": "0" * 64,
            "chain_head": db.chain_head(populated),
            "exported_by": reviewer,
        },
    )
    db.record_status(populated, pk, "removed", format_utc(NOW - datetime.timedelta(days=1)))

    def run():
        dashboard.dashboard(populated, since)
        dashboard.weekly_counts(populated, start, 12)
        recall.recall_estimate(populated)
        compliance(populated, None)
        queue.seller_listings(populated, "m_b", "s1", open_only=True)  # a listing page's bulk decision
        queue.seller_listings(populated, "m_b", "s1", limit=50)

    lines = _plans(populated, run)
    # The dashboard reads the evidence of its window's first hour only: every time range it seeks is bounded above
    # (the hours after it come from the hourly counters, db/dashboard_counts.py).
    dashboard_lines = _plans(
        populated, lambda: (dashboard.dashboard(populated, since), dashboard.weekly_counts(populated, start, 12))
    )
    time_ranges = [  # (a listing's own removals, looked up by listing, are not a range of the store's)
        plan
        for _, plan in dashboard_lines
        if re.search(r"(first_seen|created_at|observed_at)>\?", plan) and "listing_pk=?" not in plan
    ]
    assert len(time_ranges) == 6 and all("<?" in plan for plan in time_ranges), time_ranges
    assert any("dashboard_counts USING PRIMARY KEY (series=? AND hour>?)" in plan for _, plan in dashboard_lines)
    assert any("listings_flagged_seller_folded" in plan for _, plan in lines)  # the report's seller match
    assert not _full_scans(lines)
    # Nor every removal for each removal (a listing's first one is looked up by the listing), nor every flagged
    # listing for one seller's.
    assert not [plan for _, plan in lines if plan.endswith("(status=?)")]
    assert not [plan for sql, plan in lines if "seller = " in sql and "listings_desk_queue" in plan]


# ---------------------------------------------------------------- counters


def _recounted(store) -> dict:
    """Counts per (flagged, review status) through the review_status view: independent of the stored column."""
    return {
        (r["flagged"], r["status"]): r["n"]
        for r in store.query(
            "SELECT l.flagged, r.status, count(*) AS n FROM listings l JOIN review_status r ON r.listing_pk = l.pk "
            "GROUP BY 1, 2"
        )
    }


def _stored(store) -> dict:
    return {
        (flagged, status): n
        for flagged in (0, 1)
        for status, n in desk_counts.counts(store, flagged=bool(flagged)).items()
        if n
    }


def test_counters_follow_saves_decisions_reclassification_and_purge(store):
    _save(store, 30)
    reviewer = _user(store)
    assert _stored(store) == _recounted(store) and desk_counts.disagreements(store) == []
    flagged = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 1 ORDER BY pk")]
    decisions.decide_many(store, flagged[:4], reviewer, "dismiss", reason="false_positive")
    decisions.decide(store, flagged[4], reviewer, "confirm", category="relay_attack")
    decisions.decide(store, flagged[4], reviewer, "note", note="seen again")  # a note changes nothing
    decisions.decide(store, flagged[5], reviewer, "escalate")
    decisions.decide(store, flagged[5], reviewer, "dismiss", reason="duplicate")
    assert _stored(store) == _recounted(store)
    # A re-classification that drops a flag, one that changes a category, and a new capture of a listing.
    capture = next(store.query("SELECT latest_capture_id AS id FROM listings WHERE pk = ?", [flagged[6]]))["id"]
    db.save_classification(store, capture, {**CLASSIFIED, "flagged": False, "category": None})
    capture = next(store.query("SELECT latest_capture_id AS id FROM listings WHERE pk = ?", [flagged[7]]))["id"]
    db.save_classification(store, capture, {**CLASSIFIED, "category": "signal_jammer", "probability": 0.9})
    _save(store, 3, start=28)  # two listings seen again, one new
    assert _stored(store) == _recounted(store)
    # Purging dismissed listings' bodies removes no listing and no decision: the counts stand.
    result = db.purge_dismissed(store, 0, "tester", now=NOW + datetime.timedelta(days=1))
    assert result.bodies
    assert _stored(store) == _recounted(store)
    assert desk_counts.disagreements(store) == [] and db.verify(store).ok


def test_verify_reports_a_wrong_counter_and_a_wrong_status(store):
    _save(store, 6)
    store.execute("UPDATE desk_counts SET n = n + 1 WHERE flagged = 1 AND marketplace = 'm_a'")
    result = db.verify(store)
    assert not result.ok and any("desk count" in str(p) for p in result.problems)
    desk_counts.rebuild(store)
    assert db.verify(store).ok
    store.execute("UPDATE listings SET review_status = 'confirmed' WHERE pk = (SELECT min(pk) FROM listings)")
    assert any("review status" in str(p) for p in db.verify(store).problems)


@pytest.mark.parametrize("table", ["desk_counts", "dashboard_counts"])
def test_setting_counters_right_keeps_what_a_crawl_wrote_meanwhile(store, monkeypatch, table):
    """The recount runs outside the write lock (db/counters.py): listings saved between it and its correction,
    whose triggers moved the counts, are counted once, and what was wrong before is set right."""
    _save(store, 6)
    store.execute(f"UPDATE {table} SET n = n + 4 WHERE marketplace = 'm_a'")
    assert not db.verify(store).ok
    recount = counters.stored_and_counted

    def recounted_while_a_crawl_saves(*args):
        counted = recount(*args)
        _save(store, 9, start=100)  # the crawl commits between the recount's snapshot and the correction
        return counted

    monkeypatch.setattr(counters, "stored_and_counted", recounted_while_a_crawl_saves)
    desk_counts.recount(store) if table == "desk_counts" else dashboard_counts.rebuild(store)
    monkeypatch.undo()
    assert desk_counts.disagreements(store) == [] and db.verify(store).ok  # the desk's check covers both tables
    assert store.execute("SELECT sum(n) FROM desk_counts").fetchone()[0] == 15
    assert store.execute("SELECT sum(n) FROM dashboard_counts WHERE series = 'new_hit'").fetchone()[0] == 8


def test_verify_names_a_wrong_counter_of_unflagged_listings(store):
    """An unflagged listing's counter has no category: the problem still names it (no category reads '-')."""
    _save(store, 6)
    store.execute(
        "INSERT INTO desk_counts (flagged, category, marketplace, review_status, n) "
        "VALUES (0, '', 'm_zz', 'pending', 5)"
    )
    messages = [str(p) for p in db.verify(store).problems]
    assert any("desk count unflagged/-/m_zz/pending is 5, the listings hold 0" in m for m in messages), messages


def test_a_store_from_before_the_desk_migration_gains_it_and_verifies(tmp_path):
    path = tmp_path / "old.sqlite"
    store = db.connect(path)
    _save(store, 12)
    reviewer = _user(store)
    pk = next(store.query("SELECT pk FROM listings WHERE flagged = 1"))["pk"]
    decisions.decide(store, pk, reviewer, "confirm", category="relay_attack")
    # Undo m008 as if the store had been made before it: its triggers, indexes, tables, columns and record.
    for kind in ("trigger", "index"):
        for row in list(store.query(f"SELECT name FROM sqlite_master WHERE type = '{kind}' AND name LIKE '%desk%'")):
            store.execute(f"DROP {kind} [{row['name']}]")
    for name in ("listings_flagged_seller_folded", "decisions_created", "listing_status_observed"):
        store.execute(f"DROP INDEX {name}")
    store.execute("DROP TABLE desk_counts")
    store.execute("DROP TABLE marketplaces_seen")
    store.execute("ALTER TABLE listings DROP COLUMN review_status")
    store.execute("ALTER TABLE listings DROP COLUMN uncertainty")
    store.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_desk_read_paths'")
    store.conn.commit()
    store.close()
    store = db.connect(path)
    assert desk_counts.disagreements(store) == [] and db.verify(store).ok
    assert queue.queue_counts(store, queue.QueueFilter())["confirmed"] == 1
    assert desk_counts.marketplaces(store) == ["m_a", "m_b", "m_c"]


def test_probability_is_kept_and_rows_from_before_it_still_verify(store):
    # A rules-only classification has no probability: its row hashes as rows did before the column existed.
    db.save_capture(store, make_item("1", classification={**CLASSIFIED}))
    db.save_capture(
        store, make_item("2", classification={**CLASSIFIED, "probability": 0.62, "model": {"threshold": 0.55}})
    )
    rows = list(store.query("SELECT probability, threshold FROM classifications ORDER BY id"))
    assert rows == [{"probability": None, "threshold": None}, {"probability": 0.62, "threshold": 0.55}]
    assert db.verify(store).ok
    uncertainty = next(store.query("SELECT uncertainty FROM listings WHERE listing_id = '2'"))["uncertainty"]
    assert uncertainty == pytest.approx(0.07)


# ---------------------------------------------------------------- keyset pages


@pytest.mark.parametrize(
    "f",
    [queue.QueueFilter(status="all"), queue.QueueFilter(status="all", order="uncertain"), queue.QueueFilter("missed")],
    ids=["risk", "uncertain", "missed"],
)
def test_keyset_pages_return_every_row_once_even_with_ties(store, f):
    _save(store, 40, ties=True, flagged_every=3)  # every flagged listing has the same risk, score and probability
    expected = [row["pk"] for row in queue.queue_page(store, f, limit=1000).rows]
    assert len(expected) > 10
    seen, page = [], queue.queue_page(store, f, limit=4)
    pages = [page]
    while True:
        seen += [row["pk"] for row in page.rows]
        if not page.next_after:
            break
        page = queue.queue_page(store, f, limit=4, after=page.next_after)
        pages.append(page)
    assert seen == expected  # every row once, in the order of the whole list
    # And back again from the last page.
    back, page = [], pages[-1]
    while page.previous_before:
        page = queue.queue_page(store, f, limit=4, before=page.previous_before)
        back = [row["pk"] for row in page.rows] + back
    assert back + [row["pk"] for row in pages[-1].rows] == expected


def test_a_cursor_that_is_not_one_shows_the_first_page(store):
    _save(store, 10)
    first = queue.queue(store, queue.QueueFilter(), limit=3)
    for cursor in ("x", "1~2", "9" * 30 + "~1~a~1", "~" * 500):
        assert queue.queue(store, queue.QueueFilter(), limit=3, after=cursor) == first


# ---------------------------------------------------------------- the "missed?" sample and recall


def test_wilson_interval():
    low, high = recall.wilson(0, 50)
    assert low == 0 and 0.06 < high < 0.08  # 0 of 50: up to about 7% missed, not "exactly none"
    low, high = recall.wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert recall.wilson(0, 0) == (0.0, 1.0)


def test_recall_estimate_from_labels(store):
    _save(store, 40, flagged_every=4)  # 10 flagged, 30 unflagged
    reviewer = _user(store)
    assert recall.recall_estimate(store)["recall"] is None
    flagged = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 1")]
    decisions.decide_many(store, flagged[:6], reviewer, "confirm", category="relay_attack")
    sample = queue.queue(store, queue.QueueFilter(status=queue.MISSED), limit=10)
    assert len(sample) == 10 and not any(row["flagged"] for row in sample)
    decisions.decide(store, sample[0]["pk"], reviewer, "confirm", category="key_programmer")  # missed
    decisions.decide_many(store, [r["pk"] for r in sample[1:10]], reviewer, "dismiss", reason="false_positive")
    estimate = recall.recall_estimate(store)
    assert (estimate["labelled"], estimate["relevant"], estimate["found"], estimate["unflagged"]) == (10, 1, 6, 30)
    # 1 in 10 of 30 unflagged: about 3 missed beside 6 found.
    assert estimate["recall"] == pytest.approx(6 / 9)
    assert estimate["low"] < estimate["recall"] < estimate["high"] <= 1
    # Labelled listings leave the sample's view; the tab counts them.
    assert sample[0]["pk"] not in [r["pk"] for r in queue.queue(store, queue.QueueFilter(status=queue.MISSED))]
    assert queue.queue_counts(store, queue.QueueFilter())[queue.MISSED] == 10


def test_missed_tab_and_recall_on_the_desk(desk):
    from tests.support.desk import logged_in

    store = db.connect(desk.path)
    _save(store, 6, start=500, flagged_every=1000)  # six unflagged listings (one flagged: 500 % 1000 == 0)
    store.close()
    bob = logged_in(desk.app, "bob")
    page = bob.get("/?status=missed")
    assert page.status_code == 200 and "Missed?" in page.text and "random sample of unflagged" in page.text
    store = db.connect(desk.path)
    unflagged = next(store.query("SELECT count(*) AS n FROM listings WHERE flagged = 0"))["n"]
    store.close()
    assert unflagged >= 5 and page.text.count('class="row review-pending"') == unflagged
    dashboard_page = bob.get("/dashboard").text
    assert "missed? sample" in dashboard_page and "label some" in dashboard_page


def test_weekly_counts_put_each_time_in_its_week(store):
    start = datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC)  # a Monday
    for i, when in enumerate(
        ["2026-11-02T00:00:00.000000Z", "2026-11-08T23:59:59.999999Z", "2026-11-09T00:00:00.000000Z"]
    ):
        db.save_capture(store, make_item(str(i), fetched_at=when))
    db.save_capture(store, make_item("9", fetched_at="2026-11-01T23:59:59.999999Z"))  # the week before
    weekly = dashboard.weekly_counts(store, format_utc(start), 3)
    assert weekly["new hits"] == [2, 1, 0]


def test_the_sample_desk_still_counts_right(store):
    build(store)
    assert desk_counts.disagreements(store) == [] and _stored(store) == _recounted(store)


def test_a_common_search_pages_the_same_rows_and_is_not_counted(store, monkeypatch):
    _save(store, 40)
    f = queue.QueueFilter(status="all", q="relay")
    expected = [row["pk"] for row in queue.queue(store, f, limit=1000)]
    exact = queue.queue_counts(store, f)
    assert len(expected) == 20 and exact["uncounted"] == 0 and exact["pending"] == 20
    monkeypatch.setattr(queue, "MIN_COMMON_SEARCH", 5)  # any word in more than sqrt(12,000 x 40) listings
    monkeypatch.setattr(queue.math, "isqrt", lambda n: 5)
    assert queue.common_search(store, f)
    seen, page = [], queue.queue_page(store, f, limit=6)
    while True:
        seen += [row["pk"] for row in page.rows]
        if not page.next_after:
            break
        page = queue.queue_page(store, f, limit=6, after=page.next_after)
    assert seen == expected
    lines = _plans(store, lambda: (queue.queue_page(store, f, limit=6), queue.queue_counts(store, f)))
    assert not _full_scans(lines)
    assert queue.queue_counts(store, f)["uncounted"] == 1


@pytest.mark.parametrize(
    "f",
    [
        queue.QueueFilter(q="relay"),
        queue.QueueFilter(q="relay", status="all", order="uncertain"),
        queue.QueueFilter(q="relay", status="confirmed", marketplace="m_b"),
        queue.QueueFilter(q="relay", status=queue.MISSED),
        queue.QueueFilter(q="relay", status="all", since="2026-01-01"),
    ],
    ids=["open", "uncertain", "confirmed", "missed", "since"],
)
def test_a_search_read_once_pages_and_counts_as_the_queries_do(store, f):
    """A search's few matches are read once for the tabs and the page (queue.search_matches): the same rows, pages
    and counts as the two queries give, forwards and backwards, with ties."""
    _save(store, 30, flagged_every=2)
    _save(store, 30, start=30, flagged_every=3, ties=True)
    reviewer = _user(store)
    flagged = [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 1 ORDER BY pk")]
    decisions.decide_many(store, flagged[::4], reviewer, "confirm", category="relay_attack")
    decisions.decide_many(
        store,
        [r["pk"] for r in store.query("SELECT pk FROM listings WHERE flagged = 0")][::5],
        reviewer,
        "dismiss",
        reason="false_positive",
    )
    assert queue.search_size(store, f) == "few"
    matches = queue.search_matches(store, f)
    assert queue.queue_counts(store, f, matches=matches) == queue.queue_counts(store, f)
    forwards, page = [], queue.queue_page(store, f, limit=4)
    while True:
        mine = queue.queue_page(store, f, limit=4, after=forwards[-1] if forwards else None, matches=matches)
        assert (mine.rows, mine.next_after, mine.previous_before) == (page.rows, page.next_after, page.previous_before)
        forwards.append(page.next_after)
        if not page.next_after:
            break
        page = queue.queue_page(store, f, limit=4, after=page.next_after)
    assert len(forwards) > 1 or f.status in ("confirmed", queue.MISSED)
    if page.previous_before:
        back = queue.queue_page(store, f, limit=4, before=page.previous_before)
        mine = queue.queue_page(store, f, limit=4, before=page.previous_before, matches=matches)
        assert (mine.rows, mine.next_after, mine.previous_before) == (back.rows, back.next_after, back.previous_before)


def test_audit_trail_pages_reach_every_decision_once(store):
    _save(store, 10, flagged_every=1)
    reviewer = _user(store)
    pks = [r["pk"] for r in store.query("SELECT pk FROM listings")]
    for pk in pks:
        decisions.decide(store, pk, reviewer, "note", note=f"n{pk}")
    seen, before = [], None
    while True:
        rows = decisions.audit_trail(store, limit=3, before=before)
        if not rows:
            break
        seen += [row["id"] for row in rows]
        before = rows[-1]["id"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == len(pks)


def test_a_search_request_counts_its_matches_once(desk):
    """Telling a common word from a rare one counts up to 110,000 matches at 1M listings (10 ms): the tabs and the
    page share one count."""
    from tests.support.desk import logged_in

    bob = logged_in(desk.app, "bob")
    sent: list[str] = []
    # The connection this thread's requests use (webui/stores.py keeps it open between them).
    connection = desk.app.extensions["keywatch_stores"].acquire().conn
    connection.set_trace_callback(sent.append)
    try:
        page = bob.get("/?q=relay")
    finally:
        connection.set_trace_callback(None)
    assert page.status_code == 200 and sent
    assert len([sql for sql in sent if "count(*) AS n FROM (SELECT rowid FROM listings_fts" in sql]) == 1
