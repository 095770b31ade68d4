"""Export benchmark: an evidence pack of 1,000 confirmed listings, from stores of growing size.

    .venv/bin/python bench/export.py                   # 10,000 and 100,000 listings
    .venv/bin/python bench/export.py --sizes 2000      # a quick run
    .venv/bin/python bench/export.py --profile         # also where one export's time goes, by stage

Each store is built once through the real write path (db.save_captures in groups of 50, as the crawl writes) from
bench/store.py's generated marketplace pages (2-6 KB each, a sixth of the titles in Chinese or Japanese, so the
letter's table has text that breaks anywhere), and cached under data/bench/ for the next run. 1,000 of its flagged
listings are confirmed, and `export_pack` builds the marketplace's pack (ZIP with captures, WARC, CSV/JSON, the
notice as HTML and PDF) and records the notice. Target: under 10 s, whatever the size of the store. Results go to
bench/out/export.json.
"""

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store import build_pool, decide, make_item, write_result  # noqa: E402, I001 - bench/store.py's page generator

import db  # noqa: E402
from db.canonical import format_utc  # noqa: E402

CACHE = ROOT / "data" / "bench"
EXPORTED = 1000
TARGET_SECONDS = 10.0
CJK_TITLES = [
    "汽车钥匙编程器 OBD 全新",
    "リレーアタック 対策 キーケース",
    "无钥匙进入 信号 放大器 远程",
    "スマートキー 複製 ツール",
]
# Where an export spends its time: these functions' cumulative seconds under cProfile.
STAGES = {
    "listing_index_problems": "check the index of the exported listings",
    "export_listings": "read the listings and their captures",
    "stored_body": "read and hash the captured bodies",
    "_warc": "WARC of the captures",
    "render_pdf": "notice letter PDF",
    "render_html": "notice letter HTML",
    "write_pack": "write the ZIP",
}


def build(path: Path, listings: int, seed: int = 1) -> None:
    """A store of `listings` listings, one capture each, written as a crawl writes them."""
    rng = random.Random(seed)
    pool = build_pool(rng, size=600)
    partial = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    store = db.connect(partial)
    run_id = db.start_run(store, spider="bench", crawler_version="keywatch/bench")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    group, started = [], time.perf_counter()
    for i in range(listings):
        item = make_item(rng, pool, f"{100000000 + i}", i, start + timedelta(seconds=30 * i), 2, 6)
        if rng.random() < 1 / 6:
            item["title"] = f"{rng.choice(CJK_TITLES)} {item['title']}"
        group.append(item)
        if len(group) == 50 or i + 1 == listings:
            db.save_captures(store, group, run_id=run_id)
            group = []
        if (i + 1) % 10000 == 0:
            print(f"  built {i + 1:,} listings in {time.perf_counter() - started:.0f} s", flush=True)
    db.finish_run(store, run_id, stats={"captures": listings})
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.execute("ANALYZE")
    store.close()
    partial.rename(path)


def confirm(store, count: int) -> int:
    """Confirm `count` flagged listings (once per store: later runs find them confirmed)."""
    done = store.execute(
        "SELECT count(*) FROM decisions d JOIN listings l ON l.pk = d.listing_pk "
        "WHERE d.action = 'confirm' AND l.marketplace = 'bench_market'"
    ).fetchone()[0]
    pks = [
        r[0]
        for r in store.execute(
            "SELECT pk FROM listings WHERE flagged = 1 AND marketplace = 'bench_market' "
            "AND pk NOT IN (SELECT listing_pk FROM decisions) ORDER BY pk LIMIT ?",
            [max(count - done, 0)],
        )
    ]
    decide(store, pks, "confirm")
    return done + len(pks)


def export_once(store, out: Path, profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one export: on the shared VM the wall time includes waiting for a core."""
    from exports.export import export_pack, resolve_target
    from exports.office import load_office

    target = resolve_target(store, marketplace="bench_market")
    started, started_cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    export_pack(store, target, out, office=load_office(), exported_by="bench")
    if profile:
        profile.disable()
    return time.perf_counter() - started, time.process_time() - started_cpu


def stage_seconds(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # {(file, line, function): (calls, ..., tottime, cumtime, callers)}
    found = {}
    for (_, _, function), (_, _, _, cumulative, _) in stats.items():
        if function in STAGES:
            found[STAGES[function]] = round(max(cumulative, found.get(STAGES[function], 0.0)), 2)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="listings per store")
    parser.add_argument("--repeat", type=int, default=3, help="exports per store (the median is reported)")
    parser.add_argument("--profile", action="store_true", help="profile one more export per store, by stage")
    parser.add_argument(
        "--scale-to",
        type=int,
        metavar="N",
        help="also export the same pack from a store of N listings: each size's store with copies of its listings "
        "in another marketplace (bench/desk_store.py's scale), so that only the store grows",
    )
    options = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    results = []
    for size in options.sizes:
        path = CACHE / f"export-{size}.sqlite"
        if not path.exists():
            print(f"Building a store of {size:,} listings at {path} (cached for later runs)")
            build(path, size)
        store = db.connect(path)
        confirm(store, EXPORTED)
        store.close()
        paths = [path]
        if options.scale_to:
            paths.append(CACHE / f"export-{size}-to-{options.scale_to}.sqlite")
            if not paths[-1].exists():
                from desk_store import scale

                print(f"Copying {path} to {options.scale_to:,} listings at {paths[-1]} (cached for later runs)")
                scale(path, paths[-1], options.scale_to // size, marketplace="bench_copy")
        results += [measure(p, options) for p in paths]
    write_result("export", results)
    return 0


def measure(path: Path, options) -> dict:
    """Export the confirmed listings of the store's bench marketplace `--repeat` times."""
    store = db.connect(path)
    confirmed = confirm(store, EXPORTED)
    times, cpu = [], []
    with tempfile.TemporaryDirectory(prefix="keywatch-export-bench-") as tmp:
        for n in range(options.repeat):
            wall, used = export_once(store, Path(tmp) / f"pack-{n}.zip")
            times.append(wall)
            cpu.append(used)
        stages = {}
        if options.profile:
            profile = cProfile.Profile()
            export_once(store, Path(tmp) / "profiled.zip", profile)
            stages = stage_seconds(profile)
        pack_mib = round((Path(tmp) / "pack-0.zip").stat().st_size / 2**20, 1)
    listings = store.execute("SELECT count(*) FROM listings").fetchone()[0]
    store.close()
    median = sorted(times)[len(times) // 2]
    median_cpu = sorted(cpu)[len(cpu) // 2]
    verdict = "meets" if median < TARGET_SECONDS else "BELOW"
    print(
        f"{listings:>9,} listings: export of {confirmed:,} listings {median:.1f} s median of "
        f"{', '.join(f'{t:.1f}' for t in times)} ({verdict} the {TARGET_SECONDS:.0f} s target); CPU {median_cpu:.1f} s "
        f"median of {', '.join(f'{t:.1f}' for t in cpu)}; pack {pack_mib} MiB"
    )
    for stage, seconds in stages.items():
        print(f"    {stage:40} {seconds:6.2f} s (profiled)")
    return {
        "listings": listings,
        "exported": confirmed,
        "seconds": [round(t, 2) for t in times],
        "median_s": round(median, 2),
        "cpu_s": [round(t, 2) for t in cpu],
        "median_cpu_s": round(median_cpu, 2),
        "pack_mib": pack_mib,
        "profiled_stages_s": stages,
        "at": format_utc(datetime.now(UTC)),
    }


if __name__ == "__main__":
    sys.exit(main())
