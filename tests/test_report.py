"""The compliance report on a hand-built notice_history whose answers are worked out by hand below."""

import base64
import re
import xml.etree.ElementTree as ElementTree

import click
import pytest
from click.testing import CliRunner

import db
from db import accounts, decisions
from exports.export import export_pack, resolve_target
from exports.office import load_office
from exports.report import compliance, listing_outcome, parse_since, render_html, render_markdown
from keywatch.commands import notify
from tests.support.items import make_item


def day(date, time="00:00:00"):
    return f"{date}T{time}.000000Z"


@pytest.fixture
def notice_history(tmp_path):
    """Retailer A (seller_a) and retailer B (seller_b) on marketplace demo.

    A: L0 seen 1 Jan, notice N1 10 Jan, removed 12 Jan (2 days). L1-L4 seen 1 Feb; notice N2 1 Mar covers L0-L4.
       L1 removed 4 Mar (3 days), L2 ended 11 Mar (10 days), L3 re-checked live 20 Mar, L4 removed 2 Mar 12:00
       but back up 5 Mar (still live). L5 first seen 15 Mar (a new hit after N2); L6 first seen 15 Feb (not new).
    B: L7 removed 20 Feb (before its notice), L8 never status-checked, L9 removed 8 Mar (7 days). Notice N3 1 Mar.
    """
    path = tmp_path / "store.sqlite"
    store = db.connect(path)
    pk = {}

    def capture(name, seller, seen, **extra):
        capture_id = db.save_capture(
            store,
            make_item(
                name, marketplace="demo", seller=seller, fetched_at=seen, body=f"<html>{name}</html>".encode(), **extra
            ),
        )
        pk[name] = store.conn.execute("SELECT listing_pk FROM captures WHERE id = ?", [capture_id]).fetchone()[0]

    capture("L0", "seller_a", day("2026-01-01"))
    for name in ("L1", "L2", "L3", "L4"):
        capture(name, "seller_a", day("2026-02-01"))
    capture("L6", "seller_a", day("2026-02-15"))
    capture("L5", "seller_a", day("2026-03-15"))
    capture("L7", "seller_b", day("2026-02-01"))
    capture("L8", "seller_b", day("2026-02-01"), status=None)
    capture("L9", "seller_b", day("2026-02-01"))

    for name, status, at in [
        ("L0", "removed", day("2026-01-12")),
        ("L1", "removed", day("2026-03-04")),
        ("L2", "ended", day("2026-03-11")),
        ("L3", "live", day("2026-03-20")),
        ("L4", "removed", day("2026-03-02", "12:00:00")),
        ("L4", "live", day("2026-03-05")),
        ("L7", "removed", day("2026-02-20")),
        ("L9", "removed", day("2026-03-08")),
    ]:
        db.record_status(store, pk[name], status, at)

    accounts.add_user(store, "alice", "x")
    from db import retailers

    retailers.save_retailer(store, {"name": "A", "marketplace": "demo", "seller_ids": ["seller_a"]}, day("2026-01-01"))
    retailers.save_retailer(store, {"name": "B", "marketplace": "demo", "seller_ids": ["seller_b"]}, day("2026-01-01"))
    office = load_office()

    def notify_(retailer, when, listings):
        for name in listings:
            decisions.decide(store, pk[name], "alice", "confirm", category="relay_attack")
        export_pack(
            store,
            resolve_target(store, retailer=retailer),
            tmp_path / f"{retailer}-{when[:10]}.zip",
            office=office,
            now=when,
        )

    notify_("A", day("2026-01-10"), ["L0"])
    notify_("A", day("2026-03-01"), ["L1", "L2", "L3", "L4"])
    notify_("B", day("2026-03-01"), ["L7", "L8", "L9"])
    return store, path


def row(data, retailer):
    return next(r for r in data["rows"] if r["retailer"] == retailer)


def test_figures_over_all_notices(notice_history):
    store, _ = notice_history
    data = compliance(store, None)
    a, b = row(data, "A"), row(data, "B")
    assert (
        a["notices"],
        a["notified"],
        a["removed"],
        a["still_live"],
        a["down_before_notice"],
        a["not_rechecked"],
    ) == (2, 5, 3, 2, 0, 0)
    assert a["median_days_to_removal"] == 3.0  # days 2, 3, 10
    assert a["new_hits_since"] == 1  # L5
    assert (
        b["notices"],
        b["notified"],
        b["removed"],
        b["still_live"],
        b["down_before_notice"],
        b["not_rechecked"],
    ) == (1, 3, 1, 0, 1, 1)
    assert b["median_days_to_removal"] == 7.0 and b["new_hits_since"] == 0
    t = data["totals"]
    assert (t["notices"], t["notified"], t["removed"], t["still_live"]) == (3, 8, 4, 2)
    assert t["median_days_to_removal"] == 5.0  # days 2, 3, 7, 10
    [market] = data["by_marketplace"]
    assert market["marketplace"] == "demo" and market["notified"] == 8 and market["removed"] == 4
    days = {x["listing_id"]: x["days_to_removal"] for x in data["listings"]}
    assert days == {"L0": 2.0, "L1": 3.0, "L2": 10.0, "L3": None, "L4": None, "L7": None, "L8": None, "L9": 7.0}


def test_since_counts_only_later_notices(notice_history):
    store, _ = notice_history
    data = compliance(store, parse_since("2026-02-01"))
    a = row(data, "A")
    # N1 falls outside: L0's notice is now N2 (1 Mar), and L0 was already gone by then.
    assert (a["notices"], a["notified"], a["removed"], a["still_live"], a["down_before_notice"]) == (1, 5, 2, 2, 1)
    assert a["median_days_to_removal"] == 6.5  # days 3 and 10
    assert compliance(store, parse_since("2026-04-01"))["rows"] == []


@pytest.mark.parametrize(
    "history, state",
    [
        ([], "not re-checked"),
        # Seen live only when captured, before the notice: nobody has looked since (the usual never-re-checked case).
        ([{"status": "live", "observed_at": "2026-01-01"}], "not re-checked"),
        (
            [{"status": "live", "observed_at": "2026-01-01"}, {"status": "live", "observed_at": "2026-01-03"}],
            "still live",
        ),
        # Taken down after the notice, then re-listed: live again.
        (
            [
                {"status": "live", "observed_at": "2026-01-01"},
                {"status": "removed", "observed_at": "2026-01-04"},
                {"status": "live", "observed_at": "2026-01-06"},
            ],
            "still live",
        ),
        (
            [
                {"status": "live", "observed_at": "2026-01-01"},
                {"status": "removed", "observed_at": "2026-01-05"},
                {"status": "ended", "observed_at": "2026-01-09"},
            ],
            "removed",
        ),
        ([{"status": "removed", "observed_at": "2026-01-01"}], "down before notice"),
    ],
)
def test_listing_outcome(history, state):
    got, removed_at = listing_outcome("2026-01-02", history)
    assert got == state
    assert removed_at == ("2026-01-05" if state == "removed" else None)


def test_markdown_and_html_render(notice_history):
    store, _ = notice_history
    data = compliance(store, None)
    md = render_markdown(data)
    assert "| A | demo | 2 | 5 | 3 | 2 | 0 | 0 | 3 | 1 |" in md
    assert "| B | demo | 1 | 3 | 1 | 0 | 1 | 1 | 7 | 0 |" in md
    html = render_html(data)
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 2
    assert all(ElementTree.fromstring(base64.b64decode(i)).tag == "{http://www.w3.org/2000/svg}svg" for i in images)
    assert "<td>A</td>" in html and "L9" in html


def test_report_command(notice_history, tmp_path):
    _, path = notice_history
    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()
    md = runner.invoke(group, ["report", "--db", str(path), "--since", "2026-02-01"])
    assert md.exit_code == 0 and "| A | demo | 1 | 5 | 2 | 2 | 1 | 0 | 6.5 | 1 |" in md.output
    out = tmp_path / "report.html"
    html = runner.invoke(group, ["report", "--db", str(path), "--format", "html", "--out", str(out)])
    assert html.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")
    bad = runner.invoke(group, ["report", "--db", str(path), "--since", "last tuesday"])
    assert bad.exit_code == 1 and "--since must be a date" in bad.output


def test_empty_store_reports_no_notices(tmp_path):
    data = compliance(db.connect(tmp_path / "s.sqlite"), None)
    assert data["rows"] == [] and data["totals"]["notified"] == 0
    assert "No notices recorded" in render_markdown(data) and "No notices recorded" in render_html(data)


def test_a_crawled_listing_never_rechecked_after_its_notice_is_not_counted_still_live(tmp_path):
    """A crawl records every capture as a live sighting; that sighting predates the notice and proves nothing."""
    store = db.connect(tmp_path / "s.sqlite")
    capture_id = db.save_capture(
        store, make_item("R1", marketplace="demo", seller="seller_r", fetched_at=day("2026-02-01"))
    )
    listing_pk = store.conn.execute("SELECT listing_pk FROM captures WHERE id = ?", [capture_id]).fetchone()[0]
    accounts.add_user(store, "alice", "x")
    decisions.decide(store, listing_pk, "alice", "confirm", category="relay_attack")
    export_pack(
        store,
        resolve_target(store, seller="demo:seller_r"),
        tmp_path / "r.zip",
        office=load_office(),
        now=day("2026-03-01"),
    )
    [r] = compliance(store, None)["rows"]
    assert (r["notified"], r["still_live"], r["not_rechecked"]) == (1, 0, 1)
    db.record_status(store, listing_pk, "live", day("2026-03-08"))
    [r] = compliance(store, None)["rows"]
    assert (r["notified"], r["still_live"], r["not_rechecked"]) == (1, 1, 0)


def notified_seller(tmp_path, seller):
    """A store where one listing by `seller` (not a known retailer, so the notice is addressed to the seller
    name itself) was notified, then seen removed."""
    store = db.connect(tmp_path / "s.sqlite")
    capture_id = db.save_capture(
        store, make_item("R1", marketplace="demo", seller=seller, fetched_at=day("2026-02-01"))
    )
    listing_pk = store.conn.execute("SELECT listing_pk FROM captures WHERE id = ?", [capture_id]).fetchone()[0]
    accounts.add_user(store, "alice", "x")
    decisions.decide(store, listing_pk, "alice", "confirm", category="relay_attack")
    export_pack(
        store,
        resolve_target(store, seller=f"demo:{seller}"),
        tmp_path / "r.zip",
        office=load_office(),
        now=day("2026-03-01"),
    )
    db.record_status(store, listing_pk, "removed", day("2026-03-03"))
    return store


def _chart_labels(html: str) -> list[str]:
    """The retailer labels of the report's outcome chart, as text nodes of its SVG."""
    uris = re.findall(r'src="(data:image/svg\+xml;base64,[^"]+)"', html)
    svg = ElementTree.fromstring(base64.b64decode(uris[0].split(",", 1)[1]))
    return [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.get("text-anchor") == "end"]


@pytest.mark.parametrize(
    "seller", ["$\\frac{1}{$", "$x^{2}$ tools", "a$b$c$", "\\$100$ \\undefinedcommand", "back\x1b]0;pwned\x07slash"]
)
def test_a_seller_name_is_plain_text_in_the_charts(tmp_path, seller):
    """A chart label is the name as written ($...$ is no mathematics), with control characters shown, not kept."""
    html = render_html(compliance(notified_seller(tmp_path, seller), None))
    assert len(re.findall(r'src="data:image/svg\+xml;base64,', html)) == 2
    [label] = _chart_labels(html)
    if "\x1b" in seller:
        assert "\x1b" not in label and "[U+001B]" in label
    else:
        assert label == f"{seller} (demo)"


def test_a_long_seller_name_is_cut_in_the_chart_and_whole_in_the_table(tmp_path):
    html = render_html(compliance(notified_seller(tmp_path, "Keyless" * 500), None))
    [label] = _chart_labels(html)
    assert len(label) < 120 and "Keyless" * 500 in html


def test_terminal_escapes_in_a_seller_name_never_reach_the_terminal(tmp_path):
    store = notified_seller(tmp_path, "evil\x1b]0;owned\x07\x1b[2J|name")
    store.conn.close()
    group = click.Group(commands={c.name: c for c in notify.commands})
    result = CliRunner().invoke(group, ["report", "--db", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "| evil[U+001B]]0;owned[U+0007][U+001B][2J\\|name | demo |" in result.output


@pytest.mark.parametrize(
    "since",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0999-06-01",
        "0001-01-01",
        "9999-12-31T23:59:59.999999-00:01",
    ],
)
def test_a_date_out_of_range_is_a_clear_error(notice_history, since):
    """The store's times are 4-digit-year ISO strings compared as text: a date outside them is refused, not
    turned into a traceback (year 10000) or a string that sorts wrongly ('999-06-01...' > '2026-...')."""
    _, path = notice_history
    with pytest.raises(ValueError, match="--since"):
        parse_since(since)
    group = click.Group(commands={c.name: c for c in notify.commands})
    result = CliRunner().invoke(group, ["report", "--db", str(path), "--since", since])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: --since") and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "since, utc",
    [
        ("9999-12-30", "9999-12-30T00:00:00.000000Z"),
        ("1970-01-01T01:00:00+01:00", "1970-01-01T00:00:00.000000Z"),
        ("2026-03-01", "2026-03-01T00:00:00.000000Z"),
    ],
)
def test_dates_in_range_still_parse(since, utc):
    assert parse_since(since) == utc
