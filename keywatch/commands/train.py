"""keywatch train: the classifier's model rebuilt from the labelled corpora (and reviewers' decisions)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from classifier import ModelError
from classifier import classify as classify_listing
from classifier.evaluate import CorpusError, evaluate, format_comparison
from classifier.model import Model, load_model, model_path_for
from db.training_rows import decided_listings
from keywatch.options import db_option, read_store, watchlist_option


@click.command()
@watchlist_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Training config (default: training.yaml beside the watchlist).",
)
@click.option(
    "--corpus",
    "extra",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also train on this corpus (repeatable; list it in the config to keep it).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the model (default: watchlist.model.json beside the watchlist).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Rebuild the model and compare it with the file; write nothing, exit 1 if they differ.",
)
@click.option(
    "--from-decisions",
    is_flag=True,
    help="Also learn from the store's confirmed and dismissed listings; print eval before and after.",
)
@db_option
def train(watchlist_path, config_path, extra, output, check, from_decisions, db_path):
    """Train the classifier's model from the labelled corpora in the training config.

    The config (training.yaml) lists the corpora to learn from (`train`). The flag thresholds
    are chosen on `threshold_on`, corpora never trained on (the dev split), or, when the config
    names none, on the k-fold out-of-fold predictions. The same corpora and watchlist always
    give the same file.
    Prints the k-fold figures of the rules, the model and the two combined (overall and per
    language), then writes the model (JSON data, not a pickle) beside the watchlist.

        keywatch train
        keywatch train --corpus tests/data/new_train.jsonl
        keywatch train --check
        keywatch train --from-decisions --db data/keywatch.sqlite

    --from-decisions adds every listing reviewers confirmed (labelled with the confirmed
    category, else the one it was flagged with) or dismissed (labelled none) to the training
    set, and prints the k-fold figures and the decided listings' scores before (the current
    model) and after (the new one; in-sample for those listings). `--check` then no longer
    matches: the decisions are not in training.yaml.
    """
    from classifier.train import save_model
    from classifier.train import train as fit
    from classifier.training_config import TrainingError, default_config_path, load_config

    wl = _watchlist(watchlist_path)
    output = output or model_path_for(wl.path)
    try:
        config = load_config(config_path or default_config_path(wl.path))
        config.extra = list(extra)
        if from_decisions:
            if check:
                raise click.ClickException("--check compares with training.yaml alone: not with --from-decisions")
            config.extra_rows = _decided(db_path, wl)
        data = fit(config, wl, progress=lambda message: click.echo(message, err=True))
    except (TrainingError, CorpusError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"trained on {data['training_set']['listings']} listings from {len(config.corpora)} corpora "
        f"(training set {data['training_set']['hash']}); threshold {data['threshold']:g} "
        f"({data['threshold_innocent']:g} with innocent evidence) chosen on "
        f"{data['threshold_set']['path']}"
    )
    click.echo(format_kfold(data["kfold"], config.folds))
    if check:
        try:
            load_model(output)  # a file that is no model says so in one line
        except ModelError as exc:
            raise click.ClickException(str(exc)) from None
        if json.loads(Path(output).read_text(encoding="utf-8")) != data:
            raise click.ClickException(f"{output} is not what the training config rebuilds (run: keywatch train)")
        click.echo(f"{output}: OK (model {data['version']})")
        return
    save_model(data, output)
    click.echo(f"wrote {output} (model {data['version']})")
    if from_decisions:
        _before_after(wl, data, config.extra_rows)


def _watchlist(path):
    """The watchlist, with its current model when that loads: a model of an older format, or a broken
    one, is what `train` is there to replace (it is only read for --from-decisions' "before")."""
    from classifier import WatchlistError, load_watchlist

    try:
        wl = load_watchlist(path)
    except WatchlistError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        wl.model  # noqa: B018 - loads it
    except ModelError:
        wl = wl.with_model(None)
    return wl


def _decided(db_path, wl) -> list[dict]:
    """The store's decided listings whose category the watchlist knows (db/training_rows.py)."""
    with read_store(db_path) as store:
        rows = decided_listings(store)
    known = [r for r in rows if r["category"] == "none" or r["category"] in wl.categories]
    labels = Counter(r["category"] for r in known)
    click.echo(
        f"{len(known)} decided listings from {db_path}: "
        + (", ".join(f"{n} {label}" for label, n in sorted(labels.items())) or "none")
        + (
            f" ({len(rows) - len(known)} with a category this watchlist does not know left out)"
            if len(rows) > len(known)
            else ""
        )
    )
    if not known:
        raise click.ClickException(f"{db_path}: no confirmed or dismissed listings to learn from")
    return known


def _before_after(wl, data: dict, rows: list[dict]) -> None:
    """The k-fold figures and the decided listings' scores, with the model before and after."""
    old, new = wl.model, Model(data)
    click.echo("\nk-fold (combined), before -> after:")
    before = old.kfold.get("combined") if old else None
    after = data["kfold"]["combined"]
    for key in ("precision", "recall", "category", "description_only_recall", "obfuscated_recall"):
        was = f"{before[key]:.3f}" if before and before.get(key) is not None else "-"
        now = f"{after[key]:.3f}" if after.get(key) is not None else "-"
        click.echo(f"  {key:<24} {was} -> {now}")
    click.echo(f"\nthe {len(rows)} decided listings (after: trained on them):")
    runs = [
        ("before: " + ("rules + model" if old else "rules alone"), wl),
        ("after: rules + model", wl.with_model(new)),
    ]
    results = [evaluate(rows, lambda t, d, w=w: classify_listing(t, d, w), wl.categories, name) for name, w in runs]
    click.echo(format_comparison(results))


def _figures(name: str, f: dict) -> str:
    def share(value):
        return "    -" if value is None else f"{value:.3f}"

    return (
        f"  {name:<9} {f['precision']:.3f}     {f['recall']:.3f}  {f['category']:.3f}     "
        f"{share(f['description_only_recall'])}      {share(f['obfuscated_recall'])}     "
        f"{f['hard_negatives_flagged']:>7}  {f['listings']}"
    )


def format_kfold(kfold: dict, folds: int) -> str:
    """The k-fold figures of `train`: rules, model and combined, then the combination per language."""
    head = "            precision recall category descr-only obfuscated hard-neg listings"
    lines = [f"{folds}-fold cross-validation (out-of-fold), flagged-vs-not:", head]
    lines += [_figures(name, figures) for name, figures in kfold.items()]
    lines += ["combined, per language:", head]
    lines += [_figures(lang, figures) for lang, figures in kfold["combined"].get("languages", {}).items()]
    return "\n".join(lines)


commands = [train]
