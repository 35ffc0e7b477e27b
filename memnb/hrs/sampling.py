"""Batched sampling from an ``EngramLM`` with a full recompute per token (HRS V16's procedure).

The sampler is ``memnb.eval.sampling.sample_batch``; HRS's choice is ``cache=False``: all prompts
advance together and every step runs the model on the whole context so far (prompt + generated
tokens), because the engram of the context changes whenever a window completes (HRS V16 also
recomputed fully per token; at generation time a window engram exists only for complete windows
of the past, so nothing can leak). ``engram`` is the evaluation switch passed to every call.
"""

from __future__ import annotations

import torch

from memnb.eval import sampling
from memnb.hrs.model import EngramLM


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
    rows = sampling.sample_batch(
        model, prompts, n_tokens, temperature=temperature, top_k=top_k, seed=seed, cache=False, engram=engram
    )
    return torch.tensor(rows, dtype=torch.long).view(len(rows), n_tokens)
