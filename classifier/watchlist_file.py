"""Read and validate watchlist.yaml into a Watchlist (classifier.watchlist), reporting every problem with its line.

Validation walks PyYAML's node tree (`yaml.compose`) rather than the loaded Python objects,
because only nodes remember where they came from; that is what lets a reviewer's typo be
reported as `watchlist.yaml:42: ...` instead of a KeyError.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from classifier.normalise import normalise, tokens
from classifier.watchlist import (
    Category,
    Context,
    CueGroup,
    Watchlist,
    WatchlistError,
)
from common import settings
from common.yamlfile import ConfigError, compose_yaml

RISKS = ("high", "medium", "low")
LANGUAGES = ("de", "fr", "es", "pl", "ro", "it", "nl", "ru", "pt", "sv", "cs", "hu", "tr", "uk", "lt", "lv", "et")
# Languages with named devices (translations) but no claims yet: the claims of the languages above were checked
# against listings by several writers; these have device names from public sources only (docs/classifier.md).
TERM_ONLY_LANGUAGES = ("zh", "ja", "ko", "ar", "he", "hi", "fa")
SIDES = ("before", "after")
WHERE = ("anywhere", "title", "listing")
CLAIM_LANGUAGES = ("en",) + LANGUAGES
DEFAULT_SETTINGS = {"flag_threshold": 60, "fuzzy_cutoff": 86, "fuzzy_min_length": 6}
# How much each kind of evidence weighs (see watchlist.yaml's settings: weights and classifier.classify).
DEFAULT_WEIGHTS = {
    "term": 100,
    "maker": 70,
    "claim": 65,
    "device_target": 70,
    "extra_evidence": 10,
    "title_context": 60,
    "description_context": 35,
    "exclusion": 35,
    "cue": 20,
}


class _Checker:
    def __init__(self, path: Path):
        self.path = path
        self.problems: list[tuple[int, str]] = []

    def problem(self, node, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append((line, message))

    def mapping(self, node, what: str, required=(), optional=()) -> dict[str, tuple]:
        """{key: (key_node, value_node)}; reports non-mappings, duplicate, missing and unknown keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping, not {_kind(node)}")
            return {}
        out: dict[str, tuple] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, f"{what}: keys must be plain strings")
                continue
            key = key_node.value
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.problem(key_node, f"{what}: duplicate key '{key}' (first defined on line {first})")
                continue
            out[key] = (key_node, value_node)
        allowed = set(required) | set(optional)
        if allowed:
            for key, (key_node, _) in out.items():
                if key not in allowed:
                    self.problem(
                        key_node, f"{what}: unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})"
                    )
        for key in required:
            if key not in out:
                self.problem(node, f"{what}: missing required key '{key}'")
        return out

    def string(self, node, what: str, choices=None) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
            self.problem(node, f"{what} must be a non-empty string, not {_kind(node)}")
            return None
        if choices and node.value not in choices:
            self.problem(node, f"{what} must be one of {', '.join(choices)}, not '{node.value}'")
            return None
        return node.value

    def number(self, node, what: str, low: float, high: float, integer=False):
        tags = ("tag:yaml.org,2002:int",) if integer else ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            self.problem(node, f"{what} must be {'an integer' if integer else 'a number'}, not {_kind(node)}")
            return None
        value = int(node.value) if node.tag.endswith("int") else float(node.value)
        if not low <= value <= high:
            self.problem(node, f"{what} must be between {low} and {high}, not {value}")
            return None
        return value

    def boolean(self, node, what: str):
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.problem(node, f"{what} must be true or false, not {_kind(node)}")
            return None
        return node.value.lower() in ("true", "yes", "on")

    def items(self, node, what: str) -> list:
        """The items of a list node; a problem, and none, when it is not a list."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list, not {_kind(node)}")
            return []
        return node.value

    def strings(self, node, what: str, allow_empty=False) -> list[tuple[str, int]]:
        """A list of non-empty strings as (value, line); each bad item is reported."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list of strings, not {_kind(node)}")
            return []
        if not node.value and not allow_empty:
            self.problem(node, f"{what} must not be empty")
        out = []
        for item in node.value:
            value = self.string(item, f"{what} item")
            if value is None:
                continue
            if not tokens(normalise(value)):
                self.problem(item, f"{what} item '{value}' has no letters or digits to match")
                continue
            out.append((value, item.start_mark.line + 1))
        return out


def _kind(node) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "empty"
    kind = node.tag.rsplit(":", 1)[-1]
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} ({node.value!r})"


def _key(term: str) -> str:
    return "".join(tok for tok, _, _ in tokens(normalise(term)))


CATEGORY_KEYS_REQUIRED = ("label", "risk", "risk_reason", "note", "terms", "search_terms")
CATEGORY_KEYS_OPTIONAL = ("brands", "makers", "claims", "translations", "device_words", "target_words", "exclusions")


def _category(check: _Checker, cid: str, key_node, node) -> Category | None:
    where = f"category '{cid}'"
    if not cid.replace("_", "").isalnum() or not cid[:1].isalpha() or cid != cid.lower():
        check.problem(key_node, f"{where}: ids must be lowercase letters, digits and underscores")
    m = check.mapping(node, where, CATEGORY_KEYS_REQUIRED, CATEGORY_KEYS_OPTIONAL)
    if not m:
        return None
    text = {k: check.string(m[k][1], f"{where}: {k}") for k in ("label", "risk_reason", "note") if k in m}
    risk = check.string(m["risk"][1], f"{where}: risk", RISKS) if "risk" in m else None
    lists = {}
    for k in ("terms", "search_terms", "brands", "makers", "device_words", "target_words", "exclusions"):
        lists[k] = check.strings(m[k][1], f"{where}: {k}", allow_empty=k != "terms") if k in m else []
    translations = _by_language(check, m, "translations", where, LANGUAGES + TERM_ONLY_LANGUAGES)
    claims = _by_language(check, m, "claims", where, CLAIM_LANGUAGES)
    if bool(lists["device_words"]) != bool(lists["target_words"]):
        check.problem(node, f"{where}: device_words and target_words only work together: give both or neither")
    # the same word twice in one category is a copy-paste slip; report where it was first seen
    seen: dict[tuple[str, str], int] = {}
    strong_lists = (
        [("terms", lists["terms"]), ("brands", lists["brands"]), ("makers", lists["makers"])]
        + [(f"translations.{lang}", items) for lang, items in translations.items()]
        + [(f"claims.{lang}", items) for lang, items in claims.items()]
    )
    for kind, items in strong_lists + [
        ("device_words", lists["device_words"]),
        ("target_words", lists["target_words"]),
        ("exclusions", lists["exclusions"]),
    ]:
        group = "strong" if kind in dict(strong_lists) else kind
        for value, line in items:
            key = (group, _key(value))
            if key in seen:
                check.problems.append(
                    (
                        line,
                        f"{where}: '{value}' repeats a {group} term from line {seen[key]} "
                        "(same words after normalisation)",
                    )
                )
            else:
                seen[key] = line
    label, reason, note = text.get("label"), text.get("risk_reason"), text.get("note")
    if label is None or reason is None or note is None or risk is None:
        return None
    return Category(
        id=cid,
        label=label,
        risk=risk,
        risk_reason=reason,
        note=note,
        terms=tuple(v for v, _ in lists["terms"]),
        brands=tuple(v for v, _ in lists["brands"]),
        translations={lang: tuple(v for v, _ in items) for lang, items in translations.items()},
        device_words=tuple(v for v, _ in lists["device_words"]),
        target_words=tuple(v for v, _ in lists["target_words"]),
        exclusions=tuple(v for v, _ in lists["exclusions"]),
        search_terms=tuple(v for v, _ in lists["search_terms"]),
        makers=tuple(v for v, _ in lists["makers"]),
        claims={lang: tuple(v for v, _ in items) for lang, items in claims.items()},
        line=key_node.start_mark.line + 1,
    )


def _by_language(check: _Checker, m: dict, key: str, where: str, languages) -> dict[str, list[tuple[str, int]]]:
    """A `language: [phrases]` mapping (translations, claims), each language checked."""
    out: dict[str, list[tuple[str, int]]] = {}
    if key in m:
        for lang, (lang_node, value) in check.mapping(m[key][1], f"{where}: {key}").items():
            if lang not in languages:
                check.problem(
                    lang_node, f"{where}: {key}: unknown language '{lang}' (expected one of: {', '.join(languages)})"
                )
            out[lang] = check.strings(value, f"{where}: {key}: {lang}")
    return out


def _category_refs(check: _Checker, node, what: str, known: set[str], allow_all: bool) -> tuple[str, ...]:
    if allow_all and isinstance(node, yaml.ScalarNode) and node.value == "all":
        return tuple(sorted(known))
    refs = []
    for value, line in check.strings(node, what, allow_empty=not allow_all):
        if value not in known:
            check.problems.append((line, f"{what}: unknown category id '{value}' (known: {', '.join(sorted(known))})"))
        refs.append(value)
    return tuple(refs)


def _check_collisions(check: _Checker, categories: dict[str, Category], lines: dict) -> None:
    """A strong term in two categories would make the category a coin toss."""
    owner: dict[str, tuple[str, str]] = {}
    for cat in categories.values():
        for term in cat.strong_terms + cat.makers + cat.all_claims:
            key = _key(term)
            if key in owner and owner[key][0] != cat.id:
                other, other_term = owner[key]
                check.problems.append(
                    (
                        lines.get((cat.id, term), cat.line),
                        f"category '{cat.id}': term '{term}' is also a term of category '{other}' ('{other_term}')",
                    )
                )
            owner.setdefault(key, (cat.id, term))


def _term_lines(node) -> dict:
    """(category id, term) -> line, for collision messages."""
    out: dict[tuple[str, str], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key_node, value in node.value:
        if not isinstance(value, yaml.MappingNode):
            continue

        def walk(n, category=key_node.value):
            if isinstance(n, yaml.ScalarNode):
                out.setdefault((category, n.value), n.start_mark.line + 1)
            elif isinstance(n, yaml.SequenceNode):
                for item in n.value:
                    walk(item)
            elif isinstance(n, yaml.MappingNode):
                for _, v in n.value:
                    walk(v)

        for k, v in value.value:
            if k.value in ("terms", "brands", "makers", "claims", "translations"):
                walk(v)
    return out


def _contexts(check: _Checker, node, known: set[str]) -> list[Context]:
    contexts: list[Context] = []
    seen_ids: dict[str, int] = {}
    for item in check.items(node, "contexts"):
        m = check.mapping(item, "context", ("id", "label", "cancels", "terms"), ("strong", "where"))
        if not m:
            continue
        context_id = check.string(m["id"][1], "context: id") if "id" in m else None
        what = f"context '{context_id}'"
        if context_id is not None:
            if context_id in seen_ids:
                first = seen_ids[context_id]
                check.problem(m["id"][1], f"{what}: duplicate id (first defined on line {first})")
            seen_ids.setdefault(context_id, m["id"][1].start_mark.line + 1)
        label = check.string(m["label"][1], f"{what}: label") if "label" in m else None
        cancels = _category_refs(check, m["cancels"][1], f"{what}: cancels", known, True) if "cancels" in m else ()
        terms = check.strings(m["terms"][1], f"{what}: terms") if "terms" in m else []
        strong = check.boolean(m["strong"][1], f"{what}: strong") if "strong" in m else True
        scope = check.string(m["where"][1], f"{what}: where", WHERE) if "where" in m else "anywhere"
        if context_id is not None and label is not None and strong is not None and scope is not None and terms:
            line = item.start_mark.line + 1
            contexts.append(Context(context_id, label, cancels, tuple(v for v, _ in terms), strong, scope, line))
    return contexts


def _cues(check: _Checker, node, known: set[str]) -> list[CueGroup]:
    cues: list[CueGroup] = []
    for item in check.items(node, "cues"):
        m = check.mapping(item, "cue group", ("side", "window", "words"), ("except",))
        if not m:
            continue
        side = check.string(m["side"][1], "cue group: side", SIDES) if "side" in m else None
        window = check.number(m["window"][1], "cue group: window", 1, 10, integer=True) if "window" in m else None
        words = check.strings(m["words"][1], "cue group: words") if "words" in m else []
        exempt = _category_refs(check, m["except"][1], "cue group: except", known, False) if "except" in m else ()
        if side and window and words:
            cues.append(CueGroup(side, window, tuple(v for v, _ in words), exempt, item.start_mark.line + 1))
    return cues


def parse_watchlist(text: str, path: Path) -> Watchlist:
    """Validate watchlist YAML text; raise WatchlistError listing every problem."""
    check = _Checker(path)
    try:
        root = compose_yaml(text, path)
    except ConfigError as error:
        raise WatchlistError([str(error)]) from None
    if root is None:
        raise WatchlistError([f"{path}:1: the watchlist is empty"])

    top = check.mapping(
        root, "watchlist", ("categories",), ("settings", "cues", "contexts", "disguise_cues", "negations")
    )

    settings: dict[str, Any] = dict(DEFAULT_SETTINGS)
    weights = dict(DEFAULT_WEIGHTS)
    settings["weights"] = weights
    fuzzy_ignore: set[str] = set()
    if "settings" in top:
        s = check.mapping(
            top["settings"][1],
            "settings",
            (),
            ("flag_threshold", "fuzzy_cutoff", "fuzzy_min_length", "fuzzy_ignore", "weights"),
        )
        if "flag_threshold" in s:
            settings["flag_threshold"] = check.number(s["flag_threshold"][1], "settings: flag_threshold", 1, 100)
        if "fuzzy_cutoff" in s:
            settings["fuzzy_cutoff"] = check.number(s["fuzzy_cutoff"][1], "settings: fuzzy_cutoff", 50, 100)
        if "fuzzy_min_length" in s:
            settings["fuzzy_min_length"] = check.number(
                s["fuzzy_min_length"][1], "settings: fuzzy_min_length", 3, 30, integer=True
            )
        if "weights" in s:
            given = check.mapping(s["weights"][1], "settings: weights", (), tuple(DEFAULT_WEIGHTS))
            for name, (_, value) in given.items():
                weight = check.number(value, f"settings: weights: {name}", 0, 200)
                if weight is not None:
                    weights[name] = weight
        if "fuzzy_ignore" in s:
            fuzzy_ignore = {
                v.lower() for v, _ in check.strings(s["fuzzy_ignore"][1], "settings: fuzzy_ignore", allow_empty=True)
            }

    categories: dict[str, Category] = {}
    if "categories" in top:
        cat_nodes = check.mapping(top["categories"][1], "categories")
        if isinstance(top["categories"][1], yaml.MappingNode) and not cat_nodes:
            check.problem(top["categories"][1], "categories must define at least one category")
        for cid, (key_node, node) in cat_nodes.items():
            cat = _category(check, cid, key_node, node)
            if cat is not None:
                categories[cid] = cat
        _check_collisions(check, categories, _term_lines(top["categories"][1]))
    known = set(cat_nodes) if "categories" in top else set()

    contexts = _contexts(check, top["contexts"][1], known) if "contexts" in top else []
    cues = _cues(check, top["cues"][1], known) if "cues" in top else []

    disguise = (
        check.strings(top["disguise_cues"][1], "disguise_cues", allow_empty=True) if "disguise_cues" in top else []
    )
    negations: dict[str, list] = {side: [] for side in SIDES}
    if "negations" in top:
        for side, (_, value) in check.mapping(top["negations"][1], "negations", (), SIDES).items():
            negations[side] = check.strings(value, f"negations: {side}", allow_empty=True)

    if check.problems:
        raise WatchlistError([f"{path}:{line}: {message}" for line, message in sorted(check.problems)])
    return Watchlist(
        path=path,
        version="",
        categories=categories,
        contexts=contexts,
        cues=cues,
        settings=settings,
        fuzzy_ignore=frozenset(fuzzy_ignore),
        disguise_cues=tuple(v for v, _ in disguise),
        negations_before=tuple(v for v, _ in negations["before"]),
        negations_after=tuple(v for v, _ in negations["after"]),
    )


def load_watchlist(path: str | os.PathLike | None = None) -> Watchlist:
    """Read, validate and return the watchlist at `path` (default: common.settings.watchlist_path)."""
    path = Path(path) if path is not None else settings.watchlist_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WatchlistError([f"{path}: cannot read the watchlist: {exc.strerror or exc}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WatchlistError([f"{path}:{line}: not UTF-8 text"]) from None
    watchlist = parse_watchlist(text, path)
    watchlist.version = hashlib.sha256(data).hexdigest()[:16]
    return watchlist


def shared_watchlist(path: str | os.PathLike) -> Watchlist:
    """load_watchlist, but one compiled copy per file version per process (a crawl needs it in several places)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return load_watchlist(path)  # raises the usual one-line error
    return _shared(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _shared(path: str, mtime_ns: int, size: int) -> Watchlist:
    return load_watchlist(path)
