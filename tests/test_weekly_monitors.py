"""The broken-spider checks (spiders/monitors.py) and the store queries they are fed from (db/rechecks.py)."""

import db
from db import rechecks
from keywatch.weekly_report import facts, spider_report
from spiders.monitors import RunFacts, accounting, check_run
from tests.support.items import make_item

OK_STATS = {"keywatch/cards_screened": 120, "keywatch/search_pages": 6, "keywatch/items": 40}


def run(captures=40, missing=None, finish="finished", run_id=2, **stats):
    return RunFacts("ebay_uk", run_id, finish, {**OK_STATS, **stats}, captures, missing or {})


def kinds(problems):
    return [p.kind for p in problems]


def test_healthy_run_has_no_problems():
    assert check_run(run(), [run(run_id=1)]) == []
    assert check_run(run(), []) == []


def test_zero_results_after_a_run_with_results_is_broken():
    problems = check_run(run(captures=0, **{"keywatch/cards_screened": 0, "keywatch/items": 0}), [run(run_id=1)])
    assert kinds(problems) == ["no_results"] and problems[0].broken
    assert "where run 1 screened 120" in str(problems[0])
    # Cards still found, but nothing passed to the store (e.g. every item page fails): also broken.
    problems = check_run(run(captures=0, **{"keywatch/items": 0}), [run(run_id=1)])
    assert kinds(problems) == ["no_results"] and "stored 40" in problems[0].message
    # Nothing before and nothing now: a quiet marketplace, not a broken spider.
    empty = {"keywatch/cards_screened": 0}
    assert check_run(run(captures=0, **empty), [run(run_id=1, captures=0, **empty)]) == []


def test_a_spider_that_stays_broken_keeps_failing():
    empty = {"keywatch/cards_screened": 0}
    history = [run(run_id=3, captures=0, **empty), run(run_id=2, captures=0, **empty), run(run_id=1)]
    [problem] = check_run(run(run_id=4, captures=0, **empty), history)
    assert problem.kind == "no_results" and "where run 1 screened 120" in problem.message
    history = [run(run_id=2, missing={"price": 40}), run(run_id=1, missing={"price": 1})]
    [problem] = check_run(run(run_id=3, missing={"price": 40}), history)
    assert problem.kind == "field_missing" and problem.message.endswith("(100%, 2% in run 1)")


def test_field_suddenly_missing_on_most_items_is_broken():
    problems = check_run(run(missing={"price": 30}), [run(run_id=1, missing={"price": 2})])
    assert kinds(problems) == ["field_missing"]
    assert problems[0].message == "price missing on 30 of 40 listings (75%, 5% in run 1)"
    # A marketplace that never shows the field is not "suddenly" missing it.
    assert check_run(run(missing={"price": 30}), [run(run_id=1, missing={"price": 35})]) == []
    # With nothing to compare with, missing on most listings is still reported.
    assert kinds(check_run(run(missing={"title": 40}), [])) == ["field_missing"]
    # Half or fewer is not "most".
    assert check_run(run(missing={"title": 20}), [run(run_id=1)]) == []
    # Too few captures to judge.
    assert check_run(run(captures=4, missing={"title": 4}), [run(run_id=1)]) == []


def test_mostly_failing_parses_and_abnormal_finish_are_broken():
    problems = check_run(run(**{"keywatch/parse_errors": 50}), [])
    assert kinds(problems) == ["parse_errors"]
    problems = check_run(run(finish="closespider_errorcount"), [])
    assert kinds(problems) == ["failed"] and problems[0].broken


def test_interrupted_run_is_reported_but_not_broken():
    [problem] = check_run(run(finish="shutdown", captures=0), [run(run_id=1)])
    assert problem.kind == "interrupted" and not problem.broken and "--resume" in problem.message


def stored_run(store, spider, items, finish="finished", stats=None):
    run_id = db.start_run(store, spider=spider)
    for item in items:
        db.save_capture(store, item, run_id=run_id)
    db.finish_run(store, run_id, stats=stats or {}, finish_reason=finish)
    return run_id


def test_field_coverage_counts_empty_fields_of_listing_captures_only(store):
    items = [make_item(str(n)) for n in range(3)] + [make_item("3", price=None, title="")]
    items.append(make_item("4", purpose="recheck", price=None))  # re-checks do not count
    items[0]["attachments"] = [
        {
            "kind": "description",
            "url": "http://127.0.0.1:8000/d/0",
            "status": 200,  # nor these
            "headers": {},
            "body": b"<p>description</p>",
        }
    ]
    run_id = stored_run(store, "demo_market", items)
    coverage = rechecks.run_field_coverage(store, run_id)
    assert coverage["captures"] == 4
    assert coverage["missing"]["price"] == 1 and coverage["missing"]["title"] == 1
    assert coverage["missing"]["listing_id"] == 0 and coverage["missing"]["seller"] == 0


def test_report_compares_with_the_previous_finished_run_of_the_same_spider(store):
    good = [make_item(str(n)) for n in range(10)]
    first = stored_run(store, "demo_market", good, stats={"keywatch/cards_screened": 10})
    stored_run(store, "other", [make_item("x", marketplace="other")], stats={})
    stored_run(store, "demo_market", [], finish="shutdown")  # interrupted runs are no baseline
    broken = [make_item(f"b{n}", price=None) for n in range(10)]
    last = stored_run(store, "demo_market", broken, stats={"keywatch/cards_screened": 10})

    assert [r["id"] for r in rechecks.previous_finished_runs(store, "demo_market", last)] == [first]
    assert rechecks.previous_finished_runs(store, "demo_market", first) == []
    report = spider_report(store, "demo_market", last, "finished")
    assert [p.kind for p in report.problems] == ["field_missing"]
    assert report.counts["captures_stored"] == {"candidate": 10}
    assert report.counts["flagged_listings_stored"] == 10
    assert facts(store, db.get_run(store, first)).captures == 10


def test_a_run_of_robot_checks_is_reported_as_blocked_not_as_broken_markup():
    blocked = run(
        captures=0,
        **{"keywatch/cards_screened": 0, "keywatch/search_pages": 0, "keywatch/items": 0, "keywatch/blocked_pages": 12},
    )
    problems = check_run(blocked, [run(run_id=1)])
    assert kinds(problems) == ["blocked"] and problems[0].broken
    assert "12 robot-check pages" in problems[0].message
    # A few robot checks in an otherwise healthy run are not a problem.
    assert check_run(run(**{"keywatch/blocked_pages": 2}), [run(run_id=1)]) == []


def test_listing_pages_not_stored_make_the_weekly_job_fail():
    fetched = {
        "keywatch/item_pages": 40,
        "keywatch/items_stored": 37,
        "keywatch/item_pages_skipped/robot_check": 1,
        "keywatch/items_not_stored": 1,
        "keywatch/rechecks/live": 5,
        "keywatch/rechecks_stored": 5,
    }
    [problem] = check_run(run(**fetched), [run(run_id=1)])
    # 45 fetched = 42 stored + 1 robot check + 1 not stored + 1 neither stored nor counted.
    assert problem.kind == "items_lost" and problem.broken
    assert problem.message == "2 of 45 fetched listing pages were not stored (see the log)"
    assert accounting(fetched) == {
        "fetched": 45,
        "stored": 42,
        "skipped": {"robot_check": 1},
        "not_stored": 1,
        "lost": 1,
        "unreadable_fields": {},
    }
    assert check_run(run(**{**fetched, "keywatch/items_stored": 39, "keywatch/items_not_stored": 0}), []) == []


def test_the_summary_shows_error_text_escaped_and_on_one_line():
    """Problems quote exception text, which can carry a page's or a config's characters: the operator's terminal
    must show them, never obey them, and a line break in them must not forge a summary line."""
    from keywatch.weekly_report import SpiderReport, WeeklyReport, format_summary
    from spiders.monitors import Problem

    hostile = "bad start_url \x1b]0;owned\x07\u202e\nBROKEN: forged line"
    problem = Problem("webshop", "failed", f"did not start: ValueError: {hostile}")
    report = WeeklyReport(
        batch="20260101T000000Z",
        started_at="2026-01-01T00:00:00.000000Z",
        finished_at="2026-01-01T00:01:00.000000Z",
        resumed=False,
        config="marketplaces.yaml",
        db="keywatch.sqlite",
        disabled=[],
        spiders=[SpiderReport("webshop", None, "not started", problems=[problem])],
        chain_head="0" * 64,
    )
    text = format_summary(report)
    assert not {"\x1b", "\x07", "\u202e"} & set(text)
    [line] = [line for line in text.splitlines() if "forged line" in line]
    assert line == (
        "  BROKEN: webshop: did not start: ValueError: bad start_url \\x1b]0;owned\\x07\\u202e\\nBROKEN: forged line"
    )
