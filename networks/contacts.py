"""Contacts written into seller text: phone numbers, e-mail addresses, messenger handles, web-shop domains.

Sellers who want to be reached off the marketplace disguise contacts so the marketplace's filters miss them:
"zero seven seven double oh...", digits spaced out or written as emoji keycaps (7️⃣) or fullwidth (０７),
"name (at) mail dot com", "t.me/name". `reveal()` undoes the usual disguises, then each finder reads the
plain text. Every contact is returned normalised (a phone number in E.164), so the same number written three
ways is one item.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers

DEFAULT_REGION = "GB"  # a number written without its country code is read as a UK number

NUMBER_WORDS = {
    "zero": "0", "oh": "0", "nought": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
REPEATS = {"double": 2, "triple": 3}
# A run of at least this many spelled digits is a number someone did not want filtered ("seven pounds" is not).
MIN_SPELLED_DIGITS = 6
_WORD = re.compile(r"[a-z]+|\d", re.IGNORECASE)
_SPELLED_RUN = re.compile(
    r"\b(?:(?:" + "|".join(list(NUMBER_WORDS) + list(REPEATS)) + r"|\d)[\s,.\-]*){" + str(MIN_SPELLED_DIGITS) + r",}",
    re.IGNORECASE,
)
_KEYCAP = re.compile("[\ufe0f\u20e3]")  # 7️⃣ is "7" + variation selector + combining keycap

# Digits with at most a few separators between them, optionally led by + or 00: 10 to 15 digits in all.
_PHONE_RUN = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ \t.\-/()]{0,3}\d){8,16}(?!\w)")
_TRUNK_ZERO = re.compile(r"\(0\)")  # "+44 (0)7700 ..." writes the trunk zero it does not dial

_EMAIL = re.compile(
    r"(?<![\w.+-])([a-z0-9][a-z0-9._+-]{0,63})\s*(?:@|[(\[{]\s*at\s*[)\]}]|\s+at\s+)\s*"
    r"((?:[a-z0-9-]{1,63}\s*(?:\.|[(\[{]\s*dot\s*[)\]}]|\s+dot\s+)\s*)+[a-z]{2,12})\b",
    re.IGNORECASE,
)
_DOT = re.compile(r"\s*(?:\.|[(\[{]\s*dot\s*[)\]}]|\s+dot\s+)\s*", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"\s*(?:[(\[{]\s*dot\s*[)\]}]|\s+dot\s+)\s*", re.IGNORECASE)

# Messenger links and handles. wa.me and signal.me links carry phone numbers (found as phones as well).
_MESSENGER_LINK = re.compile(
    r"\b(?:https?://)?(?:www\.)?(t\.me|telegram\.me|telegram\.dog|wa\.me|signal\.me)/(?:#p/)?\+?([a-z0-9_.]{3,40})",
    re.IGNORECASE,
)
_MESSENGER_HANDLE = re.compile(
    r"\b(telegram|tele|tg|signal|whatsapp|whats app|wa)\b\s*(?:me|us|handle|id|username)?\s*[:\-=]?\s*(?:at\s+)?@"
    r"([a-z][a-z0-9_.]{3,31})",
    re.IGNORECASE,
)
MESSENGERS = {
    "t.me": "telegram", "telegram.me": "telegram", "telegram.dog": "telegram", "tele": "telegram",
    "tg": "telegram", "telegram": "telegram", "wa.me": "whatsapp", "whatsapp": "whatsapp", "whats app": "whatsapp",
    "wa": "whatsapp", "signal.me": "signal", "signal": "signal",
}  # fmt: skip

# Web-shop domains: a URL, or a bare name under a TLD shops use. Only the registrable part is kept.
TLDS = (
    "com", "net", "org", "uk", "shop", "store", "online", "site", "io", "biz", "info", "xyz", "eu", "de", "fr", "nl",
    "cn", "hk", "ru", "co", "top", "app",
)  # fmt: skip
SECOND_LEVEL = {"co.uk", "org.uk", "ltd.uk", "me.uk", "com.cn", "com.hk", "com.au", "co.nz", "com.de"}
_DOMAIN = re.compile(
    r"(?<![\w@.-])(?:https?://)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + "|".join(TLDS) + r"))"
    r"(?![\w-])(?!\.\w)",
    re.IGNORECASE,
)
# Domains everyone writes (marketplaces, big platforms, messengers): sharing them says nothing about a seller.
COMMON_DOMAINS = {
    "ebay.co.uk", "ebay.com", "amazon.co.uk", "amazon.com", "gumtree.com", "aliexpress.com", "dhgate.com",
    "google.com", "youtube.com", "facebook.com", "instagram.com", "tiktok.com", "paypal.com", "t.me",
    "telegram.me", "wa.me", "whatsapp.com", "signal.me", "royalmail.com", "gmail.com", "outlook.com",
    "hotmail.com", "hotmail.co.uk", "yahoo.com", "yahoo.co.uk", "icloud.com", "protonmail.com", "proton.me",
}  # fmt: skip


@dataclass(frozen=True)
class Contact:
    kind: str  # phone | email | handle | domain
    value: str  # normalised: +447700900123, name@mail.com, telegram:name, shop.co.uk
    text: str  # as written (after reveal())


def reveal(text: str) -> str:
    """The text with the usual disguises undone: compatibility forms (fullwidth, circled, mathematical digits),
    emoji keycaps, spelled-out digit runs ("zero seven seven double oh")."""
    text = _KEYCAP.sub("", unicodedata.normalize("NFKC", text or ""))
    return _SPELLED_RUN.sub(lambda m: _spelled_digits(m.group(0)), text)


def _spelled_digits(run: str) -> str:
    if not any(c.isalpha() for c in run):
        return run  # plain digits: left as written, so the evidence quotes them as the seller did
    digits, repeat = [], 1
    for word in _WORD.findall(run.lower()):
        if word in REPEATS:
            repeat = REPEATS[word]
            continue
        digit = word if word.isdigit() else NUMBER_WORDS.get(word)
        if digit is None:
            continue
        digits.append(digit * repeat)
        repeat = 1
    return " " + "".join(digits) + " "


def phones(text: str) -> Iterator[Contact]:
    for match in _PHONE_RUN.finditer(_TRUNK_ZERO.sub("", text)):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if raw.startswith("00"):
            written = "+" + digits[2:]
        elif raw.startswith("+"):
            written = "+" + digits
        else:
            written = digits
        if not 10 <= len(digits) <= 15:
            continue
        try:
            number = phonenumbers.parse(written, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            continue
        # Possible, not valid: reserved ranges (Ofcom's drama numbers) are what a fiction or a test uses.
        if phonenumbers.is_possible_number(number):
            yield Contact("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), raw)


def emails(text: str) -> Iterator[Contact]:
    for match in _EMAIL.finditer(text):
        local, domain = match.group(1).lower(), ".".join(_DOT.split(match.group(2).lower()))
        if local.endswith(".") or "." not in domain:
            continue
        yield Contact("email", f"{local}@{domain}", match.group(0))


def handles(text: str) -> Iterator[Contact]:
    for match in _MESSENGER_LINK.finditer(text):
        service, name = MESSENGERS[match.group(1).lower()], match.group(2).lower().rstrip(".")
        if service == "telegram":
            yield Contact("handle", f"telegram:{name}", match.group(0))
    for match in _MESSENGER_HANDLE.finditer(text):
        service = MESSENGERS[" ".join(match.group(1).lower().split())]
        yield Contact("handle", f"{service}:{match.group(2).lower().rstrip('.')}", match.group(0))


def registrable(host: str) -> str:
    labels = host.lower().strip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def domains(text: str) -> Iterator[Contact]:
    for match in _DOMAIN.finditer(text):
        domain = registrable(match.group(1))
        if domain in COMMON_DOMAINS or domain.count(".") == 0:
            continue
        yield Contact("domain", domain, match.group(0))


_TLD_AFTER_DOT = re.compile(r"\.\s*(?:" + "|".join(TLDS) + r")\b")
# Cheap tests that say whether a finder could find anything (most text holds no contact), on the lower-cased text.
_HINTS: dict[str, Callable[[str], object]] = {
    "phones": re.compile(r"\d[\d\s.\-/()+]{8,}\d").search,  # a run long enough to hold 10 digits
    "emails": lambda low: "@" in low or re.search(r"[\s(\[{]at[\s)\]}]", low) is not None,
    "handles": lambda low: "@" in low or any(link in low for link in ("t.me/", "telegram.", "wa.me/", "signal.me/")),
    "domains": lambda low: " dot " in low or "(dot)" in low or "[dot]" in low or _TLD_AFTER_DOT.search(low) is not None,
}
_NOT_LETTERS = str.maketrans({c: " " for c in ",.;:-_/()[]{}!?'\"0123456789"})


def _spelled_hint(low: str) -> bool:
    return not NUMBER_WORDS.keys().isdisjoint(low.translate(_NOT_LETTERS).split())


def contacts(text: str) -> list[Contact]:
    """Every contact in `text` (disguises undone), each value once, in the order found."""
    plain = _KEYCAP.sub("", unicodedata.normalize("NFKC", text or ""))
    if _spelled_hint(plain.lower()):
        plain = reveal(plain)
    low = plain.lower()
    found: dict[tuple[str, str], Contact] = {}
    for name, finder in (("phones", phones), ("emails", emails), ("handles", handles)):
        if _HINTS[name](low):
            for contact in finder(plain):
                found.setdefault((contact.kind, contact.value), contact)
    if _HINTS["domains"](low):
        # "shop dot co dot uk": the spelled dots only (a literal ". " ends a sentence, it does not join a domain).
        for contact in domains(_SPELLED_DOT.sub(".", plain)):
            found.setdefault((contact.kind, contact.value), contact)
    return list(found.values())
