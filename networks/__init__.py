"""Seller networks: links between seller accounts (shared contacts, photos, descriptions, look-alike names) and the
networks they form. Pure logic over what was captured: the store reads the inputs and keeps the results
(db/network_recompute.py), the CLI runs it (`keywatch networks`). docs/networks.md explains each link kind and its
limits.

    found = find_links(pages, photos)  # Page / Photo records, one per capture
    networks = build_networks([l for l in found.links if l.id not in rejected], found.listings_of)
"""

from networks.links import Found, find_links
from networks.model import Link, Network, Occurrence, Page, Photo, Source
from networks.photos import parse_hash
from networks.scoring import STOCK_SELLERS, THRESHOLD, WEIGHTS, build_networks, joined, pair_scores

__all__ = [
    "STOCK_SELLERS",
    "THRESHOLD",
    "WEIGHTS",
    "Found",
    "Link",
    "Network",
    "Occurrence",
    "Page",
    "Photo",
    "Source",
    "build_networks",
    "find_links",
    "joined",
    "pair_scores",
    "parse_hash",
]
