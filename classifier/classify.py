"""Decide whether a listing sells a vehicle-theft device, and say why.

The rules (classifier.rules) weigh the watchlist evidence for and against each category. When the
watchlist has a trained model beside it (classifier.model), the model turns the rules' evidence
and the listing's word and character n-grams into a calibrated probability per category, and
the listing is flagged when the probability of its likeliest device category reaches the
model's threshold (chosen on held-out data), or when the rules alone flag it with a named device
that nothing innocent weighs against. Every flag lists the rule matches and the n-grams that
pushed the probability most, each with its span in the original text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from classifier.rules import Match, RuleResult, weigh
from classifier.watchlist import Watchlist, default_watchlist_path, load_watchlist


@dataclass
class Classification:
    flagged: bool
    category: str | None
    risk: str | None
    score: int           # 0-100: the rules' score, or with a model the category's probability in percent
    matches: list[Match] = field(default_factory=list)
    truncated: dict[str, dict] = field(default_factory=dict)  # field -> {"length", "skipped": [start, end]}
    matches_omitted: int = 0  # repeats past rules.MAX_MATCHES_PER_TERM, scored but not listed
    rule_score: int = 0
    probability: float | None = None  # the model's probability of `category` (or of the likeliest device)
    model: dict | None = None  # {"version", "training_set", "threshold"} of the model used, None: rules only

    def to_dict(self) -> dict:
        out = {
            "flagged": self.flagged,
            "category": self.category,
            "risk": self.risk,
            "score": self.score,
            "matches": [asdict(m) for m in self.matches],
        }
        if self.model is not None:
            out["rule_score"] = self.rule_score
            out["probability"] = self.probability
            out["model"] = dict(self.model)
        if self.truncated:
            out["truncated"] = dict(self.truncated)
        if self.matches_omitted:
            out["matches_omitted"] = self.matches_omitted
        return out


_default: dict[Path, Watchlist] = {}


def default_watchlist() -> Watchlist:
    """The default watchlist, loaded once per path (see default_watchlist_path)."""
    path = default_watchlist_path().resolve()
    if path not in _default:
        _default[path] = load_watchlist(path)
    return _default[path]


def classify_rules(title: str, description: str, watchlist: Watchlist | None = None) -> Classification:
    """The rules alone (see classifier.rules)."""
    wl = watchlist if watchlist is not None else default_watchlist()
    return _from_rules(weigh(title, description, wl), wl)


def _from_rules(rules: RuleResult, wl: Watchlist) -> Classification:
    cat, score = rules.best()
    flagged = cat is not None and score >= wl.settings["flag_threshold"]
    category = wl.categories[cat] if flagged else None
    return Classification(
        flagged=flagged,
        category=category.id if category else None,
        risk=category.risk if category else None,
        score=int(round(score)),
        matches=rules.matches,
        truncated=rules.truncated,
        matches_omitted=rules.matches_omitted,
        rule_score=int(round(score)),
    )


def classify(title: str, description: str, watchlist: Watchlist | None = None) -> Classification:
    """Classify one listing: the rules, and the watchlist's model when it has one."""
    return classify_rules(title, description, watchlist)


def naive_classify(title: str, description: str, watchlist: Watchlist | None = None) -> Classification:
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
        cached = wl.__dict__["_naive_terms"] = [(c.id, t.lower()) for c in wl.categories.values() for t in c.strong_terms]
    return cached
