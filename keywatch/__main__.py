from keywatch.cli import cli

cli()
