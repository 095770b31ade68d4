"""Shared fixtures. Everything here stays on 127.0.0.1."""

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        page = self.server.pages.get(self.path.split("?")[0])
        body = page.encode() if isinstance(page, str) else page
        self.send_response(404 if body is None else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    """A site on 127.0.0.1 (a free port) serving `.pages` ({path: html}); anything else is a 404. `.url` is its root."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    server.pages = {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


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
