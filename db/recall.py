"""How much does the classifier miss? An estimate of recall on the listings the crawls stored, from reviewers'
labels on the "missed?" sample (docs/review.md).

The sample: unflagged listings in a fixed pseudo-random order (db/desk_counts.py, SAMPLE_ORDER); reviewers
label them from the top, so however many they reach is a simple random sample of the unflagged listings.
A label is an ordinary decision: confirm (relevant: the classifier missed it) or dismiss (not relevant).

    miss rate m = relevant / labelled          (Wilson 95% interval [m_low, m_high])
    missed      = m x unflagged listings
    recall      = found / (found + missed)     found = flagged listings reviewers confirmed

Recall falls as m rises, so the interval maps over: [found / (found + m_high x U), found / (found + m_low x U)].
Wilson rather than the normal approximation, which gives a zero-width interval when no missed listing has been
found yet (the usual case), and rather than Clopper-Pearson, whose guaranteed coverage makes it wider than needed
at the sample sizes a desk reaches. The interval covers the sampling error of m only: `found` counts confirmed
listings, so flagged listings still open count as not found and the estimate is low while the queue has work.
"""

from __future__ import annotations

import math

from sqlite_utils import Database

from db import desk_counts

Z95 = 1.959964


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (successes of n), (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def recall_estimate(store: Database) -> dict:
    """{labelled, relevant, unflagged, found, recall, low, high}; recall and its bounds are None before any label."""
    unflagged = desk_counts.counts(store, flagged=False)
    flagged = desk_counts.counts(store)
    relevant, not_relevant = unflagged.get("confirmed", 0), unflagged.get("dismissed", 0)
    labelled = relevant + not_relevant
    found = flagged.get("confirmed", 0)
    result: dict[str, float | None] = {
        "labelled": labelled,
        "relevant": relevant,
        "unflagged": sum(unflagged.values()),
        "found": found,
        "recall": None,
        "low": None,
        "high": None,
    }
    if labelled and found:
        population = sum(unflagged.values())
        m_low, m_high = wilson(relevant, labelled)
        result["recall"] = found / (found + relevant / labelled * population)
        result["low"] = found / (found + m_high * population)
        result["high"] = found / (found + m_low * population)
    return result
