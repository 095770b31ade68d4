"""Politeness and robustness settings are in effect in real crawls: robots.txt, per-domain concurrency,
an identifying User-Agent, and retries with back-off (spiders/middlewares_retry.py).

The live checks crawl a small server on 127.0.0.1 that records what it receives, with `scrapy runspider` run
from the repository root so the project's own settings apply.
"""

import json
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy.crawler import Crawler
from scrapy.spiderloader import SpiderLoader

from keywatch.crawling import project_settings
from tests.support.cli import ROOT

BACKOFF_MIDDLEWARES = json.dumps(
    {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "spiders.middlewares_retry.BackoffRetryMiddleware": 550,
    }
)


class RecordingServer:
    """Pages /page/0..N link to each other and to /private/ (disallowed by robots.txt); /flaky fails twice."""

    def __init__(self, pages=8, delay=0.3):
        self.log = []  # (time, path, user agent)
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.pages, self.delay = pages, delay
        self.flaky_responses = [(503, {}), (429, {"Retry-After": "1.5"})]
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, request):
        with self.lock:
            self.log.append((time.monotonic(), request.path, request.headers.get("User-Agent", "")))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, headers, body = 200, {}, ""
            if request.path == "/robots.txt":
                body = "User-agent: *\nDisallow: /private/\n"
            elif request.path == "/flaky":
                with self.lock:
                    status, headers = self.flaky_responses.pop(0) if self.flaky_responses else (200, {})
                body = "flaky"
            elif request.path.startswith("/page/"):
                time.sleep(self.delay)  # slow pages: concurrent requests overlap on the server if allowed
                links = "".join(f'<a href="/page/{n}">p{n}</a>' for n in range(self.pages))
                body = f'<html><body>{links}<a href="/private/secret">s</a></body></html>'
            else:
                status, body = 404, "not found"
            data = body.encode()
            request.send_response(status)
            for name, value in headers.items():
                request.send_header(name, value)
            request.send_header("Content-Type", "text/html")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        finally:
            with self.lock:
                self.in_flight -= 1

    def paths(self):
        return [path for _, path, _ in self.log]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = RecordingServer()
    yield s
    s.close()


SPIDER = textwrap.dedent("""
    import scrapy

    class FollowSpider(scrapy.Spider):
        name = "follow"

        async def start(self):
            for path in self.paths.split(","):
                yield scrapy.Request(self.base + path)

        def parse(self, response):
            yield from response.follow_all(css="a", callback=self.parse)
""")


def runspider(tmp_path, base, paths, *settings):
    script = tmp_path / "follow_spider.py"
    script.write_text(SPIDER)
    args = [
        sys.executable,
        "-m",
        "scrapy",
        "runspider",
        str(script),
        "-a",
        f"base={base}",
        "-a",
        f"paths={paths}",
        "-s",
        f"KEYWATCH_DB={tmp_path / 'polite.sqlite'}",
        "-s",
        "LOG_LEVEL=INFO",
    ]
    for setting in settings:
        args += ["-s", setting]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def marketplace_spiders():
    settings = project_settings(ROOT / "data" / "unused.sqlite", ROOT / "watchlist.yaml")
    loader = SpiderLoader.from_settings(settings)
    return settings, [name for name in loader.list() if name != "demo_market"], loader


def test_every_marketplace_spider_is_polite_by_configuration():
    settings, names, loader = marketplace_spiders()
    for name in names or ["<project defaults>"]:
        crawler_settings = Crawler(loader.load(name), settings).settings if name in names else settings
        assert crawler_settings.getbool("ROBOTSTXT_OBEY"), name
        assert 1 <= crawler_settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2, name
        assert crawler_settings.getbool("AUTOTHROTTLE_ENABLED") and crawler_settings.getfloat("DOWNLOAD_DELAY") > 0, (
            name
        )
        assert crawler_settings.getbool("RETRY_ENABLED") and crawler_settings.getint("RETRY_TIMES") >= 2, name
        assert 0 < crawler_settings.getint("DOWNLOAD_MAXSIZE") <= 50 * 1024 * 1024, name
        assert "contact" in crawler_settings.get("USER_AGENT"), name
        assert not crawler_settings.getbool("HTTPCACHE_ENABLED"), name


def test_live_crawl_is_polite_and_backs_off_before_retrying(tmp_path, server):
    # One crawl of the recording server with the project's settings, plus the back-off retry middleware.
    # A short delay keeps the test quick. (Not 0: with DOWNLOAD_DELAY=0 under the asyncio reactor, Scrapy 2.19
    # dispatches a slot's whole queue before any request counts as transferring, so
    # CONCURRENT_REQUESTS_PER_DOMAIN is not enforced. Every marketplace spider keeps a delay > 0, checked above.)
    proc = runspider(
        tmp_path,
        server.url,
        "/page/0,/flaky",
        f"DOWNLOADER_MIDDLEWARES={BACKOFF_MIDDLEWARES}",
        "RETRY_BACKOFF_BASE=0.5",
        "DOWNLOAD_DELAY=0.05",
        "AUTOTHROTTLE_ENABLED=False",
    )
    paths = server.paths()
    assert paths[0] == "/robots.txt"
    assert {f"/page/{n}" for n in range(server.pages)} <= set(paths)
    assert "/private/secret" not in paths  # disallowed by robots.txt, though linked from every page
    assert 1 < server.max_in_flight <= 2  # the pages overlapped, but never more than two at once
    agents = {agent for _, _, agent in server.log}
    assert len(agents) == 1 and "contact:" in agents.pop()

    times = [t for t, path, _ in server.log if path == "/flaky"]
    assert len(times) == 3  # 503, 429, then 200
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    # Scrapy's own RetryMiddleware retries at once; these gaps are the back-off.
    assert first_gap >= 0.5  # base delay before the first retry
    assert 1.5 <= second_gap < 5  # the server's Retry-After beats the exponential 1.0 s
    assert "'retry/backoff_seconds': 2.0" in proc.stderr


def test_backoff_delays_grow_and_are_capped():
    from scrapy.settings import Settings

    from spiders.middlewares_retry import BackoffRetryMiddleware

    middleware = BackoffRetryMiddleware(
        Settings({"RETRY_ENABLED": True, "RETRY_BACKOFF_BASE": 2, "RETRY_BACKOFF_MAX": 10})
    )
    assert [middleware.delay_for(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]
    assert middleware.delay_for(1, b"7") == 7 and middleware.delay_for(1, b"600") == 10
    assert middleware.delay_for(2, b"Wed, 21 Oct 2026 07:28:00 GMT") == 4  # an HTTP date: exponential delay


def test_retries_go_through_scrapys_public_retry_with_a_delay_each():
    from scrapy import Request, Spider
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler
    from twisted.internet.error import TimeoutError

    from spiders.middlewares_retry import DELAY_KEY, BackoffRetryMiddleware

    crawler = get_crawler(Spider, {"RETRY_TIMES": 2, "RETRY_BACKOFF_BASE": 1, "RETRY_HTTP_CODES": [503]})
    crawler.spider = crawler._create_spider("retrying")
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    url = "http://127.0.0.1/flaky"

    def failed(request, **headers):
        return Response(url, status=503, headers=headers, request=request)

    first = middleware.process_response(Request(url), failed(Request(url)))
    assert (first.meta["retry_times"], first.meta[DELAY_KEY], first.dont_filter) == (1, 1, True)
    second = middleware.process_response(first, failed(first, **{"Retry-After": "5"}))
    assert (second.meta["retry_times"], second.meta[DELAY_KEY]) == (2, 5)  # the server's wait beats 2 s
    gave_up = middleware.process_response(second, failed(second))
    assert isinstance(gave_up, Response) and gave_up.status == 503  # retries used up: the response goes on
    stats = crawler.stats
    assert stats.get_value("retry/count") == 2 and stats.get_value("retry/max_reached") == 1
    assert stats.get_value("retry/reason_count/503 response") == 2 and stats.get_value("retry/backoff_seconds") == 6

    once = Request(url, meta={"max_retry_times": 0})
    assert isinstance(middleware.process_response(once, failed(once)), Response)  # the request's own limit
    ok = Response(url, status=200, request=Request(url))
    assert middleware.process_response(Request(url), ok) is ok
    assert middleware.process_exception(Request(url), TimeoutError()).meta[DELAY_KEY] == 1
    assert middleware.process_exception(Request(url, meta={"dont_retry": True}), TimeoutError()) is None
