"""The command reference in docs/cli.md, generated from the commands' own --help so it cannot rot."""

import click

from keywatch.cli import cli


def walk(command: click.Command, path: tuple[str, ...] = ("keywatch",)):
    """Yield (path, command) for the group and every command below it."""
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], path + (name,))


def help_text(path: tuple[str, ...]) -> str:
    # Through click's own entry point, so inherited context settings (-h) apply as they do for users.
    from click.testing import CliRunner

    return CliRunner().invoke(cli, [*path[1:], "--help"], terminal_width=100).output


def render() -> str:
    parts = [
        "# Command reference",
        "",
        "Generated from `--help` by `python -m keywatch.reference`; a test checks it is current.",
        "",
    ]
    for path, _command in walk(cli):
        parts += [f"## `{' '.join(path)}`", "", "```", help_text(path).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    from common.settings import ROOT

    (ROOT / "docs" / "cli.md").write_text(render())
