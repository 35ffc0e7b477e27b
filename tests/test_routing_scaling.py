"""Topic scaling experiment: threshold fitting, balanced pairs, engrams."""

import numpy as np
import pytest
import torch

from memnb.hrs.routing import engram, scaling


def _tiny_gpt2(n_positions=32):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    conf = GPT2Config(vocab_size=50, n_positions=n_positions, n_embd=16, n_layer=2, n_head=2)
    return GPT2LMHeadModel(conf).eval()


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


def test_score_lengths_scores_every_encoder_and_the_lexical_control():
    rng = np.random.default_rng(0)
    labels, starts = np.repeat(np.arange(4), 40), np.tile(np.arange(40) * 10, 4)
    toks = [list(rng.integers(0, 30, 8)) for _ in labels]
    e = rng.normal(size=(4, 16))[labels] * 3 + rng.normal(size=(160, 16))
    sets = {"a": {8: (toks, e, labels, starts)}, "b": {8: (toks, -e, labels, starts)}}
    rows = scaling.score_lengths(sets, [0, 1], vocab_size=30, n_pairs=100, min_gap=20)
    assert [(r["seed"], r["features"]) for r in rows] == [(s, f) for s in (0, 1) for f in ("a", "b", "tfidf")]
    assert rows[0] == {"length": 8, "seed": 0, "features": "a"} | scaling.evaluate_length(
        e, labels, starts, n_pairs=100, min_gap=20, seed=0
    )
    assert "acc_elementwise" not in rows[2]  # no classifiers for the lexical control


def test_windowed_engram_is_the_token_mean_of_per_window_states():
    model = _tiny_gpt2()
    ids = list(np.random.default_rng(0).integers(0, 50, 20))
    e = engram.engrams(model, [ids], layer=1, window=8)[0]
    with torch.no_grad():
        hs = [
            model.transformer(input_ids=torch.tensor([ids[s : s + 8]]), output_hidden_states=True).hidden_states[1][0]
            for s in (0, 8, 16)
        ]
    np.testing.assert_allclose(e, torch.cat(hs).mean(0).double().numpy(), atol=1e-5)
    sets = scaling.length_engrams(model, {"a": ids * 2, "b": ids[::-1] * 2}, [8, 16], max_chunks=4, layer=1, window=8)
    toks, e16, _, _ = sets[16]
    np.testing.assert_allclose(e16, engram.engrams(model, toks, layer=1, window=8), atol=1e-5)
