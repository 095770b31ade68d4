"""Where keywatch looks for its files when not told: one place for every default path."""

import os
from pathlib import Path

# The repository root (editable install): scrapy.cfg, watchlist.yaml and data/ live here.
ROOT = Path(__file__).resolve().parent.parent


def default_db_path() -> Path:
    """`KEYWATCH_DB`, else `data/keywatch.sqlite` under the current directory."""
    return Path(os.environ.get("KEYWATCH_DB") or Path("data") / "keywatch.sqlite")


def default_watchlist_path() -> Path:
    """`KEYWATCH_WATCHLIST`, else `./watchlist.yaml`, else the one shipped at the repository root."""
    env = os.environ.get("KEYWATCH_WATCHLIST")
    if env:
        return Path(env)
    local = Path("watchlist.yaml")
    return local if local.exists() else ROOT / "watchlist.yaml"
