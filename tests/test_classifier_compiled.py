"""The compiled classifier (setup.py: mypyc) is its sources, current, and classifies exactly as they do.

Python imports a module's extension before its .py, so an extension built from an older source would run
silently: `make install` rebuilds them when a source changes, and the first test fails when one was not.
Without extensions (no C compiler) there is nothing to compare and the tests are skipped.
"""

import hashlib
import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from classifier.build_check import StaleBuildError, check_build
from tests.support.corpora import readable_corpora

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "classifier"
EXTENSIONS = sorted({p for suffix in EXTENSION_SUFFIXES for p in PACKAGE.glob(f"*{suffix}")})
ROWS_PER_CORPUS = 80

compiled_only = pytest.mark.skipif(not EXTENSIONS, reason="the classifier is not compiled (make install)")

# Classifies listings given as JSON on stdin and prints each to_dict() as JSON; with "pure", from the Python source,
# as an install without a compiler runs it.
CLASSIFY = """
import json, sys
from contextlib import nullcontext
from tests.support.compiled import source_classifier
with source_classifier() if sys.argv[1] == "pure" else nullcontext():
    import classifier.match
    from classifier import classify, load_watchlist
    from classifier.classify import classify_many
    wl = load_watchlist(sys.argv[2])
    listings = [tuple(pair) for pair in json.load(sys.stdin)]
    print(classifier.match.__file__)
    for title, description in listings:
        print(json.dumps(classify(title, description, wl, mode="rules").to_dict(), ensure_ascii=False))
    for result in classify_many(listings, wl):
        print(json.dumps(result.to_dict(), ensure_ascii=False))
"""


def classified(how: str, listings: list) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", CLASSIFY, how, str(ROOT / "watchlist.yaml")],
        input=json.dumps(listings),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return run.stdout.splitlines()


def source_of(extension: Path) -> Path:
    return PACKAGE / (extension.name.split(".")[0] + ".py")


@compiled_only
def test_each_extension_was_built_from_its_source_as_it_is_now():
    built = json.loads((PACKAGE / "compiled.json").read_text(encoding="utf-8"))
    for extension in EXTENSIONS:
        source = source_of(extension)
        stale = f"{extension.name} is older than {source.name}: run `make install`"
        assert built.get(source.stem) == hashlib.sha256(source.read_bytes()).hexdigest(), stale
    assert sorted(built) == sorted(source_of(e).stem for e in EXTENSIONS)  # every module built is there


def test_importing_the_classifier_refuses_an_extension_older_than_its_source(tmp_path):
    package = tmp_path / "classifier"
    package.mkdir()
    check_build(package)  # pure Python: nothing compiled, nothing stale
    (package / f"match{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    (package / "match.py").write_text("WORDS = 1\n")
    with pytest.raises(StaleBuildError, match=r"^match\.py changed since the classifier was compiled: run `make"):
        check_build(package)  # no compiled.json
    source_hash = hashlib.sha256(b"WORDS = 1\n").hexdigest()
    (package / "compiled.json").write_text(json.dumps({"match": source_hash}))
    check_build(package)
    (package / "match.py").write_text("WORDS = 2\n")
    with pytest.raises(StaleBuildError, match=r"^match\.py changed"):
        check_build(package)


@compiled_only
def test_compiled_and_pure_python_classify_every_corpus_the_same():
    from tests.test_classifier_speed_equivalence import HOSTILE

    listings = [(text, text) for text in HOSTILE]
    for path in readable_corpora():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:ROWS_PER_CORPUS]]
        listings += [(row.get("title") or "", row.get("description") or "") for row in rows if row]
    (compiled_from, *compiled), (pure_from, *pure) = classified("compiled", listings), classified("pure", listings)
    assert compiled_from.endswith(tuple(EXTENSION_SUFFIXES)) and pure_from.endswith(".py")
    assert len(compiled) == len(pure) == 2 * len(listings)
    # as text: an int written as a float (-60.0 for -60) would change the stored JSON
    differ = [i for i, (c, p) in enumerate(zip(compiled, pure)) if c != p]
    assert not differ, f"{len(differ)} classifications differ, first: {compiled[differ[0]]} != {pure[differ[0]]}"
