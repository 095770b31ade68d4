"""The demo catalogue as link finding sees it after a crawl, without crawling: each listing's page text and the
hashes of its photos (computed as spiders/photos.py does)."""

import functools
import io

import imagehash
from PIL import Image

from demo_market.catalogue import load_catalogue
from demo_market.photos import photo_names, photo_png
from demo_market.sellers import SELLER_PROFILES
from networks import Page, Photo, Source


@functools.cache
def hashes(name: str) -> tuple[int, int]:
    image = Image.open(io.BytesIO(photo_png(name)))
    return int(str(imagehash.dhash(image)), 16), int(str(imagehash.phash(image)), 16)


def demo_records() -> tuple[list[Page], list[Photo]]:
    pages, photos = [], []
    for n, row in enumerate(load_catalogue()):
        source = Source("demo", row["seller"], row["id"], n, n, row["listed"])
        pages.append(Page(source, row["title"], row["description"], SELLER_PROFILES.get(row["seller"], "")))
        for name in photo_names(row):
            dhash, phash = hashes(name)
            photos.append(Photo(source, name, phash, dhash))
    return pages, photos
