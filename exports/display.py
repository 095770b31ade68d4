"""Seller-written text as a notice shows it, in the HTML and the PDF alike.

A reader of the letter must see what the seller wrote, not what it makes the page do: characters that
reorder or hide the text around them (bidi embeddings, overrides and isolates) and control characters are
shown as their code point, like `[U+202E]`, and text longer than a field's room is cut with a visible mark.
listings.json and listings.csv keep the exact text.
"""

import unicodedata

# Obeyed, these turn "\u202egnp.exe" into "exe.png" and can reorder a whole table row.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line breaks inside one field: a notice cell is one paragraph.
_BREAKS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")

CUT_MARK = "… [{n:,} characters cut{where}]"


def _visible(char: str) -> str:
    if char in _BREAKS:
        return " "
    if char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc":
        return f"[U+{ord(char):04X}]"
    return char


def visible(text) -> str:
    """`text` on one line with bidi and control characters shown as [U+XXXX] (safe for a terminal, too)."""
    return "".join(map(_visible, "" if text is None else str(text)))


def shown(text, limit: int, full_text_in: str | None = "listings.json") -> str:
    """`text` as the letter shows it: controls visible, at most `limit` characters of it, then a cut mark
    that says where the full text is (`full_text_in`: a file of the pack; None: nowhere to point at).

    The limit counts what is shown (a control shown as [U+202E] counts eight), and a cut never splits one.
    """
    text = "" if text is None else str(text)
    out, used = [], 0
    for consumed, char in enumerate(text):
        piece = _visible(char)
        if used + len(piece) > limit:
            return "".join(out) + CUT_MARK.format(
                n=len(text) - consumed, where=f"; full text in {full_text_in}" if full_text_in else ""
            )
        out.append(piece)
        used += len(piece)
    return "".join(out)
