"""Showing text that sellers wrote (titles, names, descriptions, URLs) so that it cannot disguise itself.

A bidirectional override reorders what follows it: the seller name "invoice\u202egnp.exe" displays as
"invoiceexe.png". Invisible characters make two different names look the same. So every invisible control or
format character (Unicode categories Cc, Cf and Cs, but not tab and newline) is shown as its code point instead
of being obeyed, and each value sits in its own <bdi>, so that right-to-left text (a real Arabic or Hebrew name)
still displays correctly without reordering the page around it.
"""

from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape

_KEPT = "\t\n\r"
_HIDDEN = ("Cc", "Cf", "Cs")


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN and char not in _KEPT


def _label(char: str) -> str:
    return f"U+{ord(char):04X}"


def reveal_segment(text) -> Markup:
    """`text` escaped, with each hidden character drawn as a marked code point (for pieces of a larger text)."""
    text = "" if text is None else str(text)
    if text.isprintable():  # the usual case, checked in C: nothing to reveal
        return escape(text)
    parts, start = [], 0
    for i, char in enumerate(text):
        if _hidden(char):
            title = f"{_label(char)} {unicodedata.name(char, '')}".strip()
            parts += [
                escape(text[start:i]),
                Markup('<span class="char-code" title="{}">{}</span>').format(title, _label(char)),
            ]
            start = i + 1
    parts.append(escape(text[start:]))
    return Markup("").join(parts)


def isolate(text) -> Markup:
    """One seller-written value, revealed and isolated from the text around it."""
    return Markup(f"<bdi>{reveal_segment(text)}</bdi>")  # already escaped: no second pass through Markup.__add__


def reveal_plain(text) -> str:
    """For places that take no markup (the page's <title>): hidden characters as [U+202E]."""
    text = "" if text is None else str(text)
    return "".join(f"[{_label(c)}]" if _hidden(c) else c for c in text)
