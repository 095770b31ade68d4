"""Refuses compiled classifier modules built from an older source (setup.py compiles some with mypyc).

Python imports a module's extension before its .py, so a source edited without `make install` afterwards would
leave the old compiled code running, silently. setup.py records each compiled source's hash in compiled.json;
importing this module, which the package does first, compares them (a few files hashed, about a millisecond).
"""

from __future__ import annotations

import hashlib
import json
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
MANIFEST = "compiled.json"


class StaleBuildError(ImportError):
    """A compiled module's source changed since it was compiled."""


def check_build(package: Path = PACKAGE) -> None:
    """Raise StaleBuildError naming the sources that changed since `make install` compiled them."""
    compiled = sorted({path.name.split(".")[0] for suffix in EXTENSION_SUFFIXES for path in package.glob(f"*{suffix}")})
    if not compiled:
        return  # pure Python: nothing to be stale
    try:
        built = json.loads((package / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = {}
    stale = [
        f"{name}.py"
        for name in compiled
        if (package / f"{name}.py").exists()
        and built.get(name) != hashlib.sha256((package / f"{name}.py").read_bytes()).hexdigest()
    ]
    if stale:
        raise StaleBuildError(
            f"{', '.join(stale)} changed since the classifier was compiled: run `make install` "
            f"(or delete {package}/*.so to run it as Python)"
        )


check_build()
