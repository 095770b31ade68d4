"""Classifier speed on one core: `python bench/classify.py [--n 100000]`.

Builds N synthetic listings from the labelled corpus (tests/data/corpus_*.jsonl) with
variation - shuffled title words, random model numbers and prices, ~300-character
descriptions mixed from several listings, the occasional unseen or misspelt word - then times,
in one run: normalisation alone, the naive baseline (substring search), the rules alone and
the full classifier (rules + the watchlist's model, when it has one) both per call (`classify`,
as the crawl's pipeline calls it) and batched (`classify_many`, as `keywatch classify` and
`reclassify` run it; the last line is the headline figure), every result
turned into its dict as callers do. Before each classifier run the word caches are emptied and
warmed on 3,000 listings made with another seed.
Prints listings per second (wall clock, and per CPU-second, which is steadier on a shared
machine) and peak memory (traced Python allocations over a 10,000-listing sample, and the
process's peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier import classify, load_watchlist, naive_classify  # noqa: E402
from classifier.classify import classify_many  # noqa: E402
from classifier.normalise import normalise, tokens  # noqa: E402

FILLER = [
    "Fast dispatch.",
    "Returns accepted.",
    "Please check the photos.",
    "Any questions just ask.",
    "Comes as shown.",
    "Bundle deals available.",
    "Message me for more details.",
    "Great condition.",
    "Tracked postage.",
    "VAT invoice available.",
    "Collection possible from Leeds.",
    "Ships worldwide.",
]


def synthetic(n: int, seed: int) -> list[tuple[str, str]]:
    rows = []
    for name in ("corpus_dev.jsonl", "corpus_heldout.jsonl"):
        path = ROOT / "tests" / "data" / name
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    sentences = [s.strip() + "." for r in rows for s in r["description"].split(".") if len(s.strip()) > 10]
    out = []
    for _ in range(n):
        row = rng.choice(rows)
        words = row["title"].split()
        if len(words) > 3 and rng.random() < 0.5:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        if rng.random() < 0.3:
            words.append(
                rng.choice(
                    ["UK", "NEW", "2024", f"#{rng.randint(100, 99999)}", f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}"]
                )
            )
        title = " ".join(words)
        desc = [row["description"]]
        while sum(len(s) for s in desc) < 300:
            desc.append(rng.choice(sentences) if rng.random() < 0.7 else rng.choice(FILLER))
        if rng.random() < 0.1:  # an unseen word, as real text keeps producing
            desc.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(6, 11))) + ".")
        desc.append(f"Price £{rng.randint(5, 3000)}.{rng.randint(0, 99):02d}, SKU {rng.randint(10000, 99999)}.")
        out.append((title, " ".join(desc)[:360]))
    return out


def run(label: str, fn, listings, sample: int, prepare=None) -> dict:
    """Time `fn(listings)` (all listings in one call, as classify_many takes them), after `prepare()`."""
    if prepare:
        prepare()
    start, cpu = time.perf_counter(), time.process_time()
    fn(listings)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    tracemalloc.start()
    for one in range(sample):
        fn(listings[one : one + 1])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rate, cpu_rate = len(listings) / elapsed, len(listings) / cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<52}{rate:>10,.0f}/s wall{cpu_rate:>10,.0f}/s CPU{elapsed:>9.1f} s"
        f"{peak / 1e6:>9.1f} MB traced peak{rss:>8.0f} MB max RSS"
    )
    return {
        "label": label,
        "per_second_wall": round(rate),
        "per_second_cpu": round(cpu_rate),
        "seconds": round(elapsed, 2),
        "traced_peak_mb": round(peak / 1e6, 1),
        "max_rss_mb": round(rss),
    }


def _drain(results) -> None:
    """Consume classifications as a caller does: each one turned into its stored/printed dict."""
    deque((r.to_dict() for r in results), maxlen=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic listings (default 100000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--watchlist", default=str(ROOT / "watchlist.yaml"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    started = time.perf_counter()
    tracemalloc.start()
    wl = load_watchlist(args.watchlist)
    _ = wl.matcher, wl.model  # compile the term index and load the model once, outside the timings
    index_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    setup = time.perf_counter() - started
    listings = synthetic(args.n, args.seed)
    chars = sum(len(t) + len(d) for t, d in listings) / len(listings)
    print(
        f"{len(listings):,} synthetic listings, {chars:.0f} characters on average; watchlist {wl.version} "
        f"({len(wl.matcher.index):,} phrases) compiled in {setup:.2f} s, {index_mb:.1f} MB traced peak"
    )
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; pinned to one core"
    )
    sample = min(10_000, len(listings))
    # a yardstick for comparing machines: a plain Python loop of a million additions
    reference = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i
    reference = time.process_time() - reference
    print(
        f"reference: 1,000,000-step Python loop takes {reference:.3f} CPU s here "
        f"(about 0.04 s on a current desktop CPU)\n"
    )

    full = "rules + model (combined)" if wl.model else "full classifier (no model)"
    warm_up = synthetic(min(args.n, 3_000), args.seed + 1)
    # one untimed pass, so that the process-wide caches fresh() keeps (folded characters, stems,
    # fuzzy shortlists) are not filled by whichever run comes first
    _drain(classify_many(listings, wl))

    def fresh():
        # the word caches as a running crawl has them: emptied, then filled by other listings of the
        # same kind (another seed); so each classifier run meets the same unseen words of its own
        # listings, and none profits from the run before it
        wl.matcher._fuzzy_cache.clear()
        wl.matcher._info_cache.clear()
        if wl.model:
            wl.model._clear()
        _drain(classify_many(warm_up, wl))

    def normalise_only(batch):
        for title, desc in batch:
            tokens(normalise(title))
            tokens(normalise(desc))

    results = [
        run("normalisation alone", normalise_only, listings, sample),
        run("naive baseline", lambda batch: [naive_classify(t, d, wl) for t, d in batch], listings, sample),
        run(
            "rules alone (per call; batching is for the model)",
            lambda b: _drain(classify(t, d, wl, "rules") for t, d in b),
            listings,
            sample,
            fresh,
        ),
        run(f"{full}, per call", lambda b: _drain(classify(t, d, wl) for t, d in b), listings, sample, fresh),
        # the headline: what `keywatch classify` and `reclassify` run
        run(f"{full}, batched", lambda batch: _drain(classify_many(batch, wl)), listings, sample, fresh),
    ]
    print(f"load average {os.getloadavg()[0]:.1f} at the end (2 CPUs)")
    m = wl.matcher
    print(
        f"\nword caches after the run: {len(m._info_cache):,} words, {len(m._fuzzy_cache):,} fuzzy look-ups "
        f"(bounded at 200,000 each); 'traced peak' is per-listing working memory with warm caches"
    )
    flagged = sum(classify(t, d, wl).flagged for t, d in listings[:sample])
    print(f"{flagged / sample:.0%} of the first {sample:,} listings flagged")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
