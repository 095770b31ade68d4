"""Notifying retailers: retailer contacts, evidence packs with notices, pack verification, compliance report."""

from pathlib import Path

import click

import db
from common import atomic
from common.yamlfile import ConfigError
from db import notices, retailers
from exports.export import ExportError, export_pack, resolve_target
from exports.office import load_office
from exports.pack import verify_pack as check_pack
from exports.retailers import check_retailer, load_retailers
from exports.safezip import label
from keywatch.options import db_option, open_store, read_store, refuse_store_as_output
from keywatch.terminal import json_text, printable, printable_lines


@click.group()
def retailer():
    """Retailers to notify: seller accounts or web shops and their contact details."""


@retailer.command("add")
@click.argument("name")
@click.option("--marketplace", required=True, help="Marketplace id as the spiders record it (e.g. demo)")
@click.option("--seller", "sellers", multiple=True, help="Seller account on that marketplace (repeatable)")
@click.option("--email", default="", help="Where notices are sent")
@click.option("--address", default="", help="Postal address (use \\n for new lines)")
@click.option("--reporting-url", default="", help="The marketplace's channel for reporting prohibited items")
@click.option("--update", is_flag=True, help="Replace the details of an existing retailer of that name")
@db_option
def retailer_add(name, marketplace, sellers, email, address, reporting_url, update, db_path):
    """Add one retailer (or, with --update, change one).

    A retailer with no --seller stands for the marketplace operator itself.

        keywatch retailer add "Keyless Pro Tools Ltd" --marketplace demo --seller keyless_pro_tools \\
            --email compliance@example.com
    """
    try:
        entry = check_retailer(
            {
                "name": name,
                "marketplace": marketplace,
                "seller_ids": list(sellers),
                "email": email,
                "address": address.replace("\\n", "\n"),
                "reporting_url": reporting_url,
            }
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with open_store(db_path, create=True) as store:
        if retailers.get_retailer(store, entry.name) is not None and not update:
            raise click.ClickException(f"retailer {entry.name!r} already exists (use --update to change it)")
        try:
            retailers.save_retailer(store, entry.to_dict(), db.utc_now())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"saved retailer {entry.name!r} ({entry.marketplace}: {', '.join(entry.seller_ids) or 'marketplace operator'})"
    )


@retailer.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table")
@db_option
def retailer_list(as_json, db_path):
    """List the retailers in the store."""
    with read_store(db_path) as store:
        rows = retailers.list_retailers(store)
    if as_json:
        click.echo(json_text(rows, indent=2))
        return
    if not rows:
        click.echo("no retailers yet (keywatch retailer import retailers.yaml)")
    for r in rows:
        sellers = ", ".join(r["seller_ids"]) or "(marketplace operator)"
        click.echo("\t".join(printable(v) for v in (r["name"], r["marketplace"], sellers, r["email"] or "-")))


@retailer.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def retailer_import(path, db_path):
    """Load retailers from a YAML file (see retailers.yaml); entries are matched and updated by name.

    keywatch retailer import retailers.yaml
    """
    try:
        entries = load_retailers(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    new = 0
    with open_store(db_path, create=True) as store:
        try:
            with db.write_transaction(store):  # all of the file or none of it
                now = db.utc_now()
                for entry in entries:
                    new += retailers.get_retailer(store, entry.name) is None
                    retailers.save_retailer(store, entry.to_dict(), now)
        except ValueError as exc:
            raise click.ClickException(f"{path}: {exc}; nothing imported") from None
    click.echo(f"imported {len(entries)} retailers from {path} ({new} new, {len(entries) - new} updated)")


@click.command()
@click.option("--retailer", "retailer_name", metavar="NAME", help="A retailer from `keywatch retailer list`")
@click.option("--seller", metavar="MARKETPLACE:SELLER", help="One seller account (a retailer or not)")
@click.option("--marketplace", metavar="M", help="Every listing on a marketplace, addressed to its operator")
@click.option(
    "--network", metavar="N", help="A confirmed seller network's listings, with its links (`keywatch networks`)"
)
@click.option(
    "--status",
    "review_status",
    type=click.Choice(notices.EXPORTABLE_STATUSES),
    default="confirmed",
    show_default=True,
    help="Which reviewed listings to include",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The pack to write (PACK.zip)")
@click.option(
    "--office-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Office details and notice wording [default: $KEYWATCH_OFFICE, ./office.yaml, exports/templates/office.yaml]",
)
@click.option("--user", default=None, help="Who is exporting (recorded with the notice)")
@db_option
def export(retailer_name, seller, marketplace, network, review_status, out, office_config, user, db_path):
    """Write an evidence pack (ZIP) for one retailer and record the notice.

    The pack holds listings.csv/.json, the captured pages, the screenshots and photos, a WARC of them all,
    the notice letter (HTML and PDF, numbered e.g. KW-2026-0001, each screenshot beside its listing),
    manifest.json and SHA256SUMS. The notice (number, listings, the
    pack's SHA-256) is recorded in the store and chained; nothing is written or recorded on error.

        keywatch export --retailer "Keyless Pro Tools Ltd" --out KW-keyless-pro.zip
        keywatch export --network N8668d7857 --out KW-network.zip

    A network's pack (--network) also holds network.json and a manifest entry with its accounts, who
    confirmed it and every link with its evidence, and its notice names them; only a network a reviewer
    confirmed can be exported.
    """
    try:
        office = load_office(office_config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    refuse_store_as_output(out, db_path)
    try:
        with open_store(db_path) as store:
            target = resolve_target(
                store, retailer=retailer_name, seller=seller, marketplace=marketplace, network=network
            )
            result = export_pack(store, target, out, office=office, review_status=review_status, exported_by=user)
    except (ExportError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {out}: {exc.strerror or exc}; nothing exported, no notice recorded"
        ) from None
    click.echo(
        printable(
            f"notice {result.number} to {target.recipient['name']}: {result.listings} listings, "
            f"{result.captures} captures -> {out}"
        )
    )
    click.echo(f"pack SHA-256 {result.pack.sha256}")


@click.command("verify-pack")
@click.argument("pack", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def verify_pack(pack, db_path):
    """Re-check every file of an evidence pack against manifest.json and SHA256SUMS.

    Exits non-zero naming each file that differs, is missing, or is extra. When the evidence store is
    at hand (--db), also checks the ZIP's SHA-256 against the notice recorded at export.

        keywatch verify-pack KW-keyless-pro.zip
    """
    try:
        report = check_pack(pack)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    number = report.manifest.get("notice_number")
    recorded = _recorded_notice(db_path, number)
    if recorded is not None:
        from exports.pack import sha256_file

        actual = sha256_file(pack)
        if actual != recorded["pack_sha256"]:
            report.problems.append(
                f"{pack.name}: SHA-256 {actual} differs from notice {number} recorded in the "
                f"store ({recorded['pack_sha256']})"
            )
    for problem in report.problems:
        click.echo(printable(problem), err=True)
    if not report.ok:
        count = len(report.problems)
        raise click.ClickException(f"{pack}: verification FAILED ({count} problem{'s' if count != 1 else ''})")
    # The notice number is the pack's own text: shown, not obeyed, on the terminal.
    number = label(number) if number else number
    if recorded is not None:
        against = f"; the ZIP matches notice {number} as recorded in {db_path}"
    elif Path(db_path).exists():
        against = f"; notice {number} is not recorded in {db_path}, so the pack was checked on its own"
    else:
        against = "; no evidence store at hand, so the pack was checked on its own"
    click.echo(f"{pack}: OK, {report.files} files, notice {number}{against}")


def _recorded_notice(db_path: Path, number: str | None):
    if not number or not Path(db_path).exists():
        return None
    with read_store(db_path) as store:  # a check must not change the store it checks against
        if not store["notices"].exists():
            return None
        return notices.get_notice(store, number)


@click.command()
@click.option("--since", metavar="DATE", default=None, help="Only notices sent on or after DATE (YYYY-MM-DD)")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of stdout (HTML embeds its SVG charts as data: URIs)",
)
@db_option
def report(since, fmt, out, db_path):
    """Compliance report: per retailer and marketplace, listings notified, removed, still live, median days
    from notice to removal, and new hits since the last notice.

        keywatch report --since 2026-01-01 --format html --out report.html
    """
    from exports import report as compliance_report

    try:
        since_utc = compliance_report.parse_since(since)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if out is not None:
        refuse_store_as_output(out, db_path)
    with read_store(db_path) as store:
        data = compliance_report.compliance(store, since_utc)
    text = compliance_report.render_html(data) if fmt == "html" else compliance_report.render_markdown(data)
    if out is None:
        click.echo(printable_lines(text), nl=False)
        return
    try:
        atomic.write_text(out, text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out}")


commands = [retailer, export, verify_pack, report]
