"""Managing accounts: an administrator's Users page (add, disable, reset a password) and changing one's own
password. A new password and a disabled account both end the account's open sessions, and every change is
recorded in the account changes shown on the Users page (db/accounts.py)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from db import accounts
from webui import auth
from webui.security import admin_required, login_required

bp = Blueprint("accounts", __name__)


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        try:
            accounts.add_user(
                g.store,
                name,
                auth.hash_password(request.form.get("password", "")),
                role=request.form.get("role", "reviewer"),
                created_by=g.user.name,
                via=auth.web_channel(),
            )
            flash(f"User {name} created.", "ok")
        except accounts.ReviewError as error:
            flash(str(error), "error")
        return redirect(url_for("accounts.users"), code=303)
    return render_template(
        "users.html",
        users=accounts.list_users(g.store),
        roles=accounts.ROLES,
        changes=accounts.account_changes(g.store, limit=100),
    )


@bp.route("/users/<name>/disable", methods=["POST"])
@admin_required
def disable_user(name: str):
    enable = request.form.get("enable") == "1"
    if name == g.user.name and not enable:
        flash("You cannot disable your own account.", "error")
    else:
        try:
            accounts.set_disabled(g.store, name, not enable, actor=g.user.name, via=auth.web_channel())
            flash(f"User {name} {'enabled' if enable else 'disabled'}.", "ok")
        except accounts.ReviewError as error:
            flash(str(error), "error")
    return redirect(url_for("accounts.users"), code=303)


@bp.route("/users/<name>/password", methods=["POST"])
@admin_required
def reset_password(name: str):
    """An administrator sets a new password for someone who lost theirs (or whose password may be known)."""
    if name == g.user.name:
        # Without the current password, a borrowed admin session could take over the admin's own account.
        flash("To change your own password, give your current one on the Change password page.", "error")
        return redirect(url_for("accounts.users"), code=303)
    try:
        new_hash = auth.hash_password(request.form.get("new_password", ""))
        accounts.set_password(g.store, name, new_hash, actor=g.user.name, via=auth.web_channel())
        flash(f"Password of {name} reset; their open sessions have ended. Give them the new one in person.", "ok")
    except accounts.ReviewError as error:
        flash(str(error), "error")
    return redirect(url_for("accounts.users"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A user changes their own password, giving the current one; their other sessions end."""
    if request.method != "POST":
        return render_template("password.html")
    form, name = request.form, g.user.name
    checked = auth.throttled_check(name, form.get("current_password", ""))
    if checked is None:
        flash(auth.TOO_MANY_FAILURES, "error")
        return render_template("password.html"), 429
    try:
        if not checked:
            raise accounts.ReviewError("Your current password is wrong.")
        if form.get("new_password", "") != form.get("confirm_password", ""):
            raise accounts.ReviewError("The new passwords do not match.")
        new_hash = auth.hash_password(form.get("new_password", ""))
        accounts.set_password(g.store, name, new_hash, actor=name, via=auth.web_channel())
    except accounts.ReviewError as error:
        flash(str(error), "error")
        return render_template("password.html"), 400
    auth.start_session(name)  # set_password ended every session, this one too: carry on in a new one
    flash("Password changed. Your other sessions have ended.", "ok")
    return redirect(url_for("review.queue"), code=303)
