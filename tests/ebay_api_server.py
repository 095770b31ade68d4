"""A local stand-in for eBay's REST API on 127.0.0.1, answering as eBay's published reference documents it.

- `POST /identity/v1/oauth2/token` (client credentials grant): form body `grant_type=client_credentials&scope=...`,
  `Authorization: Basic base64(client_id:client_secret)`; answers `{"access_token", "expires_in", "token_type":
  "Application Access Token"}`, or 401 `{"error": "invalid_client", "error_description": "client authentication
  failed"}`.
- `GET /buy/browse/v1/item_summary/search?q=&category_ids=&filter=&limit=&offset=`: a SearchPagedCollection
  (`href`, `total`, `limit`, `offset`, `next`/`prev` when there are more, `itemSummaries[]` of ItemSummary:
  `itemId` "v1|<legacy id>|0", `legacyItemId`, `title`, `price` {value, currency}, `seller` {username,
  feedbackPercentage, feedbackScore}, `condition`, `itemWebUrl`, `itemHref`, `categories`, `image`).
- `GET /buy/browse/v1/item/{item_id}` and `/buy/browse/v1/item/get_item_by_legacy_id?legacy_item_id=
  [&legacy_variation_id=]`: an Item (the summary's fields plus `description`, `shortDescription`,
  `localizedAspects`, `additionalImages`, `itemEndDate`, `categoryPath`, `estimatedAvailabilities`, and
  `price.convertedFromValue/convertedFromCurrency` when eBay converted the seller's price); 404 with eBay's error
  container when the item is unknown. A listing with variations is an item group: its legacy id without a
  `legacy_variation_id` is answered 400, errorId 11006, naming the group call.
- `GET /buy/browse/v1/item/get_items_by_item_group?item_group_id=`: `{"items": [Item of each variation, without
  its description], "commonDescriptions": [{"description", "itemIds"}]}`; 404 when the group is unknown.
- Errors use eBay's container `{"errors": [{"errorId", "domain", "category", "message", "longMessage"}]}`: an
  expired or unknown token is 401 errorId 1001 "Invalid access token"; too many calls is 429 with `Retry-After`.

Every request is recorded (`.requests`) so tests can check headers, paging and timing.
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

CLIENT_ID = "keywatch-test-client-id"
CLIENT_SECRET = "keywatch-test-client-secret-123"
SCOPE = "https://api.ebay.com/oauth/api_scope"
BROWSE = "/buy/browse/v1"


def error(error_id: int, domain: str, message: str, long_message: str | None = None, category="REQUEST") -> dict:
    entry = {"errorId": error_id, "domain": domain, "category": category, "message": message}
    if long_message:
        entry["longMessage"] = long_message
    return {"errors": [entry]}


INVALID_TOKEN = error(
    1001,
    "OAuth",
    "Invalid access token",
    "Invalid access token. Check the value of the Authorization HTTP request header.",
)
TOO_MANY = error(2001, "ACCESS", "Too many requests. The request limit has been reached for the resource.")


def item(legacy_id, title, price, currency="GBP", seller="rf_tools_direct", variation="0", **more) -> dict:
    """An Item as getItem returns it (the search summary is derived from it); `variation`: one of an item group."""
    converted = more.pop("converted", None)
    data = {
        "itemId": f"v1|{legacy_id}|{variation}",
        "legacyItemId": str(legacy_id),
        "title": title,
        "shortDescription": more.pop("short", ""),
        "description": more.pop("description", f"<div><p>{title}</p></div>"),
        "price": {"value": price, "currency": currency},
        "categoryPath": "Vehicle Parts & Accessories|Car Tuning & Styling|Keyless Entry",
        "categoryId": "174115",
        "condition": "New",
        "conditionId": "1000",
        "itemLocation": {"city": "Leeds", "postalCode": "LS1****", "country": "GB"},
        "image": {"imageUrl": f"https://i.ebayimg.com/images/g/{legacy_id}/s-l1600.jpg"},
        "additionalImages": [{"imageUrl": f"https://i.ebayimg.com/images/g/{legacy_id}b/s-l1600.jpg"}],
        "seller": {
            "username": seller,
            "feedbackPercentage": "98.7",
            "feedbackScore": 312,
            "sellerAccountType": "BUSINESS",
        },
        "localizedAspects": [
            {"type": "STRING", "name": "Brand", "value": "Unbranded"},
            {"type": "STRING", "name": "Type", "value": "Signal Amplifier"},
        ],
        "buyingOptions": ["FIXED_PRICE"],
        "itemEndDate": "2027-01-30T10:00:00.000Z",
        "estimatedAvailabilities": [{"estimatedAvailabilityStatus": "IN_STOCK", "estimatedAvailableQuantity": 4}],
        "itemWebUrl": f"https://www.ebay.co.uk/itm/{legacy_id}",
        **more,
    }
    if variation != "0":
        data["primaryItemGroup"] = {"itemGroupId": str(legacy_id), "itemGroupType": "SELLER_DEFINED_VARIATIONS"}
    if converted:  # eBay converted the seller's listed price into the marketplace's currency
        data["price"] = {
            "value": converted[0],
            "currency": converted[1],
            "convertedFromValue": price,
            "convertedFromCurrency": currency,
        }
    return data


CATALOGUE = [
    item("356012345678", "Keyless Entry Relay Box Signal Amplifier 2-Way Long Range Car Unlock Kit", "349.99"),
    item("270987654321", "Silicone Phone Case for iPhone 15 Pro Clear", "4.99", seller="case_world"),
    item(
        "198187151691",
        "Autel MaxiIM KM100 Key Programmer Transponder Tool",
        "164.00",
        "EUR",
        seller="richiengel",
        converted=("141.20", "GBP"),
    ),
    item("356099990001", "Keyless Repeater Relay Attack Box Pro 2025", "420.00", seller="rf_tools_direct"),
    item("270911112222", "Car Wash Sponge Microfibre Pack of 3", "6.50", seller="clean_cars_uk"),
]

# A listing with variations (an item group): one listing on eBay's site, one item per variation in the API.
ITEM_GROUP = [
    item("356077770001", f"Keyless Repeater Kit Long Range, {colour}", "380.00", variation=variation)
    for variation, colour in (("626550000101", "Black"), ("626550000102", "Silver"))
]

ITEM_GROUP_ERROR = 11006  # eBay's answer to a group's legacy id given without a variation


def summary(data: dict, base: str) -> dict:
    keep = ("itemId", "legacyItemId", "title", "price", "seller", "condition", "conditionId", "image")
    return {
        **{k: data[k] for k in keep if k in data},
        "itemHref": f"{base}{BROWSE}/item/{quote(data['itemId'])}",
        "itemWebUrl": data["itemWebUrl"],
        "categories": [{"categoryId": data["categoryId"], "categoryName": "Keyless Entry"}],
        "buyingOptions": data["buyingOptions"],
        "itemLocation": {"postalCode": data["itemLocation"]["postalCode"], "country": "GB"},
    }


class Handler(BaseHTTPRequestHandler):
    server: "EbayApi"

    def log_message(self, *args):
        pass

    def answer(self, status: int, body: dict, headers: dict | None = None):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def record(self, body: bytes = b""):
        parts = urlsplit(self.path)
        entry = {
            "method": self.command,
            "path": unquote(parts.path),
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "headers": {name.lower(): value for name, value in self.headers.items()},  # names are case-insensitive
            "body": body.decode("latin-1"),
            "at": time.monotonic(),
        }
        with self.server.lock:
            self.server.requests.append(entry)
        return entry

    def do_POST(self):  # noqa: N802 - http.server's name
        request = self.record(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if request["path"] != "/identity/v1/oauth2/token":
            return self.answer(404, error(2002, "ACCESS", "Resource not found"))
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request["headers"].get("authorization") != f"Basic {expected}":
            return self.answer(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        form = {k: v[0] for k, v in parse_qs(request["body"]).items()}
        if request["headers"].get("content-type") != "application/x-www-form-urlencoded":
            return self.answer(400, {"error": "invalid_request", "error_description": "request is missing a header"})
        if form.get("grant_type") != "client_credentials" or form.get("scope") != SCOPE:
            return self.answer(400, {"error": "invalid_scope", "error_description": "the requested scope is invalid"})
        with self.server.lock:
            self.server.tokens_issued += 1
            token = f"v^1.1#i^1#p^1#r^0#I^3#f^0#t^keywatch-test-{self.server.tokens_issued}"
            self.server.valid_tokens[token] = time.monotonic() + self.server.token_lifetime
        self.answer(
            200,
            {"access_token": token, "expires_in": self.server.token_lifetime, "token_type": "Application Access Token"},
        )

    def do_GET(self):  # noqa: N802 - http.server's name
        request = self.record()
        server = self.server
        token = (request["headers"].get("authorization") or "").removeprefix("Bearer ")
        with server.lock:
            valid = server.valid_tokens.get(token, 0) > time.monotonic()
            if valid and server.revoke_after_calls is not None:
                server.revoke_after_calls -= 1
                if server.revoke_after_calls < 0:  # eBay revoked the token mid-crawl
                    server.valid_tokens.clear()
                    server.revoke_after_calls = None
                    valid = False
            limited = server.rate_limits.pop(0) if server.rate_limits and valid else None
        if not valid:
            return self.answer(401, INVALID_TOKEN, {"WWW-Authenticate": 'Bearer realm="ebay"'})
        if limited is not None:
            return self.answer(429, TOO_MANY, {"Retry-After": str(limited)})
        path, query = request["path"], request["query"]
        if path == f"{BROWSE}/item_summary/search":
            return self.search(query)
        if path == f"{BROWSE}/item/get_item_by_legacy_id":
            return self.by_legacy_id(query.get("legacy_item_id", ""), query.get("legacy_variation_id"))
        if path == f"{BROWSE}/item/get_items_by_item_group":
            return self.item_group(query.get("item_group_id", ""))
        if path.startswith(f"{BROWSE}/item/"):
            return self.one_item(path.removeprefix(f"{BROWSE}/item/"))
        return self.answer(404, error(2002, "ACCESS", "Resource not found"))

    def search(self, query: dict):
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        if offset % limit:
            return self.answer(
                400,
                error(
                    12024, "API_BROWSE", "The 'offset' value must be either zero or a multiple of the 'limit' value."
                ),
            )
        words = (query.get("q") or "").lower().split()
        found = [i for i in self.server.catalogue if any(w in i["title"].lower() for w in words)] if words else []
        page = found[offset : offset + limit]
        base = self.server.url
        href = f"{base}{BROWSE}/item_summary/search?q={quote(query.get('q', ''))}&limit={limit}&offset={offset}"
        body = {"href": href, "total": len(found), "limit": limit, "offset": offset}
        if offset + limit < len(found):
            body["next"] = href.replace(f"offset={offset}", f"offset={offset + limit}")
        if offset:
            body["prev"] = href.replace(f"offset={offset}", f"offset={offset - limit}")
        if page:
            body["itemSummaries"] = [summary(i, base) for i in page]
        self.answer(200, body)

    def by_legacy_id(self, legacy_id: str, variation: str | None):
        if variation is None and self.item_group_of(legacy_id):
            group_call = f"{BROWSE}/item/get_items_by_item_group?item_group_id={legacy_id}"
            message = f"The legacy Id is invalid. Use {group_call} to get the item group details."
            return self.answer(400, error(ITEM_GROUP_ERROR, "API_BROWSE", message))
        return self.one_item(f"v1|{legacy_id}|{variation or 0}")

    def item_group(self, group_id: str):
        items = self.item_group_of(group_id)
        if not items:
            return self.answer(404, error(11001, "API_BROWSE", "The specified item group Id was not found."))
        description = items[0]["description"]
        self.answer(
            200,
            {
                "items": [{k: v for k, v in i.items() if k != "description"} for i in items],
                "commonDescriptions": [{"description": description, "itemIds": [i["itemId"] for i in items]}],
            },
        )

    def item_group_of(self, legacy_id: str) -> list[dict]:
        return [i for i in self.server.catalogue if i["legacyItemId"] == legacy_id and "primaryItemGroup" in i]

    def one_item(self, item_id: str):
        found = next((i for i in self.server.catalogue if i["itemId"] == item_id), None)
        if found is None:
            return self.answer(404, error(11001, "API_BROWSE", "The specified item Id was not found."))
        self.answer(200, found)


class EbayApi(ThreadingHTTPServer):
    """`with EbayApi() as api:` serves on 127.0.0.1 (a free port) at `api.url`."""

    def __init__(self, token_lifetime: int = 7200):
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.catalogue = list(CATALOGUE)
        self.token_lifetime = token_lifetime
        self.valid_tokens: dict[str, float] = {}
        self.tokens_issued = 0
        self.revoke_after_calls: int | None = None  # revoke every token after this many Browse calls
        self.rate_limits: list[int] = []  # the next Browse calls answer 429 with these Retry-After seconds

    def __enter__(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    def calls(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"]]
