"""What a listing looked like: the captures a rendering and the photo downloads add, and reading them back.

Each is an ordinary capture (docs/evidence.md, "Rendered pages and photos"): its body stored once per SHA-256, its
own chain record, linked to the listing page capture it belongs to by `fields.attachment_of`, told apart by its
purpose, `attachment:<kind>`:

- `screenshot`: a full-page PNG of the rendered page;
- `dom`: the rendered DOM, the HTML after the page's scripts ran;
- `resource`: one response the rendered page loaded (its document, images, CSS, scripts, fonts, XHR);
- `photo`: one listing photo, its perceptual hashes (pHash, dHash) and size in `fields`.

So verify, purge and WARC export treat them like every other capture. Only the host rule differs: photos and
resources may come from a CDN (db/hosts.py).
"""

import json

from common.images import image_type
from db.captures import decompress_body

SCREENSHOT, DOM, RESOURCE, PHOTO = "screenshot", "dom", "resource", "photo"
RENDER_KINDS = (SCREENSHOT, DOM, RESOURCE)
IMAGE_PURPOSES = (f"attachment:{SCREENSHOT}", f"attachment:{PHOTO}")


def kind_of(purpose: str | None) -> str | None:
    """The attachment kind of a capture's purpose (`screenshot` for `attachment:screenshot`); None for a page."""
    prefix, _, kind = (purpose or "").partition(":")
    return kind if prefix == "attachment" else None


def _fields(text) -> dict:
    try:
        fields = json.loads(text or "{}")
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def listing_media(store, listing_pk: int) -> dict:
    """The listing's `screenshots` (newest first) and `photos` (each distinct image once, newest first, with
    `other_listings`: how many other listings show the same bytes), and per page capture what its rendering kept
    (`renders`: {page capture id: {kind: count}})."""
    screenshots, photos, seen = [], [], set()
    rows = store.query(
        """SELECT c.id, c.purpose, c.url, c.fetched_at, c.sha256, c.body_size, c.fields,
                  EXISTS (SELECT 1 FROM bodies b WHERE b.sha256 = c.sha256) AS body_kept,
                  (SELECT count(DISTINCT o.listing_pk) FROM captures o
                   WHERE o.sha256 = c.sha256 AND o.listing_pk != c.listing_pk) AS other_listings
           FROM captures c WHERE c.listing_pk = ? AND c.purpose IN (?, ?)
           ORDER BY json_extract(c.fields, '$.attachment_of') DESC, c.id""",
        [listing_pk, *IMAGE_PURPOSES],
    )
    for row in rows:
        fields = _fields(row.pop("fields"))
        entry = {**row, "body_kept": bool(row["body_kept"]), "attachment_of": fields.get("attachment_of")}
        if kind_of(row["purpose"]) == SCREENSHOT:
            screenshots.append({**entry, "cut_at": fields.get("cut_at"), "browser": fields.get("browser")})
        elif row["sha256"] not in seen:
            seen.add(row["sha256"])
            photos.append({**entry, **{k: fields.get(k) for k in ("phash", "dhash", "width", "height")}})
    renders: dict[int, dict[str, int]] = {}
    for row in store.query(
        """SELECT json_extract(fields, '$.attachment_of') AS page, purpose, count(*) AS n FROM captures
           WHERE listing_pk = ? AND purpose IN (?, ?, ?) GROUP BY 1, 2""",
        [listing_pk, *(f"attachment:{kind}" for kind in RENDER_KINDS)],
    ):
        renders.setdefault(row["page"], {})[row["purpose"].partition(":")[2]] = row["n"]
    return {"screenshots": screenshots, "photos": photos, "renders": renders}


def stored_image(store, capture_id: int) -> dict | None:
    """A screenshot's or photo's bytes: {"body", "kind", "sha256", "content_type"}; `content_type` is None unless
    the bytes are a PNG, JPEG, GIF or WebP image by their magic. None for another capture or a purged body."""
    row = next(
        store.query(
            "SELECT c.purpose, c.sha256, b.body, b.encoding FROM captures c JOIN bodies b ON b.sha256 = c.sha256 "
            "WHERE c.id = ? AND c.purpose IN (?, ?)",
            [capture_id, *IMAGE_PURPOSES],
        ),
        None,
    )
    if row is None:
        return None
    body = decompress_body(row["body"], row["encoding"])
    found = image_type(body)
    return {
        "body": body,
        "kind": kind_of(row["purpose"]),
        "sha256": row["sha256"],
        "content_type": found[0] if found else None,
    }


def thumbnails(store, listing_pks: list[int]) -> dict[int, int]:
    """{listing pk: the capture its queue row's thumbnail shows}: the listing's main photo (the first photo of its
    newest photographed page), else its newest screenshot; listings with neither (or only purged ones) are left out."""
    rows = store.query(
        """SELECT c.listing_pk, c.id FROM captures c JOIN bodies b ON b.sha256 = c.sha256
           WHERE c.listing_pk IN (SELECT value FROM json_each(?)) AND c.purpose IN (?, ?)
           ORDER BY c.listing_pk, c.purpose = ? DESC, json_extract(c.fields, '$.attachment_of') DESC, c.id""",
        [json.dumps(list(listing_pks)), *IMAGE_PURPOSES, f"attachment:{PHOTO}"],
    )
    chosen: dict[int, int] = {}
    for row in rows:
        chosen.setdefault(row["listing_pk"], row["id"])
    return chosen
