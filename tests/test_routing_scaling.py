"""Topic scaling experiment: threshold fitting, balanced pairs, engrams."""

import numpy as np
import pytest
import torch

from memnb.hrs.routing import engram, scaling


def test_fit_threshold_separates_separable_scores_and_is_the_best_rule():
    cos = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    same = np.array([False, False, False, True, True, True])
    t = scaling.fit_threshold(cos, same)
    assert 0.3 < t < 0.7
    rng = np.random.default_rng(0)
    cos, same = rng.normal(size=200), rng.random(200) < 0.5
    t = scaling.fit_threshold(cos, same)
    best = max(np.mean((cos >= c) == same) for c in np.r_[cos, cos.max() + 1])
    assert np.mean((cos >= t) == same) == pytest.approx(best)


def test_pairs_are_balanced_and_respect_the_gap():
    labels = np.repeat([0, 1, 2], 20)
    starts = np.tile(np.arange(20) * 100, 3)
    a, b, same = scaling.pairs(np.arange(60), labels, starts, n_pairs=50, min_gap=300, rng=np.random.default_rng(0))
    assert same.sum() == 50 and (~same).sum() == 50
    assert np.all(labels[a[same]] == labels[b[same]]) and np.all(np.abs(starts[a[same]] - starts[b[same]]) >= 300)
    assert np.all(labels[a[~same]] != labels[b[~same]])


def test_separable_topics_score_near_one_and_noise_near_chance():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 40)
    starts = np.tile(np.arange(40) * 10, 4)
    centres = rng.normal(size=(4, 16)) * 3
    clear = scaling.evaluate_length(
        centres[labels] + rng.normal(size=(160, 16)), labels, starts, n_pairs=300, min_gap=20, seed=0
    )
    assert clear["acc_threshold"] > 0.95 and clear["auroc"] > 0.98 and clear["ari"] > 0.8
    noise = scaling.evaluate_length(rng.normal(size=(160, 16)), labels, starts, n_pairs=300, min_gap=20, seed=0)
    assert abs(noise["acc_threshold"] - 0.5) < 0.1 and abs(noise["acc_elementwise"] - 0.5) < 0.1


def test_score_lengths_scores_the_engrams_and_the_lexical_control():
    rng = np.random.default_rng(0)
    labels, starts = np.repeat(np.arange(4), 40), np.tile(np.arange(40) * 10, 4)
    toks = [list(rng.integers(0, 30, 8)) for _ in labels]
    e = rng.normal(size=(4, 16))[labels] * 3 + rng.normal(size=(160, 16))
    rows = scaling.score_lengths({8: e}, {8: toks}, labels, starts, [0, 1], vocab_size=30, n_pairs=100, min_gap=20)
    assert [(r["seed"], r["features"]) for r in rows] == [(s, f) for s in (0, 1) for f in ("reader", "tfidf")]
    assert rows[0] == {"length": 8, "seed": 0, "features": "reader"} | scaling.evaluate_length(
        e, labels, starts, n_pairs=100, min_gap=20, seed=0
    )
    assert "acc_mlp" not in rows[1]  # no classifiers for the lexical control


def test_centring_uses_the_fit_half_only_and_recovers_separation_under_a_common_offset():
    rng = np.random.default_rng(1)
    labels, starts = np.repeat(np.arange(4), 30), np.tile(np.arange(30) * 10, 4)
    e = rng.normal(size=(4, 16))[labels] + rng.normal(size=(120, 16)) * 0.7 + 100.0  # one large shared direction
    centred = scaling.evaluate_length(e, labels, starts, n_pairs=100, min_gap=0, seed=0)
    raw = scaling.evaluate_length(e, labels, starts, n_pairs=100, min_gap=0, seed=0, centre=False)
    assert centred["auroc"] > 0.9 and raw["cos_same"] > 0.99 and raw["cos_diff"] > 0.99


def test_anchored_chunks_share_anchors_across_lengths_and_refuse_short_plays():
    plays = {"a": list(range(1000)), "b": list(range(5000, 6000))}
    toks, labels, starts = scaling.anchored_chunks(plays, 50, n_chunks=5, stride=100)
    assert starts.tolist() == [0, 100, 200, 300, 400] * 2 and labels.tolist() == [0] * 5 + [1] * 5
    assert toks[6] == list(range(5100, 5150))
    with pytest.raises(ValueError, match="tokens; 20 chunks"):
        scaling.anchored_chunks(plays, 50, n_chunks=20, stride=100)


def _tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    conf = LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)  # fmt: skip
    return LlamaForCausalLM(conf).eval()


def test_prefix_engrams_equal_separate_reads_of_each_length():
    model = _tiny_llama()
    rng = np.random.default_rng(0)
    lists = [list(rng.integers(0, 50, 24)) for _ in range(3)]
    got = engram.prefix_engrams(model, lists, [4, 10, 24], layer=1, skip_first=1)
    for L in (4, 10, 24):
        with torch.no_grad():
            for i, t in enumerate(lists):
                h = model.base_model(input_ids=torch.tensor([t[:L]]), output_hidden_states=True).hidden_states[1][0]
                np.testing.assert_allclose(got[L][i], h[1:].double().mean(0).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="exactly max"):
        engram.prefix_engrams(model, [lists[0][:10]], [4, 24], layer=1)
    with pytest.raises(ValueError, match="exceed skip_first"):
        engram.prefix_engrams(model, lists, [1, 24], layer=1, skip_first=1)
