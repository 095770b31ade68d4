"""The notice letter: one context, rendered to HTML (editable Jinja2 template) and to PDF (reportlab).

The office's wording (intro, legal paragraph, request, footer) comes from office.yaml and appears in
both; the HTML layout comes from the template, the PDF layout is fixed here.
"""

import functools
import io
import re
from dataclasses import asdict
from pathlib import Path
from xml.sax.saxutils import escape

import jinja2
import reportlab
from jinja2.sandbox import SandboxedEnvironment
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from exports.display import shown
from exports.networks import network_pdf
from exports.office import Office
from exports.screenshots import screenshot_top

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES / "notice.html.j2"

# Listing titles come from hostile pages in any script: a TrueType font (embedded, with a ToUnicode map so
# pdftotext reads it back) covers far more than the built-in Helvetica. DejaVu when the system has it,
# else Bitstream Vera, which ships inside reportlab.
_FONT_CANDIDATES = [
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (Path(reportlab.__file__).parent / "fonts" / "Vera.ttf", Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf"),
]


# Neither covers Chinese, Japanese or Korean, which marketplace titles do use: characters the main font lacks
# are set in a fallback font when the system has one (Debian: fonts-droid-fallback or fonts-wqy-microhei).
_FALLBACK_CANDIDATES = [
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),
]
FALLBACK = "KWFallback"


def _fonts() -> tuple[str, str]:
    if "KWSans" not in pdfmetrics.getRegisteredFontNames():
        regular, bold = next((r, b) for r, b in _FONT_CANDIDATES if r.exists() and b.exists())
        pdfmetrics.registerFont(TTFont("KWSans", str(regular)))
        pdfmetrics.registerFont(TTFont("KWSans-Bold", str(bold)))
        for path, index in _FALLBACK_CANDIDATES:
            if path.exists():
                pdfmetrics.registerFont(TTFont(FALLBACK, str(path), subfontIndex=index))
                break
    return "KWSans", "KWSans-Bold"


@functools.cache
def _coverage(font_name: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(font_name).face.charToGlyph)


@functools.cache
def _widest_glyph(font_name: str) -> float:
    """The widest advance of any glyph of the font, in thousandths of an em."""
    return max(pdfmetrics.getFont(font_name).face.charWidths.values())


def _markup(text: str, font_name: str) -> str:
    """Escaped paragraph markup for `text`: runs the font cannot draw go to the fallback font, and a
    character no font here can draw is written as [U+XXXX], never silently left out of the notice."""
    main = _coverage(font_name)
    fallback = _coverage(FALLBACK) if FALLBACK in pdfmetrics.getRegisteredFontNames() else frozenset()
    out, run, run_font = [], [], None

    def flush():
        if run:
            chunk = escape("".join(run))
            out.append(f'<font name="{run_font}">{chunk}</font>' if run_font else chunk)
            run.clear()

    for char in text:
        code = ord(char)
        if char in "\n\t " or code in main:
            font = None
        elif code in fallback:
            font = FALLBACK
        else:
            flush()
            run_font = None
            out.append(f"[U+{code:04X}]")
            continue
        if font != run_font:
            flush()
            run_font = font
        run.append(char)
    flush()
    return "".join(out).replace("\n", "<br/>")


# How much of each field a letter shows; longer text is cut with a mark naming the file that has all of it.
# A title or URL is written by the seller; so is a recipient's name when the notice goes to a seller account.
LISTING_ROOM = {"title": 300, "url": 300, "listing_id": 80, "marketplace": 60, "price_text": 40, "category_label": 60}
RECIPIENT_ROOM = {"name": 200, "marketplace": 60, "email": 200, "reporting_url": 300}
OTHER_ROOM = 100


def shown_listing(listing: dict) -> dict:
    shown_fields = {
        k: shown(v, LISTING_ROOM.get(k, OTHER_ROOM)) if isinstance(v, str) else v for k, v in listing.items()
    }
    return {"captures": [], "screenshot": None, "seller": "", **shown_fields}


def shown_recipient(recipient: dict) -> dict:
    where = "manifest.json"
    return {
        **{k: shown(recipient[k], room, where) for k, room in RECIPIENT_ROOM.items() if k in recipient},
        "address": "\n".join(shown(line, 200, where) for line in (recipient.get("address") or "").splitlines()),
        "seller_ids": [shown(s, 100, where) for s in recipient.get("seller_ids") or []],
    }


def notice_context(
    *, number: str, date: str, office: Office, recipient: dict, listings: list[dict], chain_head: str
) -> dict:
    """Everything a letter shows. The office's paragraphs are themselves small templates (see office.yaml).

    Listing and recipient text is hostile: it is shown with controls visible and cut to its room (exports.display).
    """
    context = {
        "number": number,
        "date": date,
        "office": asdict(office),
        "recipient": shown_recipient(recipient),
        "listings": [shown_listing(x) for x in listings],
        "chain_head": chain_head,
    }
    # Office text is trusted config but rendered sandboxed anyway: it only needs to fill in placeholders.
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    for key in ("intro", "legal_paragraph", "request", "footer"):
        try:
            text = env.from_string(getattr(office, key) or "").render(context)
        except jinja2.TemplateError as exc:
            raise ValueError(f"office.yaml '{key}': {exc}") from exc
        context[key] = reflow(text)
    return context


def reflow(text: str) -> str:
    """Join the lines of each paragraph (YAML block text is wrapped for editing); keep blank-line breaks."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in paragraphs)


def render_html(context: dict, template: Path | None = None) -> bytes:
    template = Path(template or DEFAULT_TEMPLATE)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent)),
        autoescape=True,  # listing titles and URLs are hostile input
        undefined=jinja2.StrictUndefined,
    )
    try:
        return env.get_template(template.name).render(context).encode("utf-8")
    except jinja2.TemplateError as exc:
        raise ValueError(f"letter template {template}: {exc}") from exc


def fit_words(text: str, style, width: float) -> str:
    """`text` with a line break wherever a word wider than `width` points fills a line: Chinese and Japanese use
    no spaces, URLs neither, and such a word would run out of its column. Lines break at spaces as usual
    elsewhere. (reportlab's wordWrap="CJK" breaks anywhere too, at many times the cost: it was most of a
    1,000-listing letter's time.)"""
    main = _coverage(style.fontName)
    fallback = _coverage(FALLBACK) if FALLBACK in pdfmetrics.getRegisteredFontNames() else frozenset()
    widest = _widest_glyph(style.fontName) * style.fontSize / 1000

    def drawn_width(char: str) -> float:
        # As _markup draws it: in the main font, else in the fallback font, else as [U+XXXX].
        code = ord(char)
        if code in main:
            return pdfmetrics.stringWidth(char, style.fontName, style.fontSize)
        if code in fallback:
            return pdfmetrics.stringWidth(char, FALLBACK, style.fontSize)
        return pdfmetrics.stringWidth(f"[U+{code:04X}]", style.fontName, style.fontSize)

    def word_width(word: str) -> float:
        if main.issuperset(map(ord, word)):
            if len(word) * widest <= width:  # no need to measure it
                return 0.0
            return pdfmetrics.stringWidth(word, style.fontName, style.fontSize)
        return sum(map(drawn_width, word))

    out = []
    for part in re.split(r"(\s+)", text):
        if not part or part.isspace() or word_width(part) <= width:
            out.append(part)
            continue
        line = 0.0
        for char in part:
            char_width = drawn_width(char)
            if line and line + char_width > width:
                out.append("\n")
                line = 0.0
            out.append(char)
            line += char_width
    return "".join(out)


def _para(text: str, style) -> Paragraph:
    # reportlab paragraphs take a small markup language: escape everything, keep the line breaks.
    return Paragraph(_markup(text or "", style.fontName), style)


# A screenshot in the PDF: this wide, and no taller than this (a long page shows its top; the pack has all of it).
SHOT_WIDTH = 70 * mm
SHOT_MAX_HEIGHT = 95 * mm


def _seen(context: dict, images: dict[str, bytes], body, cell) -> list:
    """Each listing's screenshot beside its details: "The listings as they were seen"."""
    rows = []
    for listing in context["listings"]:
        shot = listing.get("screenshot")
        picture = screenshot_top(images.get(shot["file"]), SHOT_WIDTH, SHOT_MAX_HEIGHT) if shot else None
        if picture is None:
            continue
        details = "\n".join(
            filter(
                None,
                [
                    f"{listing['marketplace']}:{listing['listing_id']}",
                    listing["title"],
                    listing["price_text"] + (f", seller {listing['seller']}" if listing.get("seller") else ""),
                    listing["url"],
                    f"Rendered {shot['fetched_at']} UTC",
                    f"Screenshot SHA-256 {shot['sha256']}",
                ],
            )
        )
        rows.append([picture, _para(details, cell)])
    if not rows:
        return []
    table = Table(rows, colWidths=[SHOT_WIDTH + 4 * mm, 174 * mm - SHOT_WIDTH - 4 * mm], splitInRow=1)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    note = (
        "Each screenshot shows the top of the listing page as rendered in a web browser when it was captured; "
        "the whole page is in the pack's screenshots folder, named by its SHA-256."
    )
    return [_para("The listings as they were seen", body), _para(note, cell), Spacer(1, 2 * mm), table]


def render_pdf(context: dict) -> bytes:
    """The same letter as a PDF with real text (searchable, readable by pdftotext); each listing's screenshot is
    drawn beside its details from `context["images"]` (the pack's screenshot files, by name)."""
    regular, bold = _fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("kw-body", parent=styles["BodyText"], fontName=regular, fontSize=10, leading=13)
    right = ParagraphStyle("kw-right", parent=body, alignment=TA_RIGHT)
    small = ParagraphStyle("kw-small", parent=body, fontSize=8, leading=10)
    cell = ParagraphStyle("kw-cell", parent=body, fontSize=7.5, leading=9)
    h1 = ParagraphStyle("kw-h1", parent=styles["Heading1"], fontName=bold, fontSize=14)
    h2 = ParagraphStyle("kw-h2", parent=styles["Heading2"], fontName=bold, fontSize=11)

    office, recipient = context["office"], context["recipient"]
    sender = "\n".join(filter(None, [office["name"], office["address"], office["email"], office["phone"]]))
    to_lines = [recipient["name"], recipient.get("address"), recipient.get("email")]
    market = f"Marketplace: {recipient['marketplace']}"
    if recipient.get("seller_ids"):
        market += f" (seller account(s): {', '.join(recipient['seller_ids'])})"
    to_lines.append(market)
    if recipient.get("reporting_url"):
        to_lines.append(f"Reporting channel: {recipient['reporting_url']}")

    story = [
        _para(sender, right),
        Spacer(1, 4 * mm),
        _para(f"Reference: {context['number']}\nDate: {context['date']}", body),
        Spacer(1, 4 * mm),
        _para("\n".join(filter(None, to_lines)), body),
        Spacer(1, 6 * mm),
        _para(office["subject"], h1),
        _para(context["intro"], body),
        _para("The listings", h2),
    ]
    widths = [8 * mm, 45 * mm, 45 * mm, 20 * mm, 21 * mm, 20 * mm, 15 * mm]
    padding = 12  # the table's default cell padding, left and right

    def cell_para(text: str, width: float) -> Paragraph:
        return _para(fit_words(text, cell, width - padding), cell)

    rows = [[_para(h, cell) for h in ("#", "Listing", "Title", "Price", "Category", "First seen (UTC)", "Status")]]
    for i, listing in enumerate(context["listings"], 1):
        rows.append(
            [
                cell_para(str(v), width)
                for v, width in zip(
                    (
                        i,
                        f"{listing['marketplace']}:{listing['listing_id']}\n{listing['url']}",
                        listing["title"],
                        listing["price_text"],
                        listing["category_label"],
                        listing["first_seen"],
                        listing["status"],
                    ),
                    widths,
                )
            ]
        )
    # splitInRow: a row taller than a page continues on the next one rather than failing the whole letter.
    table = Table(rows, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, *(_para(text, style) for text, style in network_pdf(context.get("network"), h2, cell))]
    story += _seen(context, context.get("images") or {}, h2, cell)
    story += [
        _para("The law", h2),
        _para(context["legal_paragraph"], body),
        Spacer(1, 3 * mm),
        _para(context["request"], body),
        Spacer(1, 6 * mm),
        _para("Yours faithfully,", body),
        Spacer(1, 8 * mm),
        _para("\n".join(filter(None, [office["signatory"], office["signatory_role"], office["name"]])), body),
    ]
    if context.get("footer"):
        story += [Spacer(1, 6 * mm), _para(context["footer"], small)]
    story.append(
        _para(f"Reference {context['number']}. Evidence store chain head at export: {context['chain_head']}", small)
    )

    def page_footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(18 * mm, 10 * mm, f"{context['number']} - page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    # invariant: no random document id or wall-clock creation date, so the same notice renders to the same bytes.
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{context['number']}: {office['subject']}",
        author=office["name"],
        subject=office["subject"],
        invariant=1,
    )
    doc.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return out.getvalue()
