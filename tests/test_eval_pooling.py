"""Mean-pooled hidden states: known answers, padding and windows, and the four callers it replaced."""

import numpy as np
import pytest
import torch
import torch.nn as nn
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.ams import sessions
from memnb.eval.pooling import hidden_sums, pooled_hidden, unit
from memnb.hrs import topic_separation as ts
from memnb.hrs.retrieval import engram_store
from memnb.hrs.retrieval.entropy import entropy_bits
from memnb.models.decoder import DecoderConfig, attention_decoder

LISTS = [[3, 7, 1, 9], [5, 2, 8, 8, 1, 30, 12, 4, 4], [11, 0, 49, 6, 6, 2, 17]]


def _gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=32, n_embd=16, n_layer=2, n_head=2)).eval()


def _decoder() -> nn.Module:
    torch.manual_seed(0)
    return attention_decoder(DecoderConfig(vocab_size=50, d_model=16, n_layers=2, n_heads=2)).eval()


class Table(nn.Module):
    """A memnb-style model whose hidden state at a token is a fixed row of a table (no context)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.arange(12.0).view(6, 2))

    def hidden(self, idx, state=None):
        return self.table[idx], None


def _reference(model, lists, layer):
    """Each text alone, the plain mean of its hidden states (float32, as the old code computed it)."""
    with torch.no_grad():
        if isinstance(model, GPT2LMHeadModel):
            hs = [model(input_ids=torch.tensor([t]), output_hidden_states=True).hidden_states[layer][0] for t in lists]
        else:
            hs = [model.hidden(torch.tensor([t]))[0][0] for t in lists]
    return torch.stack([h.mean(0) for h in hs])


def test_known_answer_is_the_mean_of_the_rows():
    got = pooled_hidden(Table(), [[0, 1], [5], [2, 2, 4]])
    np.testing.assert_array_equal(got, [[1.0, 2.0], [10.0, 11.0], [16 / 3, 19 / 3]])
    s = hidden_sums(Table(), [[0, 1], [5]])
    np.testing.assert_array_equal(s.hidden, [[2.0, 4.0], [10.0, 11.0]])
    assert s.counts.tolist() == [2, 1] and s.stat is None
    # windows change nothing for a context-free model: the mean runs over all tokens
    np.testing.assert_array_equal(pooled_hidden(Table(), [[2, 2, 4]], window=2), got[2:])
    np.testing.assert_allclose(np.linalg.norm(unit(got), axis=1), 1.0)


@pytest.mark.parametrize("make", [_gpt2, _decoder])
def test_a_text_read_alone_is_exactly_the_float32_mean(make):
    model = make()
    ref = _reference(model, LISTS, -1)
    assert torch.equal(torch.from_numpy(pooled_hidden(model, LISTS)).float(), ref)


def test_padded_batches_match_texts_read_alone():
    model = _gpt2()
    alone = pooled_hidden(model, LISTS, layer=1)
    for batch_size, sort in ((2, False), (3, True)):
        got = pooled_hidden(model, LISTS, layer=1, batch_size=batch_size, sort=sort)
        np.testing.assert_allclose(got, alone, atol=1e-6)


def test_windows_are_fresh_contexts():
    model = _gpt2()
    ids = LISTS[1] + LISTS[2]  # 16 tokens: windows 0-5, 6-11, 12-15
    got = pooled_hidden(model, [ids], layer=1, window=6)[0]
    ref = torch.cat([_reference(model, [ids[s : s + 6]], 1) * len(ids[s : s + 6]) for s in (0, 6, 12)]).sum(0) / 16
    np.testing.assert_allclose(got, ref.double().numpy(), atol=1e-6)


def test_logit_stat_is_summed_from_the_same_pass():
    model = _gpt2()
    s = hidden_sums(model, LISTS, layer=1, batch_size=2, logit_stat=entropy_bits)
    with torch.no_grad():
        ref = [float(entropy_bits(model(input_ids=torch.tensor([t])).logits[0]).sum()) for t in LISTS]
    np.testing.assert_allclose(s.stat, ref, rtol=1e-5)


def test_checks():
    with pytest.raises(ValueError, match="layer must be in 0..2"):
        pooled_hidden(_gpt2(), LISTS, layer=3)
    with pytest.raises(ValueError, match="positions"):
        pooled_hidden(_gpt2(), [list(range(40))])
    with pytest.raises(ValueError, match="layer=-1"):
        pooled_hidden(_decoder(), LISTS, layer=1)
    with pytest.raises(ValueError, match="non-empty"):
        pooled_hidden(_gpt2(), [[1], []])


# The implementations this module replaced, run on the models above before they were deleted
# (first three coordinates, rounded to 7 decimals): topic_separation.engrams,
# retrieval.engram_store.encode (layer 1) and ams.sessions.pooled_hidden. Their callers now call
# pooling; the values must not move. (routing.engram.engrams, windowed, is gone: chapter 32 reads
# the pretrained reader's engrams with routing.engram.prefix_engrams, tested in test_routing_scaling.)
OLD = {
    "ts": [[-1.252819e-01, 1.753334e-01, 3.780490e-01], [-2.033761e-01, -2.496916e-01, -2.748000e-04],
           [1.262838e-01, -2.049777e-01, -1.609360e-02]],
    "store_keys": [[-0.161467, -0.313484, -0.0927733], [-0.102475, -0.0210533, 0.1170648],
                   [-0.0186466, -0.3265722, -0.3809836]],
    "store_entropy": [5.6389914, 5.6387339, 5.638855],
    "ams": [[-0.4476906, -0.657954, -0.1744696], [-0.1244298, -0.0136285, 0.3264576],
            [-0.116932, -0.6699535, -0.6425779]],
}  # fmt: skip


class SpaceTok:
    def encode(self, text):
        return [int(w) for w in text.split()]


def test_the_callers_give_what_the_old_implementations_gave():
    gpt, dec = _gpt2(), _decoder()
    by_hand = {
        "ts": unit(_reference(dec, LISTS, -1).double().numpy()),
        "store_keys": unit(_reference(gpt, LISTS, 1).double().numpy()),
        "ams": _reference(gpt, LISTS, -1).double().numpy(),
    }
    enc = engram_store.encode(gpt, LISTS, layer=1, skip_first=0)
    got = {
        "ts": ts.engrams(dec, LISTS),
        "store_keys": engram_store.keys(enc.means, None),  # the seed's raw keys
        "ams": sessions.pooled_hidden(gpt, SpaceTok(), [" ".join(map(str, t)) for t in LISTS]).double().numpy(),
    }
    for name, value in got.items():
        np.testing.assert_allclose(value, by_hand[name], atol=1e-6, err_msg=name)
        np.testing.assert_allclose(value[:, :3], OLD[name], atol=2e-7, err_msg=name)
    np.testing.assert_allclose(enc.entropy, OLD["store_entropy"], atol=2e-6)


def test_skip_first_leaves_the_first_positions_out_of_the_mean_only():
    gpt = _gpt2()
    full = hidden_sums(gpt, LISTS, layer=1, logit_stat=entropy_bits)
    skip = hidden_sums(gpt, LISTS, layer=1, logit_stat=entropy_bits, skip_first=1, batch_size=3)
    for i, t in enumerate(LISTS):
        h = _reference(gpt, [t], 1)[0].double().numpy() * len(t)  # sum over every position
        first = _reference(gpt, [t[:1]], 1)[0].double().numpy()  # position 1's state (causal: alone = in context)
        np.testing.assert_allclose(skip.hidden[i], h - first, atol=1e-5)
    np.testing.assert_array_equal(skip.counts, full.counts - 1)
    np.testing.assert_allclose(skip.stat, full.stat, atol=1e-5)  # the logit statistic keeps every position
    np.testing.assert_array_equal(skip.stat_counts, full.counts)
    with pytest.raises(ValueError, match="longer than skip_first=9"):
        hidden_sums(gpt, LISTS, layer=1, skip_first=9)
