"""Product photos for the demo marketplace: PNGs drawn with Pillow on first request, served under /img/<name>.png.

A listing shows two photos named after what it sells (its device category, else its department) and a number, so
listings of the same kind by different sellers show the same pictures, as copied product photos do on real
marketplaces. Every fifth listing shows its second photo as a watermarked copy (`-wm`): other bytes, other
SHA-256, nearly the same perceptual hash. `photo_names(row)` says which; a catalogue row may name its own
(`"photos": [...]`).

Those product pictures stand for a manufacturer's stock photos: each is shown by several sellers, so they link no
one. A seller's own photos are named `own-<tag>-<n>`: busy, detailed pictures drawn from the tag, as a seller's
snapshots are, which only the listings that name them show (the photo network in docs/demo_market.md).
"""

from __future__ import annotations

import functools
import io
import random
import re
import zlib

from PIL import Image, ImageDraw, ImageFont

from .catalogue import CATEGORIES, DEPARTMENTS

SIZE = (480, 360)
VARIANTS = 3  # pictures per kind of product
NAME = re.compile(r"^([a-z_-]+)-([1-9])(-wm)?$")
OWN = re.compile(r"^own-([a-z0-9]+)-([1-9])(-wm)?$")


def photo_names(row: dict) -> list[str]:
    """The photos a listing page shows, main photo first."""
    if row.get("photos"):
        return list(row["photos"])
    kind = row["category"] if row["category"] != "none" else row["department"]
    n = zlib.crc32(str(row.get("copy_of") or row["id"]).encode())
    first, second = 1 + n % VARIANTS, 1 + (n + 1) % VARIANTS
    return [f"{kind}-{first}", f"{kind}-{second}" + ("-wm" if n % 5 == 0 else "")]


@functools.lru_cache(maxsize=256)
def photo_png(name: str) -> bytes | None:
    """The PNG for `name` (`relay_attack-2`, `car-keys-1-wm`), or None for a name no listing uses."""
    own = OWN.match(name)
    if own:
        return _own_photo(own.group(1), int(own.group(2)), bool(own.group(3)))
    match = NAME.match(name)
    if not match or (match.group(1) not in CATEGORIES and match.group(1) not in DEPARTMENTS):
        return None
    kind, variant, watermark = match.group(1), int(match.group(2)), bool(match.group(3))
    # Drawn from the kind and variant alone, so a photo is the same bytes every time and on every machine.
    rng = random.Random(f"{kind}-{variant}")
    image = Image.new("RGB", SIZE, tuple(rng.randrange(200, 250) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    body = tuple(rng.randrange(20, 120) for _ in range(3))
    left, top = rng.randrange(60, 140), rng.randrange(80, 140)
    right, bottom = SIZE[0] - rng.randrange(60, 140), SIZE[1] - rng.randrange(60, 110)
    draw.rounded_rectangle((left, top, right, bottom), radius=18, fill=body, outline=(10, 10, 10), width=3)
    for i in range(rng.randrange(2, 6)):  # buttons or LEDs
        x = left + 25 + i * 34
        draw.ellipse((x, bottom - 45, x + 20, bottom - 25), fill=tuple(rng.randrange(120, 255) for _ in range(3)))
    for i in range(rng.randrange(0, 3)):  # antennas
        x = right - 30 - i * 40
        draw.line((x, top, x + rng.randrange(-30, 30), top - rng.randrange(40, 70)), fill=(30, 30, 30), width=5)
    font = ImageFont.load_default(size=22)
    draw.text((left + 18, top + 16), kind.replace("_", " ").replace("-", " ").upper(), fill=(255, 255, 255), font=font)
    draw.text((left + 18, top + 46), f"model {variant}", fill=(230, 230, 230), font=font)
    if watermark:
        draw.text((SIZE[0] - 150, SIZE[1] - 30), "© my-shop", fill=(90, 90, 90), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _own_photo(tag: str, variant: int, watermark: bool) -> bytes:
    """A seller's own snapshot: many overlapping shapes in many colours, so its perceptual hashes are its own."""
    rng = random.Random(f"own-{tag}-{variant}")
    image = Image.new("RGB", SIZE, tuple(rng.randrange(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(0, SIZE[0]), rng.randrange(0, SIZE[1])
        w, h = rng.randrange(20, 160), rng.randrange(20, 120)
        colour = tuple(rng.randrange(0, 255) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=colour)
    if watermark:
        draw.text(
            (SIZE[0] - 150, SIZE[1] - 30), "© my-shop", fill=(255, 255, 255), font=ImageFont.load_default(size=22)
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
