"""`keywatch demo` finds the demo's seller networks from what it crawled, and nothing else."""

import json

from tests.support.cli import run_keywatch
from tests.support.network_quality import LABELS


def test_the_demo_crawl_finds_exactly_the_demo_networks(tmp_path):
    db_path = tmp_path / "demo.sqlite"
    out = run_keywatch("demo", "--db", db_path, timeout=300).stdout
    assert "networks: 4 of 9 sellers" in out
    assert "Seller networks (leads for a reviewer to confirm, not findings):" in out
    found = [
        json.loads(line)
        for line in run_keywatch("networks", "--stored", "--db", db_path, "--format", "jsonl").stdout.splitlines()
    ]
    truth = json.loads(LABELS.read_text(encoding="utf-8"))["demo_networks"]
    assert sorted(n["sellers"] for n in found) == sorted(sorted(group) for group in truth)
    kinds = {tuple(n["sellers"]): {link["kind"] for link in n["links"]} for n in found}
    assert "phone" in kinds[("demo:dazza_1987", "demo:ke.tools.2024", "demo:m4x_tools_uk")]
    assert kinds[("demo:smartkeytech_hk", "demo:the_key_man_88")] == {"photo"}
    assert kinds[("demo:eurocar_electronics", "demo:prokey_tools_eu")] == {"description"}
    assert "handle" in kinds[("demo:rf-lab-store", "demo:secure-motor-uk")]
    # Each link says who wrote the number first, and where: in a seller profile on an item page.
    phones = [link for n in found for link in n["links"] if link["kind"] == "phone"]
    assert len(phones) == 3 and {link["evidence"]["item"] for link in phones} == {"+447700900461"}
    assert all(link["evidence"]["first"]["field"] == "seller_profile" for link in phones)
