"""Rendering a listing page in headless Chromium, through scrapy-playwright, as evidence of what a visitor saw.

`RenderAddon` switches scrapy-playwright on for a crawl when KEYWATCH_RENDER is not `off` and Debian's Chromium is
there (`playwright install` is never needed: the browser is launched from KEYWATCH_CHROMIUM or /usr/bin/chromium);
without it the crawl is exactly what it was, and `KEYWATCH_RENDER_UNAVAILABLE` says why. Only requests marked
`playwright` go to the browser; every other request still takes Scrapy's own HTTP handler.

`render()` fetches one page through the engine's downloader, so the navigation gets the same robots.txt check,
per-domain concurrency and delay and contact User-Agent as any request (scrapy-playwright passes the User-Agent
on to every request the page makes). Each rendering has a browser context of its own (no cookies or cache carried
from one listing to the next); what it keeps: a full-page PNG screenshot, the rendered DOM and every response the
page loaded, each an attachment of the listing's page capture (db/media.py).
"""

import asyncio
import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import HtmlResponse

from common import settings
from db.media import DOM, RESOURCE, SCREENSHOT
from spiders.middlewares import utc_now_iso

VIEWPORT = {"width": 1280, "height": 900}
# A page taller than this (CSS pixels) is screenshotted down to here, and the cut is recorded.
MAX_SCREENSHOT_HEIGHT = 12_000
# How long a page may keep loading after its load event before it is taken as it is.
IDLE_TIMEOUT_MS = 5_000
# What one rendering keeps of the responses its page loaded (beyond that, they are counted as dropped).
MAX_RESOURCES = 300
MAX_RESOURCE_BYTES = 40 * 1024 * 1024
BODY_TIMEOUT_S = 10
# Renderings at once: each is a browser context of its own (a few hundred MB of memory apiece).
MAX_RENDERINGS = 2
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"

_contexts = itertools.count(1)


def unavailable() -> str | None:
    """Why this machine cannot render, or None."""
    try:
        import scrapy_playwright  # noqa: F401 - only whether it is installed
    except ImportError:
        return "scrapy-playwright is not installed (pip install -e .)"
    if settings.chromium() is None:
        return "Chromium not found (apt-get install chromium, or set KEYWATCH_CHROMIUM to its path)"
    return None


class RenderAddon:
    """Turns scrapy-playwright on when this crawl renders (KEYWATCH_RENDER) and the browser is there."""

    def update_settings(self, crawl_settings) -> None:
        mode = crawl_settings.get("KEYWATCH_RENDER") or "off"
        if mode not in settings.RENDER_MODES:
            raise ValueError(f"KEYWATCH_RENDER must be one of {', '.join(settings.RENDER_MODES)}, not {mode!r}")
        if mode == "off":
            return
        why = unavailable()
        if why:
            crawl_settings.set("KEYWATCH_RENDER_UNAVAILABLE", why, priority="addon")
            return
        handlers = {**crawl_settings.getdict("DOWNLOAD_HANDLERS"), "http": HANDLER, "https": HANDLER}
        for name, value in {
            "DOWNLOAD_HANDLERS": handlers,
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {
                "executable_path": settings.chromium(),
                "headless": True,
                "args": list(settings.CHROMIUM_ARGS),
            },
            "PLAYWRIGHT_MAX_CONTEXTS": MAX_RENDERINGS,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 1,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
        }.items():
            crawl_settings.set(name, value, priority="addon")


def _internal(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def refused(url: str, page_url: str) -> bool:
    """Whether a page rendered from `page_url` may not request `url`: anything but http(s), and addresses on a
    private, loopback or link-local network unless the page itself is on one (the demo marketplace on 127.0.0.1):
    a seller's page must not make keywatch's browser reach into the office's network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return True
    return _internal(parts.hostname or "") and not _internal(urlsplit(page_url).hostname or "")


@dataclass
class Rendering:
    url: str  # where the browser ended up
    attachments: list[dict[str, Any]] = field(default_factory=list)
    dom: HtmlResponse | None = None  # the rendered DOM, for the spider's parse_rendered
    dropped: int = 0  # responses not kept (MAX_RESOURCES, MAX_RESOURCE_BYTES)


class _Loaded:
    """Every response a page receives, with its arrival time (attached before the page navigates)."""

    def __init__(self):
        self.responses: list[tuple[Any, str]] = []

    async def attach(self, page, request) -> None:  # scrapy-playwright's playwright_page_init_callback
        page.on("response", lambda response: self.responses.append((response, utc_now_iso())))

        async def guard(route, browser_request):
            if refused(browser_request.url, request.url):
                await route.abort("blockedbyclient")
            else:
                await route.fallback()  # to scrapy-playwright's own route: the User-Agent and headers

        await page.route("**", guard)  # routes added last run first

    async def attachments(self) -> tuple[list[dict[str, Any]], int]:
        kept, size, dropped = [], 0, 0
        for response, arrived in self.responses:
            body = await _body(response)
            if len(kept) >= MAX_RESOURCES or size + len(body) > MAX_RESOURCE_BYTES:
                dropped += 1
                continue
            size += len(body)
            headers: dict[str, list[str]] = {}
            for header in await response.headers_array():
                headers.setdefault(header["name"], []).append(header["value"])
            request = response.request
            kept.append(
                {
                    "kind": RESOURCE,
                    "request_url": request.url,
                    "url": response.url,
                    "status": response.status,
                    "headers": headers,
                    "body": body,
                    "fetched_at": arrived,
                    "fields": {"method": request.method, "resource_type": request.resource_type},
                }
            )
        return kept, dropped


async def _body(response) -> bytes:
    from playwright.async_api import Error as PlaywrightError

    try:
        return await asyncio.wait_for(response.body(), BODY_TIMEOUT_S)
    except (PlaywrightError, TimeoutError):  # a redirect has no body; a load that failed or never ends neither
        return b""


async def render(crawler, url: str) -> Rendering:
    """Render `url` in its own browser context and keep what it showed and loaded. Raises what the download
    raises (IgnoreRequest when robots.txt forbids the page, a playwright error when the browser fails)."""
    loaded = _Loaded()
    request = scrapy.Request(
        url,
        dont_filter=True,
        meta={
            "playwright": True,
            "playwright_include_page": True,
            "playwright_context": f"keywatch-render-{next(_contexts)}",
            "playwright_context_kwargs": {"viewport": VIEWPORT, "service_workers": "block", "accept_downloads": False},
            "playwright_page_init_callback": loaded.attach,
            "max_retry_times": 1,
        },
    )
    try:
        response = await crawler.engine.download_async(request)
    except BaseException:
        await _close(request.meta.get("playwright_page"))
        raise
    page = response.meta["playwright_page"]
    try:
        return await _keep(page, url, response.status, loaded)
    finally:
        await _close(page)


async def _keep(page, url: str, status: int, loaded: _Loaded) -> Rendering:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    except PlaywrightTimeout:
        pass  # a page that keeps polling is taken as it is now
    height = await page.evaluate(
        "() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
    )
    cut = height > MAX_SCREENSHOT_HEIGHT
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_SCREENSHOT_HEIGHT} if cut else None
    png = await page.screenshot(full_page=True, clip=clip, type="png")
    shot_at = utc_now_iso()
    dom = (await page.content()).encode("utf-8")
    dom_at, final_url = utc_now_iso(), page.url
    resources, dropped = await loaded.attachments()
    browser = f"{page.context.browser.browser_type.name} {page.context.browser.version}"
    made = {"browser": browser, "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}"}
    screenshot = {
        **made,
        "content_type": "image/png",
        "page_height": height,
        "cut_at": MAX_SCREENSHOT_HEIGHT if cut else None,
        "resources_dropped": dropped or None,
    }
    made_by_browser = {"request_url": url, "url": final_url, "status": status, "headers": {}}
    return Rendering(
        url=final_url,
        attachments=[
            *resources,
            {"kind": SCREENSHOT, **made_by_browser, "body": png, "fetched_at": shot_at, "fields": screenshot},
            {
                "kind": DOM,
                **made_by_browser,
                "body": dom,
                "fetched_at": dom_at,
                "fields": {**made, "content_type": "text/html; charset=utf-8"},
            },
        ],
        dom=HtmlResponse(final_url, body=dom, encoding="utf-8"),
        dropped=dropped,
    )


async def _close(page) -> None:
    if page is not None and not page.is_closed():
        await page.context.close()  # the rendering's own context: its page, cookies and cache go with it
