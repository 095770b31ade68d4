"""classify, eval, watchlist and reclassify: the classifier from the command line."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click

from classifier import WatchlistError, classify as classify_listing, jsonl, load_watchlist, naive_classify
from classifier.evaluate import CorpusError, evaluate, format_evaluation, read_corpus
from keywatch.options import db_option, watchlist_option


def _load(path: Path):
    try:
        return load_watchlist(path)
    except WatchlistError as exc:
        raise click.ClickException(str(exc)) from None


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
    strict JSON (no NaN or Infinity), so the output is always valid JSON.

        keywatch classify listings.jsonl > results.jsonl
    """
    wl = _load(watchlist_path)
    try:
        for number, line in jsonl.lines(file):
            if not line.strip():
                continue
            listing_id, title, description = _listing(line, number)
            result = classify_listing(title, description, wl).to_dict()
            # one complete line per write, so an error never leaves half a line behind
            click.echo(jsonl.dumps({"id": listing_id, **result}))
    except jsonl.LineError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@watchlist_option
@click.option("--min-precision", type=click.FloatRange(0, 1), help="Fail (exit 1) if flagged-vs-not precision is lower.")
@click.option("--min-recall", type=click.FloatRange(0, 1), help="Fail (exit 1) if flagged-vs-not recall is lower.")
@click.option("--min-category-accuracy", type=click.FloatRange(0, 1),
              help="Fail if fewer true hits than this get the right category.")
@click.option("--min-obfuscated-recall", type=click.FloatRange(0, 1), help="Fail if recall on obfuscated listings is lower.")
@click.option("--baseline", is_flag=True, help="Also score the naive baseline (substring search for the same terms).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of a report.")
@click.option("--quiet", "-q", is_flag=True, help="Leave out the lists of misses and false flags.")
def eval_(file, watchlist_path, min_precision, min_recall, min_category_accuracy, min_obfuscated_recall,
          baseline, as_json, quiet):
    """Measure the classifier on a labelled corpus FILE (JSON Lines).

    Each line: `title`, `description`, `category` (a category id, `none` for innocent, or
    `ambiguous`, which is left out), optionally `id` and `obfuscated`. Prints precision, recall,
    F1 and support for flagged-vs-not and per category, the confusion between categories, and
    the misses and false flags. Exits 1 when a --min-* threshold is not met.

        keywatch eval tests/data/corpus_heldout.jsonl --min-precision 0.97 --min-recall 0.95 --baseline
    """
    wl = _load(watchlist_path)
    try:
        rows = read_corpus(file, wl.categories)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    results = [evaluate(rows, lambda t, d: classify_listing(t, d, wl), wl.categories, "keywatch classifier")]
    if baseline:
        results.append(evaluate(rows, lambda t, d: naive_classify(t, d, wl), wl.categories, "naive baseline"))
    if as_json:
        click.echo(json.dumps({"watchlist_version": wl.version, "results": [r.to_dict() for r in results]}, indent=2))
    else:
        click.echo(f"watchlist {wl.path} (version {wl.version})\n")
        click.echo("\n\n".join(format_evaluation(r, details=not quiet) for r in results))
    main = results[0]
    failures = []
    for name, value, minimum in (
        ("precision", main.flagged.precision, min_precision),
        ("recall", main.flagged.recall, min_recall),
        ("category accuracy", main.category_accuracy, min_category_accuracy),
        ("obfuscated recall", main.obfuscated_recall, min_obfuscated_recall),
    ):
        if minimum is not None and value < minimum:
            failures.append(f"{name} {value:.3f} < {minimum}")
    if failures:
        raise click.ClickException("thresholds not met: " + "; ".join(failures))


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
    from keywatch.paths import default_watchlist_path

    path = path or default_watchlist_path()
    wl = _load(path)
    terms = sum(len(c.strong_terms) + len(c.device_words) + len(c.target_words) for c in wl.categories.values())
    click.echo(f"{path}: OK (version {wl.version}): {len(wl.categories)} categories, {terms} terms, "
               f"{len(wl.contexts)} innocent contexts")


@click.command()
@db_option
@watchlist_option
@click.option("--force", is_flag=True, help="Re-score captures already scored with this watchlist and classifier too.")
@click.option("--dry-run", is_flag=True, help="Report what would change; record nothing.")
def reclassify(db_path, watchlist_path, force, dry_run):
    """Re-score every stored capture with the current watchlist and report what changed.

    Each new score is appended as a classification of that capture (recording the watchlist and
    classifier versions) and chained; earlier classifications stay. Captures already scored with
    this watchlist version and classifier are skipped unless --force.

        keywatch reclassify --db data/keywatch.sqlite
    """
    import db
    from classifier import __version__ as classifier_version

    wl = _load(watchlist_path)
    try:
        store = db.connect(db_path, create=False)
    except db.StoreNotFound as error:
        raise click.ClickException(str(error)) from None
    counts = {"scored": 0, "skipped": 0, "newly flagged": 0, "no longer flagged": 0, "category changed": 0}
    changes = []
    with contextlib.nullcontext() if dry_run else db.write_transaction(store):  # all re-scored, or none
        for row in list(db.captures_to_classify(store)):
            fields = json.loads(row["fields"] or "{}")
            title, description = fields.get("title") or "", fields.get("description") or ""
            current = (row["watchlist_version"], row["classifier_version"]) == (wl.version, classifier_version)
            if not (title or description) or (current and not force):
                counts["skipped"] += 1
                continue
            result = classify_listing(title, description, wl)
            counts["scored"] += 1
            before = (bool(row["flagged"]), row["category"]) if row["flagged"] is not None else (False, None)
            after = (result.flagged, result.category)
            if after != before:
                change = ("newly flagged" if after[0] and not before[0] else
                          "no longer flagged" if before[0] and not after[0] else "category changed")
                counts[change] += 1
                changes.append(f"  capture {row['capture_id']} {row['marketplace']}:{row['listing_id']}: "
                               f"{before[1] or 'not flagged'} -> {after[1] or 'not flagged'}")
            if not dry_run:
                db.save_classification(store, row["capture_id"], {
                    **result.to_dict(), "watchlist_version": wl.version, "classifier_version": classifier_version})
    click.echo(("Would re-score" if dry_run else "Re-scored") + f" with watchlist {wl.version}: "
               + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for line in changes:
        click.echo(line)


commands = [classify, eval_, watchlist, reclassify]
