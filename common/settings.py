"""Every path and KEYWATCH_* environment variable keywatch reads, resolved here and nowhere else.

A file keywatch needs is found by one rule: its KEYWATCH_* variable, else the file in the current directory,
else the one shipped with keywatch (the repository root in an editable install). Each function reads the
environment when it is called, so a test, or a process whose environment changes, gets the current answer.

Command-line options win over these (`--db`, `--watchlist`, `--config`, `--office-config`); the crawl's own
knobs (KEYWATCH_SCREEN_THRESHOLD, KEYWATCH_SAMPLE_RATE, KEYWATCH_MAX_PAGES, KEYWATCH_RECHECK, KEYWATCH_PHOTOS,
KEYWATCH_PHOTO_MAX_BYTES) are Scrapy settings, in spiders/settings.py, set with `-s NAME=VALUE` (KEYWATCH_RENDER
is read here and can be set either way); KEYWATCH_TRUSTED_PROXIES is click's environment
default for `serve --trusted-proxies`. docs/operations.md lists every variable and setting;
tests/test_settings.py checks that every KEYWATCH_* name in the code is there.
"""

import os
import shutil
from pathlib import Path

from common import VERSION

# Where the shipped files are: the repository root in an editable install (watchlist.yaml, marketplaces.yaml).
ROOT = Path(__file__).resolve().parent.parent
# The example office details: package data beside the letter template, so it ships in a wheel too.
OFFICE_EXAMPLE = ROOT / "exports" / "templates" / "office.yaml"
DEFAULT_DB = Path("data") / "keywatch.sqlite"
DEFAULT_DEMO_URL = "http://127.0.0.1:8001"
CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by scripts/system-deps.sh
# How keywatch always launches it (rendering, the desk's screenshots, the browser tests): no GPU, no sandbox of its
# own (containers and root), and no calls home for updates or safe-browsing lists.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)


def _variable(name: str) -> str | None:
    """The variable's value; unset and empty are the same (an empty path or address is never meant)."""
    return os.environ.get(name) or None


def _located(variable: str, name: str, shipped: Path) -> Path:
    """`variable`, else ./`name`, else `shipped`."""
    value = _variable(variable)
    if value:
        return Path(value)
    local = Path(name)
    return local if local.exists() else shipped


# ---------------------------------------------------------------- files


def db_path() -> Path:
    """The evidence store: KEYWATCH_DB, else data/keywatch.sqlite under the current directory."""
    return Path(_variable("KEYWATCH_DB") or DEFAULT_DB)


def watchlist_path() -> Path:
    """The watchlist: KEYWATCH_WATCHLIST, else ./watchlist.yaml, else the shipped one."""
    return _located("KEYWATCH_WATCHLIST", "watchlist.yaml", ROOT / "watchlist.yaml")


def marketplaces_path() -> Path:
    """The weekly job's marketplaces: KEYWATCH_MARKETPLACES, else ./marketplaces.yaml, else the shipped one."""
    return _located("KEYWATCH_MARKETPLACES", "marketplaces.yaml", ROOT / "marketplaces.yaml")


def office_path() -> Path:
    """Office details and notice wording: KEYWATCH_OFFICE, else ./office.yaml, else the shipped example."""
    return _located("KEYWATCH_OFFICE", "office.yaml", OFFICE_EXAMPLE)


# ---------------------------------------------------------------- the crawler


def contact() -> str:
    """Who site operators can write to about the crawler (KEYWATCH_CONTACT), shown in the User-Agent."""
    return _variable("KEYWATCH_CONTACT") or "set KEYWATCH_CONTACT to an email address"


def user_agent() -> str:
    """KEYWATCH_USER_AGENT, else keywatch's own, naming its version and the contact."""
    return (
        _variable("KEYWATCH_USER_AGENT") or f"keywatch/{VERSION} (vehicle-crime research crawler; contact: {contact()})"
    )


def http_cache() -> bool:
    """KEYWATCH_HTTPCACHE=1 replays cached pages while a parser is being written; never for evidence runs."""
    return os.environ.get("KEYWATCH_HTTPCACHE") == "1"


def log_level() -> str:
    """Scrapy's log level (KEYWATCH_LOG_LEVEL, default INFO)."""
    return _variable("KEYWATCH_LOG_LEVEL") or "INFO"


RENDER_MODES = ("flagged", "all", "off")


def render_mode() -> str:
    """Which listing pages a crawl also renders in headless Chromium (KEYWATCH_RENDER): `flagged` (the default:
    pages the classifier flags, and the random sample), `all`, or `off`. ValueError names a bad value."""
    mode = (_variable("KEYWATCH_RENDER") or "flagged").strip().lower()
    if mode not in RENDER_MODES:
        raise ValueError(f"KEYWATCH_RENDER must be one of {', '.join(RENDER_MODES)}, not {mode!r}")
    return mode


def demo_url() -> str:
    """Where `scrapy crawl demo_market` finds the demo marketplace without `-a base_url` (KEYWATCH_DEMO_URL)."""
    return (_variable("KEYWATCH_DEMO_URL") or DEFAULT_DEMO_URL).rstrip("/")


def ebay_api_url() -> str:
    """eBay's API host for the ebay_api spider (EBAY_API_URL; a local server in tests)."""
    return (_variable("EBAY_API_URL") or "https://api.ebay.com").rstrip("/")


# ---------------------------------------------------------------- tools


def chromium() -> str | None:
    """The headless browser for rendering, the desk's screenshots and the browser tests: KEYWATCH_CHROMIUM when set
    (None if that file does not exist: a browser named on purpose is never swapped for another), else Debian's,
    else the `chromium` on PATH, else None."""
    chosen = _variable("KEYWATCH_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
