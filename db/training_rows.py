"""Reviewers' decisions as labelled listings, for `keywatch train --from-decisions` (classifier/train.py).

A listing counts once, by its review status (the `review_status` view, db/decisions.py): confirmed listings are
labelled with the category the reviewer confirmed, else the category its latest classification flagged;
dismissed listings are labelled `none`. The text is that of the listing's newest page capture (attachments
are not pages). Listings still pending or escalated teach nothing yet and are left out.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

NONE = "none"

_DECIDED = """
SELECT l.pk, l.marketplace, l.listing_id, r.status, r.category AS decided, c.fields, k.category AS flagged
FROM review_status r
JOIN listings l ON l.pk = r.listing_pk
JOIN captures c ON c.id = (
    SELECT c2.id FROM captures c2
    WHERE c2.listing_pk = l.pk AND coalesce(c2.purpose, '') NOT LIKE 'attachment:%'
    ORDER BY c2.fetched_at DESC, c2.id DESC LIMIT 1)
LEFT JOIN classifications k ON k.id = (SELECT max(id) FROM classifications WHERE capture_id = c.id AND flagged = 1)
WHERE r.status IN ('confirmed', 'dismissed')
ORDER BY l.pk
"""


def decided_listings(store: Database) -> list[dict]:
    """{"id", "title", "description", "category", "source"} for every confirmed or dismissed listing with
    some text; a confirmed listing with no category to name (none decided, none flagged) is left out."""
    out = []
    for row in store.query(_DECIDED):
        try:
            fields = json.loads(row["fields"] or "{}")
        except ValueError:
            continue  # a capture whose extracted fields are not JSON has no text to learn from
        if not isinstance(fields, dict):
            continue
        title, description = fields.get("title"), fields.get("description")
        title = title if isinstance(title, str) else ""
        description = description if isinstance(description, str) else ""
        category = (row["decided"] or row["flagged"]) if row["status"] == "confirmed" else NONE
        if not (title or description) or not category:
            continue
        out.append(
            {
                "id": f"decision:{row['marketplace']}:{row['listing_id']}",
                "title": title,
                "description": description,
                "category": category,
                "source": "review decision",
            }
        )
    return out
