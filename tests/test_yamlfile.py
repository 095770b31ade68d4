"""common/yamlfile.py: a key given twice is refused with both lines (PyYAML would silently keep the last).
The watchlist has its own check, which reports every problem at once (tests/test_watchlist.py)."""

import pytest

from common.yamlfile import ConfigError, load_yaml

TWICE = """\
version: 1
categories:
  - name: relay_attack
    terms: [relay box]
    weight: 2
    terms: [keyless repeater]
"""


def test_load_yaml_refuses_a_key_given_twice_and_names_both_lines(tmp_path):
    path = tmp_path / "office.yaml"
    path.write_text(TWICE, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_yaml(path)
    assert str(error.value) == f"{path}:6: not valid YAML: duplicate key 'terms' (first defined on line 4)"


def test_the_same_key_in_different_mappings_is_fine(tmp_path):
    text = "a:\n  name: x\nb:\n  name: y\nitems:\n  - name: 1\n  - name: 2\n"
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_yaml(path)["b"]["name"] == "y"
