"""Chapter 31's runs over seeds (memnb.hrs.retrieval.experiment) on a tiny random GPT-2 and bytes."""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.hrs.retrieval import experiment, niah


class ByteTok:
    def encode_batch(self, texts):
        return [list(t.encode())[:200] for t in texts]


def test_run_seeds_gives_every_condition_the_pools_can_fill():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=256, n_positions=256, n_embd=16, n_layer=2, n_head=2)
    models = {"backbone": GPT2LMHeadModel(cfg).eval(), "random_init": GPT2LMHeadModel(cfg).eval()}
    pool = [f"passage {i} of the held-out plays, words and more words" for i in range(6)]
    kw = dict(layer=1, n_total=5, n_needles=3, distractors=[2, 6], gate_percentile=50)
    runs, gates, ents = experiment.run_seeds(models, ByteTok(), pool, [0, 1], **kw)
    again, _, _ = experiment.run_seeds(models, ByteTok(), pool, [0, 1], **kw)
    assert runs.equals(again)  # fixed by the seeds
    assert set(runs["keys"]) == {"backbone", "random_init", "tfidf"} and set(runs["gate"]) == {
        "seed_4bits",
        "calibrated",
    }
    # 6 distractors fit the Shakespeare pool (6 passages) but not the other-needle pool (5 - 1 needles)
    assert set(runs[runs["pool"] == "needles"].distractors) == {2}
    assert set(runs[runs["pool"] == "shakespeare"].distractors) == {2, 6}
    assert len(runs) == 2 * 2 * 3 * len(niah.QUERIES) * 3  # seeds x gates x keys x queries x (pool, n) pairs
    assert list(gates.seed) == [0, 1] and 0 <= gates.pool_stored.min() <= gates.pool_stored.max() <= 1
    assert len(ents) == 2 * (5 + 6) and set(ents.text) == {"needle", "Shakespeare passage"}
