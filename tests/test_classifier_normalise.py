"""Normalisation undoes sellers' disguises and keeps a correct map back to the original text."""

import random
import unicodedata

import pytest

from classifier.normalise import normalise, tokens


def words(text):
    return [w for w, _, _ in tokens(normalise(text))]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Кеуless rеpеаtеr", "keyless repeater"),  # Cyrillic look-alikes
        ("ΚΕΥLΕSS ΒΟΧ", "keyless box"),  # Greek capitals
        ("R3LAY B0X", "relay box"),  # leetspeak
        ("k3y pr0gramm3r", "key programmer"),
        ("3mula70r", "emulator"),  # a run of leet digits
        ("gr@bber", "grabber"),
        ("Ｒｅｌａｙ ｂｏｘ", "relay box"),  # full-width
        ("𝐑𝐞𝐥𝐚𝐲 𝐛𝐨𝐱", "relay box"),  # mathematical bold
        ("rel\u200bay b\u200cox", "relay box"),  # zero-width characters
        ("🇷🇪🇱🇦🇾 box", "relay box"),  # regional-indicator emoji letters
        ("Schlüsselprogrammiergerät", "schlusselprogrammiergerat"),
        ("programator kluczyków, zagłuszacz", "programator kluczykow, zagluszacz"),
        ("bruiaj GPS pentru mașină", "bruiaj gps pentru masina"),
    ],
)
def test_disguises_fold_to_plain_text(text, expected):
    assert normalise(text).text == expected


@pytest.mark.parametrize(
    "model", ["im508", "hu66", "k518", "x300", "433mhz", "2in1", "cn900", "toy48", "12v", "4g", "a4"]
)
def test_model_numbers_keep_their_digits(model):
    assert normalise(model.upper()).text == model


def test_split_and_dotted_letters_become_single_letter_words_for_the_matcher_to_join():
    assert words("K.E.Y.L.E.S.S") == list("keyless")
    assert words("R E L A Y") == list("relay")
    assert words("j-a-m-m-e-r") == list("jammer")


def test_emoji_and_decoration_separate_words():
    assert words("🔥KEY🔑PROGRAMMER🔥") == ["key", "programmer"]
    assert words("★☆ relay ☆★") == ["relay"]


def test_chinese_and_japanese_are_read_a_character_at_a_time_and_other_scripts_word_by_word():
    # Written without spaces, so each character is a word (the model's word pairs are character bigrams);
    # before 2026-12-01 none of these had a single word, and such a listing had no features.
    assert words("★彡 relay 彡★") == ["彡", "relay", "彡"]
    assert words("钥匙 リレー") == ["钥", "匙", "リ", "レ", "ー"]
    assert words("스마트키 복사기") == [unicodedata.normalize("NFKD", w) for w in ("스마트키", "복사기")]  # as jamo
    assert words("جهاز تقوية") == ["جهاز", "تقوية"]
    assert words("रिले डिवाइस")[1] == "डिवाइस"  # a spacing vowel sign stays in its word


def test_plurals_fold_to_the_singular():
    assert words("relay boxes, key programmers, jammers, keys") == [
        "relay",
        "box",
        "key",
        "programmer",
        "jammer",
        "key",
    ]
    assert words("keyless lexus glass") == ["keyless", "lexus", "glass"]


def test_leet_is_not_applied_to_prices_or_plain_numbers():
    assert normalise("£50 for 3 units, 1 left!").text == "£50 for 3 units, 1 left!"


@pytest.mark.parametrize(
    "text",
    [
        "🔥 Кеуless  r.e.p.e.a.t.e.r 🔥",
        "Ｒｅｌａｙ ｂｏｘ – 𝐧𝐞𝐰",
        "Schlüssel\u200b-Programmiergerät 🇷🇪🇱🇦🇾",
        "ﬁne ﬂat ß",
    ],
)
def test_every_token_maps_back_to_the_original_characters(text):
    norm = normalise(text)
    for word, start, end in tokens(norm):
        a, b = norm.original_span(start, end)
        original = text[a:b]
        # the original slice folds back to exactly this word (plural folding aside)
        assert [w for w, _, _ in tokens(normalise(original))] == [word]


def test_ascii_input_has_identity_offsets():
    norm = normalise("Relay Box")
    assert norm.offsets is None and norm.original_span(6, 9) == (6, 9)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ретранслятор для keyless go", "retranslyator dlya keyless go"),  # real Russian is transliterated
        ("Глушилка GPS", "glushilka gps"),
        ("Геймбой эмулятор ключа", "geimboi emulyator klyucha"),
        ("САN injесtоr Tоуоtа", "can injector toyota"),  # look-alikes in Latin words stay look-alikes
    ],
)
def test_real_cyrillic_is_transliterated_but_look_alikes_are_folded(text, expected):
    assert normalise(text).text == expected


def test_transliterated_spans_map_back_to_the_original_word():
    text = "Новый ретранслятор keyless"
    norm = normalise(text)
    start = norm.text.index("retranslyator")
    a, b = norm.original_span(start, start + len("retranslyator"))
    assert text[a:b] == "ретранслятор"
    k = norm.text.index("keyless")
    a, b = norm.original_span(k, k + len("keyless"))
    assert text[a:b] == "keyless"


def test_the_quick_path_for_plain_characters_folds_as_the_general_path_does():
    # normalise() replaces "plain" characters (one ASCII or unchanged character each: "£", "【",
    # "é", bold letters, a lone surrogate) in bulk; mixed with every kind of character, its result
    # must be what the character-by-character path gives
    from classifier.normalise import _normalise_general, normalise

    odd = "£€【】éÉüÜłŁßİıΣσςΑΒΡ𝐞𝐑Ｋｅⓚŀĳﬁ\u0301\u200b\u200c🔥✅•µ°½²\ud800а Кл"
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(odd) if rng.random() < 0.3 else rng.choice("Ab3 r.$|0x") for _ in range(12))
        assert normalise(text) == _normalise_general(text), repr(text)
