"""Stable identities: of a shared item, of a link, of a network (recomputing never renames what is unchanged)."""

import hashlib


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def item_hash(kind: str, item: str) -> str:
    return digest(kind, item)[:24]


def link_id(kind: str, a: str, b: str, shared_item_hash: str) -> str:
    """kind + the sorted seller pair + the shared item's hash: a rejected link keeps its id after a recompute."""
    first, second = sorted((a, b))
    return "L" + digest(kind, first, second, shared_item_hash)[:15]


def network_id(sellers: list[str]) -> str:
    """Named by its members: a network that gains or loses a seller is another network (and needs confirming)."""
    return "N" + digest(*sorted(sellers))[:9]
