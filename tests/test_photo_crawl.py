"""A real crawl whose listing shows hostile photos: each bad one is counted with its reason, the good one is kept
with its perceptual hashes, and the listing is stored all the same."""

import json
import struct
import zlib

import db
from tests.support.cli import run_keywatch
from tests.support.media import png

GOOD = png((200, 40, 40), (120, 90))


def bomb_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")
    )


def product(images) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Keyless relay box",
        "image": images,
        "offers": {"@type": "Offer", "price": "199.00", "priceCurrency": "GBP"},
    }
    return f'<html><head><script type="application/ld+json">{json.dumps(data)}</script></head><body></body></html>'


def test_bad_photos_are_counted_and_the_crawl_goes_on(shop, tmp_path):
    shop.pages.update(
        {
            "/": '<html><body><a href="/products/relay">Relay</a></body></html>',
            "/products/relay": product(
                [
                    "/img/good.png",
                    "/img/page.png",  # a web page served as a photo
                    "/img/bomb.png",  # a decompression bomb
                    "/img/big.png",  # more than KEYWATCH_PHOTO_MAX_BYTES
                    "/img/text.png",  # not even called an image
                    "/img/missing.png",  # 404
                    "http://10.0.0.1/internal.png",  # off the shop's host: never requested
                ]
            ),
            "/img/good.png": ("image/png", GOOD),
            "/img/page.png": ("image/png", b"<html><script>alert(1)</script></html>"),
            "/img/bomb.png": ("image/png", bomb_png()),
            "/img/big.png": ("image/png", png(size=(900, 900)) + bytes(20_000)),
            "/img/text.png": ("text/html", GOOD),
        }
    )
    db_path = tmp_path / "photos.sqlite"
    proc = run_keywatch(
        "crawl", "webshop", "-a", f"start_url={shop.url}/", "--db", db_path,
        "-s", "LOG_LEVEL=WARNING", "-s", "KEYWATCH_PHOTO_MAX_BYTES=15000",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
    )  # fmt: skip
    assert "photos:           1 kept" in proc.stdout and "6 rejected" in proc.stdout
    with db.read_only(db_path) as store:
        stats = json.loads(next(store.query("SELECT stats FROM crawl_runs"))["stats"])
        rejected = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("keywatch/photos/rejected/")}
        assert rejected == {
            "not_an_image": 1,
            "too_many_pixels": 1,
            "too_large": 1,
            "content_type": 1,
            "http_status": 1,
            "off_host": 1,
        }
        photos = list(store.query("SELECT url, fields FROM captures WHERE purpose = 'attachment:photo'"))
        assert [p["url"] for p in photos] == [f"{shop.url}/img/good.png"]
        fields = json.loads(photos[0]["fields"])
        assert (fields["width"], fields["height"], len(fields["phash"]), len(fields["dhash"])) == (120, 90, 16, 16)
        assert db.hits(store) and db.verify(store).ok
