"""The training config (training.yaml beside the watchlist): which corpora `keywatch train` learns from, and how.

    train:                # corpus paths, relative to the file
      - tests/data/corpus_dev.jsonl
    folds: 5              # k-fold cross-validation: calibration, the thresholds and the k-fold figures
    folds_by: corpus      # corpus: a writer's listings never split across folds; listing: near-duplicates only
    seed: 7
    c: 30                 # inverse regularisation strength of the logistic regression
    rules_alone: 95       # a rules score that flags whatever the model says; null: never alone
    rules_alone_floor: 0.3  # ...when the model's device probability is at least this,
    rules_alone_words: 100  # ...or in a listing of at least this many words (where filler dilutes the model)
    threshold_on: [FILE]  # optional: choose the thresholds on these corpora (never trained on) instead of the k-fold
                          # predictions; one path or a list
    targets: {precision: 0.97, recall: 0.96}   # the thresholds are chosen furthest inside both

A malformed file gives a TrainingError naming it, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.yamlfile import ConfigError, load_yaml

FOLDS_BY = ("corpus", "listing")


class TrainingError(ValueError):
    """A training config or corpus that cannot be used; the message names the file."""


@dataclass
class TrainingConfig:
    path: Path
    train: list[Path]
    threshold_on: list[Path] = field(default_factory=list)  # empty: thresholds from the out-of-fold predictions
    folds: int = 5
    folds_by: str = "corpus"  # what a fold never splits (train.fold_groups): a writer's corpus, or near-duplicates
    seed: int = 7
    c: float = 100.0
    rules_alone: float | None = 60.0  # a rules score that flags whatever the model says; None: never alone
    rules_alone_floor: float = 0.0  # ...when the model gives at least this device probability,
    rules_alone_words: int = 0  # ...or in a listing of at least this many words
    target_precision: float = 0.97  # the thresholds put precision and recall furthest above these (train._thresholds)
    target_recall: float = 0.96
    ties_within: float = 0.0  # threshold pairs this close to the best on `threshold_on` are tie-broken out-of-fold
    extra: list[Path] = field(default_factory=list)
    extra_rows: list[dict] = field(default_factory=list)  # labelled listings from elsewhere (reviewers' decisions)

    @property
    def corpora(self) -> list[Path]:
        return self.train + [p for p in self.extra if p not in self.train]


def _paths(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(p, str) for p in value))


def default_config_path(watchlist_path: Path) -> Path:
    return Path(watchlist_path).with_name("training.yaml")


def load_config(path: str | os.PathLike) -> TrainingConfig:
    """Read training.yaml: `train` (corpora), optional `threshold_on`, `folds`, `folds_by`, `seed`, `c`,
    `rules_alone`, `rules_alone_floor`, `rules_alone_words`, `targets`, `ties_within`."""
    path = Path(path)
    try:
        data = load_yaml(path)
    except ConfigError as exc:  # missing, unreadable, not YAML, a key given twice: `path:line: problem`
        raise TrainingError(f"not a valid training config: {exc}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("train"), list)
        or not data["train"]
        or not all(isinstance(p, str) for p in data["train"])
        or not _paths(data.get("threshold_on", []))
    ):
        raise TrainingError(
            f"{path}: expected `train:` (a list of corpus paths), optionally `threshold_on:` (a path or list of paths)"
        )
    known = {"train", "threshold_on", "folds", "folds_by", "seed", "c", "targets", "ties_within"}
    known |= {"rules_alone", "rules_alone_floor", "rules_alone_words"}
    unknown = set(data) - known
    if unknown:
        raise TrainingError(f"{path}: unknown key(s): {', '.join(sorted(unknown))}")
    base = path.parent
    held = data.get("threshold_on", [])
    held = [held] if isinstance(held, str) else held
    config = TrainingConfig(path, [base / p for p in data["train"]], [base / p for p in held])
    numbers = (("folds", int), ("seed", int), ("c", float), ("rules_alone", float))
    for key, kind in numbers + (("rules_alone_floor", float), ("rules_alone_words", int), ("ties_within", float)):
        if key == "rules_alone" and key in data and data[key] is None:
            config.rules_alone = None
        elif key in data:
            if not isinstance(data[key], (int, float)) or isinstance(data[key], bool):
                raise TrainingError(f"{path}: `{key}` must be a number")
            setattr(config, key, kind(data[key]))
    config.folds_by = data.get("folds_by", config.folds_by)
    if config.folds_by not in FOLDS_BY:
        raise TrainingError(f"{path}: `folds_by` must be one of: {', '.join(FOLDS_BY)}")
    targets = data.get("targets", {})
    if not isinstance(targets, dict) or set(targets) - {"precision", "recall"}:
        raise TrainingError(f"{path}: `targets` must be a mapping of `precision` and/or `recall` to numbers")
    for key, value in targets.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise TrainingError(f"{path}: `targets: {key}` must be a number from 0 to 1")
        setattr(config, f"target_{key}", float(value))
    if config.folds < 2:
        raise TrainingError(f"{path}: `folds` must be at least 2")
    if not 0 <= config.ties_within <= 1:
        raise TrainingError(f"{path}: `ties_within` must be a number from 0 to 1")
    return config
