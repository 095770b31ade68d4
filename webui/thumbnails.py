"""Small previews of stored screenshots and photos for the queue and the photo strip, made on request and cached.

The previews are not evidence (the stored bytes are; the desk links to them): PNGs scaled down with Pillow, under
its decompression-bomb limit (a stored photo passed it at crawl time, but the store is read as found). A
screenshot's preview is the top of the page, where the listing's title, photo and price are. Previews are cached
by the image's SHA-256, so a queue page of 100 rows costs the scaling once.
"""

import io
import threading
from collections import OrderedDict

from PIL import Image

WIDTH, HEIGHT = 160, 120
CACHED = 1024  # previews (a few kB each)
DEFAULT_PIXEL_LIMIT = 89_478_485  # Pillow's own, should the process have switched it off

_cache: OrderedDict[tuple[str, bool], bytes | None] = OrderedDict()
_lock = threading.Lock()


def thumbnail(sha256: str, body: bytes, top_only: bool) -> bytes | None:
    """A PNG at most WIDTH x HEIGHT of the image `body` whose SHA-256 is `sha256` (its top, scaled to WIDTH, when
    `top_only`); None when the bytes cannot be read as an image."""
    key = (sha256, top_only)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    preview = _scaled(body, top_only)
    with _lock:
        _cache[key] = preview
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return preview


def _scaled(body: bytes, top_only: bool) -> bytes | None:
    try:
        with Image.open(io.BytesIO(body)) as image:
            # Pillow refuses twice its pixel limit itself and only warns below that: warnings are process-wide
            # (not for a threaded server to change), so the limit is checked here.
            if image.width * image.height > (Image.MAX_IMAGE_PIXELS or DEFAULT_PIXEL_LIMIT):
                return None
            if top_only:
                image = image.crop((0, 0, image.width, min(image.height, image.width * HEIGHT // WIDTH)))
            image = image.convert("RGB")
            image.thumbnail((WIDTH, HEIGHT))
            out = io.BytesIO()
            image.save(out, format="PNG")
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
