"""Benchmark recomputing seller networks at scale: N synthetic listings (default 100,000) with two photos each,
on one core, in three timed steps: finding the links, building the networks, and keeping both in a store.

    .venv/bin/python bench/networks.py              # 100,000 listings, 200,000 photos
    .venv/bin/python bench/networks.py --n 10000    # a quick run

The synthetic marketplace: sellers on five marketplaces with one to eight listings each; descriptions of 25-60 words
from a 6,000-word vocabulary, mostly reused by their own seller; 2% of listings give a phone number, e-mail or
Telegram handle, in the description or the seller profile; photos are a seller's own (random 64-bit hashes,
reused across the seller's listings), stock (300 pictures shown by hundreds of sellers), or near copies;
planted networks of 2-4 accounts share a contact, photos or a copied description. Every tenth description ends in
one of three boilerplate templates.

`--store N` also saves the first N listings (with their photos, as photo captures) into a fresh evidence store
through db.save_capture and times the whole recompute as `keywatch networks` runs it: reading the captures,
finding, keeping.
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import db  # noqa: E402
from db import network_recompute  # noqa: E402
from networks import Page, Photo, Source, build_networks, find_links  # noqa: E402
from networks.rows import link_row  # noqa: E402

MARKETPLACES = ("ebay", "gumtree", "amazon", "aliexpress", "dhgate")
BOILERPLATE = (
    "Returns accepted within 30 days of delivery, unused and in the original packaging.",
    "Posted Royal Mail Tracked 48 on the next working day, collection welcome.",
    "Please check out my other items and add me to your favourite sellers.",
)


def synthetic(n: int, seed: int = 15) -> tuple[list[Page], list[Photo], int]:
    rng = random.Random(seed)
    vocabulary = [f"w{rng.getrandbits(30):x}" for _ in range(6000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like: a few words everywhere
    stock = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(300)]
    pages, photos, planted = [], [], 0
    seller_no = 0
    while len(pages) < n:
        seller_no += 1
        marketplace = MARKETPLACES[seller_no % len(MARKETPLACES)]
        seller = f"s{seller_no}"
        texts = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(25, 60))) for _ in range(rng.randint(1, 3))]
        own = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(rng.randint(1, 4))]
        profile = ""
        if rng.random() < 0.02:
            profile = rng.choice(
                [
                    f"call 07700 9{rng.randint(0, 99999):05d}",
                    f"t.me/shop{seller_no}",
                    f"shop{seller_no} at mail dot com",
                ]
            )
        for _ in range(rng.randint(1, 8)):
            listing = len(pages)
            source = Source(marketplace, seller, f"L{listing}", listing, listing, "2026-11-01T00:00:00.000000Z")
            text = rng.choice(texts) + (" " + rng.choice(BOILERPLATE) if listing % 10 == 0 else "")
            pages.append(Page(source, f"title {listing}", text, profile))
            for dhash, phash in (rng.choice(own), rng.choice(stock) if rng.random() < 0.3 else rng.choice(own)):
                photos.append(Photo(source, f"{dhash:016x}", phash, dhash))
        if rng.random() < 0.05:  # plant a network: the next 1-3 sellers copy this one's text, photo or contact
            planted += 1
            for other in range(rng.randint(1, 3)):
                seller_no += 1
                source = Source(
                    MARKETPLACES[(seller_no + other) % 5], f"s{seller_no}", f"L{len(pages)}", len(pages), len(pages),
                    "2026-11-02T00:00:00.000000Z",
                )  # fmt: skip
                pages.append(Page(source, "copy", texts[0], f"ring 07700 9{seller_no % 100000:05d}"))
                dhash, phash = own[0]
                photos.append(Photo(source, "copy", phash ^ 0b101, dhash ^ 0b1))
    return pages, photos, planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="listings (default 100,000)")
    parser.add_argument("--store", type=int, default=0, help="also time a full recompute over a store of N listings")
    args = parser.parse_args()
    started = time.perf_counter()
    pages, photos, planted = synthetic(args.n)
    print(f"generated {len(pages):,} listings, {len(photos):,} photos, {planted:,} planted networks "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    timings = {}
    cpu = time.process_time()
    started = time.perf_counter()
    found = find_links(pages, photos)
    timings["find links"] = time.perf_counter() - started
    started = time.perf_counter()
    networks = build_networks(found.links, found.listings_of)
    timings["build networks"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        store = db.connect(Path(tmp) / "bench.sqlite")
        started = time.perf_counter()
        network_recompute.save_computed(
            store,
            [link_row(link) for link in found.links],
            [
                {"id": n.id, "sellers": n.sellers, "marketplaces": n.marketplaces, "listings": n.listings}
                for n in networks
            ],
            found.stock,
        )
        timings["keep in the store"] = time.perf_counter() - started
        store.close()
    cpu = time.process_time() - cpu
    for step, seconds in timings.items():
        print(f"  {step:<18} {seconds:6.1f} s")
    # On a shared machine wall time includes waiting for the core; CPU time is what the recompute itself costs.
    print(f"  CPU time           {cpu:6.1f} s")
    print(f"recompute: {sum(timings.values()):.1f} s for {len(pages):,} listings; {len(found.links):,} links, "
          f"{len(networks):,} networks; left out as stock or boilerplate: {found.stock}")  # fmt: skip
    if args.store:
        full_recompute(pages[: args.store], photos)


def full_recompute(pages: list[Page], photos: list[Photo]) -> None:
    """The same listings saved as captures in a store, then recomputed from it as `keywatch networks` does."""
    from keywatch.networks_job import recompute

    photos_of: dict[int, list[Photo]] = {}
    for photo in photos:
        photos_of.setdefault(photo.source.listing_pk, []).append(photo)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        store = db.connect(path)
        started = time.perf_counter()
        for page in pages:
            source = page.source
            url = f"http://{source.marketplace}.example/item/{source.listing_id}"
            attachments = [
                {"kind": "photo", "url": f"{url}/{n}.png", "status": 200, "headers": {}, "body": photo.sha256.encode(),
                 "fields": {"phash": f"{photo.phash:016x}", "dhash": f"{photo.dhash:016x}"}}
                for n, photo in enumerate(photos_of.get(source.listing_pk, []))
            ]  # fmt: skip
            db.save_capture(
                store,
                {"marketplace": source.marketplace, "listing_id": source.listing_id, "url": url, "status": 200,
                 "seller": source.seller, "title": page.title, "description": page.description,
                 "extra": {"seller_profile": page.seller_profile} if page.seller_profile else {},
                 "body": page.description.encode(), "fetched_at": source.fetched_at, "attachments": attachments},
            )  # fmt: skip
        store.close()
        print(f"stored {len(pages):,} listings in {time.perf_counter() - started:.1f} s")
        started, cpu = time.perf_counter(), time.process_time()
        done = recompute(path)
        print(
            f"full recompute from the store: {time.perf_counter() - started:.1f} s "
            f"({time.process_time() - cpu:.1f} s CPU); {done['links']:,} links, {done['networks']:,} networks"
        )


if __name__ == "__main__":
    main()
