"""Seller networks in the store: what link finding reads, the derived links and networks, and reviewers' decisions.

Links and networks are derived data (docs/networks.md): `keywatch networks` and every crawl recompute them from the
captures and replace the tables `network_links`, `networks` and `network_members` whole, in one transaction; nobody
edits them. What reviewers decide about them is evidence: `network_decisions` is append-only and each row is
chained (record type `network_decision`). A decision names what it was about by stable identity, so it outlives
recomputes: a rejected link by its id (kind + sorted seller pair + the shared item's hash; a rejected link is left
out of every later recompute until restored), a confirmed network by its id, which is derived from its members (a
network that gains or loses a seller is another network, and needs confirming again).
"""

from __future__ import annotations

import json

from sqlite_utils import Migrations

from db.accounts import ReviewError, get_user
from db.canonical import utc_now
from db.chain import append_chain
from db.connection import write_transaction
from db.decisions import OPEN_STATUSES
from db.schema import protect

# Applied by db.connect (db.connection.MIGRATION_MODULES) after the notices' set.
migrations = Migrations("keywatch-networks")

NETWORK_ACTIONS = ("confirm", "reject_link", "restore_link")


@migrations()
def m001_links_networks_decisions(store):
    store.execute(
        """CREATE TABLE network_links (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            item TEXT NOT NULL,
            item_hash TEXT NOT NULL,
            weight REAL NOT NULL,
            evidence TEXT NOT NULL,
            first_seller TEXT NOT NULL,
            first_listing TEXT NOT NULL,
            first_capture_id INTEGER NOT NULL,
            first_at TEXT NOT NULL,
            network_id TEXT
        )"""
    )
    store.execute("CREATE INDEX network_links_a ON network_links (a)")
    store.execute("CREATE INDEX network_links_b ON network_links (b)")
    store.execute("CREATE INDEX network_links_network ON network_links (network_id)")
    store.execute(
        """CREATE TABLE networks (
            id TEXT PRIMARY KEY,
            sellers TEXT NOT NULL,
            size INTEGER NOT NULL,
            marketplaces TEXT NOT NULL,
            listings TEXT NOT NULL
        )"""
    )
    store.execute(
        """CREATE TABLE network_members (
            seller TEXT PRIMARY KEY,
            marketplace TEXT NOT NULL,
            seller_name TEXT NOT NULL,
            network_id TEXT NOT NULL REFERENCES networks(id)
        )"""
    )
    # One row per recompute: when, and what it found (what the review desk shows as "as of").
    store.execute(
        """CREATE TABLE network_recomputes (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            sellers INTEGER NOT NULL,
            links INTEGER NOT NULL,
            networks INTEGER NOT NULL,
            stock TEXT NOT NULL
        )"""
    )
    store.execute(
        """CREATE TABLE network_decisions (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL CHECK (action IN ('confirm', 'reject_link', 'restore_link')),
            network_id TEXT,
            sellers TEXT,
            link_id TEXT,
            link TEXT,
            user TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL,
            via TEXT
        )"""
    )
    store.execute("CREATE INDEX network_decisions_network ON network_decisions (network_id, id)")
    store.execute("CREATE INDEX network_decisions_link ON network_decisions (link_id, id)")
    protect(store, "network_decisions")


# ---------------------------------------------------------------- what link finding reads


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


def rejected_link_ids(store) -> set[str]:
    """Links whose latest reject/restore decision is a rejection: left out of every recompute."""
    return {
        row["link_id"]
        for row in store.query(
            """SELECT d.link_id, d.action FROM network_decisions d
               WHERE d.id = (SELECT max(d2.id) FROM network_decisions d2 WHERE d2.link_id = d.link_id)
                 AND d.link_id IS NOT NULL"""
        )
        if row["action"] == "reject_link"
    }


# ---------------------------------------------------------------- keeping what was computed


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


# ---------------------------------------------------------------- reading networks back


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


def computed(store) -> bool:
    """Whether the store has the network tables: a store opened read-only is not migrated, and one written by a
    keywatch before seller networks has none (it has no networks either)."""
    return store["network_recomputes"].exists()


def list_networks(store, *, with_links: bool = True) -> list[dict]:
    """Every network of the last recompute, largest first, with its links (rejected ones marked) and status."""
    if not computed(store):
        return []
    rejected = rejected_link_ids(store)
    rows = store.query("SELECT * FROM networks ORDER BY size DESC, id")
    return [_network(store, row, rejected, with_links=with_links) for row in rows]


def get_network(store, network_id: str) -> dict | None:
    row = next(store.query("SELECT * FROM networks WHERE id = ?", [network_id]), None)
    return _network(store, row, rejected_link_ids(store)) if row else None


def last_recompute(store) -> dict | None:
    if not computed(store):
        return None
    row = next(store.query("SELECT * FROM network_recomputes ORDER BY id DESC LIMIT 1"), None)
    return {**row, "stock": json.loads(row["stock"])} if row else None


def confirmation(store, network_id: str) -> dict | None:
    """The decision that confirmed this network (these members), or None."""
    return next(
        store.query(
            "SELECT * FROM network_decisions WHERE network_id = ? AND action = 'confirm' ORDER BY id DESC LIMIT 1",
            [network_id],
        ),
        None,
    )


def network_listings(store, network_id: str) -> list[dict]:
    """The listings of a network's sellers with their review status, newest first."""
    return list(
        store.query(
            """SELECT l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.first_seen, l.last_seen,
                      l.status AS listing_status, l.flagged, l.category, r.status AS review_status
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
            """SELECT l.pk, l.marketplace, l.listing_id, l.url, l.title, l.seller, l.first_seen, l.last_seen,
                      l.status AS listing_status, l.flagged, l.category, r.status AS review_status
               FROM listings l JOIN review_status r ON r.listing_pk = l.pk
               WHERE l.marketplace = ? AND l.seller = ? ORDER BY l.first_seen, l.pk""",
            [marketplace, seller],
        )
    )


def network_decisions(store, network_id: str) -> list[dict]:
    """Decisions about a network and about the links between its members, oldest first."""
    row = next(store.query("SELECT sellers FROM networks WHERE id = ?", [network_id]), None)
    link_ids = [
        r["id"]
        for r in store.query(
            "SELECT id FROM network_links WHERE a IN (SELECT value FROM json_each(?)) "
            "AND b IN (SELECT value FROM json_each(?))",
            [row["sellers"], row["sellers"]] if row else ["[]", "[]"],
        )
    ]
    return list(
        store.query(
            "SELECT * FROM network_decisions WHERE network_id = ? OR link_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY id",
            [network_id, json.dumps(link_ids)],
        )
    )


# ---------------------------------------------------------------- decisions


def decide_network(
    store,
    user: str,
    action: str,
    *,
    network_id: str | None = None,
    link_id: str | None = None,
    note: str | None = None,
    via: str | None = None,
) -> dict:
    """Confirm a network (as its members are now) or reject / restore one link; appended and chained."""
    if action not in NETWORK_ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(NETWORK_ACTIONS)}, not {action!r}")
    note = (note or "").strip() or None
    if note is not None and len(note) > 4000:
        raise ReviewError("notes are limited to 4000 characters")
    with write_transaction(store):
        account = get_user(store, user)
        if account is None or account.disabled:
            raise ReviewError(f"no active user {user!r} (create one with `keywatch user add`)")
        row = {"action": action, "user": user, "note": note, "created_at": utc_now(), "via": via}
        if action == "confirm":
            network = next(store.query("SELECT id, sellers FROM networks WHERE id = ?", [network_id or ""]), None)
            if network is None:
                raise ReviewError(f"no network {network_id!r} (run `keywatch networks` to recompute)")
            row.update(network_id=network["id"], sellers=network["sellers"])
        else:
            link = next(
                store.query("SELECT id, kind, a, b, item FROM network_links WHERE id = ?", [link_id or ""]), None
            )
            if link is None:
                raise ReviewError(f"no link {link_id!r}")
            if action == "reject_link" and not note:
                raise ReviewError("rejecting a link needs a note saying why")
            row.update(
                link_id=link["id"],
                link=json.dumps({k: link[k] for k in ("kind", "a", "b", "item")}, ensure_ascii=False, sort_keys=True),
                network_id=network_id,
            )
        columns = [k for k in row if row[k] is not None]
        cursor = store.execute(
            f"INSERT INTO network_decisions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[k] for k in columns],
        )
        decision_id = cursor.lastrowid
        assert decision_id is not None
        append_chain(store, "network_decision", decision_id, row)
    return {"id": decision_id, **row}


# ---------------------------------------------------------------- the compliance report's reads


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
