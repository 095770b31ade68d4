"""The review desk's compliance report: its charts are SVG drawn from the report's figures (exports/report_charts.py),
safe for seller-written labels, and drawing them leaves no garbage for a later request's collection to walk."""

from __future__ import annotations

import base64
import datetime
import gc
import re
import xml.etree.ElementTree as ElementTree

import numpy
import pytest

import db
from db.canonical import format_utc
from exports.report_charts import histogram, outcomes_svg, report_charts
from tests.support.desk import logged_in

NOW = datetime.datetime.now(datetime.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _svg_of(uri: str) -> ElementTree.Element:
    assert uri.startswith("data:image/svg+xml;base64,")
    return ElementTree.fromstring(base64.b64decode(uri.split(",", 1)[1]))


@pytest.fixture
def reported(desk):
    """The sample desk with two notices (two retailers), one listing removed after its notice, one still live."""
    store = db.connect(desk.path)
    pks = sorted(desk.pks.values())[:2]
    for number, (pk, retailer, outcome) in enumerate(
        [(pks[0], "Shop \u202egnp.exe <b>", "removed"), (pks[1], "Other shop", "live")], start=1
    ):
        db.notices.record_notice(
            store,
            {
                "number": f"KW-T-{number}",
                "created_at": format_utc(NOW - datetime.timedelta(days=10)),
                "recipient": {"name": retailer},
                "marketplace": "demo",
                "scope": "marketplace:demo",
                "review_status": "confirmed",
                "listing_pks": [pk],
                "pack_name": "p.zip",
                "pack_sha256": "0" * 64,
                "manifest_sha256": "0" * 64,
                "chain_head": db.chain_head(store),
                "exported_by": "alice",
            },
        )
        db.record_status(store, pk, outcome, format_utc(NOW))  # after every capture of the sample
    store.close()
    return desk


def test_the_report_page_shows_both_charts_as_svg_with_the_retailers_as_text(reported):
    page = logged_in(reported.app, "bob").get("/report").text
    uris = re.findall(r'<img alt="[^"]*" src="([^"]+)"', page)
    assert len(uris) == 2 and "image/png" not in page
    outcomes, days = (_svg_of(uri) for uri in uris)
    labels = [t.text for t in outcomes.iter(f"{SVG}text")]
    # The bidi override is shown as its code point, not obeyed; the markup is text.
    assert "Shop [U+202E]gnp.exe <b> (demo)" in labels and "Other shop (demo)" in labels
    bars = [r.find(f"{SVG}title").text for r in outcomes.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert sorted(bars) == ["Other shop (demo): 1 still live", "Shop [U+202E]gnp.exe <b> (demo): 1 removed"]
    assert [t.text for t in days.iter(f"{SVG}title")][0] == "Time to removal"


def test_drawing_the_report_leaves_no_garbage_in_cycles(reported):
    """matplotlib's figures left ~46,000 objects in reference cycles per drawing, which a later request's full
    collection walked (the 128 ms /report outlier at 1M listings)."""
    client = logged_in(reported.app, "bob")
    client.get("/report?since=2999-01-01")  # compiles the templates: nothing to chart
    gc.collect()
    gc.disable()
    try:
        assert client.get("/report").status_code == 200
        assert gc.collect() < 500
    finally:
        gc.enable()


@pytest.mark.parametrize("values", [[3.0], [0.5, 0.5, 2.25, 9.0, 9.0, 4.1], [float(d) for d in range(40)]])
def test_the_days_histogram_counts_as_numpy_does(values):
    bins = min(20, max(5, len(values)))
    edges, counts = histogram(values, bins)
    expected_counts, expected_edges = numpy.histogram(values, bins=bins)
    assert counts == expected_counts.tolist()
    assert edges == pytest.approx(expected_edges.tolist())


def test_a_label_xml_cannot_hold_still_makes_a_chart_that_parses():
    row = {"retailer": "nul\x00 and \ufffe and \x1b[31m", "marketplace": "m", "removed": 1, "still_live": 0}
    row |= {"down_before_notice": 0, "not_rechecked": 2}
    root = ElementTree.fromstring(outcomes_svg([row]))
    assert any("nul[U+0000]" in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_no_rows_and_no_removals_draw_no_charts():
    assert report_charts({"rows": [], "listings": [{"state": "still live", "days_to_removal": None}]}) == {}
