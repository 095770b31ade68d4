"""Small parsing helpers shared by the site spiders: text, money, ids, embedded JSON, schema.org data.

Money stays a decimal string ("2599.00") with an ISO 4217 code; it is never a float.
"""

import json
import math
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import extruct
from w3lib.url import canonicalize_url

from spiders.fields import CONTROL, Unreadable, money

# Longest prefixes first: "US $" must win over "$".
CURRENCY_SIGNS = (
    ("US $", "USD"),
    ("US$", "USD"),
    ("C $", "CAD"),
    ("CA$", "CAD"),
    ("AU $", "AUD"),
    ("A$", "AUD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("£", "GBP"),
    ("€", "EUR"),
    ("$", "USD"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("₽", "RUB"),
)
ISO_CODE = re.compile(r"\b(GBP|EUR|USD|CAD|AUD|NZD|HKD|JPY|CNY|INR|PLN|SEK|CHF|RUB)\b")
NUMBER = re.compile(r"\d[\d.,\s\u00a0\u202f]*")
# A number written as a program would (JSON-LD "price": "1e999", "NaN", "12.5"): read as one, never digit by digit.
NUMERAL = re.compile(r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\s*$", re.IGNORECASE)
# "£5.99 to £14.99", "US $3.20 - 5.10", "€40.63+" (Etsy's "from" marker)
RANGE_SPLIT = re.compile(r"\s+(?:to|-|–)\s+")


def clean(text: Any) -> str:
    """Collapse whitespace (including non-breaking spaces), drop control characters and strip; a number becomes its
    digits; a list, an object or a non-finite number is Unreadable (falsy, so fallbacks pass over it)."""
    if isinstance(text, (list, tuple, dict, bool)) or (isinstance(text, float) and not math.isfinite(text)):
        return Unreadable(text)
    if isinstance(text, (int, float)):
        text = str(text)
    return " ".join(CONTROL.sub(" ", text).split()) if isinstance(text, str) else ""


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


def currency_of(text: str, default: str | None = None) -> str | None:
    match = ISO_CODE.search(text or "")
    if match:
        return match.group(1)
    for sign, code in CURRENCY_SIGNS:
        if sign in (text or ""):
            return code
    return default


def decimal_string(value: Any) -> str | None:
    """A number (or a number in text written the UK, US or continental way) as "1234.50"; None when there is none;
    Unreadable for a value that is there but is no amount (NaN, 1e999, a list)."""
    if value is None:
        return None
    if not isinstance(value, str) or NUMERAL.match(value):
        return money(value)
    match = NUMBER.search(value)
    if not match:
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", match.group()).rstrip(".,")
    if "," in digits and "." in digits:  # the later one is the decimal separator
        thousands = "," if digits.rfind(".") > digits.rfind(",") else "."
        digits = digits.replace(thousands, "").replace(",", ".")
    elif "," in digits:  # "164,00" is a decimal comma; "1,299" is thousands
        head, _, tail = digits.rpartition(",")
        digits = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else digits.replace(",", "")
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    return money(digits)


FREE = re.compile(r"^(?:free|£0|£0\.00)!?$", re.IGNORECASE)  # a Gumtree freebie; not "Free postage"


def parse_price(text: str | None, default_currency: str | None = None) -> dict[str, Any]:
    """`{"price", "currency"}` from shown text, plus `"price_max"` for a range ("£5.99 to £14.99")."""
    text = clean(text)
    if FREE.match(text):
        return {"price": "0.00", "currency": currency_of(text, default_currency)}
    parts = RANGE_SPLIT.split(text, maxsplit=1)
    result = {"price": decimal_string(parts[0]), "currency": currency_of(text, default_currency)}
    if result["price"] is None:
        result["currency"] = None
    elif len(parts) == 2 and decimal_string(parts[1]) is not None:
        result["price_max"] = decimal_string(parts[1])
    return result


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


def find_typed(data: dict[str, list[dict]], wanted: str) -> dict | None:
    """The first node of schema.org type `wanted`, searching JSON-LD (including @graph) then microdata."""
    for syntax in ("json-ld", "microdata"):
        stack = list(data.get(syntax) or [])
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[:0] = node
            elif isinstance(node, dict):
                if has_type(node, wanted):
                    return node
                if "@graph" in node:
                    stack[:0] = node["@graph"] if isinstance(node["@graph"], list) else [node["@graph"]]
    return None


def offer_fields(product: dict) -> dict[str, Any]:
    """price, currency (and price_max, availability, seller) from a Product's offers."""
    offers = product.get("offers") or {}
    if isinstance(offers, list):
        offers = offers[0] if offers else {}
    if not isinstance(offers, dict):
        return {}
    spec = offers.get("priceSpecification") or {}
    spec = spec[0] if isinstance(spec, list) and spec else spec
    spec = spec if isinstance(spec, dict) else {}
    price = first(*map(decimal_string, (offers.get("price"), offers.get("lowPrice"), spec.get("price"))))
    high = decimal_string(offers.get("highPrice"))
    seller = offers.get("seller")
    fields = {
        "price": price,
        "currency": first(offers.get("priceCurrency"), spec.get("priceCurrency")),
        "availability": clean(offers.get("availability")).rsplit("/", 1)[-1] or None,
        "seller": clean(seller.get("name"))
        if isinstance(seller, dict)
        else (clean(seller) if isinstance(seller, str) else None),
    }
    if high and high != price:
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


def blocked_reason(response) -> str | None:
    """Why `response` is a robot check rather than the page asked for, or None."""
    if not hasattr(response, "css"):
        return None
    url = response.url.lower()
    forms = " ".join(response.css("form::attr(action)").getall()).lower()
    for marker in BLOCK_URLS:
        if marker in url or marker in forms:
            return f"challenge address {marker}"
    if response.css("#captchacharacters, input[name=captcha], #px-captcha, .g-recaptcha, #nc_1_wrapper"):
        return "captcha form"
    if "_____tmd_____/punish" in response.text[:20000]:  # AliExpress sends its slider via a script redirect
        return "challenge address _____tmd_____"
    title = clean(" ".join(response.css("title::text").getall())).lower()
    for marker in BLOCK_TITLES:
        if marker in title:
            return f"page title {title!r}"
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
