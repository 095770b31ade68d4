"""Building networks.Page / networks.Photo records in tests without a store."""

import itertools

from networks import Page, Photo, Source

_ids = itertools.count(1)


def source(seller: str, marketplace: str = "demo", *, at: str = "2026-11-01T00:00:00.000000Z") -> Source:
    n = next(_ids)
    return Source(marketplace, seller, f"L{n}", n, n, at, f"https://{marketplace}.example/item/{n}")


def page(seller: str, description: str = "", *, marketplace: str = "demo", profile: str = "", at=None) -> Page:
    kwargs = {"at": at} if at else {}
    return Page(
        source(seller, marketplace, **kwargs), title="A listing", description=description, seller_profile=profile
    )


def photo(seller: str, dhash: int, phash: int, *, marketplace: str = "demo", at=None) -> Photo:
    kwargs = {"at": at} if at else {}
    return Photo(source(seller, marketplace, **kwargs), f"{dhash:064x}", phash, dhash)
