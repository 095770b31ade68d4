"""classify, eval, watchlist and reclassify: the classifier from the command line (train: train.py)."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import click

from classifier import (
    classifier_version,
    jsonl,
    naive_classify,
)
from classifier import (
    classify as classify_listing,
)
from classifier.classify import classify_many
from classifier.evaluate import CorpusError, evaluate, format_comparison, format_evaluation, read_corpus
from common import settings
from keywatch.commands.train import format_kfold
from keywatch.options import db_option, load_watchlist_with_model, open_store, read_store, watchlist_option
from keywatch.terminal import printable


def _listing(line: str, number: int) -> tuple[object, str, str]:
    """(id, title, description) from one JSON Lines input line, or a one-line error."""
    try:
        row = jsonl.loads(line, number)
    except jsonl.LineError as exc:
        raise click.ClickException(str(exc)) from None
    if not isinstance(row, dict):
        raise click.ClickException(f"line {number}: expected a JSON object with id, title and description")
    missing = [k for k in ("id", "title", "description") if k not in row]
    if missing:
        raise click.ClickException(f"line {number}: missing {', '.join(repr(k) for k in missing)}")
    for key in ("title", "description"):
        if row[key] is not None and not isinstance(row[key], str):
            raise click.ClickException(f"line {number}: '{key}' must be a string or null")
    return row["id"], row["title"] or "", row["description"] or ""


@click.command()
@click.argument("file", type=click.File("rb"), default="-")
@watchlist_option
def classify(file, watchlist_path):
    """Classify listings from FILE (JSON Lines; '-' or nothing = stdin).

    Each input line needs `id`, `title` and `description` (other fields are ignored). One
    JSON line is written per input, in the same order:
    {"id", "flagged", "category", "risk", "score", "matches"}. A bad line stops with an error
    naming its line number; lines before it have already been written. Input must be UTF-8 and
    strict JSON (no NaN or Infinity), so the output is always valid JSON. Listings are scored in
    batches of up to 256 lines, so output comes a batch at a time, not line by line.

        keywatch classify listings.jsonl > results.jsonl
    """
    wl = load_watchlist_with_model(watchlist_path)
    ids: deque = deque()
    stopped: list[click.ClickException] = []

    def listings():
        # a bad line ends the input here; the listings before it are still classified and written
        try:
            for number, line in jsonl.lines(file):
                if line.strip():
                    listing_id, title, description = _listing(line, number)
                    ids.append(listing_id)
                    yield title, description
        except jsonl.LineError as exc:
            stopped.append(click.ClickException(str(exc)))
        except click.ClickException as exc:
            stopped.append(exc)

    for result in classify_many(listings(), wl):
        # one complete line per write, so an error never leaves half a line behind
        click.echo(jsonl.dumps({"id": ids.popleft(), **result.to_dict()}))
    if stopped:
        raise stopped[0]


@click.command("eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@watchlist_option
@click.option(
    "--min-precision", type=click.FloatRange(0, 1), help="Fail (exit 1) if flagged-vs-not precision is lower."
)
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Fail (exit 1) if flagged-vs-not recall is lower.")
@click.option(
    "--min-category-accuracy",
    type=click.FloatRange(0, 1),
    help="Fail if fewer true hits than this get the right category.",
)
@click.option(
    "--min-obfuscated-recall", type=click.FloatRange(0, 1), help="Fail if recall on obfuscated listings is lower."
)
@click.option("--baseline", is_flag=True, help="Also list the naive baseline's misses and false flags.")
@click.option(
    "--tfidf-baseline",
    is_flag=True,
    help="Also train the plain TF-IDF baseline on the training set (training.yaml) and score FILES with it.",
)
@click.option(
    "--kfold",
    is_flag=True,
    help="Print 5-fold out-of-fold figures on the training set: rules, model, combined and TF-IDF baseline.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a report.")
@click.option("--quiet", "-q", is_flag=True, help="Leave out the lists of misses and false flags.")
def eval_(
    files,
    watchlist_path,
    min_precision,
    min_recall,
    min_category_accuracy,
    min_obfuscated_recall,
    baseline,
    tfidf_baseline,
    kfold,
    as_json,
    quiet,
):
    """Measure the classifier on labelled corpora FILES (JSON Lines), side by side with its parts.

    Each line: `title`, `description`, `category` (a category id, `none` for innocent, or
    `ambiguous`, which is left out), optionally `id`, `obfuscated`, `description_only` and
    `hard_negative`. For each corpus, one line each for: the classifier as `classify` runs it
    (rules + model), the rules alone, the model alone (its threshold, without the rules'
    say) and the naive baseline (substring search for the same terms); then the classifier's
    precision, recall, F1 and support per category, the confusion between categories, and its
    misses and false flags. Exits 1 when the classifier misses a --min-* threshold on any corpus.

    --tfidf-baseline adds a plain TF-IDF logistic regression (classifier/baseline.py) trained
    now on the training set: the yardstick the model is measured against. A corpus that is in
    the training set is marked: there the model and that baseline have seen every listing.
    --kfold prints the four side by side out-of-fold on the training set (same folds; the rules
    were tuned on that set, so theirs is in-sample; the combination at the model's thresholds when
    training.yaml chooses them on `threshold_on`); it takes minutes.

        keywatch eval tests/data/corpus_heldout.jsonl --min-precision 0.97 --min-recall 0.95
        keywatch eval --kfold
    """
    if not files and not kfold:
        raise click.UsageError("give corpus FILES, or --kfold")
    wl = load_watchlist_with_model(watchlist_path)
    model = wl.model
    config, trained_on = _training_config(wl, needed=tfidf_baseline or kfold)
    runs = [("keywatch classifier", lambda t, d: classify_listing(t, d, wl))]
    if model is not None:
        runs[0] = ("rules + model (combined)", runs[0][1])
        runs += [
            ("rules alone", lambda t, d: classify_listing(t, d, wl, mode="rules")),
            ("model alone", lambda t, d: classify_listing(t, d, wl, mode="model")),
        ]
    runs.append(("naive baseline", lambda t, d: naive_classify(t, d, wl)))
    if tfidf_baseline and files:
        runs.append(("TF-IDF baseline", _tfidf_baseline(config, wl).classify))
    corpora, failures = [], []
    for file in files:
        try:
            rows = read_corpus(file, wl.categories)
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None
        results = [evaluate(rows, fn, wl.categories, name) for name, fn in runs]
        corpora.append((file, results))
        main = results[0]
        for name, value, minimum in (
            ("precision", main.flagged.precision, min_precision),
            ("recall", main.flagged.recall, min_recall),
            ("category accuracy", main.category_accuracy, min_category_accuracy),
            ("obfuscated recall", main.obfuscated_recall, min_obfuscated_recall),
        ):
            if minimum is not None and value < minimum:
                failures.append(f"{name} {value:.3f} < {minimum}" + (f" ({file})" if len(files) > 1 else ""))
    figures = _kfold(config, wl) if kfold else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "watchlist_version": wl.version,
                    "model": model.info if model else None,
                    "corpora": [
                        {
                            "path": str(f),
                            "in_training_set": _in(f, trained_on),
                            "results": [r.to_dict() for r in results],
                        }
                        for f, results in corpora
                    ],
                    **({"kfold": figures} if figures else {}),
                },
                indent=2,
            )
        )
    else:
        about = (
            f"model {model.version} (training set {model.training_set}, threshold {model.threshold:g})"
            if model
            else "no model: rules only"
        )
        click.echo(f"watchlist {wl.path} (version {wl.version}); {about}")
        for file, results in corpora:
            main = results[0]
            seen = " (in the training set: in-sample for the model)" if _in(file, trained_on) else ""
            click.echo(
                f"\n== {file}: {main.scored} listings scored ({main.skipped_ambiguous} ambiguous left out){seen}\n"
            )
            click.echo(format_comparison(results) + "\n")
            shown = [main] + ([results[-1]] if baseline else [])
            click.echo("\n\n".join(format_evaluation(r, details=not quiet) for r in shown))
        if figures:
            click.echo("\n" + format_kfold({k: v for k, v in figures.items() if k != "thresholds"}, config.folds))
    if failures:
        raise click.ClickException("thresholds not met: " + "; ".join(failures))


def _training_config(wl, needed: bool):
    """The training config beside the watchlist, and the corpora it trains on (resolved paths); when
    it is not `needed`, only to mark the corpora the model has seen, so a broken one is no error."""
    from classifier.training_config import TrainingError, default_config_path, load_config

    path = default_config_path(wl.path)
    if not path.exists():
        return None, set()
    try:
        config = load_config(path)
    except TrainingError as exc:
        if needed:
            raise click.ClickException(str(exc)) from None
        return None, set()
    return config, {p.resolve() for p in config.corpora}


def _in(file: Path, trained_on: set) -> bool:
    return Path(file).resolve() in trained_on


def _needs(config):
    if config is None:
        raise click.ClickException(
            "--tfidf-baseline and --kfold need a training config (training.yaml) beside the watchlist"
        )
    return config


def _tfidf_baseline(config, wl):
    from classifier.baseline import TfidfBaseline

    rows = []
    for path in _needs(config).corpora:
        try:
            rows += [r for r in read_corpus(path, wl.categories) if r["category"] != "ambiguous"]
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"training the TF-IDF baseline on {len(rows)} listings", err=True)
    return TfidfBaseline(rows, wl.categories)


def _kfold(config, wl) -> dict:
    from classifier.train import kfold_comparison
    from classifier.training_config import TrainingError

    try:
        return kfold_comparison(_needs(config), wl, progress=lambda message: click.echo(message, err=True))
    except (TrainingError, CorpusError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def watchlist():
    """Inspect and validate watchlist files."""


@watchlist.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def watchlist_check(path):
    """Validate the watchlist at PATH (default: $KEYWATCH_WATCHLIST or ./watchlist.yaml).

    Reports every problem as `file:line: problem`, one per line, and exits 1 if there is any.

        keywatch watchlist check watchlist.yaml
    """
    path = path or settings.watchlist_path()
    wl = load_watchlist_with_model(path)
    terms = sum(len(c.strong_terms) + len(c.device_words) + len(c.target_words) for c in wl.categories.values())
    click.echo(
        f"{path}: OK (version {wl.version}): {len(wl.categories)} categories, {terms} terms, "
        f"{len(wl.contexts)} innocent contexts"
    )


@click.command()
@db_option
@watchlist_option
@click.option("--force", is_flag=True, help="Re-score captures already scored with this watchlist and classifier too.")
@click.option("--dry-run", is_flag=True, help="Report what would change; record nothing.")
def reclassify(db_path, watchlist_path, force, dry_run):
    """Re-score every capture stored when it starts with the current watchlist and report what changed.

    Each new score is appended as a classification of that capture (recording the watchlist
    version and the classifier's, which names the model and its training set) and chained;
    earlier classifications stay. Captures already scored with this watchlist and classifier
    (model included) are skipped unless --force. Captures are scored outside any transaction and
    written in batches of a few hundred, each its own short transaction, so a crawl or the review
    desk writing at the same time never waits long; an interrupted run has recorded whole batches,
    and running it again continues with the captures not yet re-scored. Captures a crawl stores meanwhile are
    classified by that crawl, so the run ends with the captures it found (run it again after a crawl that
    started on an older watchlist).

        keywatch reclassify --db data/keywatch.sqlite
    """
    import db

    wl = load_watchlist_with_model(watchlist_path)
    version = classifier_version(wl)
    counts = {"scored": 0, "skipped": 0, "newly flagged": 0, "no longer flagged": 0, "category changed": 0}
    changes = []
    with read_store(db_path) if dry_run else open_store(db_path) as store:
        after, upto = 0, db.last_capture_id(store)
        while batch := list(db.captures_to_classify(store, after=after, limit=RECLASSIFY_BATCH, upto=upto)):
            after = batch[-1]["capture_id"]
            to_score = []
            for row in batch:
                fields = json.loads(row["fields"] or "{}")
                title, description = fields.get("title") or "", fields.get("description") or ""
                current = (row["watchlist_version"], row["classifier_version"]) == (wl.version, version)
                if not (title or description) or (current and not force):
                    counts["skipped"] += 1
                    continue
                to_score.append((row, title, description))
            scored = []
            results = classify_many(((title, description) for _, title, description in to_score), wl)
            for (row, _, _), result in zip(to_score, results):
                counts["scored"] += 1
                scored.append(
                    (
                        row["capture_id"],
                        {**result.to_dict(), "watchlist_version": wl.version, "classifier_version": version},
                    )
                )
                change = _change(row, result)
                if change:
                    counts[change[0]] += 1
                    changes.append(change[1])
            if scored and not dry_run:
                db.save_classifications(store, scored)
    click.echo(
        ("Would re-score" if dry_run else "Re-scored")
        + f" with watchlist {wl.version}: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    for line in changes:
        click.echo(printable(line))  # listing ids come from the pages


# Captures re-scored per write transaction: a few hundred keep each well under a second of holding the write lock.
RECLASSIFY_BATCH = 250


def _change(row, result) -> tuple[str, str] | None:
    """(what kind of change, the line that reports it) when the new score differs from the capture's last."""
    before = (bool(row["flagged"]), row["category"]) if row["flagged"] is not None else (False, None)
    after = (result.flagged, result.category)
    if after == before:
        return None
    kind = (
        "newly flagged"
        if after[0] and not before[0]
        else "no longer flagged"
        if before[0] and not after[0]
        else "category changed"
    )
    return kind, (
        f"  capture {row['capture_id']} {row['marketplace']}:{row['listing_id']}: "
        f"{before[1] or 'not flagged'} -> {after[1] or 'not flagged'}"
    )


commands = [classify, eval_, watchlist, reclassify]
