"""A spider reads which listings to re-check from the store without writing to it (db.read_only)."""

from scrapy.utils.test import get_crawler

import db
from spiders.spiders.demo_market import DemoMarketSpider
from tests.support.items import make_item


def spider_for(db_path, **settings):
    crawler = get_crawler(DemoMarketSpider, settings_dict={"KEYWATCH_DB": str(db_path), **settings})
    return DemoMarketSpider.from_crawler(crawler, base_url="http://127.0.0.1:8000")


def test_no_store_yet_means_nothing_to_recheck_and_no_file_appears(tmp_path):
    assert spider_for(tmp_path / "new.sqlite").recheck_targets() == []
    assert list(tmp_path.iterdir()) == []


def test_targets_are_read_without_changing_the_store(tmp_path):
    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("R-1", marketplace="demo"))
    db.save_capture(store, make_item("R-2", marketplace="elsewhere"))
    store.close()
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    [target] = spider_for(path).recheck_targets()
    assert (target["marketplace"], target["listing_id"]) == ("demo", "R-1")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_rechecks_can_be_switched_off(tmp_path):
    path = tmp_path / "k.sqlite"
    store = db.connect(path)
    db.save_capture(store, make_item("R-1", marketplace="demo"))
    store.close()
    assert spider_for(path, KEYWATCH_RECHECK=False).recheck_targets() == []
