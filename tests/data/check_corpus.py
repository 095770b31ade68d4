"""Validate labelled corpora written to DATA_SPEC (written_c.jsonl, real_titles_2.jsonl) and print their counts.

Run: .venv/bin/python tests/data/check_corpus.py FILE [FILE ...]. Exits 1 with one line per problem.
tests/test_fresh_split.py runs the same check in CI.
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
DEVICES = {
    "relay_attack",
    "key_programmer",
    "can_injection",
    "key_emulator",
    "code_grabber",
    "signal_jammer",
    "mechanical_entry",
}
CATEGORIES = DEVICES | {"none", "ambiguous"}
SOURCES = {"ebay", "amazon", "aliexpress", "gumtree", "dhgate", "telegram", "shop", "other"}
FLAGS = ("obfuscated", "description_only", "hard_negative", "real")


def row_problems(row: object) -> list[str]:
    """Everything wrong with one row; empty when it follows DATA_SPEC."""
    if not isinstance(row, dict) or list(row) != KEYS:
        return [f"keys are not {KEYS}"]
    found = [f"{key} is not a string" for key in KEYS if key not in FLAGS and not isinstance(row[key], str)]
    found += [f"{key} is not a boolean" for key in FLAGS if not isinstance(row[key], bool)]
    if found:
        return found
    if not row["title"].strip():
        found.append("empty title")
    if row["category"] not in CATEGORIES:
        found.append(f"unknown category {row['category']!r}")
    if row["source"] not in SOURCES:
        found.append(f"unknown source {row['source']!r}")
    if not (len(row["lang"]) == 2 and row["lang"].isalpha()):
        found.append(f"lang {row['lang']!r} is not an ISO 639-1 code")
    # A hard negative is by definition an innocent product.
    if row["hard_negative"] and row["category"] != "none":
        found.append("hard_negative on a row that is not none")
    # A real row says where it was copied from; a written one has nothing to cite.
    if row["real"] != bool(row["source_ref"].strip()):
        found.append("a real row needs a source_ref, a written row must have none")
    if row["description_only"] and not row["description"].strip():
        found.append("description_only with an empty description")
    return found


def check(path: Path) -> tuple[list[dict], list[str]]:
    """(the well-formed rows, one line per problem) of one corpus file."""
    rows, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name} line {number}: not JSON ({exc.msg})")
            continue
        found = row_problems(row)
        problems += [f"{path.name} line {number}: {problem}" for problem in found]
        if not found:
            rows.append(row)
    ids = Counter(r["id"] for r in rows)
    texts = Counter((r["title"].strip().casefold(), r["description"].strip().casefold()) for r in rows)
    problems += [f"{path.name}: duplicate id {i}" for i, n in ids.items() if n > 1]
    problems += [f"{path.name}: exact repeat {t[0][:60]!r}" for t, n in texts.items() if n > 1]
    return rows, problems


def main(paths: list[str]) -> int:
    failed = False
    for path in map(Path, paths):
        rows, problems = check(path)
        print("\n".join(problems) or f"{path.name}: {len(rows)} rows, all valid")
        failed |= bool(problems)
        devices = [r for r in rows if r["category"] in DEVICES]
        for key in ("category", "lang", "source"):
            print(f"  {key}:", dict(Counter(r[key] for r in rows).most_common()))
        print("  device rows:", len(devices), {key: sum(r[key] for r in devices) for key in FLAGS[:2]})
        print("  hard negatives:", sum(r["hard_negative"] for r in rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
