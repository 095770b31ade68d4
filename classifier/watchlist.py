"""What a watchlist is: its categories, innocent contexts, cues and settings, as the classifier uses them.

classifier.watchlist_file reads watchlist.yaml into one (load_watchlist), naming the line of each problem.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from common.yamlfile import ConfigError


class WatchlistError(ConfigError):
    """A watchlist that cannot be used; `problems` holds every `path:line: problem` line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    risk: str
    risk_reason: str
    note: str
    terms: tuple[str, ...]
    brands: tuple[str, ...] = ()
    translations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    device_words: tuple[str, ...] = ()
    target_words: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    search_terms: tuple[str, ...] = ()
    makers: tuple[str, ...] = ()
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> functional claims
    line: int = 0

    @property
    def strong_terms(self) -> tuple[str, ...]:
        """Every named device: terms, brands/models and translations."""
        return self.terms + self.brands + tuple(t for ts in self.translations.values() for t in ts)

    @property
    def all_claims(self) -> tuple[str, ...]:
        return tuple(t for ts in self.claims.values() for t in ts)


@dataclass(frozen=True)
class Context:
    """An innocent product whose terms weigh against the categories it names (watchlist.yaml's `contexts`)."""

    id: str
    label: str
    cancels: tuple[str, ...]  # category ids
    terms: tuple[str, ...]
    strong: bool = True
    where: str = (
        "anywhere"  # title: only a title hit counts; listing: a description hit cancels the title's strong terms too
    )
    line: int = 0


@dataclass(frozen=True)
class CueGroup:
    """Protective or negating words that cancel a match next to them."""

    side: str
    window: int
    words: tuple[str, ...]
    exempt: tuple[str, ...] = ()
    line: int = 0


@dataclass
class Watchlist:
    path: Path
    version: str
    categories: dict[str, Category]
    contexts: list[Context]
    cues: list[CueGroup]
    settings: dict
    fuzzy_ignore: frozenset[str] = frozenset()
    disguise_cues: tuple[str, ...] = ()
    # words that deny an innocent reading: "not the Nintendo one", "Nintendo style"
    negations_before: tuple[str, ...] = ()
    negations_after: tuple[str, ...] = ()

    @cached_property
    def matcher(self):
        """The compiled term index, built once per watchlist (see classifier.match)."""
        from classifier.match import Matcher

        return Matcher(self)

    @cached_property
    def widest_cue(self) -> int:
        """How many words the widest cue group reaches (classifier.cues looks no further)."""
        return max(group.window for group in self.cues)

    @cached_property
    def model(self):
        """The model trained for this watchlist (watchlist.model.json beside it), or None: rules only.

        Raises classifier.model.ModelError when the file is there but cannot be used."""
        from classifier.model import load_model, model_path_for

        path = model_path_for(self.path)
        return load_model(path) if path.exists() else None

    def with_model(self, model) -> Watchlist:
        """The same watchlist scored with another model (a freshly trained one, before it is written)."""
        other = copy.copy(self)
        other.__dict__["model"] = model
        return other
