"""Instructions per page of the crawl's own process, which the VM's speed does not move: full pipeline against bare.

    .venv/bin/python bench/crawl_instructions.py [--scales 1 4] [-s SETTING=VALUE ...] [--root COPY]

bench/crawl.py's ratio moves with this VM's speed from one run to the next (bare Scrapy did 488 to 1,283 pages/s
within an hour on 2026-12-03); this counts instead. Each crawl of bench/crawl.py (bare, and full with rendering and
photos off) runs with its crawl process under valgrind's callgrind (its worker processes are not counted: they are
started with `spawn`, outside valgrind), on the demo marketplace at two scales. The difference between the two
crawls' instructions, per page of difference, is what one more page costs: start-up, imports and the run's record
cancel out. Prints both, and bare / full: the most full/bare throughput can be while the crawl's own process is what
binds (it is, on 2 cores: docs/operations.md, *What a crawl costs per page*). Needs valgrind (Debian's `valgrind`);
four crawls under it take 6-8 minutes. `-s` passes a Scrapy setting to the full crawl only; `--root` runs the full
crawl from another copy of keywatch (a `git archive` of another commit), to compare.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import crawl  # bench/crawl.py, beside this file (it puts the project on sys.path)


def instructions(args: list[str], cwd: Path, workdir: Path) -> int:
    """Instructions the process `args` ran (callgrind's total)."""
    out = workdir / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"crawl under callgrind failed ({' '.join(args[:4])} ...):\n{done.stderr[-3000:]}")
    return int(found.group(1))


def bare(url: str, workdir: Path) -> tuple[int, int]:
    """(instructions, pages) of a bare crawl."""
    stats_path = workdir / "bare-stats.json"
    count = instructions([sys.executable, crawl.__file__, "bare-child", url, str(stats_path)], crawl.ROOT, workdir)
    return count, int(json.loads(stats_path.read_text())["downloader/response_count"])


def full(url: str, workdir: Path, settings: list[str], root: Path) -> tuple[int, int]:
    """(instructions, pages) of a full crawl into a new store."""
    import db

    db_path = workdir / "full.sqlite"
    extra = [part for setting in settings for part in ("-s", setting)]
    count = instructions([sys.executable, *crawl.full_crawl_args(url, db_path), *extra], root, workdir)
    store = db.connect(db_path)
    try:
        stats = json.loads(next(store.query("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1"))["stats"])
    finally:
        store.close()
    return count, int(stats["downloader/response_count"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs=2, default=(1, 4), help="the two demo scales [1 4]")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="SETTING=VALUE")
    parser.add_argument("--root", type=Path, default=crawl.ROOT, help="the copy of keywatch the full crawl runs")
    options = parser.parse_args()

    from demo_market import DemoMarket

    counted: dict[str, list[tuple[int, int]]] = {"bare": [], "full": []}
    for scale in options.scales:
        with tempfile.TemporaryDirectory(prefix="keywatch-bench-") as tmp, DemoMarket(port=0, scale=scale) as market:
            market.prerender()
            counted["bare"].append(bare(market.url, Path(tmp)))
            counted["full"].append(full(market.url, Path(tmp), options.settings, options.root.resolve()))
            print(f"scale {scale}: bare {counted['bare'][-1]}, full {counted['full'][-1]} (instructions, pages)")
    per_page = {}
    for name, ((small, small_pages), (large, large_pages)) in counted.items():
        per_page[name] = (large - small) / (large_pages - small_pages)
        print(f"{name}: {per_page[name] / 1e6:.2f}M instructions per page (the crawl's process)")
    print(
        f"full / bare: {per_page['full'] / per_page['bare']:.2f}; while the crawl's process binds, full/bare "
        f"throughput is at most {per_page['bare'] / per_page['full']:.0%} (target 80%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
