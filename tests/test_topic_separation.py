"""Topic separation metrics, Decoder.hidden and the scaled-dot control arm."""

import numpy as np
import pytest
import torch

from memnb.hrs import topic_separation as ts
from memnb.layers.attention import CausalSelfAttention
from memnb.layers.exp_kernel_attention import ScaledDotAttention
from memnb.models.decoder import DecoderConfig, attention_decoder


def test_seed_grid_accuracy_is_the_majority_rate_when_nothing_separates():
    acc, majority = ts.seed_grid_accuracy(np.full(10, 0.93), np.full(90, 0.93))
    assert majority == 0.9 and acc == pytest.approx(0.9)
    acc, _ = ts.seed_grid_accuracy(np.full(10, 0.9), np.full(90, 0.1))
    assert acc == 1.0


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_auroc_is_one_for_separated_groups_and_half_for_noise():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 5
    groups = [_unit(c + rng.normal(size=(30, 8))) for c in centres]
    assert ts.pair_auroc(groups, n_pairs=500, min_gap=2, seed=0) > 0.99
    noise = [_unit(rng.normal(size=(40, 8))) for _ in range(3)]
    assert abs(ts.pair_auroc(noise, n_pairs=3000, min_gap=2, seed=0) - 0.5) < 0.05
    with pytest.raises(ValueError, match="min_gap"):
        ts.pair_auroc([noise[0][:2], noise[1]], n_pairs=10, min_gap=2, seed=0)


def test_seed_pairs_counts_match_the_seed_design():
    groups = [_unit(np.random.default_rng(i).normal(size=(50, 4))) for i in range(2)]
    same, cross = ts.seed_pairs(groups)
    assert same.size == 2 * (46 * 4 + 3 + 2 + 1) == 380 and cross.size == 2500


def test_hidden_is_what_the_lm_head_reads_and_engrams_are_unit_norm():
    torch.manual_seed(0)
    model = attention_decoder(DecoderConfig(vocab_size=13, d_model=16, n_layers=2, n_heads=2)).eval()
    idx = torch.randint(0, 13, (2, 9))
    h, _ = model.hidden(idx)
    torch.testing.assert_close(h @ model.embed.weight.T, model(idx)[0])
    e = ts.engrams(model, [[1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)
    assert ts.chunks("abcdefghij", 3, 2) == ["abc", "def"]


def test_scaled_dot_attention_defaults_to_plain_attention():
    torch.manual_seed(0)
    plain, scaled = CausalSelfAttention(16, 2, rope_base=None), ScaledDotAttention(16, 2)
    scaled.load_state_dict(plain.state_dict())
    x = torch.randn(2, 7, 16)
    torch.testing.assert_close(scaled(x)[0], plain(x)[0])
    softer = ScaledDotAttention(16, 2, scale=2 / 8)
    softer.load_state_dict(plain.state_dict())
    assert (softer(x)[0] - plain(x)[0]).abs().max() > 1e-4
