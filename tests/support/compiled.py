"""The classifier as its Python source, where setup.py has compiled it (mypyc).

Tests that count Python calls need the source: a profile hook sees no calls inside compiled code. And the source
is what an install without a C compiler runs, which tests/test_classifier_compiled.py compares with the compiled.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.machinery import EXTENSION_SUFFIXES, SOURCE_SUFFIXES, ExtensionFileLoader, FileFinder, SourceFileLoader
from types import ModuleType


def _classifier_modules() -> list[str]:
    return [name for name in sys.modules if name == "classifier" or name.startswith("classifier.")]


@contextmanager
def source_classifier() -> Iterator[ModuleType]:
    """The classifier package imported afresh with each module's .py preferred over its extension; the modules
    imported before are back in place afterwards (objects made inside belong to the source modules' classes)."""
    saved = {name: sys.modules.pop(name) for name in _classifier_modules()}
    hook = FileFinder.path_hook((SourceFileLoader, SOURCE_SUFFIXES), (ExtensionFileLoader, EXTENSION_SUFFIXES))
    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()
    try:
        package = importlib.import_module("classifier")
        importlib.import_module("classifier.match")
        assert sys.modules["classifier.match"].__file__.endswith(".py")
        yield package
    finally:
        sys.path_hooks.remove(hook)
        sys.path_importer_cache.clear()
        for name in _classifier_modules():
            del sys.modules[name]
        sys.modules.update(saved)
