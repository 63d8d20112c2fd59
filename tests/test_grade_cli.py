"""`brr-lab grade`: the report card as a table or as strict JSON, from (here fabricated) runs."""
import json

import pytest

import brr_lab.postmortem
from brr_lab.cli import main
from brr_lab.postmortem import CLAIMS, GRADES
from test_postmortem import healthy_rows


@pytest.fixture
def fake_runs(monkeypatch):
    asked = {}

    def collect(**kwargs):
        asked.update(kwargs)
        return healthy_rows(seeds=kwargs["seeds"] or 5)

    monkeypatch.setattr(brr_lab.postmortem, "collect_rows", collect)
    return asked


def test_json_is_one_object_per_claim(fake_runs, capsys):
    assert main(["grade", "--json", "--seeds", "2", "--epochs", "3"]) == 0
    records = json.loads(capsys.readouterr().out)  # strict: NaN would not parse as a number here
    assert fake_runs["seeds"] == 2 and fake_runs["epochs"] == 3
    assert [r["claim"] for r in records] == [c.id for c in CLAIMS] and len(records) >= 11
    for r in records:
        assert {"claim", "quote", "grade", "evidence", "reason"} <= set(r)
        assert r["grade"] in GRADES and r["quote"] and r["reason"]
    by_id = {r["claim"]: r for r in records}
    assert by_id["ratio-is-4"]["basis"] == by_id["sampling-everywhere"]["basis"] == "arithmetic"
    assert by_id["bug-caused-collapse"]["evidence_size"]["seeds"] == 2


def test_text_is_a_table_then_reasons(fake_runs, capsys):
    assert main(["grade"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["claim", "grade", "basis"]
    assert "fix-auroc [incomplete]" in out and "reason:" in out


def test_bad_seeds_exit_2_naming_the_parameter(capsys):
    assert main(["grade", "--seeds", "0"]) == 2
    assert "'--seeds' parameter of brr-lab grade must be an int >= 1" in capsys.readouterr().err
