"""CLI commands that crawl: `demo` (the embedded default) and `crawl SPIDER`."""

import click

import db
from classifier import WatchlistError, load_watchlist
from keywatch.crawling import CrawlResult, project_settings, run_crawls
from keywatch.options import db_option, watchlist_option


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.ClickException(f"{option} expects NAME=VALUE, got {pair!r}")
        parsed[name] = value
    return parsed


def check_watchlist(path) -> None:
    """Refuse to start a crawl on an invalid watchlist: better now, with the line, than mid-crawl."""
    try:
        load_watchlist(path)
    except WatchlistError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot read watchlist {path}: {error.strerror}") from None


def print_summary(result: CrawlResult, db_path) -> None:
    stats = result.stats
    click.echo(f"Crawl of {result.spider} finished ({result.finish_reason}), run {result.run_id}")
    click.echo(f"  pages fetched:    {result.count('downloader/response_count')}")
    click.echo(f"  listings seen:    {result.count('keywatch/cards_screened')}")
    click.echo(f"  item pages:       {result.count('keywatch/cards_fetched')} fetched, "
               f"{result.count('keywatch/items')} parsed, {result.count('keywatch/parse_errors')} parse errors")
    rechecks = {k.rsplit('/', 1)[1]: v for k, v in stats.items() if k.startswith("keywatch/rechecks/")}
    if rechecks:
        click.echo("  re-checks:        " + ", ".join(f"{v} {k}" for k, v in sorted(rechecks.items())))
    click.echo(f"  hits:             {result.count('keywatch/hits')}")
    for prefix, label in (("keywatch/hits/category/", "by category"), ("keywatch/hits/risk/", "by risk")):
        counts = {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}
        if counts:
            click.echo(f"    {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    store = db.connect(db_path)
    try:
        click.echo(f"  database:         {db_path}")
        click.echo(f"  chain head:       {db.chain_head(store)}")
    finally:
        store.close()


@click.command()
@db_option
@watchlist_option
def demo(db_path, watchlist_path):
    """Crawl the bundled demo marketplace end to end (the embedded default).

    Starts the demo marketplace on 127.0.0.1 (a free port), crawls every listing, classifies and stores
    them, stops the server and prints a summary.
    """
    from demo_market import DemoMarket

    check_watchlist(watchlist_path)
    settings = project_settings(db_path, watchlist_path, {"LOG_LEVEL": "WARNING"})
    with DemoMarket(port=0) as market:
        click.echo(f"Demo marketplace serving {len(market.listings)} listings at {market.url}")
        [result] = run_crawls([("demo_market", {"base_url": market.url, "mode": "all"})], settings)
    print_summary(result, db_path)
    click.echo("")
    click.echo("Next:")
    click.echo(f"  keywatch hits --db {db_path}              # the flagged listings")
    click.echo(f"  keywatch verify --db {db_path}            # re-check every hash in the evidence store")
    click.echo(f"  keywatch user add alice --role admin --db {db_path}")
    click.echo(f"  keywatch serve --db {db_path}             # then open http://127.0.0.1:8000/ to review")


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("spider")
@click.option("-a", "spider_args", multiple=True, metavar="NAME=VALUE", help="Spider argument, as in scrapy crawl")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as in scrapy crawl")
@db_option
@watchlist_option
def crawl(spider, spider_args, settings, db_path, watchlist_path):
    """Crawl one marketplace with spider SPIDER and store what it finds.

    Example: keywatch crawl webshop -a start_url=https://shop.example/ --db data/keywatch.sqlite
    """
    from scrapy.spiderloader import SpiderLoader

    check_watchlist(watchlist_path)
    scrapy_settings = project_settings(db_path, watchlist_path, parse_pairs(settings, "-s"))
    known = SpiderLoader.from_settings(scrapy_settings).list()
    if spider not in known:
        raise click.ClickException(f"unknown spider {spider!r}; known: {', '.join(sorted(known))}")
    [result] = run_crawls([(spider, parse_pairs(spider_args, "-a"))], scrapy_settings)
    print_summary(result, db_path)
    if result.finish_reason != "finished":
        raise SystemExit(1)


commands = [demo, crawl]
