"""Every spider module: file name == spider name == snake_case(class name), and the per-site attributes are set."""

import importlib
import inspect
import pkgutil
import re

import pytest
from scrapy import Spider
from scrapy.utils.misc import is_generator_with_return_value

import spiders.spiders
from spiders.base import MarketplaceSpider

MODULES = sorted(m.name for m in pkgutil.iter_modules(spiders.spiders.__path__))
LOCAL = {"webshop", "demo_market"}  # sites given at run time: no fixed domains
API = {"ebay_api"}  # an API whose host is a setting (EBAY_API_URL): no web search URL
LINKED_PAGES = {"telegram"}  # older pages only through the page's own link (?before=): no page number


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Spider")).lower()


def spider_classes(module):
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Spider) and obj.__module__ == module.__name__
    ]


def test_the_expected_spiders_exist():
    assert set(MODULES) >= {
        "ebay_uk",
        "ebay_api",
        "amazon_uk",
        "gumtree",
        "aliexpress",
        "webshop",
        "demo_market",
        "telegram",
        "dhgate",
    }


@pytest.mark.parametrize("module_name", MODULES)
def test_names_match(module_name):
    module = importlib.import_module(f"spiders.spiders.{module_name}")
    [cls] = spider_classes(module)
    assert cls.name == module_name == snake_case(cls.__name__)
    assert issubclass(cls, MarketplaceSpider)
    assert cls.marketplace
    if module_name in API:
        assert cls.allowed_domains and cls.replaces
    elif module_name not in LOCAL:
        assert cls.allowed_domains and cls.search_url.startswith("https://")
        assert "{query}" in cls.search_url and ("{page}" in cls.search_url or module_name in LINKED_PAGES)


def test_snake_case():
    assert snake_case("EbayUkSpider") == "ebay_uk" and snake_case("DemoMarketSpider") == "demo_market"


@pytest.mark.parametrize("module_name", MODULES)
def test_no_callback_is_a_generator_that_returns_a_value(module_name):
    # What Scrapy's WARN_ON_GENERATOR_RETURN_VALUE looked for on every response (off in spiders/settings.py: it
    # re-parsed the callback's source): such a `return x` would silently drop x.
    [cls] = spider_classes(importlib.import_module(f"spiders.spiders.{module_name}"))
    generators = [
        name for name, member in inspect.getmembers(cls, inspect.isgeneratorfunction) if not name.startswith("__")
    ]
    assert generators  # parse_search, parse_description, ... at least
    assert [name for name in generators if is_generator_with_return_value(getattr(cls, name))] == []


def test_the_callback_check_sees_a_returned_value():
    class Returns(MarketplaceSpider):
        def parse_item(self, response, card=None):
            yield None
            return {"title": "lost"}

    assert is_generator_with_return_value(Returns.parse_item)
    assert not is_generator_with_return_value(MarketplaceSpider.parse_item)
