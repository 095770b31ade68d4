"""A pack's listing records: the rows from db.notices.export_listings as JSON, CSV and letter lines."""

import csv
import io
import json
import re

from common.images import image_type

# Where each kind of capture goes in a pack, named by its SHA-256. A rendering's loaded responses are in
# captures.warc.gz only (a page's scripts, styles and images are for replay, not for reading one by one).
FOLDERS = {
    None: "captures",
    "description": "captures",
    "dom": "captures",
    "screenshot": "screenshots",
    "photo": "photos",
}


def capture_kind(purpose: str | None) -> str | None:
    """`screenshot` for `attachment:screenshot`, ...; None for a listing page."""
    prefix, _, kind = (purpose or "").partition(":")
    return kind if prefix == "attachment" else None


def pack_file(purpose: str | None, sha256: str, body: bytes) -> str | None:
    """The pack's file name for a capture's bytes (its image type by its magic bytes), or None for WARC-only ones."""
    kind = capture_kind(purpose)
    if kind not in FOLDERS:
        return None
    if FOLDERS[kind] == "captures":
        return f"captures/{sha256}.html"
    found = image_type(body)
    return f"{FOLDERS[kind]}/{sha256}.{found[1] if found else 'bin'}"


def reasons(matches: list[dict]) -> list[str]:
    """The classifier's evidence in words: each watchlist term that matched, where, and how well."""
    out = []
    for m in matches:
        if m.get("excluded_by"):
            continue
        score = m.get("score")
        score_text = f", score {score:g}" if isinstance(score, (int, float)) else ""
        out.append(f"'{m.get('term')}' matched \"{m.get('text')}\" in {m.get('field')}{score_text}")
    return out


def listing_record(row: dict, files: dict[int, str]) -> dict:
    """One listing as listings.json shows it: what was on sale, why it was flagged, what the reviewer decided.
    `files` names each capture's file in the pack (exports.export, which reads the bytes)."""
    return {
        "marketplace": row["marketplace"],
        "listing_id": row["listing_id"],
        "url": row["url"],
        "title": row["title"],
        "price": row["price"],
        "currency": row["currency"],
        "seller": row["seller"],
        "category": row["decision_category"] or row["classifier_category"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "status": row["status"] or "unknown",
        "status_observed_at": row["status_at"],
        "classifier": {
            "category": row["classifier_category"],
            "risk": row["classifier_risk"],
            "score": row["classifier_score"],
            "watchlist_version": row["watchlist_version"],
            "reasons": reasons(row["classifier_matches"]),
            "matches": row["classifier_matches"],
        },
        "decision": {
            "review_status": row["review_status"],
            "action": row["decision_action"],
            "category": row["decision_category"],
            "reason": row["decision_reason"],
            "note": row["decision_note"],
            "user": row["decided_by"],
            "at": row["decided_at"],
            "notes": row["notes"],
        },
        "captures": [
            {
                "fetched_at": c["fetched_at"],
                "request_url": c["request_url"],
                "url": c["url"],
                "http_status": c["status"],
                "sha256": c["sha256"],
                "size": c["body_size"],
                "purpose": c["purpose"],
                "kind": capture_kind(c["purpose"]) or "page",
                # A purged body (retention) is absent from the pack, and a rendering's loaded responses are in
                # captures.warc.gz only; the hash still identifies what each was.
                "file": files.get(c["id"]),
            }
            for c in row["captures"]
        ],
    }


CSV_COLUMNS = (
    "marketplace",
    "listing_id",
    "url",
    "title",
    "price",
    "currency",
    "seller",
    "category",
    "first_seen",
    "last_seen",
    "status",
    "classifier_category",
    "classifier_risk",
    "classifier_score",
    "reasons",
    "review_status",
    "decided_by",
    "decided_at",
    "decision_note",
    "capture_sha256",
)


# What makes a spreadsheet read a cell as a formula: = + - @ (and their full-width forms, which some locales
# accept), also after leading spaces or line breaks, and a leading tab, CR or LF.
_FORMULA_START = re.compile(r"^[\s\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    # Titles are written by sellers: a formula would run when the CSV is opened in a spreadsheet.
    # listings.json keeps the exact text.
    return "'" + text if _FORMULA_START.match(text) else text


_cell = spreadsheet_safe


def to_csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            [
                spreadsheet_safe(v)
                for v in (
                    r["marketplace"],
                    r["listing_id"],
                    r["url"],
                    r["title"],
                    r["price"],
                    r["currency"],
                    r["seller"],
                    r["category"],
                    r["first_seen"],
                    r["last_seen"],
                    r["status"],
                    r["classifier"]["category"],
                    r["classifier"]["risk"],
                    r["classifier"]["score"],
                    "; ".join(r["classifier"]["reasons"]),
                    r["decision"]["review_status"],
                    r["decision"]["user"],
                    r["decision"]["at"],
                    r["decision"]["note"],
                    " ".join(c["sha256"] for c in r["captures"]),
                )
            ]
        )
    # A BOM so spreadsheet programs read UTF-8 titles correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_json(records: list[dict], header: dict) -> bytes:
    return (json.dumps({**header, "listings": records}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def letter_rows(records: list[dict]) -> list[dict]:
    """What the letter's table shows for each listing."""
    return [
        {
            "marketplace": r["marketplace"],
            "listing_id": r["listing_id"],
            "url": r["url"],
            "title": r["title"] or "",
            "price_text": " ".join(filter(None, [r["currency"], r["price"]])) or "-",
            "category_label": (r["category"] or "-").replace("_", " "),
            "first_seen": (r["first_seen"] or "")[:16].replace("T", " "),
            "status": r["status"],
            # The pack's copies of the captured pages, for the notice to link (never to inline).
            "captures": [
                {"file": c["file"], "fetched_at": c["fetched_at"][:19].replace("T", " ")}
                for c in r["captures"]
                if c["file"] and c["file"].startswith("captures/")
            ],
            # The newest screenshot in the pack: the notice shows it beside the listing's details.
            "screenshot": next(
                (
                    {"file": c["file"], "sha256": c["sha256"], "fetched_at": c["fetched_at"][:19].replace("T", " ")}
                    for c in reversed(r["captures"])
                    if c["kind"] == "screenshot" and c["file"]
                ),
                None,
            ),
            "seller": r["seller"] or "",
        }
        for r in records
    ]
