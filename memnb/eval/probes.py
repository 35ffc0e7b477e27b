"""Probes of a sequence mixer's contract, run on every registered memory.

- ``segment_error``: the largest difference between one pass over a sequence and the same
  sequence fed in segments with the state carried (0 up to rounding for every layer here);
- ``future_leak``: the largest change at positions < t when the token at t is edited
  (exactly 0 for a causal layer).
"""

from __future__ import annotations

import torch
import torch.nn as nn


@torch.no_grad()
def segment_error(layer: nn.Module, x: torch.Tensor, segment: int) -> float:
    """max |one pass − segment by segment with the state carried| over the whole output."""
    full, _ = layer(x, None)
    state, parts = None, []
    for start in range(0, x.size(1), segment):
        y, state = layer(x[:, start : start + segment], state)
        parts.append(y)
    return (torch.cat(parts, 1) - full).abs().max().item()


@torch.no_grad()
def future_leak(layer: nn.Module, x: torch.Tensor, t: int) -> float:
    """max |change at positions < t| when the input at position t is replaced by noise."""
    edited = x.clone()
    edited[:, t] = torch.randn_like(edited[:, t])
    return (layer(edited, None)[0][:, :t] - layer(x, None)[0][:, :t]).abs().max().item()
