"""Review decisions: recording them (append-only, chained), a listing's review status, and the audit trail.

A decision is a row of the evidence store's `decisions` table, linked into the hash chain in the transaction that
appends it. A listing's review status is defined once, by the `review_status` view (db/review_schema.py): the
outcome of its latest status-changing decision, else `pending`. Everything that asks for a review status (the
queue, exports, re-checks, the retention purge) reads that view.
"""

from __future__ import annotations

from sqlite_utils import Database

from db.accounts import ReviewError, active_user
from db.canonical import utc_now
from db.chain import append_chain
from db.connection import write_transaction

ACTIONS = ("confirm", "dismiss", "escalate", "note")
DISMISS_REASONS = ("false_positive", "legitimate_trade_seller", "duplicate", "other")
# The review status each action leads to (the view's CASE says the same); a note leaves the status as it was.
STATUS_AFTER = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}
REVIEW_STATUSES = ("pending", "escalated", "confirmed", "dismissed")
OPEN_STATUSES = ("pending", "escalated")
NOTE_LIMIT = 4000  # characters


def current_status(store: Database, listing_pk: int) -> str:
    row = next(store.query("SELECT status FROM review_status WHERE listing_pk = ?", [listing_pk]), None)
    return row["status"] if row else "pending"


def clean_note(note: str | None) -> str | None:
    """A reviewer's note as recorded, on a listing or a network: trimmed, None when empty, refused when too long."""
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise ReviewError(f"notes are limited to {NOTE_LIMIT} characters")
    return note


def _validate(action: str, category: str | None, reason: str | None, note: str | None) -> None:
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "confirm" and not category:
        raise ReviewError("confirming needs a category")
    if action == "dismiss" and reason not in DISMISS_REASONS:
        raise ReviewError(f"dismissing needs a reason: one of {', '.join(DISMISS_REASONS)}")
    if action == "dismiss" and reason == "other" and not note:
        raise ReviewError("dismissing for reason 'other' needs a note saying why")
    if action == "note" and not note:
        raise ReviewError("a note needs some text")


def decide(store: Database, listing_pk: int, user: str, action: str, **details: str | None) -> dict:
    """Append one decision (and its chain record) for one listing; returns the stored row. `details`: the
    keywords of decide_many (category, reason, note, via)."""
    return decide_many(store, [listing_pk], user, action, **details)[0]


def decide_many(
    store: Database,
    listing_pks: list[int],
    user: str,
    action: str,
    *,
    category: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    via: str | None = None,
) -> list[dict]:
    """Append the same decision for several listings in one transaction: all recorded, or none."""
    note = clean_note(note)
    category = category if action == "confirm" else None
    reason = reason if action == "dismiss" else None
    _validate(action, category, reason, note)
    if not listing_pks:
        raise ReviewError("no listings to decide on")
    rows = []
    with write_transaction(store):
        active_user(store, user)
        for pk in listing_pks:
            if next(store.query("SELECT 1 FROM listings WHERE pk = ?", [pk]), None) is None:
                raise ReviewError(f"no listing with id {pk}")
            before = current_status(store, pk)
            row = {
                "listing_pk": pk,
                "user": user,
                "action": action,
                "category": category,
                "reason": reason,
                "note": note,
                "created_at": utc_now(),
                "status_before": before,
                "status_after": STATUS_AFTER.get(action, before),
                "via": via,
            }
            cursor = store.execute(
                "INSERT INTO decisions (listing_pk, user, action, category, reason, note, created_at, "
                "status_before, status_after, via) VALUES (:listing_pk, :user, :action, :category, :reason, :note, "
                ":created_at, :status_before, :status_after, :via)",
                row,
            )
            decision_id = cursor.lastrowid
            assert decision_id is not None  # sqlite3 sets it after every row inserted
            append_chain(store, "decision", decision_id, row)
            rows.append({"id": decision_id, **row})
    return rows


def listing_decisions(store: Database, listing_pk: int) -> list[dict]:
    """One listing's decisions, oldest first."""
    return list(store.query("SELECT * FROM decisions WHERE listing_pk = ? ORDER BY id", [listing_pk]))


def audit_trail(store: Database, *, limit: int = 200, before: int | None = None) -> list[dict]:
    """The newest decisions across all listings (older than decision `before`, when given), with their listing."""
    return list(
        store.query(
            """SELECT d.*, l.marketplace, l.listing_id, l.title FROM decisions d JOIN listings l ON l.pk = d.listing_pk
               WHERE d.id < ? ORDER BY d.id DESC LIMIT ?""",
            [before if before is not None else 2**63 - 1, limit],
        )
    )
