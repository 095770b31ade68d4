"""Scrapy's RetryMiddleware with exponential back-off: a struggling site gets time to recover before a retry.

Scrapy retries at once; this subclass only adds a wait before each retry: RETRY_BACKOFF_BASE * 2**(n-1)
seconds for the n-th retry, or the server's own Retry-After (seconds) when it sends one, never more than
RETRY_BACKOFF_MAX. Which responses and errors are retried, and how often, stay Scrapy's RETRY_* settings and
the request's `max_retry_times`, `priority_adjust` and `give_up_log_level` meta keys; the retry itself is
Scrapy's public `get_retry_request`.
"""

from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

DELAY_KEY = "retry_backoff_delay"


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def delay_for(self, retry_times: int, retry_after: bytes | None = None) -> float:
        delay = self.backoff_base * 2 ** (retry_times - 1)
        if retry_after:
            try:
                delay = max(delay, float(retry_after.decode("ascii").strip()))
            except ValueError:
                pass  # an HTTP date: keep the exponential delay rather than parse clocks we do not share
        return min(delay, self.backoff_max)

    def retry(self, request, reason, retry_after: bytes | None = None):
        """The request again, to be sent after the back-off delay; None once its retries are used up."""
        meta = request.meta
        retry_request = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=meta.get("give_up_log_level", self.give_up_log_level),
        )
        if retry_request is not None:
            retry_request.meta[DELAY_KEY] = self.delay_for(retry_request.meta["retry_times"], retry_after)
            self.crawler.stats.inc_value("retry/backoff_seconds", retry_request.meta[DELAY_KEY])
        return retry_request

    def process_response(self, request, response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        return self.retry(request, f"{response.status} response", response.headers.get(b"Retry-After")) or response

    def process_exception(self, request, exception):
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry", False):
            return self.retry(request, exception)
        return None

    async def process_request(self, request):
        delay = request.meta.pop(DELAY_KEY, None)
        if delay:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None
