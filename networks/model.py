"""What link finding reads (pages and photos as they were captured) and what it gives back (links, networks)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from networks.ids import link_id


@dataclass(frozen=True)
class Source:
    """Where something was seen: one capture of one listing of one seller, taken from what was fetched."""

    marketplace: str
    seller: str
    listing_id: str
    listing_pk: int
    capture_id: int
    fetched_at: str  # UTC ISO 8601, so strings sort in time order
    url: str | None = None

    @property
    def seller_key(self) -> str:
        return f"{self.marketplace}:{self.seller}"

    @property
    def listing_key(self) -> str:
        return f"{self.marketplace}:{self.listing_id}"


@dataclass(frozen=True)
class Page:
    """The seller-written text of one page capture."""

    source: Source
    title: str = ""
    description: str = ""
    seller_profile: str = ""

    def fields(self) -> dict[str, str]:
        return {"title": self.title, "description": self.description, "seller_profile": self.seller_profile}


@dataclass(frozen=True)
class Photo:
    """One photo capture and its 64-bit perceptual hashes (imagehash's hex strings, as db/media.py keeps them)."""

    source: Source
    sha256: str
    phash: int
    dhash: int


@dataclass(frozen=True)
class Occurrence:
    """One seller's earliest use of a shared item: the evidence a link cites."""

    seller: str
    listing: str
    listing_pk: int
    capture_id: int
    fetched_at: str
    field: str
    text: str
    url: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Link:
    """Two sellers share one item (a phone number, a photo, a description...). `a` < `b` (seller keys)."""

    kind: str
    a: str
    b: str
    item: str  # the shared item, normalised: "+447700900123", "phash:e8c3976c72326897", ...
    item_hash: str
    weight: float
    occurrences: tuple[Occurrence, Occurrence]  # a's and b's earliest use
    origin: Occurrence  # the earliest use by any seller (maybe neither a nor b): who wrote it first, and where

    @property
    def id(self) -> str:
        """Stable across recomputes while the item is the same: rejections are recorded against it."""
        return link_id(self.kind, self.a, self.b, self.item_hash)

    @property
    def first(self) -> Occurrence:
        """Who wrote (or showed) the shared item first, and where."""
        return self.origin

    def evidence(self) -> dict:
        return {
            "item": self.item,
            "first": self.first.to_dict(),
            "occurrences": [o.to_dict() for o in self.occurrences],
        }


@dataclass
class Network:
    """A connected component of sellers over links at or above the threshold."""

    id: str
    sellers: list[str]
    links: list[Link] = field(default_factory=list)  # every link between two members, strong or not
    listings: list[str] = field(default_factory=list)

    @property
    def marketplaces(self) -> list[str]:
        return sorted({key.partition(":")[0] for key in self.sellers})
