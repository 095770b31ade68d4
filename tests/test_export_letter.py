"""The notice letter: office.yaml, the HTML template, and a PDF whose text pdftotext can read back."""

import os
import shutil
import subprocess

import pytest
from reportlab.pdfbase import pdfmetrics

from common.settings import OFFICE_EXAMPLE as EXAMPLE
from common.yamlfile import ConfigError
from exports.letter import notice_context, render_html, render_pdf
from exports.office import load_office

RECIPIENT = {
    "name": "Keyless Pro Tools Ltd",
    "marketplace": "demo",
    "seller_ids": ["keyless_pro_tools"],
    "email": "compliance@keyless.example",
    "address": "Unit 4\nLuton",
    "reporting_url": "https://demo/report",
}


def listings(n=3):
    return [
        {
            "marketplace": "demo",
            "listing_id": f"DM{1000 + i}",
            "url": f"http://127.0.0.1:8001/item/DM{1000 + i}",
            "title": f"Relay attack box <script>x</script> ключ no{i}",
            "price_text": "GBP 249.87",
            "category_label": "relay attack",
            "first_seen": "2026-03-01 10:00",
            "status": "live",
        }
        for i in range(n)
    ]


def context(office=None, n=3, rows=None, recipient=RECIPIENT):
    return notice_context(
        number="KW-2026-0042",
        date="1 March 2026",
        office=office or load_office(EXAMPLE),
        recipient=recipient,
        listings=listings(n) if rows is None else rows,
        chain_head="ab" * 32,
    )


def pdftotext(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext is missing in CI: scripts/system-deps.sh must install poppler-utils")
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_text_reads_back(tmp_path):
    text = pdftotext(render_pdf(context()), tmp_path)
    flat = " ".join(text.split())
    assert "KW-2026-0042" in flat and "1 March 2026" in flat
    assert "Office of the Police and Crime Commissioner for Exampleshire" in flat
    assert "Keyless Pro Tools Ltd" in flat and "keyless_pro_tools" in flat
    for i in range(3):
        assert f"DM{1000 + i}" in flat
    # Listing text is printed literally (not parsed as markup) and non-Latin text survives.
    assert "<script>x</script>" in flat and "ключ" in flat
    assert "reasonable grounds to suspect" in flat  # the configurable legal paragraph
    assert "Our monitoring has found 3 listing(s)" in flat  # placeholders filled in


def test_long_lists_run_over_pages(tmp_path):
    text = pdftotext(render_pdf(context(n=80)), tmp_path)
    assert "KW-2026-0042 - page 3" in text
    assert "DM1079" in text


def test_pdf_is_reproducible():
    # No random id or wall-clock date inside: the same notice gives the same bytes (and the same hash).
    assert render_pdf(context()) == render_pdf(context())


def test_html_escapes_listing_text_and_keeps_office_text():
    html = render_html(context()).decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert "KW-2026-0042" in html and "reasonable grounds to suspect" in html
    assert html.count("http://127.0.0.1:8001/item/DM100") == 3


def test_office_can_supply_its_own_template_and_wording(tmp_path):
    (tmp_path / "mine.html.j2").write_text("<p>{{ number }} for {{ recipient.name }}: {{ legal_paragraph }}</p>")
    (tmp_path / "office.yaml").write_text(
        "name: Test Office\naddress: Somewhere\nemail: t@office.example\nreference_prefix: TST\n"
        "legal_paragraph: |\n  Section 99 says\n  {{ listings|length }} is too many.\n"
        "template: mine.html.j2\n"
    )
    office = load_office(tmp_path / "office.yaml")
    assert office.reference_prefix == "TST"
    html = render_html(context(office), office.template).decode()
    assert html == "<p>KW-2026-0042 for Keyless Pro Tools Ltd: Section 99 says 3 is too many.</p>"


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: X\naddress: Y\nemail: e@x\n", "missing required field 'legal_paragraph'"),
        ("name: X\naddress: Y\nemail: e@x\nlegal_paragraph: L\nfax: 1\n", "unknown field(s) fax"),
        ("name: X\naddress: Y\nemail: e@x\nlegal_paragraph: L\nreference_prefix: 'K W'\n", "reference_prefix"),
        ("name: X\naddress: Y\nemail: e@x\nlegal_paragraph: L\ntemplate: nope.j2\n", "does not exist"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: X\n  address: Y\n", ":2: not valid YAML"),
    ],
)
def test_bad_office_yaml_names_the_problem(tmp_path, text, message):
    path = tmp_path / "office.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_office(path)
    assert message in str(error.value) and str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_a_bad_placeholder_is_reported():
    office = load_office(EXAMPLE)
    office.intro = "Hello {{ recipient.nmae }}"
    with pytest.raises(ValueError, match="office.yaml 'intro'"):
        context(office)


def pdftotext_raw(pdf: bytes, tmp_path) -> str:
    """The text in drawing order (cell by cell), so a wrapped cell is not interleaved with its neighbours."""
    pdftotext(pdf, tmp_path)  # skips or fails, with the reason, when pdftotext is missing
    path = tmp_path / "raw.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_no_character_of_a_title_is_silently_dropped_from_the_pdf(tmp_path):
    """Chinese, Japanese and Korean titles are common on marketplaces; the main font has none of those glyphs."""
    from exports import letter

    title = "汽车钥匙编程器 スマートキー 자동차 Schlüssel – £249 “Zoë” ключ"
    ctx = context()
    ctx["listings"][0]["title"] = title
    text = "".join(pdftotext_raw(render_pdf(ctx), tmp_path).split())
    # Each character is in the text as itself, or (no font here can draw it) as its code point: never dropped.
    for char in title.replace(" ", ""):
        assert char in text or f"[U+{ord(char):04X}]" in text, char
    assert "Schlüssel" in text and "ключ" in text
    if letter.FALLBACK in letter.pdfmetrics.getRegisteredFontNames():
        assert "汽车钥匙编程器" in text  # drawn in the fallback font when the system has one


def test_characters_no_font_can_draw_are_written_as_code_points(tmp_path):
    from exports.letter import _fonts, _markup

    regular, _ = _fonts()
    assert _markup("A\U0010fffd<b>\nB", regular) == "A[U+10FFFD]&lt;b&gt;<br/>B"  # a code point no font has


def test_a_long_title_without_spaces_wraps_inside_its_column(tmp_path):
    title = "汽车钥匙编程器" * 6 + "END"
    ctx = context()
    ctx["listings"][0]["title"] = title
    text = "".join(pdftotext_raw(render_pdf(ctx), tmp_path).split())
    assert "END" in text
    for char in set(title):
        assert char in text or f"[U+{ord(char):04X}]" in text, char


def test_a_word_wider_than_its_column_is_broken_into_lines_that_fit():
    from reportlab.lib.styles import ParagraphStyle  # noqa: I001

    from exports.letter import _fonts, fit_words

    regular, _ = _fonts()
    style = ParagraphStyle("t", fontName=regular, fontSize=7.5)
    url = "https://www.example-market.co.uk/itm/" + "1234567890" * 8
    fitted = fit_words(f"demo:1 {url}", style, 100)
    lines = fitted.split("\n")
    assert len(lines) > 2 and "".join(lines) == f"demo:1 {url}"  # only line breaks added, nothing changed
    assert all(pdfmetrics.stringWidth(line.split(" ")[-1], regular, 7.5) <= 100 for line in lines)
    assert fit_words("short words only", style, 100) == "short words only"
