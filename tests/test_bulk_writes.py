"""Long writes never starve the crawl: `reclassify` writes in short batches, and a writer in another process (as
a crawl's store pipeline writes) keeps storing captures throughout, between those batches."""

import re
import subprocess
import sys
import time

from click.testing import CliRunner

import db
from keywatch.cli import cli
from keywatch.commands import classify as classify_command
from tests.support.cli import ROOT
from tests.support.items import make_item

# Another process writing captures one transaction at a time until told to stop, with a busy timeout far below
# the store's 60 s: a reclassify holding the write lock through its whole run would make it fail.
WRITER = """
import sys, time
from pathlib import Path
import db
from tests.support.items import make_item
store = db.connect(sys.argv[1])
store.conn.execute("PRAGMA busy_timeout = 5000")
stop = Path(sys.argv[2])
n = 0
while not stop.exists():
    db.save_capture(store, make_item(f"w{n}", title="USB phone charger", classification=None))
    n += 1
    time.sleep(0.01)
print(n)
"""


def test_reclassify_commits_in_batches_while_another_process_keeps_writing(tmp_path, monkeypatch):
    path = tmp_path / "busy.sqlite"
    store = db.connect(path)
    listings = 400
    items = [make_item(str(n), classification={"flagged": False, "watchlist_version": "old"}) for n in range(listings)]
    for start in range(0, listings, 100):
        db.save_captures(store, items[start : start + 100])
    monkeypatch.setattr(classify_command, "RECLASSIFY_BATCH", 20)  # 20 batches
    # Scoring a batch takes time, outside any transaction: the writer's chance. Without this pause the compiled
    # classifier scores 20 listings in a few milliseconds, and the batches' commits follow each other faster than
    # the writer's busy handler wakes up, so whether it gets in between depended on the machine.
    scored = classify_command.classify_many

    def slow_scoring(listings, wl):
        time.sleep(0.03)
        return scored(listings, wl)

    monkeypatch.setattr(classify_command, "classify_many", slow_scoring)

    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(stop)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while store.execute("SELECT count(*) FROM captures").fetchone()[0] == listings:
            assert time.monotonic() < deadline and writer.poll() is None, writer.stderr.read()
            time.sleep(0.02)  # the writer has started writing
        result = CliRunner().invoke(cli, ["reclassify", "--db", str(path)])
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert result.exit_code == 0, result.output
    # Every capture stored before it started, and none the writer stored meanwhile: chasing a writer that stores a
    # capture every few milliseconds, batch after tiny batch, took over a minute before 2026-12-02.
    scored = int(re.search(r"(\d+) scored", result.output)[1])
    assert listings < scored < store.execute("SELECT count(*) FROM captures").fetchone()[0]
    assert writer.returncode == 0 and "database is locked" not in err, err[-2000:]
    assert int(out) > 0

    # The writer's captures went into the chain between the batches that re-scored the listings stored before.
    first, last = store.execute(
        "SELECT min(seq), max(seq) FROM chain JOIN classifications k ON k.id = record_id "
        "WHERE record_type = 'classification' AND k.id > ? AND k.capture_id <= ?",
        [listings, listings],
    ).fetchone()
    between = store.execute(
        "SELECT count(*) FROM chain WHERE record_type = 'capture' AND seq BETWEEN ? AND ?", [first, last]
    ).fetchone()[0]
    assert between > 0, "no capture was written while reclassify ran"
    assert db.verify(store).ok
