"""A browser on the review desk: Debian's headless Chromium (playwright) and the app served on 127.0.0.1, for the
browser tests and the screenshots (tests/screenshots.py)."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from common import settings


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test and script output readable
        pass


def require_chromium() -> None:
    """Skip the calling test without Chromium; in CI (CI=true) fail instead: scripts/system-deps.sh installs it."""
    if settings.chromium() is None:
        message = "chromium is not installed (scripts/system-deps.sh installs it: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=settings.chromium(), headless=True, args=list(settings.CHROMIUM_ARGS)
    )


@contextlib.contextmanager
def serve_in_thread(app):
    """The app on 127.0.0.1 at a free port, in a background thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def log_in(page, base_url: str, name: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{base_url}/")
