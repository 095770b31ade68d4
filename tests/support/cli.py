"""Running the real `keywatch` command in a subprocess (Scrapy's reactor cannot restart within one process)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Real marketplace captures saved by others (../shared/fixtures/real/SOURCES.md): read from there, never copied in.
REAL_FIXTURES = ROOT.parent / "shared" / "fixtures" / "real"


def run_keywatch(*args, env=None, timeout=300, check=True):
    """`keywatch ARGS...` from the repository root; with `check`, a non-zero exit fails with its output."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "keywatch", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"keywatch {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def demo_crawl_args(url, db_path, *more) -> list[str]:
    """`keywatch` arguments that crawl every item of the demo marketplace at `url` into `db_path`."""
    return ["crawl", "demo_market", "-a", f"base_url={url}", "-a", "mode=all", "--db", str(db_path), *map(str, more)]


def notify_cli():
    """`keywatch` with only the notices commands (export, verify-pack, retailer, report), through CliRunner: a
    function of the arguments, returning click's result."""
    import click
    from click.testing import CliRunner

    from keywatch.commands import notify

    group = click.Group(commands={c.name: c for c in notify.commands})
    runner = CliRunner()
    return lambda *args: runner.invoke(group, [str(a) for a in args], catch_exceptions=False)
