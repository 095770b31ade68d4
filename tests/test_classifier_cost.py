"""A crawled field is written by the people we watch: its size must not decide how long a crawl takes.

Cost is counted as Python calls (a profile hook), not wall-clock time, so the tests are exact on a
busy machine: classifying 20 times the text may cost at most 40 times the calls (linear, with
room for caches warming up); a quadratic classifier needs about 400 times and is stopped early.
Calls are counted in the classifier's Python source (`source`), which a compiled install (setup.py) does not
run: a profile hook sees no calls inside compiled code, and would find everything cheap.
"""

import sys
from pathlib import Path

import pytest

from classifier import classify, load_watchlist
from classifier.rules import MAX_FIELD_CHARS, MAX_MATCHES_PER_TERM
from tests.support.compiled import source_classifier

ROOT = Path(__file__).resolve().parents[1]

# hostile descriptions: a term, contexts and cues, device+target pairs, spaced letters, look-alikes
UNITS = [
    "keyless repeater ",
    "anti relay box key programmer not for ",
    "faraday pouch relay box, steering lock ",
    "relay car key signal amplifier keyless entry ",
    "not the nintendo game boy emulator, hidden in a power bank ",
    "k.e.y.l.e.s.s r.e.p.e.a.t.e.r ",
    "Кеуless Rеpеаtеr глушилка ",
    "progammer repeator jamer grabbr ",
]


class TooExpensive(Exception):
    pass


def calls(fn, budget: int | None = None) -> int:
    """Python and C calls made by fn(); raises TooExpensive past `budget`."""
    count = 0

    def hook(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1
            if budget is not None and count > budget:
                raise TooExpensive(f"more than {budget:,} calls")

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.fixture(scope="module")
def wl():
    return load_watchlist(ROOT / "watchlist.yaml")


@pytest.fixture(scope="module")
def source():
    """(classify, watchlist) from the classifier's Python source; the watchlist's matcher and model are built inside
    (imported when first asked for), so the source modules make them."""
    with source_classifier() as classifier:
        source_wl = classifier.load_watchlist(ROOT / "watchlist.yaml")
        _ = source_wl.matcher, source_wl.model
        return classifier.classify, source_wl


@pytest.mark.parametrize("unit", UNITS)
def test_cost_grows_linearly_with_the_description(source, unit):
    classify, wl = source
    small, large = repeat(unit, MAX_FIELD_CHARS // 20), repeat(unit, MAX_FIELD_CHARS)
    classify("Listing", small, wl)  # warm the word caches
    base = calls(lambda: classify("Listing", small, wl))
    assert base > 2_000  # the Python source runs: compiled, the same classify() shows a few hundred calls
    calls(lambda: classify("Listing", large, wl), budget=40 * base)


@pytest.mark.parametrize("unit", UNITS[:3])
def test_cost_grows_linearly_with_the_title(source, unit):
    classify, wl = source
    small, large = repeat(unit, MAX_FIELD_CHARS // 20), repeat(unit, MAX_FIELD_CHARS)
    classify(small, "", wl)
    base = calls(lambda: classify(small, "", wl))
    calls(lambda: classify(large, "", wl), budget=40 * base)


def test_a_field_past_the_cap_costs_no_more_than_the_cap(source):
    classify, wl = source
    capped = repeat(UNITS[1], MAX_FIELD_CHARS)
    classify("Listing", capped, wl)
    base = calls(lambda: classify("Listing", capped, wl))
    calls(lambda: classify("Listing", repeat(UNITS[1], 10 * MAX_FIELD_CHARS), wl), budget=base * 11 // 10)


FILLER = "Great condition, fast dispatch. "
DEVICE = " keyless repeater for sale. "


def test_a_long_field_is_read_at_its_start_and_end_and_says_what_it_skipped(wl):
    length = 10 * MAX_FIELD_CHARS
    at_end = repeat(FILLER, length - len(DEVICE)) + DEVICE
    result = classify("Phone case", at_end, wl)
    assert result.flagged and result.category == "relay_attack"  # keyword stuffing at the end is read
    (match,) = [m for m in result.matches if m.kind == "term"]
    assert at_end[match.start : match.end] == match.text == "keyless repeater"  # spans index the full field
    skipped = result.to_dict()["truncated"]["description"]["skipped"]
    assert result.to_dict()["truncated"] == {"description": {"length": length, "skipped": skipped}}
    assert 0 < skipped[0] < skipped[1] < match.start and skipped[1] - skipped[0] == length - MAX_FIELD_CHARS

    middle = repeat(FILLER, length // 2) + DEVICE + repeat(FILLER, length // 2)
    hidden = classify("Phone case", middle, wl)
    assert not hidden.flagged  # the middle of a field past the cap is not read...
    assert hidden.to_dict()["truncated"]["description"]["length"] == len(middle)  # ...and the result says so
    assert "truncated" not in classify("Phone case", at_end[-MAX_FIELD_CHARS:], wl).to_dict()


def test_a_repeated_term_is_recorded_a_bounded_number_of_times(wl):
    result = classify("Keyless repeater", repeat("keyless repeater ", MAX_FIELD_CHARS), wl)
    assert result.flagged and result.category == "relay_attack"
    described = [m for m in result.matches if m.field == "description" and m.kind != "ngram"]
    assert len(described) == MAX_MATCHES_PER_TERM
    assert result.to_dict()["matches_omitted"] == MAX_FIELD_CHARS // len("keyless repeater ") - MAX_MATCHES_PER_TERM
    # every recorded span still points at the words it names
    text = repeat("keyless repeater ", MAX_FIELD_CHARS)
    assert all(text[m.start : m.end].lower() == "keyless repeater" for m in described)
