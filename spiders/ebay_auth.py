"""eBay OAuth for the Browse API: the application's keys and its access token.

The keys (client id and secret) come from the environment (`EBAY_CLIENT_ID`, `EBAY_CLIENT_SECRET`) or from a file
outside the repository (`EBAY_CREDENTIALS_FILE`, default `~/.config/keywatch/ebay_api.env`, lines `NAME=VALUE`).
An Application access token is minted with the client credentials grant (`POST /identity/v1/oauth2/token`), kept
until shortly before eBay says it expires, and minted again when eBay answers 401 with it. Neither the keys nor the
token are logged, stored as evidence, or put in a spider argument (arguments are recorded with each run).
"""

import asyncio
import base64
import json
import os
import time
from pathlib import Path
from urllib.parse import urlencode

import scrapy

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_FILE = "~/.config/keywatch/ebay_api.env"
TOKEN_PATH = "/identity/v1/oauth2/token"
SCOPE = "https://api.ebay.com/oauth/api_scope"  # the public scope the Browse API's search and item calls need
MARGIN = 120  # seconds before its expiry a token is replaced, so no call goes out with one about to lapse


class CredentialsError(ValueError):
    """The API keys are unusable: a keys file inside the repository, or eBay refusing them."""


def read_credentials(environ=os.environ) -> tuple[str, str] | None:
    """(client id, client secret) from the environment, else from the keys file; None when neither has both."""
    client_id, secret = environ.get("EBAY_CLIENT_ID", "").strip(), environ.get("EBAY_CLIENT_SECRET", "").strip()
    if client_id and secret:
        return client_id, secret
    path = Path(environ.get("EBAY_CREDENTIALS_FILE") or DEFAULT_FILE).expanduser().resolve()
    if path.is_relative_to(REPOSITORY):
        raise CredentialsError(f"the eBay API keys file must be outside the repository: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    values = dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    values = {k.strip(): v.strip().strip("'\"") for k, v in values.items()}
    if values.get("EBAY_CLIENT_ID") and values.get("EBAY_CLIENT_SECRET"):
        return values["EBAY_CLIENT_ID"], values["EBAY_CLIENT_SECRET"]
    return None


def keys_configured(environ=os.environ) -> bool:
    try:
        return read_credentials(environ) is not None
    except CredentialsError:
        return True  # configured, wrongly: the ebay_api run says why rather than falling back quietly


class AccessToken:
    """The Application access token, shared by every call of a crawl and minted once at a time."""

    def __init__(self, crawler, api_url: str, credentials: tuple[str, str]):
        self.crawler = crawler
        self.url = api_url + TOKEN_PATH
        self._basic = base64.b64encode(":".join(credentials).encode()).decode()
        self._lock = asyncio.Lock()
        self.value: str | None = None
        self._expires = 0.0

    async def get(self, stale: str | None = None) -> str:
        """A token good for a while yet; a new one if `stale` (the token a call was refused with) is the current."""
        async with self._lock:
            if self.value and self.value != stale and time.monotonic() < self._expires - MARGIN:
                return self.value
            self.value, lifetime = await self._mint()
            self._expires = time.monotonic() + lifetime
            return self.value

    async def _mint(self) -> tuple[str, float]:
        request = scrapy.Request(
            self.url,
            method="POST",
            body=urlencode({"grant_type": "client_credentials", "scope": SCOPE}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {self._basic}"},
            meta={"dont_obey_robotstxt": True, "dont_cache": True},
            dont_filter=True,
        )
        response = await self.crawler.engine.download_async(request)
        self.crawler.stats.inc_value("keywatch/ebay_api/token_requests")
        try:
            answer = json.loads(response.text)
        except (ValueError, AttributeError):
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if response.status != 200 or not isinstance(token, str) or not isinstance(lifetime, (int, float)):
            # eBay's own words (error, error_description) say why; they never contain the keys.
            why = f"{answer.get('error', '')}: {answer.get('error_description', '')}".strip(": ")
            raise CredentialsError(f"eBay refused the API keys (HTTP {response.status}{', ' + why if why else ''})")
        return token, float(lifetime)
