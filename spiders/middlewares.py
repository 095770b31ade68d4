"""Downloader middleware that records when each response arrived, for the capture's fetch time."""

from datetime import UTC, datetime

CLOCK_SOURCE = "system clock (UTC), stamped by spiders.middlewares.FetchTimeMiddleware on response arrival"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class FetchTimeMiddleware:
    """Stamps `response.meta["fetched_at"]` as the response leaves the downloader.

    Parsing may run much later than the fetch (a busy callback queue), so the time is taken here.
    """

    def process_response(self, request, response):
        request.meta["fetched_at"] = utc_now_iso()
        return response
