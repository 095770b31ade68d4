"""Reviewers' decisions about seller networks: confirming a network, rejecting or restoring a link, and reading
them back.

A decision is evidence: `network_decisions` is append-only and each row is chained (record type
`network_decision`). It names what it was about by stable identity, so it outlives recomputes: a rejected link by
its id (kind + sorted seller pair + the shared item's hash; a rejected link is left out of every later recompute
until restored), a confirmed network by its id, which is derived from its members (a network that gains or loses a
seller is another network, and needs confirming again).
"""

from __future__ import annotations

import json

from db.accounts import ReviewError, active_user
from db.canonical import utc_now
from db.chain import append_chain
from db.connection import write_transaction
from db.decisions import clean_note

NETWORK_ACTIONS = ("confirm", "reject_link", "restore_link")


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
    note = clean_note(note)
    with write_transaction(store):
        active_user(store, user)
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


def confirmation(store, network_id: str) -> dict | None:
    """The decision that confirmed this network (these members), or None."""
    return next(
        store.query(
            "SELECT * FROM network_decisions WHERE network_id = ? AND action = 'confirm' ORDER BY id DESC LIMIT 1",
            [network_id],
        ),
        None,
    )


def about_network(store, network_id: str) -> list[dict]:
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
