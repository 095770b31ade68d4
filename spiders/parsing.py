"""Small parsing helpers shared by the site spiders: text, ids, embedded JSON, schema.org data, robot checks.

Prices are read in spiders/prices.py.
"""

import codecs
import functools
import json
import math
import re
import string
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import extruct
from lxml import etree
from parsel.csstranslator import css2xpath
from w3lib.url import canonicalize_url

from spiders.fields import Unreadable, without_controls
from spiders.prices import decimal_string


def clean(text: Any) -> str:
    """Collapse whitespace (including non-breaking spaces), drop control characters and strip; a number becomes its
    digits; a list, an object or a non-finite number is Unreadable (falsy, so fallbacks pass over it)."""
    if isinstance(text, (list, tuple, dict, bool)) or (isinstance(text, float) and not math.isfinite(text)):
        return Unreadable(text)
    if isinstance(text, (int, float)):
        text = str(text)
    return " ".join(without_controls(text).split()) if isinstance(text, str) else ""


def mapping(value: Any) -> dict:
    """`value` when it is a dict, else {}: embedded JSON changes shape without notice."""
    return value if isinstance(value, dict) else {}


def text_of(selector, drop: tuple[str, ...] = ()) -> str:
    """All text under a parsel selector, cleaned, skipping elements whose class contains one of `drop`."""
    if drop:
        condition = " or ".join(f'contains(@class, "{name}")' for name in drop)
        nodes = selector.xpath(f".//text()[not(ancestor::*[{condition}])][not(ancestor::script or ancestor::style)]")
    else:
        nodes = selector.xpath(".//text()[not(ancestor::script or ancestor::style)]")
    return clean(" ".join(nodes.getall()))


# How css2xpath writes a selector that starts with one class (`.seller-about::text`): a test of every element.
CLASS_TEST = re.compile(
    r"descendant-or-self::(\*|[a-z][a-z0-9]*)\[@class and contains\(@class, ('[^']+')\) and "
    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ('[^']+')\)\](/[^|]*)?"
)


def compiled(css: str) -> etree.XPath:
    """A CSS selector as one compiled XPath over lxml's own tree (`response.selector.root`), meaning what parsel's
    `response.css(css)` means: parsel wrapped every match of every query in an object of its own, and a page is
    read with several. Matches are plain strings (not lxml's, which keep their whole tree alive)."""
    xpath = css2xpath(css)
    test = CLASS_TEST.fullmatch(xpath)
    if test:
        # The same test asked of the class attributes, then their elements (`..`): half the cost, as libxml2 walks
        # attribute nodes more cheaply than it evaluates a predicate on each element. An element has one class.
        element, word, padded, rest = test.groups()
        xpath = (
            f"descendant-or-self::{element}/@class[contains(., {word}) and "
            f"contains(concat(' ', normalize-space(.), ' '), {padded})]/..{rest or ''}"
        )
    return etree.XPath(xpath, smart_strings=False)


def first_match(matches: list) -> str | None:
    """What parsel's `.get()` gives: the first match, or None."""
    return str(matches[0]) if matches else None


# Every item page is checked for it (spiders/reading.py), and a spider may read its listing's address from it.
CANONICAL = compiled('link[rel="canonical"]::attr(href)')


def first_of(*candidates):
    """`first` over values and zero-argument callables (selectors), calling each only while nothing was found:
    a page's markup is read only for what its structured data does not say."""
    passed = []
    for candidate in candidates:
        value = candidate() if callable(candidate) else candidate
        if value not in (None, "", [], {}):
            return value
        passed.append(value)
    return first(*passed)


def first(*values):
    """The first value that is not None or empty; if there is none, the first Unreadable one (or None)."""
    return next((value for value in values if value not in (None, "", [], {})), None) or next(
        (value for value in values if isinstance(value, Unreadable)), None
    )


def without_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # `http://[x`: no URL at all
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def query_param(url: str | None, name: str) -> str | None:
    """The first value of `name` in the query of a link a page gave (None when absent or not a URL)."""
    try:
        return first(*parse_qs(urlsplit(url or "").query).get(name, []))
    except ValueError:
        return None


# Query parameters that say how a visitor arrived, not which page it is.
TRACKING = re.compile(r"^(?:utm_.*|fbclid|gclid|msclkid|mc_[ce]id|srsltid|_ga|ref|ref_)$")


def address_id(url: str) -> str | None:
    """A page's own address as an id (path and query, without tracking parameters), for sites whose URLs carry no
    listing number: two pages of a shop at different addresses never share an id."""
    try:
        parts = urlsplit(canonicalize_url(url))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    query = "&".join(p for p in parts.query.split("&") if p and not TRACKING.match(p.split("=", 1)[0]))
    return (parts.path or "/") + (f"?{query}" if query else "")


def embedded_json(text: str, name: str) -> Any:
    """The JSON value a script assigns to `name` (`window.runParams = {...}`), or None.

    Some sites wrap the JSON in a JavaScript literal (`{ data: {...} }`, an unquoted key): then the value
    of `data` is decoded and returned as `{"data": value}`.
    """
    decoder = json.JSONDecoder()
    for match in re.finditer(re.escape(name) + r"\s*=\s*", text):
        start = match.end()
        try:
            return decoder.raw_decode(text, start)[0]
        except ValueError:
            inner = re.compile(r"\{\s*data\s*:\s*").match(text, start)
            if inner:
                try:
                    return {"data": decoder.raw_decode(text, inner.end())[0]}
                except ValueError:
                    continue
    return None


def dig(data: Any, *path: str | int) -> Any:
    """data[p0][p1]... or None when any step is missing."""
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# ---- schema.org (extruct) ------------------------------------------------------------------------


def structured_data(response) -> dict[str, list[dict]]:
    """JSON-LD, microdata and OpenGraph of a page, in extruct's uniform shape."""
    return extruct.extract(
        response.text,
        base_url=response.url,
        syntaxes=["json-ld", "microdata", "opengraph"],
        uniform=True,
        errors="ignore",
    )


def has_type(node: dict, wanted: str) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(str(t).rsplit("/", 1)[-1].lower() == wanted.lower() for t in types if t)


def find_typed(data: dict[str, list[dict]], *wanted: str) -> dict | None:
    """The first node of one of the schema.org types `wanted`, searching JSON-LD (including @graph) then microdata."""
    for syntax in ("json-ld", "microdata"):
        stack = list(data.get(syntax) or [])
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[:0] = node
            elif isinstance(node, dict):
                if any(has_type(node, kind) for kind in wanted):
                    return node
                if "@graph" in node:
                    stack[:0] = node["@graph"] if isinstance(node["@graph"], list) else [node["@graph"]]
    return None


def find_product(data: dict[str, list[dict]]) -> dict | None:
    """A page's schema.org Product, or the ProductGroup a shop with variants describes instead (Shopify)."""
    return find_typed(data, "Product", "ProductGroup")


def offers_of(product: dict) -> list[dict]:
    """A Product's offers; for a ProductGroup without offers of its own, its variants' (`hasVariant[].offers`)."""
    offers = product.get("offers")
    if not offers:
        variants = product.get("hasVariant")
        offers = [
            v.get("offers") for v in (variants if isinstance(variants, list) else [variants]) if isinstance(v, dict)
        ]
    flat = []
    for offer in offers if isinstance(offers, list) else [offers]:
        flat.extend(offer if isinstance(offer, list) else [offer])
    return [offer for offer in flat if isinstance(offer, dict)]


def offer_fields(product: dict) -> dict[str, Any]:
    """price, currency (and price_max, availability, seller) from a Product's offers: the first offer's, with the
    highest price of all as `price_max` and the first seller any offer names."""
    offers = offers_of(product)
    if not offers:
        return {}
    offer = offers[0]
    spec = offer.get("priceSpecification") or {}
    spec = spec[0] if isinstance(spec, list) and spec else spec
    spec = spec if isinstance(spec, dict) else {}
    price = first(*map(decimal_string, (offer.get("price"), offer.get("lowPrice"), spec.get("price"))))
    amounts = [decimal_string(o.get(k)) for o in offers for k in ("price", "highPrice")]
    high = max((a for a in amounts if a), key=Decimal, default=None)
    seller = next((o["seller"] for o in offers if o.get("seller")), None)
    fields = {
        "price": price,
        "currency": first(offer.get("priceCurrency"), spec.get("priceCurrency")),
        "availability": clean(offer.get("availability")).rsplit("/", 1)[-1] or None,
        "seller": clean(seller.get("name"))
        if isinstance(seller, dict)
        else (clean(seller) if isinstance(seller, str) else None),
    }
    if high and price and Decimal(high) > Decimal(price):
        fields["price_max"] = high
    return fields


def name_of(value: Any) -> str | None:
    """`brand`-like values come as a string, a dict with a name, or a list of either."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return clean(value) or None if isinstance(value, str) else None


def image_urls(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    urls = []
    for item in values:
        if isinstance(item, dict):
            item = first(item.get("contentURL"), item.get("contentUrl"), item.get("url"))
        if isinstance(item, str) and item:
            urls.append(item)
    return list(dict.fromkeys(urls))


def json_ld(response) -> list[Any]:
    """Every JSON-LD block of a page, decoded; a broken block is skipped (raw eBay HTML leaves the type unquoted)."""
    blocks = []
    for raw in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            blocks.append(json.loads(raw))
        except ValueError:
            continue
    return blocks


# ---- robot checks and captchas -------------------------------------------------------------------


class BlockedPage(ValueError):
    """The site answered with a robot check or captcha instead of the page: not an empty listing."""


# Phrases of the challenge pages themselves (Amazon's robot check, eBay's "Pardon Our Interruption", Cloudflare,
# AliExpress's slider). Only looked for in the page title and in short visible texts: a listing may quote them.
BLOCK_TITLES = (
    "robot check",
    "security measure",
    "pardon our interruption",
    "just a moment...",
    "attention required",
    "access denied",
    "captcha",
    "are you a robot",
    "verify you are human",
)
BLOCK_PHRASES = (
    "enter the characters you see below",
    "type the characters you see in this image",
    "make sure you're not a robot",
    "make sure you\u2019re not a robot",
    "to discuss automated access to amazon data",
    "verify you are a human",
    "verify you are human",
    "checking your browser before accessing",
    "checking if the site connection is secure",
    "unusual traffic from your",
    "slide to verify",
    "please slide to verify",
    "pardon our interruption",
    "the request is blocked",
)
BLOCK_URLS = (
    "/errors/validatecaptcha",
    "/splashui/captcha",
    "/splashui/challenge",
    "_____tmd_____",
    "/cdn-cgi/challenge-platform",
)
SHORT_PAGE = 5000  # visible characters; challenge pages are far below this, real listing pages far above
CAPTCHA_FORMS = "#captchacharacters, input[name=captcha], #px-captcha, .g-recaptcha, #nc_1_wrapper"


def _words(marker: str) -> tuple[str, ...]:
    """A marker's words, longest (the most telling) first."""
    return tuple(sorted(set(re.findall(r"[a-z]+", marker)), key=lambda word: (len(word), word), reverse=True))


# Every marker above holds one of these, as a word of its own: a page whose text (markup and all) holds none of
# them is no challenge page, and is not searched for one. Most pages stop here, before any selector runs.
CUES = tuple(
    sorted({_words(marker)[0] for marker in BLOCK_TITLES + BLOCK_PHRASES} | {"captcha", "challenge", "_____tmd_____"})
) + ("nc_1_wrapper",)
# Reading a page's visible text (XPath over every text node) costs more than the rest of the check together:
# it is read only when the page holds every word of some phrase.
PHRASE_WORDS = tuple(_words(phrase) for phrase in BLOCK_PHRASES)
TITLE_WORDS = tuple(_words(title) for title in BLOCK_TITLES)
CAPTCHA_FORM_CUES = ("captcha", "nc_1_wrapper")  # in every selector of CAPTCHA_FORMS
# The address markers' cues: a page holds a marker only if it holds one of these.
URL_CUES = frozenset(cue for cue in CUES if any(cue in marker for marker in BLOCK_URLS))


@functools.lru_cache(maxsize=64)
def writes_ascii_as_is(encoding: str) -> bool:
    """Whether a page in `encoding` holds each ASCII character of its text as that very byte, so that a cue in its
    lower-cased text is in its lower-cased bytes too (no cue has a letter that a non-ASCII one lower-cases to: the
    Kelvin sign's k, or the i of U+0130, which comes with a combining dot). Not so for UTF-16 and UTF-32, EBCDIC,
    or UTF-7 (letters may be written in base64)."""
    try:
        name = codecs.lookup(encoding).name
        return name != "utf-7" and string.printable.encode(name) == string.printable.encode("ascii")
    except (LookupError, UnicodeError):
        return False


# The only characters besides ASCII that lower-case to ASCII (tests/test_spider_robustness.py pins them).
LOWERS_TO_ASCII = ("\u0130", "\u212a")


def ascii_lowered(text: str) -> str:
    """What `text.lower()` holds for a search for ASCII words: the same ASCII, other characters left as they are.
    Lower-casing text that is not all ASCII (a page with a pound sign) goes character by character, several times
    the cost of lower-casing its UTF-8 bytes; only the ASCII letters matter here."""
    if text.isascii() or any(char in text for char in LOWERS_TO_ASCII):
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


def cues_in(response) -> frozenset[str]:
    """The cues the page may hold: cheap, on its bytes, for the encodings where that says it (then a cue found may
    still be a false one, in a multi-byte character: each check below looks for its words in the decoded text);
    else those in its lower-cased text."""
    if writes_ascii_as_is(response.encoding):
        # Most pages are screened out on their raw bytes, before any decoding or Unicode lower-casing. Read as
        # Latin-1, byte for character: `in` on bytes first tries each cue as an integer, and raises and clears an
        # error for each (an eighth of what the check cost).
        page = response.body.lower().decode("latin-1")
    else:
        page = ascii_lowered(response.text)
    return frozenset(filter(page.__contains__, CUES))


def blocked_reason(response) -> str | None:
    """Why `response` is a robot check rather than the page asked for, or None."""
    if not hasattr(response, "css"):
        return None
    url = response.url.lower()
    for marker in BLOCK_URLS:
        if marker in url:
            return f"challenge address {marker}"
    present = cues_in(response)
    if not present:
        return None
    page = ascii_lowered(response.text)  # only ever searched for the ASCII markers and their words
    # Only the markers whose cue (their longest word) the page holds can be in it: a page with a common cue word
    # ("security", in many car listings) is searched for one or two markers, not every one.
    # Each selector below runs only when what it looks for is in the page at all (a cue word is common).
    if present & URL_CUES and any(marker in page for marker in BLOCK_URLS):
        forms = " ".join(response.css("form::attr(action)").getall()).lower()
        for marker in BLOCK_URLS:
            if marker in forms:
                return f"challenge address {marker}"
    if any(cue in present and cue in page for cue in CAPTCHA_FORM_CUES) and response.css(CAPTCHA_FORMS):
        return "captcha form"
    # AliExpress sends its slider via a script redirect.
    if "_____tmd_____" in present and "_____tmd_____/punish" in response.text[:20000]:
        return "challenge address _____tmd_____"
    if any(all(word in page for word in words) for words in TITLE_WORDS if words[0] in present):
        title = clean(" ".join(response.css("title::text").getall())).lower()
        for marker in BLOCK_TITLES:
            if marker in title:
                return f"page title {title!r}"
    if not any(all(word in page for word in words) for words in PHRASE_WORDS if words[0] in present):
        return None
    visible = " ".join(response.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall())
    visible = clean(visible).lower()
    if len(visible) < SHORT_PAGE:
        for marker in BLOCK_PHRASES:
            if marker in visible:
                return f"page says {marker!r}"
    return None


def refuse_blocked(response) -> None:
    """Raise BlockedPage for a robot check, so it is never read as a page without listings."""
    reason = blocked_reason(response)
    if reason:
        raise BlockedPage(f"blocked by a robot check ({reason})")
