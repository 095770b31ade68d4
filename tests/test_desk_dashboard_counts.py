"""The dashboard's hourly counters (db/dashboard_counts.py): after random saves, re-classifications, decisions and
removals, in and out of order, every figure the dashboard and its trend show equals a count from the evidence, and
`verify` recounts the counters."""

from __future__ import annotations

import datetime
import random

import pytest

import db
from db import dashboard, dashboard_counts, decisions, desk_counts
from db.canonical import format_utc
from tests.support.items import CLASSIFIED, make_item

START = datetime.datetime(2026, 11, 2, 0, 0, tzinfo=datetime.UTC)  # a Monday
CATEGORIES = ("relay_attack", "key_programmer", "signal_jammer")


def _evidence_dashboard(store, since):
    """The dashboard's figures as counted from the evidence alone (the queries it ran before the counters)."""

    def rows(sql, keys):
        return sorted((tuple(r[k] for k in keys) for r in store.query(sql, [since])), key=str)

    return {
        "new_hits": rows(
            "SELECT category, marketplace, count(*) AS n FROM listings WHERE flagged = 1 AND first_seen >= ? "
            "GROUP BY 1, 2",
            ("category", "marketplace", "n"),
        ),
        "decisions": rows(
            "SELECT d.action, coalesce(d.category, l.category) AS category, l.marketplace, count(*) AS n "
            "FROM decisions d JOIN listings l ON l.pk = d.listing_pk WHERE d.created_at >= ? GROUP BY 1, 2, 3",
            ("action", "category", "marketplace", "n"),
        ),
        "removals": rows(
            "SELECT l.category, l.marketplace, count(DISTINCT s.listing_pk) AS n FROM listing_status s "
            "JOIN listings l ON l.pk = s.listing_pk WHERE s.status = 'removed' AND s.observed_at >= ? GROUP BY 1, 2",
            ("category", "marketplace", "n"),
        ),
    }


def _shown(store, since):
    stats = dashboard.dashboard(store, since)
    keys = {
        "new_hits": ("category", "marketplace", "n"),
        "decisions": ("action", "category", "marketplace", "n"),
        "removals": ("category", "marketplace", "n"),
    }
    for rows in stats.values():
        assert [r["n"] for r in rows] == sorted((r["n"] for r in rows), reverse=True)  # most first
    return {name: sorted((tuple(r[k] for k in keys[name]) for r in rows), key=str) for name, rows in stats.items()}


def _evidence_weeks(store, start, weeks):
    def week_of(at):
        days = (datetime.date.fromisoformat(at[:10]) - datetime.date.fromisoformat(start[:10])).days
        return days // 7

    series = {"new hits": [0] * weeks, "confirmed": [0] * weeks, "removed": [0] * weeks}
    times = {
        "new hits": [r["at"] for r in store.query("SELECT first_seen AS at FROM listings WHERE flagged = 1")],
        "confirmed": [r["at"] for r in store.query("SELECT created_at AS at FROM decisions WHERE action = 'confirm'")],
        "removed": [
            r["at"]
            for r in store.query(
                "SELECT min(observed_at) AS at FROM listing_status WHERE status = 'removed' GROUP BY listing_pk"
            )
        ],
    }
    for name, ats in times.items():
        for at in ats:
            if at >= start and 0 <= week_of(at) < weeks:
                series[name][week_of(at)] += 1
    return series


def _random_time(rng):
    # Often on or next to an hour's edge, where the counters hand over to the evidence.
    moment = START + datetime.timedelta(hours=rng.randrange(24 * 30))
    return moment + rng.choice(
        [datetime.timedelta(0), datetime.timedelta(microseconds=-1), datetime.timedelta(minutes=rng.randrange(60))]
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dashboard_figures_equal_a_count_from_the_evidence(store, monkeypatch, seed):
    rng = random.Random(seed)
    db.accounts.add_user(store, "rev", "x")
    made = []
    for step in range(160):
        choice = rng.random()
        if choice < 0.35 or len(made) < 5:  # a new listing, or a capture of a known one (maybe earlier)
            listing_id = str(rng.randrange(60))
            flagged = rng.random() < 0.6
            classification = {**CLASSIFIED, "flagged": flagged, "category": rng.choice(CATEGORIES) if flagged else None}
            item = make_item(listing_id, classification=classification, fetched_at=format_utc(_random_time(rng)))
            db.save_capture(store, {**item, "marketplace": rng.choice(("m_a", "m_b"))})
            made = [r["pk"] for r in store.query("SELECT pk FROM listings")]
        elif choice < 0.5:  # a re-classification: a flag dropped or a category changed
            pk = rng.choice(made)
            capture = next(store.query("SELECT latest_capture_id AS id FROM listings WHERE pk = ?", [pk]))["id"]
            flagged = rng.random() < 0.7
            category = rng.choice(CATEGORIES) if flagged else None
            db.save_classification(store, capture, {**CLASSIFIED, "flagged": flagged, "category": category})
        elif choice < 0.8:  # a decision, with or without a category of its own
            monkeypatch.setattr(decisions, "utc_now", lambda: format_utc(_random_time(rng)))
            action = rng.choice(["confirm", "dismiss", "escalate", "note"])
            details = {
                "confirm": {"category": rng.choice(CATEGORIES)},
                "dismiss": {"reason": "false_positive"},
                "note": {"note": "seen"},
            }.get(action, {})
            decisions.decide(store, rng.choice(made), "rev", action, **details)
        else:  # a status observation, in any order
            db.record_status(
                store, rng.choice(made), rng.choice(["removed", "removed", "live"]), format_utc(_random_time(rng))
            )
        if step % 40 == 39:
            assert dashboard_counts.disagreements(store) == []
    assert dashboard_counts.disagreements(store) == [] and desk_counts.disagreements(store) == []
    for _ in range(25):
        since = format_utc(_random_time(rng))
        assert _shown(store, since) == _evidence_dashboard(store, since), since
    start = format_utc(START + datetime.timedelta(weeks=rng.randrange(3)))
    assert dashboard.weekly_counts(store, start, 4) == _evidence_weeks(store, start, 4)
    assert db.verify(store).ok


def test_verify_reports_a_wrong_dashboard_counter(store):
    db.save_capture(store, make_item("1", fetched_at="2026-11-28T10:00:00.000000Z"))
    assert db.verify(store).ok
    store.execute("UPDATE dashboard_counts SET n = n + 2 WHERE series = 'new_hit'")
    problems = [str(p) for p in db.verify(store).problems]
    assert any(
        "dashboard count new_hit/2026-11-28T10/-/relay_attack/demo_market is 3, the evidence holds 1" in p
        for p in problems
    ), problems
    dashboard_counts.rebuild(store)
    assert db.verify(store).ok


def test_a_store_from_before_the_counters_gains_them(tmp_path):
    path = tmp_path / "old.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("1", fetched_at="2026-11-28T10:00:00.000000Z"))
    for name in [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE name LIKE 'dashboard_counts%'")]:
        kind = "TABLE" if name == "dashboard_counts" else "TRIGGER"
        store.execute(f"DROP {kind} {name}")
    store.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_dashboard_counts'")
    store.conn.commit()
    store.close()
    store = db.connect(path)
    assert dashboard.dashboard(store, "2026-11-28T09:30:00.000000Z")["new_hits"] == [
        {"category": "relay_attack", "marketplace": "demo_market", "n": 1}
    ]
    assert desk_counts.disagreements(store) == []
