"""Rotary position embedding (RoPE; Su et al. 2021, "RoFormer").

Each pair of channels (i, i + D/2) of a head vector at absolute position p is rotated by the
angle p·θ_i with θ_i = base^(-2i/D) ("rotate-half" layout, as in GPT-NeoX and Llama). After the
rotation q_p·k_s depends on p and s only through p − s.

Layers pass the absolute position of their first token (carried in their state), so a
sequence processed segment by segment is rotated exactly as in one pass.
"""

from __future__ import annotations

import torch


def rope_angles(
    start: int,
    length: int,
    head_dim: int,
    base: float,
    *,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the angles for positions start..start+length-1, each ``[length, head_dim]``."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head_dim, got {head_dim}")
    inv_freq = base ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float64) / head_dim)
    pos = torch.arange(start, start + length, device=device, dtype=torch.float64)
    angles = torch.outer(pos, inv_freq).repeat(1, 2)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rope(x: torch.Tensor, start: int, base: float = 10000.0) -> torch.Tensor:
    """Rotate ``x`` of shape ``[..., T, head_dim]`` as positions start..start+T-1."""
    cos, sin = rope_angles(start, x.size(-2), x.size(-1), base, device=x.device, dtype=x.dtype)
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin
