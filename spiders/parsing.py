"""Small parsing helpers shared by the site spiders: text, ids, embedded JSON, schema.org data.

Prices are read in spiders/prices.py, robot checks recognised in spiders/robot_check.py.
"""

import json
import math
import re
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
