"""`keywatch parse`: what a spider reads from a saved page, offline. A debugging aid, and what the tests use."""

from pathlib import Path

import click

from keywatch.terminal import json_text, printable

FIRST_FIELDS = ("marketplace", "listing_id", "url", "title", "price", "currency", "seller", "condition", "description")


def spider_class(name: str):
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    loader = SpiderLoader.from_settings(settings)
    if name not in loader.list():
        raise click.ClickException(f"unknown spider {name!r}; known: {', '.join(sorted(loader.list()))}")
    return loader.load(name)


def listing_lines(spider, response, kind: str) -> list[dict]:
    """The listings `spider` reads from `response`: every result card of a search page, or the one listing."""
    from spiders.robot_check import refuse_blocked

    refuse_blocked(response)  # a captcha is not "no listings on this page"
    if kind == "auto":
        kind = "item" if spider.is_item_url(response.url) else "search"
    from spiders.fields import sanitise

    marketplace = spider.marketplace_of(response.url) or spider.marketplace
    if kind == "search":
        records = [sanitise(card)[0] for card in spider.parse_cards(response)]
    elif hasattr(spider, "is_product_page") and not spider.is_product_page(response):
        records = []  # a shop page that is not a product page has no listing on it
    else:
        # As a crawl reads it: identity from the URL, what the page claims about itself in extra.claims.
        listing = spider.read_listing(response, marketplace)
        if listing["extra"].get("parse_error") or not listing.get("title"):
            raise ValueError(listing["extra"].get("parse_error") or "no title found on this item page")
        records = [listing]
    lines = []
    for record in records:
        record = {"marketplace": marketplace, **{k: v for k, v in record.items() if v not in (None, "", {}, [])}}
        lines.append({**{k: record[k] for k in FIRST_FIELDS if k in record}, **record, "page_kind": kind})
    return lines


@click.command()
@click.argument("spider")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--url", required=True, help="The address the page was saved from (absolute http/https URL).")
@click.option(
    "--kind",
    type=click.Choice(["auto", "search", "item"]),
    default="auto",
    show_default=True,
    help="Read the page as search results or as an item page; auto decides from the URL.",
)
def parse(spider, file, url, kind):
    """Print, as JSON Lines, the listings spider SPIDER extracts from the saved page FILE.

    Nothing is fetched: the page is parsed as if it had come from URL. A search-results page gives one
    line per result card, an item page one line. Fields: marketplace, listing_id, url, title, price,
    currency, seller, then whatever else the page shows (condition, description, extra, page_kind).
    eBay item descriptions live in a separate document (an iframe) that is not fetched here: the line
    has no description, and extra.description_url says where it is.

    Example: keywatch parse ebay_uk saved/item.html --url https://www.ebay.co.uk/itm/267745470208
    """
    from scrapy.http import HtmlResponse

    if not url.startswith(("http://", "https://")):
        raise click.ClickException(f"--url must be an absolute http(s) URL, got {url!r}")
    site_spider = spider_class(spider)()
    try:
        body = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {file}: {error.strerror}") from None
    try:
        lines = listing_lines(site_spider, HtmlResponse(url=url, body=body), kind)
    except Exception as error:  # a page the spider cannot read: say so on one line
        problem = f"{file}: {spider} could not parse this page ({type(error).__name__}: {error})"
        raise click.ClickException(printable(problem)) from None
    for line in lines:
        click.echo(json_text(line, default=str))
    if not lines:
        click.echo(f"{file}: no listings found", err=True)


commands = [parse]
