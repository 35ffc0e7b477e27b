"""Batched sampling from an ``EngramLM`` with a full recompute per token.

The sampling rule is ``memnb.eval.sampling.sample``'s: the next token is drawn from
``softmax(logits / temperature)`` over the ``top_k`` most likely tokens (``temperature=0``:
greedy). The difference is the procedure: all prompts advance together, and every step runs the
model on the whole context so far (prompt + generated tokens), because the engram of the
context changes whenever a window completes (HRS V16 also recomputed fully per token; at
generation time a window engram exists only for complete windows of the past, so nothing can
leak). Prompts must have equal length.
"""

from __future__ import annotations

import torch

from memnb.hrs.model import EngramLM


@torch.no_grad()
def sample_batch(
    model: EngramLM,
    prompts: torch.Tensor,
    n_tokens: int,
    *,
    temperature: float = 0.8,
    top_k: int | None = 40,
    seed: int = 0,
    engram: str = "present",
) -> torch.Tensor:
    """``[N, n_tokens]`` token ids generated after each row of ``prompts`` ``[N, P]``."""
    if prompts.dim() != 2 or prompts.size(1) < 1:
        raise ValueError(f"prompts must be [N, P] token ids with P >= 1, got shape {tuple(prompts.shape)}")
    if temperature < 0 or n_tokens < 0:
        raise ValueError(f"need temperature >= 0 and n_tokens >= 0, got {temperature}, {n_tokens}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ctx = prompts.to(device)
    for _ in range(n_tokens):
        last = model(ctx, engram=engram)[0][:, -1].float().cpu()
        if temperature == 0:
            nxt = last.argmax(-1)
        else:
            if top_k is not None and top_k < last.size(-1):
                cut = torch.topk(last, top_k, dim=-1).values[:, -1:]
                last = last.masked_fill(last < cut, float("-inf"))
            nxt = torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=gen).squeeze(1)
        ctx = torch.cat((ctx, nxt[:, None].to(device)), dim=1)
    model.train(was_training)
    return ctx[:, prompts.size(1) :].cpu()
