"""docs/architecture.md's import table says what the import-linter contracts in pyproject.toml enforce."""

import re
import tomllib

from common.settings import ROOT
from tests.support.project import pyproject, top_level_packages


def contracts() -> dict[str, set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    forbidden = {}
    for contract in config["contracts"]:
        assert contract["type"] == "forbidden", contract["name"]
        [source] = contract["source_modules"]
        forbidden[source] = set(contract["forbidden_modules"])
    return forbidden


def documented() -> dict[str, set[str]]:
    """{folder: never imports} from the table's rows, `| `folder/` | ... | ... | a, b, c |`."""
    rows = {}
    for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\| `(\w+)/` \|.*\| ([^|]+) \|", line)
        if match:
            never = match[2].strip()
            rows[match[1]] = set() if never == "nothing forbidden" else {name.strip() for name in never.split(",")}
    return rows


def test_the_import_table_says_what_the_contracts_check():
    table = documented()
    assert {name: never for name, never in table.items() if never} == contracts()


def test_every_package_of_ours_is_in_the_table_and_the_contracts():
    packages = top_level_packages()
    assert packages <= set(documented())
    assert packages == set(pyproject()["tool"]["importlinter"]["root_packages"])
