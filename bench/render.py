"""What rendering and photos cost per listing: time and bytes, on the local demo marketplace.

    .venv/bin/python bench/render.py [--scale 1] [--repeat 1]

Starts the demo marketplace on 127.0.0.1 and crawls it (`keywatch crawl demo_market -a mode=all`, each crawl in
its own process, into its own temporary store) three ways:
  plain   KEYWATCH_RENDER=off, KEYWATCH_PHOTOS=0: the crawl as it was before rendering and photos;
  photos  KEYWATCH_RENDER=off: plus every listing's photos, checked and hashed;
  render  KEYWATCH_RENDER=flagged, KEYWATCH_PHOTOS=0: plus a Chromium rendering of every hit.
For each: wall time, the store's size after a checkpoint, and from the stores the captures each adds. Prints,
per rendered listing and per photographed listing, the extra seconds and the raw and stored bytes; the numbers go
to bench/out/render.json. The demo's pages are small and local: on a real marketplace the download of a page's
resources and the politeness delay, not Chromium, set the time.
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WAYS = {
    "plain": {"KEYWATCH_RENDER": "off", "KEYWATCH_PHOTOS": "0"},
    "photos": {"KEYWATCH_RENDER": "off", "KEYWATCH_PHOTOS": "8"},
    "render": {"KEYWATCH_RENDER": "flagged", "KEYWATCH_PHOTOS": "0"},
}


def crawl(base_url: str, db_path: Path, way: dict) -> float:
    env = dict(os.environ)
    env.update(KEYWATCH_RENDER=way["KEYWATCH_RENDER"])
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable, "-m", "keywatch", "crawl", "demo_market", "-a", f"base_url={base_url}",
            "-a", "mode=all", "--db", str(db_path), "-s", "LOG_LEVEL=ERROR",
            "-s", f"KEYWATCH_PHOTOS={way['KEYWATCH_PHOTOS']}",
        ],
        check=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def measure(db_path: Path) -> dict:
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kinds = {
        purpose: {"captures": n, "raw_bytes": size, "listings": listings}
        for purpose, n, size, listings in con.execute(
            "SELECT coalesce(purpose, ''), count(*), sum(body_size), count(DISTINCT listing_pk) "
            "FROM captures GROUP BY 1"
        )
    }
    con.close()
    return {"file_bytes": db_path.stat().st_size, "kinds": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="serve the demo catalogue N times over")
    parser.add_argument("--repeat", type=int, default=1, help="crawls per way (the fastest counts)")
    args = parser.parse_args()
    from demo_market import DemoMarket

    results = {}
    with DemoMarket(port=0, scale=args.scale) as market, tempfile.TemporaryDirectory() as tmp:
        for name, way in WAYS.items():
            times = []
            for attempt in range(args.repeat):
                db_path = Path(tmp) / f"{name}-{attempt}.sqlite"
                times.append(crawl(market.url, db_path, way))
            results[name] = {"seconds": min(times), **measure(db_path)}
    plain, photos, render = results["plain"], results["photos"], results["render"]
    kinds = render["kinds"]
    rendered = kinds.get("attachment:screenshot", {}).get("listings", 0)
    photographed = photos["kinds"].get("attachment:photo", {}).get("listings", 0)
    summary = {
        "listings": plain["kinds"].get("all", {}).get("listings", 0),
        "rendered_listings": rendered,
        "render_seconds_per_listing": (render["seconds"] - plain["seconds"]) / rendered if rendered else None,
        "render_raw_bytes_per_listing": {
            kind: kinds.get(f"attachment:{kind}", {}).get("raw_bytes", 0) / rendered if rendered else None
            for kind in ("screenshot", "dom", "resource")
        },
        "render_stored_bytes_per_listing": (render["file_bytes"] - plain["file_bytes"]) / rendered
        if rendered
        else None,
        "resources_per_listing": kinds.get("attachment:resource", {}).get("captures", 0) / rendered
        if rendered
        else None,
        "photographed_listings": photographed,
        "photo_seconds_per_listing": (photos["seconds"] - plain["seconds"]) / photographed if photographed else None,
        "photos_per_listing": photos["kinds"].get("attachment:photo", {}).get("captures", 0) / photographed
        if photographed
        else None,
        "photo_stored_bytes_per_listing": (photos["file_bytes"] - plain["file_bytes"]) / photographed
        if photographed
        else None,
        "crawl_seconds": {name: round(r["seconds"], 2) for name, r in results.items()},
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "render.json").write_text(json.dumps({"summary": summary, "ways": results}, indent=2) + "\n")
    print(f"demo marketplace, {summary['listings']} listings; crawl times (s): {summary['crawl_seconds']}")
    if rendered:
        raw = summary["render_raw_bytes_per_listing"]
        print(
            f"rendering: {rendered} listings, {summary['render_seconds_per_listing']:.2f} s each; "
            f"screenshot {raw['screenshot'] / 1e3:.0f} kB, DOM {raw['dom'] / 1e3:.1f} kB, "
            f"{summary['resources_per_listing']:.1f} loaded responses {raw['resource'] / 1e3:.1f} kB (raw); "
            f"store grows {summary['render_stored_bytes_per_listing'] / 1e3:.0f} kB per rendered listing"
        )
    if photographed:
        print(
            f"photos: {photographed} listings, {summary['photos_per_listing']:.1f} photos and "
            f"{summary['photo_seconds_per_listing']:.3f} s each; store grows "
            f"{summary['photo_stored_bytes_per_listing'] / 1e3:.1f} kB per listing"
        )


if __name__ == "__main__":
    main()
