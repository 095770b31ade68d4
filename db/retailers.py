"""Retailers to notify: contact details (which may be updated) and the seller accounts each one answers for.

Their tables are created by the notices migrations (db/notices.py). One seller account belongs to one retailer.
"""

from sqlite_utils import Database

from db.connection import write_transaction


def save_retailer(store: Database, retailer: dict, updated_at: str) -> int:
    """Insert or update a retailer by name (contact details and seller ids); returns its id.

    Raises ValueError when one of its seller ids already belongs to another retailer.
    """
    with write_transaction(store):
        row = next(store.query("SELECT id FROM retailers WHERE name = ?", [retailer["name"]]), None)
        values = [
            retailer["marketplace"],
            retailer.get("email") or None,
            retailer.get("address") or None,
            retailer.get("reporting_url") or None,
            updated_at,
        ]
        if row:
            retailer_id = row["id"]
            store.execute(
                "UPDATE retailers SET marketplace = ?, email = ?, address = ?, reporting_url = ?, "
                "updated_at = ? WHERE id = ?",
                [*values, retailer_id],
            )
            store.execute("DELETE FROM retailer_sellers WHERE retailer_id = ?", [retailer_id])
        else:
            retailer_id = store.execute(
                "INSERT INTO retailers (name, marketplace, email, address, reporting_url, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [retailer["name"], *values],
            ).lastrowid
        for seller in retailer.get("seller_ids") or []:
            owner = next(
                store.query(
                    "SELECT r.name FROM retailer_sellers s JOIN retailers r ON r.id = s.retailer_id "
                    "WHERE s.marketplace = ? AND s.seller_id = ?",
                    [retailer["marketplace"], seller],
                ),
                None,
            )
            if owner:
                raise ValueError(
                    f"seller {retailer['marketplace']}:{seller} already belongs to retailer {owner['name']!r}"
                )
            store.execute(
                "INSERT INTO retailer_sellers (marketplace, seller_id, retailer_id) VALUES (?, ?, ?)",
                [retailer["marketplace"], seller, retailer_id],
            )
    return retailer_id


def _retailer(store, row) -> dict:
    sellers = [
        r["seller_id"]
        for r in store.query(
            "SELECT seller_id FROM retailer_sellers WHERE retailer_id = ? ORDER BY seller_id", [row["id"]]
        )
    ]
    return {
        "id": row["id"],
        "name": row["name"],
        "marketplace": row["marketplace"],
        "seller_ids": sellers,
        "email": row["email"] or "",
        "address": row["address"] or "",
        "reporting_url": row["reporting_url"] or "",
        "updated_at": row["updated_at"],
    }


def list_retailers(store: Database) -> list[dict]:
    return [_retailer(store, row) for row in store.query("SELECT * FROM retailers ORDER BY name")]


def get_retailer(store: Database, name: str) -> dict | None:
    row = next(store.query("SELECT * FROM retailers WHERE name = ?", [name]), None)
    return _retailer(store, row) if row else None


def retailer_for_seller(store: Database, marketplace: str, seller: str) -> dict | None:
    row = next(
        store.query(
            "SELECT r.* FROM retailers r JOIN retailer_sellers s ON s.retailer_id = r.id "
            "WHERE s.marketplace = ? AND s.seller_id = ?",
            [marketplace, seller.strip()],
        ),
        None,
    )
    return _retailer(store, row) if row else None


def marketplace_operator(store: Database, marketplace: str) -> dict | None:
    """The retailers entry standing for a marketplace itself: that marketplace, and no seller ids."""
    row = next(
        store.query(
            "SELECT r.* FROM retailers r WHERE r.marketplace = ? AND NOT EXISTS "
            "(SELECT 1 FROM retailer_sellers s WHERE s.retailer_id = r.id) ORDER BY r.name LIMIT 1",
            [marketplace],
        ),
        None,
    )
    return _retailer(store, row) if row else None
