"""The learned layer: a linear model over the listing's character and word n-grams.

Features of a listing (the same functions serve training, classifier.train, and classifying),
read from the *normalised* words the rules' matcher split (so `K3YL3SS` is `keyless`, and a
Cyrillic look-alike reads as Latin), in two blocks, each TF-IDF weighted and scaled to unit
length (as scikit-learn's TfidfVectorizer does):
- character 2-5-grams of each word padded with spaces (char_wb): spelling variants and
  inflections share most of them ("przekaznik", "przekaznika"); a number has none;
- words and pairs of adjacent words (never crossing from title to description).
The rules' evidence is not a feature: a model that reads the rules' scores learns to copy
them, and misses what they miss (a device described by what it does). The rules' say comes in
where classify() combines the two.

A block's share of the score is a sum of per-word parts over the block's length, so each
distinct word's part is computed once and cached; that keeps the model cheap, and lets an
explanation say exactly how much each word and word pair pushed the probability.

The model is a multinomial logistic regression whose probabilities are calibrated by one
temperature fitted on k-fold predictions. It is stored as data, never as a pickle: a JSON file
with the vocabulary, idf, weights, temperature, flag thresholds and where it came from. Scoring
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

FORMAT = "keywatch-model/2"
CHAR_NGRAMS = (2, 5)
EXPLAIN_TOP = 5  # n-grams listed per flag
EXPLAIN_SPANS = 3  # places in the text shown per n-gram
_CACHE_LIMIT = 100_000


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


def model_path_for(watchlist_path: Path) -> Path:
    """The model trained for a watchlist sits beside it: watchlist.yaml -> watchlist.model.json."""
    return Path(watchlist_path).with_suffix(".model.json")


def char_ngrams(word: str) -> list[str]:
    """The character n-gram features of one word ("c:" + n-gram of " word "). A number has none:
    prices, SKUs and phone numbers are new in nearly every listing, and their digits say nothing
    (the number itself is still a word feature: "433", "868")."""
    return ["c:" + g for g in _padded_ngrams(word)]


def _padded_ngrams(word: str) -> list[str]:
    if word.isdigit():
        return []
    padded = f" {word} "
    low, high = CHAR_NGRAMS
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def listing_words(rules: RuleResult) -> list[tuple[str, list[str]]]:
    """(field, stemmed words) for title and description, as the matcher split them."""
    return [(scan.field, [stem(w) for w in scan.words]) for scan in rules.scans]


def pairs(words: list[tuple[str, list[str]]]) -> list[str]:
    """The word pair features ("b:") of a listing, in order; pairs never cross from title to description."""
    return [f"b:{a} {b}" for _, stems in words for a, b in zip(stems, stems[1:])]


@dataclass
class Prediction:
    probabilities: dict[str, float]  # class -> calibrated probability ("none" included)
    category: str  # the likeliest device category
    probability: float  # its probability
    device_probability: float  # 1 - P(none)
    parts: tuple  # what explain() needs (see Model._logits)


class Model:
    """A trained model loaded from its JSON file (see classifier.train for how it is made).

    Each word met is cached once (one row per stem): its character n-grams (index, count x idf)
    and their share of the logits, and its word feature. Scoring a listing sums the cached shares
    of its words, weighted by their counts, over the character block's length, and adds the word
    block (known words and pairs, count x idf, over that block's length): a handful of numpy calls
    per listing, whatever its length.
    """

    def __init__(self, data: dict, path: Path | None = None):
        self.path = path
        self.data = data
        self.classes: list[str] = data["classes"]
        self.categories: list[str] = [c for c in self.classes if c != "none"]
        self.none = self.classes.index("none")
        self.names: list[str] = data["ngrams"]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.idf = np.asarray(data["idf"], dtype=float)
        weights = np.asarray(data["weights"], dtype=float)  # classes x ngrams
        if weights.shape != (len(self.classes), len(self.names)) or len(self.idf) != len(self.names):
            raise ValueError("weights, idf and n-grams do not fit together")
        self.w = np.ascontiguousarray(weights.T)  # ngrams x classes
        self.intercept = np.asarray(data["intercept"], dtype=float)
        self.device_indices = [i for i in range(len(self.classes)) if i != self.none]
        # looked up by (word, word): no strings built per listing
        self.pair_index = {tuple(n[2:].split(" ")): i for i, n in enumerate(self.names) if n.startswith("b:")}
        self.char_index = {n[2:]: i for i, n in enumerate(self.names) if n.startswith("c:")}
        self.temperature = float(data["temperature"])
        self.threshold = float(data["threshold"])
        # a listing with innocent evidence must reach this (no lower than `threshold`)
        self.threshold_innocent = float(data.get("threshold_innocent", self.threshold))
        # null: the rules never flag alone (the score never reaches infinity)
        self.rules_alone = math.inf if data["rules_alone"] is None else float(data["rules_alone"])
        self.version = data["version"]
        self.training_set = data["training_set"]["hash"]
        self._clear()

    def _clear(self) -> None:
        self._word_rows: dict[str, int] = {}  # raw word -> its row
        self._stem_rows: dict[str, int] = {}  # stem -> its row; bounded by _CACHE_LIMIT
        self._stems: list[str] = []  # by row: the stem
        k = len(self.classes)
        # by row: its character n-grams' share of the logits, then its word feature's (idf x weights)
        self._shares = np.zeros((_CACHE_LIMIT, 2 * k))
        # by row: the squared length of its character n-grams' vector, and its word feature's idf squared
        self._squares = np.zeros((_CACHE_LIMIT, 2))

    @property
    def info(self) -> dict:
        """What a classification records about the model that made it."""
        return {"version": self.version, "training_set": self.training_set, "threshold": self.threshold}

    def _word(self, raw: str) -> int:
        """The cache row of a word; one row per stem, so "key" and "keys" are one feature as in training."""
        w = stem(raw)
        row = self._stem_rows.get(w)
        if row is None:
            row = len(self._stems)
            grams = Counter(map(self.char_index.get, _padded_ngrams(w)))
            grams.pop(None, None)  # n-grams not in the vocabulary
            k = len(self.classes)
            self._shares[row] = 0.0
            self._squares[row] = 0.0
            if grams:
                idx = np.fromiter(grams, dtype=np.intp, count=len(grams))
                values = self.idf[idx] * np.fromiter(grams.values(), dtype=float, count=len(grams))
                self._shares[row, :k] = values @ self.w[idx]
                self._squares[row, 0] = values @ values
            i = self.index.get("w:" + w)
            if i is not None:
                self._shares[row, k:] = self.idf[i] * self.w[i]
                self._squares[row, 1] = self.idf[i] ** 2
            self._stem_rows[w] = row
            self._stems.append(w)
        self._word_rows[raw] = row
        return row

    def _logits(self, rules: RuleResult):
        """(logits, parts): the listing's logits, and what explain() needs to split them by word and pair."""
        if len(self._stems) + sum(len(scan.words) for scan in rules.scans) > _CACHE_LIMIT:
            self._clear()  # between listings, so no row of this listing is reused
        stems, cached = self._stems, self._word_rows.get
        words: list[tuple[str, list[str]]] = []
        tokens: list[int] = []
        pair_keys: list[tuple[str, str]] = []
        for scan in rules.scans:
            found = [cached(w) for w in scan.words]
            if None in found:
                found = [r if r is not None else self._word(w) for r, w in zip(found, scan.words)]
            tokens += found  # type: ignore[arg-type]
            field_stems = [stems[r] for r in found]  # type: ignore[index]
            words.append((scan.field, field_stems))
            pair_keys += zip(field_stems, field_stems[1:])
        counts = Counter(tokens)
        rows = np.fromiter(counts, dtype=np.intp, count=len(counts))
        row_counts = np.fromiter(counts.values(), dtype=float, count=len(counts))
        pair_counts = Counter(map(self.pair_index.get, pair_keys))
        pair_counts.pop(None, None)
        pairs_found = np.fromiter(pair_counts, dtype=np.intp, count=len(pair_counts))
        pair_values = self.idf[pairs_found] * np.fromiter(pair_counts.values(), dtype=float, count=len(pair_counts))
        # each block's length: the character block takes the words' n-gram vectors as apart (one cached
        # number per word instead of summing n-grams per listing); the word block is words, then pairs
        char_square, word_square = (row_counts * row_counts) @ self._squares[rows]
        char_norm = math.sqrt(char_square) or 1.0
        word_norm = math.sqrt(word_square + float(pair_values @ pair_values)) or 1.0
        k = len(self.classes)
        summed = row_counts @ self._shares[rows]
        logits = self.intercept + summed[:k] / char_norm + (summed[k:] + pair_values @ self.w[pairs_found]) / word_norm
        return logits, (rows, row_counts, char_norm, word_norm, pairs_found, pair_values, words)

    def predict(self, rules: RuleResult) -> Prediction:
        """Calibrated probabilities for one listing (classes: "none" and every category)."""
        logits, parts = self._logits(rules)
        exps = np.exp((logits - logits.max()) / self.temperature)
        p = (exps / exps.sum()).tolist()
        best = max(self.device_indices, key=lambda i: (p[i], -i))
        return Prediction(
            probabilities=dict(zip(self.classes, p)),
            category=self.classes[best],
            probability=p[best],
            device_probability=1 - p[self.none],
            parts=parts,
        )

    def explain(self, rules: RuleResult, prediction: Prediction, category: str) -> list[Match]:
        """The words and word pairs that pushed `category` most against "none" (in log-odds), with
        their places in the text. A word's push is its character n-grams' and its word feature's."""
        c = self.classes.index(category)
        rows, row_counts, char_norm, word_norm, pairs_found, pair_values, words = prediction.parts
        k, none = len(self.classes), self.none
        shares = self._shares[rows]
        by_word = row_counts * (
            (shares[:, c] - shares[:, none]) / char_norm + (shares[:, k + c] - shares[:, k + none]) / word_norm
        )
        push = {"w:" + self._stems[r]: v for r, v in zip(rows.tolist(), by_word.tolist())}
        by_pair = pair_values * (self.w[pairs_found, c] - self.w[pairs_found, none]) / word_norm
        push.update(zip((self.names[f] for f in pairs_found.tolist()), by_pair.tolist()))
        top = sorted(push.items(), key=lambda kv: (-kv[1], kv[0]))[:EXPLAIN_TOP]
        stems = [s for _, s in words]
        out: list[Match] = []
        for name, value in top:
            if value <= 0:
                break
            out += _places(rules, stems, name, category, round(value, 3))
        return out


def _places(rules: RuleResult, stems_by_field: list, feature: str, category: str, push: float) -> list[Match]:
    """Up to EXPLAIN_SPANS spans of the original text where a feature's words occur ("w:" names one
    word, "b:" two)."""
    kind, _, gram = feature.partition(":")
    first, *rest = gram.split(" ")
    found: list[Match] = []
    for scan, stems in zip(rules.scans, stems_by_field):
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
