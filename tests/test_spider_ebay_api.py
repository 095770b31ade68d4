"""ebay_api against a local server on 127.0.0.1 that answers as eBay's published API reference documents
(tests/ebay_api_server.py): token minting and renewal, search with paging, item details, 401 mid-crawl, 429 with
Retry-After, the daily call budget, and listings stored as the same ebay_uk listings the HTML spider writes."""

import json
import sqlite3

import pytest
from scrapy import Request
from scrapy.http import TextResponse

import db
from spiders.ebay_auth import CredentialsError, read_credentials
from spiders.spiders.ebay_api import EbayApiSpider
from tests.ebay_api_server import CATALOGUE, CLIENT_ID, CLIENT_SECRET, ITEM_GROUP, EbayApi
from tests.support.cli import ROOT, run_keywatch

KEYS = {"EBAY_CLIENT_ID": CLIENT_ID, "EBAY_CLIENT_SECRET": CLIENT_SECRET, "EBAY_CREDENTIALS_FILE": "/nonexistent"}
FAST = (
    "-s",
    "RETRY_BACKOFF_BASE=0.1",
    "-s",
    "RETRY_BACKOFF_MAX=0.5",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
)


@pytest.fixture
def api():
    with EbayApi() as server:
        yield server


def crawl(api, tmp_path, *args, env=KEYS, check=True):
    return run_keywatch(
        "crawl",
        "ebay_api",
        "-s",
        f"EBAY_API_URL={api.url}",
        "-a",
        "sample_rate=0",
        *FAST,
        *args,
        "--db",
        tmp_path / "kw.sqlite",
        env=env,
        check=check,
        timeout=120,
    )


def rows(tmp_path, sql, params=()):
    con = sqlite3.connect(tmp_path / "kw.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def test_search_screen_and_item_details_stored_as_ebay_uk_listings(api, tmp_path):
    proc = crawl(api, tmp_path, "-a", "q=relay box")
    captures = rows(
        tmp_path,
        "SELECT c.purpose, c.request_url, c.fields, c.sha256, l.marketplace, l.listing_id FROM captures c "
        "JOIN listings l ON l.pk = c.listing_pk ORDER BY c.id",
    )
    items = [c for c in captures if c["purpose"] == "candidate"]
    assert sorted(c["listing_id"] for c in items) == ["356012345678", "356099990001"]  # the phone case is screened out
    assert {c["marketplace"] for c in captures} == {"ebay_uk"}
    relay = next(json.loads(c["fields"]) for c in items if c["listing_id"] == "356012345678")
    assert relay["url"] == "https://www.ebay.co.uk/itm/356012345678"  # the item's web page, for visual evidence
    assert (relay["title"], relay["price"], relay["currency"], relay["seller"]) == (
        "Keyless Entry Relay Box Signal Amplifier 2-Way Long Range Car Unlock Kit",
        "349.99",
        "GBP",
        "rf_tools_direct",
    )
    assert relay["extra"]["item_specifics"] == {"Brand": "Unbranded", "Type": "Signal Amplifier"}
    assert "claims" not in relay["extra"]
    # Each answer is a capture: the item's JSON, and the search answer it was found in as an attachment.
    assert [c["purpose"] for c in captures].count("attachment:search") == 2
    search = next(c for c in captures if c["purpose"] == "attachment:search")
    assert "/buy/browse/v1/item_summary/search?q=relay+box" in search["request_url"]
    # Every Browse call carried the token and the marketplace; one token served the whole crawl.
    browse = api.calls("/buy/browse/v1/")
    assert len(browse) == 3 and api.tokens_issued == 1
    assert {r["headers"]["x-ebay-c-marketplace-id"] for r in browse} == {"EBAY_GB"}
    assert all(r["headers"]["authorization"].startswith("Bearer v^1.1#") for r in browse)
    [token_call] = api.calls("/identity/v1/oauth2/token")
    assert token_call["query"] == {} and "grant_type=client_credentials" in token_call["body"]
    # The keys and the token never reach the output, the log or the store.
    secrets = (CLIENT_SECRET, "keywatch-test-1")
    assert not any(s in proc.stdout + proc.stderr for s in secrets)
    assert not any(s in (tmp_path / "kw.sqlite").read_bytes().decode("latin-1") for s in secrets)
    assert "API calls:        3 this run, 3 in 24 h of a budget of 5000" in proc.stdout
    run_keywatch("verify", "--db", tmp_path / "kw.sqlite")


def test_paging_follows_next_up_to_max_pages(api, tmp_path):
    crawl(api, tmp_path, "-a", "q=relay", "-a", "limit=1", "-a", "max_pages=2")
    searches = api.calls("/item_summary/search")
    assert [r["query"]["offset"] for r in searches] == ["0", "1"]  # a third page exists; max_pages stops it
    assert len(rows(tmp_path, "SELECT id FROM captures WHERE purpose = 'candidate'")) == 2


def test_a_token_revoked_mid_crawl_is_renewed_and_the_call_repeated(api, tmp_path):
    api.revoke_after_calls = 1  # the first search succeeds, then eBay stops accepting the token
    proc = crawl(api, tmp_path, "-a", "q=relay box")
    assert api.tokens_issued == 2
    refused = [r for r in api.calls("/buy/browse/v1/item/") if r["headers"]["authorization"].endswith("-1")]
    assert refused  # some item call went out with the old token and was refused (401)...
    assert len(rows(tmp_path, "SELECT id FROM captures WHERE purpose = 'candidate'")) == 2  # ...and was repeated
    assert "listing pages:    2 fetched = 2 stored" in proc.stdout


def test_a_token_about_to_expire_is_replaced_before_use(api, tmp_path):
    api.token_lifetime = 120  # within the two minutes' margin at once: replaced before the item calls go out
    crawl(api, tmp_path, "-a", "q=relay box")
    assert api.tokens_issued >= 2 == len({r["headers"]["authorization"] for r in api.calls("/buy/browse/v1/")})
    assert len(rows(tmp_path, "SELECT id FROM captures WHERE purpose = 'candidate'")) == 2


def test_429_waits_as_retry_after_says(api, tmp_path):
    api.rate_limits = [1]  # the first Browse call: 429, Retry-After: 1
    crawl(api, tmp_path, "-a", "q=relay box")
    first, second = api.calls("/item_summary/search")[:2]
    assert second["at"] - first["at"] >= 1.0
    assert len(rows(tmp_path, "SELECT id FROM captures WHERE purpose = 'candidate'")) == 2


def test_a_429_asking_for_longer_than_allowed_stops_the_run_and_says_so(api, tmp_path):
    api.rate_limits = [86400] * 10
    proc = crawl(api, tmp_path, "-a", "q=relay box", "-s", "EBAY_API_MAX_WAIT=5", check=False)
    assert proc.returncode == 1
    assert "finished (rate_limited)" in proc.stdout
    assert len(api.calls("/item_summary/search")) == 1  # no second call into a day-long rate limit


def test_daily_budget_is_respected_across_runs(api, tmp_path):
    proc = crawl(api, tmp_path, "-a", "q=relay box", "-s", "EBAY_API_DAILY_CALLS=2")
    assert len(api.calls("/buy/browse/v1/")) == 2
    assert "2 this run, 2 in 24 h of a budget of 2 (budget reached: calls skipped)" in proc.stdout
    proc = crawl(api, tmp_path, "-a", "q=relay box", "-s", "EBAY_API_DAILY_CALLS=3")
    assert len(api.calls("/buy/browse/v1/")) == 3  # the earlier run's 2 calls count
    assert "1 this run, 3 in 24 h of a budget of 3" in proc.stdout


def test_wrong_keys_stop_the_run_with_ebays_reason_and_no_secret(api, tmp_path):
    proc = crawl(api, tmp_path, env={**KEYS, "EBAY_CLIENT_SECRET": "wrong-secret-xyz"}, check=False)
    assert proc.returncode == 1 and "finished (api_keys_refused)" in proc.stdout
    assert "eBay refused the API keys (HTTP 401, invalid_client: client authentication failed)" in proc.stderr
    assert "wrong-secret-xyz" not in proc.stdout + proc.stderr


def test_without_keys_the_run_says_what_is_missing(api, tmp_path):
    env = {"EBAY_CLIENT_ID": "", "EBAY_CLIENT_SECRET": "", "EBAY_CREDENTIALS_FILE": str(tmp_path / "none.env")}
    proc = crawl(api, tmp_path, env=env, check=False)
    assert proc.returncode == 1 and "finished (no_api_keys)" in proc.stdout
    assert api.requests == []


def test_keys_from_a_file_outside_the_repository_never_inside(tmp_path):
    keys = tmp_path / "ebay_api.env"
    keys.write_text(f"# eBay production keys\nEBAY_CLIENT_ID={CLIENT_ID}\nEBAY_CLIENT_SECRET='{CLIENT_SECRET}'\n")
    assert read_credentials({"EBAY_CREDENTIALS_FILE": str(keys)}) == (CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(CredentialsError, match="outside the repository"):
        read_credentials({"EBAY_CREDENTIALS_FILE": str(ROOT / "ebay_api.env")})


def test_item_listed_in_another_currency_keeps_the_sellers_price():
    [item] = [i for i in CATALOGUE if i["legacyItemId"] == "198187151691"]
    url = "https://api.ebay.com/buy/browse/v1/item/v1%7C198187151691%7C0"
    response = TextResponse(url, body=json.dumps(item).encode(), request=Request(url))
    spider = EbayApiSpider()
    spider.api_url = "https://api.ebay.com"
    listing = spider.read_listing(response, "ebay_uk")
    assert (listing["listing_id"], listing["price"], listing["currency"]) == ("198187151691", "164.00", "EUR")
    assert listing["extra"]["converted_price"] == {"price": "141.20", "currency": "GBP"}
    assert listing["url"] == "https://www.ebay.co.uk/itm/198187151691"


def test_an_answer_naming_another_item_is_a_claim_not_an_identity():
    item = {**CATALOGUE[0], "legacyItemId": "111111111111", "itemWebUrl": "https://www.ebay.co.uk/itm/111111111111"}
    url = "https://api.ebay.com/buy/browse/v1/item/v1%7C356012345678%7C0"
    response = TextResponse(url, body=json.dumps(item).encode(), request=Request(url))
    spider = EbayApiSpider()
    spider.api_url = "https://api.ebay.com"
    listing = spider.read_listing(response, "ebay_uk")
    assert listing["listing_id"] == "356012345678"
    assert listing["extra"]["claims"]["listing_id"] == "111111111111"


def test_a_listing_with_variations_is_rechecked_as_its_item_group(api, tmp_path):
    api.catalogue += ITEM_GROUP
    crawl(api, tmp_path, "-a", "q=keyless repeater")
    group_id = ITEM_GROUP[0]["legacyItemId"]
    assert rows(tmp_path, "SELECT listing_id FROM listings WHERE flagged = 1 AND listing_id = ?", (group_id,))
    # one variation sold out: the listing is still on sale
    api.catalogue[-1] = {**ITEM_GROUP[1], "estimatedAvailabilities": [{"estimatedAvailabilityStatus": "OUT_OF_STOCK"}]}
    crawl(api, tmp_path, "-a", "q=nothing-matches-this")
    # eBay answers the group's legacy id with error 11006; the group call that it names answers for the listing
    assert [c["query"] for c in api.calls("/item/get_items_by_item_group")] == [{"item_group_id": group_id}]
    api.catalogue = list(CATALOGUE)  # the seller took the listing down
    crawl(api, tmp_path, "-a", "q=nothing-matches-this")
    checks = rows(
        tmp_path,
        "SELECT s.status, c.request_url, c.fields FROM listing_status s JOIN captures c ON c.id = s.capture_id "
        "JOIN listings l ON l.pk = c.listing_pk WHERE l.listing_id = ? AND c.purpose = 'recheck' ORDER BY c.id",
        (group_id,),
    )
    assert [c["status"] for c in checks] == ["live", "removed"]
    assert "get_items_by_item_group" in checks[0]["request_url"]
    live = json.loads(checks[0]["fields"])
    assert live["title"].startswith("Keyless Repeater Kit") and live["extra"]["variations"] == 2
    assert live["description"]  # the group's shared description
    run_keywatch("verify", "--db", tmp_path / "kw.sqlite")


def test_an_item_group_has_ended_when_every_variation_has():
    url = "https://api.ebay.com/buy/browse/v1/item/get_items_by_item_group?item_group_id=356077770001"
    sold_out = [{"estimatedAvailabilityStatus": "OUT_OF_STOCK"}]
    past = "2020-01-01T00:00:00.000Z"
    spider = EbayApiSpider()
    for items, status in (
        ([{**ITEM_GROUP[0], "estimatedAvailabilities": sold_out}, {**ITEM_GROUP[1], "itemEndDate": past}], "ended"),
        ([{**ITEM_GROUP[0], "estimatedAvailabilities": sold_out}, ITEM_GROUP[1]], "live"),
        ([], "ended"),
    ):
        body = json.dumps({"items": items, "commonDescriptions": "not a list of descriptions"}).encode()
        assert spider.listing_status(TextResponse(url, body=body, request=Request(url))) == status


def test_api_and_web_pages_write_one_ebay_uk_listing_and_no_one_else_may(tmp_path):
    store = db.connect(tmp_path / "kw.sqlite")
    base = {"marketplace": "ebay_uk", "listing_id": "356012345678", "status": 200, "title": "Relay box"}
    for spider, url in (
        ("ebay_uk", "https://www.ebay.co.uk/itm/356012345678"),
        ("ebay_api", "https://api.ebay.com/buy/browse/v1/item/v1%7C356012345678%7C0"),
    ):
        run = db.start_run(store, spider=spider)
        hosts = ["ebay.co.uk"] if spider == "ebay_uk" else ["api.ebay.com", "ebay.co.uk"]
        db.declare_hosts(store, run, spider, {"ebay_uk": hosts})
        db.save_capture(store, {**base, "url": url, "body": spider.encode()}, run_id=run)
    assert store.execute("SELECT count(*) FROM listings").fetchone()[0] == 1
    assert db.verify(store).ok
    shop = db.start_run(store, spider="webshop")
    with pytest.raises(db.ForeignHost, match="written by spider"):
        db.declare_hosts(store, shop, "webshop", {"ebay_uk": ["ebay_uk"]})
    store.close()


def test_crawl_all_prefers_the_api_when_keys_are_configured_and_says_so(api, tmp_path):
    config = tmp_path / "marketplaces.yaml"
    config.write_text(
        "marketplaces:\n  - spider: ebay_uk\n    args: {queries: relay box, sample_rate: 0}\n"
        f"    settings: {{EBAY_API_URL: '{api.url}', DOWNLOAD_DELAY: 0, AUTOTHROTTLE_ENABLED: 0}}\n"
    )
    proc = run_keywatch("crawl", "--all", "--config", config, "--db", tmp_path / "kw.sqlite", env=KEYS, check=False)
    assert "ebay_uk: crawled with ebay_api (API keys configured)" in proc.stdout
    assert len(api.calls("/item_summary/search")) == 1
    assert len(rows(tmp_path, "SELECT id FROM captures WHERE purpose = 'candidate'")) == 2


def test_without_keys_crawl_all_keeps_the_web_spider_and_says_why(monkeypatch):
    from keywatch.crawling import project_settings
    from keywatch.weekly import MarketplaceJob, official_route

    for name in ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EBAY_CREDENTIALS_FILE", "/nonexistent/ebay_api.env")
    settings = project_settings(ROOT / "unused.sqlite", ROOT / "watchlist.yaml")
    job, note = official_route(MarketplaceJob("ebay_uk"), settings)
    assert job.spider == "ebay_uk"
    assert note == "ebay_uk: crawled from its web pages (ebay_api is not configured: no API keys)"
    assert official_route(MarketplaceJob("gumtree"), settings) == (MarketplaceJob("gumtree"), None)


def test_keywatch_parse_reads_a_saved_api_answer(tmp_path):
    from click.testing import CliRunner

    from keywatch.cli import cli

    saved = tmp_path / "item.json"
    saved.write_text(json.dumps(CATALOGUE[0]))
    url = "https://api.ebay.com/buy/browse/v1/item/v1%7C356012345678%7C0"
    result = CliRunner().invoke(cli, ["parse", "ebay_api", str(saved), "--url", url, "--kind", "item"])
    listing = json.loads(result.output)
    assert (listing["marketplace"], listing["listing_id"], listing["price"]) == ("ebay_uk", "356012345678", "349.99")
