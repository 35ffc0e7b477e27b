"""Probes of a sequence model's contract: state carrying and causality.

Every probe calls its model with memnb's mixer contract ``model(x, state) -> (outputs, state)``
(layers, decoders, the projects' language models), ``x`` being embeddings ``[B, T, d]`` or
token ids ``[B, T]``.

- ``segment_error``: the largest difference between one pass over a sequence and the same
  sequence fed in segments with the state carried (0 up to rounding for every layer here);
- ``future_leak``: the causality probe (book/appendix/relsm.md §3, item 1;
  book/appendix/memarch.md §4, pitfall 1; book/appendix/hrs.md §3). Edit the input at one
  position s and measure how far the outputs of the earlier positions move::

      Δ(s) = max_{b, t < s, ·} | y_{b,t}(x') − y_{b,t}(x) |,   x' = x except x'_s = edit(x_s).

  A causal model gives exactly 0: masked keys get weight exp(−∞) = 0, so nothing of x_s
  reaches an earlier position. Any Δ > 0 is a path from the future to the past: a leak.
  ``upto`` names the reading convention: ``"<"`` edits the input at t and reads positions
  < t; ``"<="`` edits the input at t + 1 and reads positions ≤ t (a language model's logits
  at ≤ t predict the tokens ≤ t + 1). The edit is ``noise`` (embeddings) or ``next_token``
  (token ids), or any map of the edited column ``x[:, s]`` to its replacement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
import torch.nn as nn

Edit = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def segment_error(layer: nn.Module, x: torch.Tensor, segment: int) -> float:
    """max |one pass − segment by segment with the state carried| over the whole output."""
    full, _ = layer(x, None)
    state, parts = None, []
    for start in range(0, x.size(1), segment):
        y, state = layer(x[:, start : start + segment], state)
        parts.append(y)
    return (torch.cat(parts, 1) - full).abs().max().item()


def noise(column: torch.Tensor) -> torch.Tensor:
    """Replace embedding vectors by standard normal noise (draws from the global generator)."""
    return torch.randn_like(column)


def next_token(vocab_size: int) -> Edit:
    """The token edit ``x_s -> (x_s + 1) mod vocab_size`` (always a different id)."""
    return lambda column: (column + 1) % vocab_size


@torch.no_grad()
def future_leak(
    model: nn.Module,
    x: torch.Tensor,
    t: int | Sequence[int],
    *,
    edit: Edit = noise,
    upto: Literal["<", "<="] = "<",
    **forward_kw: Any,
) -> float:
    """max over the probed ``t`` of Δ (module docstring), in eval mode.

    ``upto="<"``: the input at t is edited, outputs at positions < t are read (t in [1, T));
    ``upto="<="``: the input at t + 1 is edited, outputs at positions ≤ t are read (t in
    [0, T − 1)). ``forward_kw`` go to every call ``model(x, None, **forward_kw)``.
    """
    if upto not in ("<", "<="):
        raise ValueError(f"upto must be '<' or '<=', got {upto!r}")
    shift = 1 if upto == "<=" else 0
    edits = [s + shift for s in (t if isinstance(t, Sequence) else [t])]  # the edited positions
    if not edits or not all(1 <= s < x.size(1) for s in edits):
        raise ValueError(f"t must be in [{1 - shift}, {x.size(1) - shift}) for upto={upto!r}, got {t}")
    was_training = model.training
    model.eval()
    base = model(x, None, **forward_kw)[0]
    moved = []
    for s in edits:  # outputs at positions < s can only see inputs < s
        edited = x.clone()
        edited[:, s] = edit(edited[:, s])
        moved.append((model(edited, None, **forward_kw)[0][:, :s] - base[:, :s]).abs().max())
    model.train(was_training)
    return torch.stack(moved).max().item()
