"""spiders.parsing: money as decimal strings with ISO codes, text clean-up, embedded JSON, schema.org offers."""

import json

import pytest
from parsel import Selector

from spiders.fields import Unreadable, sanitise
from spiders.parsing import address_id, clean, dig, embedded_json, find_typed, first, offer_fields, query_param, text_of
from spiders.prices import decimal_string, parse_price


@pytest.mark.parametrize(
    "shown, expected",
    [
        ("£2,599.00", {"price": "2599.00", "currency": "GBP"}),
        ("$20.00", {"price": "20.00", "currency": "USD"}),
        ("EUR 164,00", {"price": "164.00", "currency": "EUR"}),
        ("1.234,56 €", {"price": "1234.56", "currency": "EUR"}),
        ("£70", {"price": "70.00", "currency": "GBP"}),
        ("£5.99 to £14.99", {"price": "5.99", "currency": "GBP", "price_max": "14.99"}),
        ("US $3.20 - 5.10", {"price": "3.20", "currency": "USD", "price_max": "5.10"}),
        ("C $12.50", {"price": "12.50", "currency": "CAD"}),
        ("€40.63+", {"price": "40.63", "currency": "EUR"}),
        ("£1,299", {"price": "1299.00", "currency": "GBP"}),
        ("Free", {"price": "0.00", "currency": None}),  # a Gumtree freebie is offered at nothing
        ("Free postage", {"price": None, "currency": None}),
        ("£1,234.56", {"price": "1234.56", "currency": "GBP"}),
        ("GBP 12.00", {"price": "12.00", "currency": "GBP"}),
        ("$5.99 to $14.99", {"price": "5.99", "currency": "USD", "price_max": "14.99"}),
        ("£12.99 - £20.00", {"price": "12.99", "currency": "GBP", "price_max": "20.00"}),
        ("£10.00 inc. VAT", {"price": "10.00", "currency": "GBP"}),
        ("£10.00 (£8.33 ex VAT)", {"price": "10.00", "currency": "GBP"}),
        ("£1.234,00", {"price": "1234.00", "currency": "GBP"}),
        ("1 234,56 zł", {"price": "1234.56", "currency": "PLN"}),
        ("£25 ONO", {"price": "25.00", "currency": "GBP"}),
        ("", {"price": None, "currency": None}),
    ],
)
def test_parse_price(shown, expected):
    assert parse_price(shown) == expected


def test_default_currency_only_when_the_text_names_none():
    assert parse_price("450", "GBP") == {"price": "450.00", "currency": "GBP"}
    assert parse_price("FREE", "GBP") == {"price": "0.00", "currency": "GBP"}
    assert parse_price("€450", "GBP")["currency"] == "EUR"


def test_decimal_string_never_goes_through_float_rounding():
    assert decimal_string(2599.0) == "2599.00"
    assert decimal_string("0.125") == "0.125"
    assert not decimal_string(True) and decimal_string(None) is None


def test_text_of_drops_hidden_helper_text_scripts_and_styles():
    sel = Selector(
        '<div><span>Relay</span> <span class="clipped">Opens in a new window</span>'
        "<style>.x{}</style><script>var a=1</script>  box\n</div>"
    )
    assert text_of(sel.css("div"), ("clipped",)) == "Relay box"
    assert clean(" a \u00a0 b ") == "a b"


def test_embedded_json_plain_and_javascript_literal():
    assert embedded_json('x; window.__INIT_DATA__ = {"a": [1, 2]};', "__INIT_DATA__") == {"a": [1, 2]}
    assert embedded_json("window.runParams = { data: {\"b\": 1}, csrf: 'z' };", "window.runParams") == {
        "data": {"b": 1}
    }
    assert embedded_json('window.runParams = { data: {"b": ', "window.runParams") is None
    assert embedded_json("nothing here", "window.runParams") is None
    assert dig({"a": [{"b": 2}]}, "a", 0, "b") == 2 and dig({"a": None}, "a", "b") is None


def test_offers_single_aggregate_and_graph():
    data = {
        "json-ld": [
            {
                "@graph": [
                    {"@type": "WebPage"},
                    {
                        "@type": ["Product"],
                        "name": "Key tool",
                        "offers": [
                            {
                                "@type": "Offer",
                                "price": 49,
                                "priceCurrency": "GBP",
                                "availability": "https://schema.org/InStock",
                                "seller": {"@type": "Organization", "name": " Tool Shop "},
                            }
                        ],
                    },
                ]
            }
        ]
    }
    product = find_typed(data, "Product")
    assert product["name"] == "Key tool"
    assert offer_fields(product) == {
        "price": "49.00",
        "currency": "GBP",
        "availability": "InStock",
        "seller": "Tool Shop",
    }
    aggregate = {
        "offers": {"@type": "AggregateOffer", "lowPrice": "40.63", "highPrice": "48.75", "priceCurrency": "EUR"}
    }
    assert offer_fields(aggregate)["price_max"] == "48.75" and offer_fields(aggregate)["price"] == "40.63"


# ---- hostile values: what a page gives is never trusted to be what a field needs ------------------------------


@pytest.mark.parametrize(
    "value",
    [float("inf"), float("nan"), "1e999", "NaN", "Infinity", "-3", 10**400, "9" * 80, [1], {"price": 1}, True, "1e12"],
)
def test_a_value_that_is_there_but_is_no_amount_is_unreadable_not_an_error(value):
    price = decimal_string(value)
    assert isinstance(price, Unreadable) and not price


def test_unreadable_values_give_way_to_readable_ones_and_are_remembered_when_none_is():
    assert first(clean(["Relay", "box"]), "", None, "Relay box (h1)") == "Relay box (h1)"
    assert isinstance(first(decimal_string(float("nan")), None), Unreadable)
    assert clean("Key\x00 programmer\x1b[2J \x9b OBD") == "Key programmer [2J OBD"


def test_sanitise_nulls_and_names_every_field_it_cannot_read():
    fields, problems = sanitise(
        {
            "title": ["a", "b"],
            "price": float("inf"),
            "currency": ["GBP"],
            "seller": {"name": "x"},
            "description": "d" * 1_000_005,
            "listing_id": 12345,
            "condition": "New\x07",
            "extra": {
                "n": float("nan"),
                "deep": [[[[[[[[[["too deep"]]]]]]]]]],
                "s": "\x1bx",
                "many": list(range(5000)),
            },
        }
    )
    assert fields["title"] is None and fields["price"] is None and fields["currency"] is None
    assert fields["seller"] is None and fields["listing_id"] == "12345" and fields["condition"] == "New"
    assert len(fields["description"]) == 1_000_000
    assert fields["extra"]["n"] is None and fields["extra"]["s"] == "x" and len(fields["extra"]["many"]) == 1000
    assert "too deep" not in json.dumps(fields["extra"])
    assert problems == {
        "title": "a list, not text",
        "price": "unreadable value 'inf'",
        "currency": "a list, not text",
        "seller": "a dict, not text",
        "description": "cut at 1000000 characters",
    }
    assert sanitise({"currency": "£", "price": "12.50"}) == (
        {"currency": None, "price": "12.50"},
        {"currency": "not an ISO 4217 code: '£'"},
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://shop.example/products/x?utm_source=a&variant=2&fbclid=z#top", "/products/x?variant=2"),
        ("https://shop.example", "/"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
    ],
)
def test_a_shop_page_is_known_by_its_address(url, expected):
    assert address_id(url) == expected


def test_links_no_parser_accepts_give_nothing():
    assert query_param("http://[x/d?seller=bob", "seller") is None
    assert query_param("https://itm.ebaydesc.com/d?seller=bob&x=1", "seller") == "bob"


@pytest.mark.parametrize(
    "shown, expected",
    [
        ("S$ 200.00", {"price": "200.00", "currency": "SGD"}),
        ("S$1,020.00", {"price": "1020.00", "currency": "SGD"}),
        ("AU $12.00", {"price": "12.00", "currency": "AUD"}),
        ("RM 30.00", {"price": "30.00", "currency": "MYR"}),
        ("R$ 100,00", {"price": "100.00", "currency": "BRL"}),
        ("Approximately US $177.54", {"price": "177.54", "currency": "USD"}),
        ("173.000 COP", {"price": "173000.00", "currency": "COP"}),
    ],
)
def test_parse_price_reads_more_currencies(shown, expected):
    assert parse_price(shown) == expected


def test_a_sign_the_marketplace_shares_keeps_its_home_currency():
    assert parse_price("$ 35.00", "AUD") == {"price": "35.00", "currency": "AUD"}  # "$" on an Australian site
    assert parse_price("S$ 35.00", "GBP")["currency"] == "SGD"  # a sign that names its currency wins


CLASS_PAGE = (
    '<html><body><p class="item-condition-line">Condition: <span class="\titem-condition\n x">New</span></p>'
    '<div class="xitem-condition">not this</div><div class="item-condition\u00a0y">nor this</div>'
    '<b class=" item-condition "><!-- c -->after a comment<i class="item-condition">inner</i> tail</b>'
    '<div class="gallery big"><img src="a.png"><span class="gallery"><img src="b.png"></span></div>'
    '<ul><li class="result-card x"><a class="result-card__link" href="/item/1">one</a></li>'
    '<li class="result-card-x"><a class="result-card__link" href="/item/2">two</a></li></ul>'
    '<p class="seller-about" class="dup">about</p><svg class="seller-about"><text>svg</text></svg></body></html>'
)


@pytest.mark.parametrize(
    "css",
    [
        ".item-condition::text",
        ".item-condition",
        ".gallery img::attr(src)",
        "li.result-card",
        "a.result-card__link::attr(href)",
        ".seller-about::text",
        ".seller-about ::text",
        "p.item-condition-line *::text",
    ],
)
def test_a_compiled_selector_matches_what_parsel_matches(css):
    # compiled() asks a selector that starts with one class of the class attributes, not of every element
    # (libxml2 does that at half the cost): it must still match what the CSS means, whitespace and all.
    from spiders.parsing import compiled

    page = Selector(CLASS_PAGE)
    matches = compiled(css)(page.root)
    expected = page.css(css)
    if css.endswith(("::text", ")")):
        assert matches == expected.getall()
    else:
        assert matches == [match.root for match in expected]


def test_ascii_lowered_holds_the_ascii_that_lower_gives():
    from spiders.robot_check import ascii_lowered

    for text in (
        "Robot CHECK £5",
        "Stra\u00dfe \u00c9T\u00c9 CAPTCHA",
        "plain ascii",
        "Chec\u212a",
        "\u0130s it",
        "\ud800X",
    ):
        lowered = ascii_lowered(text)
        assert [c for c in lowered if c.isascii()] == [c for c in text.lower() if c.isascii()], text
        assert all(word in lowered for word in ("check", "captcha", "is") if word in text.lower())


def test_without_controls_makes_every_control_character_a_space():
    from spiders.fields import CONTROL, without_controls

    for text in ("plain", "tab\tand\nline", "nul\x00 esc\x1b del\x7f c1\x85", "nbsp\u00a0 zwsp\u200b", "\u2028"):
        assert without_controls(text) == CONTROL.sub(" ", text)
