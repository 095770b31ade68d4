"""Assemble the real pages of tests/real_pages.yaml into the local cache from saved code-search answers.

The code-search tool (available to developers, not to tests or CI) returns a stored file as pieces of text:
`{"repo", "path", "commit", "offset", "text", "total_chars", ...}`. Save each answer as a JSON file anywhere under
a folder, then:

    python scripts/fetch_real_pages.py SAVED_ANSWERS_DIR [--cache ~/.cache/keywatch/real_pages]

For every manifest entry whose pieces are all there (offsets 0..total_chars without gaps), the text is joined,
written as UTF-8 to CACHE/<file>, and its SHA-256 printed; an entry whose manifest sha256 is set must match it, or
nothing is written. Nothing is fetched from the network, and nothing is written inside the repository.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "real_pages.yaml"
DEFAULT_CACHE = Path("~/.cache/keywatch/real_pages").expanduser()


def saved_pieces(folder: Path) -> dict[tuple[str, str, str], dict[int, dict]]:
    pieces: dict[tuple[str, str, str], dict[int, dict]] = {}
    for path in folder.rglob("*.json"):
        try:
            answer = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(answer, dict) and {"repo", "path", "commit", "text"} <= answer.keys():
            key = (answer["repo"], answer["path"], answer["commit"])
            pieces.setdefault(key, {})[int(answer.get("offset") or 0)] = answer
    return pieces


def assemble(pieces: dict[int, dict]) -> str | None:
    """The whole text, or None when a piece is missing."""
    text, offset = [], 0
    total = next(iter(pieces.values())).get("total_chars")
    while offset < (total or 0):
        piece = pieces.get(offset)
        if piece is None:
            return None
        text.append(piece["text"])
        offset += len(piece["text"])
    return "".join(text) if total is not None and offset == total else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("saved", type=Path, help="folder of saved code-search answers (JSON)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where pages go [{DEFAULT_CACHE}]")
    args = parser.parse_args(argv)
    if args.cache.resolve().is_relative_to(ROOT):
        parser.error("the cache must be outside the repository: real pages are never committed")
    pieces = saved_pieces(args.saved)
    status = 0
    for entry in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["pages"]:
        found = pieces.get((entry["repo"], entry["path"], entry["commit"]))
        text = assemble(found) if found else None
        if text is None:
            print(f"missing  {entry['file']}: not all of {entry['repo']}/{entry['path']} was saved")
            continue
        body = text.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()
        if entry.get("sha256") and entry["sha256"] != digest:
            print(f"MISMATCH {entry['file']}: sha256 {digest}, manifest says {entry['sha256']}")
            status = 1
            continue
        target = args.cache / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        print(f"ok       {entry['file']}  sha256 {digest}  ({len(body)} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
