"""Scrapy settings for keywatch: polite by default (real marketplaces), everything overridable with -s."""

from common import settings

BOT_NAME = "keywatch"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

# Where results go and what they are scored against (the CLI passes --db/--watchlist through these).
KEYWATCH_DB = str(settings.db_path())
KEYWATCH_WATCHLIST = str(settings.watchlist_path())

# Identify ourselves: site operators must be able to see who crawls and how to reach them.
USER_AGENT = settings.user_agent()

# Politeness: Scrapy's own machinery, configured.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False

# No way into a running crawl: Scrapy's telnet console and its remote control (an HTTP endpoint that runs Python sent
# to it, Scrapy 2.19) would let anyone on this machine with the password from the log, or the token from the job
# file, change what the crawl stores as evidence.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Dev-time HTTP cache: KEYWATCH_HTTPCACHE=1 replays pages while working on parsers. Never for evidence runs.
HTTPCACHE_ENABLED = settings.http_cache()
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600

DOWNLOADER_MIDDLEWARES = {
    # Next to the downloader: its process_response runs first, as the response arrives.
    "spiders.middlewares.FetchTimeMiddleware": 950,
    # Scrapy's RetryMiddleware retries at once; this subclass waits (exponential back-off, Retry-After honoured).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares_retry.BackoffRetryMiddleware": 550,
}
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles each time
RETRY_BACKOFF_MAX = 60.0

# Scrapy starts this many asyncio tasks, and a queue, for every callback's output. Every keywatch callback yields
# at most one item (an item page) or requests (a results page, handed on at once), so one is enough: the default 100
# made task bookkeeping the largest cost per page (bench/crawl.py --profile), and 8 still cost the crawl's process
# 0.25M instructions per page more than 1 (4% of it; callgrind, marginal per page between two demo scales, 2026-12-03).
CONCURRENT_ITEMS = 1

# Scrapy checks each callback for a generator's `return value` by parsing its source, and its cache of the answer is
# keyed by the bound method, which dies with its request: it re-parsed parse_item's source for most responses
# (2.4% of the crawl process, bench/crawl_sample.py). tests/test_spiders_all.py checks every callback once instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Keeps the garbage collector off the crawl's long-lived heap, and unseen log records unbuilt (spiders/overhead.py).
EXTENSIONS = {"spiders.overhead.LessOverhead": 0}

# Listings are classified by a process of the crawl's own (spiders/pipelines/classifier_worker.py), this many at a
# time or what arrived within this many seconds; KEYWATCH_CLASSIFY_WORKER = False classifies in the crawl's process.
# Each batch costs both processes a round trip (pipes, threads, callbacks): 0.05 s made batches of 3-6 listings, and
# 0.2 s took 0.3-0.6 ms per page off the crawl's process and 0.3 ms off the classifier's (bench/crawl.py, 2026-12-02).
KEYWATCH_CLASSIFY_WORKER = True
KEYWATCH_CLASSIFY_BATCH = 32
KEYWATCH_CLASSIFY_BATCH_SECONDS = 0.2
# That process also reads the item pages of sites whose pages are complete (MarketplaceSpider.complete_pages): the
# crawl's own process, one thread and what bounds a crawl, then only fetches them. False reads every page there.
KEYWATCH_READ_IN_WORKER = True
# And it commits what it classified, in the store's groups below, when no pipeline comes between classifying and
# storing (rendering and photos off): each page then crosses to another process once, not twice. False: the store
# pipeline's writer process commits every group.
KEYWATCH_STORE_IN_CLASSIFIER = True

ITEM_PIPELINES = {
    "spiders.pipelines.classify.ClassifyPipeline": 100,  # score against the watchlist
    "spiders.pipelines.render.RenderPipeline": 200,  # render flagged pages in Chromium: screenshot, DOM, resources
    "spiders.pipelines.photos.PhotosPipeline": 300,  # download, check and hash the listing's photos
    "spiders.pipelines.store.StorePipeline": 400,  # write capture + attachments + classification to the store
}
# The store commits items in groups of at most this many, or what arrived within this many seconds: an item
# counts as stored only once its group has committed (spiders/pipelines/store.py). 1 commits every item alone.
KEYWATCH_STORE_GROUP_SIZE = 50
KEYWATCH_STORE_GROUP_SECONDS = 0.2
# When the classifier's process stores, the spider hands it unread item pages outright (spiders/pipelines/classify.py),
# this many groups' worth at most; past that it yields them as items, which Scrapy holds until stored.
KEYWATCH_HANDOVER_GROUPS = 4

# Rendering (spiders/rendering.py): flagged | all | off (the variable KEYWATCH_RENDER, or -s). The addon
# switches scrapy-playwright on only when this crawl renders and Chromium is there.
KEYWATCH_RENDER = settings.render_mode()
ADDONS = {"spiders.rendering.RenderAddon": 0}
# Listing photos (spiders/pipelines/photos.py): at most this many per listing page (0: none), each at most this big.
KEYWATCH_PHOTOS = 8
KEYWATCH_PHOTO_MAX_BYTES = 8 * 1024 * 1024

# Two-stage crawl: screen search-result titles, fetch items at or above this score (plus a random sample).
KEYWATCH_SCREEN_THRESHOLD = 60
KEYWATCH_SAMPLE_RATE = 0.05
KEYWATCH_MAX_PAGES = 3  # search-result pages per query (a spider's -a max_pages wins)
# Re-check the store's flagged, undismissed listings of the marketplace (live, ended or removed?).
KEYWATCH_RECHECK = True
# Set by `keywatch crawl --resume` when it continues an interrupted run: the listings that run stored are skipped.
KEYWATCH_RESUMING = False

# eBay's Browse API (spider ebay_api; keys from EBAY_CLIENT_ID / EBAY_CLIENT_SECRET, see spiders/ebay_auth.py).
EBAY_API_URL = settings.ebay_api_url()
EBAY_API_DAILY_CALLS = 5000  # Browse calls in any 24 hours, all runs together (eBay's default allowance)
EBAY_API_MAX_WAIT = 900  # seconds a 429's Retry-After may ask for before the run stops as "rate_limited"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = settings.log_level()
