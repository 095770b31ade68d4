"""The labelled corpora a test or benchmark may read: every tests/data/*.jsonl but the sealed ones.

A sealed corpus is the next never-tuned split: no script opens it until the lead scores it once, in aggregate,
after the model is committed (README, Evaluation). A helper that globs tests/data must go through here, or it
reads the sealed split too (test_classifier_speed_equivalence.py and bench/classify_golden.py did, before
2026-12-02 12:10 UTC).
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
# phase 20: written after model 18 was committed, to check it once more; scored once by the lead (README)
SEALED = ("written_bl.jsonl", "written_bm.jsonl")


def readable_corpora() -> list[Path]:
    """tests/data/*.jsonl in name order, the sealed corpora left out."""
    return [path for path in sorted(DATA.glob("*.jsonl")) if path.name not in SEALED]
