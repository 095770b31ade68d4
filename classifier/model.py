"""The learned layer: a linear model over the rules' evidence and the listing's n-grams.

Features of a listing (the same functions serve training, classifier.train, and classifying):
- the rules' evidence per category (classifier.rules): its score, positive and negative weight,
  and whether it holds a named device/maker/claim or a device+target pair;
- words, word pairs and title words of the *normalised* text (so `K3YL3SS` is `keyless`), each
  weighted by its idf and averaged over the listing's words (pairs, title words);
- character 3-5-grams of each word (idf-weighted, unit length per word), averaged over the
  listing's words: spelling variants and inflections share most of them ("przekaznik",
  "przekaznika").
Every part is an average of per-word (per-pair) vectors, so each distinct word's share of the
score is computed once and cached; that keeps the model cheap, and lets an explanation say
exactly how much each word, pair and title word pushed the probability.

The model is a multinomial logistic regression whose probabilities are calibrated by one
temperature fitted on k-fold predictions. It is stored as data, never as a pickle: a JSON file
with the vocabulary, idf, weights, temperature, flag threshold and where it came from. Scoring
needs only numpy.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.normalise import stem
from classifier.rules import Match, RuleResult

FORMAT = "keywatch-model/1"
CHAR_NGRAMS = (3, 5)
RULE_FEATURES = ("score", "positive", "negative", "strong", "pair")
EXPLAIN_TOP = 5          # n-grams listed per flag
EXPLAIN_SPANS = 3        # places in the text shown per n-gram
_CACHE_LIMIT = 200_000


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


def model_path_for(watchlist_path: Path) -> Path:
    """The model trained for a watchlist sits beside it: watchlist.yaml -> watchlist.model.json."""
    return Path(watchlist_path).with_suffix(".model.json")


def char_ngrams(word: str) -> list[str]:
    """The character n-gram features of one word ("c:" + n-gram of " word ")."""
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    return ["c:" + padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def listing_words(rules: RuleResult) -> list[tuple[str, list[str]]]:
    """(field, stemmed words) for title and description, as the matcher split them."""
    return [(scan.field, [stem(w) for w in scan.words]) for scan in rules.scans]


def pairs(words: list[tuple[str, list[str]]]) -> list[str]:
    """The word pair features ("b:") of a listing, in order; pairs never cross from title to description."""
    return [f"b:{a} {b}" for _, stems in words for a, b in zip(stems, stems[1:])]


def title_words(words: list[tuple[str, list[str]]]) -> list[str]:
    return ["t:" + w for name, stems in words if name == "title" for w in stems]


def unit(counts, index: dict[str, int], idf) -> dict[int, float]:
    """{feature index: count x idf} for the known features, scaled to unit length (one word's character n-grams)."""
    values = {index[n]: c * idf[index[n]] for n, c in counts.items() if n in index}
    norm = math.sqrt(sum(v * v for v in values.values()))
    return {i: v / norm for i, v in values.items()} if norm else {}


def rule_vector(rules: RuleResult, categories: list[str]) -> list[float]:
    out = []
    for cat in categories:
        ev = rules.evidence.get(cat)
        if ev is None:
            out += [0.0] * len(RULE_FEATURES)
        else:
            out += [ev.score / 100, ev.positive / 100, ev.negative / 100, float(ev.strong > 0), float(ev.pairs > 0)]
    return out


@dataclass
class Prediction:
    probabilities: dict[str, float]  # class -> calibrated probability ("none" included)
    category: str                    # the likeliest device category
    probability: float               # its probability
    device_probability: float        # 1 - P(none)
    parts: tuple                     # what explain() needs: (feature shares, stemmed words)


class Model:
    """A trained model loaded from its JSON file (see classifier.train for how it is made)."""

    def __init__(self, data: dict, path: Path | None = None):
        self.path = path
        self.data = data
        self.classes: list[str] = data["classes"]
        self.categories: list[str] = [c for c in self.classes if c != "none"]
        self.none = self.classes.index("none")
        self.names: list[str] = data["ngrams"]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.idf = [float(v) for v in data["idf"]]
        weights = np.asarray(data["weights"], dtype=float)  # classes x (ngrams + rule features)
        n = len(self.names)
        self.w_grams = np.ascontiguousarray(weights[:, :n].T)  # ngrams x classes
        self.w_rules = weights[:, n:]
        # a word pair's or title word's share of the logits (before averaging): idf x its weights
        names = [n for n in self.names if n[0] in "bt"]
        self.pair_shares = np.array([self.idf[self.index[n]] * self.w_grams[self.index[n]] for n in names]
                                    ).reshape(len(names), len(self.classes))
        self.pair_names = names
        # looked up by (word, word) for pairs and by word for title words: no strings built per listing
        self.pair_rows = {tuple(n[2:].split(" ")): k for k, n in enumerate(names) if n[0] == "b"}
        self.title_rows = {n[2:]: k for k, n in enumerate(names) if n[0] == "t"}
        self.intercept = np.asarray(data["intercept"], dtype=float)
        self.temperature = float(data["temperature"])
        self.threshold = float(data["threshold"])
        self.rules_alone = float(data["rules_alone"])
        self.version = data["version"]
        self.training_set = data["training_set"]["hash"]
        # each word seen: its row in word_shares (its share of the logits) and its stem; bounded
        self._word_rows: dict[str, int] = {}
        self._stems: list[str] = []
        self._word_shares = np.zeros((_CACHE_LIMIT, len(self.classes)))

    @property
    def info(self) -> dict:
        """What a classification records about the model that made it."""
        return {"version": self.version, "training_set": self.training_set, "threshold": self.threshold}

    def _word(self, raw: str) -> int:
        """The row of a word's share of the logits (the word feature and its character n-grams)."""
        row = self._word_rows.get(raw)
        if row is None:
            if len(self._stems) >= _CACHE_LIMIT:
                self._word_rows.clear()
                self._stems.clear()
            w = stem(raw)
            share = self._word_shares[len(self._stems)]
            share[:] = 0.0
            i = self.index.get("w:" + w)
            if i is not None:
                share += self.idf[i] * self.w_grams[i]
            for i, v in unit(Counter(char_ngrams(w)), self.index, self.idf).items():
                share += v * self.w_grams[i]
            row = self._word_rows[raw] = len(self._stems)
            self._stems.append(w)
        return row

    def _groups(self, rules: RuleResult):
        """The listing's words, word pairs and title words that the model knows, each group as
        (rows of their shares of the logits, the matrix of shares, what the group is averaged
        over), and the stemmed words."""
        words, rows = [], []
        stems = self._stems
        pair_rows, title_rows = self.pair_rows, self.title_rows
        known_pairs, known_titles, n_pairs, n_titles = [], [], 0, 0
        for scan in rules.scans:
            field_rows = [self._word(w) for w in scan.words]
            field_stems = [stems[r] for r in field_rows]
            words.append((scan.field, field_stems))
            rows += field_rows
            n_pairs += max(0, len(field_stems) - 1)
            known_pairs += [k for k in map(pair_rows.get, zip(field_stems, field_stems[1:])) if k is not None]
            if scan.field == "title":
                n_titles += len(field_stems)
                known_titles += [k for k in map(title_rows.get, field_stems) if k is not None]
        groups = [(rows, self._word_shares, len(rows)), (known_pairs, self.pair_shares, n_pairs),
                  (known_titles, self.pair_shares, n_titles)]
        return groups, words

    def _feature_name(self, group: int, row: int) -> str:
        return "w:" + self._stems[row] if group == 0 else self.pair_names[row]

    def predict(self, rules: RuleResult) -> Prediction:
        """Calibrated probabilities for one listing (classes: "none" and every category)."""
        groups, words = self._groups(rules)
        logits = self.intercept + self.w_rules @ np.asarray(rule_vector(rules, self.categories))
        for rows, shares, n in groups:
            if rows:
                logits = logits + shares[rows].sum(axis=0) / n
        scaled = logits / self.temperature
        scaled -= scaled.max()
        probs = np.exp(scaled)
        probs /= probs.sum()
        best = max((i for i in range(len(self.classes)) if i != self.none), key=lambda i: (probs[i], -i))
        return Prediction(
            probabilities={c: float(probs[i]) for i, c in enumerate(self.classes)},
            category=self.classes[best], probability=float(probs[best]),
            device_probability=float(1 - probs[self.none]), parts=(groups, words))

    def explain(self, rules: RuleResult, prediction: Prediction, category: str) -> list[Match]:
        """The words, word pairs and title words that pushed `category` most against "none" (in
        log-odds), with their places in the text. A word's push includes its character n-grams."""
        c = self.classes.index(category)
        groups, words = prediction.parts
        keys, values = [], []
        for g, (rows, shares, n) in enumerate(groups):
            if rows:
                counts = Counter(rows)  # a word's push is the same at each place it occurs
                unique = list(counts)
                mine = shares[unique]
                values.append((mine[:, c] - mine[:, self.none]) * np.fromiter(counts.values(), float, len(unique)) / n)
                keys += [(g, row) for row in unique]
        if not keys:
            return []
        pushes = np.concatenate(values)
        best = np.argsort(-pushes, kind="stable")[:2 * EXPLAIN_TOP].tolist()
        # among equal pushes by name, so the choice never depends on the order words were cached in
        named = [(self._feature_name(*keys[k]), float(pushes[k])) for k in best]
        top = sorted(named, key=lambda kv: (-kv[1], kv[0]))[:EXPLAIN_TOP]
        stems = [s for _, s in words]
        out: list[Match] = []
        for name, value in top:
            if value <= 0:
                break
            out += _places(rules, stems, name, category, round(value, 3))
        return out


def _places(rules: RuleResult, stems_by_field: list, feature: str, category: str, push: float) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a feature's words occur ("w:" and "t:"
    name one word, "b:" two)."""
    kind, _, gram = feature.partition(":")
    first, *rest = gram.split(" ")
    found: list[Match] = []
    for scan, stems in zip(rules.scans, stems_by_field):
        if kind == "t" and scan.field != "title":
            continue
        i = -1
        while len(found) < EXPLAIN_SPANS:
            try:
                i = stems.index(first, i + 1)
            except ValueError:
                break
            if stems[i + 1:i + 1 + len(rest)] != rest:
                continue
            start, stop = scan.norm.original_span(scan.spans[i].start(), scan.spans[i + len(rest)].end())
            text = scan.norm.original[start:stop]
            start, stop = rules.original_span(scan.field, start, stop)
            found.append(Match(term=feature, category=category, field=scan.field, start=start, end=stop,
                               text=text, score=push, kind="ngram"))
    return found


def load_model(path: str | Path) -> Model:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a keywatch model ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a keywatch model (expected format {FORMAT})")
    if data.get("version") != content_version(data):
        raise ModelError(f"{path}: the model's content does not match its version (edited by hand?)")
    return Model(data, path)


def content_version(data: dict) -> str:
    """The model's version: the first 16 hex digits of the SHA-256 of everything else in it."""
    body = {k: v for k, v in data.items() if k != "version"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
