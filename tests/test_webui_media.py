"""The review desk shows what the page looked like: the screenshot first (the raw page one click away), a photo
strip, a thumbnail per queue row; images are served sandboxed, as an image type only when they are one."""

import re

import pytest

import db
from tests.support.desk import logged_in
from tests.support.media import png, rendered_item

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.fixture
def rendered(desk):
    """The sample desk plus KW-2000: rendered, with one photo; KW-2001: a 'photo' whose bytes are HTML."""
    store = db.connect(desk.path)
    db.save_capture(store, rendered_item("KW-2000", marketplace="demo", photo=png((0, 120, 0), (300, 200))))
    db.save_capture(store, rendered_item("KW-2001", marketplace="demo", photo=b"<html><script>x()</script></html>"))
    ids = {
        (r["listing_id"], r["purpose"]): r["id"]
        for r in store.query(
            "SELECT l.listing_id, c.purpose, c.id FROM captures c JOIN listings l ON l.pk = c.listing_pk"
        )
    }
    pks = {lid: db.get_listing(store, "demo", lid)["pk"] for lid in ("KW-2000", "KW-2001")}
    store.close()
    return logged_in(desk.app, "bob"), ids, pks


def test_the_listing_page_shows_the_screenshot_before_the_raw_page_and_a_photo_strip(rendered):
    client, ids, pks = rendered
    page = client.get(f"/listing/{pks['KW-2000']}").get_data(as_text=True)
    shot = f"/capture/{ids['KW-2000', 'attachment:screenshot']}/image"
    assert f'<img id="screenshot" src="{shot}"' in page
    assert page.index('id="screenshot"') < page.index('<details class="raw-page">') < page.index("<iframe")
    assert f'src="/capture/{ids["KW-2000", "attachment:photo"]}/thumbnail"' in page
    assert "pHash <code>ffff000000000000</code>" in page
    # The responses the rendering loaded are counted, not listed one by one.
    assert "the 2 responses it loaded" in page and page.count("attachment:resource") == 0


def test_a_listing_never_rendered_shows_the_raw_page_open(desk, alice):
    page = alice.get(f"/listing/{desk.pks['KW-1001']}").get_data(as_text=True)
    assert "Not rendered" in page and '<details class="raw-page" open>' in page and "No photos kept" in page


def test_images_are_served_sandboxed_with_their_type_only_when_they_are_images(rendered):
    client, ids, _ = rendered
    for capture in (ids["KW-2000", "attachment:screenshot"], ids["KW-2000", "attachment:photo"]):
        response = client.get(f"/capture/{capture}/image")
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_data().startswith(b"\x89PNG")
    fake = client.get(f"/capture/{ids['KW-2001', 'attachment:photo']}/image")
    assert fake.headers["Content-Type"] == "application/octet-stream"
    assert fake.headers["Content-Disposition"].startswith("attachment")
    assert fake.headers["Content-Security-Policy"].startswith("sandbox")
    assert client.get(f"/capture/{ids['KW-2001', 'attachment:photo']}/thumbnail").status_code == 404
    # A page capture is no image: the raw page has its own (sandboxed) route.
    assert client.get(f"/capture/{ids['KW-2000', 'candidate']}/image").status_code == 404


def test_thumbnails_are_small_pngs_of_the_photo_or_the_top_of_the_screenshot(rendered):
    import io

    from PIL import Image

    client, ids, _ = rendered
    for capture in (ids["KW-2000", "attachment:photo"], ids["KW-2000", "attachment:screenshot"]):
        response = client.get(f"/capture/{capture}/thumbnail")
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")
        with Image.open(io.BytesIO(response.get_data())) as image:
            assert image.width <= 160 and image.height <= 120


def test_the_queue_shows_a_thumbnail_per_row_that_has_one(rendered):
    client, ids, pks = rendered
    page = client.get("/?status=all").get_data(as_text=True)
    row = re.search(rf'<tr id="row-{pks["KW-2000"]}".*?</tr>', page, re.S).group(0)
    assert f'src="/capture/{ids["KW-2000", "attachment:photo"]}/thumbnail"' in row
    rows = re.findall(r'<tr id="row-\d+".*?</tr>', page, re.S)
    assert sum('class="thumb"><img' in r for r in rows) == 2  # the sample desk's listings have no pictures


def test_images_need_a_login(rendered, desk):
    _, ids, _ = rendered
    response = desk.app.test_client().get(f"/capture/{ids['KW-2000', 'attachment:screenshot']}/image")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
