"""Verify's check of what the desk, exports and notices read instead of the evidence: each listing's index row
and search row (db/listing_index.py), and the desk's stored counts (db/desk_counts.py), against a recount."""

from db import desk_counts, listing_index
from db.verify_result import Problem


def _listing_columns(store) -> set[str]:
    return {row["name"] for row in store.query("PRAGMA table_info(listings)")}


def listing_index_problems(store, listing_pks=None) -> list[Problem]:
    """Index problems of these listings (all when None): what an export checks before it quotes the index."""
    problems: list[Problem] = []
    check_listing_index(store, problems, {}, listing_pks)
    return problems


def check_listing_index(store, problems, seq_of, listing_pks=None):
    """The index is rewritten as captures arrive, so no trigger guards it; it must still be what the evidence says.

    An edited title, seller, price or URL would otherwise reach notices and packs, and an edited `flagged` or a
    deleted search row would hide a hit from the review queue, with every hash still verifying.
    """
    migrated = "latest_seller" in _listing_columns(store)
    why = "" if migrated else " (the store predates the current index rules: any writing command rebuilds it)"
    for pk, columns in listing_index.disagreements(store, listing_pks).items():
        problems.append(
            Problem(
                seq_of.get(("listing", pk)),
                f"listing {pk}",
                f"index column(s) {', '.join(columns)} disagree with the chained evidence{why}",
                rank=2,
            )
        )


def check_desk_counts(store, problems):
    """The review desk's stored counts and review statuses (db/desk_counts.py) against a recount: a wrong one would
    hide listings from a queue tab or misstate the work left."""
    if "review_status" not in _listing_columns(store):
        return  # a store read before the desk migration m008: nothing stored to check
    for message in desk_counts.disagreements(store):
        problems.append(Problem(None, "desk counts", message, rank=2))
