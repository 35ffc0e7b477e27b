"""The one sampler: greedy is step-by-step argmax, the KV cache equals a full recompute, seeded
draws reproduce, a ragged batch decodes as its rows alone, stop tokens, bias and prefix."""

import pytest
import torch
import torch.nn as nn
from transformers import GPT2Config, GPT2LMHeadModel

from memnb.eval.sampling import sample, sample_batch
from memnb.models.decoder import DecoderConfig, attention_decoder
from memnb.seeding import seed_everything

PROMPTS = [[1, 5, 3, 7, 2], [4, 4], [9, 1, 2, 8, 8, 6, 3], [2, 7]]


def _decoder() -> nn.Module:
    seed_everything(0)
    return attention_decoder(DecoderConfig(vocab_size=11, d_model=16, n_layers=2, n_heads=2)).eval()


def _gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=11, n_positions=32, n_embd=16, n_layer=2, n_head=2)).eval()


def _logits(model, ids: list[int]) -> torch.Tensor:
    """Next-token logits after ``ids``, the whole context in one call."""
    with torch.no_grad():
        if isinstance(model, GPT2LMHeadModel):
            return model(input_ids=torch.tensor([ids])).logits[0, -1]
        return model(torch.tensor([ids]), None)[0][0, -1]


@pytest.mark.parametrize("make", [_decoder, _gpt2])
@pytest.mark.parametrize("cache", [True, False])
def test_greedy_is_argmax_step_by_step(make, cache):
    model = make()
    ref, ctx = [], list(PROMPTS[0])
    for _ in range(10):
        ref.append(int(_logits(model, ctx).argmax()))
        ctx.append(ref[-1])
    assert sample(model, PROMPTS[0], 10, temperature=0, cache=cache) == ref


@pytest.mark.parametrize("make", [_decoder, _gpt2])
def test_kv_cache_equals_full_recompute(make):
    model = make()
    for temperature in (0.0, 1.0):
        cached = sample_batch(model, PROMPTS[:1], 12, temperature=temperature, seed=3)
        full = sample_batch(model, PROMPTS[:1], 12, temperature=temperature, seed=3, cache=False)
        assert cached == full
    # the logits behind them agree to float rounding
    with torch.no_grad():
        ids = torch.tensor([PROMPTS[2]])
        out = model(input_ids=ids[:, :4], use_cache=True) if make is _gpt2 else None
        if out is not None:
            step = model(input_ids=ids[:, 4:5], past_key_values=out.past_key_values, use_cache=True).logits[0, -1]
        else:
            _, state = model(ids[:, :4], None)
            step = model(ids[:, 4:5], state)[0][0, -1]
    torch.testing.assert_close(step, _logits(model, PROMPTS[2][:5]), atol=1e-5, rtol=0)


def test_seeded_sampling_reproduces_the_per_token_procedure():
    model = _decoder()
    got = sample(model, PROMPTS[0], 15, temperature=0.8, top_k=5, seed=7)
    assert got == sample(model, PROMPTS[0], 15, temperature=0.8, top_k=5, seed=7)
    assert got != sample(model, PROMPTS[0], 15, temperature=0.8, top_k=5, seed=8)
    # the draw rule by hand: top-5 of logits / 0.8, one generator seeded with 7
    gen, ctx, ref = torch.Generator().manual_seed(7), list(PROMPTS[0]), []
    for _ in range(15):
        last = _logits(model, ctx).float()
        last = last.masked_fill(last < torch.topk(last, 5).values[-1], float("-inf"))
        ref.append(int(torch.multinomial(torch.softmax(last / 0.8, -1), 1, generator=gen)))
        ctx.append(ref[-1])
    assert got == ref


@pytest.mark.parametrize("make", [_decoder, _gpt2])
@pytest.mark.parametrize("cache", [True, False])
def test_ragged_batch_equals_each_row_alone(make, cache):
    model = make()
    together = sample_batch(model, PROMPTS, 8, temperature=0, cache=cache, pad_id=10)
    assert together == [sample(model, p, 8, temperature=0, cache=cache) for p in PROMPTS]


def test_stop_tokens_end_a_row_and_are_not_returned():
    model = _decoder()
    free = sample_batch(model, PROMPTS, 10, temperature=0)
    stop = free[0][3]
    got = sample_batch(model, PROMPTS, 10, temperature=0, stop=[stop])
    for f, g in zip(free, got, strict=True):
        assert g == f[: f.index(stop)] if stop in f else g == f


def test_bias_is_added_to_the_logits():
    model = _decoder()
    bias = torch.zeros(11)
    bias[6] = 1e4
    assert sample(model, PROMPTS[0], 4, temperature=0, bias=bias) == [6, 6, 6, 6]


def test_prefix_embeddings_are_read_before_the_prompt():
    model = _gpt2()
    prefix = torch.randn(3, 16)
    got = sample(model, PROMPTS[0], 6, temperature=0, prefix=prefix)
    ctx, ref, emb = list(PROMPTS[0]), [], model.get_input_embeddings()
    with torch.no_grad():
        for _ in range(6):
            x = torch.cat([prefix, emb(torch.tensor(ctx))])[None]
            ref.append(int(model(inputs_embeds=x).logits[0, -1].argmax()))
            ctx.append(ref[-1])
    assert got == ref
    assert sample(model, PROMPTS[0], 6, temperature=0, prefix=prefix, cache=False) == ref


def test_model_positions_are_respected():
    model = _gpt2()
    with pytest.raises(ValueError, match="positions"):
        sample(model, list(range(10)) * 3, 5)  # 30 + 5 > 32 positions, cached
    # re-fed contexts keep the last 32 tokens: the first prompt token no longer matters
    a = sample(model, [1] + [2, 3] * 16, 4, temperature=0, cache=False)
    assert a == sample(model, [5] + [2, 3] * 16, 4, temperature=0, cache=False)


def test_checks():
    with pytest.raises(ValueError, match="at least one token"):
        sample_batch(_decoder(), [[1], []], 3)
    with pytest.raises(ValueError, match="transformers"):
        sample(_decoder(), [1], 3, prefix=torch.zeros(2, 16))
    assert sample_batch(_decoder(), [[1], [2, 3]], 0) == [[], []]
