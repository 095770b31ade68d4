"""Stored text on an officer's terminal: sellers write it, so its control characters are shown, never obeyed.

A title can carry escape sequences (OSC to retitle the window or forge a hyperlink, CSI to clear the screen or
hide text, their one-byte C1 forms), bidi overrides that make `\\u202egnp.exe` read "exe.png", zero-width
characters, and line breaks that forge output lines. Every human-readable output of stored text goes through
`printable`; machine outputs keep the text exact (`json_text` escapes the same characters as JSON \\u escapes).
"""

import json
import re
import unicodedata

# Python's "not printable" is the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs; spaces (Zs: no-break space,
# ideographic space...) are harmless and common in scraped text, so they stay.
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NOT_ASCII_PRINTABLE = re.compile(r"[^\x20-\x7e]")
_DEL_OR_NOT_ASCII = re.compile(r"[^\x00-\x7e]")


def _unsafe(ch: str) -> bool:
    return not ch.isprintable() and unicodedata.category(ch) != "Zs"


def _escaped(ch: str) -> str:
    code = ord(ch)
    if ch in _SHORT:
        return _SHORT[ch]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text) -> str:
    """`text` (None: empty) with every control, format and line-separator character written as a Python-style
    escape (`\\x1b`, `\\u202e`), so it shows on one line exactly as stored and does nothing to the terminal."""
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    return _NOT_ASCII_PRINTABLE.sub(lambda m: _escaped(m[0]) if _unsafe(m[0]) else m[0], text)


def printable_lines(text: str) -> str:
    """`printable` for a document of several lines (a report on stdout): its own line breaks stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _json_escape(match) -> str:
    ch = match[0]
    if not _unsafe(ch):
        return ch
    # Characters beyond the BMP are written as a UTF-16 surrogate pair, as JSON requires.
    encoded = ch.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(encoded[i : i + 2], 'big'):04x}" for i in range(0, len(encoded), 2))


def json_text(value, **options) -> str:
    """json.dumps with letters kept readable (ensure_ascii=False) and every character `printable` would escape
    written as a \\u escape: the same data for any JSON reader, and nothing a terminal acts on."""
    # Outside strings JSON is plain ASCII (its line breaks are indentation), and inside them json.dumps has
    # already escaped quotes, backslashes and C0 controls: DEL and non-ASCII are all that can still be raw.
    return _DEL_OR_NOT_ASCII.sub(_json_escape, json.dumps(value, ensure_ascii=False, **options))
