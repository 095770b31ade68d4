"""Link precision and recall on the labelled seller pairs (tests/data/network_pairs.json and its README)."""

import itertools
import json

from common.settings import ROOT
from networks import Page, Photo, Source, find_links, joined, pair_scores
from tests.support.demo_networks import demo_records

LABELS = ROOT / "tests" / "data" / "network_pairs.json"


def written_records(sellers: dict) -> tuple[list[Page], list[Photo]]:
    pages, photos, n = [], [], 0
    for key, seller in sellers.items():
        marketplace, _, name = key.partition(":")
        for page in seller["pages"]:
            n += 1
            source = Source(marketplace, name, f"W{n}", n, n, "2026-11-01T00:00:00.000000Z")
            pages.append(Page(source, page["title"], page["description"], page.get("profile", "")))
            for dhash, phash in seller.get("photos", []):
                photos.append(Photo(source, f"{dhash}{phash}", int(phash, 16), int(dhash, 16)))
    return pages, photos


def labelled_pairs() -> tuple[dict[tuple[str, str], bool], dict[tuple[str, str], bool]]:
    """({pair: linked?} of the demo: every pair of its sellers; {pair: linked?} of the written set)."""
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    pages, _ = demo_records()
    sellers = sorted({page.source.seller_key for page in pages})
    together = {tuple(sorted(p)) for group in labels["demo_networks"] for p in itertools.combinations(group, 2)}
    demo = {pair: pair in together for pair in itertools.combinations(sellers, 2)}
    written = {tuple(sorted((a, b))): linked for a, b, linked, _why in labels["pairs"]}
    return demo, written


def predicted(pages, photos) -> set[tuple[str, str]]:
    return {pair for pair, score in pair_scores(find_links(pages, photos).links).items() if joined(score)}


def measure() -> dict:
    """{"demo": counts, "written": counts, "all": counts}; counts: tp, fp, fn, tn, precision, recall."""
    demo_labels, written_labels = labelled_pairs()
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    found = {"demo": predicted(*demo_records()), "written": predicted(*written_records(labels["sellers"]))}
    result, total = {}, {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for name, truth in (("demo", demo_labels), ("written", written_labels)):
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        for pair, linked in truth.items():
            hit = pair in found[name]
            counts[("t" if hit == linked else "f") + ("p" if hit else "n")] += 1
        result[name] = counts
        for key in total:
            total[key] += counts[key]
    result["all"] = total
    for counts in result.values():
        counts["precision"] = counts["tp"] / ((counts["tp"] + counts["fp"]) or 1)
        counts["recall"] = counts["tp"] / ((counts["tp"] + counts["fn"]) or 1)
    return result
