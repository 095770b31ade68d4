"""CLI commands that crawl: `demo` (the embedded default) and `crawl SPIDER`."""

import shutil
from pathlib import Path

import click

import db
from common import settings
from common.yamlfile import ConfigError
from keywatch import weekly_report
from keywatch.commands.networks import print_networks, recompute_after_crawl
from keywatch.crawl_lock import CrawlLock, LockHeld
from keywatch.job_state import JobState
from keywatch.options import db_option, load_watchlist_or_fail, watchlist_option
from keywatch.weekly import run_all


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.ClickException(f"{option} expects NAME=VALUE, got {pair!r}")
        parsed[name] = value
    return parsed


def print_summary(result, db_path) -> None:
    stats = result.stats
    pages = result.accounting
    click.echo(f"Crawl of {result.spider} finished ({result.finish_reason}), run {result.run_id}")
    click.echo(f"  pages fetched:    {result.count('downloader/response_count')}")
    click.echo(f"  listings seen:    {result.count('keywatch/cards_screened')}")
    # fetched = stored + skipped + not stored (+ lost, which should never happen): every listing page accounted for.
    skipped = ", ".join(f"{n} skipped ({reason.replace('_', ' ')})" for reason, n in pages["skipped"].items())
    click.echo(
        f"  listing pages:    {pages['fetched']} fetched = {pages['stored']} stored"
        + (f" + {skipped}" if skipped else "")
        + (f" + {pages['not_stored']} not stored (errors, see the log)" if pages["not_stored"] else "")
        + (f" + {pages['lost']} LOST (neither stored nor counted)" if pages["lost"] else "")
    )
    errors = result.count("keywatch/parse_errors")
    click.echo(
        f"  item pages:       {result.count('keywatch/items')} parsed, {errors} parse errors"
        + (" (stored all the same; see the log)" if errors else "")
    )
    if pages["unreadable_fields"]:
        click.echo(
            "  unreadable:       "
            + ", ".join(f"{name} {n}" for name, n in pages["unreadable_fields"].items())
            + " (stored as null; extra.field_problems says why)"
        )
    claims = result.count("keywatch/identity_claims_rejected")
    if claims:
        click.echo(f"  identity claims:  {claims} pages claimed another identity (kept as extra.claims)")
    rechecks = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("keywatch/rechecks/")}
    if rechecks:
        click.echo("  re-checks:        " + ", ".join(f"{v} {k}" for k, v in sorted(rechecks.items())))
    if "keywatch/ebay_api/budget" in stats:  # an API spider: what it spent of its daily allowance
        used = result.count("keywatch/ebay_api/calls_before") + result.count("keywatch/ebay_api/calls")
        click.echo(
            f"  API calls:        {result.count('keywatch/ebay_api/calls')} this run, {used} in 24 h of a budget "
            f"of {result.count('keywatch/ebay_api/budget')}"
            + (" (budget reached: calls skipped)" if result.count("keywatch/ebay_api/budget_exhausted") else "")
        )
    for line in media_lines(result):
        click.echo(line)
    click.echo(f"  hits:             {result.count('keywatch/hits')}")
    for prefix, label in (("keywatch/hits/category/", "by category"), ("keywatch/hits/risk/", "by risk")):
        counts = {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}
        if counts:
            click.echo(f"    {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    store = db.connect(db_path)
    try:
        click.echo(f"  database:         {db_path}")
        click.echo(f"  chain head:       {db.chain_head(store)}")
    finally:
        store.close()


def media_lines(result) -> list[str]:
    """What the crawl rendered and which photos it kept; why it rendered nothing when it could not."""
    lines = []
    if result.stats.get("keywatch/render/unavailable"):
        lines.append(f"  rendering:        skipped: {result.stats['keywatch/render/unavailable']}")
    elif any(key.startswith("keywatch/render/") for key in result.stats):
        problems = [
            f"{result.count(f'keywatch/render/{key}')} {label}"
            for key, label in (("refused", "refused"), ("errors", "failed"), ("off_site", "ended off the site"))
            if result.count(f"keywatch/render/{key}")
        ]
        lines.append(
            f"  rendered:         {result.count('keywatch/render/rendered')} pages (screenshot, DOM and "
            f"{result.count('keywatch/render/resources')} loaded responses; "
            f"{result.count('keywatch/render/bytes') / 1e6:.1f} MB)" + (f", {', '.join(problems)}" if problems else "")
        )
    if any(key.startswith("keywatch/photos/") for key in result.stats):
        rejected = result.count("keywatch/photos/rejected")
        lines.append(
            f"  photos:           {result.count('keywatch/photos/stored')} kept "
            f"({result.count('keywatch/photos/bytes') / 1e6:.1f} MB), {rejected} rejected"
            + (" (see the log)" if rejected else "")
        )
    return lines


def check_render_mode() -> None:
    """A KEYWATCH_RENDER typo is a one-line error before anything starts."""
    try:
        settings.render_mode()
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@db_option
@watchlist_option
def demo(db_path, watchlist_path):
    """Crawl the bundled demo marketplace end to end (the embedded default).

    Starts the demo marketplace on 127.0.0.1 (a free port), crawls every listing, classifies and stores
    them, stops the server and prints a summary.
    """
    from demo_market import DemoMarket
    from keywatch.crawling import project_settings, run_crawls  # Scrapy loads only for commands that crawl

    load_watchlist_or_fail(watchlist_path)
    check_render_mode()
    scrapy_settings = project_settings(db_path, watchlist_path, {"LOG_LEVEL": "WARNING"})
    try:
        with CrawlLock(db_path), DemoMarket(port=0) as market:
            click.echo(f"Demo marketplace serving {len(market.listings)} listings at {market.url}")
            [result] = run_crawls([("demo_market", {"base_url": market.url, "mode": "all"})], scrapy_settings)
    except LockHeld as error:
        raise click.ClickException(str(error)) from None
    print_summary(result, db_path)
    recompute_after_crawl(db_path)
    print_networks(db_path)
    refuse_losses(result)
    # After `make demo` the CLI is not on PATH: show the command as the user can type it.
    kw = "keywatch" if shutil.which("keywatch") or not Path(".venv/bin/keywatch").exists() else ".venv/bin/keywatch"
    click.echo("")
    click.echo("Next:")
    click.echo(f"  {kw} hits --db {db_path}              # the flagged listings")
    click.echo(f"  {kw} verify --db {db_path}            # re-check every hash in the evidence store")
    click.echo(f"  {kw} user add alice --role admin --db {db_path}")
    click.echo(f"  {kw} networks --db {db_path}          # the seller networks, with the evidence of each link")
    click.echo(f"  {kw} serve --db {db_path}             # then open http://127.0.0.1:8000/ to review")


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("spider", required=False)
@click.option(
    "--all",
    "crawl_all",
    is_flag=True,
    help="Crawl every enabled marketplace of --config, one after another (the weekly job)",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Marketplaces for --all [default: $KEYWATCH_MARKETPLACES, ./marketplaces.yaml, else the repository's]",
)
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted crawl from its Scrapy job state (jobs/ beside the database)"
)
@click.option("-a", "spider_args", multiple=True, metavar="NAME=VALUE", help="Spider argument, as in scrapy crawl")
@click.option("-s", "setting_pairs", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as in scrapy crawl")
@db_option
@watchlist_option
def crawl(spider, crawl_all, config_path, resume, spider_args, setting_pairs, db_path, watchlist_path):
    """Crawl one marketplace with spider SPIDER, or every enabled one with --all, and store what is found.

    \b
    Examples:
      keywatch crawl ebay_uk -a max_pages=2
      keywatch crawl webshop -a start_url=https://shop.example/ --db data/keywatch.sqlite
      keywatch crawl --all --config marketplaces.yaml      # the weekly job
      keywatch crawl --all --resume                        # continue an interrupted run

    A lock file beside the database keeps two crawls of it from overlapping. --all prints a report and
    writes it to reports/ beside the database. Exit codes: 0 all well; 1 a user error, another crawl
    holds the lock, or (one SPIDER) the crawl did not finish or fetched listing pages it did not store;
    2 a spider looks broken (listing pages not stored, no results where its previous run had some, pages
    mostly failing to parse, a field missing on most listings); 3 interrupted (run again with --resume).
    """
    from scrapy.spiderloader import SpiderLoader

    from keywatch.crawling import project_settings, run_crawls

    if crawl_all == bool(spider):
        raise click.ClickException("give one SPIDER to crawl, or --all for every marketplace in the config")
    if crawl_all and spider_args:
        raise click.ClickException("with --all, spider arguments come from the config file (args:), not -a")
    if config_path and not crawl_all:
        raise click.ClickException("--config is only used with --all")
    load_watchlist_or_fail(watchlist_path)
    check_render_mode()
    try:
        scrapy_settings = project_settings(db_path, watchlist_path, parse_pairs(setting_pairs, "-s"))
    except ValueError as error:
        raise click.ClickException(f"-s {error}") from None
    known = SpiderLoader.from_settings(scrapy_settings).list()
    if crawl_all:
        crawl_everything(config_path or settings.marketplaces_path(), db_path, scrapy_settings, resume, known)
        return
    if spider not in known:
        raise click.ClickException(f"unknown spider {spider!r}; known: {', '.join(sorted(known))}")
    job_settings = {}
    state = JobState(db_path)
    jobdir = state.jobdir(spider)
    try:
        with CrawlLock(db_path):
            if resume:
                job_settings["KEYWATCH_RESUMING"] = state.start_run(spider)
                job_settings["JOBDIR"] = str(jobdir)
            [result] = run_crawls([(spider, parse_pairs(spider_args, "-a"), job_settings)], scrapy_settings)
            if resume:
                state.end_run(spider, result.lost_pages)
    except LockHeld as error:
        raise click.ClickException(str(error)) from None
    if result.error:
        raise click.ClickException(f"{spider} did not start: {result.error}")
    print_summary(result, db_path)
    recompute_after_crawl(db_path)
    if result.finish_reason != "finished":
        if resume:
            click.echo(f"  interrupted: run the same command again to continue (job state in {jobdir})")
        raise SystemExit(1)
    refuse_losses(result)
    if resume:
        shutil.rmtree(jobdir, ignore_errors=True)  # done: a later --resume starts afresh


def refuse_losses(result) -> None:
    """A run that fetched listing pages it did not store fails, whatever Scrapy's finish reason says."""
    if result.lost_pages:
        raise click.ClickException(
            f"{result.lost_pages} of {result.accounting['fetched']} fetched listing pages were not stored (see the log)"
        )


def crawl_everything(config_path, db_path, scrapy_settings, resume, known):
    try:
        report = run_all(config_path, db_path, scrapy_settings, resume=resume, known_spiders=known)
    except (ConfigError, LockHeld) as error:
        raise click.ClickException(str(error)) from None
    click.echo(weekly_report.format_summary(report))
    recompute_after_crawl(db_path)
    click.echo(f"Report: {weekly_report.reports_dir(db_path) / f'crawl-{report.batch}.json'}")
    if report.exit_code == weekly_report.EXIT_INTERRUPTED:
        click.echo("Interrupted: run `keywatch crawl --all --resume` with the same --db to continue.")
    raise SystemExit(report.exit_code)


commands = [demo, crawl]
