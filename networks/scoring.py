"""How much each kind of link counts, and when two sellers are one network.

Each shared item links a pair of sellers with the weight of its kind. A pair's score combines its links as
independent leads, 1 - prod(1 - weight), so two weak leads add up but never past 1. A pair is joined when its
score is at least THRESHOLD, and a network is a connected component over joined pairs. With these numbers one
shared contact or one copied description joins a pair; one shared photo does not (0.5), two photos do (0.75),
as do a photo and a look-alike name on another marketplace (0.7); a name alone never does (0.4).

An item that STOCK_SELLERS[kind] or more sellers use is stock (a manufacturer's photo, a postage template, a
courier's phone number) and links no one: the more sellers share something, the less it says about any two of
them. Contacts get a higher limit than photos and text, because unrelated sellers rarely write the same number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from networks.ids import network_id
from networks.model import Link, Network

WEIGHTS = {
    "phone": 0.9,
    "email": 0.9,
    "handle": 0.9,
    "domain": 0.8,
    "description": 0.75,
    "photo": 0.5,
    "name": 0.4,
}
THRESHOLD = 0.7
STOCK_SELLERS = {
    "phone": 8,
    "email": 8,
    "handle": 8,
    "domain": 8,
    "description": 4,
    "photo": 4,
}
_EPSILON = 1e-9  # 1 - 0.5 * 0.6 is 0.69999... in floating point


def pair_scores(links: Iterable[Link]) -> dict[tuple[str, str], float]:
    remaining: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
    for link in links:
        remaining[(link.a, link.b)] *= 1 - link.weight
    return {pair: round(1 - rest, 6) for pair, rest in remaining.items()}


def joined(score: float) -> bool:
    return score + _EPSILON >= THRESHOLD


def build_networks(links: list[Link], listings_of: dict[str, list[str]]) -> list[Network]:
    """Networks of two or more sellers over `links` (rejected links already left out), largest first."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for (a, b), score in pair_scores(links).items():
        if joined(score):
            parent[root(a)] = root(b)
    members: dict[str, list[str]] = defaultdict(list)
    for key in list(parent):
        members[root(key)].append(key)
    network_of: dict[str, Network] = {}
    networks = []
    for group in members.values():
        if len(group) < 2:
            continue
        sellers = sorted(group)
        network = Network(
            network_id(sellers), sellers, listings=sorted(x for s in sellers for x in listings_of.get(s, ()))
        )
        networks.append(network)
        for seller in sellers:
            network_of[seller] = network
    for link in links:
        found = network_of.get(link.a)
        if found is not None and network_of.get(link.b) is found:
            found.links.append(link)
    networks.sort(key=lambda n: (-len(n.sellers), n.id))
    return networks
