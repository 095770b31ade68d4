"""The review desk's pages: queue, listing, decisions, captured page, dashboard, audit trail."""

from __future__ import annotations

import datetime
import functools
import re
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from db import dashboard, decisions, media, queries, queue, recall
from db.accounts import ReviewError
from db.canonical import format_utc
from exports.report import compliance, parse_since, render_html
from webui import auth
from webui.chart import trend_svg, week_labels
from webui.highlight import segments
from webui.security import CAPTURE_CSP, login_required, safe_next
from webui.thumbnails import thumbnail
from webui.timeline import timeline_entries

bp = Blueprint("review", __name__)

REASON_LABELS = {
    "false_positive": "False positive",
    "legitimate_trade_seller": "Legitimate trade seller",
    "duplicate": "Duplicate",
    "other": "Other (say why in the note)",
}
PAGE_SIZE = 50
AUDIT_PAGE = 200
SELLER_ROWS = 50  # other listings by the seller shown on a listing's page
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A listing number in a form: ASCII digits only ("²".isdigit() is true, and int() refuses it), within SQLite's range.
_ROW_ID = re.compile(r"[0-9]{1,18}")


def category_labels() -> dict[str, str]:
    """{category id: label} of the watchlist the desk was started with (create_app)."""
    return current_app.config["CATEGORY_LABELS"]


@bp.app_context_processor
def choices():
    categories = _option_lists(tuple(category_labels().items()))
    return {
        "category_labels": category_labels(),
        "reason_labels": REASON_LABELS,
        # The decision controls' menus, drawn once per watchlist rather than option by option in every queue row.
        "category_options": lambda selected: categories.get(selected, categories[None]),
        "reason_options": _option_lists(tuple(REASON_LABELS.items()))[None],
    }


@functools.cache
def _option_lists(labels: tuple[tuple[str, str], ...]) -> dict[str | None, Markup]:
    """{selected value (None: none): the <option>s of `labels` with that one selected}."""
    option = Markup('<option value="{}"{}>{}</option>')
    return {
        selected: Markup("").join(option.format(k, Markup(" selected") if k == selected else "", v) for k, v in labels)
        for selected in [None, *(k for k, _ in labels)]
    }


def render_block(template_name: str, block_name: str, **context) -> str:
    """Render one block of a template: the same markup serves the full page and the htmx fragment."""
    template = current_app.jinja_env.get_template(template_name)
    current_app.update_template_context(context)
    return "".join(template.blocks[block_name](template.new_context(context)))


DATE_LABELS = {"since": "from", "until": "to"}


def queue_filter(args=None, *, warn: bool = True) -> queue.QueueFilter:
    """The queue view asked for by `args` (the request's query string by default); bad dates are flashed."""
    args = request.args if args is None else args
    status = args.get("status", "open")
    if status not in ("open", "all", queue.MISSED, *decisions.REVIEW_STATUSES):
        status = "open"
    dates = {key: args.get(key, "").strip() for key in ("since", "until")}
    for key, value in dates.items():
        problem = None
        if value and not _DATE.match(value):
            problem = "use YYYY-MM-DD, e.g. 2026-11-28"
        elif value:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                problem = "there is no such day"
        if problem:
            if warn:
                flash(f"Ignored the {DATE_LABELS[key]} date {value!r}: {problem}.", "error")
            dates[key] = ""
    if warn and dates["since"] and dates["until"] and dates["since"] > dates["until"]:
        flash(f"The from date {dates['since']} is after the to date {dates['until']}: nothing can match.", "error")
    return queue.QueueFilter(
        status=status,
        category=args.get("category", ""),
        marketplace=args.get("marketplace", ""),
        seller=args.get("seller", "").strip(),
        since=dates["since"],
        until=dates["until"],
        q=args.get("q", "").strip()[:200],
        order=args.get("order", "risk") if args.get("order") in queue.CHOSEN_ORDERS else "risk",
    )


def view_statuses(status: str) -> tuple[str, ...]:
    """The review statuses a queue view shows: keys.js drops rows that have left it."""
    return {"open": decisions.OPEN_STATUSES, "all": decisions.REVIEW_STATUSES, queue.MISSED: ("pending",)}.get(
        status, (status,)
    )


def tabs_context(f: queue.QueueFilter, args: dict, *, size: str | None = None, matches=None) -> dict:
    return {
        "counts": queue.queue_counts(g.store, f, size=size, matches=matches),
        "f": f,
        "statuses": ("open", *decisions.REVIEW_STATUSES, "all", queue.MISSED),
        "args": {k: v for k, v in args.items() if k not in ("page", "after", "before")},
    }


# Endpoints keep their names (review.queue, review.dashboard, review.decide); the functions are named apart from the
# db modules they read.
@bp.route("/", endpoint="queue")
@login_required
def queue_page():
    f = queue_filter()
    size = queue.search_size(g.store, f)  # once for the tabs and the page
    # A search's few matches are read once for the tabs and the page (a seller's are few anyway: by its index).
    matches = queue.search_matches(g.store, f) if size == "few" and not f.seller else None
    tabs = tabs_context(f, request.args, size=size, matches=matches)
    # Keyset pages: `after`/`before` name the row a page starts after or ends before (db/queue.py); a cursor
    # that is not one (a hand-edited link) shows the first page.
    after, before = request.args.get("after"), request.args.get("before")
    page = queue.queue_page(g.store, f, limit=PAGE_SIZE, after=after, before=before, size=size, matches=matches)
    return render_template(
        "queue.html",
        rows=page.rows,
        page=page,
        thumbnails=media.thumbnails(g.store, [row["pk"] for row in page.rows]),
        page_size=PAGE_SIZE,
        filter_choices=queue.filter_choices(g.store, category_labels()),
        next_url=request.full_path.rstrip("?"),
        view_statuses=view_statuses(f.status),
        **tabs,
    )


@bp.route("/listing/<int:pk>")
@login_required
def listing(pk: int):
    item = queue.listing_page(g.store, pk)
    if item is None:
        abort(404, description=f"No listing with id {pk}.")
    matches = (item["classification"] or {}).get("matches", [])
    fields = item["classified_fields"]
    # Every open flagged listing by this seller, this one included: the scope of a bulk decision.
    open_by_seller = queue.seller_listings(g.store, item["marketplace"], item["seller"] or "", open_only=True)
    return render_template(
        "listing.html",
        item=item,
        matches=matches,
        title_segments=segments(fields.get("title") or item["title"], matches, "title"),
        description_segments=segments(fields.get("description"), matches, "description"),
        # The responses a rendering loaded are counted with it (media.renders), not listed one by one.
        captures=[c for c in queue.listing_captures(g.store, pk) if media.kind_of(c["purpose"]) != media.RESOURCE],
        media=media.listing_media(g.store, pk),
        timeline=timeline_entries(item["first_seen"], queries.listing_events(g.store, pk)),
        decisions=decisions.listing_decisions(g.store, pk),
        # A big shop has thousands: the first ones here, all of them in the queue's seller filter.
        seller_rows=queue.seller_listings(
            g.store, item["marketplace"], item["seller"] or "", exclude_pk=pk, limit=SELLER_ROWS
        ),
        seller_total=queue.seller_listing_count(g.store, item["marketplace"], item["seller"] or ""),
        open_by_seller=open_by_seller,
    )


def decision_form() -> dict:
    """The decision a form posts (a listing's, a seller's or a network's), its category one of the watchlist's."""
    form = request.form
    decision = {
        "action": form.get("action", ""),
        "category": form.get("category") or None,
        "reason": form.get("reason") or None,
        "note": form.get("note", ""),
    }
    if decision["action"] == "confirm" and decision["category"] not in category_labels():
        abort(400, description="Choose a category from the watchlist to confirm.")
    return decision


def decide_all(pks: list[int], scope: str) -> None:
    """The form's one decision for every listing of `pks` (a seller's, a network's), flashed as done or refused."""
    decision = decision_form()
    try:
        done = decisions.decide_many(
            g.store, pks, g.user.name, decision.pop("action"), via=auth.web_channel(), **decision
        )
        flash(f"Recorded {len(done)} decisions for {scope}.", "ok")
    except ReviewError as error:
        flash(str(error), "error")


@bp.route("/listing/<int:pk>/decide", methods=["POST"], endpoint="decide")
@login_required
def decide_listing(pk: int):
    decision = decision_form()
    try:
        decisions.decide(g.store, pk, g.user.name, decision.pop("action"), via=auth.web_channel(), **decision)
    except ReviewError as error:
        if request.headers.get("HX-Request"):
            abort(400, description=str(error))
        flash(str(error), "error")
    else:
        if not request.headers.get("HX-Request"):
            flash("Decision recorded.", "ok")
    if request.headers.get("HX-Request"):
        return decided_row(pk)
    return redirect(safe_next(request.form.get("next") or url_for("review.listing", pk=pk)), code=303)


def decided_row(pk: int):
    """htmx's answer to a decision: the row as it is now, and the status tabs' new counts.

    The decision is committed by now: whatever goes wrong while drawing the answer, it must not read as a
    failure, so htmx is told to reload the page instead, which shows what the store holds.
    """
    try:
        row = queue.queue_row(g.store, pk)
        if row is not None:
            next_url = safe_next(request.form.get("next"))
            # The counts change with the decision: sent along for an out-of-band swap, counted over the same
            # filters as the page the reviewer is on (its URL is the form's `next`).
            view_args = MultiDict(parse_qsl(urlsplit(next_url).query))
            tabs = render_block(
                "queue.html", "tabs", oob=True, **tabs_context(queue_filter(view_args, warn=False), view_args)
            )
            thumbnails = media.thumbnails(g.store, [pk])
            row_html = render_block("queue.html", "row", row=row, next_url=next_url, thumbnails=thumbnails)
            return row_html + f"<template>{tabs}</template>"
    except Exception:
        current_app.logger.exception("could not draw listing %s's row after a decision", pk)
    flash("Decision recorded.", "ok")
    response = make_response("")
    response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/seller/decide", methods=["POST"])
@login_required
def decide_seller():
    """One decision for every open flagged listing by one seller on one marketplace."""
    marketplace, seller = request.form.get("marketplace", ""), request.form.get("seller", "")
    pks = [int(v) for v in request.form.getlist("listing_pk") if _ROW_ID.fullmatch(v)]
    # Only listings that really are this seller's open ones: the form cannot widen its own scope.
    allowed = {row["pk"] for row in queue.seller_listings(g.store, marketplace, seller, open_only=True)}
    decide_all([pk for pk in pks if pk in allowed], f"seller {seller}")
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.route("/capture/<int:capture_id>/page")
@login_required
def captured_page(capture_id: int):
    """The captured bytes, served so that the browser cannot run or submit anything in them."""
    found = queries.captured_page(g.store, capture_id)
    if found is None:
        abort(404, description="No stored page for this capture (unknown, or purged under the retention policy).")
    body, headers = found
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), [""])
    content_type = (content_type[0] if content_type else "").lower()
    charset = re.search(r"charset=([\w.:-]+)", content_type)
    is_html = not content_type or "html" in content_type
    response = _sandboxed(make_response(body))
    response.headers["Content-Type"] = ("text/html" if is_html else "text/plain") + (
        f"; charset={charset.group(1)}" if charset else ""
    )
    response.headers["Content-Disposition"] = "inline"
    return response


def _sandboxed(response):
    """The headers every stored byte is served with: it runs nothing, sends nothing and is never sniffed."""
    response.headers["Content-Security-Policy"] = CAPTURE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/capture/<int:capture_id>/image")
@login_required
def captured_image(capture_id: int):
    """A stored screenshot or photo, under its image type only when its bytes are that image (db/media.py)."""
    image = media.stored_image(g.store, capture_id)
    if image is None:
        abort(404, description="No stored image for this capture (not a screenshot or photo, or purged).")
    response = _sandboxed(make_response(image["body"]))
    if image["content_type"]:
        response.headers["Content-Type"] = image["content_type"]
        response.headers["Content-Disposition"] = "inline"
    else:  # bytes that are no image: a download, never something a browser renders
        response.headers["Content-Type"] = "application/octet-stream"
        response.headers["Content-Disposition"] = f'attachment; filename="capture-{capture_id}.bin"'
    return response


@bp.route("/capture/<int:capture_id>/thumbnail")
@login_required
def captured_thumbnail(capture_id: int):
    """A small preview of a stored screenshot (its top) or photo (webui/thumbnails.py)."""
    image = media.stored_image(g.store, capture_id)
    preview = None
    if image and image["content_type"]:
        preview = thumbnail(image["sha256"], image["body"], image["kind"] == media.SCREENSHOT)
    if preview is None:
        abort(404, description="No stored image for this capture.")
    response = _sandboxed(make_response(preview))
    response.headers["Content-Type"] = "image/png"
    return response


@bp.route("/dashboard", endpoint="dashboard")
@login_required
def dashboard_page():
    now = datetime.datetime.now(datetime.UTC)
    week_ago = format_utc(now - datetime.timedelta(days=7))
    weeks = 12
    start = (now - datetime.timedelta(days=now.weekday(), weeks=weeks - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    series = {"weeks": week_labels(start, weeks), **dashboard.weekly_counts(g.store, format_utc(start), weeks)}
    report_url = next((rule.rule for rule in current_app.url_map.iter_rules() if rule.rule == "/report"), None)
    return render_template(
        "dashboard.html",
        stats=dashboard.dashboard(g.store, week_ago),
        since=week_ago,
        chart=trend_svg(series),
        recall=recall.recall_estimate(g.store),
        series=series,
        report_url=report_url,
    )


@bp.route("/report")
@login_required
def report():
    """The compliance report (exports/report.py): notified, removed, still live, days to removal."""
    given = request.args.get("since") or None
    try:
        since = parse_since(given)
    except (ValueError, OverflowError):  # OverflowError: a time zone that moves the date past year 1 or 9999
        abort(
            400,
            description=f"The report's since must be a date like 2026-01-31 or an ISO 8601 time from "
            f"year 1 to 9999, not {given!r}.",
        )
    data = compliance(g.store, since)
    response = make_response(render_html(data))
    # A self-contained document: inline styles and data: charts, nothing else.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response


@bp.route("/audit")
@login_required
def audit():
    # Keyset pages: `before` is the oldest decision number of the page before (a number that is not one: the newest).
    before = request.args.get("before", "")
    rows = decisions.audit_trail(
        g.store, limit=AUDIT_PAGE + 1, before=int(before) if _ROW_ID.fullmatch(before) else None
    )
    older = rows[AUDIT_PAGE - 1]["id"] if len(rows) > AUDIT_PAGE else None
    return render_template("audit.html", rows=rows[:AUDIT_PAGE], older=older)
