"""Recomputing seller networks: what link finding reads from the captures, and keeping what it found.

The derived tables (db/network_schema.py) are replaced whole by each recompute, in one transaction; links that a
reviewer rejected (db/network_decisions.py) are found again but join no network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from db.canonical import utc_now
from db.connection import read_snapshot, write_transaction
from db.network_decisions import rejected_link_ids
from db.network_schema import has_tables

# networks.rows.compute: (page rows, photo rows, rejected link ids) -> (link rows, network rows, stock counts).
# Passed in, because db/ never imports the networks package.
Compute = Callable[[Iterable[dict], Iterable[dict], set[str]], tuple[list[dict], list[dict], dict[str, int]]]


def recompute(store, compute: Compute) -> None:
    """Find every link and network again from one snapshot of the store and replace the derived tables."""
    with read_snapshot(store):
        pages = list(page_rows(store))
        photos = list(photo_rows(store))
        rejected = rejected_link_ids(store)
    save_computed(store, *compute(pages, photos, rejected))


def page_rows(store):
    """Each distinct version of each listing page as captured (seller, title, description, seller profile), with
    the earliest capture that showed it."""
    return store.query(
        """SELECT l.pk AS listing_pk, l.marketplace, l.listing_id,
                  json_extract(c.fields, '$.seller') AS seller, json_extract(c.fields, '$.title') AS title,
                  json_extract(c.fields, '$.description') AS description,
                  json_extract(c.fields, '$.extra.seller_profile') AS seller_profile,
                  min(c.fetched_at) AS fetched_at, c.id AS capture_id, c.url
           FROM captures c JOIN listings l ON l.pk = c.listing_pk
           WHERE c.purpose IS NULL OR c.purpose NOT LIKE 'attachment:%'
           GROUP BY l.pk, 4, 5, 6, 7"""
    )


def photo_rows(store):
    """Each distinct photo of each listing (by SHA-256 and the seller of the page that showed it), with its
    perceptual hashes and earliest capture."""
    return store.query(
        """SELECT l.pk AS listing_pk, l.marketplace, l.listing_id,
                  json_extract(pg.fields, '$.seller') AS seller, p.sha256,
                  json_extract(p.fields, '$.phash') AS phash, json_extract(p.fields, '$.dhash') AS dhash,
                  min(p.fetched_at) AS fetched_at, p.id AS capture_id, p.url
           FROM captures p JOIN listings l ON l.pk = p.listing_pk
           JOIN captures pg ON pg.id = json_extract(p.fields, '$.attachment_of')
           WHERE p.purpose = 'attachment:photo'
           GROUP BY l.pk, 4, p.sha256"""
    )


def save_computed(store, links: list[dict], networks: list[dict], stock: dict[str, int]) -> None:
    """Replace the derived tables with a recompute's result, all at once. `links`: rows of network_links (evidence
    as a dict); `networks`: {id, sellers, marketplaces, listings}."""
    network_of = {seller: n["id"] for n in networks for seller in n["sellers"]}
    with write_transaction(store):
        for table in ("network_members", "network_links", "networks"):
            store.execute(f"DELETE FROM [{table}]")
        for network in networks:
            store.execute(
                "INSERT INTO networks (id, sellers, size, marketplaces, listings) VALUES (?, ?, ?, ?, ?)",
                [
                    network["id"],
                    json.dumps(network["sellers"], ensure_ascii=False),
                    len(network["sellers"]),
                    json.dumps(network["marketplaces"]),
                    json.dumps(network["listings"], ensure_ascii=False),
                ],
            )
            for seller in network["sellers"]:
                marketplace, _, name = seller.partition(":")
                store.execute(
                    "INSERT INTO network_members (seller, marketplace, seller_name, network_id) VALUES (?, ?, ?, ?)",
                    [seller, marketplace, name, network["id"]],
                )
        for link in links:
            first = link["evidence"]["first"]
            in_network = network_of.get(link["a"])
            store.execute(
                """INSERT INTO network_links (id, kind, a, b, item, item_hash, weight, evidence, first_seller,
                   first_listing, first_capture_id, first_at, network_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO NOTHING""",
                [
                    link["id"],
                    link["kind"],
                    link["a"],
                    link["b"],
                    link["item"],
                    link["item_hash"],
                    link["weight"],
                    json.dumps(link["evidence"], ensure_ascii=False, sort_keys=True),
                    first["seller"],
                    first["listing"],
                    first["capture_id"],
                    first["fetched_at"],
                    in_network if in_network and in_network == network_of.get(link["b"]) else None,
                ],
            )
        store.execute(
            "INSERT INTO network_recomputes (at, sellers, links, networks, stock) VALUES (?, ?, ?, ?, ?)",
            [utc_now(), len(network_of), len(links), len(networks), json.dumps(stock, sort_keys=True)],
        )


def last_recompute(store) -> dict | None:
    if not has_tables(store):
        return None
    row = next(store.query("SELECT * FROM network_recomputes ORDER BY id DESC LIMIT 1"), None)
    return {**row, "stock": json.loads(row["stock"])} if row else None
