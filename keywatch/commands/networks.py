"""CLI commands over seller networks: `networks` (recompute, then list) and `review-network` (a reviewer's decision)."""

import csv
import sys

import click

from keywatch.options import cli_channel, db_option, open_store, read_store, table_format_option
from keywatch.terminal import json_text, printable

CSV_COLUMNS = (
    "network",
    "status",
    "link",
    "a",
    "b",
    "kind",
    "weight",
    "item",
    "first_seller",
    "first_listing",
    "first_at",
)


def network_record(network: dict) -> dict:
    """The jsonl object of one network: its members, listings and the links (not rejected) between them."""
    return {
        "id": network["id"],
        "status": network["status"],
        "marketplaces": network["marketplaces"],
        "sellers": network["sellers"],
        "listings": network["listings"],
        "links": [
            {key: link[key] for key in ("id", "a", "b", "kind", "weight", "evidence")}
            for link in network["links"]
            if not link["rejected"]
        ],
    }


def network_lines(network: dict) -> list[str]:
    """A network for a terminal: a heading, its sellers, then one line per link with who wrote the item first."""
    lines = [
        f"{network['id']}  {network['size']} sellers on {len(network['marketplaces'])} marketplace(s), "
        f"{len(network['listings'])} listings, {network['status']}"
    ]
    lines += [f"  seller  {printable(seller)}" for seller in network["sellers"]]
    for link in network["links"]:
        first = link["evidence"]["first"]
        lines.append(
            f"  {link['id']}  {'REJECTED ' if link['rejected'] else ''}{link['kind']:<11} {link['weight']:.2f}  "
            f"{printable(link['a'])} <-> {printable(link['b'])}  {printable(link['item'])}  "
            f"(first: {printable(first['seller'])} in {printable(first['listing'])}, {first['fetched_at']})"
        )
    return lines


def recompute_line(db_path) -> str:
    """Recompute the networks and say what was found, in one line."""
    from keywatch.networks_job import recompute

    done = recompute(db_path)
    stock = ", ".join(f"{n} {kind}" for kind, n in sorted(done.get("stock", {}).items()))
    return f"networks: {done.get('networks', 0)} of {done.get('sellers', 0)} sellers, {done.get('links', 0)} links" + (
        f" (left out as stock or boilerplate: {stock})" if stock else ""
    )


def recompute_after_crawl(db_path) -> None:
    """After a crawl: a failed recompute is reported, and the crawl's outcome stands."""
    try:
        click.echo("  " + recompute_line(db_path))
    except Exception as error:  # noqa: BLE001 - the crawl is stored; `keywatch networks` can recompute later
        click.echo(f"  networks: not recomputed ({type(error).__name__}: {error}); run `keywatch networks`", err=True)


def print_networks(db_path) -> None:
    """The networks the last recompute found, as `keywatch networks` shows them (for `keywatch demo`)."""
    from db import networks as stored_networks

    with read_store(db_path) as store:
        found = stored_networks.list_networks(store)
    if found:
        click.echo("")
        click.echo("Seller networks (leads for a reviewer to confirm, not findings):")
        echo_table(found)


def echo_table(found: list[dict]) -> None:
    for network in found:
        click.echo("\n".join(network_lines(network)))


@click.command()
@db_option
@table_format_option("Output format: jsonl is one network per line; csv one link per row.")
@click.option("--stored", is_flag=True, help="List what the last recompute found, without recomputing (read only).")
def networks(db_path, output_format, stored):
    """Recompute seller networks from the evidence store and list those of two or more sellers.

    Sellers are linked by what they share: a phone number, e-mail, messenger handle or web-shop domain
    written in a title, description or seller profile; the same photo; a near-identical description; a
    look-alike name on another marketplace. Links are leads, not findings: each shows who wrote the shared
    item first and where, and a network enters a notice only after a reviewer confirms it (docs/networks.md).

    \b
    Examples:
      keywatch networks
      keywatch networks --format jsonl > networks.jsonl
      keywatch networks --stored --format csv
    """
    from db import networks as stored_networks

    if not stored:
        with open_store(db_path):
            pass  # a missing or foreign store is a one-line error before anything runs
        click.echo(recompute_line(db_path), err=True)
    with read_store(db_path) as store:
        found = stored_networks.list_networks(store)
    if output_format == "table":
        if not found:
            click.echo("No networks of two or more sellers.", err=True)
        echo_table(found)
    elif output_format == "jsonl":
        for network in found:
            click.echo(json_text(network_record(network)))
    elif output_format == "csv":
        from exports.listings import spreadsheet_safe

        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for network in found:
            for link in network["links"]:
                first = link["evidence"]["first"]
                row = {
                    "network": network["id"],
                    "status": "rejected" if link["rejected"] else network["status"],
                    "link": link["id"],
                    **{k: link[k] for k in ("a", "b", "kind", "weight", "item")},
                    "first_seller": first["seller"],
                    "first_listing": first["listing"],
                    "first_at": first["fetched_at"],
                }
                writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})


@click.command("review-network")
@click.argument("network_id")
@click.option(
    "--confirm", is_flag=True, help="Confirm the network as its members are now: it can then go into a notice."
)
@click.option("--reject-link", metavar="LINK_ID", help="Reject one of its links (needs --note saying why).")
@click.option("--restore-link", metavar="LINK_ID", help="Restore a link rejected before.")
@click.option("--note", help="Why: kept with the decision.")
@click.option("--user", "user_name", required=True, help="The reviewer taking the decision (an existing account).")
@db_option
def review_network(network_id, confirm, reject_link, restore_link, note, user_name, db_path):
    """Record a reviewer's decision about seller network NETWORK_ID, with the same audit trail as the web UI.

    A rejected or restored link changes who is linked to whom, so the networks are recomputed after it; a network
    that gains or loses a seller gets a new id and needs confirming again. Ids are in `keywatch networks`.

    \b
    Examples:
      keywatch review-network N8668d7857 --confirm --note "same phone, photos and wording" --user alice
      keywatch review-network N8668d7857 --reject-link L248d652f76b9cbb --note "a stock photo" --user alice
    """
    from db.accounts import ReviewError
    from db.network_decisions import decide_network

    chosen = [
        (a, v) for a, v in (("confirm", confirm), ("reject_link", reject_link), ("restore_link", restore_link)) if v
    ]
    if len(chosen) != 1:
        raise click.UsageError("choose one of --confirm, --reject-link LINK_ID, --restore-link LINK_ID")
    [(action, link_id)] = chosen
    with open_store(db_path) as store:
        try:
            row = decide_network(
                store,
                user_name,
                action,
                network_id=network_id,
                link_id=None if action == "confirm" else link_id,
                note=note,
                via=cli_channel(),
            )
        except ReviewError as error:
            raise click.ClickException(str(error)) from None
    if action == "confirm":
        click.echo(f"Decision {row['id']}: network {network_id} confirmed by {user_name}.")
        return
    done = "rejected" if action == "reject_link" else "restored"
    click.echo(f"Decision {row['id']}: link {link_id} {done} by {user_name}.")
    click.echo(recompute_line(db_path))


commands = [networks, review_network]
