"""classify(): decisions, categories, explanations and exact spans.

The listings here are written for these tests (not taken from the corpus), one per rule.
"""

import dataclasses
import json
from pathlib import Path

import pytest

from classifier import Classification, classify, load_watchlist, naive_classify

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wl():
    return load_watchlist(ROOT / "watchlist.yaml")


@pytest.mark.parametrize(
    "category, title, description",
    [
        ("relay_attack", "Keyless Entry Repeater - 2 box set", "Opens and starts most keyless cars from 40m."),
        ("relay_attack", "Smart key signal booster (house + car unit)", "Car unlocks when you stand next to it."),
        ("key_programmer", "Autel MaxiIM IM608 Pro II", "Latest version, add key and AKL."),
        ("key_programmer", "OBDSTAR X300 DP Plus tablet", "Full licence."),
        ("can_injection", "CAN injector Toyota Hilux 2021", "Connect to the headlight plug and drive away."),
        ("key_emulator", "Gameboy keyless start - Kia/Hyundai", "Unlock and start in 10 seconds."),
        ("code_grabber", "Universal KeeLoq grabber 433", "Stores 50 codes."),
        ("signal_jammer", "Car key fob jammer 433/315", "Range 30m."),
        ("mechanical_entry", "Lishi HU101 2-in-1 pick", "For Ford and Volvo."),
        ("mechanical_entry", "Jiggler keys for cars 15 pcs", "Tryout set."),
    ],
)
def test_devices_are_flagged_with_their_category_and_risk(wl, category, title, description):
    result = classify(title, description, wl)
    assert result.flagged and result.category == category
    assert result.risk == wl.categories[category].risk
    assert 60 <= result.score <= 100


@pytest.mark.parametrize(
    "title, description",
    [
        (
            "Faraday Pouch for Car Keys x2",
            "Thieves use relay boxes and keyless repeaters to steal cars. This pouch stops them.",
        ),
        ("Keyless Car Key Signal Blocker Bag", "Blocks key fob signals against relay attack theft."),
        (
            "OBD Port Lock - stop key programmer theft",
            "Steel guard for the OBD socket, thieves cannot plug in key programmers.",
        ),
        ("Steering Wheel Lock Heavy Duty", "A visible deterrent against keyless theft, relay boxes and key cloning."),
        (
            "OBD2 Code Reader Check Engine Light",
            "Diagnostic only: this scanner does not support key programming or IMMO.",
        ),
        ("WiFi Repeater 1200Mbps Signal Booster Range Extender", "Dual band, boosts your signal."),
        ("Mobile Phone Signal Booster 4G", "Amplifier and outdoor antenna for EE, O2 and Vodafone."),
        ("TV Aerial Amplifier 2 way", "Signal booster for Freeview."),
        ("Marshall Guitar Amplifier 30W", "Practice amp with headphone out."),
        ("Arduino 2 Channel Relay Module 5V", "Optocoupler relay board for Raspberry Pi."),
        ("Starter Relay for Ford Focus 12V", "Fits in the fuse box, OEM part."),
        ("Replacement Key Shell 3 Button for VW", "Shell only; the chip and blade are not included."),
        ("Genuine Toyota Smart Key Fob", "Needs programming to your car by a dealer."),
        ("CR2032 Key Fob Battery 5 pack", "For car remotes and keyless entry fobs."),
        ("Garage Door Remote Duplicator 433MHz", "Copies your gate remote face to face. Not for rolling code."),
        ("4K Dash Cam with GPS", "Parking mode and G-sensor."),
        ("GPS Tracker for Car with App", "Find your car if it is stolen."),
        ("Jump Starter 2000A Power Bank", "Emergency start for flat batteries."),
        ("Nintendo Game Boy Color Console", "Comes with Pokemon Yellow."),
        ("JBL Charge 5 Bluetooth Speaker", "Portable speaker, power bank built in."),
        ("Argentine Tango Shoes Ladies", "Suede sole, size 5."),
        ("Slim Jim Meat Snacks 24 Pack", "Original smoked flavour."),
        ("Keyless Entry Remote Starter Kit for car", "Start the engine from your house with the supplied fob."),
        ("Universal Central Locking Kit with 2 remotes", "Keyless entry conversion kit for any car."),
        ("GPS jammer detector", "Warns you when someone jams your tracker."),
        ("Key programming service for Ford", "Mobile auto locksmith: we come to you, all keys lost."),
        ("Car Key Shell HU66 blade for VW", "Shell only."),
        ("Towbar bypass relay box 12N", "For trailer lights."),
        # model 18: 0.71 against its innocent threshold 0.78; models 17 and 16 flagged it (0.88, 0.90), 15 did not
        ("Anti-jammer GPS tracker", "Keeps reporting when someone jams it."),
        pytest.param(
            "Lockout Tagout Kit",
            "Safety padlocks and hasps.",
            marks=pytest.mark.xfail(strict=True, reason="model 3 regression: see docs/classifier.md Limits"),
        ),
        ("Jammer grime MC t shirt", "Size M."),  # model 18: 0.12, 17: 0.25, 16: 0.24; model 13 flagged it
    ],
)
def test_innocent_look_alikes_are_not_flagged(wl, title, description):
    result = classify(title, description, wl)
    assert not result.flagged, result.to_dict()
    assert result.category is None and result.risk is None


def test_for_locksmith_use_only_is_still_flagged(wl):
    result = classify(
        "Xhorse VVDI Key Tool Max - for locksmith use only",
        "Sold to trade only. Remote generation and all keys lost.",
        wl,
    )
    assert result.flagged and result.category == "key_programmer"


def test_bland_title_with_a_revealing_description_is_caught(wl):
    result = classify(
        "Electronics bundle, see description",
        "Two unit keyless relay: one by the house, one at the car. Works on push start cars.",
        wl,
    )
    assert result.flagged and result.category == "relay_attack"
    assert all(
        m.field == "description"
        for m in result.matches
        if m.category == "relay_attack" and not m.excluded_by and m.kind != "ngram"
    )


def test_a_disguised_title_does_not_hide_the_description(wl):
    result = classify(
        "Portable Bluetooth Speaker (read description)",
        "CAN bus injector built in, plug it into the headlight connector of a Toyota RAV4.",
        wl,
    )
    assert result.flagged and result.category == "can_injection"


@pytest.mark.parametrize(
    "title",
    [
        "K3YL3SS R3P3AT3R 2 units",
        "Кеуlеѕѕ Rеpеаtеr",
        "K.E.Y.L.E.S.S  R.E.P.E.A.T.E.R",
        "R E L A Y   B O X",
        "🔥Relay🔥Box🔥",
        "Keylesss repeator kit",
        "Ｋｅｙｌｅｓｓ Ｒｅｐｅａｔｅｒ",
        "keyless-repeater",
        "KeylessRepeater",  # model 18: 0.38; model 17: 0.20, below the rules' floor 0.3 (rules 100)
    ],
)
def test_obfuscated_titles_are_caught(wl, title):
    result = classify(title, "", wl)
    assert result.flagged and result.category == "relay_attack", title


@pytest.mark.parametrize(
    "title, category",
    [
        ("Störsender GPS für Auto", "signal_jammer"),
        ("Programmateur de clés auto OBD", "key_programmer"),
        ("Inhibidor de frecuencia GPS coche", "signal_jammer"),
        ("Wytrychy samochodowe Lishi", "mechanical_entry"),
        ("Programator chei auto", "key_programmer"),
    ],
)
def test_other_languages(wl, title, category):
    result = classify(title, "", wl)
    assert result.flagged and result.category == category


def test_spans_point_into_the_original_text(wl):
    title = "🔥 NEW Кеуless  Rеpеаtеr 🔥 + k.e.y p.r.o.g.r.a.m.m.e.r"
    result = classify(title, "Includes a Lishi HU66 decoder.", wl)
    assert result.matches
    for m in result.matches:
        source = title if m.field == "title" else "Includes a Lishi HU66 decoder."
        assert source[m.start : m.end] == m.text
    texts = {m.text for m in result.matches}
    assert "Кеуless  Rеpеаtеr" in texts and "k.e.y p.r.o.g.r.a.m.m.e.r" in texts
    assert {"Lishi", "HU66"} <= texts


def test_a_misspelt_word_has_a_lower_score_than_an_exact_one(wl):
    exact = classify("key programmer", "", wl).matches[0]
    fuzzy = classify("key progammer", "", wl).matches[0]
    assert exact.score == 100 and 85 <= fuzzy.score < 100
    assert fuzzy.text == "key progammer" and fuzzy.term == "key programmer"


def test_cancelled_matches_say_what_cancelled_them(wl):
    result = classify("Anti relay attack pouch", "Faraday lined. Protects against keyless repeaters.", wl)
    assert not result.flagged
    reasons = {m.text: m.excluded_by for m in result.matches if m.kind != "ngram"}
    assert reasons["keyless repeaters"] in ("cue 'Protects'", "cue 'against'")
    assert all(m.excluded_by for m in result.matches if m.kind != "ngram")
    negated = classify("OBD2 scanner", "Note: it does not do key programming.", wl)
    assert [m.excluded_by for m in negated.matches if m.term == "key programming"] == ["cue 'does not'"]


def test_a_cue_covers_a_whole_list(wl):
    result = classify("Car security kit", "Stops relay attacks, code grabbers and signal jammers.", wl)
    assert result.rule_score == 0
    assert {m.category for m in result.matches} >= {"relay_attack", "code_grabber", "signal_jammer"}


@pytest.mark.xfail(strict=True, reason="model 18 flags it (code_grabber 0.81; 17: 0.81); models 12 to 14 did not")
def test_a_product_that_stops_every_attack_it_names_is_not_flagged(wl):
    assert not classify("Car security kit", "Stops relay attacks, code grabbers and signal jammers.", wl).flagged


def test_one_weak_word_does_not_flag_but_a_device_and_a_target_do(wl):
    # passes again since model 14 (a strict xfail from model 2 to 13): written_am_train's car adverts taught it that
    # "keyless entry" alone sells cars (model 15: 0.09); "Signal amplifier" 0.03; the pair 0.45
    assert not classify("Signal amplifier", "", wl).flagged
    assert not classify("Keyless entry smart key", "", wl).flagged
    pair = classify("Signal amplifier for keyless entry cars", "", wl)
    assert pair.flagged and pair.category == "relay_attack" and 60 <= pair.rule_score < 100


def test_to_dict_shape(wl):
    result = classify("GPS jammer", "12V plug", wl)
    d = result.to_dict()
    # written by hand for speed: the same as dataclasses.asdict, key for key
    assert d["matches"] == [dataclasses.asdict(m) for m in result.matches] and d["matches"]
    assert list(d) == ["flagged", "category", "risk", "score", "matches", "rule_score", "probability", "model"]
    assert set(d["model"]) == {"version", "training_set", "threshold"}
    assert list(classify("GPS jammer", "12V plug", wl, mode="rules").to_dict()) == [
        "flagged",
        "category",
        "risk",
        "score",
        "matches",
    ]
    assert d["flagged"] is True and d["category"] == "signal_jammer" and isinstance(d["score"], int)
    m = d["matches"][0]
    assert {"term", "category", "field", "start", "end", "text", "score", "excluded_by"} <= set(m)
    assert json.loads(json.dumps(d)) == d


def test_default_watchlist_is_used_when_none_is_given(monkeypatch):
    monkeypatch.setenv("KEYWATCH_WATCHLIST", str(ROOT / "watchlist.yaml"))
    result = classify("Lonsdor K518ISE", "", None)
    assert isinstance(result, Classification) and result.category == "key_programmer"


def test_empty_or_missing_fields(wl):
    assert not classify("", "", wl).flagged
    assert not classify(None, None, wl).flagged


def test_naive_baseline_is_fooled_both_ways(wl):
    # substring search flags the protective pouch and misses the disguised device
    assert naive_classify("Faraday pouch against keyless repeater theft", "", wl).flagged
    assert not naive_classify("K3YL3SS R3P3AT3R", "", wl).flagged
    assert naive_classify("Keyless repeater", "", wl).category == "relay_attack"


@pytest.mark.xfail(strict=True, reason="model 2 regression (no rule features): see docs/classifier.md Limits")
def test_demo_catalogue_labels_agree_with_the_classifier(wl):
    path = ROOT / "demo_market" / "catalogue.jsonl"
    if not path.exists():
        pytest.skip("demo catalogue not present")
    disagreements = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        result = classify(row["title"], row["description"], wl)
        predicted = result.category if result.flagged else "none"
        if predicted != (row.get("category") or "none"):
            disagreements.append((row.get("id"), row.get("category"), predicted, row["title"]))
    assert disagreements == []


@pytest.mark.parametrize(
    "title, description, category",
    [
        ("game boy (the car one)", "Not the Nintendo one. Opens Kia and Hyundai.", "key_emulator"),
        (
            "Remote copier",
            "Not a garage remote cloner: catches rolling codes of car alarms and replays them.",
            "code_grabber",
        ),
    ],
)
def test_a_denied_exclusion_or_context_cancels_nothing(wl, title, description, category):
    result = classify(title, description, wl)
    assert result.flagged and result.category == category
    # to the rules, the same words without the denial are innocent
    assert not classify(title, description.replace("Not the ", "A ").replace("Not a ", "A "), wl, mode="rules").flagged


def test_a_call_out_service_description_speaks_for_the_whole_listing(wl):
    title = "Auto locksmith - lost keys, key programming"
    assert classify(title, "Xhorse VVDI2 for sale, full licences.", wl).flagged
    service = classify(title, "We come to you and program new keys. No call out charge.", wl)
    assert not service.flagged
    assert any(m.excluded_by and "callout_service" in m.excluded_by for m in service.matches)


@pytest.mark.xfail(
    strict=True, reason="known miss: the model (0.03 with model 7) does not clear the innocent-evidence threshold"
)
def test_a_device_seller_who_also_takes_appointments_is_flagged(wl):
    # the rules flag it (85: a named device, less the description's service words)
    title = "Auto locksmith - lost keys, key programming"
    booked = classify(title, "Xhorse VVDI2 for sale. Book an appointment for a free quote on bulk orders.", wl)
    assert booked.rule_score >= 60
    assert booked.flagged


@pytest.mark.parametrize(
    "title, description",
    [
        ("ELM327 Bluetooth adapter", "Reads engine codes. Not for immobiliser or key programming."),
        ("OBD2 Diagnosegerät", "Fehler auslesen und löschen. Keine Schlüsselprogrammierung."),
        ("Pochette anti-RFID pour clé", "Protection contre le vol par relais des voitures sans clé."),
    ],
)
def test_negations_and_protective_words_in_several_languages(wl, title, description):
    assert not classify(title, description, wl).flagged


@pytest.mark.parametrize(
    "title, category",
    [
        ("Ретранслятор для keyless go", "relay_attack"),  # model 18: 0.92, 17: 0.94 (model 8: 0.509 < its 0.51)
        ("Глушилка GPS для авто", "signal_jammer"),
        pytest.param(
            "Disturbatore di frequenze 433 MHz",
            "signal_jammer",
            marks=pytest.mark.xfail(
                strict=True, reason="model 18: 0.18, under the rules' floor 0.3 (rules 100); model 16: 0.47, caught"
            ),
        ),
        ("Ripetitore segnale chiave keyless", "relay_attack"),  # model 18: 0.40; model 17: 0.28, under 0.3
        ("Kit d'ouverture de voiture", "mechanical_entry"),
    ],
)
def test_italian_and_russian_and_foreign_device_words(wl, title, category):
    result = classify(title, "", wl)
    assert result.flagged and result.category == category
