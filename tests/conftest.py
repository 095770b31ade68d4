"""Shared fixtures (helpers to import are in tests/support). Everything here stays on 127.0.0.1."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import db
from tests.support.cli import REAL_FIXTURES
from tests.support.desk import Desk, logged_in, make_desk

# Crawls in tests do not render unless a test asks for it (tests/test_render_crawl.py does): a demo crawl renders
# its 70 hits in about a minute. Set before any test imports spiders.settings or starts `keywatch`.
os.environ.setdefault("KEYWATCH_RENDER", "off")


def pytest_collection_modifyitems(items):
    """Tests marked starts_first go to the front: xdist hands tests out in this order, and a test of three minutes
    handed out last would end the run alone on one worker while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("starts_first") is None)


@pytest.fixture
def real_fixtures():
    """The real marketplace captures in ../shared/fixtures/real (never copied into this repo)."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/real is not present")
    return REAL_FIXTURES


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        page = self.server.pages.get(self.path.split("?")[0])
        content_type, page = page if isinstance(page, tuple) else ("text/html; charset=utf-8", page)
        body = page.encode() if isinstance(page, str) else page
        self.send_response(404 if body is None else 200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    """A site on 127.0.0.1 (a free port) serving `.pages` ({path: html, or (content type, bytes)}); anything else is a
    404. `.url` is its root."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    server.pages = {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(page_server):
    """A web shop on 127.0.0.1, on another port than the demo marketplace: set `.pages` before a crawl."""
    return page_server


@pytest.fixture
def demo_market():
    """The bundled demo marketplace on 127.0.0.1, a free port."""
    from demo_market import DemoMarket

    with DemoMarket(port=0) as market:
        yield market


@pytest.fixture
def fast_password_hashes(monkeypatch):
    """Cheap argon2id parameters: the production ones take ~0.5 s per hash on a 2-core machine."""
    from argon2 import PasswordHasher

    from webui import auth

    monkeypatch.setattr(auth, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def store(tmp_path_factory):
    """An empty evidence store (a file, migrated, in a folder of its own: tmp_path stays empty), closed after."""
    store = db.connect(tmp_path_factory.mktemp("store") / "keywatch.sqlite")
    yield store
    store.close()


@pytest.fixture
def desk(tmp_path, fast_password_hashes):
    """The sample review desk (tests/support/desk.py): its Flask app (TESTING), store path and listing pks."""
    from webui import create_app

    path = tmp_path / "keywatch.sqlite"
    pks = make_desk(path)
    return Desk(create_app(path, TESTING=True), path, pks)


@pytest.fixture
def alice(desk):
    """A test client logged in as alice, the sample desk's administrator."""
    return logged_in(desk.app, "alice")


@pytest.fixture
def bob(desk):
    """A test client logged in as bob, a reviewer."""
    return logged_in(desk.app, "bob")
