"""Measure a classifier against a labelled corpus (JSON Lines: id, title, description, category).

`category` is a watchlist category id, `none` for an innocent listing, or `ambiguous` for a
genuinely dual-use one, which is left out of scoring. Optional flags get their own figures:
`obfuscated: true` (the seller hides words) and `description_only: true` (only the description
reveals the device) their recall, `hard_negative: true` (an innocent listing a careless rule
would flag) how many were flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier import jsonl

NONE = "none"
AMBIGUOUS = "ambiguous"


class CorpusError(ValueError):
    """A corpus line that cannot be scored: the message names file and line."""


def read_corpus(path: str | Path, known_categories) -> list[dict]:
    path = Path(path)
    try:
        with path.open("rb") as file:
            return _rows(path, jsonl.lines(file), known_categories)
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except jsonl.LineError as exc:
        raise CorpusError(f"{path}:{exc.number}: {exc.message}") from None


def _rows(path: Path, lines, known_categories) -> list[dict]:
    labels = set(known_categories) | {NONE, AMBIGUOUS}
    rows = []
    for number, line in lines:
        if not line.strip():
            continue
        row = jsonl.loads(line, number)
        if not isinstance(row, dict):
            raise CorpusError(f"{path}:{number}: expected a JSON object")
        for key in ("title", "description", "category"):
            if not isinstance(row.get(key), str):
                raise CorpusError(f"{path}:{number}: '{key}' must be a string")
        if row["category"] not in labels:
            raise CorpusError(
                f"{path}:{number}: unknown category '{row['category']}' (expected one of: {', '.join(sorted(labels))})"
            )
        row.setdefault("id", f"line {number}")
        rows.append(row)
    if not rows:
        raise CorpusError(f"{path}: no listings")
    return rows


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    support: int

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> Scores:
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, tp + fn)


@dataclass
class Evaluation:
    name: str
    scored: int
    skipped_ambiguous: int
    flagged: Scores
    per_category: dict[str, Scores]
    category_accuracy: float  # of true hits that were flagged, the share given the right category
    obfuscated_recall: float
    obfuscated_support: int
    description_only_recall: float
    description_only_support: int
    hard_negatives_flagged: int
    hard_negatives: int
    confusion: dict[str, dict[str, int]]
    misses: list[dict] = field(default_factory=list)
    false_flags: list[dict] = field(default_factory=list)
    wrong_category: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        def s(x: Scores):
            return {
                "precision": round(x.precision, 4),
                "recall": round(x.recall, 4),
                "f1": round(x.f1, 4),
                "support": x.support,
            }

        return {
            "name": self.name,
            "scored": self.scored,
            "skipped_ambiguous": self.skipped_ambiguous,
            "flagged": s(self.flagged),
            "per_category": {k: s(v) for k, v in self.per_category.items()},
            "category_accuracy": round(self.category_accuracy, 4),
            "obfuscated_recall": round(self.obfuscated_recall, 4),
            "obfuscated_support": self.obfuscated_support,
            "description_only_recall": round(self.description_only_recall, 4),
            "description_only_support": self.description_only_support,
            "hard_negatives_flagged": self.hard_negatives_flagged,
            "hard_negatives": self.hard_negatives,
            "confusion": self.confusion,
            "misses": self.misses,
            "false_flags": self.false_flags,
            "wrong_category": self.wrong_category,
        }


def evaluate(
    rows: list[dict], classify_fn: Callable[[str, str], Any], categories, name: str = "classifier"
) -> Evaluation:
    """Score `classify_fn(title, description)` (returning a Classification) against `rows`."""
    categories = list(categories)
    labels = categories + [NONE]
    confusion = {t: {p: 0 for p in labels} for t in labels}
    tp = fp = fn = 0
    obf_hit = obf_total = desc_hit = desc_total = hard_flagged = hard_total = 0
    right_category = true_hits = 0
    misses, false_flags, wrong = [], [], []
    skipped = 0
    for row in rows:
        truth = row["category"]
        if truth == AMBIGUOUS:
            skipped += 1
            continue
        result = classify_fn(row["title"], row["description"])
        predicted = result.category if result.flagged else NONE
        confusion[truth][predicted] += 1
        brief = {
            "id": row.get("id"),
            "title": row["title"],
            "truth": truth,
            "predicted": predicted,
            "score": result.score,
        }
        if truth == NONE and row.get("hard_negative"):
            hard_total += 1
            hard_flagged += result.flagged
        if truth != NONE:
            if row.get("obfuscated"):
                obf_total += 1
                obf_hit += result.flagged
            if row.get("description_only"):
                desc_total += 1
                desc_hit += result.flagged
            if result.flagged:
                tp += 1
                true_hits += 1
                if predicted == truth:
                    right_category += 1
                else:
                    wrong.append(brief)
            else:
                fn += 1
                misses.append(brief)
        elif result.flagged:
            fp += 1
            false_flags.append(brief)
    per_category = {}
    for cat in categories:
        ctp = confusion[cat][cat]
        cfp = sum(confusion[t][cat] for t in labels if t != cat)
        cfn = sum(confusion[cat][p] for p in labels if p != cat)
        per_category[cat] = Scores.from_counts(ctp, cfp, cfn)
    return Evaluation(
        name=name,
        scored=len(rows) - skipped,
        skipped_ambiguous=skipped,
        flagged=Scores.from_counts(tp, fp, fn),
        per_category=per_category,
        category_accuracy=right_category / true_hits if true_hits else 1.0,
        obfuscated_recall=obf_hit / obf_total if obf_total else 1.0,
        obfuscated_support=obf_total,
        description_only_recall=desc_hit / desc_total if desc_total else 1.0,
        description_only_support=desc_total,
        hard_negatives_flagged=hard_flagged,
        hard_negatives=hard_total,
        confusion=confusion,
        misses=misses,
        false_flags=false_flags,
        wrong_category=wrong,
    )


def format_evaluation(ev: Evaluation, details: bool = True) -> str:
    lines = [f"== {ev.name}: {ev.scored} listings scored ({ev.skipped_ambiguous} ambiguous left out)", ""]
    lines.append(f"{'':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    rows = [("flagged vs not", ev.flagged)] + list(ev.per_category.items())
    for label, s in rows:
        lines.append(f"{label:<20}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}{s.support:>9}")
    lines.append("")
    lines.append(f"correct category of true hits: {ev.category_accuracy:.3f}")
    lines.append(f"recall on obfuscated listings: {ev.obfuscated_recall:.3f} (of {ev.obfuscated_support})")
    if ev.description_only_support:
        lines.append(
            f"recall on description-only listings: {ev.description_only_recall:.3f} (of {ev.description_only_support})"
        )
    if ev.hard_negatives:
        lines.append(f"hard negatives flagged: {ev.hard_negatives_flagged} of {ev.hard_negatives}")
    lines.append("")
    labels = list(ev.confusion)
    short = {lab: lab[:8] for lab in labels}
    lines.append("confusion (rows = label, columns = prediction):")
    lines.append(f"{'':<18}" + "".join(f"{short[lab]:>9}" for lab in labels))
    for truth in labels:
        lines.append(f"{truth:<18}" + "".join(f"{ev.confusion[truth][p]:>9}" for p in labels))
    if details:
        for title, items in (
            ("misses", ev.misses),
            ("false flags", ev.false_flags),
            ("wrong category", ev.wrong_category),
        ):
            lines.append("")
            lines.append(f"{title} ({len(items)}):")
            for item in items:
                lines.append(
                    f"  {item['id']}: [{item['truth']} -> {item['predicted']}, {item['score']}] {item['title'][:90]}"
                )
    return "\n".join(lines)


def format_comparison(evaluations: list[Evaluation]) -> str:
    """Several classifiers on one corpus, one line each: the figures a reviewer compares."""

    def share(value: float, support: int) -> str:
        return f"{value:.3f}" if support else "-"

    lines = [
        f"{'':<26}{'precision':>10}{'recall':>8}{'F1':>7}{'category':>10}{'descr.-only':>12}"
        f"{'obfuscated':>11}{'hard neg.':>11}"
    ]
    for ev in evaluations:
        hard = f"{ev.hard_negatives_flagged}/{ev.hard_negatives}" if ev.hard_negatives else "-"
        lines.append(
            f"{ev.name:<26}{ev.flagged.precision:>10.3f}{ev.flagged.recall:>8.3f}{ev.flagged.f1:>7.3f}"
            f"{ev.category_accuracy:>10.3f}{share(ev.description_only_recall, ev.description_only_support):>12}"
            f"{share(ev.obfuscated_recall, ev.obfuscated_support):>11}{hard:>11}"
        )
    return "\n".join(lines)
