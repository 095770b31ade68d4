"""What pyproject.toml says the project is made of."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def top_level_packages() -> set[str]:
    """Our importable top-level packages: setuptools finds them by these patterns (`common*`, `db*`, ...)."""
    return {pattern.rstrip("*") for pattern in pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]}
