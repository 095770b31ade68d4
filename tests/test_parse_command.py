"""`keywatch parse SPIDER FILE --url URL`: JSON Lines of what a spider reads from a saved page, offline."""

import json
from pathlib import Path

from click.testing import CliRunner

from keywatch.cli import cli

PAGES = Path(__file__).parent / "pages"


def run(*args):
    result = CliRunner().invoke(cli, ["parse", *map(str, args)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result, lines


def test_ebay_search_page_gives_one_line_per_card(real_fixtures):
    result, lines = run(
        "ebay_uk",
        real_fixtures / "ebay/ebay-co-uk_search-sold_pokemon-booster-box_2026-04_s-card.html",
        "--url",
        "https://www.ebay.co.uk/sch/i.html?_nkw=pokemon+base+set+booster+box+wotc",
    )
    assert result.exit_code == 0
    assert len(lines) == 9
    assert lines[2] == {
        "marketplace": "ebay_uk",
        "listing_id": "147209381059",
        "url": "https://www.ebay.co.uk/itm/147209381059",
        "title": "Pokemon Team Rocket 1st Edition Booster Box 2000 WOTC EU Sealed No Reserve",
        "price": "12586.70",
        "currency": "GBP",
        "seller": "rengueraca0",
        "condition": "Brand new",
        "extra": {"caption": "Sold 23 Mar 2026"},
        "page_kind": "search",
    }
    assert list(lines[0])[:7] == ["marketplace", "listing_id", "url", "title", "price", "currency", "seller"]


def test_ebay_item_page_has_no_description_but_says_where_it_is(real_fixtures):
    result, [line] = run(
        "ebay_uk",
        real_fixtures / "ebay/ebay-co-uk_item_267745470208_2026-08.html",
        "--url",
        "https://www.ebay.co.uk/itm/267745470208",
    )
    assert result.exit_code == 0
    assert {
        k: line[k] for k in ("marketplace", "listing_id", "url", "title", "price", "currency", "seller", "condition")
    } == {
        "marketplace": "ebay_uk",
        "listing_id": "267745470208",
        "url": "https://www.ebay.co.uk/itm/267745470208",
        "title": "Alienware 18 Area-51 Ultra 9 275HX RTX 5080 32GB 2TB QHD+ 300Hz Gaming Laptop",
        "price": "2599.00",
        "currency": "GBP",
        "seller": "Pandota",
        "condition": "New",
    }
    assert "description" not in line and line["extra"]["description_url"].startswith("https://itm.ebaydesc.com/")
    assert line["page_kind"] == "item"


def test_amazon_gumtree_and_etsy(real_fixtures):
    _, lines = run(
        "amazon_uk",
        real_fixtures / "amazon/amazon-com_search_laptop_2025-08.html",
        "--url",
        "https://www.amazon.com/s?k=laptop",
    )
    assert len(lines) == 22 and lines[3]["listing_id"] == "B0BS4BP8FB" and lines[3]["price"] == "319.99"
    _, [product] = run(
        "amazon_uk",
        real_fixtures / "amazon/amazon-com_product_B0CD1DZ6RD_2026-04.html",
        "--url",
        "https://www.amazon.com/dp/B0CD1DZ6RD",
    )
    assert (product["listing_id"], product["price"], product["currency"], product["seller"]) == (
        "B0CD1DZ6RD",
        "239.99",
        "USD",
        "Amazon.com",
    )
    _, lines = run(
        "gumtree",
        real_fixtures / "gumtree/gumtree-com_search_lawnmower-NE30_2026-04.html",
        "--url",
        "https://www.gumtree.com/search?q=lawnmower",
    )
    assert (
        len(lines) == 26 and lines[4]["title"] == "Webb electric lawnmower with cable" and lines[4]["price"] == "1.00"
    )
    _, [etsy] = run(
        "webshop",
        real_fixtures / "etsy/etsy-com_listing_1385245506_2026-04.html",
        "--url",
        "https://www.etsy.com/listing/1385245506/sterling-silver-crown-birth-year",
    )
    # A shop's product is known by its address; its SKU is a field, not its identity.
    assert (etsy["marketplace"], etsy["listing_id"], etsy["seller"], etsy["price"], etsy["currency"]) == (
        "etsy.com",
        "/listing/1385245506/sterling-silver-crown-birth-year",
        "GowaDesign",
        "40.63",
        "EUR",
    )
    assert etsy["extra"]["sku"] == "1385245506" and "claims" not in etsy["extra"]


def test_kind_option_overrides_the_url_guess():
    _, lines = run(
        "ebay_uk",
        PAGES / "ebay_search_relay_scard.html",
        "--url",
        "https://www.ebay.co.uk/itm/356012345678",
        "--kind",
        "search",
    )
    assert [line["listing_id"] for line in lines] == ["356012345678", "270987654321", "145566778899"]


def test_unknown_spider_missing_file_and_bad_url_are_one_line_errors(tmp_path):
    for args, message in [
        (("nosuch", PAGES / "ebay_item_blocked.html", "--url", "https://x.example/"), "unknown spider 'nosuch'"),
        (("ebay_uk", tmp_path / "missing.html", "--url", "https://www.ebay.co.uk/itm/1"), "cannot read"),
        (("ebay_uk", PAGES / "ebay_item_blocked.html", "--url", "www.ebay.co.uk/itm/1"), "--url must be an absolute"),
    ]:
        result, _ = run(*args)
        assert result.exit_code == 1
        assert result.output.count("\n") == 1 and message in result.output and "Traceback" not in result.output


def test_unparseable_item_page_is_a_one_line_error():
    result, lines = run("ebay_uk", PAGES / "ebay_item_blocked.html", "--url", "https://www.ebay.co.uk/itm/186123456789")
    assert result.exit_code == 1 and lines == []
    assert "could not parse this page" in result.output and result.output.count("\n") == 1


def test_page_without_listings_prints_nothing_and_says_so(real_fixtures):
    result = CliRunner().invoke(
        cli,
        [
            "parse",
            "webshop",
            str(real_fixtures / "gumtree/gumtree-com_search_lawnmower-NE30_2026-04.html"),
            "--url",
            "https://www.gumtree.com/search?q=lawnmower",
        ],
    )
    assert result.exit_code == 0 and result.stdout == "" and "no listings found" in result.stderr


def test_demo_market_pages_saved_from_the_local_server(demo_market, tmp_path):
    import urllib.request

    row = demo_market.listings[0]
    search_url, item_url = f"{demo_market.url}/search?q=", f"{demo_market.url}/item/{row['id']}"
    for name, url in (("search.html", search_url), ("item.html", item_url)):
        (tmp_path / name).write_bytes(urllib.request.urlopen(url).read())
    result, cards = run("demo_market", tmp_path / "search.html", "--url", search_url)
    assert result.exit_code == 0 and cards and all(card["page_kind"] == "search" for card in cards)
    result, [listing] = run("demo_market", tmp_path / "item.html", "--url", item_url)
    assert (listing["marketplace"], listing["listing_id"], listing["title"]) == ("demo", row["id"], row["title"])
