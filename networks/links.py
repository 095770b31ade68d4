"""Finding the links between sellers: every shared contact, photo, description and look-alike name, each with the
earliest use of the shared item by each seller (who wrote it first, and where)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from networks import photos as photo_index
from networks import texts
from networks.contacts import contacts
from networks.ids import item_hash
from networks.model import Link, Occurrence, Page, Photo, Source
from networks.names import name_pairs
from networks.scoring import STOCK_SELLERS, WEIGHTS

EVIDENCE_TEXT = 200  # characters of the page text kept as a link's evidence


@dataclass
class Found:
    links: list[Link]
    listings_of: dict[str, list[str]]  # seller key -> listing keys
    stock: dict[str, int] = field(default_factory=dict)  # kind -> items left out as stock or boilerplate


def _occurrence(source: Source, field_name: str, text: str) -> Occurrence:
    return Occurrence(
        seller=source.seller_key,
        listing=source.listing_key,
        listing_pk=source.listing_pk,
        capture_id=source.capture_id,
        fetched_at=source.fetched_at,
        field=field_name,
        text=text[:EVIDENCE_TEXT],
        url=source.url,
    )


def _when(occurrence: Occurrence) -> tuple[str, int]:
    return occurrence.fetched_at, occurrence.capture_id


def _earlier(a: Occurrence | None, b: Occurrence) -> Occurrence:
    return b if a is None or _when(b) < _when(a) else a


class _Items:
    """(kind, item) -> {seller: earliest occurrence}."""

    def __init__(self) -> None:
        self.uses: dict[tuple[str, str], dict[str, Occurrence]] = defaultdict(dict)

    def add(self, kind: str, item: str, occurrence: Occurrence) -> None:
        uses = self.uses[(kind, item)]
        uses[occurrence.seller] = _earlier(uses.get(occurrence.seller), occurrence)

    def links(self, stock: dict[str, int]) -> list[Link]:
        out = []
        for (kind, item), uses in self.uses.items():
            if len(uses) < 2:
                continue
            if len(uses) >= STOCK_SELLERS[kind]:
                stock[kind] = stock.get(kind, 0) + 1
                continue
            hashed = item_hash(kind, item)
            origin = min(uses.values(), key=_when)
            sellers = sorted(uses)
            for i, a in enumerate(sellers):
                for b in sellers[i + 1 :]:
                    out.append(Link(kind, a, b, item, hashed, WEIGHTS[kind], (uses[a], uses[b]), origin))
        return out


def _contacts(pages: list[Page], items: _Items) -> None:
    read: dict[str, list] = {}  # the same text on many pages (a seller's profile, a reused description) is read once
    for page in pages:
        for field_name, text in page.fields().items():
            if not text:
                continue
            if text not in read:
                read[text] = contacts(text)
            for contact in read[text]:
                items.add(contact.kind, contact.value, _occurrence(page.source, field_name, contact.text))


def _descriptions(pages: list[Page], items: _Items) -> None:
    docs: dict[str, tuple[set[str], set[str]]] = {}
    first_use: dict[tuple[str, str], Occurrence] = {}
    read: dict[str, tuple[str, set[str]]] = {}
    for page in pages:
        if not page.description:
            continue
        if page.description not in read:
            read[page.description] = texts.read(page.description)
        key, shingle_set = read[page.description]
        if key not in docs:
            docs[key] = (shingle_set, set())
        docs[key][1].add(page.source.seller_key)
        seller = page.source.seller_key
        occurrence = _occurrence(page.source, "description", page.description)
        first_use[(key, seller)] = _earlier(first_use.get((key, seller)), occurrence)
    for group in texts.similar_groups(docs, STOCK_SELLERS["description"]):
        item = "text:" + group[0]
        for key in group:
            for seller in docs[key][1]:
                items.add("description", item, first_use[(key, seller)])


def _photos(photos: list[Photo], items: _Items) -> None:
    distinct: dict[tuple[int, int], list[Photo]] = defaultdict(list)
    for photo in photos:
        distinct[(photo.dhash, photo.phash)].append(photo)
    keys = list(distinct)
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in photo_index.near_pairs(keys):
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        groups[root(i)].append(i)
    for members in groups.values():
        dhash, phash = min(keys[i] for i in members)
        item = f"photo:{dhash:016x}{phash:016x}"
        for i in members:
            for photo in distinct[keys[i]]:
                text = f"dHash {photo.dhash:016x}, pHash {photo.phash:016x}, SHA-256 {photo.sha256}"
                items.add("photo", item, _occurrence(photo.source, "photo", text))


def _names(pages: list[Page]) -> list[Link]:
    first_seen: dict[str, Occurrence] = {}
    for page in pages:
        seller = page.source.seller_key
        first_seen[seller] = _earlier(first_seen.get(seller), _occurrence(page.source, "seller", page.source.seller))
    out = []
    for a, b, folded in name_pairs(sorted(first_seen)):
        pair = (first_seen[a], first_seen[b])
        out.append(Link("name", a, b, folded, item_hash("name", folded), WEIGHTS["name"], pair, min(pair, key=_when)))
    return out


def find_links(pages: Iterable[Page], photos: Iterable[Photo] = ()) -> Found:
    """Every link between two sellers in `pages` (one entry per page capture, any number per listing) and
    `photos`. Pages and photos without a seller are left out: they cannot link anyone."""
    pages = [p for p in pages if p.source.seller]
    photos = [p for p in photos if p.source.seller]
    items = _Items()
    _contacts(pages, items)
    _descriptions(pages, items)
    _photos(photos, items)
    stock: dict[str, int] = {}
    links = items.links(stock) + _names(pages)
    links.sort(key=lambda link: (link.a, link.b, link.kind, link.item))
    listings_of: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        listings_of[page.source.seller_key].add(page.source.listing_key)
    return Found(links, {seller: sorted(keys) for seller, keys in listings_of.items()}, stock)
