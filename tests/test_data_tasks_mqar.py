"""MQAR (Zoology's multi-query associative recall): layout, labels, query placement, checks."""

import numpy as np
import pytest
import torch
from scipy import stats

from memnb.data.tasks import IGNORE
from memnb.data.tasks.mqar import make_mqar, query_slot_probs

CONFIGS = [(64, 4, 128), (128, 16, 256), (16, 4, 17), (256, 64, 8192)]


@pytest.mark.parametrize("L, P, V", CONFIGS)
def test_pairs_come_first_with_distinct_keys_and_values_in_their_halves(L, P, V):
    b = make_mqar(200, seed=3, seq_len=L, n_pairs=P, vocab_size=V)
    assert b.inputs.shape == b.targets.shape == (200, L) and b.inputs.dtype == torch.int64
    assert b.vocab.size == V and b.task == "mqar"
    keys, values = b.inputs[:, 0 : 2 * P : 2], b.inputs[:, 1 : 2 * P : 2]
    assert ((keys >= 2) & (keys < V // 2)).all() and ((values >= V // 2) & (values < V)).all()
    assert all(len(set(r)) == P for r in keys.tolist()) and all(len(set(r)) == P for r in values.tolist())
    assert all(b.vocab.decode([k])[0].startswith("k") for k in keys.flatten().tolist())
    assert int(b.inputs.min()) >= 0 and int(b.inputs.max()) < V


@pytest.mark.parametrize("L, P, V", CONFIGS)
def test_every_key_is_queried_once_and_labelled_with_its_value(L, P, V):
    b = make_mqar(100, seed=4, seq_len=L, n_pairs=P, vocab_size=V)
    for x, y, slots in zip(b.inputs.tolist(), b.targets.tolist(), b.meta["query_slot"], strict=True):
        pairs = dict(zip(x[0 : 2 * P : 2], x[1 : 2 * P : 2], strict=True))
        scored = [t for t in range(L) if y[t] != IGNORE]
        assert scored == sorted(2 * P + 2 * s for s in slots)  # P distinct query slots, nothing else
        assert all(t >= 2 * P and (t - 2 * P) % 2 == 0 for t in scored)
        assert sorted(x[t] for t in scored) == sorted(pairs)  # each key once
        assert all(y[t] == pairs[x[t]] for t in scored)
        assert [x[2 * P + 2 * s] for s in slots] == x[0 : 2 * P : 2]  # pair p's key sits in slot p


def test_filler_is_pad_or_uniform_over_the_vocabulary():
    L, P, V = 64, 4, 128
    quiet = make_mqar(50, seed=5, seq_len=L, n_pairs=P, vocab_size=V, random_non_queries=False)
    noisy = make_mqar(2000, seed=5, seq_len=L, n_pairs=P, vocab_size=V)
    for b, pad_only in ((quiet, True), (noisy, False)):
        filler = b.targets == IGNORE
        filler[:, : 2 * P] = False
        if pad_only:
            assert (b.inputs[filler] == b.vocab.pad).all()
        else:  # uniform over [0, V): a chi-square test on the token counts
            counts = np.bincount(b.inputs[filler].numpy(), minlength=V)
            assert stats.chisquare(counts).pvalue > 1e-3


def test_first_query_slot_follows_the_power_law():
    """Key 0's slot is the first weighted draw: exactly p_i ∝ a·i^(a−1), tested by chi-square and
    by its mean against the analytic mean (5 standard errors)."""
    L, P, V, a, n = 64, 4, 128, 0.01, 20000
    b = make_mqar(n, seed=11, seq_len=L, n_pairs=P, vocab_size=V, power_a=a)
    first = np.array([s[0] for s in b.meta["query_slot"]])
    p = query_slot_probs(L, P, a)
    assert len(p) == (L - 2 * P) // 2 and p[0] > 20 * p[-1]  # i^(−0.99): steep
    counts = np.bincount(first, minlength=len(p))
    assert stats.chisquare(counts, n * p).pvalue > 1e-3
    slots = np.arange(len(p))
    mean, sd = (slots * p).sum(), np.sqrt(((slots - (slots * p).sum()) ** 2 * p).sum())
    assert abs(first.mean() - mean) < 5 * sd / np.sqrt(n)
    # the power law, not a uniform draw: a uniform first slot has mean (S − 1)/2
    assert first.mean() < 0.6 * (len(p) - 1) / 2


def test_all_query_slots_follow_sequential_weighted_sampling():
    """The full draw without replacement: with P = 2 the second slot's law is
    P(j) = Σ_i p_i p_j / (1 − p_i), i ≠ j (draw one slot, renormalise, draw the next)."""
    L, P, V, a, n = 24, 2, 64, 0.3, 20000
    b = make_mqar(n, seed=12, seq_len=L, n_pairs=P, vocab_size=V, power_a=a)
    second = np.array([s[1] for s in b.meta["query_slot"]])
    p = query_slot_probs(L, P, a)
    joint = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(joint, 0)
    expected = joint.sum(0)
    assert np.isclose(expected.sum(), 1)
    assert stats.chisquare(np.bincount(second, minlength=len(p)), n * expected).pvalue > 1e-3


def test_power_one_is_uniform_over_slots():
    L, P, V, n = 64, 4, 128, 5000
    b = make_mqar(n, seed=13, seq_len=L, n_pairs=P, vocab_size=V, power_a=1.0)
    S = (L - 2 * P) // 2
    counts = np.bincount(np.array(b.meta["query_slot"]).ravel(), minlength=S)
    assert stats.chisquare(counts).pvalue > 1e-3  # each slot is used with probability P / S


def test_deterministic_per_seed():
    a, b, c = (make_mqar(32, seed=s) for s in (7, 7, 8))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets) and a.meta == b.meta
    assert not torch.equal(a.inputs, c.inputs)
    # a batch of n is not a prefix of a batch of 2n (the draws are per array), but each is fixed
    assert torch.equal(make_mqar(64, seed=7).inputs, make_mqar(64, seed=7).inputs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seq_len": 63}, r"seq_len must be even, got 63; use 64"),
        ({"seq_len": 128, "vocab_size": 128}, r"vocab_size \(128\) must exceed seq_len \(128\); raise vocab_size"),
        ({"seq_len": 64, "n_pairs": 17}, r"4·n_pairs \(68\) must be <= seq_len \(64\); lower n_pairs to <= 16"),
        ({"seq_len": 4, "n_pairs": 1, "vocab_size": 5}, r"leaves 0 keys for 1 distinct keys; raise vocab_size to >= 6"),
        ({"power_a": 0.0}, r"power_a must be a number > 0"),
        ({"n_pairs": 0}, r"n_pairs must be an int"),
        ({"seq_len": 64.0}, r"seq_len must be an int"),
    ],
)
def test_checks_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        make_mqar(2, seed=0, **kwargs)
    assert "\n" not in str(err.value)


def test_bad_n_and_seed():
    for kwargs in ({"n": 0, "seed": 0}, {"n": 2, "seed": -1}):
        with pytest.raises(ValueError, match="n \\(number|seed must"):
            make_mqar(kwargs.pop("n"), **kwargs)
