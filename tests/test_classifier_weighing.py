"""Weigh, don't veto: innocent words weigh against a category, strong evidence can outweigh them,
and a device described only by what it does is found, in every language of the watchlist.

The listings are written for these tests; they exercise the rules alone (classify_rules), so they
say what the watchlist's weights do whether or not a model sits on top.
"""

from pathlib import Path

import pytest

from classifier import load_watchlist
from classifier.classify import classify_rules
from classifier.watchlist_file import CLAIM_LANGUAGES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wl():
    return load_watchlist(ROOT / "watchlist.yaml")


@pytest.mark.parametrize(
    "category, title, description",
    [
        # the batteries of a relay kit described as power banks
        ("relay_attack", "Keyless repeater relay box kit", "Both units run on a power bank, charge over USB."),
        # the garage doors a jammer also blocks
        ("signal_jammer", "Car key fob jammer 433MHz", "Also works on garage door and gate remotes."),
        # the steering lock an ignition puller defeats
        ("mechanical_entry", "Ignition lock puller", "Pulls the barrel with the steering lock still on."),
        # the games-console case an emulator hides in
        (
            "key_emulator",
            "Keyless go emulator for Toyota",
            "Fits in a Nintendo Game Boy Color shell, press start to drive.",
        ),
        # the wedge in a lockout kit
        ("mechanical_entry", "Car lockout kit 22 pcs", "Long reach tool, air bag and a door stop wedge included."),
    ],
)
def test_strong_evidence_outweighs_an_innocent_word(wl, category, title, description):
    result = classify_rules(title, description, wl)
    assert result.flagged and result.category == category
    against = [m for m in result.matches if m.category == category and m.score < 0]
    assert against, "the innocent word is listed as evidence against"
    assert all(m.excluded_by.startswith("innocent ") and m.kind in ("context", "exclusion") for m in against)


@pytest.mark.parametrize(
    "title, description",
    [
        ("Faraday pouch for car keys", "Stops keyless repeaters reading your fob."),
        ("Keyless repeater Faraday pouch", "Signal blocking bag, RFID lined."),
        ("Steering wheel lock", "Thieves use relay boxes; this lock stops them driving away."),
        ("Nintendo Game Boy Color", "Console with Pokemon Yellow, works perfectly."),
    ],
)
def test_innocent_evidence_still_outweighs_a_word_it_explains(wl, title, description):
    assert not classify_rules(title, description, wl).flagged


# Real shop titles of the kind the issue lists (rewritten): products of key-programmer makers that
# are not key programmers, which used to be flagged high-risk on the maker's name alone.
@pytest.mark.parametrize(
    "title",
    [
        "Xhorse XKB501EN Wire Remote Key 3 Buttons for VW B5 Type 5pcs/lot",
        "Xhorse Condor XC-Mini Plus II Automatic Key Cutting Machine",
        "KEYDIY KD B01-3 Universal Remote 3 Button",
        "Xhorse VVDI Super Chip XT27A transponder 10 pcs",
        "OBDSTAR X300M odometer mileage correction tool",
        "Lonsdor remote tester frequency tester 315/433/868MHz",
        "Autel IM start stop reset and battery tool",
        "Advanced locksmith training course: key programming in 2 days",
        "ID48 blank transponder chip for all keys lost jobs (10 pcs)",
        "VVDI key blank flip key blade for Ford",
    ],
)
def test_maker_products_that_are_not_programmers_are_not_flagged(wl, title):
    result = classify_rules(title, "", wl)
    assert not result.flagged, [(m.term, m.score) for m in result.matches]


def test_a_real_programmer_with_accessories_is_still_flagged(wl):
    result = classify_rules("Xhorse VVDI Key Tool Max Pro key programmer + 5 universal remotes", "", wl)
    assert result.flagged and result.category == "key_programmer"


# Renewals, licences and add-ons for a tool the buyer already owns name the tool, in any language: the
# sale is not the tool, so that weighs against it (model 7). A tool sold with its licences is still one.
@pytest.mark.parametrize(
    "title, description",
    [
        ("Autel IM608 software subscription renewal, 12 months", "Emailed code for your serial number."),
        ("Lonsdor K518 annual update", "Software only."),
        ("Xhorse VVDI2 licence only (BMW FEM)", "Activated on your device."),
        ("OBDSTAR X300 DP Plus spare module, tool not included", "Plugs into your tablet."),
        ("Przedłużenie subskrypcji Autel IM508 – roczna aktualizacja", "Kod na maila."),
        ("Renovación anual de software Xtool X100 PAD3", "Solo el software."),
        ("Abrites AVDI годовое обновление", "Без прибора."),
        ("Lonsdor K518 yıllık güncelleme", "Sadece yazılım."),
    ],
)
def test_renewals_and_add_ons_for_a_tool_are_not_the_tool(wl, title, description):
    result = classify_rules(title, description, wl)
    assert not result.flagged, [(m.term, m.score, m.excluded_by) for m in result.matches]
    assert [m for m in result.matches if m.score < 0 and m.kind == "context"]


@pytest.mark.parametrize(
    "title", ["Zed-Full key programmer, full licence", "Abrites AVDI with VAG and BMW licences", "Autel IM608 + XP400"]
)
def test_a_programmer_sold_with_its_licences_is_still_flagged(wl, title):
    result = classify_rules(title, "Works, all cables.", wl)
    assert result.flagged and result.category == "key_programmer"


# One listing per language and kind, described by what the device does, never by its name.
CLAIMS = [
    (
        "en",
        "relay_attack",
        "Car gadget, 2 parts",
        "One unit by the house and one by the car: the key stays in the house.",
    ),
    ("en", "key_programmer", "Handheld tool", "Makes working keys from blanks, no dealer visit needed."),
    ("en", "can_injection", "Toyota tool", "Plug into the headlight and the doors open."),
    ("en", "key_emulator", "Small black box", "Opens and starts the car without a key. Tested on Kia."),
    ("en", "code_grabber", "433 gadget", "Captures the remote when the owner locks the car."),
    (
        "en",
        "signal_jammer",
        "12V privacy gadget",
        "Trackers go quiet and key fobs are blocked. Blocks key fobs in 20m.",
    ),
    ("en", "mechanical_entry", "Locksmith set", "Opens locked cars without damage to the lock."),
    ("de", "relay_attack", "Zubehör fürs Auto", "Ein Gerät am Haus, ein Teil am Auto – der Schlüssel bleibt im Haus."),
    ("fr", "key_emulator", "Petit boîtier noir", "Ouvre et démarre sans clé, testé sur Toyota."),
    ("es", "code_grabber", "Aparato 433", "Captura el mando cuando el dueño cierra el coche."),
    ("pl", "signal_jammer", "Gadżet 12V", "Blokuje piloty – auto się nie zamyka."),
    ("ro", "key_programmer", "Aparat de mână", "Programează chei noi, fără dealer."),
    ("it", "can_injection", "Strumento Toyota", "Si collega al faro e la macchina si apre."),
    ("nl", "relay_attack", "Set van twee kastjes", "Een kastje bij het huis, een kastje bij de auto."),
    ("ru", "key_emulator", "Устройство для авто", "Открывает и заводит без ключа."),
]


@pytest.mark.parametrize("lang, category, title, description", CLAIMS)
def test_functional_claims_flag_without_a_device_name(wl, lang, category, title, description):
    result = classify_rules(title, description, wl)
    assert result.flagged and result.category == category, [(m.term, m.kind) for m in result.matches]
    assert any(m.kind == "claim" for m in result.matches if m.category == category and not m.excluded_by)


def test_every_category_has_claims_in_every_language(wl):
    for category in wl.categories.values():
        assert set(category.claims) == set(CLAIM_LANGUAGES), category.id


def test_a_denied_claim_is_no_evidence(wl):
    result = classify_rules("Wireless doorbell", "Does not open and start cars without the key, it rings a bell.", wl)
    assert not result.flagged


@pytest.mark.parametrize(
    "title, category",
    [
        ("CANインベーダー 本体", "can_injection"),
        ("汽车遥控 信号干扰器 大功率", "signal_jammer"),
        ("स्मार्ट की रिले डिवाइस", "relay_attack"),
        ("스마트키 증폭기 판매", "relay_attack"),
        # countermeasures: the name is found, and a cue next to it takes it out
        ("CANインベーダー対策 ハンドルロック", None),
        ("防止信号干扰器", None),
        ("스마트키 증폭기 방지 파우치", None),
    ],
)
def test_device_names_and_countermeasures_in_chinese_japanese_korean_and_hindi(wl, title, category):
    # a run of Chinese characters or kana is one-character words, not a name spelled letter by letter: cues match there
    result = classify_rules(title, "", wl)
    assert (result.category if result.flagged else None) == category
    names = [m for m in result.matches if m.kind == "term"]
    assert names and all((m.excluded_by or "").startswith("cue") == (category is None) for m in names)
