"""Decide whether a listing sells a vehicle-theft device, and say why.

The decision, per category (watchlist.yaml explains the lists):
1. Collect the matches in title and description (classifier.match).
2. Cancel matches that innocent wording explains, recording what cancelled each one:
   a category exclusion anywhere in the listing ("nintendo" for "game boy"); an innocent
   product context (a "Faraday pouch" title cancels everything, a description context only
   the description's matches and the title's weak device/target words; a title that says
   "read description" is not trusted to name the product); a protective or
   negating cue next to the match ("anti relay", "does not support key programming"), which
   also carries along a list ("blocks relay attacks, jammers and grabbers"). An exclusion or
   context that the seller denies ("not the Nintendo one", "not a garage remote", "Nintendo
   style") cancels nothing: the watchlist's `negations` list those words.
3. Score what is left: a strong term scores its match score (100 exact, the rapidfuzz ratio
   when misspelt; x0.95 in the description); a device word plus a target word scores 70
   (65 when they are in different fields), +2 per extra distinct target word (up to +10);
   a lone device word scores 30 and never flags; target words of a category with no device
   word or term are not evidence at all and are left out of the matches. Each extra distinct strong term
   adds 2, up to 100.
4. The best-scoring category flags the listing if it reaches `flag_threshold`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from classifier.match import CATEGORY_KINDS, FieldScan, Hit, hit_order
from classifier.watchlist import Watchlist, default_watchlist_path, load_watchlist

SENTENCE_BREAKS = set(".!?;:\n•|")
NEGATION_GAP = 1  # "not a real Nintendo": one word may sit between a negation and what it denies
LIST_CARRY = 3  # a cue cancels the next match of a list when it follows within this many words
# What one field may cost: at most this many characters are read (about 30 printed pages; eBay's
# longest descriptions, 500,000 characters of HTML, hold far less text, Amazon's 2,000). A longer
# field is read at its start (3/4 of the cap) and its end (1/4: where keyword stuffing goes); the
# middle is skipped and the classification says so under "truncated" (see _readable).
MAX_FIELD_CHARS = 100_000
# A phrase repeated a thousand times is one piece of evidence: each (phrase, field, reason) is
# listed this many times and the rest counted in "matches_omitted" (all of them are scored).
MAX_MATCHES_PER_TERM = 20


@dataclass(slots=True)
class Match:
    term: str           # the watchlist phrase, as written there
    category: str
    field: str          # "title" | "description"
    start: int          # span in the ORIGINAL field text
    end: int
    text: str           # original[start:end]
    score: float        # 100 = exact; lower = fuzzy (misspelt)
    kind: str = "term"  # term | device | target
    excluded_by: str | None = None


@dataclass
class Classification:
    flagged: bool
    category: str | None
    risk: str | None
    score: int
    matches: list[Match] = field(default_factory=list)
    truncated: dict[str, dict] = field(default_factory=dict)  # field -> {"length", "skipped": [start, end]} past MAX_FIELD_CHARS
    matches_omitted: int = 0  # repeats past MAX_MATCHES_PER_TERM, scored but not listed

    def to_dict(self) -> dict:
        out = {
            "flagged": self.flagged,
            "category": self.category,
            "risk": self.risk,
            "score": self.score,
            "matches": [asdict(m) for m in self.matches],
        }
        if self.truncated:
            out["truncated"] = dict(self.truncated)
        if self.matches_omitted:
            out["matches_omitted"] = self.matches_omitted
        return out


_default: dict[Path, Watchlist] = {}


def default_watchlist() -> Watchlist:
    """The default watchlist, loaded once per path (see default_watchlist_path)."""
    path = default_watchlist_path().resolve()
    if path not in _default:
        _default[path] = load_watchlist(path)
    return _default[path]


def _contains(outer: Hit, inner: Hit) -> bool:
    """A longer strong term swallows any shorter match inside it; weaker words only their own category's."""
    return (outer.first <= inner.first and inner.last <= outer.last
            and (outer.last - outer.first) > (inner.last - inner.first)
            and (outer.entry.kind == "term" or outer.entry.owner == inner.entry.owner))


def _within(inner: Hit, outer: Hit) -> bool:
    return outer.first <= inner.first and inner.last <= outer.last


def _category_hits(scan: FieldScan, evidence: set[str]) -> list[Hit]:
    """Category matches, dropping those that sit inside a longer match (see _contains) and
    target words of categories with no device word or term anywhere (no evidence alone)."""
    hits = [h for h in scan.hits if h.entry.kind in CATEGORY_KINDS
            and (h.entry.kind != "target" or h.entry.owner in evidence)]
    # One sweep over the spans, longest first among those starting at the same word: a hit is
    # inside a longer match when an earlier span reaches at least as far (a term swallows any
    # match, a device/target word only its own category's).
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
            if h.entry.kind == "term":
                term_reach = max(term_reach, last)
            if reach.get(h.entry.owner, -1) < last:
                reach[h.entry.owner] = last
    return [h for h in hits if id(h) not in inside] if inside else hits


def _same_sentence(scan: FieldScan, left: int, right: int) -> bool:
    return not SENTENCE_BREAKS.intersection(scan.gap_text(left, right))


def _by_position(hits: list[Hit]) -> tuple[dict[int, list[Hit]], dict[int, list[Hit]]]:
    """Hits indexed by their first and by their last word, so neighbours are found by position."""
    by_first: dict[int, list[Hit]] = {}
    by_last: dict[int, list[Hit]] = {}
    for h in hits:
        by_first.setdefault(h.first, []).append(h)
        by_last.setdefault(h.last, []).append(h)
    return by_first, by_last


def _negated(scan: FieldScan, hit: Hit, negations: tuple[dict, dict]) -> bool:
    """True when the innocent phrase is denied: "not the Nintendo one", "Nintendo-style case"."""
    by_first, by_last = negations
    for gap in range(NEGATION_GAP + 1):
        for neg in by_last.get(hit.first - gap - 1, ()):
            if neg.entry.owner == "before" and _same_sentence(scan, neg.last, hit.first):
                return True
    for neg in by_first.get(hit.last + 1, ()):
        if neg.entry.owner == "after" and _same_sentence(scan, hit.last, neg.first):
            return True
    return False


def _cue_cancels(scan: FieldScan, hits: list[Hit], watchlist: Watchlist) -> dict[Hit, str]:
    """Matches cancelled by a protective/negating cue next to them, and the list they lead."""
    # a cue word inside a device's name ("GPS blocker") is part of the name, not a cue
    named = {i for h in hits if h.entry.kind == "term" for i in range(h.first, h.last + 1)}
    cues = [c for c in scan.hits if c.entry.kind == "cue"
            and not any(i in named for i in range(c.first, c.last + 1))]
    cancelled: dict[Hit, str] = {}
    if not cues:
        return cancelled
    cues_by_first, cues_by_last = _by_position(cues)
    widest = max(group.window for group in watchlist.cues)
    carry: dict[Hit, str] = {}
    for hit in hits:
        for cue in _cues_near(hit, cues_by_first, cues_by_last, widest):
            group = watchlist.cues[int(cue.entry.owner)]
            if hit.entry.owner in group.exempt:
                continue
            if group.side == "before":
                gap = hit.first - cue.last - 1
                ok = 0 <= gap < group.window and _same_sentence(scan, cue.last, hit.first)
            else:
                gap = cue.first - hit.last - 1
                ok = 0 <= gap < group.window and _same_sentence(scan, hit.last, cue.first)
            if ok:
                cancelled[hit] = f"cue '{scan.norm.original[cue.start:cue.end]}'"
                carry[hit] = group.side
                break
    # "blocks relay attacks, signal jammers and code grabbers": the cue covers the whole list,
    # forwards from a cue before it, backwards from a cue after it
    ordered = sorted(hits, key=lambda h: (h.first, h.last))
    for side, sequence in (("before", ordered), ("after", ordered[::-1])):
        for prev, nxt in zip(sequence, sequence[1:]):
            if carry.get(prev) == side and nxt not in cancelled:
                gap = (nxt.first - prev.last - 1) if side == "before" else (prev.first - nxt.last - 1)
                left, right = (prev.last, nxt.first) if side == "before" else (nxt.last, prev.first)
                if 0 <= gap <= LIST_CARRY and _same_sentence(scan, left, right):
                    cancelled[nxt] = cancelled[prev]
                    carry[nxt] = side
    return cancelled


def _cues_near(hit: Hit, by_first: dict, by_last: dict, widest: int):
    """The cues ending up to `widest` words before the hit or starting up to `widest` after it, in text order."""
    near = []
    for gap in range(widest):
        near += by_last.get(hit.first - gap - 1, ())
        near += by_first.get(hit.last + gap + 1, ())
    return sorted(near, key=hit_order) if len(near) > 1 else near


def classify(title: str, description: str, watchlist: Watchlist | None = None) -> Classification:
    """Classify one listing; see the module docstring for the rules."""
    wl = watchlist if watchlist is not None else default_watchlist()
    matcher = wl.matcher
    truncated = {}
    scans = []
    shifts = {}  # field -> (first position of its end part in the text read, what to add to map it back)
    for name, text in (("title", title or ""), ("description", description or "")):
        readable, skipped = _readable(text)
        if skipped:
            truncated[name] = {"length": len(text), "skipped": list(skipped)}
            shifts[name] = (skipped[0], skipped[1] - skipped[0] - 1)  # minus the joining line break
        scans.append(matcher.scan(readable, name))

    exclusion: dict[str, str] = {}
    # one reason per context (the first place it is found): the decision only asks "which contexts"
    title_contexts: dict[str, tuple[str, object]] = {}
    desc_contexts: dict[str, tuple[str, object]] = {}
    contexts = matcher.contexts
    disguised = any(h.entry.kind == "disguise" for h in scans[0].hits)
    for scan in scans:
        negations = _by_position([h for h in scan.hits if h.entry.kind == "negation"])
        for hit in scan.hits:
            kind = hit.entry.kind
            if kind not in ("exclusion", "context") or (negations[0] and _negated(scan, hit, negations)):
                continue
            if kind == "exclusion":
                exclusion.setdefault(hit.entry.owner, f"exclusion '{scan.norm.original[hit.start:hit.end]}'")
                continue
            ctx = contexts[hit.entry.owner]
            if scan.field == "title":
                target = None if disguised else title_contexts
            elif ctx.where == "listing":  # e.g. a call-out service: its description speaks for the whole listing
                target = title_contexts
            else:
                target = desc_contexts if ctx.where == "anywhere" else None
            if target is not None and ctx.id not in target:
                target[ctx.id] = (f"context {ctx.id} '{scan.norm.original[hit.start:hit.end]}'", ctx)

    matches: list[Match] = []
    recorded: dict[tuple[str, str, str | None], int] = {}
    omitted = 0
    live: dict[str, list[tuple[Hit, Match]]] = {}
    evidence = {h.entry.owner for scan in scans for h in scan.hits if h.entry.kind in ("term", "device")}
    for scan in scans:
        hits = _category_hits(scan, evidence)
        cue_cancelled = _cue_cancels(scan, hits, wl)
        for hit in hits:
            cat = hit.entry.owner
            weak = hit.entry.kind != "term"
            reason = exclusion.get(cat)
            if reason is None:
                for why, ctx in title_contexts.values():
                    if cat in ctx.cancels and (ctx.strong or weak):
                        reason = why
                        break
            if reason is None and (scan.field == "description" or weak):
                for why, ctx in desc_contexts.values():
                    if cat in ctx.cancels and (ctx.strong or weak):
                        reason = why
                        break
            if reason is None:
                reason = cue_cancelled.get(hit)
            start, end = hit.start, hit.end
            if scan.field in shifts and start >= shifts[scan.field][0]:  # in the end part: back to the full field
                start, end = start + shifts[scan.field][1], end + shifts[scan.field][1]
            match = Match(
                term=hit.entry.term,
                category=cat,
                field=scan.field,
                start=start,
                end=end,
                text=scan.norm.original[hit.start:hit.end],
                score=hit.score,
                kind=hit.entry.kind,
                excluded_by=reason,
            )
            # the evidence is the same the hundredth time a seller repeats a phrase: keep the first few
            key = (match.term, match.field, reason)
            seen = recorded.get(key, 0)
            if seen < MAX_MATCHES_PER_TERM:
                recorded[key] = seen + 1
                matches.append(match)
            else:
                omitted += 1
            if reason is None:
                live.setdefault(cat, []).append((hit, match))

    best_cat, best_key = None, (0.0, 0, 0)
    for cat, items in live.items():
        score = _category_score(items)
        strong = len({m.term for _, m in items if m.kind == "term"})
        key = (score, strong, len(items))
        if key > best_key:
            best_cat, best_key = cat, key
    score = int(round(best_key[0]))
    flagged = best_cat is not None and score >= wl.settings["flag_threshold"]
    category = wl.categories[best_cat] if flagged else None
    return Classification(
        flagged=flagged,
        category=category.id if category else None,
        risk=category.risk if category else None,
        score=score,
        matches=matches,
        truncated=truncated,
        matches_omitted=omitted,
    )


def _readable(text: str) -> tuple[str, tuple[int, int] | None]:
    """The part of a field that is read, and the [start, end) span skipped in its middle (None if
    it is read whole). The start and end are joined by a line break, which no phrase crosses."""
    if len(text) <= MAX_FIELD_CHARS:
        return text, None
    head = MAX_FIELD_CHARS * 3 // 4
    tail = MAX_FIELD_CHARS - head
    return text[:head] + "\n" + text[-tail:], (head, len(text) - tail)


def _category_score(items: list[tuple[Hit, Match]]) -> float:
    strong = [m for _, m in items if m.kind == "term"]
    best = 0.0
    for m in strong:
        best = max(best, m.score * (1.0 if m.field == "title" else 0.95))
    devices = [(h, m) for h, m in items if m.kind == "device"]
    targets = sorted(((h, m) for h, m in items if m.kind == "target"), key=lambda t: -t[1].score)
    best_target = {}  # field -> best target score there
    for _, tm in targets:
        best_target.setdefault(tm.field, tm.score)
    for dh, dm in devices:
        best = max(best, 30 * dm.score / 100)
        for field_, top in best_target.items():
            if field_ != dm.field:
                best = max(best, 65 * min(dm.score, top) / 100)
        # the best target in the same field that is not the same words (the same words cannot
        # be both device and target); only targets overlapping the device are skipped
        for th, tm in targets:
            if tm.field != dm.field or _within(dh, th) or _within(th, dh):
                continue
            best = max(best, 70 * min(dm.score, tm.score) / 100)
            break
    if targets:
        best = max(best, 20 * targets[0][1].score / 100)
    if strong:
        best += 2 * (len({m.term for m in strong}) - 1)
    elif devices and best >= 60:
        # several different target words make a device/target combination more certain
        best += min(10, 2 * (len({m.term for _, m in targets}) - 1))
    return min(best, 100.0)


def naive_classify(title: str, description: str, watchlist: Watchlist | None = None) -> Classification:
    """The baseline to beat: case-insensitive substring search for the same strong terms.

    No normalisation, no contexts, exclusions or cues: the category with most terms found wins.
    """
    wl = watchlist if watchlist is not None else default_watchlist()
    terms = _naive_terms(wl)
    text = f"{title or ''}\n{description or ''}".lower()
    counts: dict[str, int] = {}
    for cat, term in terms:
        if term in text:
            counts[cat] = counts.get(cat, 0) + 1
    if not counts:
        return Classification(False, None, None, 0, [])
    cat = max(counts, key=lambda c: counts[c])
    return Classification(True, cat, wl.categories[cat].risk, 100, [])


def _naive_terms(wl: Watchlist) -> list[tuple[str, str]]:
    cached = wl.__dict__.get("_naive_terms")
    if cached is None:
        cached = wl.__dict__["_naive_terms"] = [(c.id, t.lower()) for c in wl.categories.values() for t in c.strong_terms]
    return cached
