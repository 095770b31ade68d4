"""From the store's rows to link finding and back: what db/network_recompute.py reads in, what it keeps.

links, networks, stock = compute(db.network_recompute.page_rows(store), db.network_recompute.photo_rows(store),
                                 db.network_decisions.rejected_link_ids(store))
db.network_recompute.save_computed(store, links, networks, stock)
"""

from __future__ import annotations

from collections.abc import Iterable

from networks.links import find_links
from networks.model import Link, Page, Photo, Source
from networks.photos import parse_hash
from networks.scoring import build_networks


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _source(row: dict) -> Source:
    return Source(
        marketplace=str(row["marketplace"]),
        seller=_text(row.get("seller")).strip(),
        listing_id=str(row["listing_id"]),
        listing_pk=int(row["listing_pk"]),
        capture_id=int(row["capture_id"]),
        fetched_at=str(row["fetched_at"]),
        url=row.get("url"),
    )


def pages_from_rows(rows: Iterable[dict]) -> list[Page]:
    return [
        Page(
            _source(row),
            title=_text(row.get("title")),
            description=_text(row.get("description")),
            seller_profile=_text(row.get("seller_profile")),
        )
        for row in rows
    ]


def photos_from_rows(rows: Iterable[dict]) -> list[Photo]:
    """Photos whose stored hashes are both readable 64-bit hashes; others cannot be compared and are left out."""
    out = []
    for row in rows:
        phash, dhash = parse_hash(row.get("phash")), parse_hash(row.get("dhash"))
        if phash is not None and dhash is not None:
            out.append(Photo(_source(row), str(row.get("sha256") or ""), phash, dhash))
    return out


def link_row(link: Link) -> dict:
    return {
        "id": link.id,
        "kind": link.kind,
        "a": link.a,
        "b": link.b,
        "item": link.item,
        "item_hash": link.item_hash,
        "weight": link.weight,
        "evidence": link.evidence(),
    }


def compute(
    page_rows: Iterable[dict], photo_rows: Iterable[dict], rejected: set[str]
) -> tuple[list[dict], list[dict], dict[str, int]]:
    """(link rows, network rows, stock counts). Rejected links are kept (the desk shows them) but join no one."""
    found = find_links(pages_from_rows(page_rows), photos_from_rows(photo_rows))
    networks = build_networks([link for link in found.links if link.id not in rejected], found.listings_of)
    network_rows = [
        {"id": n.id, "sellers": n.sellers, "marketplaces": n.marketplaces, "listings": n.listings} for n in networks
    ]
    return [link_row(link) for link in found.links], network_rows, found.stock
