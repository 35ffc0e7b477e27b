import numpy as np
import pandas as pd
import pytest
import torch

from memnb.data.tasks import IGNORE
from memnb.layers.registry import MEMORIES, ZOO
from memnb.leaderboard import frontier, suite
from memnb.leaderboard.experiment import RunConfig, run_contender
from memnb.leaderboard.registry import CONTENDERS, TARGET, ModelConfig, build_model

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("task", suite.SUITE)
def test_suite_tasks_have_exact_length_and_scored_answers(task):
    for length in (48, 200):
        b = suite.make(task, 6, seed=3, length=length)
        assert b.inputs.shape == (6, length) and b.vocab is suite.suite_vocab()
        answers = (b.targets != IGNORE) & (b.targets != b.vocab.eos)
        assert answers.any(1).all()


def test_assoc_answers_are_the_values_of_the_queried_keys():
    b = suite.make("assoc", 5, seed=1, length=80)
    v = b.vocab
    for row_in, row_t in zip(b.inputs, b.targets, strict=True):
        head = row_in[: 2 * suite.ASSOC_PAIRS].view(-1, 2).tolist()
        pairs = {k: val for k, val in head}
        pos = ((row_t != IGNORE) & (row_t != v.eos)).nonzero().squeeze(1)
        assert len(pos) == suite.ASSOC_QUERIES
        for p in pos.tolist():  # the input at p is the queried key, the target its value
            assert pairs[int(row_in[p])] == int(row_t[p])
        gap = row_in[2 * suite.ASSOC_PAIRS : -2 * suite.ASSOC_QUERIES - 1]
        assert all(v.symbols[i].startswith("w") for i in gap.tolist())


def test_babi_answer_is_the_last_word_and_facts_are_in_order():
    b = suite.make("babi", 4, seed=2, length=64)
    text = b.show(0)
    assert "<query>" in text and text.split("=>")[1].split()[-1] == "<eos>"


def test_chance_levels():
    assert suite.chance("passkey") == pytest.approx(1 / 9)
    assert suite.chance("niah") == 0.25 and suite.chance("assoc") == pytest.approx(1 / 36)
    assert 0.1 < suite.chance("babi") < 0.5
    with pytest.raises(ValueError, match="suite has"):
        suite.chance("nope")


def test_mixture_is_deterministic():
    a, b = suite.mixture(2, seed=7, length=48), suite.mixture(2, seed=7, length=48)
    assert torch.equal(a[0], b[0]) and a[0].shape == (2 * len(suite.SUITE), 48)


def test_contenders_are_every_registered_memory_at_matched_size():
    assert CONTENDERS is MEMORIES and list(CONTENDERS)[: len(ZOO)] == list(ZOO)
    assert list(CONTENDERS)[len(ZOO) :] == ["prefix_memory", "retrieval_context"]
    cfg = ModelConfig(d_model=32, n_layers=2, n_heads=4, segment_len=16)
    target = build_model(TARGET, 100, cfg).num_params()
    for name in CONTENDERS:
        n = build_model(name, 100, cfg).num_params()
        assert abs(n - target) <= 2 * (2 * 32 + 1), name  # within one MLP unit per layer


def test_pareto_and_ranking():
    t = pd.DataFrame({"score": [0.5, 0.4, 0.6, 0.3], "tokens_per_s": [10.0, 20.0, 5.0, 15.0]})
    assert frontier.pareto(t, "tokens_per_s").tolist() == [True, True, True, False]
    scores = pd.DataFrame(
        [{"contender": c, "seed": s, "task": "t", "length": L, "accuracy": a + 0.01 * s}
         for c, a in (("a", 0.2), ("b", 0.8)) for s in range(3) for L in (48, 96)]
    )  # fmt: skip
    runs = pd.DataFrame(
        [{"contender": c, "seed": s, "params": 1, "tokens_per_s": 1.0, "state_bytes": 1024.0, "flops_per_token": 2e6}
         for c in "ab" for s in range(3)]
    )  # fmt: skip
    table = frontier.ranking(scores, runs)
    assert table.contender.tolist() == ["b", "a"] and table.score[0] == pytest.approx(0.81)
    assert table.acc_per_mflop[0] == pytest.approx(0.81 / 2) and table.ties_with_top.tolist() == [True, False]


def test_run_contender_is_deterministic_and_complete():
    cfg = ModelConfig(d_model=16, n_layers=1, segment_len=16)
    run = RunConfig(steps=2, n_eval=4, length_multiples=(1, 2))
    a = run_contender("retrieval_context", 0, cfg, run)
    b = run_contender("retrieval_context", 0, cfg, run)
    assert len(a["rows"]) == len(suite.SUITE) * 2
    assert [r["accuracy"] for r in a["rows"]] == [r["accuracy"] for r in b["rows"]]
    assert a["final_loss"] == b["final_loss"] and a["flops_per_token"] == b["flops_per_token"] > 0
    assert a["state_bytes"] > 0 and np.isfinite(a["tokens_per_s"])


def test_bad_configs():
    with pytest.raises(ValueError, match="train_len"):
        RunConfig(train_len=16)
    with pytest.raises(ValueError, match="segment_len"):
        ModelConfig(segment_len=10)
