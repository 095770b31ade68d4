"""What kind of image some bytes are, read from their first bytes (never from a header a server or seller chose).

Photos and screenshots are served by the review desk and written into packs under a content type and a file
extension; both come from here, so a file that is not one of these images is never labelled as one.
"""

# (content type, file extension, magic test): the formats a listing photo may have, and the screenshots' PNG.
_FORMATS = (
    ("image/png", "png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "jpg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("image/gif", "gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", "webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)


def image_type(data: bytes) -> tuple[str, str] | None:
    """(content type, file extension) of a PNG, JPEG, GIF or WebP image, by its magic bytes; None otherwise."""
    head = bytes(data[:16])
    return next(((mime, ext) for mime, ext, test in _FORMATS if test(head)), None)
