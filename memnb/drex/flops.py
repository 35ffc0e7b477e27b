"""Forward FLOPs per token of a ``DrexModel``, counted from its configuration (deterministic).

Chapter 12 judges the speed part of ``drex.last_layer_only`` by this count, not by the wall clock
(which measures the per-op overhead of L4's Python write loop on this machine, reported beside it).
One multiply-add is 2 FLOPs; d = d_model, S = segment_len, D = d / heads, h = the FFN width,
V = the vocabulary. Per token:

- attention tier, L1 + L2 (Infini-attention): 8d² + 4d·s̄ + 6dD + 4d, s̄ = mean (i mod S) + 1
  (``memnb.layers.flops.flops_infini_attention``); L1 alone (sliding window of S):
  8d² + 4d·w̄ (``flops_sliding_window``);
- FFN: 4dh;
- L4 with the seed's readout (``l4_readout="last"``): the key projections W_s, W_e (d → d/2)
  at every position, 2d²; at each of the S − 1 write positions, for each of the two d/2 × d/2
  memories, a prediction M k̂ and a rank-1 update, 2d² for both; at the segment's last token
  only, two reads d², the output projection 2d² and the null gate 2d. Per token:
  2d² + 2d²(S − 1)/S + (3d² + 2d)/S. With ``l4_readout="per_position"`` the read runs at every
  token (``flops_drex_l4``: 7d² + 2d);
- LM head (tied): 2dV.

LayerNorms, activations and the gate's norms are O(d) per token and left out (the same in every
arm but L4's few). Training costs about 3× these (forward + backward; L4's writes run on detached
keys, so its share is overcounted by the factor). Titans (L3) is not counted: chapter 12 does not
train it.
"""

from __future__ import annotations

from types import SimpleNamespace

from memnb.drex.model import DrexConfig
from memnb.layers.flops import flops_drex_l4, flops_infini_attention, flops_sliding_window


def l4_flops_per_token(cfg: DrexConfig) -> float:
    """Forward FLOPs per token of one L4 layer (module docstring)."""
    d, S = cfg.d_model, cfg.segment_len
    if cfg.l4_readout == "per_position":
        return flops_drex_l4(None, d, S)
    keys = 2 * d * d  # W_s, W_e at every position
    writes = 2 * d * d * (S - 1) / S  # prediction + rank-1 update, two d/2 memories, S − 1 writes
    read = (d * d + 2 * d * d + 2 * d) / S  # two reads, W_o, null gate: once per segment
    return keys + writes + read


def flops_per_token(cfg: DrexConfig) -> float:
    """Forward FLOPs per token of ``DrexModel(cfg)`` (module docstring)."""
    if cfg.l3:
        raise ValueError("flops_per_token does not count L3 (Titans); chapter 12 does not train it")
    d, S = cfg.d_model, cfg.segment_len
    if cfg.l2:
        attn = flops_infini_attention(SimpleNamespace(n_heads=cfg.n_heads, segment_len=S), d, S)
    elif cfg.l1:
        attn = flops_sliding_window(SimpleNamespace(window=S), d, S)
    else:
        attn = 0.0
    blocks = sum(attn + 4 * d * cfg.hidden + (l4_flops_per_token(cfg) if cfg.has_l4(i) else 0.0)
                 for i in range(cfg.n_layers))  # fmt: skip
    return blocks + 2 * d * cfg.vocab_size
