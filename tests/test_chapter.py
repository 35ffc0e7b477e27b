import json

import pytest

from memnb.book.chapter import STAGING_ENV, Chapter


def make(**kw):
    return Chapter("99_x", kw.pop("profile", "cpu"), defaults={"steps": {"ci": 2, "cpu": 100}}, **kw)


def test_profile_defaults_and_overrides():
    assert make()["steps"] == 100 and make().seeds == [0, 1, 2]
    assert make(profile="ci")["steps"] == 2 and make(profile="ci").seeds == [0]
    assert make(profile="gpu")["steps"] == 100  # gpu falls back to the cpu value when not given
    assert make(given={"steps": 7}, seeds=[4, 5])["steps"] == 7


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"profile": "laptop"}, "valid profiles: ci, cpu, gpu"),
        ({"given": {"stpes": 3}}, r"no profile defaults; known: \['steps'\]"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"seeds": []}, "non-empty"),
    ],
)
def test_bad_settings_fail_with_the_fix(kw, msg):
    with pytest.raises(ValueError, match=msg):
        make(**kw)


def test_claims_need_known_verdicts_and_evidence():
    ch = make()
    ch.metric("acc", [0.5, 0.6, 0.7])
    with pytest.raises(ValueError, match="verdict must be one of"):
        ch.claim("x.y", verdict="YES", seed_says="s", we_measured="w", rule="r")
    with pytest.raises(ValueError, match="unknown metrics"):
        ch.claim("x.y", verdict="SUPPORTED", seed_says="s", we_measured="w", rule="r", evidence=["nope"])
    ch.claim("x.y", verdict="INCONCLUSIVE", seed_says="s", we_measured="w", rule="r", evidence=["acc"])
    ch.claim("x.y", verdict="SUPPORTED", seed_says="s", we_measured="w", rule="r", evidence=["acc"])
    assert [c["verdict"] for c in ch.claims] == ["SUPPORTED"]


def test_publish_writes_only_under_the_runner(tmp_path, monkeypatch):
    ch = make()
    ch.metric("loss", 1.23456789)
    monkeypatch.delenv(STAGING_ENV, raising=False)
    rec = ch.publish()
    assert rec["metrics"]["loss"] == 1.234568 and not list(tmp_path.iterdir())
    monkeypatch.setenv(STAGING_ENV, str(tmp_path / "r.json"))
    ch.publish()
    assert json.loads((tmp_path / "r.json").read_text())["params"] == {"steps": 100}
    ch.metric("bad", float("nan"))
    with pytest.raises(ValueError):
        ch.publish()
