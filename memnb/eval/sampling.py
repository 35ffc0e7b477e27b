"""Sampling from a memnb model, one token at a time, with its state as the KV cache.

At each step the next token is drawn from ``softmax(logits / temperature)`` restricted to the
``top_k`` most likely tokens (``temperature=0`` is greedy decoding). The prompt is processed in
one call; afterwards only the newest token is fed, with the state carrying the past. A stateless
model (one that returns ``state=None``, e.g. the ``transformers`` backbone behind
``models.backbone.CausalLM``) is re-fed its whole context each step instead, cut to its
``max_context`` tokens when it declares one, so no model ever predicts from the last token alone.
"""

from __future__ import annotations

import torch
import torch.nn as nn


@torch.no_grad()
def sample(
    model: nn.Module,
    prompt: list[int],
    n_tokens: int,
    *,
    temperature: float = 0.8,
    top_k: int | None = 40,
    seed: int = 0,
) -> list[int]:
    """The ``n_tokens`` token ids generated after ``prompt`` (the prompt is not included)."""
    if not prompt:
        raise ValueError("prompt must hold at least one token")
    if temperature < 0 or n_tokens < 0:
        raise ValueError(f"need temperature >= 0 and n_tokens >= 0, got {temperature}, {n_tokens}")
    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    was_training = model.training
    model.eval()
    logits, state = model(torch.tensor([prompt], device=device), None)
    out: list[int] = []
    for _ in range(n_tokens):
        last = logits[0, -1].float().cpu()
        if temperature == 0:
            nxt = int(last.argmax())
        else:
            if top_k is not None and top_k < last.numel():
                cut = torch.topk(last, top_k).values[-1]
                last = last.masked_fill(last < cut, float("-inf"))
            nxt = int(torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=gen))
        out.append(nxt)
        if state is None:  # stateless: recompute on the full (recent) context
            context = (prompt + out)[-getattr(model, "max_context", len(prompt) + len(out)) :]
            logits, state = model(torch.tensor([context], device=device), None)
        else:
            logits, state = model(torch.tensor([[nxt]], device=device), state)
    model.train(was_training)
    return out
