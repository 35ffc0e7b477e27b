"""Fact sessions about invented people (memnb.data.tasks.pseudo_facts) and the reader's
measurements (memnb.eval.reader): invariants of the sessions, prompts per mode, batched greedy
replies equal to batch-1 replies, and the copy control's scoring on known replies."""

import pytest
import torch

from memnb.data.tasks.pseudo_facts import ATTRIBUTES, make_fact_sessions
from memnb.eval import reader as rd
from memnb.models.pretrained import load_reader


def test_sessions_invariants():
    sessions = make_fact_sessions(50, seed=3)
    assert sessions == make_fact_sessions(50, seed=3) and sessions != make_fact_sessions(50, seed=4)
    for s in sessions:
        people = [f.split("'s ")[0] for f in s.facts]
        assert len(set(people)) == len(people) == 7
        assert s.gold_fact in s.facts and s.gold_fact.startswith(s.stem) and s.answer in s.gold_fact
        assert s.answer in s.candidates == ATTRIBUTES[s.attribute][2]
        same = [f for f in s.facts if f.split("'s ", 1)[1].startswith(s.stem.split("'s ", 1)[1])]
        values = [f[len(f.split(" is ")[0]) :] for f in same]
        assert len(set(values)) == len(values)  # one attribute's values are distinct in a session
    with pytest.raises(ValueError, match="n_facts must be an int in"):
        make_fact_sessions(1, seed=0, n_facts=9)


def test_first_word():
    assert rd.first_word(" Violet.") == "violet" and rd.first_word(' "the') == "the" and rd.first_word(" ...") == ""


@pytest.fixture(scope="module")
def reader():
    return load_reader()


def test_prompts_per_mode(reader):
    s = make_fact_sessions(1, seed=0)[0]
    floor, oracle, d = (rd.prompt(reader, s, m) for m in rd.MODES)
    assert all(p.endswith(s.stem) and s.question in p for p in (floor, oracle, d))
    assert s.gold_fact not in floor and s.gold_fact in oracle and all(f in d for f in s.facts)
    assert sum(f in oracle for f in s.facts) == 1
    with pytest.raises(ValueError, match="mode must be one of"):
        rd.prompt(reader, s, "E")


def test_batched_replies_equal_batch_one(reader, one_thread):
    sessions = make_fact_sessions(3, seed=5)
    prompts = [rd.prompt(reader, s, "D") for s in sessions]
    assert rd.generate(reader, prompts, new=3, batch=3) == [rd.generate(reader, [p], new=3)[0] for p in prompts]


def test_copy_control_scores(reader, one_thread, monkeypatch):
    sessions = make_fact_sessions(2, seed=1)
    monkeypatch.setattr(rd, "generate", lambda r, prompts, batch=8: [f" {sessions[0].answer}.", " nothing"])
    out = rd.copy_control(reader, sessions, modes=("oracle",))
    assert out["oracle"]["strict"] == [True, False] and len(out["oracle"]["forced"]) == 2


def test_speed_and_nll_are_measured(reader, one_thread):
    assert rd.prefill_tokens_per_s(reader, n=16, repeats=1) > 0
    assert rd.decode_tokens_per_s(reader, batch=2, new=2, prompt=4, repeats=1) > 0
    m = rd.text_nll(reader, "To be, or not to be, that is the question.", window=4)
    assert 0 < m["nats_per_token"] < 20 and m["tokens"] >= 8 and m["chars"] > 30
    assert m["nats_per_char"] == pytest.approx(m["nats_per_token"] * m["tokens"] / m["chars"])
    with torch.no_grad():
        ids = reader.tokenizer("To be, or not", return_tensors="pt", add_special_tokens=False).input_ids
        assert torch.isfinite(reader.model(input_ids=ids).logits).all()
