"""The three AMS v4 "fiber bundles": per-memory (base, fiber, dirn) triples (seed ``ams_v4/bundles``).

Seed: book/appendix/ams.md §1 (memory entries); ``h`` is the pooled hidden state (mean of the
frozen LM's last-layer states over all tokens), D its width; every MLP uses SiLU.

- **Time** (``d_time = 8``, fiber 32): Fourier features of ``s = (write index, 0, 0)``:
  ``[sin(s·f_j), cos(s·f_j)]`` with ``f_j = exp(linspace(0, ln 1e4, 4))`` (not scaled by 2π, as
  in the seed), 24 features; ``base = LN_8(MLP_{24→32→8}(ff) + W h)``,
  ``fiber = MLP_{D+9→128→32}([h, base, surprise])``, ``dirn = base/‖base‖``.
- **Topic** (``d_topic = 16``, fiber 64): ``c`` = mean of the row-normalised input embeddings
  over the text's token ids (uniform weights: the seed never passes its IDF), ``c = 0`` for an
  empty list (the seed's query side); ``base = normalize(MLP_{D→64→16}(c) + W h)``,
  ``fiber = MLP_{D+16→256→64}([h, base])``, ``dirn = base``.
- **Context** (``d_ctx = 12``, fiber 48): ``base = LN_12(MLP_{2D+48→64→12}([h, S, pool]))``,
  ``fiber = MLP_{2D+12→192→48}([h, base, S])``, ``dirn = normalize(base)``, with ``S`` the
  session summary (EMA 0.7/0.3 of write hiddens at inference, ``S = h`` in training, as coded).
  The seed's attention ``pool`` over ``prev_turns`` is always zero (``prev_turns`` is always
  None), so it is fed as zeros here; the dead pool weights live in ``memnb.ams.geometry``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_out))


class TimeEncoder(nn.Module):
    def __init__(self, d_model: int, d_base: int = 8, d_fiber: int = 32) -> None:
        super().__init__()
        self.n_freq = max(4, 2 * math.ceil(d_base / 2)) // 2
        self.register_buffer("freqs", torch.exp(torch.linspace(0, math.log(1e4), self.n_freq)))
        self.ff = mlp(3 * 2 * self.n_freq, 32, d_base)
        self.from_h = nn.Linear(d_model, d_base)
        self.ln = nn.LayerNorm(d_base)
        self.fiber = mlp(d_model + d_base + 1, 128, d_fiber)

    def fourier(self, s: torch.Tensor) -> torch.Tensor:
        """``s`` (B, 3) → (B, 3·2·n_freq): sin and cos of every scalar at every frequency."""
        x = s[..., None] * self.freqs
        return torch.cat([x.sin(), x.cos()], -1).flatten(1)

    def forward(self, h: torch.Tensor, ts: torch.Tensor, surprise: torch.Tensor | None = None):
        s = torch.stack(
            [ts.float(), torch.zeros_like(ts, dtype=torch.float), torch.zeros_like(ts, dtype=torch.float)], -1
        )
        base = self.ln(self.ff(self.fourier(s)) + self.from_h(h))
        sur = torch.zeros(h.shape[0], 1) if surprise is None else surprise[:, None]
        fiber = self.fiber(torch.cat([h, base, sur], -1))
        return base, fiber, F.normalize(base, dim=-1)


class TopicEncoder(nn.Module):
    def __init__(self, d_model: int, d_base: int = 16, d_fiber: int = 64) -> None:
        super().__init__()
        self.from_c = mlp(d_model, 64, d_base)
        self.from_h = nn.Linear(d_model, d_base)
        self.fiber = mlp(d_model + d_base, 256, d_fiber)

    def forward(self, h: torch.Tensor, c: torch.Tensor):
        base = F.normalize(self.from_c(c) + self.from_h(h), dim=-1)
        return base, self.fiber(torch.cat([h, base], -1)), base


class ContextEncoder(nn.Module):
    POOL = 48  # d_attn = max(4·d_ctx, 32) in the seed; its pool output is always zero

    def __init__(self, d_model: int, d_base: int = 12, d_fiber: int = 48) -> None:
        super().__init__()
        self.base_mlp = mlp(2 * d_model + self.POOL, 64, d_base)
        self.ln = nn.LayerNorm(d_base)
        self.fiber = mlp(2 * d_model + d_base, 192, d_fiber)

    def forward(self, h: torch.Tensor, summary: torch.Tensor):
        pool = torch.zeros(h.shape[0], self.POOL)
        base = self.ln(self.base_mlp(torch.cat([h, summary, pool], -1)))
        return base, self.fiber(torch.cat([h, base, summary], -1)), F.normalize(base, dim=-1)


def topic_centroid(wte_unit: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """Mean of the row-normalised embeddings of ``ids`` (zero vector for an empty list)."""
    if not ids:
        return torch.zeros(wte_unit.shape[1])
    return wte_unit[torch.tensor(ids)].mean(0)
