"""Check that a faster classifier gives the same answers: `python bench/classify_golden.py write|check FILE`.

Classifies every listing of tests/data/*.jsonl but the sealed split (tests/support/corpora.py), 5,000 of
bench/classify.py's synthetic listings and the same listings disguised (leetspeak, letter spacing, full-width
letters, Cyrillic look-alikes, emoji, a 150,000-character field) with the rules alone and with the full
classifier, and writes every `to_dict()` as one JSON line (`write`), or reports the first listings that differ
(`check`).
Either way it first checks that classify_many() (batched) gives exactly what classify() gives.
The rules' matches and spans are evidence shown to reviewers: an optimisation must not move them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classify import synthetic  # noqa: E402

from classifier import classify, load_watchlist  # noqa: E402
from classifier.classify import classify_many, classify_rules  # noqa: E402
from tests.support.corpora import readable_corpora  # noqa: E402

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
LOOK_ALIKES = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к", "E": "Е", "A": "А"}
LEET = {"e": "3", "a": "4", "o": "0", "i": "1", "s": "$", "l": "|"}


def disguise(text: str, rng: random.Random) -> str:
    """One of the tricks normalise() undoes, applied to part of the text."""
    trick = rng.randrange(7)
    if trick == 0:
        return "".join(LEET.get(c, c) if rng.random() < 0.4 else c for c in text)
    if trick == 1:
        words = text.split()
        i = rng.randrange(len(words)) if words else 0
        return " ".join(" ".join(w) if k == i else w for k, w in enumerate(words))
    if trick == 2:
        return "".join(FULL_WIDTH.get(c, c) if rng.random() < 0.5 else c for c in text)
    if trick == 3:
        return "".join(LOOK_ALIKES.get(c, c) if rng.random() < 0.5 else c for c in text)
    if trick == 4:
        return text.replace(" ", rng.choice([" 🔥 ", " ✅", "\u200b ", " • ", "-"]))
    if trick == 5:
        return "".join(c + "\u0301" if c in "aeiou" and rng.random() < 0.3 else c for c in text)
    return ".".join(text.upper()) if len(text) < 60 else text.upper()


def listings() -> list[tuple[str, str]]:
    out = []
    for path in readable_corpora():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((row.get("title") or "", row.get("description") or ""))
    rng = random.Random(11)
    out += [(disguise(t, rng), disguise(d, rng)) for t, d in out[:1500]]
    out += synthetic(5000, 7)
    filler = " ".join(d for _, d in out[:400])
    out.append(("Relay box keyless repeater", (filler * 3)[:150_000] + " keyless repeater relay attack box"))
    out.append(("", "k e y l e s s r e p e a t e r " * 200 + "anti relay pouch " * 200))
    return out


def results(wl) -> list[str]:
    """One line per listing, from classify() one listing at a time."""
    lines = []
    for title, desc in listings():
        row = {"rules": classify_rules(title, desc, wl).to_dict(), "combined": classify(title, desc, wl).to_dict()}
        lines.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    return lines


def batched_results(wl) -> list[str]:
    """The same lines from classify_many() (batches of listings scored together)."""
    pairs = listings()
    rules = classify_many(pairs, wl, mode="rules")
    combined = classify_many(pairs, wl)
    return [
        json.dumps({"rules": r.to_dict(), "combined": c.to_dict()}, sort_keys=True, ensure_ascii=False)
        for r, c in zip(rules, combined)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("file")
    parser.add_argument("--watchlist", default=str(ROOT / "watchlist.yaml"))
    args = parser.parse_args()
    wl = load_watchlist(args.watchlist)
    lines = results(wl)
    batched = batched_results(wl)
    if batched != lines:
        differ = [i for i, (a, b) in enumerate(zip(lines, batched)) if a != b]
        for i in differ[:3]:
            print(f"listing {i}:\n  classify()      {lines[i][:2000]}\n  classify_many() {batched[i][:2000]}")
        sys.exit(f"classify_many() differs from classify() on {len(differ):,} listings")
    path = Path(args.file)
    if args.action == "write":
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{len(lines):,} listings written to {path}")
        return
    golden = path.read_text(encoding="utf-8").splitlines()
    if len(golden) != len(lines):
        sys.exit(f"{len(lines):,} listings, the golden file has {len(golden):,}")
    differ = [i for i, (a, b) in enumerate(zip(golden, lines)) if a != b]
    for i in differ[:3]:
        print(f"listing {i}:\n  golden {golden[i][:2000]}\n  now    {lines[i][:2000]}")
    if differ:
        sys.exit(f"{len(differ):,} of {len(lines):,} listings differ")
    print(f"all {len(lines):,} listings identical")


if __name__ == "__main__":
    main()
