"""Validate tests/data/real_titles_2.jsonl against DATA_SPEC.md.

Run: python tests/data/check_real_titles_2.py [path]
Prints counts per category, language and source; exits 1 with one line per problem.
"""

import json
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
CATEGORIES = {
    "relay_attack",
    "key_programmer",
    "can_injection",
    "key_emulator",
    "code_grabber",
    "signal_jammer",
    "mechanical_entry",
    "none",
    "ambiguous",
}
SOURCES = {"ebay", "amazon", "aliexpress", "gumtree", "dhgate", "telegram", "shop", "other"}
BOOLS = ("obfuscated", "description_only", "hard_negative", "real")
DEFAULT = Path(__file__).with_name("real_titles_2.jsonl")


def row_problems(row: object) -> list[str]:
    if not isinstance(row, dict):
        return ["not a JSON object"]
    problems = []
    if list(row) != KEYS:
        problems.append(f"keys {list(row)} differ from the spec order {KEYS}")
        return problems
    if not str(row["id"]).startswith("rt2-"):
        problems.append(f"id {row['id']!r} lacks the rt2- prefix")
    for key in ("title", "description", "lang", "source_ref", "note"):
        if not isinstance(row[key], str):
            problems.append(f"{key} is not a string")
    if isinstance(row["title"], str) and not row["title"].strip():
        problems.append("empty title")
    if row["category"] not in CATEGORIES:
        problems.append(f"unknown category {row['category']!r}")
    if row["source"] not in SOURCES:
        problems.append(f"unknown source {row['source']!r}")
    for key in BOOLS:
        if not isinstance(row[key], bool):
            problems.append(f"{key} is not a boolean")
    if row["real"] is not True:
        problems.append("real must be true in this file")
    if isinstance(row["source_ref"], str) and not row["source_ref"].strip():
        problems.append("real row without source_ref")
    if row["hard_negative"] is True and row["category"] != "none":
        problems.append("hard_negative set on a non-none row")
    if isinstance(row["lang"], str) and not (len(row["lang"]) == 2 and row["lang"].isalpha()):
        problems.append(f"lang {row['lang']!r} is not an ISO 639-1 code")
    return problems


def check(path: Path) -> tuple[list[dict], list[str]]:
    rows, problems = [], []
    ids, texts = Counter(), Counter()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"line {n}: not JSON ({err.msg})")
            continue
        problems += [f"line {n}: {p}" for p in row_problems(row)]
        if isinstance(row, dict) and list(row) == KEYS:
            rows.append(row)
            ids[row["id"]] += 1
            texts[(row["title"].strip().casefold(), row["description"].strip().casefold())] += 1
    problems += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    problems += [f"exact repeat: {t[0][:60]!r}" for t, c in texts.items() if c > 1]
    return rows, problems


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    if not path.is_file():
        print(f"no such file: {path}")
        return 1
    rows, problems = check(path)
    for field in ("category", "lang", "source"):
        counts = Counter(r[field] for r in rows)
        print(f"{field}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    flags = {key: sum(r[key] for r in rows) for key in BOOLS}
    print(f"rows {len(rows)}; " + ", ".join(f"{k} {v}" for k, v in flags.items()))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
