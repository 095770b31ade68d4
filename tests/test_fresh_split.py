"""The labelled corpora written or collected for evaluation stay well formed (tests/data/check_corpus.py, as a gate):
phases 4 to 6 (written_d, real_titles_3; written_e; written_f, real_titles_4), each scored and then trained on;
phases 7 (written_i, written_j, real_titles_5) and 8 (written_k, written_l), each scored once and then trained on;
phase 9 (written_m, written_n, 2026-12-02), scored once with model 7 and then the threshold set; phase 10
(written_o, written_p), scored once with model 8; phase 11 (written_s, written_t), scored once with model 9 and
trained on since model 10; phase 12 (written_w, written_x), model 10's never-tuned split, scored once with it and
trained on since model 11; and the training sets written_g_train, written_h_train, written_q_train, written_r_train,
written_u_train and written_v_train, and written_y_train (bn ur he) and written_z_train (th fa ko), written for
model 10 (2026-12-02: the languages the model knew least), and written_ad_train (key-trade shop titles and their
near misses); phase 13 (written_aa, written_ab), model 12's never-tuned split, scored once with it; phase 14
(written_ae, written_af), the next never-tuned split; written_ag_train and written_ah_train (weak languages)."""

import json
from pathlib import Path

import pytest

from tests.data.check_corpus import check

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    "name",
    [
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
    ],
)
def test_each_written_or_collected_corpus_follows_the_data_spec(name):
    rows, problems = check(DATA / name)
    assert problems == [] and len(rows) >= 30  # the smallest, real_titles_5, has 31


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
