"""A listing's screenshot as the notice PDF shows it: the top of the page, scaled, beside the listing's details.

The pack holds the whole screenshot; the letter shows its top, where the title, photo and price are, so that a
page several screens long does not take pages of the letter. The PNG is one keywatch's browser made, read all the
same within Pillow's decompression-bomb limit.
"""

import io

from PIL import Image as PILImage
from reportlab.platypus import Image

DEFAULT_PIXEL_LIMIT = 89_478_485  # Pillow's own, should the process have switched it off


def screenshot_top(png: bytes | None, width: float, max_height: float):
    """The top of the screenshot `png`, `width` points wide and at most `max_height` tall, as a reportlab flowable;
    None when the bytes are no readable image."""
    if not png:
        return None
    try:
        with PILImage.open(io.BytesIO(png)) as image:
            if image.width * image.height > (PILImage.MAX_IMAGE_PIXELS or DEFAULT_PIXEL_LIMIT):
                return None
            top = image.crop((0, 0, image.width, min(image.height, int(image.width * max_height / width))))
            out = io.BytesIO()
            top.convert("RGB").save(out, format="PNG")
            shown_width, shown_height = top.size
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
        return None
    out.seek(0)
    return Image(out, width=width, height=width * shown_height / shown_width)
