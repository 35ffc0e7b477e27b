"""Checks around the memory comparison: the leakage probe and the overhead.

- ``future_leak``: replace the token at t + 1 by another one and measure
  ``max |logits_{≤t}(edited) − logits_{≤t}(original)|``; a causal model gives exactly 0 (the
  per-position probe of book/appendix/memarch.md §4, pitfall 1;
  ``memnb.eval.probes.future_leak``). Every t is probed, so any position reading ahead shows.
- ``overhead``: forward throughput (tokens/s, wall clock) and the bytes of state a model
  carries after reading a sequence (``memnb.layers.registry.state_bytes``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn

from memnb.eval import probes
from memnb.layers import registry as zoo


def future_leak(
    model: nn.Module, inputs: torch.Tensor, vocab_size: int, positions: Sequence[int] | None = None
) -> float:
    """max over probed t of ``max |Δ logits at positions ≤ t|`` when token t + 1 is changed to
    ``(token + 1) mod vocab_size``; ``positions`` defaults to every t in ``[0, T − 2]``
    (``memnb.eval.probes.future_leak``)."""
    ts = range(inputs.size(1) - 1) if positions is None else positions
    return probes.future_leak(model, inputs, ts, edit=probes.next_token(vocab_size), upto="<=")


@torch.no_grad()
def overhead(model: nn.Module, inputs: torch.Tensor, *, repeats: int = 5) -> dict[str, float]:
    """``{"tokens_per_s": forward tokens per second (median of ``repeats`` timed calls after
    one warm-up), "state_bytes": bytes of every state tensor after the pass}``."""
    was_training = model.training
    model.eval()
    _, state = model(inputs, None)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(inputs, None)
        times.append(time.perf_counter() - t0)
    model.train(was_training)
    return {"tokens_per_s": inputs.numel() / float(np.median(times)), "state_bytes": zoo.state_bytes(state)}
