"""Chapter 31's runs over seeds (memnb.hrs.retrieval.experiment) on a tiny random GPT-2 and bytes."""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.hrs.retrieval import experiment, haystack, niah


class ByteTok:
    def encode_batch(self, texts):
        return [list(t.encode())[:200] for t in texts]


def test_run_seeds_gives_every_condition_the_pools_can_fill():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=256, n_positions=256, n_embd=16, n_layer=2, n_head=2)
    model = GPT2LMHeadModel(cfg).eval()
    pool = haystack.places(6, seed=0)
    kw = dict(layer=1, n_total=5, n_needles=3, distractors=[2, 6], gate_percentile=50)
    runs, gates, ents = experiment.run_seeds(model, ByteTok(), pool, [0, 1], **kw)
    again, _, _ = experiment.run_seeds(model, ByteTok(), pool, [0, 1], **kw)
    assert runs.equals(again)  # fixed by the seeds
    assert set(runs["keys"]) == set(niah.RETRIEVERS) and set(runs["gate"]) == set(experiment.GATES)
    # 6 distractors fit the places pool (6 paragraphs) but not the other-needle pool (5 - 1 needles)
    assert set(runs[runs["pool"] == "needles"].distractors) == {2}
    assert set(runs[runs["pool"] == "places"].distractors) == {2, 6}
    assert len(runs) == 2 * 3 * 4 * len(niah.QUERIES) * 3  # seeds x gates x retrievers x queries x (pool, n) pairs
    assert all(len(r) == 3 for r in runs["ranks"])
    none = runs[runs.gate == "none"]
    assert (none["ranks"].map(min) >= 1).all()  # with no gate every needle is stored and ranked
    assert list(gates.seed) == [0, 1] and 0 <= gates.pool_stored.min() <= gates.pool_stored.max() <= 1
    assert len(ents) == 2 * (5 + 6) and set(ents.text) == {"needle", "distractor"}
