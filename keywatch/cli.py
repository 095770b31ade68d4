"""The `keywatch` command line: one click group; each area's commands live in keywatch/commands/."""

import importlib

import click

from common import VERSION

# One module per area; each exposes `commands`, a list of click commands/groups to register.
COMMAND_MODULES = (
    "keywatch.commands.crawl",  # demo, crawl
    "keywatch.commands.parse",  # parse
    "keywatch.commands.classify",  # classify, eval, watchlist, reclassify
    "keywatch.commands.train",  # train
    "keywatch.commands.evidence",  # hits, show, verify, warc, purge, reindex
    "keywatch.commands.review",  # serve, user, review
    "keywatch.commands.notify",  # retailer, export, verify-pack, report
    "keywatch.commands.networks",  # networks
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="keywatch")
def cli():
    """keywatch: find marketplace listings of keyless car-theft devices, keep them as
    verifiable evidence, review them, and notify the retailers.

    Start with `keywatch demo`, then `keywatch hits` and `keywatch serve`.
    """


HELP_OPTIONS = ["-h", "--help"]


def _with_short_help(command: click.Command) -> click.Command:
    # Set on every command, not only inherited from the group: click caches a command's help option
    # the first time it is built, and scripts and tests also invoke commands directly.
    command.context_settings.setdefault("help_option_names", HELP_OPTIONS)
    for sub in getattr(command, "commands", {}).values():
        _with_short_help(sub)
    return command


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        cli.add_command(_with_short_help(_command))
