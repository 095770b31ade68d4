"""Turning the classifier's match offsets into text segments the templates mark up (escaped by Jinja)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    text: str
    terms: list[str] = field(default_factory=list)  # empty: plain text; else the watchlist terms matched here
    excluded: bool = False  # every match here was ruled out by an exclusion term


def segments(text: str | None, matches: list[dict], field_name: str) -> list[Segment]:
    """Split `text` into plain and matched segments using the matches' start/end offsets for this field.

    Offsets that do not fit the text (a classification of a different capture, say) are ignored rather than
    highlighting the wrong words; overlapping matches merge into one highlighted run.
    """
    text = text or ""
    spans = []
    for m in matches or []:
        if m.get("field") != field_name:
            continue
        start, end = m.get("start"), m.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            continue
        spans.append((start, end, str(m.get("term", "")), bool(m.get("excluded_by"))))
    spans.sort()
    merged: list[list] = []
    for start, end, term, excluded in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if term not in last[2]:
                last[2].append(term)
            last[3] = last[3] and excluded
        else:
            merged.append([start, end, [term], excluded])
    result, position = [], 0
    for start, end, terms, excluded in merged:
        if start > position:
            result.append(Segment(text[position:start]))
        result.append(Segment(text[start:end], terms, excluded))
        position = end
    if position < len(text):
        result.append(Segment(text[position:]))
    return result


def short_time(value: str | None) -> str:
    """`2026-11-28T11:12:00.123456Z` -> `2026-11-28 11:12` (the full value goes in a title attribute)."""
    if not value:
        return ""
    return value[:16].replace("T", " ")
