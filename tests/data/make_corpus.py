"""Generate the labelled listing corpus: `python tests/data/make_corpus.py`.

Two phrase banks written separately: `bank_heldout.py` (written first, before any tuning, and
never tuned on) and `bank_dev.py` (the part the watchlist was tuned against). Each bank holds
seller phrasing per device category, innocent look-alike products, plain products and
genuinely dual-use ("ambiguous") ones. This script combines them with marketplace styles
(eBay, Amazon, AliExpress, Gumtree, Facebook, small shops) and the evasions sellers use
(leetspeak, homoglyphs, spaced or dotted letters, emoji, zero-width characters, misspellings),
seeded so the committed files are reproducible.

Output: corpus_heldout.jsonl and corpus_dev.jsonl, one listing per line:
{"id", "title", "description", "category", "source", "lang", "obfuscated"}.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

SOURCES = ["ebay", "amazon", "aliexpress", "gumtree", "facebook", "shop"]

CYRILLIC = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "x": "х",
    "y": "у",
    "i": "і",
    "s": "ѕ",
    "A": "А",
    "E": "Е",
    "O": "О",
    "P": "Р",
    "C": "С",
    "K": "К",
    "M": "М",
    "H": "Н",
    "T": "Т",
    "B": "В",
    "X": "Х",
}
GREEK = {"o": "ο", "a": "α", "i": "ι", "v": "ν", "k": "κ", "O": "Ο", "A": "Α", "E": "Ε", "K": "Κ", "T": "Τ", "I": "Ι"}
LEET = {"e": "3", "o": "0", "a": "4", "i": "1", "s": "5", "t": "7"}
EMOJI = ["🔥", "🔑", "🚗", "⭐", "✅", "💯", "⚡", "🚘", "📡", "🔓"]


def leet(word: str, rng: random.Random) -> str:
    out = []
    for c in word:
        if c.lower() in LEET and rng.random() < 0.55:
            out.append(LEET[c.lower()])
        else:
            out.append(c)
    s = "".join(out)
    return s if s != word else word.replace("e", "3").replace("o", "0")


def homoglyph(word: str, rng: random.Random) -> str:
    table = CYRILLIC if rng.random() < 0.75 else GREEK
    out = [table.get(c, c) if rng.random() < 0.6 else c for c in word]
    s = "".join(out)
    return s if s != word else "".join(table.get(c, c) for c in word)


def spaced(word: str, rng: random.Random) -> str:
    sep = rng.choice([" ", ".", "-", "*", "_", " . "])
    return sep.join(c for c in word if c != " ") if rng.random() < 0.5 else "  ".join(sep.join(w) for w in word.split())


def emojify(word: str, rng: random.Random) -> str:
    words = word.split()
    e = rng.choice(EMOJI)
    if len(words) > 1 and rng.random() < 0.6:
        return f" {e} ".join(words)
    w = words[0]
    cut = rng.randint(1, max(1, len(w) - 1))
    return w[:cut] + e + w[cut:] + (" " + " ".join(words[1:]) if words[1:] else "")


def zero_width(word: str, rng: random.Random) -> str:
    return "\u200b".join(word) if rng.random() < 0.5 else "\u200c".join(word[:4]) + word[4:]


def misspell(word: str, rng: random.Random) -> str:
    words = word.split()
    idx = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[idx]
    if len(w) < 6:
        return leet(word, rng)
    i = rng.randint(1, len(w) - 2)
    kind = rng.choice(["drop", "double", "swap", "vowel"])
    if kind == "drop":
        w = w[:i] + w[i + 1 :]
    elif kind == "double":
        w = w[:i] + w[i] + w[i:]
    elif kind == "swap":
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    else:
        vowels = [j for j, c in enumerate(w) if c in "aeiou" and 0 < j < len(w) - 1]
        if vowels:
            j = rng.choice(vowels)
            w = w[:j] + rng.choice([v for v in "aeiou" if v != w[j]]) + w[j + 1 :]
    words[idx] = w
    return " ".join(words)


def fullwidth(word: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)


def bold(word: str, rng: random.Random) -> str:
    out = []
    for c in word:
        if "A" <= c <= "Z":
            out.append(chr(0x1D400 + ord(c) - ord("A")))
        elif "a" <= c <= "z":
            out.append(chr(0x1D41A + ord(c) - ord("a")))
        else:
            out.append(c)
    return "".join(out)


TRICKS = [leet, homoglyph, spaced, emojify, zero_width, misspell, fullwidth, bold]


def obfuscate_phrases(text: str, phrases: list[str], trick, rng: random.Random) -> tuple[str, bool]:
    changed = False
    for phrase in sorted(phrases, key=len, reverse=True):
        pattern = re.compile(re.escape(phrase), re.IGNORECASE)
        if pattern.search(text):
            text = pattern.sub(lambda m: trick(m.group(), rng), text)
            changed = True
    return text, changed


def dress(source: str, title: str, desc: str, rng: random.Random) -> tuple[str, str]:
    """Marketplace habits: eBay shouting, AliExpress SEO titles, Facebook brevity."""
    if source == "ebay":
        if rng.random() < 0.4:
            title = title.upper()
        if rng.random() < 0.5:
            title += rng.choice([" UK STOCK", " - UK SELLER", " **FAST POST**", " NEW", " BNIB"])
        desc += rng.choice(
            [
                "",
                " Posted 1st class from UK. Any questions please ask.",
                " Check out my other items! Returns accepted within 30 days.",
                " Dispatched same day if paid before 2pm.",
            ]
        )
    elif source == "amazon":
        desc = " ".join(f"【{s.strip()}】" if i == 0 else s for i, s in enumerate(desc.split(". ", 1)))
    elif source == "aliexpress":
        title = (
            rng.choice(["2024 New ", "Newest ", "Hot Sale ", "", "Original "])
            + title
            + rng.choice([" Free Shipping", " High Quality", " Dropshipping", ""])
        )
        desc += rng.choice(
            [
                "",
                " Package include: 1 x main unit, 1 x user manual.",
                " Shipping: 7-15 working days. Please contact us before leaving feedback.",
            ]
        )
    elif source == "gumtree":
        desc = (
            rng.choice(["Selling ", "For sale: ", "Up for grabs, ", ""])
            + desc[0].lower()
            + desc[1:]
            + rng.choice([" Collection only.", " Cash on collection.", " Can post if you cover it.", ""])
        )
    elif source == "facebook":
        desc = desc + " " + rng.choice(["DM for more info", "PM me", "Message for price", "ono", "no time wasters"])
        if rng.random() < 0.3:
            title = title.lower()
    return title, desc.strip()


def build(bank, split: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []

    def add(title, desc, category, lang="en", source=None, obfuscated=False):
        source = source or rng.choice(SOURCES)
        if lang == "en":
            title, desc = dress(source, title, desc, rng)
        rows.append(
            {
                "title": " ".join(title.split()),
                "description": desc,
                "category": category,
                "source": source,
                "lang": lang,
                "obfuscated": obfuscated,
            }
        )

    def fill(template: str, slots: dict) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: rng.choice(slots[m.group(1)]), template)

    for category, spec in bank.POSITIVES.items():
        slots = spec.get("slots", {})
        for _ in range(spec["count"]):
            bland = rng.random() < 0.12
            title = fill(rng.choice(spec["bland_titles"] if bland else spec["titles"]), slots)
            sentences = [fill(rng.choice(spec["reveal"]), slots)]
            extra = rng.sample(spec["generic"], k=min(len(spec["generic"]), rng.randint(1, 3)))
            sentences += [fill(s, slots) for s in extra]
            if bland:
                sentences.append(fill(rng.choice(spec["reveal"]), slots))
            rng.shuffle(sentences)
            desc = " ".join(sentences)
            add(title, desc, category)
        for _ in range(spec["obfuscated"]):
            title = fill(rng.choice(spec["titles"]), slots)
            desc = " ".join(fill(s, slots) for s in [rng.choice(spec["reveal"])] + rng.sample(spec["generic"], k=1))
            trick = rng.choice(TRICKS)
            title, t_changed = obfuscate_phrases(title, spec["keys"], trick, rng)
            desc, d_changed = obfuscate_phrases(
                desc, spec["keys"], trick if rng.random() < 0.7 else rng.choice(TRICKS), rng
            )
            if not (t_changed or d_changed):
                title = trick(title, rng)
            add(title, desc, category, obfuscated=True)
    for lang, items in bank.FOREIGN.items():
        for category, title, desc in items:
            add(title, desc, category, lang=lang, source=rng.choice(["ebay", "aliexpress", "facebook", "shop"]))
    for group in (bank.CONFUSABLE, bank.PLAIN):
        for product in group:
            for _ in range(product["count"]):
                slots = product.get("slots", {})
                title = fill(rng.choice(product["titles"]), slots)
                desc = " ".join(
                    fill(s, slots)
                    for s in rng.sample(product["descs"], k=min(len(product["descs"]), rng.randint(2, 3)))
                )
                add(title, desc, "none")
    for _category, title, desc in bank.AMBIGUOUS:
        add(title, desc, "ambiguous")
    for category, title, desc in bank.HANDWRITTEN:
        add(title, desc, category)

    rng.shuffle(rows)
    for number, row in enumerate(rows, 1):
        row["id"] = f"{split}-{number:04d}"
    return [
        {k: row[k] for k in ("id", "title", "description", "category", "source", "lang", "obfuscated")} for row in rows
    ]


def main() -> None:
    import bank_dev
    import bank_heldout

    for split, bank, seed in (("heldout", bank_heldout, 20261128), ("dev", bank_dev, 1128)):
        rows = build(bank, split, seed)
        path = HERE / f"corpus_{split}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        cats = {}
        for row in rows:
            cats[row["category"]] = cats.get(row["category"], 0) + 1
        obf = sum(r["obfuscated"] for r in rows)
        print(f"{path.name}: {len(rows)} listings, {obf} obfuscated, {cats}")


if __name__ == "__main__":
    main()
