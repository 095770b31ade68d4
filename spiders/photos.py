"""A downloaded listing photo, checked as the hostile input it is, and its perceptual hashes.

A photo is kept only when the server called it an image, its first bytes say it is a PNG, JPEG, GIF or WebP, and
Pillow decodes all of it within Pillow's pixel limit (Image.MAX_IMAGE_PIXELS, about 89 million: decompression bombs,
small files that inflate to gigabytes, are refused; Pillow's warning below twice that limit counts as refusal too).
The download itself is capped by KEYWATCH_PHOTO_MAX_BYTES (spiders/pipelines/photos.py).
pHash and dHash (imagehash, 64 bits each, as 16 hex digits) are recorded so that the same picture re-used by
other sellers can be found even after resizing or re-encoding. Anything else is a BadPhoto naming why.
"""

import io
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image

from common.images import image_type


class BadPhoto(ValueError):
    """Why a download is not kept as a photo: `reason` is a short word for the stats, the message says more."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Photo:
    content_type: str  # from the magic bytes
    width: int
    height: int
    phash: str
    dhash: str

    def fields(self) -> dict:
        """What is kept with the photo's capture."""
        return {
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "phash": self.phash,
            "dhash": self.dhash,
        }


def inspect_photo(body: bytes, declared_type: str | None) -> Photo:
    """The photo in `body`, served as `declared_type`; BadPhoto when it is not one keywatch keeps."""
    declared = (declared_type or "").split(";")[0].strip().lower()
    if not declared.startswith("image/"):
        raise BadPhoto("content_type", f"served as {declared or 'no content type'!r}, not as an image")
    found = image_type(body)
    if found is None:
        raise BadPhoto("not_an_image", f"served as {declared}, but its bytes are no PNG, JPEG, GIF or WebP image")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: here every bomb is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as image:
                width, height = image.size
                image.load()  # decodes every pixel: a truncated or corrupt file fails here, not later
                return Photo(found[0], width, height, str(imagehash.phash(image)), str(imagehash.dhash(image)))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadPhoto("too_many_pixels", f"too many pixels for a photo ({error})") from None
    except (OSError, ValueError, SyntaxError) as error:  # Pillow's ways of saying the file is broken
        raise BadPhoto("undecodable", f"cannot be decoded as {found[1].upper()} ({error})") from None
