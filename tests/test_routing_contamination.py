"""Contamination experiment pieces: continuation-only NLL, windows, contexts, the bootstrap."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from memnb.hrs.routing import contamination as C
from memnb.hrs.routing.topic_manager import TopicContextManager


def _tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    conf = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)  # fmt: skip
    return LlamaForCausalLM(conf).eval()


def _setup(**kw):
    base = dict(context=4, prompt=3, continuation=2, n=6, conditions=("none", "routed"), kmeans_seeds=1, n_boot=0)
    return C.Setup(**(base | kw))


def test_continuation_nll_scores_only_the_continuation_in_ragged_batches():
    model = _tiny_llama()
    ws = [C.Window("p", prompt=[1, 2, 3], continuation=[4, 5]), C.Window("p", prompt=[7, 8, 9], continuation=[3, 1])]
    ctxs = [[9, 8, 7, 6], []]
    got = C.continuation_nll(model, ctxs, ws)
    for i, (c, w) in enumerate(zip(ctxs, ws, strict=True)):
        ids = torch.tensor([c + w.prompt + w.continuation])
        with torch.no_grad():
            ce = F.cross_entropy(model(input_ids=ids).logits[0, :-1], ids[0, 1:], reduction="none")
        assert got[i] == pytest.approx(float(ce[-2:].mean()), abs=1e-5)


def test_generation_is_seeded_and_padding_does_not_change_a_row():
    model = _tiny_llama()
    ws = [C.Window("p", prompt=[1, 2, 3], continuation=[4, 5])]
    a = C.generate(model, [[9, 9]], ws, 5, seed=3, pad_id=0)
    b = C.generate(model, [[9, 9]], ws, 5, seed=3, pad_id=0)
    assert a == b and len(a[0]) == 5


def test_windows_are_balanced_disjoint_and_in_stream_order():
    plays = {"a": list(range(100)), "b": list(range(1000, 1100)), "c": list(range(2000, 2100))}
    prompts, human = C.windows(plays, _setup(), np.random.default_rng(0))
    assert [w.play for w in prompts] == ["a", "a", "b", "b", "c", "c"] and len(human) == 6
    firsts = [w.prompt[0] for w in prompts + human]
    assert len(set(firsts)) == 12  # grid-aligned starts, no window repeated
    assert all(w.continuation[0] == w.prompt[-1] + 1 for w in prompts)  # contiguous text
    assert firsts[0] < firsts[1]
    with pytest.raises(ValueError, match="include 'none' and 'routed'"):
        _setup(conditions=("none", "same_play")).check()


def test_contexts_route_without_inserting_and_score_routing_by_majority_play():
    rng = np.random.default_rng(0)
    mgr = TopicContextManager(0.5, budget=4)
    mgr.insert(np.array([1.0, 0.0]), [10, 11, 12, 13], label="a")
    mgr.insert(np.array([0.0, 1.0]), [20, 21, 22, 23], label="b")
    pools = {"a": list(range(100, 200)), "b": list(range(200, 300)), "o": list(range(300, 400))}
    prompts = [C.Window("a", [1, 2, 3], [4]), C.Window("b", [5, 6, 7], [8])]
    vecs = np.array([[0.0, 1.0], [0.0, 1.0]])  # both routed to b's cluster
    setup = _setup(conditions=C.CONDITIONS)
    out, ok = C.contexts(vecs, prompts, pools, ["a", "b"], ["o"], mgr, setup, rng)
    assert ok == [False, True]
    assert out["none"] == [[], []] and out["routed"][1][-2:] == [22, 23]  # the routed (MRU) cluster comes last
    assert all(100 <= t < 200 for t in out["same_play"][0]) and len(out["same_play"][0]) == 4
    assert all(300 <= t < 400 for t in out["other_domain"][0])
    assert out["seed_artifact"][0][-2:] == [2, 3]  # the seed's order: the prompt ends its own context
    assert len(mgr.vectors) == 2  # routing inserted nothing


def test_paired_bootstrap_is_zero_for_identical_conditions_and_shuffling_keeps_tokens():
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(40, 8)), rng.normal(size=(40, 8))
    assert np.all(C.paired_bootstrap(p, q, q, 5, seed=0) == 0)
    s = C.shuffled([[1, 2, 3, 4]], rng)[0]
    assert sorted(s) == [1, 2, 3, 4]
