"""The review desk's small pure helpers: match highlighting and the weekly trend chart."""

import datetime

from webui.chart import trend_svg, week_labels
from webui.highlight import segments, short_time


def test_segments_mark_matches_by_offset_and_merge_overlaps():
    text = "Keyless relay box, relay amplifier"
    matches = [
        {"field": "title", "start": 8, "end": 17, "term": "relay box"},
        {"field": "title", "start": 8, "end": 13, "term": "relay"},
        {"field": "title", "start": 19, "end": 34, "term": "relay amplifier", "excluded_by": "toy"},
        {"field": "description", "start": 0, "end": 7, "term": "keyless"},  # another field: ignored here
    ]
    result = [(s.text, s.terms, s.excluded) for s in segments(text, matches, "title")]
    assert result == [
        ("Keyless ", [], False),
        ("relay box", ["relay", "relay box"], False),
        (", ", [], False),
        ("relay amplifier", ["relay amplifier"], True),
    ]
    assert "".join(s.text for s in segments(text, matches, "title")) == text


def test_segments_ignore_offsets_that_do_not_fit_the_text():
    matches = [
        {"field": "title", "start": 5, "end": 99, "term": "x"},
        {"field": "title", "start": "1", "end": 2},
        {"field": "title", "start": 3, "end": 3, "term": "empty"},
    ]
    assert [(s.text, s.terms) for s in segments("short", matches, "title")] == [("short", [])]
    assert segments(None, matches, "title") == []


def test_short_time():
    assert short_time("2026-11-28T11:12:00.123456Z") == "2026-11-28 11:12"
    assert short_time(None) == ""


def test_week_labels_and_chart():
    start = datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC)  # a Monday
    series = {"weeks": week_labels(start, 3), "new hits": [2, 1, 0], "confirmed": [0, 0, 0]}
    assert series["weeks"][1] == datetime.date(2026, 11, 9)
    svg = str(trend_svg(series))
    assert svg.startswith("<svg") and svg.count("<rect") == 6
    assert "new hits, week of 2026-11-02: 2" in svg
    assert "style=" not in svg  # the app's CSP allows no inline styles


def test_trend_chart_scales_to_its_panel():
    start = datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC)
    svg = str(trend_svg({"weeks": week_labels(start, 4), "new hits": [0] * 4}))
    head = svg[: svg.index(">")]
    assert 'width="100%"' in head and 'viewBox="0 0 ' in head and "height=" not in head
    assert 'preserveAspectRatio="xMidYMid meet"' in head
