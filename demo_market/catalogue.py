"""The bundled catalogue: loading, validation, scaling and price formatting."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("catalogue.jsonl")

DEVICE_CATEGORIES = (
    "relay_attack",
    "key_programmer",
    "can_injection",
    "key_emulator",
    "code_grabber",
    "signal_jammer",
    "mechanical_entry",
)
CATEGORIES = DEVICE_CATEGORIES + ("none",)

# Marketplace departments: what the breadcrumb and the home page's category links show.
DEPARTMENTS = {
    "car-security": "Car Security & Convenience",
    "diagnostic-tools": "Diagnostic Tools & Equipment",
    "locksmithing": "Locksmithing & Key Duplication",
    "car-keys": "Car Keys, Remotes & Fobs",
    "car-electrics": "Car Electrics & Lighting",
    "electronics": "Consumer Electronics",
    "components": "Electronic Components & Modules",
    "video-games": "Video Games & Consoles",
    "music": "Musical Instruments & Audio",
    "workshop": "Garage & Workshop Equipment",
}

SHOP_STYLES = ("jsonld", "microdata", "opengraph", "meta")
REQUIRED_FIELDS = (
    "id",
    "title",
    "description",
    "price",
    "currency",
    "seller",
    "seller_type",
    "location",
    "condition",
    "department",
    "listed",
    "category",
)
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "US $"}

# Scaled copies get light, label-neutral variations so a benchmark crawl is not 30 identical pages.
_TITLE_VARIANTS = (
    "{title} - UK Stock",
    "NEW {title}",
    "{title} (Fast Dispatch)",
    "{title} - Free P&P",
    "{title} - Ships Today",
)


class CatalogueError(ValueError):
    """The catalogue file breaks one of its invariants."""


def load_catalogue(path: Path | str = CATALOGUE_PATH) -> list[dict]:
    """Read and validate the catalogue; raises CatalogueError naming the line on a bad entry."""
    path = Path(path)
    listings, seen = [], set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"{where}: not valid JSON ({exc.msg})") from None
        missing = [f for f in REQUIRED_FIELDS if not row.get(f)]
        if missing:
            raise CatalogueError(f"{where}: missing {', '.join(missing)}")
        if row["id"] in seen:
            raise CatalogueError(f"{where}: duplicate id {row['id']}")
        if row["category"] not in CATEGORIES:
            raise CatalogueError(f"{where}: unknown category {row['category']!r}")
        if row["department"] not in DEPARTMENTS:
            raise CatalogueError(f"{where}: unknown department {row['department']!r}")
        if row["currency"] not in CURRENCY_SYMBOLS:
            raise CatalogueError(f"{where}: unsupported currency {row['currency']!r}")
        if row.get("shop") and row["shop"] not in SHOP_STYLES:
            raise CatalogueError(f"{where}: unknown shop style {row['shop']!r}")
        Decimal(row["price"])  # a bad price should fail here, not mid-crawl
        seen.add(row["id"])
        listings.append(row)
    return listings


def scale_catalogue(listings: list[dict], scale: int) -> list[dict]:
    """The catalogue repeated `scale` times; copies get ids like DM10001-2 and keep their labels."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    out = [dict(row) for row in listings]
    for copy in range(2, scale + 1):
        for n, row in enumerate(listings):
            variant = dict(row)
            variant["id"] = f"{row['id']}-{copy}"
            variant["title"] = _TITLE_VARIANTS[(copy + n) % len(_TITLE_VARIANTS)].format(title=row["title"])
            # +/- up to 5%, deterministic, so prices stay plausible and reproducible.
            factor = Decimal(100 + ((copy * 7 + n) % 11) - 5) / 100
            variant["price"] = str((Decimal(row["price"]) * factor).quantize(Decimal("0.01")))
            variant.pop("malformed", None)  # one malformed page is enough, even at scale
            variant.pop("shop", None)
            variant["copy_of"] = row["id"]
            out.append(variant)
    return out


def format_price(price: str, currency: str) -> str:
    """'2200.00', 'GBP' -> '£2,200.00' (as marketplaces display it)."""
    return f"{CURRENCY_SYMBOLS[currency]}{Decimal(price):,.2f}"
