"""Worker processes started before their crawl opens (spiders/pipelines/workers.py, `start_early`): the pipelines get
those very processes when they open, with the arguments they would have started them with, and nothing is left
running that no crawl asked for."""

from scrapy.utils.test import get_crawler
from twisted.internet import defer

from common.settings import ROOT
from spiders import settings as project
from spiders.pipelines import classifier_worker, store_writer, workers
from spiders.pipelines.classify import ClassifyPipeline, reader_of
from spiders.spiders.demo_market import DemoMarketSpider

WATCHLIST = str(ROOT / "watchlist.yaml")
ARGUMENTS = {"base_url": "http://127.0.0.1:8000", "mode": "all"}


class FakeExecutor:
    def __init__(self, *spawned):
        self.spawned = spawned
        self.stopped = False

    def submit(self, *call):
        return None

    def shutdown(self, wait=True, cancel_futures=False):
        self.stopped = True


def fake_spawns(monkeypatch) -> list[FakeExecutor]:
    spawned: list[FakeExecutor] = []

    def spawn(*arguments):
        spawned.append(FakeExecutor(*arguments))
        return spawned[-1]

    monkeypatch.setattr(workers, "_spawn", spawn)
    monkeypatch.setattr(workers, "_early", [])
    return spawned


def crawler_of(tmp_path, **settings):
    return get_crawler(
        DemoMarketSpider,
        settings_dict={
            "ITEM_PIPELINES": project.ITEM_PIPELINES,
            "KEYWATCH_CLASSIFY_WORKER": True,
            "KEYWATCH_READ_IN_WORKER": True,
            "KEYWATCH_WATCHLIST": WATCHLIST,
            "KEYWATCH_DB": str(tmp_path / "store.sqlite"),
            "KEYWATCH_RENDER": "off",
            "KEYWATCH_PHOTOS": 0,
            **settings,
        },
    )


def test_the_workers_started_early_are_the_ones_the_pipelines_then_ask_for(tmp_path, monkeypatch):
    spawned = fake_spawns(monkeypatch)
    crawler = crawler_of(tmp_path)
    workers.start_early_for(crawler, dict(ARGUMENTS))
    assert [executor.spawned[0] for executor in spawned] == [classifier_worker.PROCESS_NAME, store_writer.PROCESS_NAME]
    early_classifier, early_writer = spawned

    # What the pipelines ask for once the spider is open: its class and the arguments it was built with.
    spider = DemoMarketSpider.from_crawler(crawler, **ARGUMENTS)
    reader = reader_of(True, type(spider), spider.arguments)
    assert reader is not None
    assert classifier_worker.start(WATCHLIST, reader) is early_classifier
    assert store_writer.start(str(tmp_path / "store.sqlite")) is early_writer
    assert len(spawned) == 2, "a pipeline started a second worker beside the early one"
    workers.stop_early()
    assert not early_classifier.stopped and not early_writer.stopped


def test_a_worker_asked_for_with_other_arguments_is_a_new_one_and_the_early_one_is_stopped(tmp_path, monkeypatch):
    spawned = fake_spawns(monkeypatch)
    workers.start_early_for(crawler_of(tmp_path), dict(ARGUMENTS))
    other = classifier_worker.start(WATCHLIST, reader_of(True, DemoMarketSpider, {**ARGUMENTS, "mode": "two-stage"}))
    assert other is spawned[2]
    workers.stop_early()
    assert spawned[0].stopped and spawned[1].stopped and not other.stopped


def test_no_classifier_is_started_early_for_a_crawl_that_classifies_in_its_own_process(tmp_path, monkeypatch):
    spawned = fake_spawns(monkeypatch)
    workers.start_early_for(crawler_of(tmp_path, KEYWATCH_CLASSIFY_WORKER=False), dict(ARGUMENTS))
    assert [executor.spawned[0] for executor in spawned] == [store_writer.PROCESS_NAME]
    workers.stop_early()


def test_a_crawl_that_reads_its_own_pages_starts_a_classifier_without_a_reader(tmp_path, monkeypatch):
    spawned = fake_spawns(monkeypatch)
    settings = crawler_of(tmp_path, KEYWATCH_READ_IN_WORKER=False).settings
    ClassifyPipeline.start_workers_early(settings, DemoMarketSpider, {})
    [classifier] = spawned
    assert classifier.spawned[2:] == (WATCHLIST, None)
    workers.stop_early()


def test_a_real_worker_started_early_runs_its_initializer_and_the_tasks_given_to_it():
    workers.start_early("kw-test", int, "7")
    try:
        executor = workers.start("kw-test", int, "7")
        assert executor.submit(int, "41").result(timeout=60) == 41
    finally:
        workers.stop_early()
    executor.shutdown()


class ImmediateReactor:
    """Stands in for the crawl's reactor: what a worker's thread hands over runs at once."""

    def callLater(self, delay, call, *args):  # noqa: N802 - Twisted's name
        return None

    def callFromThread(self, call, *args):  # noqa: N802 - Twisted's name
        call(*args)


def test_the_spider_opens_only_once_its_classifier_has_loaded(tmp_path, monkeypatch):
    # A loading classifier would leave the crawl's first pages waiting, their start-up competing with the crawl's.
    from concurrent.futures import Future

    from scrapy.utils.test import get_crawler as crawler_for

    loaded: Future = Future()

    class LoadingExecutor(FakeExecutor):
        def submit(self, *call):
            return loaded

    monkeypatch.setattr(workers, "_spawn", lambda *arguments: LoadingExecutor(*arguments))
    monkeypatch.setattr(workers, "_early", [])
    monkeypatch.setattr(workers, "running_reactor", ImmediateReactor)
    crawler = crawler_for(DemoMarketSpider, settings_dict=crawler_of(tmp_path).settings.copy_to_dict())
    crawler.spider = crawler._create_spider(**ARGUMENTS)
    opened = defer.ensureDeferred(ClassifyPipeline.from_crawler(crawler).open_spider())
    assert not opened.called
    loaded.set_result(None)
    assert opened.called
