"""The learned layer: a linear model over the rules' evidence and the listing's n-grams.

Features of a listing (the same functions serve training, classifier.train, and classifying):
- the rules' evidence per category (classifier.rules): its score, positive and negative weight,
  and whether it holds a named device/maker/claim or a device+target pair;
- words, word pairs and title words of the *normalised* text (so `K3YL3SS` is `keyless`), each
  weighted by its idf and by tf_weight (sublinear in its count, over the square root of the
  number of distinct ones of its kind in the listing);
- character 3-5-grams of each word (idf-weighted, unit length per word), part of that word's
  share: spelling variants and inflections share most of them ("przekaznik", "przekaznika").
Every part is a weighted sum of per-word (per-pair) vectors, so each distinct word's share of the
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
from typing import cast

import numpy as np

from classifier.normalise import stem
from classifier.rules import Match, RuleResult

FORMAT = "keywatch-model/1"
CHAR_NGRAMS = (3, 5)
RULE_FEATURES = ("score", "positive", "negative", "strong", "pair")
EXPLAIN_TOP = 5  # n-grams listed per flag
EXPLAIN_SPANS = 3  # places in the text shown per n-gram
_CACHE_LIMIT = 200_000


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


def model_path_for(watchlist_path: Path) -> Path:
    """The model trained for a watchlist sits beside it: watchlist.yaml -> watchlist.model.json."""
    return Path(watchlist_path).with_suffix(".model.json")


def char_ngrams(word: str) -> list[str]:
    """The character n-gram features of one word ("c:" + n-gram of " word "). A number has none:
    prices, SKUs and phone numbers are new in nearly every listing, and their digits say nothing
    (the number itself is still a word feature: "433", "868")."""
    if word.isdigit():
        return []
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    return ["c:" + padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def tf_weight(count: int, distinct: int) -> float:
    """A feature's value: sublinear in how often it occurs (1 + ln count), over the square root of
    how many distinct features of its kind the listing has. Repeating a word (keyword or filler
    stuffing) adds little; a long listing does not drown one telling word."""
    return (1.0 + math.log(count)) / math.sqrt(distinct)


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
    category: str  # the likeliest device category
    probability: float  # its probability
    device_probability: float  # 1 - P(none)
    parts: tuple  # what explain() needs (see Model._features)


class Model:
    """A trained model loaded from its JSON file (see classifier.train for how it is made).

    Scoring gathers, for one listing, the rows of one matrix that hold each feature's share of
    the logits (word pairs and title words: idf x weights; the rules' features: their weights;
    each word seen: its word feature and character n-grams, cached as it is first met) and
    takes one weighted sum: a handful of numpy calls per listing, whatever its length.
    """

    def __init__(self, data: dict, path: Path | None = None):
        self.path = path
        self.data = data
        self.classes: list[str] = data["classes"]
        self.categories: list[str] = [c for c in self.classes if c != "none"]
        self.none = self.classes.index("none")
        self.names: list[str] = data["ngrams"]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.idf = [float(v) for v in data["idf"]]
        self.idf_array = np.asarray(self.idf)
        weights = np.asarray(data["weights"], dtype=float)  # classes x (ngrams + rule features)
        n = len(self.names)
        self.w_grams = np.ascontiguousarray(weights[:, :n].T)  # ngrams x classes
        self.intercept = np.asarray(data["intercept"], dtype=float)
        self.device_indices = [i for i in range(len(self.classes)) if i != self.none]
        # rows of `shares`: word pairs and title words, then the rules' features, then words as met
        self.pair_names = [name for name in self.names if name[0] in "bt"]
        rule_rows = weights[:, n:].T  # rule features x classes
        self.rules_first = len(self.pair_names)
        self.words_first = self.rules_first + len(rule_rows)
        self.shares = np.zeros((self.words_first + _CACHE_LIMIT, len(self.classes)))
        for k, name in enumerate(self.pair_names):
            self.shares[k] = self.idf[self.index[name]] * self.w_grams[self.index[name]]
        self.shares[self.rules_first : self.words_first] = rule_rows
        # looked up by (word, word) for pairs and by word for title words: no strings built per listing
        self.pair_rows = {tuple(name[2:].split(" ")): k for k, name in enumerate(self.pair_names) if name[0] == "b"}
        self.title_rows = {name[2:]: k for k, name in enumerate(self.pair_names) if name[0] == "t"}
        self.temperature = float(data["temperature"])
        self.threshold = float(data["threshold"])
        # a listing with innocent evidence must reach this (no lower than `threshold`)
        self.threshold_innocent = float(data.get("threshold_innocent", self.threshold))
        self.rules_alone = float(data["rules_alone"])
        self.version = data["version"]
        self.training_set = data["training_set"]["hash"]
        self._word_rows: dict[str, int] = {}  # raw word -> its row in `shares`
        self._stem_rows: dict[str, int] = {}  # stem -> its row in `shares`; bounded by _CACHE_LIMIT
        self._stems: list[str] = []  # the stem of each cached row, by row - words_first

    @property
    def info(self) -> dict:
        """What a classification records about the model that made it."""
        return {"version": self.version, "training_set": self.training_set, "threshold": self.threshold}

    def _word(self, raw: str) -> int:
        """The row of a word's share of the logits (the word feature and its character n-grams); one
        row per stem, so "key" and "keys" are one feature as in training."""
        w = stem(raw)
        row = self._stem_rows.get(w)
        if row is None:
            row = self.words_first + len(self._stems)
            # the word feature plus its character n-grams (idf-weighted, unit length): one product
            grams = Counter(i for i in map(self.index.get, char_ngrams(w)) if i is not None)
            if grams:
                idx = np.fromiter(grams, dtype=np.intp, count=len(grams))
                values = self.idf_array[idx] * np.fromiter(grams.values(), dtype=float, count=len(grams))
                share = (values / math.sqrt(float(values @ values))) @ self.w_grams[idx]
            else:
                share = np.zeros(len(self.classes))
            i = self.index.get("w:" + w)
            if i is not None:
                share = share + self.idf[i] * self.w_grams[i]
            self.shares[row] = share
            self._stem_rows[w] = row
            self._stems.append(w)
        self._word_rows[raw] = row
        return row

    def _features(self, rules: RuleResult):
        """(distinct rows of `shares`, their weights, the listing's stemmed words per field, how many
        rows are the text's): the listing's features, the text's first. A word, a known pair of
        words and a known title word weigh tf_weight(count, distinct ones of their kind); a rule
        feature its value."""
        if len(self._stems) + sum(len(scan.words) for scan in rules.scans) > _CACHE_LIMIT:
            self._word_rows.clear()  # between listings, so no row of this listing is reused
            self._stem_rows.clear()
            self._stems.clear()
        first, stems, cached = self.words_first, self._stems, self._word_rows.get
        words: list[tuple[str, list[str]]] = []
        tokens: list[int] = []
        pair_keys: list[tuple[str, str]] = []
        title_stems: list[str] = []
        for scan in rules.scans:
            found = [cached(w) for w in scan.words]
            if None in found:
                found = [r if r is not None else self._word(w) for r, w in zip(found, scan.words)]
            rows = cast("list[int]", found)
            tokens += rows
            field_stems = [stems[r - first] for r in rows]
            words.append((scan.field, field_stems))
            pair_keys += zip(field_stems, field_stems[1:])
            if scan.field == "title":
                title_stems += field_stems
        token_counts = Counter(tokens)
        get_pair, get_title = self.pair_rows.get, self.title_rows.get
        pair_counts = Counter([k for k in map(get_pair, pair_keys) if k is not None])
        title_counts = Counter([k for k in map(get_title, title_stems) if k is not None])
        rows = [*token_counts, *pair_counts, *title_counts]
        counts = [*token_counts.values(), *pair_counts.values(), *title_counts.values()]
        # how many distinct features of its kind each one is among (the tf_weight divisor)
        kinds = np.repeat(
            [len(token_counts), len(set(pair_keys)) or 1, len(set(title_stems)) or 1],
            [len(token_counts), len(pair_counts), len(title_counts)],
        )
        text = len(rows)
        values = [(1.0 + np.log(counts)) / np.sqrt(kinds)]  # tf_weight (as training uses it), all at once
        for k, cat in enumerate(self.categories):
            ev = rules.evidence.get(cat)
            if ev is not None:  # most categories have no evidence: their features are 0
                base = self.rules_first + k * len(RULE_FEATURES)
                rows += range(base, base + len(RULE_FEATURES))
                values.append(
                    np.array(
                        [
                            ev.score / 100,
                            ev.positive / 100,
                            ev.negative / 100,
                            float(ev.strong > 0),
                            float(ev.pairs > 0),
                        ]
                    )
                )
        weights = np.concatenate(values) if len(values) > 1 else values[0]
        return rows, weights, words, text

    def predict(self, rules: RuleResult) -> Prediction:
        """Calibrated probabilities for one listing (classes: "none" and every category)."""
        rows, weights, words, text = self._features(rules)
        gathered = self.shares[rows]
        logits = self.intercept + weights @ gathered
        exps = np.exp((logits - logits.max()) / self.temperature)
        p = (exps / exps.sum()).tolist()
        best = max(self.device_indices, key=lambda i: (p[i], -i))
        return Prediction(
            probabilities=dict(zip(self.classes, p)),
            category=self.classes[best],
            probability=p[best],
            device_probability=1 - p[self.none],
            parts=(rows, weights, gathered, words, text),
        )

    def explain(self, rules: RuleResult, prediction: Prediction, category: str) -> list[Match]:
        """The words, word pairs and title words that pushed `category` most against "none" (in
        log-odds), with their places in the text. A word's push includes its character n-grams."""
        c = self.classes.index(category)
        rows, weights, gathered, words, text = prediction.parts
        if not text:
            return []
        # the rules' features (after the text's in `rows`) are listed as the rule matches
        push = dict(zip(rows[:text], ((gathered[:text, c] - gathered[:text, self.none]) * weights[:text]).tolist()))
        best = sorted(push, key=push.__getitem__, reverse=True)[: 2 * EXPLAIN_TOP]
        # among equal pushes by name, so the choice never depends on the order words were cached in
        named = [(self._feature_name(row), push[row]) for row in best]
        top = sorted(named, key=lambda kv: (-kv[1], kv[0]))[:EXPLAIN_TOP]
        stems = [s for _, s in words]
        out: list[Match] = []
        for name, value in top:
            if value <= 0:
                break
            out += _places(rules, stems, name, category, round(value, 3))
        return out

    def _feature_name(self, row: int) -> str:
        return self.pair_names[row] if row < self.rules_first else "w:" + self._stems[row - self.words_first]


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
            if stems[i + 1 : i + 1 + len(rest)] != rest:
                continue
            start, stop = scan.norm.original_span(scan.spans[i].start(), scan.spans[i + len(rest)].end())
            text = scan.norm.original[start:stop]
            start, stop = rules.original_span(scan.field, start, stop)
            found.append(
                Match(
                    term=feature,
                    category=category,
                    field=scan.field,
                    start=start,
                    end=stop,
                    text=text,
                    score=push,
                    kind="ngram",
                )
            )
    return found


def load_model(path: str | Path) -> Model:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: not a keywatch model ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a keywatch model (expected format {FORMAT})")
    if data.get("version") != content_version(data):
        raise ModelError(f"{path}: the model's content does not match its version (edited by hand?)")
    try:
        return Model(data, path)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelError(f"{path}: not a usable keywatch model ({type(exc).__name__}: {exc})") from None


def content_version(data: dict) -> str:
    """The model's version: the first 16 hex digits of the SHA-256 of everything else in it."""
    body = {k: v for k, v in data.items() if k != "version"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]
