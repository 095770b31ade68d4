"""The compliance report: did notified retailers take their listings down, how fast, and are they still listing?

`compliance(store, since)` returns plain data (the review UI can show it); `render_markdown` and `render_html`
turn it into the report. Definitions (also in docs/notices.md):

- notified: distinct listings in notices to the recipient sent at or after `since`; a listing's notice time
  is the first such notice.
- removed: the listing's latest observed status is `removed` or `ended`, and it came down after its notice.
  The removal time is the first observation of the final "down" spell, so it is when a re-check first saw
  the listing gone (an upper bound on the real time).
- still live: latest observed status is `live` (including listings taken down and then put back up).
- down before notice: already gone when the notice was sent. not re-checked: no status observed since the
  notice (the last sighting, live, was before it), so nobody knows yet.
- median days to removal: over the removed listings, from notice time to removal time.
- new hits since: flagged listings by the recipient's sellers (every seller, for a marketplace operator) on
  that marketplace, first seen after the recipient's latest notice.
"""

import functools
import json
import statistics
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from db import networks, notices
from db.canonical import format_utc, utc_now
from db.status import status_history
from exports.display import shown, visible
from exports.report_charts import report_charts

DOWN = ("removed", "ended")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def parse_since(text: str | None) -> str | None:
    """--since DATE (YYYY-MM-DD, or an ISO 8601 time; naive times are UTC) in the store's UTC format.

    The one parser for a report's start, on the command line and in the review UI: anything it cannot read
    is a ValueError whose message is meant for the user.
    """
    if not text:
        return None
    given = shown(text, 40, None)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)  # OverflowError past year 9999 or before year 1
    except (ValueError, OverflowError):
        raise ValueError(f"--since must be a date like 2026-01-31 (or an ISO 8601 time), not {given!r}") from None
    # Store times are compared as text, which only orders them right with four-digit years.
    if not 1000 <= moment.year <= 9999:
        raise ValueError(f"--since must be between the years 1000 and 9999 (UTC), not {given!r}")
    return format_utc(moment)


def _when(utc: str) -> datetime:
    return datetime.fromisoformat(utc.replace("Z", "+00:00"))


def days_between(start: str, end: str) -> float:
    return (_when(end) - _when(start)).total_seconds() / 86400


def listing_outcome(notified_at: str, history: list[dict]) -> tuple[str, str | None]:
    """(state, removed_at) for one notified listing from its status history (oldest first)."""
    if not history:
        return "not re-checked", None
    if history[-1]["status"] not in DOWN:
        # Every crawl records the listing live when it is captured, before any notice: only a sighting after
        # the notice says it is still live; otherwise nobody has looked since.
        return ("still live" if history[-1]["observed_at"] >= notified_at else "not re-checked"), None
    # The final down spell starts after the last time it was seen live.
    start = len(history) - 1
    while start > 0 and history[start - 1]["status"] in DOWN:
        start -= 1
    down_at = history[start]["observed_at"]
    if down_at < notified_at:
        return "down before notice", None
    return "removed", down_at


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _summary(listings: list[dict]) -> dict:
    states = [x["state"] for x in listings]
    return {
        "notified": len(listings),
        "removed": states.count("removed"),
        "still_live": states.count("still live"),
        "down_before_notice": states.count("down before notice"),
        "not_rechecked": states.count("not re-checked"),
        "median_days_to_removal": _median([x["days_to_removal"] for x in listings if x["state"] == "removed"]),
    }


def compliance(store, since: str | None = None) -> dict:
    """Plain data: one row per (recipient, marketplace), per-marketplace totals, overall totals, per-listing detail.

    `since` is a UTC time in the store's format (see parse_since), or None for every notice.
    """
    rows = notices.notified_listings(store, since)
    history = status_history(store, [r["listing_pk"] for r in rows])

    groups: dict[tuple[str, str], dict] = {}
    for r in rows:
        recipient = json.loads(r["recipient"])
        key = (recipient["name"], r["notice_marketplace"] or r["marketplace"])
        group = groups.setdefault(
            key, {"recipient": recipient, "notices": set(), "listings": {}, "last_notice_at": r["notified_at"]}
        )
        group["notices"].add(r["number"])
        group["last_notice_at"] = max(group["last_notice_at"], r["notified_at"])
        # Rows come oldest notice first: the first one seen is the listing's notice time.
        group["listings"].setdefault(r["listing_pk"], r)

    table, detail = [], []
    for (name, marketplace), group in sorted(groups.items()):
        listings = []
        for pk, r in group["listings"].items():
            state, removed_at = listing_outcome(r["notified_at"], history[pk])
            listings.append(
                {
                    "retailer": name,
                    "marketplace": r["marketplace"],
                    "listing_id": r["listing_id"],
                    "seller": r["seller"],
                    "notice": r["number"],
                    "notified_at": r["notified_at"],
                    "state": state,
                    "removed_at": removed_at,
                    "days_to_removal": round(days_between(r["notified_at"], removed_at), 2) if removed_at else None,
                }
            )
        sellers = group["recipient"].get("seller_ids") or None
        new_hits = notices.flagged_since(store, marketplace, sellers, group["last_notice_at"])
        table.append(
            {
                "retailer": name,
                "marketplace": marketplace,
                "notices": len(group["notices"]),
                "last_notice_at": group["last_notice_at"],
                **_summary(listings),
                "new_hits_since": len(new_hits),
            }
        )
        detail += listings

    by_marketplace = []
    for marketplace in sorted({row["marketplace"] for row in table}):
        mine = [x for x in detail if x["marketplace"] == marketplace]
        by_marketplace.append(
            {
                "marketplace": marketplace,
                **_summary(_distinct(mine)),
                "new_hits_since": sum(r["new_hits_since"] for r in table if r["marketplace"] == marketplace),
            }
        )
    return {
        "generated_at": utc_now(),
        "since": since,
        "rows": table,
        "by_marketplace": by_marketplace,
        "totals": {
            **_summary(_distinct(detail)),
            "notices": len({x["notice"] for x in detail}),
            "new_hits_since": sum(r["new_hits_since"] for r in table),
        },
        "listings": detail,
        "networks": networks.network_report(store),
    }


def _distinct(listings: list[dict]) -> list[dict]:
    """A listing notified to two recipients (say, a seller and the marketplace) counts once in totals."""
    seen = {}
    for x in sorted(listings, key=lambda x: x["notified_at"]):
        seen.setdefault((x["marketplace"], x["listing_id"]), x)
    return list(seen.values())


# ---------------------------------------------------------------- rendering

COLUMNS = (
    ("retailer", "Retailer"),
    ("marketplace", "Marketplace"),
    ("notices", "Notices"),
    ("notified", "Notified"),
    ("removed", "Removed"),
    ("still_live", "Still live"),
    ("down_before_notice", "Down before notice"),
    ("not_rechecked", "Not re-checked"),
    ("median_days_to_removal", "Median days to removal"),
    ("new_hits_since", "New hits since notice"),
)


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _md_escape(text: str) -> str:
    # Printed to a terminal: a seller's escape sequences are shown, not obeyed.
    return visible(text).replace("|", "\\|")


def render_markdown(data: dict) -> str:
    sent = f"since {data['since']}" if data["since"] else "at any time"
    lines = [
        "# keywatch compliance report",
        "",
        f"Generated {data['generated_at']}; notices sent {sent}.",
        "",
    ]
    if not data["rows"]:
        return "\n".join(lines + ["No notices recorded in this period.", "", *network_markdown(data["networks"])])
    lines += ["## By retailer", "", "| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in data["rows"]:
        lines.append("| " + " | ".join(_md_escape(_fmt(row[k])) for k, _ in COLUMNS) + " |")
    market_cols = [c for c in COLUMNS if c[0] not in ("retailer", "notices")]
    lines += [
        "",
        "## By marketplace",
        "",
        "| " + " | ".join(h for _, h in market_cols) + " |",
        "|" + "---|" * len(market_cols),
    ]
    for row in data["by_marketplace"]:
        lines.append("| " + " | ".join(_md_escape(_fmt(row[k])) for k, _ in market_cols) + " |")
    t = data["totals"]
    lines += [
        "",
        f"**Total:** {t['notices']} notices, {t['notified']} listings notified, {t['removed']} removed, "
        f"{t['still_live']} still live, median {_fmt(t['median_days_to_removal'])} days to removal, "
        f"{t['new_hits_since']} new hits since.",
        "",
        DEFINITIONS_MD,
        "",
        *network_markdown(data["networks"]),
    ]
    return "\n".join(lines)


def network_markdown(found: dict) -> list[str]:
    """The seller networks section: counts, sizes, marketplaces spanned, removed sellers that reappeared."""
    lines = [
        "## Seller networks",
        "",
        f"{found['networks']} networks ({found['confirmed']} confirmed by a reviewer) of {found['sellers']} seller "
        f"accounts; the largest has {found['largest']}; {found['multi_marketplace']} span more than one marketplace.",
        "",
    ]
    if found["rows"]:
        lines += ["| Network | Status | Sellers | Marketplaces |", "|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['status']} | {r['size']} | {r['marketplaces']} |" for r in found["rows"]]
        lines.append("")
    for r in found["reappearances"]:
        lines.append(
            f"- {_md_escape(r['removed_seller'])} had a listing removed {r['removed_at']}; linked account "
            f"{_md_escape(r['reappeared_as'])} listed {_md_escape(r['listing'])} after it ({r['first_seen']})."
        )
    if not found["reappearances"]:
        lines.append("No removed seller reappeared under a linked account.")
    return [*lines, ""]


DEFINITIONS_MD = """Definitions: *notified* = listings in notices sent in the period (a listing's notice time is its
first notice); *removed* = latest status removed or ended, first seen gone after the notice; *still live* =
latest status live, seen after the notice; *not re-checked* = not seen since the notice; *median days to
removal* = notice to the first re-check that found the listing gone (an upper bound); *new hits since notice* =
flagged listings by the same sellers first seen after the latest notice."""


@functools.cache
def _environment() -> jinja2.Environment:
    # One per process: a new one compiles the template again on every /report request.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)


def render_html(data: dict) -> str:
    """The report as one HTML document, its charts inline (exports/report_charts.py)."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            columns=COLUMNS,
            fmt=_fmt,
            charts=report_charts(data),
            market_columns=[c for c in COLUMNS if c[0] not in ("retailer", "notices")],
            definitions=DEFINITIONS_MD.replace("*", ""),
        )
    )
