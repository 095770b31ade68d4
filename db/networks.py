"""Reading seller networks back: the networks of the last recompute with their links and status, their sellers'
listings, the seller and network pages' reads and the compliance report's.

Links and networks are derived data (docs/networks.md), recomputed by db/network_recompute.py; a network's status
comes from reviewers' decisions (db/network_decisions.py).
"""

from __future__ import annotations

import json

from db.decisions import OPEN_STATUSES
from db.network_decisions import confirmation, rejected_link_ids
from db.network_schema import has_tables

# A listing as the seller and network pages show it, with its review status.
_LISTING = """SELECT l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.first_seen, l.last_seen,
                     l.status AS listing_status, l.flagged, l.category, r.status AS review_status"""


def _link(row: dict, rejected: set[str]) -> dict:
    row = dict(row)
    row["evidence"] = json.loads(row["evidence"])
    row["rejected"] = row["id"] in rejected
    return row


def _network(store, row: dict, rejected: set[str], *, with_links: bool = True) -> dict:
    network = {
        "id": row["id"],
        "sellers": json.loads(row["sellers"]),
        "size": row["size"],
        "marketplaces": json.loads(row["marketplaces"]),
        "listings": json.loads(row["listings"]),
        "confirmation": confirmation(store, row["id"]),
    }
    network["status"] = "confirmed" if network["confirmation"] else "unconfirmed"
    if with_links:
        network["links"] = [
            _link(link, rejected)
            for link in store.query(
                "SELECT * FROM network_links WHERE network_id = ? OR (a IN (SELECT value FROM json_each(?)) "
                "AND b IN (SELECT value FROM json_each(?))) ORDER BY kind, a, b, id",
                [row["id"], row["sellers"], row["sellers"]],
            )
        ]
    return network


def list_networks(store, *, with_links: bool = True) -> list[dict]:
    """Every network of the last recompute, largest first, with its links (rejected ones marked) and status."""
    if not has_tables(store):
        return []
    rejected = rejected_link_ids(store)
    rows = store.query("SELECT * FROM networks ORDER BY size DESC, id")
    return [_network(store, row, rejected, with_links=with_links) for row in rows]


def get_network(store, network_id: str) -> dict | None:
    row = next(store.query("SELECT * FROM networks WHERE id = ?", [network_id]), None)
    return _network(store, row, rejected_link_ids(store)) if row else None


def network_listings(store, network_id: str) -> list[dict]:
    """The listings of a network's sellers with their review status, newest first."""
    return list(
        store.query(
            f"""{_LISTING}
                FROM network_members m JOIN listings l ON l.marketplace = m.marketplace AND l.seller = m.seller_name
                JOIN review_status r ON r.listing_pk = l.pk
                WHERE m.network_id = ? ORDER BY l.last_seen DESC, l.pk""",
            [network_id],
        )
    )


def is_open(row: dict) -> bool:
    """A flagged listing still to decide (pending or escalated), as the queue counts them."""
    return bool(row["flagged"]) and row["review_status"] in OPEN_STATUSES


def open_listing_pks(store, network_id: str) -> list[int]:
    """A network's open listings: what "decide the whole network" covers (never an unflagged listing)."""
    return [row["pk"] for row in network_listings(store, network_id) if is_open(row)]


def network_of_seller(store, marketplace: str, seller: str) -> str | None:
    row = next(
        store.query("SELECT network_id FROM network_members WHERE seller = ?", [f"{marketplace}:{seller}"]), None
    )
    return row["network_id"] if row else None


def seller_links(store, marketplace: str, seller: str) -> list[dict]:
    key = f"{marketplace}:{seller}"
    rejected = rejected_link_ids(store)
    return [
        _link(row, rejected)
        for row in store.query("SELECT * FROM network_links WHERE a = ? OR b = ? ORDER BY kind, a, b", [key, key])
    ]


def seller_listings(store, marketplace: str, seller: str) -> list[dict]:
    """Every listing of one seller account, with its review status, first and last seen."""
    return list(
        store.query(
            f"""{_LISTING}
                FROM listings l JOIN review_status r ON r.listing_pk = l.pk
                WHERE l.marketplace = ? AND l.seller = ? ORDER BY l.first_seen, l.pk""",
            [marketplace, seller],
        )
    )


def network_report(store) -> dict:
    """Networks of the last recompute for the compliance report: how many, their sizes and marketplaces, how many
    confirmed, and every reappearance: a seller with a listing the marketplace removed, and a linked account (same
    network) with a listing first seen after that removal."""
    found = list_networks(store, with_links=False)
    if not found:
        return {"networks": 0, "confirmed": 0, "sellers": 0, "largest": 0, "multi_marketplace": 0, "rows": [],
                "reappearances": []}  # fmt: skip
    removed_at = {
        row["seller"]: row["at"]
        for row in store.query(
            """SELECT m.seller, min(s.observed_at) AS at FROM network_members m
               JOIN listings l ON l.marketplace = m.marketplace AND l.seller = m.seller_name
               JOIN listing_status s ON s.listing_pk = l.pk AND s.status = 'removed'
               GROUP BY m.seller"""
        )
    }
    reappearances = []
    for network in found:
        for seller, at in sorted((s, removed_at[s]) for s in network["sellers"] if s in removed_at):
            for other in network["sellers"]:
                if other == seller:
                    continue
                marketplace, _, name = other.partition(":")
                later = next(
                    store.query(
                        "SELECT listing_id, first_seen FROM listings WHERE marketplace = ? AND seller = ? "
                        "AND first_seen > ? ORDER BY first_seen LIMIT 1",
                        [marketplace, name, at],
                    ),
                    None,
                )
                if later:
                    reappearances.append(
                        {
                            "network": network["id"],
                            "removed_seller": seller,
                            "removed_at": at,
                            "reappeared_as": other,
                            "listing": f"{marketplace}:{later['listing_id']}",
                            "first_seen": later["first_seen"],
                        }
                    )
    return {
        "networks": len(found),
        "confirmed": sum(n["status"] == "confirmed" for n in found),
        "sellers": sum(n["size"] for n in found),
        "largest": max((n["size"] for n in found), default=0),
        "multi_marketplace": sum(len(n["marketplaces"]) > 1 for n in found),
        "rows": [
            {"id": n["id"], "status": n["status"], "size": n["size"], "marketplaces": len(n["marketplaces"])}
            for n in found
        ],
        "reappearances": reappearances,
    }
