"""Listing photos are hostile input: only images the server called images, whose bytes are images, that decode
whole within Pillow's pixel limit, are kept; their perceptual hashes find the same picture re-encoded."""

import io
import struct
import zlib

import imagehash
import pytest
from PIL import Image

from common.images import image_type
from spiders.photos import BadPhoto, inspect_photo
from tests.support.media import png


def jpeg(data: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, format="JPEG", quality=70)
    return out.getvalue()


def bomb(width=60_000, height=60_000) -> bytes:
    """A PNG of a few hundred bytes whose header declares width x height pixels."""
    raw = zlib.compress(b"\x00" * 64)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_a_photo_is_kept_with_its_size_and_perceptual_hashes():
    photo = inspect_photo(png(size=(64, 48)), "image/png; charset=binary")
    assert (photo.content_type, photo.width, photo.height) == ("image/png", 64, 48)
    assert len(photo.phash) == len(photo.dhash) == 16 and int(photo.phash, 16) >= 0


def test_the_same_picture_re_encoded_has_other_bytes_but_a_near_hash():
    original = png((200, 40, 40), (256, 192))
    copy = jpeg(original)
    a, b = inspect_photo(original, "image/png"), inspect_photo(copy, "image/jpeg")
    assert original != copy and b.content_type == "image/jpeg"
    assert imagehash.hex_to_hash(a.phash) - imagehash.hex_to_hash(b.phash) <= 4


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (png(), "text/html", "content_type"),
        (png(), None, "content_type"),
        (b"<html><script>alert(1)</script></html>", "image/png", "not_an_image"),
        (png()[:60], "image/png", "undecodable"),
        (bomb(), "image/png", "too_many_pixels"),
        (bomb(9_500, 9_500), "image/png", "too_many_pixels"),  # between Pillow's limit and twice it: a warning
    ],
)
def test_a_bad_photo_is_refused_with_a_reason(body, content_type, reason):
    with pytest.raises(BadPhoto) as refused:
        inspect_photo(body, content_type)
    assert refused.value.reason == reason


def test_image_types_are_read_from_the_magic_bytes():
    assert image_type(png()) == ("image/png", "png")
    assert image_type(jpeg(png())) == ("image/jpeg", "jpg")
    assert image_type(b"GIF89a" + bytes(10)) == ("image/gif", "gif")
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert image_type(b"") is None
