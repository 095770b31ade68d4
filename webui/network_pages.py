"""The review desk's seller and network pages: a seller's listings and links, a network's graph, evidence and
listings; confirming a network, rejecting or restoring a link, deciding a whole network's open listings.

Links and networks are recomputed, never edited (docs/networks.md): rejecting or restoring a link records the
decision and recomputes at once, so the page shows the networks as they now stand.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from db import decisions, network_decisions, network_recompute
from db import networks as stored
from db.accounts import ReviewError
from networks.rows import compute
from webui import auth
from webui.network_graph import KIND_COLOURS, layout
from webui.security import login_required
from webui.views import decide_all

bp = Blueprint("networks", __name__)


@bp.route("/networks")
@login_required
def networks_page():
    return render_template(
        "networks.html",
        networks=stored.list_networks(g.store, with_links=False),
        recomputed=network_recompute.last_recompute(g.store),
    )


@bp.route("/network/<network_id>")
@login_required
def network(network_id: str):
    found = stored.get_network(g.store, network_id)
    if found is None:
        abort(404, description=f"No network {network_id} in the last recompute (its members may have changed).")
    listings = stored.network_listings(g.store, network_id)
    return render_template(
        "network.html",
        network=found,
        graph=layout(found["sellers"], found["links"]),
        kind_colours=KIND_COLOURS,
        listings=listings,
        open_count=sum(map(stored.is_open, listings)),
        decisions=network_decisions.about_network(g.store, network_id),
    )


@bp.route("/seller")
@login_required
def seller():
    marketplace, name = request.args.get("marketplace", ""), request.args.get("name", "")
    listings = stored.seller_listings(g.store, marketplace, name)
    if not listings:
        abort(404, description="No listings by that seller.")
    network_id = stored.network_of_seller(g.store, marketplace, name)
    linked = []
    if network_id:
        linked = [
            row
            for row in stored.network_listings(g.store, network_id)
            if (row["marketplace"], row["seller"]) != (marketplace, name)
        ]
    return render_template(
        "seller.html",
        marketplace=marketplace,
        name=name,
        listings=listings,
        first_seen=min(row["first_seen"] for row in listings),
        last_seen=max(row["last_seen"] for row in listings),
        decided={row["pk"]: decisions.listing_decisions(g.store, row["pk"]) for row in listings},
        links=stored.seller_links(g.store, marketplace, name),
        network_id=network_id,
        linked=linked,
    )


def _back(network_id: str):
    target = url_for("networks.network", network_id=network_id)
    if stored.get_network(g.store, network_id) is None:
        flash("The network changed with this decision: it is listed below as it now stands.", "ok")
        target = url_for("networks.networks_page")
    return redirect(target, code=303)


@bp.route("/network/<network_id>/confirm", methods=["POST"])
@login_required
def confirm(network_id: str):
    try:
        network_decisions.decide_network(
            g.store,
            g.user.name,
            "confirm",
            network_id=network_id,
            note=request.form.get("note"),
            via=auth.web_channel(),
        )
        flash("Network confirmed: it can now go into a notice or an export.", "ok")
    except ReviewError as error:
        flash(str(error), "error")
    return _back(network_id)


@bp.route("/network/<network_id>/link/<link_id>/<any(reject, restore):action>", methods=["POST"])
@login_required
def judge_link(network_id: str, link_id: str, action: str):
    try:
        network_decisions.decide_network(
            g.store,
            g.user.name,
            f"{action}_link",
            network_id=network_id,
            link_id=link_id,
            note=request.form.get("note"),
            via=auth.web_channel(),
        )
    except ReviewError as error:
        flash(str(error), "error")
        return redirect(url_for("networks.network", network_id=network_id), code=303)
    network_recompute.recompute(g.store, compute)  # the networks as they now stand
    flash(f"Link {'rejected' if action == 'reject' else 'restored'}; networks recomputed.", "ok")
    return _back(network_id)


@bp.route("/network/<network_id>/decide", methods=["POST"])
@login_required
def decide_network_listings(network_id: str):
    """One decision for every open listing of the network: the form names the network, never the listings."""
    decide_all(stored.open_listing_pks(g.store, network_id), f"network {network_id}")
    return redirect(url_for("networks.network", network_id=network_id), code=303)
