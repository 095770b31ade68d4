"""Decide whether a listing sells a vehicle-theft device, and say why.

The rules (classifier.rules) weigh the watchlist evidence for and against each category. When the
watchlist has a trained model beside it (classifier.model), the model turns the rules' evidence
and the listing's word and character n-grams into a calibrated probability per category, and
the listing is flagged when the probability of its likeliest device category reaches the
model's threshold (chosen on held-out data; higher when the rules find innocent evidence), or
when the rules name a device that nothing innocent weighs against and the model gives it at least
a floor probability, or the listing is long (classifier.flag_rule; `rules_alone`, `rules_alone_floor`,
`rules_alone_words` in the model file: filler dilutes a model, not the rules; on their own in listings of
ordinary length the rules cost precision on text they were not tuned on). Every flag lists the rule matches and the
n-grams that pushed the probability most, each with its span in the original text.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.model import Model, Prediction
from classifier.rules import Match, RuleResult, has_innocent_evidence, weigh
from classifier.version import __version__
from classifier.watchlist import Watchlist
from classifier.watchlist_file import load_watchlist
from common import settings


@dataclass(init=False)  # __init__ written out: compiled, it is native code (see rules.Match)
class Classification:
    flagged: bool
    category: str | None
    risk: str | None
    score: int  # 0-100: the rules' score, or with a model its probability of a device in percent
    matches: list[Match] = field(default_factory=list)
    truncated: dict[str, dict] = field(default_factory=dict)  # field -> {"length", "skipped": [start, end]}
    matches_omitted: int = 0  # repeats past rules.MAX_MATCHES_PER_TERM, scored but not listed
    rule_score: int = 0
    probability: float | None = None  # the model's probability of `category` (unflagged: of any device)
    model: dict | None = None  # {"version", "training_set", "threshold"} of the model used, None: rules only

    def __init__(
        self,
        flagged: bool,
        category: str | None,
        risk: str | None,
        score: int,
        matches: list[Match] | None = None,
        truncated: dict[str, dict] | None = None,
        matches_omitted: int = 0,
        rule_score: int = 0,
        probability: float | None = None,
        model: dict | None = None,
    ) -> None:
        self.flagged = flagged
        self.category = category
        self.risk = risk
        self.score = score
        self.matches = [] if matches is None else matches
        self.truncated = {} if truncated is None else truncated
        self.matches_omitted = matches_omitted
        self.rule_score = rule_score
        self.probability = probability
        self.model = model

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "flagged": self.flagged,
            "category": self.category,
            "risk": self.risk,
            "score": self.score,
            "matches": [m.to_dict() for m in self.matches],
        }
        if self.model is not None:
            out["rule_score"] = self.rule_score
            out["probability"] = self.probability
            out["model"] = dict(self.model)
        if self.truncated:
            out["truncated"] = {name: dict(note) for name, note in self.truncated.items()}
        if self.matches_omitted:
            out["matches_omitted"] = self.matches_omitted
        return out


_default: dict[Path, Watchlist] = {}


def default_watchlist() -> Watchlist:
    """The default watchlist (common.settings.watchlist_path), loaded once per path."""
    path = settings.watchlist_path().resolve()
    if path not in _default:
        _default[path] = load_watchlist(path)
    return _default[path]


MODES = ("combined", "rules", "model")


def classify_rules(title: str | None, description: str | None, watchlist: Watchlist | None = None) -> Classification:
    """The rules alone (see classifier.rules)."""
    return classify(title, description, watchlist, mode="rules")


def classify(
    title: str | None, description: str | None, watchlist: Watchlist | None = None, mode: str = "combined"
) -> Classification:
    """Classify one listing. `mode`: "combined" (the default: the rules, and the watchlist's model
    when it has one), "rules" (the rules alone) or "model" (the model's threshold alone, for `eval`)."""
    wl = watchlist if watchlist is not None else default_watchlist()
    rules = weigh(title, description, wl)
    model = wl.model if mode != "rules" else None
    return _decide(wl, rules, model, model.predict(rules) if model else None, mode)


# Listings scored together by classify_many: enough to spread numpy's per-call cost thin, few
# enough (and few enough characters) that a batch's working memory stays small.
BATCH_LISTINGS = 256
BATCH_CHARS = 2_000_000


def classify_many(
    listings: Iterable[tuple[str | None, str | None]], watchlist: Watchlist | None = None, mode: str = "combined"
) -> Iterator[Classification]:
    """Classify (title, description) pairs with one watchlist, yielding the same results as classify()
    on each, in order. The rules weigh each listing; the model scores them a batch at a time
    (BATCH_LISTINGS), so a long run (a crawl, `reclassify`) holds at most one batch."""
    wl = watchlist if watchlist is not None else default_watchlist()
    model = wl.model if mode != "rules" else None
    if model is None:  # nothing to score together: one listing at a time, as classify() does
        for title, description in listings:
            yield _decide(wl, weigh(title, description, wl), None, None, mode)
        return
    for batch in _batches(listings):
        # A batch's objects all stay alive until it is scored, so the cyclic garbage collector,
        # which runs every few hundred new objects, would walk them again and again for nothing
        # (a quarter of the batch's time); it is paused for the batch, never while the caller runs.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            weighed = [weigh(title, description, wl) for title, description in batch]
            results = _decide_many(wl, weighed, model, model.predict_many(weighed), mode)
        finally:
            if was_enabled:
                gc.enable()
        del weighed
        yield from results


def _batches(listings: Iterable[tuple[str | None, str | None]]) -> Iterator[list[tuple[str | None, str | None]]]:
    batch: list[tuple[str | None, str | None]] = []
    chars = 0
    for title, description in listings:
        batch.append((title, description))
        chars += len(title or "") + len(description or "")
        if len(batch) >= BATCH_LISTINGS or chars >= BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _decide(wl: Watchlist, rules: RuleResult, model: Model | None, prediction: Prediction | None, mode: str):
    """The classification from the rules' evidence and, with a model, its prediction (see the module docstring)."""
    if model is None or prediction is None:
        rules_category, rule_score = _rules_category(wl, rules)
        return _result(wl, rules_category, int(round(rule_score)), rules.matches, rules, rule_score)
    return _decide_many(wl, [rules], model, [prediction], mode)[0]


def _decide_many(
    wl: Watchlist, weighed: list[RuleResult], model: Model, predictions: list[Prediction], mode: str
) -> list[Classification]:
    """_decide() for listings the model scored together: the flagged ones are explained together."""
    combined = mode == "combined"
    decided = []
    for rules, prediction in zip(weighed, predictions):
        rules_category, rule_score = _rules_category(wl, rules)
        category = model.flag_rule.category(
            prediction.device_probability,
            prediction.category,
            rules_category,
            rule_score,
            combined and has_innocent_evidence(rules),
            sum(len(scan.words) for scan in rules.scans),
            combined,
        )
        decided.append((rules, prediction, category, rule_score))
    explained = iter(model.explain_many([(r, p, c) for r, p, c, _ in decided if c]))
    results = []
    for rules, prediction, category, rule_score in decided:
        matches = rules.matches + next(explained) if category else rules.matches
        result = _result(wl, category, int(round(100 * prediction.device_probability)), matches, rules, rule_score)
        result.probability = round(prediction.probabilities[category] if category else prediction.device_probability, 4)
        result.model = model.info
        results.append(result)
    return results


def _rules_category(wl: Watchlist, rules: RuleResult) -> tuple[str | None, float]:
    """The category the rules flag (None: not enough evidence) and their score."""
    rules_category, rule_score = rules.best()
    if rules_category is not None and rule_score < wl.settings["flag_threshold"]:
        rules_category = None  # evidence, but not enough to flag
    return rules_category, rule_score


def _result(
    wl: Watchlist, category: str | None, score: int, matches: list[Match], rules: RuleResult, rule_score: float
) -> Classification:
    return Classification(
        flagged=category is not None,
        category=category,
        risk=wl.categories[category].risk if category else None,
        score=score,
        matches=matches,
        truncated=rules.truncated,
        matches_omitted=rules.matches_omitted,
        rule_score=int(round(rule_score)),
    )


def classifier_version(watchlist: Watchlist | None = None) -> str:
    """What a stored classification records as its classifier: the code's version and, when the
    watchlist has a model, the model's version and training-set hash (so `reclassify` re-scores
    when either changes, and the evidence chain says which model decided)."""
    wl = watchlist if watchlist is not None else default_watchlist()
    model = wl.model
    if model is None:
        return __version__
    return f"{__version__}+model.{model.version}.train.{model.training_set}"


def naive_classify(title: str | None, description: str | None, watchlist: Watchlist | None = None) -> Classification:
    """The baseline to beat: case-insensitive substring search for the same strong terms.

    No normalisation, no contexts, exclusions or cues: the category with most terms found wins.
    """
    wl = watchlist if watchlist is not None else default_watchlist()
    terms = _naive_terms(wl)
    text = f"{title or ''}\n{description or ''}".lower()
    counts: dict[str, int] = {}
    for cat, term in terms:
        if term in text:
            counts[cat] = counts.get(cat, 0) + 1
    if not counts:
        return Classification(False, None, None, 0, [])
    cat = max(counts, key=lambda c: counts[c])
    return Classification(True, cat, wl.categories[cat].risk, 100, [])


def _naive_terms(wl: Watchlist) -> list[tuple[str, str]]:
    cached = wl.__dict__.get("_naive_terms")
    if cached is None:
        cached = wl.__dict__["_naive_terms"] = [
            (c.id, t.lower()) for c in wl.categories.values() for t in c.strong_terms
        ]
    return cached
