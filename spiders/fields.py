"""What each field of a listing may hold, enforced once for every spider: pages are written by the people we watch.

A page can put anything where a field is expected: a list or an object for a title, a price of 1e999 or NaN,
control characters, a megabyte of text. The parsing helpers (spiders/parsing.py) mark a value they were given
but cannot read as `Unreadable`; `sanitise` turns every field into the shape the store expects and says which
ones it could not read or had to cut. The page is stored whatever its fields hold; a field that cannot be read
is null, named in the capture's `extra.field_problems` and counted per field in the crawl stats.
"""

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

# Longest text kept per field (characters); the raw page is stored whole either way.
DESCRIPTION_LIMIT = 1_000_000
TEXT_LIMITS = {"listing_id": 512, "url": 8192, "currency": 16}
TEXT_LIMIT = 10_000
EXTRA_TEXT_LIMIT = 100_000
EXTRA_ITEMS = 1000
EXTRA_DEPTH = 8
# C0 and C1 control characters (NUL, ESC, ...): never part of what a page shows. \t \n \r are whitespace.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PRICE = re.compile(r"^\d{1,12}(?:\.\d{1,6})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MONEY = Decimal(10) ** 12  # no listing costs a trillion: a bigger number is not a price


class Unreadable(str):
    """A value a page gave for a field that cannot be read as one (a list for a title, a price of 1e999).

    It is an empty, falsy string, so fallbacks (`first`, `or`) pass over it to a readable value; when nothing
    else is found it reaches `sanitise`, which makes the field null and says why.
    """

    def __new__(cls, raw: Any):
        value = super().__new__(cls, "")
        if isinstance(raw, str):
            value.raw = raw[:200]
        elif isinstance(raw, (bool, float)) or (isinstance(raw, int) and raw.bit_length() < 128):
            value.raw = repr(raw)
        else:
            value.raw = f"a {type(raw).__name__}"
        return value

    def __bool__(self):
        return False

    def __repr__(self):
        return f"Unreadable({self.raw[:60]!r})"


def money(value: Any) -> str | None:
    """A number as a decimal string "1234.50"; None for nothing; Unreadable for NaN, infinities, negative or
    absurdly large amounts, and lists or objects."""
    if value is None:
        return None
    if isinstance(value, Unreadable):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return Unreadable(value)
    if (isinstance(value, int) and value.bit_length() > 64) or (isinstance(value, str) and len(value) > 64):
        return Unreadable(value)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return Unreadable(value)
    if not number.is_finite() or number < 0 or number >= MAX_MONEY:
        return Unreadable(value)
    if number.as_tuple().exponent >= -2:
        number = number.quantize(Decimal("0.01"))
    return format(number, "f")


def without_controls(value: str) -> str:
    """`value` with each control character made a space. Most text holds none, and `isprintable` (every control
    character is unprintable) says so in less time than the regular expression takes to find none."""
    return value if value.isprintable() else CONTROL.sub(" ", value)


def text(value: Any, limit: int = TEXT_LIMIT, *, multiline: bool = False) -> tuple[str | None, str | None]:
    """(text, problem): control characters removed, cut at `limit`; a list, object or non-finite number is no text."""
    if type(value) is not str:  # a plain str, most values, passes every test below (an Unreadable is a str subclass)
        if value is None:
            return None, None
        if isinstance(value, Unreadable):
            return None, f"unreadable value {value.raw[:60]!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return None, f"unreadable value {value!r}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None, f"a {type(value).__name__}, not text"
    value = without_controls(value)
    value = value.strip() if multiline else " ".join(value.split())
    if len(value) > limit:
        return value[:limit], f"cut at {limit} characters"
    return value, None


def plain(value: Any, depth: int = 0) -> Any:
    """`value` as plain JSON the store can keep: text cleaned and bounded, lists and nesting bounded, no NaN."""
    if isinstance(value, Unreadable):
        return None
    if isinstance(value, dict):
        if depth >= EXTRA_DEPTH:
            return None
        return {text(str(k), 200)[0]: plain(v, depth + 1) for k, v in list(value.items())[:EXTRA_ITEMS]}
    if isinstance(value, (list, tuple, set)):
        return None if depth >= EXTRA_DEPTH else [plain(v, depth + 1) for v in list(value)[:EXTRA_ITEMS]]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    return text(value if isinstance(value, str) else str(value), EXTRA_TEXT_LIMIT, multiline=True)[0]


def sanitise(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every field in the shape the store expects, and {field: problem} for those that could not be read whole."""
    result: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in fields.items():
        if name == "extra":
            result[name] = plain(value) if isinstance(value, dict) else {}
            if value is not None and not isinstance(value, dict):
                problems[name] = f"a {type(value).__name__}, not an object"
            continue
        if (
            name == "price"
            and value is not None
            and not isinstance(value, Unreadable)
            and (not isinstance(value, str) or not PRICE.match(value))
        ):
            value = money(value)  # a number, or text that is not a plain amount: read as one, or Unreadable
        limit = DESCRIPTION_LIMIT if name == "description" else TEXT_LIMITS.get(name, TEXT_LIMIT)
        result[name], problem = text(value, limit, multiline=name == "description")
        if name == "currency" and result[name] and not CURRENCY.match(result[name].upper()):
            result[name], problem = None, f"not an ISO 4217 code: {result[name][:20]!r}"
        elif name == "currency" and result[name]:
            result[name] = result[name].upper()
        if problem:
            problems[name] = problem
    return result, problems
