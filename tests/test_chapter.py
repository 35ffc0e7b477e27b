import json
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pytest
import torch

from memnb.book.chapter import STAGING_ENV, Chapter
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Steps(Preset):
    steps: int = per_profile(ci=2, cpu=100, low=1)


def make(**kw):
    profile = kw.pop("profile", "cpu")
    return Chapter("99_x", profile, preset=Steps.resolve(profile, kw.pop("overrides", None)), **kw)


def test_profile_defaults_and_overrides():
    assert make()["steps"] == 100 and make().seeds == [0, 1, 2]
    assert make(profile="ci")["steps"] == 2 and make(profile="ci").seeds == [0]
    assert make(profile="gpu")["steps"] == 100  # gpu falls back to the cpu value when not given
    assert make(overrides={"steps": 7}, seeds=[4, 5])["steps"] == 7


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"profile": "laptop"}, "valid profiles: ci, cpu, gpu"),
        ({"overrides": {"stpes": 3}}, r"unknown parameter\(s\) stpes; valid: steps"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"seeds": []}, "non-empty"),
    ],
)
def test_bad_settings_fail_with_the_fix(kw, msg):
    with pytest.raises(ValueError, match=msg):
        make(**kw)


def test_open_is_the_setup_cell(capsys):
    plt.rcdefaults()
    ch = Chapter.open("99_x", "ci", None, '{"steps": "5"}', preset=Steps)  # strings, as papermill passes them
    first = torch.rand(1)
    assert ch["steps"] == 5 and ch.seeds == [0] and ch.params == {"steps": 5}
    assert capsys.readouterr().out == "profile=ci seeds=[0] device=cpu params={'steps': 5}\n"
    assert plt.rcParams["legend.frameon"] is False  # the house style
    Chapter.open("99_x", "cpu", "[0, 1]", None, preset=Steps)
    assert torch.equal(torch.rand(1), first)  # seeded with the first seed
    with pytest.raises(ValueError, match="parameter steps='x': expected int"):
        Chapter.open("99_x", "ci", None, {"steps": "x"}, preset=Steps)


def test_open_finds_the_chapters_preset():
    ch = Chapter.open("01_baseline", "ci")
    assert ch["steps"] == 20 and list(ch.params)[0] == "steps"


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


def test_rules_then_judge_and_the_record_schema():
    """Registered rules render before the run; judging fills the claims; a chapter still on a
    protocol-1 rule writes schema 1, one whose every claim is protocol 2 writes schema 2."""
    from memnb.verdicts import Control, Design, Rule, measure

    p1 = Rule(
        "drex.tau_over_L", kind="identity", direction="check", protocol=1, template="all_seeds_beyond",
        measure=measure("x"), threshold=0.0, seed_says="s",
    )  # fmt: skip
    p2 = Rule(
        "drex.ema_bootstrap", kind="seed", direction="greater", measure=measure("x"), delta=0.1, delta_why="why",
        design=Design(paired=True, pairs="seeds"), seed_says="s",
        control=Control(measure("ctl"), ">", 0.5, "the control leaves chance"),
    )  # fmt: skip
    ch = Chapter("10_ema_bootstrap", "ci", preset=None)
    ch.metrics = {"x": {"mean": 0.5, "ci95": [0.4, 0.6], "n": 3, "values": [0.4, 0.5, 0.6]}, "ctl": 0.9}
    with pytest.raises(ValueError, match="no rules registered"):
        ch.judge()
    assert "0.1" in ch.rules({"drex.ema_bootstrap": p2}).data
    table = ch.judge()
    assert table.loc["drex.ema_bootstrap", "verdict"] == "SUPPORTED" and ch.record()["schema"] == 2
    ch.rules({"drex.tau_over_L": p1})  # a second section adds its rules
    ch.judge()
    with pytest.raises(ValueError, match="already registered with another rule"):
        ch.rules({"drex.tau_over_L": p2.__class__(**{**p1.__dict__, "threshold": 0.5})})
    assert [c["id"] for c in ch.claims] == ["drex.ema_bootstrap", "drex.tau_over_L"]
    assert ch.record()["schema"] == 1
