"""CLI commands: see keywatch/cli.py for the map of modules."""

commands = []
