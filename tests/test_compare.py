"""memnb compare: same numbers and verdicts, wall-clock figures and env ignored."""

import json

from memnb.book import compare


def rec(**metrics):
    return {
        "schema": 1,
        "env": {"commit": "a"},
        "wall_s": 3.0,
        "params": {"x": 1},
        "metrics": {"loss": 1.0, "tokens_per_s": 10.0, "train_time_s": 2.0, **metrics},
        "claims": [{"id": "c", "verdict": "SUPPORTED"}],
    }


def test_identical_up_to_wall_clock_env_and_params():
    a, b = rec(), rec()
    b["env"], b["wall_s"], b["params"] = {"commit": "b"}, 9.0, {"x": 2}
    b["metrics"]["tokens_per_s"], b["metrics"]["train_time_s"] = 99.0, 5.0
    assert compare.compare(a, b) == []


def test_numbers_and_verdicts_that_moved_are_listed():
    a, b = rec(acc=[0.5, 0.6]), rec(acc=[0.5, 0.61])
    b["claims"][0]["verdict"] = "REFUTED"
    diffs = compare.compare(a, b)
    assert "/metrics/acc[1]: 0.6 vs 0.61" in diffs and "/claims[0]/verdict: 'SUPPORTED' vs 'REFUTED'" in diffs
    assert compare.compare(rec(loss=1.0), rec(loss=1.0 + 1e-9), rtol=1e-6) == []


def test_cli_exit_code(tmp_path, capsys):
    for name, r in (("a", rec()), ("b", rec(loss=2.0))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "10_x.json").write_text(json.dumps(r))
    assert compare.main([str(tmp_path / "a"), str(tmp_path / "a")]) == 0
    assert compare.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "1 differences" in capsys.readouterr().out


def test_numbers_and_verdicts_ignore_the_claims_layout(tmp_path):
    a, b = rec(), rec()
    b["claims"] = [{"id": "c", "verdict": "SUPPORTED", "kind": "seed", "rule_hash": "h", "protocol": 1}]
    assert compare.compare(a, b) != []
    assert compare.compare(compare.numbers_and_verdicts(a), compare.numbers_and_verdicts(b)) == []
    for name, r in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "10_x.json").write_text(json.dumps(r))
    assert compare.main([str(tmp_path / "a"), str(tmp_path / "b"), "--numbers-and-verdicts"]) == 0
