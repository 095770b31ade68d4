"""Compiles the classifier's hot modules with mypyc at `pip install` (`make install`); pyproject.toml holds the rest.

The compiled modules are the same .py files, compiled as they are: Python imports a module's extension
(classifier/match.cpython-311-....so) before its .py, and without them (no C compiler, or a build that failed)
keywatch runs the .py files, slower and otherwise the same (tests/test_classifier_compiled.py compares the two).
Beside the extensions the build writes classifier/compiled.json: each compiled module's source hash, so a
test fails when an extension is older than its source (`make install` rebuilds them when a source changes).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The modules a listing passes through, in the order it does (docs/classifier.md, Speed).
COMPILED = [
    "classifier/narrow.py",
    "classifier/normalise.py",
    "classifier/match.py",
    "classifier/cues.py",
    "classifier/rules.py",
    "classifier/flag_rule.py",
    "classifier/feature_places.py",
    "classifier/new_rows.py",
    "classifier/explanation.py",
    "classifier/model.py",
    "classifier/classify.py",
]
MANIFEST = "compiled.json"  # in the classifier package, beside the extensions


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class BuildWithSourceHashes(build_ext):
    """build_ext that records which source each extension was compiled from, and carries on without them."""

    def run(self) -> None:
        # a failed build must not leave the last build's extensions behind, compiled from older sources
        for ext in self.extensions:
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
        package = Path(self.get_ext_fullpath("classifier.match")).parent
        (package / MANIFEST).unlink(missing_ok=True)
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler, or one that fails: the .py files still work
            print(f"keywatch: the classifier is not compiled ({exc}); it runs as pure Python", file=sys.stderr)
            return
        hashes = {Path(source).stem: source_hash(Path(source)) for source in COMPILED}
        (package / MANIFEST).write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")


def extensions() -> list:
    try:
        from mypyc.build import mypycify
    except ImportError:  # a build without mypy (pyproject.toml's build requirements name it)
        print("keywatch: mypy is not installed; the classifier runs as pure Python", file=sys.stderr)
        return []
    return mypycify(COMPILED, group_name="classifier_compiled")


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildWithSourceHashes})
