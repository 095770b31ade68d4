"""Does a spider look broken? Checks of one crawl run against the spider's earlier finished runs.

Spidermon's idea, in a few plain functions: a crawl that suddenly finds nothing, whose pages mostly fail to
parse, or whose items suddenly lack a field, is a failure to report loudly, not a quiet success. The facts come
from the evidence store (db/rechecks.py); these functions only judge them, so they are easy to test.
"""

from dataclasses import dataclass, field
from typing import Any

# Fields whose sudden absence on most captures means the site changed its markup.
WATCHED_FIELDS = ("title", "price", "listing_id")
# "Most items": more than this share of a run's listing captures.
MISSING_SHARE = 0.5
# Fewer captures than this say too little about a field to call the spider broken.
MIN_CAPTURES = 5
MIN_PARSE_ERRORS = 3


@dataclass
class RunFacts:
    """What the checks need to know about one spider run (read from crawl_runs and captures)."""

    spider: str
    run_id: int | None
    finish_reason: str
    stats: dict[str, Any] = field(default_factory=dict)
    captures: int = 0  # listing captures stored, re-checks left out
    missing: dict[str, int] = field(default_factory=dict)

    def stat(self, key: str) -> int:
        return int(self.stats.get(key) or 0)

    @property
    def cards(self) -> int:
        return self.stat("keywatch/cards_screened")

    def missing_share(self, name: str) -> float:
        return self.missing.get(name, 0) / self.captures if self.captures else 0.0


def accounting(stats: dict[str, Any]) -> dict[str, Any]:
    """Where every page a run fetched for a listing went: fetched = stored + skipped + not stored + lost.

    `skipped` are item pages that were no listing page (a robot check, a page off the marketplace), `not_stored`
    items an error kept from the store (logged), `lost` pages neither stored nor counted anywhere: a bug. Re-checks
    are accounted the same way; a re-check sent off the marketplace is skipped.
    """

    def n(key):
        return int(stats.get(key) or 0)

    skipped = {
        k.rsplit("/", 1)[1]: int(v) for k, v in sorted(stats.items()) if k.startswith("keywatch/item_pages_skipped/")
    }
    rechecks = {k.rsplit("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("keywatch/rechecks/")}
    if rechecks.get("off_site"):
        skipped["recheck_off_site"] = rechecks.pop("off_site")
    fetched = n("keywatch/item_pages") + sum(rechecks.values()) + skipped.get("recheck_off_site", 0)
    stored = n("keywatch/items_stored") + n("keywatch/rechecks_stored")
    not_stored = n("keywatch/items_not_stored") + n("keywatch/rechecks_not_stored")
    return {
        "fetched": fetched,
        "stored": stored,
        "skipped": skipped,
        "not_stored": not_stored,
        "lost": max(fetched - stored - sum(skipped.values()) - not_stored, 0),
        "unreadable_fields": {
            k.rsplit("/", 1)[1]: int(v) for k, v in sorted(stats.items()) if k.startswith("keywatch/field_problems/")
        },
    }


@dataclass(frozen=True)
class Problem:
    spider: str
    kind: str  # interrupted | failed | items_lost | blocked | no_results | parse_errors | field_missing
    message: str

    @property
    def broken(self) -> bool:
        """An interruption is resumable; every other problem means the spider needs a look."""
        return self.kind != "interrupted"

    def __str__(self):
        return f"{self.spider}: {self.message}"


def check_run(current: RunFacts, history: list[RunFacts]) -> list[Problem]:
    """Everything that looks wrong with `current`, judged against `history`: earlier finished runs of the same
    spider, newest first. The baseline for a check is the newest run in which that thing still worked, so a
    spider that stays broken keeps failing every week instead of only the first."""
    spider = current.spider
    if current.finish_reason == "shutdown":
        return [Problem(spider, "interrupted", "interrupted before it finished (run with --resume to continue)")]
    problems = []
    if current.finish_reason != "finished":
        problems.append(Problem(spider, "failed", f"did not finish normally (finish reason: {current.finish_reason})"))
    pages = accounting(current.stats)
    if pages["not_stored"] or pages["lost"]:
        problems.append(
            Problem(
                spider,
                "items_lost",
                f"{pages['not_stored'] + pages['lost']} of {pages['fetched']} "
                "fetched listing pages were not stored (see the log)",
            )
        )
    blocked = current.stat("keywatch/blocked_pages")
    if blocked and blocked >= current.stat("keywatch/search_pages") + current.stat("keywatch/items"):
        # Not broken markup: the site answered with robot checks. No amount of selector fixing helps.
        problems.append(
            Problem(
                spider,
                "blocked",
                f"blocked by the site: {blocked} robot-check pages, fewer pages read (ask the marketplace for access)",
            )
        )
        return problems
    with_cards = next((run for run in history if run.cards > 0), None)
    with_captures = next((run for run in history if run.captures > 0), None)
    if current.cards == 0 and with_cards is not None:
        problems.append(
            Problem(
                spider, "no_results", f"no search results, where run {with_cards.run_id} screened {with_cards.cards}"
            )
        )
    elif current.captures == 0 and with_captures is not None:
        problems.append(
            Problem(
                spider,
                "no_results",
                f"no listings stored, where run {with_captures.run_id} stored {with_captures.captures}",
            )
        )
    parsed = current.stat("keywatch/search_pages") + current.stat("keywatch/items")
    failed = current.stat("keywatch/parse_errors")
    if failed >= MIN_PARSE_ERRORS and failed > parsed:
        problems.append(
            Problem(spider, "parse_errors", f"{failed} pages failed to parse, only {parsed} parsed (markup changed?)")
        )
    if current.captures >= MIN_CAPTURES:
        judged = [run for run in history if run.captures >= MIN_CAPTURES]
        for name in WATCHED_FIELDS:
            share = current.missing_share(name)
            if share <= MISSING_SHARE:
                continue
            message = f"{name} missing on {current.missing.get(name, 0)} of {current.captures} listings ({share:.0%}"
            if not judged:
                # No earlier run to compare with: a field missing on most items is still suspicious.
                problems.append(Problem(spider, "field_missing", message + ")"))
                continue
            # A marketplace that never showed the field is not suddenly missing it.
            had_it = next((run for run in judged if run.missing_share(name) <= MISSING_SHARE), None)
            if had_it is not None:
                problems.append(
                    Problem(
                        spider, "field_missing", message + f", {had_it.missing_share(name):.0%} in run {had_it.run_id})"
                    )
                )
    return problems
