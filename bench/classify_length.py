"""Classifier time against description length, 1 KB to 1 MB: `python bench/classify_length.py`.

A crawled description is written by the people we watch, so its length is theirs to choose. This
times one listing whose description is 1 KB ... 1 MB of each kind of text: ordinary listing text
(sentences from the labelled corpus), and hostile repeats built to make the classifier work
hardest (one device phrase, cues and contexts next to devices, device + target pairs, letters
spaced out, look-alike Cyrillic, misspellings that need fuzzy look-ups) and never-seen random
words. Prints the best of --repeat runs in CPU milliseconds (one core); fields longer than the
classifier's cap (classifier.classify.MAX_FIELD_CHARS) are read at their start and end only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier import classify, load_watchlist  # noqa: E402
from classifier.rules import MAX_FIELD_CHARS  # noqa: E402

SIZES = [1_000, 10_000, 100_000, 1_000_000]
HOSTILE = {
    "one device phrase repeated": "keyless repeater ",
    "cues and contexts beside devices": "anti relay box key programmer not for faraday pouch ",
    "device + target pairs": "relay car key signal amplifier keyless entry ",
    "spaced letters": "k.e.y.l.e.s.s r.e.p.e.a.t.e.r ",
    "Cyrillic look-alikes": "Кеуless Rеpеаtеr глушилка ",
    "misspellings (fuzzy look-ups)": "progammer repeator jamer grabbr ",
}


def texts(seed: int) -> dict[str, object]:
    """Each kind of text: a function of the size wanted."""
    rng = random.Random(seed)
    rows = [
        json.loads(line) for line in (ROOT / "tests/data/corpus_dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    sentences = [s.strip() + ". " for r in rows for s in r["description"].split(".") if len(s.strip()) > 10]
    ordinary = "".join(rng.choice(sentences) for _ in range(20_000))
    out = {"ordinary listing text": lambda size: ordinary[:size]}
    for name, unit in HOSTILE.items():
        out[name] = lambda size, unit=unit: (unit * (size // len(unit) + 1))[:size]

    def never_seen(size: int) -> str:  # new words every time: each costs a fuzzy look-up
        words = (
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
            for _ in range(size // 4)
        )
        return " ".join(words)[:size]

    out["random never-seen words (cold)"] = never_seen
    return out


def best_time(title: str, make, size: int, wl, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        description = make(size)
        start = time.process_time()
        classify(title, description, wl)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the best is shown (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--watchlist", default=str(ROOT / "watchlist.yaml"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    wl = load_watchlist(args.watchlist)
    classify("warm up", "the term index and model are built once, outside the timings", wl)
    print(
        f"CPU milliseconds to classify one listing, best of {args.repeat}; fields past "
        f"{MAX_FIELD_CHARS:,} characters are read at their start and end only\n"
    )
    print(f"{'description':<36}" + "".join(f"{size // 1000:>9,} KB" for size in SIZES))
    for name, make in texts(args.seed).items():
        cells = [best_time("Listing", make, size, wl, args.repeat) * 1000 for size in SIZES]
        print(f"{name:<36}" + "".join(f"{ms:>12,.1f}" for ms in cells))


if __name__ == "__main__":
    main()
