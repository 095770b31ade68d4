"""Prices as pages show them, read with Zyte's price-parser: the amount as a decimal string ("2599.00", never a
float) and the currency as an ISO 4217 code.

price-parser finds the amount and the currency sign in text written in many locales ("S$ 200.00", "1.234,56 €",
"EUR 164,00", "1 234,56 zł"); this module adds what keywatch needs around it: a sign turned into its ISO code (a
sign several currencies share, such as "$", means the marketplace's own currency when that is one of them), the
marketplace's currency where the text shows none, ranges ("£5.99 to £14.99" gives `price_max`), Gumtree's "Free",
and the hostile-value rule of spiders/fields.py (NaN, infinities, absurd amounts are `Unreadable`, never a number).
"""

import re
from typing import Any

from price_parser import Price

from spiders.fields import Unreadable, money, without_controls

# A number written as a program would (JSON-LD "price": "1e999", "NaN", "12.5"): read as one, never digit by digit.
NUMERAL = re.compile(r"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\s*$", re.IGNORECASE)
# "£5.99 to £14.99", "US $3.20 - 5.10"
RANGE_SPLIT = re.compile(r"\s+(?:to|-|–)\s+")
FREE = re.compile(r"^(?:free|£0|£0\.00)!?$", re.IGNORECASE)  # a Gumtree freebie; not "Free postage"
# eBay writes a country prefix apart from the dollar sign ("US $12.00", "AU $5", "C $3"); price-parser reads
# the signs whole ("US$", "AU$", "C$"), so the space goes.
COUNTRY_DOLLAR = re.compile(r"\b([A-Z]{1,3}) \$")

# Signs that name one currency as keywatch's marketplaces use them; price-parser's own table (below) adds the rest.
SIGNS = {
    "$": "USD",
    "US$": "USD",
    "£": "GBP",
    "€": "EUR",
    "¥": "JPY",
    "C$": "CAD",
    "CA$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "SG$": "SGD",
    "NT$": "TWD",
    "RMB": "CNY",
    "CN¥": "CNY",
    "₩": "KRW",
    "₱": "PHP",
    "Fr.": "CHF",
}


def _sign_currencies() -> dict[str, set[str]]:
    """Every sign in price-parser's currency table with the ISO codes it may stand for."""
    try:  # the table is price-parser's data, not its API: without it, SIGNS alone is used
        from price_parser._currencies import CURRENCIES
    except ImportError:  # pragma: no cover
        return {}
    signs: dict[str, set[str]] = {}
    for code, info in CURRENCIES.items():
        for sign in (info.get("s"), info.get("sn"), *info.get("sn2", [])):
            if sign:
                signs.setdefault(sign, set()).add(code)
    return signs


SIGN_CURRENCIES = _sign_currencies()
ISO_CODES = {code for codes in SIGN_CURRENCIES.values() for code in codes if re.fullmatch(r"[A-Z]{3}", code)}


def iso_currency(sign: str | None, default: str | None = None) -> str | None:
    """The ISO 4217 code a currency sign or code stands for; a sign several currencies share means `default` when
    that is one of them ("$" on an Australian page is AUD), else the usual one ("$" is USD); None when unknown."""
    if not sign:
        return default
    sign = sign.strip()
    if sign.upper() in ISO_CODES and len(sign) == 3:
        return SIGNS.get(sign.upper(), sign.upper())
    shared = SIGN_CURRENCIES.get(sign, set())
    if default and default in shared:
        return default
    if sign in SIGNS:
        return SIGNS[sign]
    return next(iter(shared)) if len(shared) == 1 else None


def normalised(text: Any) -> str:
    return COUNTRY_DOLLAR.sub(r"\1$", " ".join(without_controls(text).split())) if isinstance(text, str) else ""


def decimal_string(value: Any) -> str | None:
    """A number, or the amount in shown text, as "1234.50"; None when there is none; Unreadable for a value that is
    there but is no amount (NaN, 1e999, a list)."""
    if value is None:
        return None
    if not isinstance(value, str) or NUMERAL.match(value):
        return money(value)
    if not re.search(r"\d", value):
        return None
    amount = Price.fromstring(normalised(value)).amount
    return None if amount is None else money(amount)


def parse_price(text: Any, default_currency: str | None = None) -> dict[str, Any]:
    """`{"price", "currency"}` from shown text, plus `"price_max"` for a range ("£5.99 to £14.99"); the currency is
    the one the text names, else `default_currency` (the marketplace's), and None when there is no price."""
    text = normalised(text)
    if FREE.match(text):  # "Free" has no sign to read ("FR" would be a currency)
        return {"price": "0.00", "currency": "GBP" if "£" in text else default_currency}
    parts = RANGE_SPLIT.split(text, maxsplit=1)
    price = decimal_string(parts[0])
    if price is None or isinstance(price, Unreadable):
        return {"price": price, "currency": None}
    sign = Price.fromstring(text).currency
    result = {"price": price, "currency": iso_currency(sign, default_currency)}
    high = decimal_string(parts[1]) if len(parts) == 2 else None
    if high:
        result["price_max"] = high
    return result
