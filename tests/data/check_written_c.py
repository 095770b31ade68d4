"""Validate tests/data/written_c.jsonl against DATA_SPEC.md and print its counts.

Run: .venv/bin/python tests/data/check_written_c.py [path]. Exits 1 with one line per problem.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

KEYS = [
    "id",
    "title",
    "description",
    "category",
    "lang",
    "source",
    "obfuscated",
    "description_only",
    "hard_negative",
    "real",
    "source_ref",
    "note",
]
DEVICES = [
    "relay_attack",
    "key_programmer",
    "can_injection",
    "key_emulator",
    "code_grabber",
    "signal_jammer",
    "mechanical_entry",
]
CATEGORIES = {*DEVICES, "none", "ambiguous"}
SOURCES = {"ebay", "amazon", "aliexpress", "gumtree", "dhgate", "telegram", "shop", "other"}
LANGS = {"en", "de", "fr", "es", "it", "nl", "pl", "ru", "uk", "pt", "tr", "cs", "hu", "ro", "lt", "lv", "et", "sv"}
ID_RE = re.compile(r"^wc-([a-z]{2})-\d{4}$")


def problems_in(row: dict, seen: set[str]) -> list[str]:
    """Everything wrong with one row; empty when it follows DATA_SPEC."""
    found = []
    if list(row) != KEYS:
        return [f"keys {list(row)} are not {KEYS}"]
    match = ID_RE.match(row["id"])
    if not match or match.group(1) != row["lang"]:
        found.append(f"id {row['id']!r} is not wc-<lang>-NNNN for lang {row['lang']!r}")
    if row["id"] in seen:
        found.append(f"duplicate id {row['id']}")
    if row["category"] not in CATEGORIES:
        found.append(f"unknown category {row['category']!r}")
    if row["source"] not in SOURCES:
        found.append(f"unknown source {row['source']!r}")
    if row["lang"] not in LANGS:
        found.append(f"unknown lang {row['lang']!r}")
    for key in ("obfuscated", "description_only", "hard_negative", "real"):
        if not isinstance(row[key], bool):
            found.append(f"{key} is not a bool")
    for key in ("title", "description", "source_ref", "note"):
        if not isinstance(row[key], str):
            found.append(f"{key} is not a string")
    if not row["title"].strip() or not row["note"].strip():
        found.append("empty title or note")
    # A hard negative is by definition an innocent product; a written row has nothing to cite.
    if row["hard_negative"] and row["category"] != "none":
        found.append("hard_negative on a row that is not none")
    if row["real"] or row["source_ref"]:
        found.append("written rows must have real false and an empty source_ref")
    if row["description_only"] and not row["description"].strip():
        found.append("description_only with an empty description")
    return found


def main(path: Path) -> int:
    rows, errors, seen = [], [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not JSON ({exc.msg})")
            continue
        errors += [f"line {number}: {problem}" for problem in problems_in(row, seen)]
        seen.add(row.get("id"))
        rows.append(row)
    if errors:
        print("\n".join(errors))
        return 1
    devices = [r for r in rows if r["category"] in DEVICES]
    print(f"{len(rows)} rows, {len(devices)} device rows, all valid")
    print("category:", dict(Counter(r["category"] for r in rows).most_common()))
    print("lang:", dict(Counter(r["lang"] for r in rows).most_common()))
    print("source:", dict(Counter(r["source"] for r in rows).most_common()))
    flags = {key: sum(r[key] for r in rows) for key in ("obfuscated", "description_only", "hard_negative")}
    print("flags:", flags, "empty description:", sum(not r["description"] for r in rows))
    print(
        "device rows: description_only",
        sum(r["description_only"] for r in devices),
        "obfuscated",
        sum(r["obfuscated"] for r in devices),
    )
    none = [r for r in rows if r["category"] == "none"]
    print("none:", len(none), "hard negatives:", sum(r["hard_negative"] for r in none))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("written_c.jsonl"))))
