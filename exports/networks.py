"""A confirmed seller network in a pack: its target, what the manifest and network.json record, what the notice
shows. Only a confirmed network can be exported (docs/networks.md: links are leads until a reviewer confirms)."""

from __future__ import annotations

from db import networks as stored
from db import retailers
from exports.display import shown

NETWORK_FILE = "network.json"


class NetworkNotExportable(ValueError):
    """The network does not exist in the last recompute, or no reviewer confirmed it."""


def confirmed_network(store, network_id: str) -> dict:
    network = stored.get_network(store, network_id)
    if network is None:
        raise NetworkNotExportable(
            f"no network {network_id!r} in the last recompute (run `keywatch networks`; a network that gained or "
            "lost a seller has a new id)"
        )
    if network["status"] != "confirmed":
        raise NetworkNotExportable(
            f"network {network_id} is not confirmed: its links are leads until a reviewer confirms it on its page "
            "in the review desk"
        )
    return network


def recipient(store, network: dict) -> dict:
    """The operator of the network's one marketplace when known, else the operators of its marketplaces."""
    marketplaces = network["marketplaces"]
    operator = retailers.marketplace_operator(store, marketplaces[0]) if len(marketplaces) == 1 else None
    base = (
        {k: operator[k] for k in ("name", "email", "address", "reporting_url")}
        if operator
        else {"name": f"Operators of {', '.join(marketplaces)}", "email": "", "address": "", "reporting_url": ""}
    )
    return {**base, "marketplace": ", ".join(marketplaces), "seller_ids": network["sellers"]}


def manifest_entry(network: dict) -> dict:
    """What the manifest (and network.json) records: the members, who confirmed them, every link and its evidence."""
    confirmation = network["confirmation"]
    return {
        "id": network["id"],
        "sellers": network["sellers"],
        "marketplaces": network["marketplaces"],
        "confirmed": {k: confirmation[k] for k in ("id", "user", "created_at", "note")},
        "links": [
            {k: link[k] for k in ("id", "a", "b", "kind", "weight", "item", "evidence")}
            for link in network["links"]
            if not link["rejected"]
        ],
    }


def notice_section(network: dict) -> dict:
    """The network as a letter shows it: seller-written text visible and cut to its room."""
    where = NETWORK_FILE
    links = []
    for link in network["links"]:
        first = link["evidence"]["first"]
        links.append(
            {
                "kind": link["kind"],
                "a": shown(link["a"], 120, where),
                "b": shown(link["b"], 120, where),
                "item": shown(link["item"], 120, where),
                "first": f"{shown(first['seller'], 120, where)} in {shown(first['listing'], 120, where)} "
                f"({first['field']}), captured {first['fetched_at']}",
            }
        )
    return {
        "id": network["id"],
        "sellers": [shown(s, 120, where) for s in network["sellers"]],
        "confirmed_by": network["confirmed"]["user"],
        "confirmed_at": network["confirmed"]["created_at"],
        "links": links,
    }


def network_pdf(network: dict | None, heading, text) -> list[tuple[str, object]]:
    """A network's section of the PDF letter as (paragraph text, style) pairs; none for another pack."""
    if not network:
        return []
    intro = (
        f"Network {network['id']}, confirmed by {network['confirmed_by']} on {network['confirmed_at']} UTC: "
        + ", ".join(network["sellers"])
    )
    lines = [
        f"{link['kind']}: {link['a']} and {link['b']} share {link['item']}; first written by {link['first']}"
        for link in network["links"]
    ]
    return [("The seller network", heading), (intro, text), *((line, text) for line in lines)]
