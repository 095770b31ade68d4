"""The demo marketplace's HTTP server: stdlib ThreadingHTTPServer on 127.0.0.1, in a background thread."""

from __future__ import annotations

import math
import re
import threading
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import pages, shop
from .catalogue import CATALOGUE_PATH, DEPARTMENTS, load_catalogue, scale_catalogue
from .photos import photo_png

PER_PAGE = 24
LAYOUTS = ("normal", "broken", "broken-search")
REMOVAL_MODES = ("404", "410", "ended", "redirect")
_ITEM = re.compile(r"^/(broken/)?item/([A-Za-z0-9-]+)/?$")
_SHOP_PRODUCT = re.compile(r"^/shop/product/([A-Za-z0-9-]+)/?$")
_SHOP_CATEGORY = re.compile(r"^/shop/category/([a-z0-9-]+)/?$")
_PHOTO = re.compile(r"^/img/([a-z0-9_-]+)\.png$")
_PRICE = re.compile(r"^/api/price/([A-Za-z0-9-]+)$")


def _http_date(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), usegmt=True)


class DemoMarket:
    """A running demo marketplace. Use as a context manager, or call start()/stop()."""

    def __init__(
        self,
        port: int = 0,
        scale: int = 1,
        layout: str = "normal",
        host: str = "127.0.0.1",
        catalogue_path=CATALOGUE_PATH,
    ):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
        self.host, self.port = host, port
        self.catalogue = load_catalogue(catalogue_path)
        self._listings = scale_catalogue(self.catalogue, scale)
        self._by_id = {row["id"]: row for row in self._listings}
        # Lower-cased title + description, computed once: search is a scan over these.
        self._haystack = {row["id"]: f"{row['title']}\n{row['description']}".lower() for row in self._listings}
        self.shop_products = [row for row in self.catalogue if row.get("shop")]
        self._shop_by_id = {row["id"]: row for row in self.shop_products}
        self._shop_departments = shop.shop_departments(self.shop_products)
        self._layout = layout
        self.verbose = False  # log each request to stderr (python -m demo_market turns it on)
        self._removed: dict[str, str] = {}
        self._search_cache: dict[tuple[str, str, str], list[dict]] = {}
        # Item pages as rendered (a pure function of the listing, whether it has ended, and the address): the server
        # stands in for a marketplace on another machine, and on the crawl benchmark's two cores rendering each one
        # again was CPU taken from the crawl it measures.
        self._item_pages: dict[tuple[str, bool, str], str] = {}
        self._lock = threading.Lock()
        self._requests = 0
        self.request_log: list[tuple[str, str]] = []
        self.user_agents: set[str] = set()  # every User-Agent that asked for something (the politeness tests)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Pages that are not a listing change when the catalogue does; the newest listing date stands in.
        self._site_modified = _http_date(max(row["listed"] for row in self.catalogue))

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> DemoMarket:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.market = self
        self._server = server
        self.port = server.server_address[1]
        # A short poll interval keeps stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-market", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> DemoMarket:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests and benchmarks look at -----------------------------------------------------------
    def prerender(self) -> None:
        """Render every live listing's item page now (bench/crawl.py: each crawl it measures then finds them
        rendered, not only the crawls after the first)."""
        for row in self._listings:
            self.route(f"/item/{row['id']}", {})

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def listings(self) -> list[dict]:
        return [dict(row) for row in self._listings]

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def item_url(self, listing_id: str) -> str:
        return f"{self.url}/item/{listing_id}"

    def remove(self, listing_id: str, how: str = "404") -> None:
        """Take a listing down: '404', '410', 'ended' (200 page saying so) or 'redirect' (302 to search)."""
        if how not in REMOVAL_MODES:
            raise ValueError(f"how must be one of {', '.join(REMOVAL_MODES)}")
        if listing_id not in self._by_id:
            raise KeyError(listing_id)
        with self._lock:
            self._removed[listing_id] = how
            self._search_cache.clear()

    def restore(self, listing_id: str) -> None:
        with self._lock:
            self._removed.pop(listing_id, None)
            self._search_cache.clear()

    def set_layout(self, layout: str) -> None:
        """'normal', 'broken' (item pages lose their markup) or 'broken-search' (result cards do)."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
        with self._lock:
            self._layout = layout

    @property
    def layout(self) -> str:
        with self._lock:
            return self._layout

    # -- routing (called from handler threads) -------------------------------------------------------
    def _count(self, method: str, path: str, user_agent: str = "") -> None:
        with self._lock:
            self._requests += 1
            self.request_log.append((method, path))
            self.user_agents.add(user_agent)

    def _removal(self, listing_id: str) -> str | None:
        with self._lock:
            return self._removed.get(listing_id)

    def search(self, q: str = "", dept: str = "", seller: str = "") -> list[dict]:
        """Listings whose title+description contain every word of q (case-insensitive); taken-down ones drop out."""
        key = (q.lower(), dept, seller)
        with self._lock:
            removed = set(self._removed)
            cached = self._search_cache.get(key)
        if cached is not None:
            return cached
        words = key[0].split()
        rows = [
            row
            for row in self._listings
            if row["id"] not in removed
            and (not dept or row["department"] == dept)
            and (not seller or row["seller"] == seller)
            and all(w in self._haystack[row["id"]] for w in words)
        ]
        with self._lock:
            # Only cache if no removal changed meanwhile; remove()/restore() clear the cache.
            if set(self._removed) == removed and len(self._search_cache) < 1000:
                self._search_cache[key] = rows
        return rows

    def route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], str | bytes]:
        """(status, extra headers, body: html, or bytes for a photo) for a GET of path?query."""
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, pages.ROBOTS_TXT
        if path == "/":
            return 200, {}, pages.home_page()
        if path == "/static/market.css":
            return 200, {"Content-Type": "text/css; charset=utf-8"}, pages.MARKET_CSS
        if m := _PHOTO.match(path):
            png = photo_png(m.group(1))
            return (200, {"Content-Type": "image/png"}, png) if png else self._not_found("photo")
        if m := _PRICE.match(path):
            row = self._by_id.get(m.group(1))
            if row is None or not row.get("script_price") or self._removal(m.group(1)):
                return self._not_found("price")
            return 200, {"Content-Type": "application/json"}, pages.price_json(row)
        if path in ("/search", "/broken/search"):
            return self._search(query, broken=path.startswith("/broken") or self.layout == "broken-search")
        if m := _ITEM.match(path):
            return self._item(m.group(2), broken=bool(m.group(1)))
        if path.startswith("/account"):
            return 200, {}, pages.account_page()
        if path == "/shop":
            return 301, {"Location": "/shop/"}, ""
        if path == "/shop/":
            return 200, {}, shop.shop_home(self.shop_products)
        if m := _SHOP_CATEGORY.match(path):
            return self._shop_category(m.group(1), query)
        if m := _SHOP_PRODUCT.match(path):
            return self._shop_product(m.group(1))
        return self._not_found()

    def _not_found(self, what: str = "page") -> tuple[int, dict, str]:
        return 404, {}, pages.message_page("Page not found", f"Sorry, we couldn't find that {what}.", css="error-404")

    def _page_number(self, query: dict[str, str]) -> int | None:
        try:
            page = int(query.get("page") or 1)
        except ValueError:
            return None
        return page if page >= 1 else None

    def _search(self, query: dict[str, str], broken: bool):
        params = {k: query.get(k, "") for k in ("q", "dept", "seller")}
        page = self._page_number(query)
        if page is None:
            return 400, {}, pages.message_page("Bad request", "The page number must be a positive whole number.")
        rows = self.search(**params)
        pages_total = max(1, math.ceil(len(rows) / PER_PAGE))
        if page > pages_total:
            return self._not_found("results page")
        chunk = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
        return 200, {}, pages.search_page(chunk, len(rows), page, pages_total, params, broken=broken)

    def _item(self, listing_id: str, broken: bool):
        row = self._by_id.get(listing_id)
        if row is None:
            return self._not_found("listing")
        how = self._removal(listing_id)
        if how == "404":
            return self._not_found("listing")
        if how == "410":
            return (
                410,
                {},
                pages.message_page(
                    "Listing removed",
                    "This listing has been removed by the seller or by us and is no longer available.",
                    css="error-410",
                ),
            )
        if how == "redirect":
            words = " ".join(row["title"].split()[:3])
            return 302, {"Location": "/search?" + urlencode({"q": words, "redirected": "1"})}, ""
        headers = {"Last-Modified": _http_date(row["listed"])}
        if broken or self.layout == "broken":
            return 200, headers, pages.broken_item_page(row)
        if row.get("malformed") and how is None:
            return 200, headers, pages.malformed_item_page(row, self.url)
        key = (listing_id, how == "ended", self.url)
        page = self._item_pages.get(key)
        if page is None:
            page = self._item_pages[key] = pages.item_page(row, self.url, ended=key[1])
        return 200, headers, page

    def _shop_category(self, slug: str, query: dict[str, str]):
        rows = self._shop_departments.get(slug)
        page = self._page_number(query)
        if rows is None or page is None:
            return self._not_found("category")
        html, found = shop.shop_category(slug, rows, page)
        return (200, {}, html) if found else self._not_found("category page")

    def _shop_product(self, listing_id: str):
        row = self._shop_by_id.get(listing_id)
        if row is None:
            return self._not_found("product")
        how = self._removal(listing_id)
        if how in ("404", "410"):
            return int(how), {}, pages.message_page("Product unavailable", "This product is no longer available.")
        if how == "redirect":
            return 302, {"Location": "/shop/"}, ""
        headers = {"Last-Modified": _http_date(row["listed"])}
        return 200, headers, shop.shop_product(row, self.url, ended=(how == "ended"))


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of new connections (a crawl fetching many listings' photos at
    # once) overflowed it, and Linux then drops the handshake's last ACK; the client believes it is connected and
    # its request waits for SYN-ACK retransmissions (1+2+4+8+16 s), past Scrapy's 30 s download timeout.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoMarket/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive: a benchmark crawl should measure the crawler, not TCP set-up
    # Headers and body leave in one write; otherwise Nagle + delayed ACK stall each keep-alive response ~40ms.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        market: DemoMarket = self.server.market
        parts = urlsplit(self.path)
        market._count(self.command, self.path, self.headers.get("User-Agent", ""))
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            status, headers, html = market.route(parts.path, query)
        except Exception as exc:  # a bug in the demo must show up as a 500, not a dropped connection
            status, headers, html = 500, {}, pages.message_page("Server error", type(exc).__name__)
        body = html if isinstance(html, bytes) else html.encode("utf-8")
        self.send_response(status)
        headers.setdefault("Content-Type", "text/html; charset=utf-8")
        headers.setdefault("Last-Modified", market._site_modified)
        if "Location" in headers and headers["Location"].startswith("/"):
            headers["Location"] = market.url + headers["Location"]
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        if self.server.market.verbose:
            super().log_message(format, *args)


__all__ = ["DemoMarket", "DEPARTMENTS", "LAYOUTS", "REMOVAL_MODES", "PER_PAGE"]
