"""Where words sit next to each other: protective and negating cues, and denied innocent words.

A cue ("anti", "protects against", "does not support") next to a match means the match is
about protection or is denied: the rules do not count it (classifier.rules). A negation ("not
the", "style") next to an innocent word means the innocent reading is denied. Both look only
within a few words, in the same sentence, found by word position (never by comparing every
pair of matches, which a long hostile field would make quadratic).
"""

from __future__ import annotations

from typing import Final

from classifier.match import STRONG_KINDS, FieldScan, Hit, hit_order
from classifier.watchlist import Watchlist

SENTENCE_BREAKS = set(".!?;:\n•|")
NEGATION_GAP: Final = 1  # "not a real Nintendo": one word may sit between a negation and what it denies
LIST_CARRY: Final = 3  # a cue cancels the next match of a list when it follows within this many words


def same_sentence(scan: FieldScan, left: int, right: int) -> bool:
    return not SENTENCE_BREAKS.intersection(scan.gap_text(left, right))


def by_position(hits: list[Hit]) -> tuple[dict[int, list[Hit]], dict[int, list[Hit]]]:
    """Hits indexed by their first and by their last word, so neighbours are found by position."""
    by_first: dict[int, list[Hit]] = {}
    by_last: dict[int, list[Hit]] = {}
    for h in hits:
        by_first.setdefault(h.first, []).append(h)
        by_last.setdefault(h.last, []).append(h)
    return by_first, by_last


def negated(scan: FieldScan, hit: Hit, negations: tuple[dict, dict]) -> bool:
    """True when the innocent phrase is denied: "not the Nintendo one", "Nintendo-style case"."""
    by_first, by_last = negations
    for gap in range(NEGATION_GAP + 1):
        for neg in by_last.get(hit.first - gap - 1, ()):
            if neg.entry.owner == "before" and same_sentence(scan, neg.last, hit.first):
                return True
    for neg in by_first.get(hit.last + 1, ()):
        if neg.entry.owner == "after" and same_sentence(scan, hit.last, neg.first):
            return True
    return False


def cue_cancels(scan: FieldScan, hits: list[Hit], watchlist: Watchlist) -> dict[Hit, str]:
    """Matches cancelled by a protective/negating cue next to them, and the list they lead."""
    cancelled: dict[Hit, str] = {}
    cues = [c for c in scan.hits if c.entry.kind == "cue"]
    if not cues or not hits:
        return cancelled
    # a cue word inside a device's name ("GPS blocker") or a claim ("no key needed") is part of it, not a cue
    named = {i for h in hits if h.entry.kind in STRONG_KINDS for i in range(h.first, h.last + 1)}
    if named:
        cues = [c for c in cues if not any(i in named for i in range(c.first, c.last + 1))]
        if not cues:
            return cancelled
    cues_by_first, cues_by_last = by_position(cues)
    widest = watchlist.widest_cue
    carry: dict[Hit, str] = {}
    for hit in hits:
        for cue in _cues_near(hit, cues_by_first, cues_by_last, widest):
            group = watchlist.cues[int(cue.entry.owner)]
            if hit.entry.owner in group.exempt:
                continue
            if group.side == "before":
                gap = hit.first - cue.last - 1
                ok = 0 <= gap < group.window and same_sentence(scan, cue.last, hit.first)
            else:
                gap = cue.first - hit.last - 1
                ok = 0 <= gap < group.window and same_sentence(scan, hit.last, cue.first)
            if ok:
                cancelled[hit] = f"cue '{scan.norm.original[cue.start : cue.end]}'"
                carry[hit] = group.side
                break
    # "blocks relay attacks, signal jammers and code grabbers": the cue covers the whole list,
    # forwards from a cue before it, backwards from a cue after it
    ordered = sorted(hits, key=lambda h: (h.first, h.last))
    for side, sequence in (("before", ordered), ("after", ordered[::-1])):
        for prev, nxt in zip(sequence, sequence[1:]):
            if carry.get(prev) == side and nxt not in cancelled:
                gap = (nxt.first - prev.last - 1) if side == "before" else (prev.first - nxt.last - 1)
                left, right = (prev.last, nxt.first) if side == "before" else (nxt.last, prev.first)
                if 0 <= gap <= LIST_CARRY and same_sentence(scan, left, right):
                    cancelled[nxt] = cancelled[prev]
                    carry[nxt] = side
    return cancelled


def _cues_near(hit: Hit, by_first: dict, by_last: dict, widest: int):
    """The cues ending up to `widest` words before the hit or starting up to `widest` after it, in text order."""
    near = []
    for gap in range(widest):
        near += by_last.get(hit.first - gap - 1, ())
        near += by_first.get(hit.last + gap + 1, ())
    return sorted(near, key=hit_order) if len(near) > 1 else near
