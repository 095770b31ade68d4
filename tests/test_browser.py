"""The review desk in a real browser: Debian's headless Chromium driven by playwright, app on 127.0.0.1.

In CI (CI=true) a missing chromium is a failure, not a skip: scripts/system-deps.sh must have installed it.
"""

import os

import pytest

import db
from tests.support.browser import launch, log_in, require_chromium, serve_in_thread
from tests.support.desk import HOSTILE_MARKER, USERS, decisions_in
from webui import create_app

try:
    from playwright import sync_api
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture
def live_desk(desk):
    """The sample desk served on 127.0.0.1 (an app without TESTING, as `keywatch serve` makes it)."""
    with serve_in_thread(create_app(desk.path)) as base_url:
        yield base_url, desk.path, desk.pks


@pytest.fixture
def page(browser, live_desk):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
    yield page
    context.close()


def test_triage_three_listings_from_the_keyboard(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    order = ["KW-1001", "KW-1003", "KW-1002"]  # the queue's first three: critical 96, critical 94, high 91
    page.keyboard.press("j")
    assert page.get_attribute("tr.selected", "id") == f"row-{pks[order[0]]}"
    for key, listing, status in (
        ("c", order[0], "confirmed"),
        ("d", order[1], "dismissed"),
        ("e", order[2], "escalated"),
    ):
        page.keyboard.press(key)
        # htmx swaps the row in place (no page load), then the selection moves on to the next row.
        page.wait_for_selector(f"#row-{pks[listing]}.review-{status}")
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1005']}"
    page.keyboard.press("k")
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1002']}"
    # n focuses the selected row's note box; Enter adds the note without changing the status.
    page.keyboard.press("n")
    page.keyboard.type("asked a colleague to check the seller")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#row-{pks['KW-1002']}.review-escalated")
    page.wait_for_function("document.querySelectorAll('.flash-error').length === 0")
    rows = _wait_for_decisions(path, 4)
    assert [(r["listing_pk"], r["user"], r["action"], r["status_before"], r["status_after"]) for r in rows] == [
        (pks["KW-1001"], "bob", "confirm", "pending", "confirmed"),
        (pks["KW-1003"], "bob", "dismiss", "pending", "dismissed"),
        (pks["KW-1002"], "bob", "escalate", "pending", "escalated"),
        (pks["KW-1002"], "bob", "note", "escalated", "escalated"),
    ]
    assert rows[0]["category"] == "relay_attack" and rows[1]["reason"] == "false_positive"
    assert rows[3]["note"] == "asked a colleague to check the seller"
    store = db.connect(path)
    assert store.conn.execute("SELECT count(*) FROM chain WHERE record_type = 'decision'").fetchone()[0] == 4
    assert db.verify(store).problems == []
    # "/" jumps to search; Enter on a selected row opens the listing.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("lishi")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/?**q=lishi**")
    assert page.locator("#queue tbody tr").count() == 1
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/listing/{pks['KW-1004']}")
    assert page.csp_errors == []  # htmx and keys.js run under script-src 'self' with nothing blocked


def _wait_for_decisions(path, count, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        rows = decisions_in(path)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_keys_work_on_the_listing_page(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "alice", USERS["alice"][1])
    page.goto(f"{base}/listing/{pks['KW-1004']}")
    page.keyboard.press("e")
    page.wait_for_url(f"{base}/listing/{pks['KW-1004']}")
    page.wait_for_selector("text=Decision recorded.")
    assert [(r["listing_pk"], r["action"]) for r in decisions_in(path)] == [(pks["KW-1004"], "escalate")]


def test_a_refused_decision_is_shown_and_nothing_recorded(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    page.keyboard.press("j")
    page.select_option(f"#row-{pks['KW-1001']} select[name=reason]", "other")
    page.keyboard.press("Escape")  # leave the menu, back to the list keys
    page.keyboard.press("d")  # "other" needs a note: refused
    error = page.wait_for_selector(".flash-error")
    assert "needs a note" in error.text_content()
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1001']}"  # no advance on failure
    assert decisions_in(path) == []


def test_captured_script_does_not_run(page, live_desk):
    base, path, pks = live_desk
    # Control: the same kind of script does run when a page is not protected, so the checks below can fail.
    page.set_content(f"<title>plain</title><script>document.title = '{HOSTILE_MARKER}'</script>")
    assert page.title() == HOSTILE_MARKER

    log_in(page, base, "alice", USERS["alice"][1])
    posted = []
    page.on("request", lambda r: r.method == "POST" and posted.append(r.url))
    page.goto(f"{base}/listing/{pks['KW-1005']}")
    frame_element = page.wait_for_selector("iframe.capture")
    assert frame_element.get_attribute("sandbox") == ""
    frame = frame_element.content_frame()
    frame.wait_for_load_state("load")
    page.wait_for_timeout(500)  # give any script, fetch or form submission time to happen
    assert "Rolling code grabber" in frame.title()  # the captured page did render
    assert page.title() != HOSTILE_MARKER and frame.title() != HOSTILE_MARKER
    # Opened on its own (no iframe), the route's CSP sandbox header still keeps scripts off.
    capture_url = frame.url
    page.goto(capture_url)
    page.wait_for_timeout(300)
    assert "Rolling code grabber" in page.title() and page.title() != HOSTILE_MARKER
    assert posted == []
    store = db.connect(path)
    assert [r["name"] for r in store.query("SELECT name FROM users")] == ["alice", "bob"]


def test_post_without_csrf_token_is_refused(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "alice", USERS["alice"][1])
    statuses = page.evaluate(
        """async ([url, usersUrl]) => {
            const form = (data) => ({method: 'POST', body: new URLSearchParams(data)});
            const a = await fetch(url, form({action: 'escalate'}));
            const b = await fetch(url, form({action: 'escalate', csrf_token: 'guessed'}));
            const c = await fetch(usersUrl, form({name: 'eve', password: 'eve-password-1', role: 'admin'}));
            return [a.status, b.status, c.status];
        }""",
        [f"{base}/listing/{pks['KW-1001']}/decide", f"{base}/users"],
    )
    assert statuses == [400, 400, 400]
    assert decisions_in(path) == []
    # The same request with the page's token goes through: the refusals above were about the token.
    ok = page.evaluate(
        """async (url) => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({action: 'escalate', csrf_token: token});
            const r = await fetch(url, {method: 'POST', body: body});
            return r.status;
        }""",
        f"{base}/listing/{pks['KW-1001']}/decide",
    )
    assert ok == 200 and [d["action"] for d in decisions_in(path)] == ["escalate"]


def test_session_cookie_is_not_readable_by_scripts(page, live_desk):
    base, _, _ = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    assert page.evaluate("document.cookie") == ""
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def _tab_count(page, status):
    return int(page.text_content(f"#status-tabs a[href*='status={status}'] .count"))


def test_decisions_update_the_tab_counts_and_decided_rows_leave_the_open_view(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    assert (_tab_count(page, "open"), _tab_count(page, "confirmed"), _tab_count(page, "dismissed")) == (5, 0, 0)
    page.keyboard.press("j")
    page.keyboard.press("c")  # KW-1001 confirmed: selection moves on to KW-1003
    page.wait_for_selector(f"#row-{pks['KW-1001']}.review-confirmed.left-view")
    page.wait_for_selector("#status-tabs a[href*='status=confirmed'] .count:text-is('1')")
    assert (_tab_count(page, "open"), _tab_count(page, "pending")) == (4, 4)
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1003']}"
    page.keyboard.press("d")  # KW-1003 dismissed
    # The tab counts swap in out of band before the row settles: wait for the row too.
    page.wait_for_selector(f"#row-{pks['KW-1003']}.review-dismissed.left-view")
    page.wait_for_selector("#status-tabs a[href*='status=dismissed'] .count:text-is('1')")
    assert _tab_count(page, "open") == 3 and _tab_count(page, "all") == 5
    # Both decided rows are still there, dimmed, until the next movement; then only undecided rows remain.
    assert page.locator("#queue tbody tr.left-view").count() == 2
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1002']}"
    page.keyboard.press("k")  # nothing undecided above KW-1002 any more: the selection stays
    assert page.locator(f"#row-{pks['KW-1001']}, #row-{pks['KW-1003']}").count() == 0
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1002']}"
    page.keyboard.press("j")
    assert page.get_attribute("tr.selected", "id") == f"row-{pks['KW-1005']}"
    assert page.locator("#queue tbody tr.row").count() == 3
    assert len(_wait_for_decisions(path, 2)) == 2
    assert page.csp_errors == []


def test_an_escalation_stays_in_the_open_view_but_leaves_pending(page, live_desk):
    base, _, pks = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    page.goto(f"{base}/?status=pending")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.wait_for_selector(f"#row-{pks['KW-1001']}.review-escalated.left-view")
    page.keyboard.press("j")
    assert page.locator(f"#row-{pks['KW-1001']}").count() == 0
    page.goto(f"{base}/?status=open")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.wait_for_selector(f"#row-{pks['KW-1001']}.review-escalated")
    assert page.locator(f"#row-{pks['KW-1001']}.left-view").count() == 0


def test_a_decision_after_logging_out_in_another_tab_lands_on_login(page, live_desk):
    base, path, pks = live_desk
    log_in(page, base, "bob", USERS["bob"][1])
    other = page.context.new_page()
    other.goto(f"{base}/")
    other.click("button:has-text('Log out')")
    other.wait_for_url(f"{base}/login")
    other.close()
    page.keyboard.press("j")
    page.keyboard.press("c")  # htmx POST without a session: HX-Redirect to the login page, nothing recorded
    page.wait_for_url(f"{base}/login")
    assert "Your session has ended" in page.text_content(".flash-error")
    assert decisions_in(path) == []


def test_the_trend_chart_fills_its_panel(page, live_desk):
    base, _, _ = live_desk
    log_in(page, base, "alice", USERS["alice"][1])
    page.goto(f"{base}/dashboard")
    sizes = page.evaluate("""() => {
        const svg = document.querySelector('svg.chart'), panel = svg.closest('.panel');
        const style = getComputedStyle(panel);
        return [svg.getBoundingClientRect().width,
                panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)];
    }""")
    chart_width, panel_width = sizes
    assert panel_width > 1000  # a wide window: a fixed-size chart would leave most of it empty
    assert abs(chart_width - panel_width) < 2
    page.set_viewport_size({"width": 700, "height": 900})
    chart_width, panel_width = page.evaluate("""() => {
        const svg = document.querySelector('svg.chart'), panel = svg.closest('.panel');
        const style = getComputedStyle(panel);
        return [svg.getBoundingClientRect().width,
                panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)];
    }""")
    assert abs(chart_width - panel_width) < 2  # and it shrinks with a narrow window, no horizontal scroll


def test_date_filters_take_iso_dates_whatever_the_locale(browser, live_desk):
    base, _, _ = live_desk
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        log_in(page, base, "bob", USERS["bob"][1])
        page.fill("input[name=since]", "2026-11-01")
        page.press("input[name=since]", "Enter")
        page.wait_for_url("**since=2026-11-01**")
        assert page.input_value("input[name=since]") == "2026-11-01"
        assert page.get_attribute("input[name=since]", "placeholder") == "YYYY-MM-DD"
        # A non-ISO date is caught by the browser before it is sent (the server would flash it too).
        page.fill("input[name=until]", "11/28/2026")
        assert page.evaluate("document.querySelector('input[name=until]').checkValidity()") is False
    finally:
        context.close()
