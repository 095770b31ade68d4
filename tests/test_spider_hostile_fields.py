"""Silently lost items (issue 10): every fetched item page is stored whatever its fields hold, a field that cannot be
read is null and counted, the run's numbers add up, and a run that loses items exits non-zero."""

import json

import pytest
from itemadapter import ItemAdapter

import db
from tests.support.cli import run_keywatch

MEGABYTE = "relay " * 200_000


def page(product_json: str, *, canonical: str | None = None, h1: str = "", body: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<html><head><title>Shop</title>{link}<script type="application/ld+json">{product_json}</script>'
        f"</head><body><h1>{h1}</h1>{body}</body></html>"
    )


def product(name='"Keyless relay box"', price='"249.00"', seller='"Shop Ltd"', currency='"GBP"', description='""'):
    # Written out by hand: json.dumps cannot write 1e999 or NaN, and pages are not written by json.dumps.
    return (
        f'{{"@type": "Product", "name": {name}, "description": {description}, '
        f'"offers": {{"price": {price}, "priceCurrency": {currency}, "seller": {{"name": {seller}}}}}}}'
    )


PAGES = {
    "/products/js-canonical": page(product(), canonical="javascript:alert(1)"),
    "/products/data-canonical": page(product(), canonical="data:text/html,<b>hi</b>"),
    "/products/huge-price": page(product(price="1e999")),
    "/products/nan-price": page(product(price="NaN")),
    "/products/string-price": page(product(price='"1e999"')),
    "/products/list-name": page(product(name='["Code grabber", "433MHz"]'), h1="Code grabber 433MHz"),
    "/products/object-fields": page(product(seller='{"first": ["x"]}', currency='["GBP"]')),
    "/products/control-characters": page(product(name='"Key\\u0000 programmer \\u001b[2J OBD"')),
    "/products/megabyte": page(product(description=json.dumps(MEGABYTE))),
}


def crawl(shop, db_path, *settings, check=True):
    shop.pages.update(PAGES)
    start = ",".join(f"{shop.url}{path}" for path in PAGES)
    return run_keywatch(
        "crawl",
        "webshop",
        "-a",
        f"start_url={start}",
        "--db",
        db_path,
        "-s",
        "LOG_LEVEL=WARNING",
        *settings,
        check=check,
    )


def test_every_hostile_item_page_is_stored_and_its_unreadable_fields_counted(shop, tmp_path):
    db_path = tmp_path / "k.sqlite"
    proc = crawl(shop, db_path)
    store = db.connect(db_path)
    marketplace = shop.url.removeprefix("http://")
    rows = {
        r["listing_id"]: r
        for r in store.query(
            "SELECT l.listing_id, l.url, l.title, l.price, l.seller, l.currency, c.fields FROM listings l "
            "JOIN captures c ON c.id = l.latest_capture_id WHERE l.marketplace = ?",
            [marketplace],
        )
    }
    assert set(rows) == set(PAGES)
    extra = {k: json.loads(r["fields"])["extra"] for k, r in rows.items()}

    for path in ("/products/js-canonical", "/products/data-canonical"):
        assert rows[path]["url"] == f"{shop.url}{path}" and rows[path]["title"] == "Keyless relay box"
        assert extra[path]["claims"]["canonical"].startswith(("javascript:", "data:"))
    for path in ("/products/huge-price", "/products/nan-price", "/products/string-price"):
        assert rows[path]["price"] is None and "unreadable" in extra[path]["field_problems"]["price"]
    assert rows["/products/list-name"]["title"] == "Code grabber 433MHz"
    assert rows["/products/object-fields"]["seller"] is None and rows["/products/object-fields"]["currency"] is None
    assert rows["/products/control-characters"]["title"] == "Key programmer [2J OBD"
    assert len(json.loads(rows["/products/megabyte"]["fields"])["description"]) == 1_000_000
    assert extra["/products/megabyte"]["field_problems"] == {"description": "cut at 1000000 characters"}

    [run] = store.query("SELECT stats FROM crawl_runs")
    stats = json.loads(run["stats"])
    assert stats["keywatch/item_pages"] == stats["keywatch/items_stored"] == len(PAGES)
    assert stats["keywatch/listing_pages_not_stored"] == 0
    assert stats["keywatch/field_problems/price"] == 3 and stats["keywatch/field_problems/currency"] == 1
    assert f"listing pages:    {len(PAGES)} fetched = {len(PAGES)} stored" in proc.stdout
    assert "unreadable:       currency 1, description 1, price 3" in proc.stdout
    assert db.verify(store).ok


class FailOnTitle:
    """An item pipeline that fails on one page, as a store error would: the run must not look like a success."""

    def process_item(self, item):
        if "relay" in (ItemAdapter(item).get("title") or "").lower():
            raise RuntimeError("disk full")
        return item


@pytest.mark.parametrize("where", [150, 50])  # after classification, and before it
def test_a_run_that_loses_items_says_so_and_exits_non_zero(shop, tmp_path, where):
    pipelines = {
        "spiders.pipelines.classify.ClassifyPipeline": 100,
        "tests.test_spider_hostile_fields.FailOnTitle": where,
        "spiders.pipelines.store.StorePipeline": 200,
    }
    proc = crawl(shop, tmp_path / "k.sqlite", "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}", check=False)
    assert proc.returncode == 1
    lost = sum(1 for p in PAGES if p != "/products/list-name" and p != "/products/control-characters")
    assert f"listing pages:    {len(PAGES)} fetched = {len(PAGES) - lost} stored + {lost} not stored" in proc.stdout
    assert f"Error: {lost} of {len(PAGES)} fetched listing pages were not stored" in proc.stderr
