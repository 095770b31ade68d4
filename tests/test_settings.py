"""Every path and KEYWATCH_* knob is resolved in common/settings.py and documented in docs/operations.md."""

import re
from pathlib import Path

import pytest

from common import settings
from common.settings import ROOT

PACKAGES = ("common", "classifier", "db", "spiders", "webui", "exports", "keywatch", "demo_market", "bench", "scripts")
NAME = re.compile(r"\bKEYWATCH_[A-Z_]+\b")


def code_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))
        yield from sorted((ROOT / package).rglob("*.sh"))


def test_every_keywatch_variable_and_setting_in_the_code_is_documented():
    used = {name for path in code_files() for name in NAME.findall(path.read_text(encoding="utf-8"))}
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = set(NAME.findall(docs))
    assert used - documented == set(), "document these in docs/operations.md (Settings and environment variables)"
    assert documented - used == set(), "docs/operations.md names settings the code no longer has"


def test_only_common_settings_reads_keywatch_variables_from_the_environment():
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in code_files()
        if path != ROOT / "common" / "settings.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"environ|getenv", line) and NAME.search(line)
    ]
    assert readers == []


@pytest.mark.parametrize(
    "resolve, variable, name, shipped",
    [
        (settings.watchlist_path, "KEYWATCH_WATCHLIST", "watchlist.yaml", ROOT / "watchlist.yaml"),
        (settings.marketplaces_path, "KEYWATCH_MARKETPLACES", "marketplaces.yaml", ROOT / "marketplaces.yaml"),
        (settings.office_path, "KEYWATCH_OFFICE", "office.yaml", settings.OFFICE_EXAMPLE),
    ],
)
def test_a_file_is_its_variable_else_the_local_file_else_the_shipped_one(
    tmp_path, monkeypatch, resolve, variable, name, shipped
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(variable, raising=False)
    assert resolve() == shipped and shipped.is_file()
    (tmp_path / name).write_text("local", encoding="utf-8")
    assert resolve().resolve() == tmp_path / name
    monkeypatch.setenv(variable, "/elsewhere/chosen.yaml")
    assert resolve() == Path("/elsewhere/chosen.yaml")
    monkeypatch.setenv(variable, "")  # empty is unset
    assert resolve().resolve() == tmp_path / name


def test_the_store_and_the_crawler_identity(monkeypatch):
    monkeypatch.delenv("KEYWATCH_DB", raising=False)
    monkeypatch.delenv("KEYWATCH_USER_AGENT", raising=False)
    monkeypatch.setenv("KEYWATCH_CONTACT", "crawler@pcc.example")
    assert settings.db_path() == Path("data/keywatch.sqlite")
    assert (
        settings.user_agent()
        == f"keywatch/{settings.VERSION} (vehicle-crime research crawler; contact: crawler@pcc.example)"
    )
    monkeypatch.setenv("KEYWATCH_USER_AGENT", "Custom/1.0")
    assert settings.user_agent() == "Custom/1.0"
