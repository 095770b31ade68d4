"""Shared fixtures. Everything here stays on 127.0.0.1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture
def real_fixtures():
    """The real marketplace captures in ../shared/fixtures/real (never copied into this repo)."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/real is not present")
    return REAL_FIXTURES


@pytest.fixture
def demo_market():
    """The bundled demo marketplace on 127.0.0.1, a free port."""
    from demo_market import DemoMarket

    with DemoMarket(port=0) as market:
        yield market


def run_keywatch(*args, env=None, timeout=300, check=True):
    """Run the real `keywatch` CLI in a subprocess (Scrapy's reactor cannot restart within one process)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "keywatch", *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"keywatch {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def fast_password_hashes(monkeypatch):
    """Cheap argon2id parameters: the production ones take ~0.5 s per hash on a 2-core machine."""
    from argon2 import PasswordHasher

    from webui import auth

    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def decisions_in(path) -> list[dict]:
    """Every review decision in the store at `path`, oldest first (the audit trail as stored)."""
    import db

    store = db.connect(path)
    try:
        return [dict(r) for r in store.query("SELECT * FROM decisions ORDER BY id")]
    finally:
        store.close()
