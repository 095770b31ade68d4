"""Contacts in seller text: each disguise read back to one normalised value; prices, dates and ids are not contacts."""

import pytest

from networks.contacts import contacts

PHONE = "+447700900123"


@pytest.mark.parametrize(
    "text",
    [
        "call 07700 900123 now",
        "ring +44 (0)7700 900123",
        "0044 7700 900 123",
        "zero seven seven double oh nine double oh one two three",
        "Oh seven seven zero zero, nine zero zero, one two three",
        "０７７００ ９００１２３",  # fullwidth
        "0️⃣7️⃣7️⃣0️⃣0️⃣9️⃣0️⃣0️⃣1️⃣2️⃣3️⃣",  # emoji keycaps
        "0 7 7 0 0 9 0 0 1 2 3",
        "WhatsApp me: wa.me/447700900123",
    ],
)
def test_one_phone_number_however_written(text):
    assert [(c.kind, c.value) for c in contacts(text)] == [("phone", PHONE)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail keytools (at) protonmail dot com", "email", "keytools@protonmail.com"),
        ("KeyTools@ProtonMail.com", "email", "keytools@protonmail.com"),
        ("keytools [at] relaybox-shop [dot] co [dot] uk", "email", "keytools@relaybox-shop.co.uk"),
        ("t.me/Keyless_King", "handle", "telegram:keyless_king"),
        ("https://telegram.me/keyless_king", "handle", "telegram:keyless_king"),
        ("telegram: @keyless_king", "handle", "telegram:keyless_king"),
        ("Signal @keyman.01", "handle", "signal:keyman.01"),
        ("visit www.relaybox-shop.co.uk for more", "domain", "relaybox-shop.co.uk"),
        ("https://shop.relaybox-shop.co.uk/cart", "domain", "relaybox-shop.co.uk"),
        ("relaybox-shop dot co dot uk", "domain", "relaybox-shop.co.uk"),
    ],
)
def test_emails_handles_and_domains(text, kind, value):
    assert (kind, value) in [(c.kind, c.value) for c in contacts(text)]


@pytest.mark.parametrize(
    "text",
    [
        "£2,200.00 or nearest offer, item DM10001, listed 2026-09-01",
        "Version 1.2.3, 3.5mm jack, e.g. for a 12V socket. Great item. Shop now",
        "see ebay.co.uk and amazon.com, pay by paypal.com",
        "Part no. 1234-5678 fits 2015-2019 models",
        "seven pounds fifty, two for one",
        "Look at me dot",
    ],
)
def test_no_contacts_in_ordinary_text(text):
    assert contacts(text) == []
