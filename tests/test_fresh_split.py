"""The labelled corpora written or collected since phase 4, for evaluation or for training, stay well formed
(tests/data/check_corpus.py, as a gate). A sealed split (tests/support/corpora.SEALED) is checked by its writer
and joins this list once it is scored and unsealed: no test opens it before (README, Evaluation)."""

import json
from pathlib import Path

import pytest

from tests.data.check_corpus import check
from tests.support.corpora import SEALED

DATA = Path(__file__).resolve().parent / "data"


CHECKED = [
    "written_d.jsonl",
    "real_titles_3.jsonl",
    "written_e.jsonl",
    "written_f.jsonl",
    "real_titles_4.jsonl",
    "written_g_train.jsonl",
    "written_h_train.jsonl",
    "written_i.jsonl",
    "written_j.jsonl",
    "real_titles_5.jsonl",
    "written_k.jsonl",
    "written_l.jsonl",
    "written_m.jsonl",
    "written_n.jsonl",
    "written_o.jsonl",
    "written_p.jsonl",
    "written_s.jsonl",
    "written_t.jsonl",
    "written_w.jsonl",
    "written_x.jsonl",
    "written_q_train.jsonl",
    "written_r_train.jsonl",
    "written_u_train.jsonl",
    "written_v_train.jsonl",
    "written_y_train.jsonl",
    "written_z_train.jsonl",
    "written_ad_train.jsonl",
    "written_aa.jsonl",
    "written_ab.jsonl",
    "written_ac_train.jsonl",
    "written_ae.jsonl",
    "written_af.jsonl",
    "written_ag_train.jsonl",
    "written_ah_train.jsonl",
    "written_ak_train.jsonl",
    "written_al_train.jsonl",
    "written_am_train.jsonl",
    "written_an_train.jsonl",
    "written_ao_train.jsonl",
]


@pytest.mark.parametrize("name", CHECKED)
def test_each_written_or_collected_corpus_follows_the_data_spec(name):
    rows, problems = check(DATA / name)
    assert problems == [] and len(rows) >= 30  # the smallest, real_titles_5, has 31


def test_no_sealed_split_is_opened_here():
    assert not set(CHECKED) & set(SEALED)


def test_the_check_names_each_problem(tmp_path):
    good = json.loads((DATA / "written_d.jsonl").read_text(encoding="utf-8").splitlines()[0])
    bad = [good, good, {**good, "id": "x", "category": "teleporter"}, {**good, "id": "y", "real": True}]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(map(json.dumps, bad)) + "\nnot json\n", encoding="utf-8")
    _, problems = check(path)
    assert problems == [
        "bad.jsonl line 3: unknown category 'teleporter'",
        "bad.jsonl line 4: a real row needs a source_ref, a written row must have none",
        "bad.jsonl line 5: not JSON (Expecting value)",
        f"bad.jsonl: duplicate id {good['id']}",
        f"bad.jsonl: exact repeat {good['title'].strip().casefold()[:60]!r}",
    ]


def test_the_sealed_split_is_left_out_of_what_tests_and_benchmarks_read():
    from tests.support.corpora import SEALED, readable_corpora

    names = {path.name for path in readable_corpora()}
    assert all((DATA / name).is_file() for name in SEALED)  # the names are right (the files are not opened)
    assert not names & set(SEALED) and "corpus_dev.jsonl" in names
