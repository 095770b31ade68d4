"""A small, realistic review desk for the tests: sample listings, two accounts with fixed passwords, and the
helpers that log a Flask test client in.

Listings are saved through `db.save_capture` exactly as the crawler saves them, with classifications whose
match offsets point at real words in the titles and descriptions. One captured page is hostile: its script
tries to retitle the parent page and post a form back to the app, which the sandbox must stop.
"""

from __future__ import annotations

import datetime
import html
import re
from typing import NamedTuple

from flask import Flask

import db
from db import accounts

WATCHLIST_VERSION = "sample-watchlist-0001"
HOSTILE_MARKER = "PWNED-BY-CAPTURE"

# (listing_id, seller, title, description, price, category, risk, score, [(term, field, words)], days_ago)
LISTINGS = [
    (
        "KW-1001",
        "autokeys_direct",
        "Keyless Entry Relay Repeater Box - 2 Unit Long Range Signal Amplifier",
        "Professional relay box kit, two units. Extends keyless entry range up to 300m. Works on most push-start "
        "vehicles. Boxed with chargers. Postage next day.",
        "249.99",
        "relay_attack",
        "critical",
        96,
        [("relay box", "description", "relay box"), ("keyless entry relay", "title", "Keyless Entry Relay")],
        2,
    ),
    (
        "KW-1002",
        "autokeys_direct",
        "Universal OBD2 Key Programmer - Add Keys All Keys Lost, Pin Code Reader",
        "Programs new smart keys through the OBD port in minutes. All keys lost supported. Pin code reading for "
        "most European makes. Software updates included.",
        "189.00",
        "key_programmer",
        "high",
        91,
        [("key programmer", "title", "Key Programmer"), ("all keys lost", "description", "All keys lost")],
        3,
    ),
    (
        "KW-1003",
        "nightshift_tools",
        "CAN bus emergency start device - headlight connector, Toyota/Lexus",
        "Emergency start unit that connects behind the headlight to the CAN bus. Plug in, press the button, car "
        "unlocks and starts. No key needed.",
        "420.00",
        "can_injection",
        "critical",
        94,
        [("emergency start", "title", "emergency start"), ("can bus", "description", "CAN bus")],
        1,
    ),
    (
        "KW-1004",
        "nightshift_tools",
        "Lishi 2-in-1 HU101 pick and decoder, locksmith tool",
        "Genuine style Lishi 2in1 for HU101 profile. Opens and decodes. For trained locksmiths.",
        "35.50",
        "mechanical_entry",
        "medium",
        82,
        [("lishi", "title", "Lishi")],
        9,
    ),
    (
        "KW-1005",
        "gadget-outlet",
        "Rolling code grabber 433MHz with display, garage and car remotes",
        "Captures and replays rolling codes. <script>alert('not from us')</script> Handheld with OLED display.",
        "129.00",
        "code_grabber",
        "high",
        88,
        [("code grabber", "title", "code grabber")],
        16,
    ),
    (
        "KW-1006",
        "gadget-outlet",
        "Faraday pouch for car keys, signal blocking, pack of 2",
        "Blocks keyless entry signals to protect your car from relay attacks.",
        "9.99",
        None,
        None,
        12,
        [],
        5,
    ),
]


def _page(title: str, description: str, hostile: bool) -> bytes:
    script = ""
    if hostile:
        # What a hostile page could try: retitle the officer's page, read its cookies, post a form back.
        script = (
            f"<script>try {{ parent.document.title = '{HOSTILE_MARKER}'; }} catch (e) {{}}"
            f"document.title = '{HOSTILE_MARKER}';"
            "fetch('/users', {method: 'POST', body: 'name=x'}).catch(function () {});</script>"
            "<form id='f' method='post' action='/users'><input name='name' value='evil'></form>"
            "<script>document.getElementById('f').submit();</script>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} | Demo Market</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='desc'>{html.escape(description)}</p>{script}"
        "</body></html>"
    ).encode()


def _matches(title: str, description: str, category: str | None, spec) -> list[dict]:
    matches = []
    for term, field, words in spec:
        text = title if field == "title" else description
        start = text.lower().find(words.lower())
        assert start >= 0, (term, words)
        matches.append(
            {
                "term": term,
                "category": category,
                "field": field,
                "start": start,
                "end": start + len(words),
                "text": text[start : start + len(words)],
                "score": 100.0,
                "excluded_by": None,
            }
        )
    return matches


def build(store, *, now: datetime.datetime | None = None, marketplace: str = "demo") -> dict[str, int]:
    """Save the sample listings (one capture each, two for KW-1001); returns {listing_id: listing pk}."""
    now = now or datetime.datetime.now(datetime.UTC)
    run_id = db.start_run(store, spider="sample", args={})
    pks = {}
    for listing_id, seller, title, description, price, category, risk, score, spec, days_ago in LISTINGS:
        captures = [days_ago + 1, days_ago] if listing_id == "KW-1001" else [days_ago]
        for age in captures:
            fetched = now - datetime.timedelta(days=age, minutes=7)
            url = f"http://127.0.0.1:8765/item/{listing_id}"
            item = {
                "marketplace": marketplace,
                "listing_id": listing_id,
                "url": url,
                "title": title,
                "description": description,
                "price": price,
                "currency": "GBP",
                "seller": seller,
                "condition": "New",
                "extra": {"Item location": "Birmingham, UK"},
                "request_url": url,
                "response_url": url,
                "status": 200,
                "headers": {"Content-Type": ["text/html; charset=utf-8"]},
                "body": _page(title, description, hostile=listing_id == "KW-1005"),
                "fetched_at": fetched.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "purpose": "candidate",
                "classification": {
                    "flagged": category is not None,
                    "category": category,
                    "risk": risk,
                    "score": score,
                    "matches": _matches(title, description, category, spec),
                    "watchlist_version": WATCHLIST_VERSION,
                },
            }
            db.save_capture(store, item, run_id=run_id)
        pks[listing_id] = db.get_listing(store, marketplace, listing_id)["pk"]
    db.finish_run(store, run_id, stats={}, finish_reason="finished")
    return pks


# Accounts of the sample desk (never used outside a throwaway database).
USERS = {"alice": ("admin", "alice-password-1"), "bob": ("reviewer", "bob-password-22")}


def make_desk(db_path) -> dict[str, int]:
    """A fresh store at `db_path` with the sample listings and the USERS accounts; returns listing pks."""
    from webui.auth import hash_password

    store = db.connect(db_path)
    try:
        pks = build(store)
        for name, (role, password) in USERS.items():
            accounts.add_user(store, name, hash_password(password), role=role)
    finally:
        store.close()
    return pks


class Desk(NamedTuple):
    app: Flask
    path: object  # the store's Path
    pks: dict[str, int]


# ---------------------------------------------------------------- a Flask test client on the desk

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(client, url="/login") -> str:
    """The CSRF token of the client's session, as the page at `url` carries it."""
    return _TOKEN.search(client.get(url).text).group(1)


def login(client, name, password=None, ip="127.0.0.1"):
    """Log `client` in as `name` (a USERS account unless `password` is given); returns the response."""
    password = password or USERS[name][1]
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token_of(client)},
        environ_base={"REMOTE_ADDR": ip},
    )


def logged_in(app, name, password=None):
    """A test client of `app` logged in as `name`."""
    client = app.test_client()
    assert login(client, name, password).status_code == 303
    return client


def decisions_in(path, pk=None) -> list[dict]:
    """Every review decision in the store at `path` (of listing `pk` only, when given), oldest first: the audit
    trail as stored, read directly rather than through the code under test."""
    store = db.connect(path)
    try:
        sql = "SELECT * FROM decisions" + (" WHERE listing_pk = ?" if pk else "") + " ORDER BY id"
        return list(store.query(sql, [pk] if pk else []))
    finally:
        store.close()
