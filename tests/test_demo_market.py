"""The demo marketplace: catalogue invariants, and the real HTTP server on 127.0.0.1."""

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import extruct
import pytest
from parsel import Selector

from demo_market import (
    CATEGORIES,
    DEVICE_CATEGORIES,
    PER_PAGE,
    CatalogueError,
    DemoMarket,
    format_price,
    load_catalogue,
)

CATALOGUE = load_catalogue()
BY_ID = {row["id"]: row for row in CATALOGUE}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, method="GET", follow=True, timeout=10):
    """(status, headers, body) without raising on 4xx/5xx."""
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def page(url):
    status, _, body = fetch(url)
    assert status == 200, url
    return Selector(text=body.decode("utf-8"))


def crawl_search(market, start):
    """Follow a.pagination__next from `start`; returns (ids in order, number of pages, count heading)."""
    ids, pages, url, heading = [], 0, market.url + start, None
    while url:
        sel = page(url)
        pages += 1
        cards = sel.css("li.result-card")
        assert len(cards) <= PER_PAGE
        ids += cards.xpath("@data-listing-id").getall()
        heading = heading or sel.css(".results-count::text").get()
        nxt = sel.css("a.pagination__next[rel=next]::attr(href)").get()
        url = urljoin(url, nxt) if nxt else None
    return ids, pages, int(heading.replace(",", ""))


def product_ld(body: bytes) -> dict:
    blocks = Selector(text=body.decode()).css('script[type="application/ld+json"]::text').getall()
    assert len(blocks) == 1
    return json.loads(blocks[0])


# -- catalogue ----------------------------------------------------------------------------------------


def test_catalogue_size_and_balance():
    counts = Counter(row["category"] for row in CATALOGUE)
    assert len(CATALOGUE) >= 150
    assert set(counts) == set(CATEGORIES)  # every device category and innocents, nothing else
    assert all(counts[c] >= 5 for c in DEVICE_CATEGORIES), counts
    devices = sum(counts[c] for c in DEVICE_CATEGORIES)
    assert counts["none"] >= devices


def test_catalogue_fields_and_ids():
    assert len(BY_ID) == len(CATALOGUE)
    for row in CATALOGUE:
        assert re.fullmatch(r"DM1\d{4}", row["id"]), row["id"]
        assert row["currency"] in {"GBP", "EUR", "USD"}
        assert re.fullmatch(r"\d+\.\d\d", row["price"]), row
        assert row["seller_type"] in {"Organization", "Person"}
        assert 20 <= len(row["description"]) <= 600 and len(row["title"]) <= 100, row["id"]
    assert Counter(r["currency"] for r in CATALOGUE).most_common(1)[0][0] == "GBP"


def test_catalogue_has_the_test_cases_other_pieces_rely_on():
    malformed = [r for r in CATALOGUE if r.get("malformed")]
    assert len(malformed) == 1 and malformed[0]["category"] == "none"  # an innocent, so the hit set is unaffected
    assert sum(1 for r in CATALOGUE if r.get("hostile")) >= 2
    per_seller = Counter(r["seller"] for r in CATALOGUE)
    assert sum(1 for n in per_seller.values() if n >= 5) >= 2
    # Each web-shop markup style carries at least one device and a few innocents.
    for style in ("jsonld", "microdata", "opengraph", "meta"):
        rows = [r for r in CATALOGUE if r.get("shop") == style]
        assert any(r["category"] != "none" for r in rows), style
        assert sum(r["category"] == "none" for r in rows) >= 2, style


def test_load_catalogue_names_the_bad_line(tmp_path):
    good = json.dumps(CATALOGUE[0])
    path = tmp_path / "c.jsonl"
    path.write_text(good + "\n" + good + "\n")
    with pytest.raises(CatalogueError, match=r"c\.jsonl:2: duplicate id"):
        load_catalogue(path)
    path.write_text(good + "\n{not json\n")
    with pytest.raises(CatalogueError, match=r"c\.jsonl:2: not valid JSON"):
        load_catalogue(path)
    path.write_text(json.dumps({**CATALOGUE[0], "category": "ambiguous"}) + "\n")
    with pytest.raises(CatalogueError, match=r"c\.jsonl:1: unknown category 'ambiguous'"):
        load_catalogue(path)


# -- server basics ------------------------------------------------------------------------------------


def test_binds_to_localhost_on_a_free_port(demo_market):
    parts = urlsplit(demo_market.url)
    assert parts.hostname == "127.0.0.1" and parts.port and parts.port > 0
    status, _, body = fetch(demo_market.url + "/")
    assert status == 200
    sel = Selector(text=body.decode())
    assert sel.css("form[action='/search'] input[name=q]")
    assert len(sel.css("a.category-link")) >= 5


def test_headers_and_head(demo_market):
    status, headers, body = fetch(demo_market.url + "/item/DM10001")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    assert parsedate_to_datetime(headers["Last-Modified"]).isoformat().startswith(BY_ID["DM10001"]["listed"][:10])
    status, head_headers, head_body = fetch(demo_market.url + "/item/DM10001", method="HEAD")
    assert status == 200 and head_body == b""
    assert head_headers["Content-Length"] == headers["Content-Length"]


def test_counts_requests(demo_market):
    before = demo_market.requests
    for _ in range(3):
        fetch(demo_market.url + "/robots.txt")
    assert demo_market.requests == before + 3
    assert demo_market.request_log[-1] == ("GET", "/robots.txt")


def test_robots_txt_keeps_crawlers_out_of_account(demo_market):
    status, headers, body = fetch(demo_market.url + "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    robots = RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert not robots.can_fetch("keywatch", demo_market.url + "/account/")
    assert robots.can_fetch("keywatch", demo_market.url + "/item/DM10001")
    assert robots.can_fetch("keywatch", demo_market.url + "/shop/")
    assert fetch(demo_market.url + "/account/")[0] == 200  # it exists: a crawler that ignores robots would reach it


def test_unknown_pages(demo_market):
    assert fetch(demo_market.url + "/item/DM99999")[0] == 404
    assert fetch(demo_market.url + "/nowhere")[0] == 404
    assert fetch(demo_market.url + "/search?q=&page=999")[0] == 404
    assert fetch(demo_market.url + "/search?q=&page=abc")[0] == 400


# -- search -------------------------------------------------------------------------------------------


def test_browse_all_pagination_covers_every_listing_once(demo_market):
    ids, pages, heading = crawl_search(demo_market, "/search?q=")
    assert heading == len(CATALOGUE)
    assert len(ids) == len(set(ids)) == len(CATALOGUE)
    assert set(ids) == set(BY_ID)
    assert pages == -(-len(CATALOGUE) // PER_PAGE)


def test_search_matches_every_word_case_insensitively(demo_market):
    for q, words in (
        ("Faraday", ["faraday"]),
        ("KEY programmer", ["key", "programmer"]),
        ("lishi hu66", ["lishi", "hu66"]),
    ):
        expected = [
            r["id"] for r in CATALOGUE if all(w in (r["title"] + "\n" + r["description"]).lower() for w in words)
        ]
        ids, _, heading = crawl_search(demo_market, "/search?" + urllib.parse.urlencode({"q": q}))
        assert expected and ids == expected and heading == len(expected)
    assert crawl_search(demo_market, "/search?q=zzzznothing")[0] == []


def test_result_cards_show_title_price_and_seller(demo_market):
    sel = page(demo_market.url + "/search?q=")
    card = sel.css("li.result-card")[0]
    row = BY_ID[card.attrib["data-listing-id"]]
    assert card.css("a::attr(href)").get() == f"/item/{row['id']}"
    assert card.css(".result-card__title::text").get() == row["title"]
    assert card.css(".result-card__seller-name::text").get() == row["seller"]
    assert card.css(".result-card__price::text").get().endswith(f"{float(row['price']):,.2f}")


def test_department_and_seller_filters(demo_market):
    ids, _, _ = crawl_search(demo_market, "/search?dept=locksmithing")
    assert ids == [r["id"] for r in CATALOGUE if r["department"] == "locksmithing"]
    ids, _, _ = crawl_search(demo_market, "/search?seller=autokeys_direct")
    assert len(ids) >= 5 and all(BY_ID[i]["seller"] == "autokeys_direct" for i in ids)


# -- item pages ---------------------------------------------------------------------------------------


def test_every_item_page_matches_the_catalogue(demo_market):
    for row in CATALOGUE:
        if row.get("malformed"):
            continue
        status, _, body = fetch(demo_market.item_url(row["id"]))
        assert status == 200
        sel = Selector(text=body.decode())
        assert sel.css("h1.item-title::text").get() == row["title"]
        assert sel.css(".seller-name::text").get() == row["seller"]
        assert sel.css(".item-condition::text").get() == row["condition"]
        assert sel.css("div#description p::text").get() == row["description"]
        assert sel.css("link[rel=canonical]::attr(href)").get() == demo_market.item_url(row["id"])
        assert sel.css("nav.breadcrumb li a")
        assert sel.css("table.item-specifics__table td::text").get() == row["id"]
        ld = product_ld(body)
        assert ld["@type"] == "Product"
        assert (ld["name"], ld["description"], ld["sku"]) == (row["title"], row["description"], row["id"])
        offer = ld["offers"]
        if row.get("script_price"):  # only a script shows the price: the page as served does not hold it
            assert "price" not in offer and not sel.css(".item-price::text").get()
            assert row["price"] not in body.decode().split("<footer")[0].split("</h1>", 1)[1]
        else:
            assert offer["price"] == row["price"]
        assert offer["priceCurrency"] == row["currency"]
        assert offer["seller"] == {"@type": row["seller_type"], "name": row["seller"]}
        assert offer["availability"] == "https://schema.org/InStock"


def test_price_display():
    from demo_market import format_price

    assert format_price("189.99", "GBP") == "£189.99"
    assert format_price("14500.00", "GBP") == "£14,500.00"
    assert format_price("29.99", "EUR") == "€29.99"


def test_text_is_escaped_in_html_and_json_ld(demo_market):
    row = next(r for r in CATALOGUE if "<b>" in r["description"])
    _, _, body = fetch(demo_market.item_url(row["id"]))
    text = body.decode()
    assert "<b>100%" not in text and "&lt;b&gt;100%" in text
    assert product_ld(body)["description"] == row["description"]  # escaping is lossless


def test_hostile_pages_carry_an_inline_script_and_a_form(demo_market):
    hostile = [r for r in CATALOGUE if r.get("hostile")]
    for row in hostile:
        sel = Selector(text=fetch(demo_market.item_url(row["id"]))[2].decode())
        assert sel.css("script:not([type])"), row["id"]
        assert sel.css("main form"), row["id"]
    plain = next(r for r in CATALOGUE if not r.get("hostile") and not r.get("malformed"))
    assert not Selector(text=fetch(demo_market.item_url(plain["id"]))[2].decode()).css("main form")


def test_malformed_page_is_truncated_with_invalid_json_ld(demo_market):
    row = next(r for r in CATALOGUE if r.get("malformed"))
    status, _, body = fetch(demo_market.item_url(row["id"]))
    assert status == 200
    text = body.decode()
    assert "</html>" not in text and row["title"] in text
    raw = Selector(text=text).css('script[type="application/ld+json"]::text').get()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


# -- removals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how,status", [("404", 404), ("410", 410), ("ended", 200), ("redirect", 302)])
def test_remove_and_restore(demo_market, how, status):
    listing_id = "DM10010"
    url = demo_market.item_url(listing_id)
    assert listing_id in crawl_search(demo_market, "/search?q=")[0]  # also warms the search cache
    demo_market.remove(listing_id, how=how)
    got, headers, body = fetch(url, follow=False)
    assert got == status
    if how == "ended":
        assert "This listing has ended" in body.decode()
        assert product_ld(body)["offers"]["availability"] == "https://schema.org/OutOfStock"
    if how == "redirect":
        assert headers["Location"].startswith(demo_market.url + "/search?q=")
        assert fetch(url)[0] == 200  # following it lands on a search page
    ids, _, _ = crawl_search(demo_market, "/search?q=")
    assert listing_id not in ids  # taken-down listings drop out of search, as on real sites
    demo_market.restore(listing_id)
    got, _, body = fetch(url, follow=False)
    assert got == 200 and "This listing has ended" not in body.decode()
    assert listing_id in crawl_search(demo_market, "/search?q=")[0]


def test_remove_rejects_bad_arguments(demo_market):
    with pytest.raises(ValueError):
        demo_market.remove("DM10001", how="gone")
    with pytest.raises(KeyError):
        demo_market.remove("DM99999")


# -- broken layouts -----------------------------------------------------------------------------------


def test_broken_layout_drops_item_markup(demo_market):
    row = next(r for r in CATALOGUE if not r.get("malformed"))
    demo_market.set_layout("broken")
    sel = page(demo_market.item_url(row["id"]))
    assert not sel.css("h1.item-title") and not sel.css(".item-price") and not sel.css("#description")
    assert not sel.css('script[type="application/ld+json"]')
    assert row["title"] in sel.get()  # the content is still there, only the markup changed
    assert crawl_search(demo_market, "/search?q=")[2] == len(CATALOGUE)  # search still works
    demo_market.set_layout("broken-search")
    assert page(demo_market.url + "/search?q=").css("li.result-card") == []
    assert page(demo_market.item_url(row["id"])).css("h1.item-title")
    demo_market.set_layout("normal")
    assert page(demo_market.url + "/broken/item/" + row["id"]).css("h1.item-title") == []
    assert page(demo_market.url + "/broken/search?q=").css("li.result-card") == []
    with pytest.raises(ValueError):
        demo_market.set_layout("sideways")


# -- scale --------------------------------------------------------------------------------------------


def test_scale_serves_labelled_variations():
    with DemoMarket(port=0, scale=3) as market:
        listings = market.listings
        assert len(listings) == 3 * len(CATALOGUE)
        copy = next(r for r in listings if r["id"] == "DM10001-3")
        assert copy["category"] == BY_ID["DM10001"]["category"]
        assert copy["title"] != BY_ID["DM10001"]["title"] and BY_ID["DM10001"]["title"] in copy["title"]
        assert abs(Decimal(copy["price"]) / Decimal(BY_ID["DM10001"]["price"]) - 1) <= Decimal("0.05")
        assert sum(1 for r in listings if r.get("malformed")) == 1
        ids, _, heading = crawl_search(market, "/search?q=")
        assert heading == len(ids) == len(set(ids)) == len(listings)
        ld = product_ld(fetch(market.item_url("DM10001-3"))[2])
        assert (ld["sku"], ld["name"], ld["offers"]["price"]) == ("DM10001-3", copy["title"], copy["price"])


# -- the web shop -------------------------------------------------------------------------------------


def test_shop_crawl_finds_every_product_in_its_markup_style(demo_market):
    base = demo_market.url
    seen, queue, products = set(), [base + "/shop/"], {}
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        status, _, body = fetch(url)
        assert status == 200, url
        for href in Selector(text=body.decode()).css("a::attr(href)").getall():
            target = urljoin(url, href)
            assert urlsplit(target).path.startswith("/shop/"), f"{url} links out of the shop: {href}"
            queue.append(target)
        if m := re.search(r"/shop/product/([\w-]+)$", url):
            products[m.group(1)] = body.decode()
    shop_rows = {r["id"]: r for r in CATALOGUE if r.get("shop")}
    assert set(products) == set(shop_rows)
    assert any("page=2" in u for u in seen)  # category pagination was exercised
    for listing_id, html in products.items():
        row = shop_rows[listing_id]
        data = extruct.extract(html, base_url=base, syntaxes=["json-ld", "microdata", "opengraph"], uniform=True)
        present = {k for k, v in data.items() if v}
        expected = {"jsonld": {"json-ld"}, "microdata": {"microdata"}, "opengraph": {"opengraph"}, "meta": set()}
        assert present == expected[row["shop"]], listing_id
        if row["shop"] == "jsonld":
            assert data["json-ld"][0]["sku"] == listing_id and data["json-ld"][0]["offers"]["price"] == row["price"]
        elif row["shop"] == "microdata":
            item = data["microdata"][0]
            assert (item["name"], item["sku"], item["offers"]["price"]) == (row["title"], listing_id, row["price"])
        elif row["shop"] == "opengraph":
            og = data["opengraph"][0]
            assert (og["og:title"], og["product:price:amount"], og["product:price:currency"]) == (
                row["title"],
                row["price"],
                row["currency"],
            )
        else:
            sel = Selector(text=html)
            assert sel.css("title::text").get().startswith(row["title"])
            assert sel.css("meta[name=description]::attr(content)").get() == row["description"]


# -- python -m demo_market ----------------------------------------------------------------------------


def test_module_entry_point_serves_until_interrupted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo_market", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        # Generous timeouts: on a loaded machine (the full suite on 2 cores) this took over 10 s twice.
        assert fetch(url + "/", timeout=60)[0] == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_module_entry_point_reports_a_busy_port_in_one_line(demo_market):
    port = urlsplit(demo_market.url).port
    proc = subprocess.run(
        [sys.executable, "-m", "demo_market", "--port", str(port)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"demo_market: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_one_listing_fills_its_price_in_with_a_script_from_an_api(demo_market):
    [row] = [r for r in CATALOGUE if r.get("script_price")]
    assert row["category"] != "none"  # a hit: rendering (flagged pages) shows its price
    status, headers, body = fetch(f"{demo_market.url}/api/price/{row['id']}")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "price": row["price"],
        "currency": row["currency"],
        "display": format_price(row["price"], row["currency"]),
    }
    page = fetch(demo_market.item_url(row["id"]))[2].decode()
    assert f'fetch("/api/price/" + "{row["id"]}")' in page
    other = next(r for r in CATALOGUE if not r.get("script_price"))
    assert fetch(f"{demo_market.url}/api/price/{other['id']}")[0] == 404


def test_item_pages_show_photos_that_several_sellers_share(demo_market):
    from demo_market.photos import photo_names

    sellers_of = {}
    for row in CATALOGUE:
        for name in photo_names(row):
            sellers_of.setdefault(name, set()).add(row["seller"])
    assert sum(len(sellers) > 1 for sellers in sellers_of.values()) >= 10  # the same picture, other sellers
    assert any(name.endswith("-wm") for name in sellers_of)  # a re-encoded copy: other bytes, a near hash
    row = next(r for r in CATALOGUE if not r.get("malformed"))
    sel = Selector(text=fetch(demo_market.item_url(row["id"]))[2].decode())
    urls = [f"{demo_market.url}/img/{name}.png" for name in photo_names(row)]
    assert sel.css(".gallery img::attr(src)").getall() == urls
    assert product_ld(fetch(demo_market.item_url(row["id"]))[2])["image"] == urls
    status, headers, png = fetch(urls[0])
    assert status == 200 and headers["Content-Type"] == "image/png" and png.startswith(b"\x89PNG")
    assert fetch(urls[0])[2] == png  # the same bytes every time
    assert fetch(f"{demo_market.url}/img/nothing-1.png")[0] == 404


def test_an_item_page_is_rendered_once_and_served_the_same_until_the_listing_ends():
    market = DemoMarket(port=0)
    market.prerender()
    listing_id = market.listings[0]["id"]
    first = market.route(f"/item/{listing_id}", {})
    again = market.route(f"/item/{listing_id}", {})
    assert first == again and first[2] is again[2]  # the same string: not rendered again
    market.remove(listing_id, "ended")
    ended = market.route(f"/item/{listing_id}", {})
    assert "This listing has ended" in ended[2] and "This listing has ended" not in first[2]
    market.restore(listing_id)
    assert market.route(f"/item/{listing_id}", {})[2] is first[2]
