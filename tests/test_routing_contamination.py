"""Contamination experiment pieces: continuation-only NLL, windows, the seed's context artifact."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from memnb.hrs.routing import contamination as C
from memnb.hrs.routing.topic_manager import TopicContextManager


def _tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    conf = GPT2Config(vocab_size=50, n_positions=32, n_embd=16, n_layer=2, n_head=2)
    return GPT2LMHeadModel(conf).eval()


def test_nll_scores_only_the_continuation_and_the_seed_metric_scores_everything():
    model = _tiny_gpt2()
    w = C.Window("p", prompt=[1, 2, 3], continuation=[4, 5])
    ctx = [9, 8, 7, 6]
    cont, seed_ppl = C.nll_scores(model, [ctx], [w])
    ids = torch.tensor([ctx + w.prompt + w.continuation])
    with torch.no_grad():
        ce = F.cross_entropy(model(input_ids=ids).logits[0, :-1], ids[0, 1:], reduction="none")
    assert cont[0] == pytest.approx(float(ce[-2:].mean()), abs=1e-5)
    assert seed_ppl[0] == pytest.approx(float(torch.exp(ce.mean())), rel=1e-5)


def test_windows_are_balanced_disjoint_and_in_stream_order():
    setup = C.Setup(context=4, prompt=3, continuation=2, n=6, pool_items=2, item_tokens=4, kmeans_seeds=1)
    plays = {"a": list(range(100)), "b": list(range(1000, 1100)), "c": list(range(2000, 2100))}
    prompts, human = C.windows(plays, setup, np.random.default_rng(0))
    assert [w.play for w in prompts] == ["a", "a", "b", "b", "c", "c"] and len(human) == 6
    firsts = [w.prompt[0] for w in prompts + human]
    assert len(set(firsts)) == 12  # grid-aligned starts, no window repeated
    assert all(w.continuation[0] == w.prompt[-1] + 1 for w in prompts)  # contiguous text
    assert firsts[0] < firsts[1]
    with pytest.raises(ValueError, match="exceed"):
        C.Setup(context=30, prompt=3, continuation=2, n=6, pool_items=2, item_tokens=4, kmeans_seeds=1).check(32)


def test_distinct2_counts_unique_bigrams():
    assert C.distinct2([[1, 2, 1, 2]]) == pytest.approx(2 / 3)


def test_seed_order_context_holds_the_prompt_and_corrected_order_does_not():
    mgr = TopicContextManager(0.5, budget=6)
    mgr.insert(np.array([1.0, 0.0]), [10, 11, 12, 13])
    prompt = [7, 8]
    corrected = TopicContextManager(0.5, budget=6)
    corrected.insert(np.array([1.0, 0.0]), [10, 11, 12, 13])
    corrected.route(np.array([1.0, 0.1]))
    mgr.insert(np.array([1.0, 0.1]), prompt)
    assert mgr.assemble()[-2:] == prompt and prompt[0] not in corrected.assemble()
