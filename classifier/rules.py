"""The rules: weigh the watchlist evidence for and against each category of a listing.

Nothing vetoes. Per category (watchlist.yaml explains the lists, its `settings: weights` the numbers):
1. Collect the matches in title and description (classifier.match).
2. Positive evidence: a named device (term, brand/model, translation) weighs `term` times its
   match score (100 exact, the rapidfuzz ratio when misspelt; x0.95 in the description); a
   maker's name `maker`; a functional claim ("opens and starts without the key") `claim`; a
   device word plus a target word `device_target` (5 less across fields, +2 per further distinct
   target word up to +10); a lone device word 30 and a lone target word 20, which never flag.
   The best piece counts, plus `extra_evidence` for each further distinct term, maker or claim
   (up to +30). Target words of a category with no device word, term, maker or claim are no
   evidence at all and are left out of the matches.
3. Negative evidence, each distinct piece subtracted once: an innocent product (a context) named
   in the title (`title_context`; also a `where: listing` context anywhere) or the description
   (`description_context`); a category exclusion anywhere (`exclusion`, once per category); a
   match next to protective or negating words ("anti relay", "does not support key programming",
   carried along a list: "blocks relay attacks, jammers and grabbers") is no positive evidence
   and weighs `cue` against (at most twice). `strong: false` contexts weigh only against a
   category whose best evidence is a device/target combination. A context or exclusion the seller
   denies ("not the Nintendo one", "Nintendo style") is no evidence (the watchlist's `negations`);
   a title that says "read description" is not trusted to name the innocent product.
4. The category's score is positive minus negative, 0-100; the best category flags the listing
   when it reaches `flag_threshold`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from classifier.cues import by_position, cue_cancels, negated
from classifier.match import CATEGORY_KINDS, STRONG_KINDS, FieldScan, Hit, hit_order
from classifier.watchlist import Watchlist

# What one field may cost: at most this many characters are read (about 30 printed pages; eBay's
# longest descriptions, 500,000 characters of HTML, hold far less text, Amazon's 2,000). A longer
# field is read at its start (3/4 of the cap) and its end (1/4: where keyword stuffing goes); the
# middle is skipped and the classification says so under "truncated" (see _readable).
MAX_FIELD_CHARS: Final = 100_000
# A phrase repeated a thousand times is one piece of evidence: each (phrase, field, reason) is
# listed this many times and the rest counted in "matches_omitted" (all of them are scored).
MAX_MATCHES_PER_TERM: Final = 20
MAX_EXTRA: Final = 30
MAX_CUES: Final = 2


# The hot dataclasses write their __init__ out (init=False): compiled (setup.py), a class's own __init__ is
# native code, where the one @dataclass generates runs in the interpreter, ~3,000 instructions per object.
@dataclass(slots=True, init=False)
class Match:
    term: str  # the watchlist phrase (or, for kind "ngram", the model's n-gram)
    category: str
    field: str  # "title" | "description"
    start: int  # span in the ORIGINAL field text
    end: int
    text: str  # original[start:end]
    # 100 = exact; lower = fuzzy (misspelt); negative evidence: minus its weight, an int as the watchlist gives it
    # (a compiled float field would store -60 as -60.0, changing the stored JSON)
    score: int | float
    kind: str = "term"  # term | maker | claim | device | target; context | exclusion (negative); ngram (model)
    excluded_by: str | None = None  # why this match is not positive evidence

    def __init__(
        self,
        term: str,
        category: str,
        field: str,
        start: int,
        end: int,
        text: str,
        score: int | float,
        kind: str = "term",
        excluded_by: str | None = None,
    ) -> None:
        self.term = term
        self.category = category
        self.field = field
        self.start = start
        self.end = end
        self.text = text
        self.score = score
        self.kind = kind
        self.excluded_by = excluded_by

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict deep-copies every field and cost more than classifying
        return {
            "term": self.term,
            "category": self.category,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": self.score,
            "kind": self.kind,
            "excluded_by": self.excluded_by,
        }


@dataclass(init=False)
class CategoryEvidence:
    positive: float = 0.0
    negative: float = 0.0
    strong: int = 0  # distinct terms, makers and claims
    pairs: int = 0  # device/target combinations
    items: int = 0  # matches that count

    def __init__(
        self, positive: float = 0.0, negative: float = 0.0, strong: int = 0, pairs: int = 0, items: int = 0
    ) -> None:
        self.positive = positive
        self.negative = negative
        self.strong = strong
        self.pairs = pairs
        self.items = items

    @property
    def score(self) -> float:
        return max(0.0, min(100.0, self.positive - self.negative))


@dataclass(init=False)
class RuleResult:
    """What the rules found: evidence per category, every match, and the cost notes."""

    evidence: dict[str, CategoryEvidence]
    matches: list[Match]
    scans: list[FieldScan]
    truncated: dict[str, dict] = field(default_factory=dict)  # field -> {"length", "skipped": [start, end]}
    matches_omitted: int = 0  # repeats past MAX_MATCHES_PER_TERM, scored but not listed
    # field -> (first position of its end part in the text read, what to add to map it back)
    shifts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __init__(
        self,
        evidence: dict[str, CategoryEvidence],
        matches: list[Match],
        scans: list[FieldScan],
        truncated: dict[str, dict] | None = None,
        matches_omitted: int = 0,
        shifts: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.evidence = evidence
        self.matches = matches
        self.scans = scans
        self.truncated = {} if truncated is None else truncated
        self.matches_omitted = matches_omitted
        self.shifts = {} if shifts is None else shifts

    def original_span(self, field_name: str, start: int, end: int) -> tuple[int, int]:
        """A span of the text read (a field past MAX_FIELD_CHARS is read at its start and end) in the full field."""
        shift = self.shifts.get(field_name)
        if shift and start >= shift[0]:
            return start + shift[1], end + shift[1]
        return start, end

    def best(self) -> tuple[str | None, float]:
        """The best-scoring category and its score (ties: more distinct strong evidence, then more matches)."""
        best_cat, best_key = None, (0.0, 0, 0)
        for cat, ev in self.evidence.items():
            key = (ev.score, ev.strong, ev.items)
            if key > best_key:
                best_cat, best_key = cat, key
        return best_cat, best_key[0]


def has_innocent_evidence(rules: RuleResult) -> bool:
    """Whether anything innocent (a context, exclusion or protective cue) weighed against a category
    the listing has evidence for: the model must then reach a higher threshold (classifier.classify)."""
    return any(ev.negative > 0 for ev in rules.evidence.values())


class _Recorder:
    """Collects matches, listing each (phrase, field, reason) at most MAX_MATCHES_PER_TERM times."""

    def __init__(self):
        self.matches: list[Match] = []
        self.seen: dict[tuple, int] = {}
        self.omitted = 0

    def add(self, match: Match) -> None:
        key = (match.term, match.field, match.category, match.excluded_by)
        seen = self.seen.get(key, 0)
        if seen < MAX_MATCHES_PER_TERM:
            self.seen[key] = seen + 1
            self.matches.append(match)
        else:
            self.omitted += 1


def weigh(title: str | None, description: str | None, wl: Watchlist) -> RuleResult:
    """The rules' evidence for one listing; see the module docstring."""
    weights = wl.settings["weights"]
    matcher = wl.matcher
    result = RuleResult({}, [], [])
    for name, text in (("title", title or ""), ("description", description or "")):
        readable, skipped = _readable(text)
        if skipped:
            result.truncated[name] = {"length": len(text), "skipped": list(skipped)}
            result.shifts[name] = (skipped[0], skipped[1] - skipped[0] - 1)  # minus the joining line break
        result.scans.append(matcher.scan(readable, name))
    scans = result.scans

    shifted = result.shifts

    def make(scan: FieldScan, hit: Hit, category: str, score: int | float, kind: str, reason: str | None) -> Match:
        start, end = hit.start, hit.end
        text = scan.norm.original[start:end]
        if shifted:
            start, end = result.original_span(scan.field, start, end)
        return Match(hit.entry.term, category, scan.field, start, end, text, score, kind, reason)

    innocent = _innocent_evidence(scans, wl)
    recorder = _Recorder()
    live: dict[str, list[tuple[Hit, Match]]] = {}
    cued: dict[str, set[str]] = {}
    evidence_owners = scans[0].evidence | scans[1].evidence
    for scan in scans:
        hits = _category_hits(scan, evidence_owners)
        cue_cancelled = cue_cancels(scan, hits, wl) if "cue" in scan.kinds else {}
        innocent_words = _inside_innocent(hits, innocent.covering.get(scan.field, []))
        original, field_name = scan.norm.original, scan.field
        for hit in hits:
            reason = innocent_words.get(hit) or cue_cancelled.get(hit) if innocent_words or cue_cancelled else None
            entry, start, end = hit.entry, hit.start, hit.end
            text = original[start:end]
            if shifted:
                start, end = result.original_span(field_name, start, end)
            match = Match(entry.term, entry.owner, field_name, start, end, text, hit.score, entry.kind, reason)
            recorder.add(match)
            if reason is None:
                live.setdefault(hit.entry.owner, []).append((hit, match))
            elif hit.entry.kind in STRONG_KINDS and hit not in innocent_words:
                cued.setdefault(hit.entry.owner, set()).add(hit.entry.term)

    for cat in wl.categories:  # in the watchlist's order, so ties break the same way every run
        if cat not in live and cat not in cued:
            continue
        ev = _positive(live.get(cat, []), weights)
        strong_best = any(m.kind in STRONG_KINDS for _, m in live.get(cat, []))
        against = []
        for scan, hit, ctx, weight in innocent.contexts:
            if cat in ctx.cancels and (ctx.strong or not strong_best):
                against.append((scan, hit, ctx.id, weight, f"context {ctx.id}"))
        if cat in innocent.exclusions:
            scan, hit = innocent.exclusions[cat]
            against.append((scan, hit, "exclusion", weights["exclusion"], "exclusion"))
        ev.negative = sum(a[3] for a in against) + weights["cue"] * min(MAX_CUES, len(cued.get(cat, ())))
        if ev.positive > 0:  # record what weighed against evidence that was there
            for scan, hit, _, weight, what in against:
                recorder.add(
                    make(scan, hit, cat, -weight, hit.entry.kind, f"innocent {what}: weighs {weight:g} against {cat}")
                )
        result.evidence[cat] = ev
    result.matches, result.matches_omitted = recorder.matches, recorder.omitted
    return result


@dataclass
class _Innocent:
    contexts: list  # (scan, hit, context, weight), the first hit of each context that counts
    exclusions: dict  # category -> (scan, hit) of its first exclusion
    covering: dict  # field -> [(hit, categories)]: every innocent phrase that counts, for _inside_innocent


def _innocent_evidence(scans: list[FieldScan], wl: Watchlist) -> _Innocent:
    weights = wl.settings["weights"]
    contexts = wl.matcher.contexts
    disguised = "disguise" in scans[0].kinds and any(h.entry.kind == "disguise" for h in scans[0].hits)
    found = _Innocent([], {}, {})
    seen: set[str] = set()
    for scan in scans:
        if "context" not in scan.kinds and "exclusion" not in scan.kinds:
            continue
        negations = (
            by_position([h for h in scan.hits if h.entry.kind == "negation"]) if "negation" in scan.kinds else ({}, {})
        )
        covering = found.covering.setdefault(scan.field, [])
        for hit in scan.hits:
            kind = hit.entry.kind
            if kind not in ("exclusion", "context") or (negations[0] and negated(scan, hit, negations)):
                continue
            if kind == "exclusion":
                found.exclusions.setdefault(hit.entry.owner, (scan, hit))
                covering.append((hit, (hit.entry.owner,)))
                continue
            ctx = contexts[hit.entry.owner]
            if scan.field == "title":
                weight = None if disguised else weights["title_context"]
            elif ctx.where == "listing":  # e.g. a call-out service: its description speaks for the whole listing
                weight = weights["title_context"]
            else:
                weight = weights["description_context"] if ctx.where == "anywhere" else None
            if weight is None:
                continue
            covering.append((hit, ctx.cancels))
            if ctx.id not in seen:  # the first place it is found; title before description
                seen.add(ctx.id)
                found.contexts.append((scan, hit, ctx, weight))
    return found


def _inside_innocent(hits: list[Hit], covering: list) -> dict[Hit, str]:
    """Matches whose words are part of an innocent phrase that counts against their category
    ("jammer" in "anti-jammer", "relay" in "starter relay"): the same words cannot be both."""
    if not covering:
        return {}
    spans = sorted(((h.first, -h.last, h, cats) for h, cats in covering), key=lambda t: t[:2])
    ordered = sorted(hits, key=hit_order)
    inside: dict[Hit, str] = {}
    reach: dict[str, tuple[int, Hit]] = {}
    i = 0
    for hit in ordered:
        while i < len(spans) and spans[i][0] <= hit.first:
            _, neg_last, innocent, cats = spans[i]
            for cat in cats:
                if reach.get(cat, (-1, None))[0] < -neg_last:
                    reach[cat] = (-neg_last, innocent)
            i += 1
        last, innocent = reach.get(hit.entry.owner, (-1, None))
        if last >= hit.last and innocent is not None:
            inside[hit] = f"part of innocent {innocent.entry.kind} '{innocent.entry.term}'"
    return inside


def _positive(items: list[tuple[Hit, Match]], weights: dict) -> CategoryEvidence:
    ev = CategoryEvidence()
    best = 0.0
    strong_terms = set()
    for _, m in items:
        if m.kind in STRONG_KINDS:
            value = weights[m.kind] * m.score / 100
            if m.kind == "term" and m.field == "description":
                value *= 0.95
            best = max(best, value)
            strong_terms.add(m.term)
    devices = [(h, m) for h, m in items if m.kind == "device"]
    targets = [(h, m) for h, m in items if m.kind == "target"]
    if len(targets) > 1:
        targets.sort(key=lambda t: -t[1].score)
    best_target: dict[str, float] = {}  # field -> best target score there
    for _, tm in targets:
        best_target.setdefault(tm.field, tm.score)
    pair = weights["device_target"]
    pair_best = 0.0
    for dh, dm in devices:
        best = max(best, 30 * dm.score / 100)
        for field_, top in best_target.items():
            if field_ != dm.field:
                pair_best = max(pair_best, (pair - 5) * min(dm.score, top) / 100)
        # the best target in the same field that is not the same words (the same words cannot
        # be both device and target); only targets overlapping the device are skipped
        for th, tm in targets:
            if tm.field != dm.field or _within(dh, th) or _within(th, dh):
                continue
            pair_best = max(pair_best, pair * min(dm.score, tm.score) / 100)
            break
    if targets:
        best = max(best, 20 * targets[0][1].score / 100)
    if pair_best:
        ev.pairs = 1
        # several different target words make a device/target combination more certain
        pair_best += min(10, 2 * (len({m.term for _, m in targets}) - 1))
    ev.strong = len(strong_terms)
    ev.items = len(items)
    ev.positive = max(best, pair_best) + min(MAX_EXTRA, weights["extra_evidence"] * max(0, len(strong_terms) - 1))
    return ev


def _within(inner: Hit, outer: Hit) -> bool:
    return outer.first <= inner.first and inner.last <= outer.last


def _category_hits(scan: FieldScan, evidence: set[str]) -> list[Hit]:
    """Category matches, dropping those that sit inside a longer match and target words of
    categories with no other evidence anywhere (no evidence alone)."""
    hits = [
        h
        for h in scan.hits
        if h.entry.kind in CATEGORY_KINDS and (h.entry.kind != "target" or h.entry.owner in evidence)
    ]
    if len(hits) < 2:  # nothing for a match to sit inside
        return hits
    # One sweep over the spans, longest first among those starting at the same word: a hit is
    # inside a longer match when an earlier span reaches at least as far (a term, maker or claim
    # swallows any match, a device/target word only its own category's).
    by_span: dict[tuple[int, int], list[Hit]] = {}
    for h in hits:
        by_span.setdefault((h.first, -h.last), []).append(h)
    term_reach = -1
    reach: dict[str, int] = {}
    inside: set[int] = set()
    for first, neg_last in sorted(by_span):
        last = -neg_last
        group = by_span[(first, neg_last)]
        for h in group:
            if term_reach >= last or reach.get(h.entry.owner, -1) >= last:
                inside.add(id(h))
        for h in group:
            if h.entry.kind in STRONG_KINDS:
                term_reach = max(term_reach, last)
            if reach.get(h.entry.owner, -1) < last:
                reach[h.entry.owner] = last
    return [h for h in hits if id(h) not in inside] if inside else hits


def _readable(text: str) -> tuple[str, tuple[int, int] | None]:
    """The part of a field that is read, and the [start, end) span skipped in its middle (None if
    it is read whole). The start and end are joined by a line break, which no phrase crosses."""
    if len(text) <= MAX_FIELD_CHARS:
        return text, None
    head = MAX_FIELD_CHARS * 3 // 4
    tail = MAX_FIELD_CHARS - head
    return text[:head] + "\n" + text[-tail:], (head, len(text) - tail)
