"""Every command explains itself, and the written reference matches what the commands say."""

import pytest
from click.testing import CliRunner

from common.settings import ROOT
from keywatch.cli import cli
from keywatch.reference import render, walk

COMMANDS = list(walk(cli))


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(path, command):
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    result = CliRunner().invoke(cli, [*path[1:], "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert CliRunner().invoke(cli, [*path[1:], "-h"]).exit_code == 0


def test_docs_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text() == render(), "run: .venv/bin/python -m keywatch.reference"


def test_readme_shows_every_top_level_command():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in cli.commands if f"keywatch {name}" not in readme]
    assert not missing, f"README has no example for: {missing}"
