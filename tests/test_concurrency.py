"""Several processes writing and reading one store at once, and a writer killed with SIGKILL mid-stream."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import db

ROOT = Path(__file__).resolve().parents[1]

# Each worker is a separate Python process opening its own connection, as a crawl, the review UI and an export do.
WRITER = """
import json, sys
import db
from tests.support.items import make_item
path, name, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = db.connect(path)
run_id = db.start_run(store, spider="demo_market", args={"worker": name})  # one spider writes a marketplace
for i in range(count):
    # Listings overlap between writers so they contend for the same rows, not only the chain head.
    body = (f"<html>{name} {i} " + "x" * size + "</html>").encode()
    listing_id = str(i % 7) if i % 2 else f"{name}-{i}"
    capture_id = db.save_capture(store, make_item(listing_id, body=body, fetched_at=db.utc_now()), run_id=run_id)
    sha = store.execute("SELECT sha256 FROM captures WHERE id = ?", [capture_id]).fetchone()[0]
    print(json.dumps([capture_id, sha]), flush=True)
db.finish_run(store, run_id, stats={"n": count})
"""

READER = """
import sys, time
import db
path, seconds = sys.argv[1], float(sys.argv[2])
store = db.connect(path)
deadline, rounds = time.time() + seconds, 0
while time.time() < deadline:
    list(db.hits(store))
    store.execute("SELECT count(*) FROM captures").fetchone()
    db.chain_head(store)
    rounds += 1
    if rounds % 5 == 0:
        result = db.verify(store)
        assert result.ok, str(result.first)
print(rounds, flush=True)
"""


def spawn(script, *args):
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_concurrent_writers_and_readers(tmp_path):
    path = tmp_path / "store.sqlite"  # not created yet: the workers race to create and migrate it
    writers = [spawn(WRITER, path, f"w{n}", 30, 20_000) for n in range(4)]
    readers = [spawn(READER, path, 2) for _ in range(2)]
    committed = []
    for proc in writers + readers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
        if proc in writers:
            committed += [json.loads(line) for line in out.splitlines()]
    assert len(committed) == 4 * 30
    store = db.connect(path)
    stored = dict(store.execute("SELECT id, sha256 FROM captures").fetchall())
    assert stored == dict(committed)
    result = db.verify(store)
    assert result.ok, str(result.first)
    assert store.execute("SELECT count(*) FROM crawl_runs WHERE finished_at IS NOT NULL").fetchone()[0] == 4


def test_writer_killed_mid_stream_loses_nothing_committed(tmp_path):
    path = tmp_path / "store.sqlite"
    db.connect(path).close()
    committed = []
    for attempt in range(3):
        # Large bodies keep the writer inside its transactions most of the time, so the kill lands mid-write.
        proc = spawn(WRITER, path, f"k{attempt}", 10_000, 400_000)
        lines = []
        while len(lines) < 5 + 4 * attempt:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        time.sleep(0.01 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        lines += proc.stdout.read().splitlines()
        committed += [json.loads(line) for line in lines if line.strip()]
        store = db.connect(path)
        result = db.verify(store)
        assert result.ok, str(result.first)
        stored = dict(store.execute("SELECT id, sha256 FROM captures").fetchall())
        for capture_id, sha256 in committed:
            assert stored.get(capture_id) == sha256
        # The run the killed crawl started is left unfinished, which is itself informative.
        assert store.execute("SELECT finished_at FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0] is None
        store.close()
