"""Sampling: a stateless model must generate exactly what the same model with a KV cache does."""

import torch
import torch.nn as nn

from memnb.eval.sampling import sample
from memnb.models.decoder import DecoderConfig, attention_decoder
from memnb.seeding import seed_everything


class Stateless(nn.Module):
    """The same decoder, but it forgets everything between calls (like models.backbone.CausalLM)."""

    def __init__(self, inner: nn.Module, max_context: int | None = None) -> None:
        super().__init__()
        self.inner = inner
        if max_context is not None:
            self.max_context = max_context

    def forward(self, idx, state=None):
        return self.inner(idx[:, -getattr(self, "max_context", idx.shape[1]) :], None)[0], None


def _model() -> nn.Module:
    seed_everything(0)
    cfg = DecoderConfig(vocab_size=11, d_model=16, n_layers=2, n_heads=2)
    return attention_decoder(cfg).eval()


def test_stateless_model_generates_what_the_cached_model_does():
    model = _model()
    prompt = [1, 5, 3, 7, 2]
    for temperature in (0.0, 1.0):
        cached = sample(model, prompt, 12, temperature=temperature, seed=3)
        stateless = sample(Stateless(model), prompt, 12, temperature=temperature, seed=3)
        assert stateless == cached
    # what the fix prevents: feeding the newest token alone (state None) loses the context
    with_context = model(torch.tensor([prompt + [4]]), None)[0][0, -1]
    token_alone = model(torch.tensor([[4]]), None)[0][0, -1]
    assert (with_context - token_alone).abs().max() > 1e-2


def test_max_context_cuts_the_refed_context():
    model = _model()
    prompt = [1, 5, 3, 7, 2, 4, 6]
    short = sample(Stateless(model, max_context=3), prompt, 6, temperature=0.0)
    by_hand, context = [], list(prompt)
    for _ in range(6):
        nxt = int(model(torch.tensor([context[-3:]]), None)[0][0, -1].argmax())
        by_hand.append(nxt)
        context.append(nxt)
    assert short == by_hand
