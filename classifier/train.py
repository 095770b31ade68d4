"""Train the learned layer (classifier.model) from labelled corpora, deterministically.

    data = train(config, watchlist)        # the model file's content (a dict; save with save_model)

The training set is the list of corpora in the training config (training.yaml beside the
watchlist): add a corpus by listing it. The flag threshold is chosen on the k-fold (out-of-fold)
predictions of the training set, or, with `threshold_on`, on corpora never trained on.
Corpora kept for a final, never-tuned evaluation are not named here. The same inputs always
give the same file: fixed fold seeds, a vocabulary sorted by name, weights rounded to 6
decimals, and a version that is the hash of the content.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from classifier.evaluate import NONE, read_corpus
from classifier.feature_matrix import MAX_CHARS, MAX_RAW, MAX_WORDS, MIN_DF, ROUND, Featurised, Vectoriser, featurise
from classifier.flag_rule import FlagRule
from classifier.model import FORMAT, content_version, model_text
from classifier.training_config import TrainingConfig, TrainingError
from classifier.watchlist import Watchlist
from common import atomic

NEAR_DUPLICATE = 0.8  # listings this similar (cosine of character n-grams) stay in one fold
SIMILARITY_BLOCK = 1000  # listings compared with all others at a time
TOL = 2e-4  # lbfgs stops when no gradient entry is larger (models 1-8: 1e-4)


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def near_duplicate_groups(feats: Featurised) -> list[int]:
    """A group number per listing: listings whose character n-grams are NEAR_DUPLICATE alike (directly
    or through others) share one. Generated corpora repeat templates; a fold that trains on one copy
    and tests on another would flatter the model."""
    texts = [f"{r['title']}\n{r['description']}" for r in feats.rows]
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    columns = x.T.tocsr()
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Nearly every pair shares some n-gram, so the similarities are compared a block of rows at a time (all at once
    # they took 45 million entries, 0.7 GB). A group's root is its lowest listing, whatever order pairs join in.
    for start in range(0, len(texts), SIMILARITY_BLOCK):
        block = (x[start : start + SIMILARITY_BLOCK] @ columns).toarray()
        for i, j in zip(*np.nonzero(block >= NEAR_DUPLICATE)):
            i += start
            if i < j:
                parent[max(root(i), root(j))] = min(root(i), root(j))
    return [root(i) for i in range(len(texts))]


def writer_of(path: Path) -> str:
    """The writer (or collector) of a corpus file: its name without a split suffix, so written_a_train and
    written_a_holdout, or corpus_dev and corpus_heldout (one generator, two phrase banks), are one writer."""
    return re.sub(r"_(train|holdout|heldout|dev)$", "", path.stem)


def fold_groups(feats: Featurised, by: str) -> list[int]:
    """A group number per listing that no fold splits. `by="listing"`: near-duplicates. `by="corpus"`: a writer's
    listings, so each out-of-fold prediction is of a writer the fold's model never saw (as on new text), not of a
    familiar voice whose phrase habits the model learned from the writer's other listings. Near-duplicates within a
    writer are then together anyway; the few across writers (44 groups in model 6's 9,579 listings: one product's
    real title in two collections, a stock phrase) are left apart, because joining them chains 17 writers into 2."""
    if by == "listing":
        return near_duplicate_groups(feats)
    first: dict[str, int] = {}
    return [first.setdefault(writer, len(first)) for writer in feats.writers]


def folds(feats: Featurised, y: np.ndarray, config: TrainingConfig) -> list[tuple[list[int], list[int]]]:
    """The k folds (train rows, test rows): stratified by label, grouped as fold_groups says."""
    splitter = StratifiedGroupKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    groups = fold_groups(feats, config.folds_by)
    if len(set(groups)) < config.folds:
        counted = "writers (corpora)" if config.folds_by == "corpus" else "groups of near-duplicate listings"
        advice = "list more corpora, or set folds_by: listing" if config.folds_by == "corpus" else "list more listings"
        raise TrainingError(
            f"{config.path}: {config.folds} folds need at least {config.folds} {counted} with folds_by: "
            f"{config.folds_by}; there are {len(set(groups))} ({advice})"
        )
    return [(list(a), list(b)) for a, b in splitter.split(np.zeros(len(y)), y, groups)]


def _fit(feats: Featurised, rows: list[int], classes: list[str], c: float):
    vectoriser = Vectoriser(feats, rows)
    # float32 and TOL: the six fits were most of `keywatch train`'s time; each lbfgs iteration costs about a quarter
    # less in float32, and TOL stops about a fifth sooner, at the same dev figures (model 9, docs/classifier.md)
    x = vectoriser.matrix(feats, rows).astype(np.float32)
    y = np.array([classes.index(feats.labels[i]) for i in rows])
    lr = LogisticRegression(C=c, max_iter=2000, tol=TOL)
    lr.fit(x, y)
    weights = np.zeros((len(classes), x.shape[1]))
    intercept = np.zeros(len(classes))
    weights[lr.classes_] = lr.coef_
    intercept[lr.classes_] = lr.intercept_
    return vectoriser, np.round(weights, ROUND), np.round(intercept, ROUND)


def _logits(feats: Featurised, rows: list[int], vectoriser: Vectoriser, weights, intercept) -> np.ndarray:
    return np.asarray(vectoriser.matrix(feats, rows) @ weights.T) + intercept


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that makes out-of-fold probabilities best calibrated (least log loss)."""

    def loss(t):
        p = _softmax(logits, t)
        return -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    return round(float(minimize_scalar(loss, bounds=(0.05, 20), method="bounded", options={"xatol": 1e-6}).x), 4)


def decide(
    p_row: np.ndarray, classes: list[str], rules_flag: tuple, innocent: bool, rule: FlagRule, words: int, combined: bool
) -> str:
    """The label a model (combined=False) or the model with the rules (True) gives one listing, by
    classify's own rule (classifier.flag_rule) on out-of-fold probabilities."""
    none = classes.index(NONE)
    device = 1 - p_row[none]
    best = max((p_row[i], c) for i, c in enumerate(classes) if i != none)[1]
    return rule.category(device, best, rules_flag[0], rules_flag[1], innocent, words, combined) or NONE


GRID = np.round(0.05 + 0.01 * np.arange(91), 2)
PAIRS = [(float(low), float(high)) for low in GRID for high in GRID[GRID >= low]]


def _margins(probs: np.ndarray, feats: Featurised, classes: list[str], config: TrainingConfig) -> np.ndarray:
    """For every threshold pair (PAIRS: 0.05 ... 0.95 in steps of 0.01; the second, for listings with innocent
    evidence, no lower than the first), the combined decision's smaller margin inside the quality targets
    (precision minus its target, recall minus its target). F1 would trade a false flag for a miss one for one;
    the targets ask for both, so neither is spent to buy the other past its target while the other is short."""
    device = 1 - probs[:, classes.index(NONE)]
    scores = np.array([-math.inf if f[0] is None else f[1] for f in feats.rule_flags], dtype=float)
    stands = flag_rule(config, (0.0, 0.0)).rules_stand_alone(scores, device, np.array(feats.word_counts, dtype=int))
    innocent = np.array(feats.innocent, dtype=bool)
    truth = np.array([label != NONE for label in feats.labels])
    devices = max(int(truth.sum()), 1)
    margins = np.empty(len(PAIRS))
    for i, (low, high) in enumerate(PAIRS):
        flagged = stands | (device >= np.where(innocent, high, low))
        tp = int((flagged & truth).sum())
        precision = tp / int(flagged.sum()) if tp else 0.0
        margins[i] = min(precision - config.target_precision, tp / devices - config.target_recall)
    return np.round(margins, 6)


def _thresholds(
    probs: np.ndarray,
    feats: Featurised,
    classes: list[str],
    config: TrainingConfig,
    tie_break: tuple[np.ndarray, Featurised] | None = None,
) -> tuple[float, float]:
    """The threshold pair furthest inside both quality targets on these predictions (_margins). With
    `tie_break` (the out-of-fold predictions of the training set, when these are a small threshold set), the
    pairs within `config.ties_within` of the best are taken as equally good here, and the one furthest inside
    the targets there is chosen: a small set's best pair is often a spike of two or three listings on a
    plateau, and the thresholds it picked moved with every model (0.33 to 0.58) while its figures did not.
    Among pairs still equal, the middle one (the steadiest)."""
    margins = _margins(probs, feats, classes, config)
    tied = margins >= margins.max() - (config.ties_within if tie_break is not None else 0.0)
    if tie_break is not None:
        second = np.where(tied, _margins(*tie_break, classes, config), -math.inf)
        tied = second == second.max()
    pairs = np.flatnonzero(tied)
    return PAIRS[pairs[len(pairs) // 2]]


def _digest(paths: list[Path], base: Path, wl: Watchlist, extra_rows: list | None = None) -> tuple[list[dict], str]:
    files = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TrainingError(f"{path}: cannot read: {exc.strerror or exc}") from None
        files.append({"path": _relative(path, base), "sha256": hashlib.sha256(data).hexdigest()})
    hashes = [f["sha256"] for f in files]
    if extra_rows:
        rows = json.dumps(list(extra_rows), sort_keys=True, ensure_ascii=False).encode()
        digest = hashlib.sha256(rows).hexdigest()
        files.append({"path": f"({len(extra_rows)} listings from reviewers' decisions)", "sha256": digest})
        hashes.append(digest)
    joined = json.dumps(hashes + [wl.version])
    return files, hashlib.sha256(joined.encode()).hexdigest()[:16]


def _training_set(config: TrainingConfig, wl: Watchlist, progress) -> tuple[Featurised, np.ndarray, list[str]]:
    categories = list(wl.categories)
    classes = [NONE] + categories
    rows: list[dict] = []
    writers: list[str] = []
    for path in config.corpora:
        rows += read_corpus(path, wl.categories)
        writers += [writer_of(path)] * (len(rows) - len(writers))
    rows += config.extra_rows
    writers += ["(reviewers' decisions)"] * len(config.extra_rows)
    progress(f"featurising {len(rows)} training listings")
    feats = featurise(rows, wl, categories, writers)
    missing = [c for c in classes if c not in feats.labels]
    if missing:
        raise TrainingError(f"the training set has no listing labelled {', '.join(missing)}")
    return feats, np.array([classes.index(label) for label in feats.labels]), classes


def _out_of_fold(feats: Featurised, y: np.ndarray, classes: list[str], config: TrainingConfig, split) -> np.ndarray:
    """Every listing's logits from a model trained on the other folds."""
    oof = np.zeros((len(y), len(classes)))
    for train_rows, test_rows in split:
        model = _fit(feats, train_rows, classes, config.c)
        oof[test_rows] = _logits(feats, test_rows, *model)
    return oof


def kfold_comparison(config: TrainingConfig, wl: Watchlist, progress=lambda message: None) -> dict:
    """Out-of-fold figures on the training set, on the same folds, for the rules (in-sample: they were
    tuned on it), the model, the two combined and the plain TF-IDF baseline (classifier.baseline, its
    fixed 0.5 threshold). The combination flags at the thresholds `train` chose: with `threshold_on`,
    the watchlist's model's (chosen on that set, so these figures are the ones its file stores); without,
    chosen on these predictions, as `train` then does."""
    from classifier.baseline import TfidfBaseline

    feats, y, classes = _training_set(config, wl, progress)
    split = folds(feats, y, config)
    progress(f"{config.folds}-fold cross-validation: the model")
    oof = _out_of_fold(feats, y, classes, config, split)
    temperature = _temperature(oof, y)
    if config.threshold_on and wl.model is not None:
        thresholds = (wl.model.flag_rule.threshold, wl.model.flag_rule.threshold_innocent)
    else:
        thresholds = _thresholds(_softmax(oof, temperature), feats, classes, config)
    out = _kfold_figures(feats, oof, temperature, flag_rule(config, thresholds), classes)
    predicted = [NONE] * len(y)
    for k, (train_rows, test_rows) in enumerate(split, 1):
        progress(f"{config.folds}-fold cross-validation: the TF-IDF baseline, fold {k}")
        baseline = TfidfBaseline([feats.rows[i] for i in train_rows], wl.categories)
        for i, p in zip(test_rows, baseline.probabilities([feats.rows[i] for i in test_rows])):
            predicted[i] = baseline.label(p)
    out["baseline"] = _summary(feats, predicted)
    out["thresholds"] = list(thresholds)
    return out


def train(config: TrainingConfig, wl: Watchlist, progress=lambda message: None) -> dict:
    """Fit the model on the config's corpora; returns the model file's content."""
    learned = {p.resolve() for p in config.corpora}
    overlap = sorted(p.name for p in config.threshold_on if p.resolve() in learned)
    if overlap:  # the model's scores of listings it learned from flatter it: thresholds chosen there would be too low
        raise TrainingError(f"{config.path}: `threshold_on` corpora must not be trained on: {', '.join(overlap)}")
    feats, y, classes = _training_set(config, wl, progress)
    progress(f"{config.folds}-fold cross-validation")
    oof = _out_of_fold(feats, y, classes, config, folds(feats, y, config))
    temperature = _temperature(oof, y)

    progress("fitting the final model")
    vectoriser, weights, intercept = _fit(feats, list(range(len(y))), classes, config.c)
    base = config.path.parent
    if not config.threshold_on:  # the out-of-fold predictions: every listing scored by a model that never saw it
        thresholds = _thresholds(_softmax(oof, temperature), feats, classes, config)
        threshold_set: dict = {"path": f"{config.folds}-fold out-of-fold predictions of the training set"}
    else:  # corpora neither the model nor the watchlist learned from: both are out-of-sample there, as on new text
        held_rows = [row for path in config.threshold_on for row in read_corpus(path, wl.categories)]
        held = featurise(held_rows, wl, classes[1:])
        held_logits = _logits(held, list(range(len(held.labels))), vectoriser, weights, intercept)
        tie_break = (_softmax(oof, temperature), feats)
        thresholds = _thresholds(_softmax(held_logits, temperature), held, classes, config, tie_break)
        files = _digest(config.threshold_on, base, wl)[0]
        threshold_set = {"path": ", ".join(f["path"] for f in files), "files": files}
        # its figures at the thresholds chosen on it: flattered by that choice (two numbers), not by training
        figures = _kfold_figures(held, held_logits, temperature, flag_rule(config, thresholds), classes)
        threshold_set["figures"] = figures

    files, training_hash = _digest(config.corpora, base, wl, config.extra_rows)
    data = {
        "format": FORMAT,
        "classes": classes,
        "ngrams": vectoriser.names,
        "idf": vectoriser.idf,
        "weights": [[float(v) for v in row] for row in weights],
        "intercept": [float(v) for v in intercept],
        "temperature": temperature,
        "threshold": thresholds[0],
        "threshold_innocent": thresholds[1],
        "rules_alone": config.rules_alone,
        "rules_alone_floor": config.rules_alone_floor,
        "rules_alone_words": config.rules_alone_words,
        "training_set": {"files": files, "hash": training_hash, "listings": len(y), "watchlist_version": wl.version},
        "threshold_set": threshold_set,
        "settings": {
            "folds": config.folds,
            "folds_by": config.folds_by,
            "seed": config.seed,
            "c": config.c,
            "tol": TOL,
            "dtype": "float32",
            "targets": {"precision": config.target_precision, "recall": config.target_recall},
            "ties_within": config.ties_within,
            "min_df": MIN_DF,
            "max_words": MAX_WORDS,
            "max_chars": MAX_CHARS,
            "max_raw": MAX_RAW,
            "near_duplicate": NEAR_DUPLICATE,
        },
        "kfold": _kfold_figures(feats, oof, temperature, flag_rule(config, thresholds), classes),
    }
    data["version"] = content_version(data)
    return data


def flag_rule(config: TrainingConfig, thresholds: tuple[float, float]) -> FlagRule:
    """The rule a model trained by `config` with these thresholds flags by (classify reads it from the model file)."""
    alone = math.inf if config.rules_alone is None else config.rules_alone
    return FlagRule(thresholds[0], thresholds[1], alone, config.rules_alone_floor, config.rules_alone_words)


def _kfold_figures(
    feats: Featurised,
    oof: np.ndarray,
    temperature: float,
    rule: FlagRule,
    classes: list[str],
) -> dict:
    """Out-of-fold figures of the model and the combination, and the rules' (for the docs and `train`)."""
    probs = _softmax(oof, temperature)
    out = {}
    for name, combined in (("model", False), ("combined", True)):
        predicted = [
            decide(p, classes, f, innocent, rule, words, combined)
            for p, f, innocent, words in zip(probs, feats.rule_flags, feats.innocent, feats.word_counts)
        ]
        out[name] = _summary(feats, predicted)
    out["rules"] = _summary(feats, [f[0] or NONE for f in feats.rule_flags])
    return out


def _summary(feats: Featurised, predicted: list[str], by_language: bool = True) -> dict:
    labels = feats.labels
    tp = sum(t != NONE and p != NONE for t, p in zip(labels, predicted))
    fp = sum(t == NONE and p != NONE for t, p in zip(labels, predicted))
    fn = sum(t != NONE and p == NONE for t, p in zip(labels, predicted))
    right = sum(t != NONE and p == t for t, p in zip(labels, predicted))

    def recall_of(flag: str):
        hits = [p != NONE for r, t, p in zip(feats.rows, labels, predicted) if t != NONE and r.get(flag)]
        return round(sum(hits) / len(hits), 4) if hits else None

    hard = [p != NONE for r, p in zip(feats.rows, predicted) if r.get("hard_negative")]
    out = {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "category": round(right / tp, 4) if tp else 1.0,
        "obfuscated_recall": recall_of("obfuscated"),
        "description_only_recall": recall_of("description_only"),
        "hard_negatives_flagged": f"{sum(hard)}/{len(hard)}",
        "listings": len(labels),
    }
    if by_language:
        languages = sorted({r.get("lang") or "?" for r in feats.rows})
        out["languages"] = {}
        for lang in languages:
            rows = [i for i, r in enumerate(feats.rows) if (r.get("lang") or "?") == lang]
            part = Featurised([feats.rows[i] for i in rows], [labels[i] for i in rows], [], [])
            out["languages"][lang] = _summary(part, [predicted[i] for i in rows], by_language=False)
    return out


def save_model(data: dict, path: str | os.PathLike) -> None:
    """Write the model file atomically (a crash never leaves half a model)."""
    atomic.write_text(path, model_text(data))
