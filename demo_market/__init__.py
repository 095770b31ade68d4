"""The bundled demo marketplace: a hand-written catalogue served over HTTP on 127.0.0.1.

from demo_market import DemoMarket
with DemoMarket(port=0, scale=1) as market:
    market.url, market.listings, market.remove("DM10001", how="410"), market.requests
"""

from .catalogue import (
    CATALOGUE_PATH,
    CATEGORIES,
    DEVICE_CATEGORIES,
    CatalogueError,
    format_price,
    load_catalogue,
    scale_catalogue,
)
from .server import LAYOUTS, PER_PAGE, REMOVAL_MODES, DemoMarket

__all__ = [
    "CATALOGUE_PATH",
    "CATEGORIES",
    "DEVICE_CATEGORIES",
    "CatalogueError",
    "DemoMarket",
    "LAYOUTS",
    "PER_PAGE",
    "REMOVAL_MODES",
    "format_price",
    "load_catalogue",
    "scale_catalogue",
]
