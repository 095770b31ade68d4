"""The listing page's timeline: a listing's history (db.queries.listing_events) as one short line per event."""

from __future__ import annotations


def describe_decision(row: dict) -> str:
    detail = row["category"] if row["action"] == "confirm" else row["reason"] if row["action"] == "dismiss" else None
    text = f"{row['user']}: {row['action']}" + (f" ({detail})" if detail else "")
    if row.get("status_before") != row.get("status_after"):
        text += f", {row['status_before']} → {row['status_after']}"
    return text + (f" — {row['note']}" if row["note"] else "")


# A rendering's DOM and loaded responses and the photos are listed with the captures, not on the timeline: the
# screenshot stands for its rendering.
_NOT_ON_TIMELINE = ("attachment:dom", "attachment:resource", "attachment:photo")


def _text(event: dict) -> str:
    kind = event["kind"]
    if kind == "capture" and event.get("purpose") == "attachment:screenshot":
        return f"rendered: screenshot #{event['id']}, sha256 {event['sha256'][:12]}…"
    if kind == "capture":
        return f"capture #{event['id']}: HTTP {event['status']}, sha256 {event['sha256'][:12]}…"
    if kind == "status":
        return event["status"] + (f" ({event['detail']})" if event["detail"] else "")
    if kind == "classification":
        verdict = f"flagged {event['category']} (score {event['score']:g})" if event["flagged"] else "not flagged"
        return f"{verdict}, watchlist {str(event['watchlist_version'] or '')[:12]}"
    return describe_decision(event)


def timeline_entries(first_seen: str, events: list[dict]) -> list[dict]:
    """[{"at", "kind", "text"}], oldest first: when the listing was first seen, then each event."""
    entries = [{"at": first_seen, "kind": "first seen", "text": ""}]
    entries += [
        {"at": event["at"], "kind": event["kind"], "text": _text(event)}
        for event in events
        if event.get("purpose") not in _NOT_ON_TIMELINE
    ]
    return sorted(entries, key=lambda entry: entry["at"])
