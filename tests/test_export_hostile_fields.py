"""Seller-written fields in a notice: however long or strange, the letter is made, shows a visible cut, and the
pack's listings.json and listings.csv keep the exact text."""

import csv
import io
import json
import zipfile

import pytest
from test_export_letter import RECIPIENT, context, listings, pdftotext_raw

import db
from db import accounts, decisions
from exports.export import export_pack, resolve_target
from exports.letter import render_html, render_pdf
from exports.office import load_office
from tests.support.items import make_item

CUT = "characters cut; full text in listings.json"

LONG = {
    "spaced": "relay attack box keyless entry " * 100,  # 3,100 characters with spaces
    "unbroken": "X" * 5000,  # one 5,000-character word
    "cjk": "汽车钥匙编程器" * 400,  # 2,800 characters, no spaces at all
    "undrawable": "\U0010fffd" * 2000,  # each drawn as [U+10FFFD] in the PDF
    "rtl": "\u202e" + "مفتاح السيارة " * 300,  # Arabic behind a right-to-left override
}


@pytest.mark.parametrize("field", ["title", "url", "listing_id", "price_text", "category_label", "marketplace"])
@pytest.mark.parametrize("kind", sorted(LONG))
def test_a_long_field_never_blocks_the_notice(tmp_path, field, kind):
    rows = listings()
    rows[1][field] = LONG[kind]
    ctx = context(rows=rows)
    text = "".join(pdftotext_raw(render_pdf(ctx), tmp_path).split())
    html = render_html(ctx).decode()
    assert CUT.replace(" ", "") in text and CUT in html
    assert "DM1002" in text or field == "listing_id"  # the rows after it are still there


def test_a_short_field_is_not_cut():
    ctx = context()
    assert CUT not in render_html(ctx).decode()
    assert ctx["listings"][0]["title"] == "Relay attack box <script>x</script> ключ no0"


def test_a_long_recipient_name_is_cut_in_the_letter(tmp_path):
    """A notice to a seller account not in retailers.yaml is addressed to the seller's own (hostile) name."""
    ctx = context(recipient={**RECIPIENT, "name": "N" * 3000, "seller_ids": ["s" * 3000]})
    text = "".join(pdftotext_raw(render_pdf(ctx), tmp_path).split())
    mark = "characters cut; full text in manifest.json"
    assert mark.replace(" ", "") in text and "N" * 3000 not in text and "s" * 3000 not in text
    assert ("N" * 200 + "… [2,800 " + mark) in render_html(ctx).decode()
    assert ("Our monitoring has found 3 listing(s) offered for sale by " + "N" * 200 + "…") in ctx["intro"]


@pytest.mark.parametrize("control", ["\u202e", "\u202b", "\u2067", "\u2069", "\x1b", "\x00", "\x7f"])
def test_bidi_and_control_characters_are_shown_not_obeyed(tmp_path, control):
    """A title like '\u202egnp.exe' reads 'exe.png' when obeyed: the notice shows the character instead."""
    rows = listings()
    rows[0]["title"] = f"{control}gnp.exe relay"
    ctx = context(rows=rows)
    mark = f"[U+{ord(control):04X}]"
    html = render_html(ctx).decode()
    assert f"{mark}gnp.exe relay" in html and control not in html
    assert f"{mark}gnp.exerelay" in "".join(pdftotext_raw(render_pdf(ctx), tmp_path).split())


def test_seller_text_is_isolated_from_its_neighbours_in_html():
    """Right-to-left text (Arabic, Hebrew) must not reorder the listing id or the next cell around it."""
    rows = listings()
    rows[0]["title"] = "مفتاح السيارة"
    html = render_html(context(rows=rows)).decode()
    assert "<bdi>مفتاح السيارة</bdi>" in html


@pytest.fixture
def store_with_a_long_title(tmp_path):
    store = db.connect(tmp_path / "store.sqlite")
    title = "Relay attack box " + "keyless " * 250 + "END" + "\u202e" + "Z" * 800
    db.save_capture(
        store, make_item("L1", marketplace="demo", seller="s" * 2000, title=title, url="http://demo/" + "p" * 3000)
    )
    accounts.add_user(store, "alice", "x")
    decisions.decide(store, db.get_listing(store, "demo", "L1")["pk"], "alice", "confirm", category="relay_attack")
    return store, title


def test_a_2000_character_title_exports_and_the_pack_keeps_it_whole(tmp_path, store_with_a_long_title):
    store, title = store_with_a_long_title
    out = tmp_path / "pack.zip"
    export_pack(store, resolve_target(store, seller="demo:" + "s" * 2000), out, office=load_office())
    with zipfile.ZipFile(out) as zf:
        listing = json.loads(zf.read("listings.json"))["listings"][0]
        [row] = list(csv.DictReader(io.StringIO(zf.read("listings.csv").decode("utf-8-sig"))))
        html = zf.read("notice.html").decode()
        pdf = zf.read("notice.pdf")
    assert listing["title"] == title and row["title"] == title
    assert listing["url"] == "http://demo/" + "p" * 3000 and row["seller"] == "s" * 2000
    assert CUT in html and title not in html
    assert CUT.replace(" ", "") in "".join(pdftotext_raw(pdf, tmp_path).split())
