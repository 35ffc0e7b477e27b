"""A small decoder-only transformer whose sequence mixer is any memnb layer.

nanoGPT's block with a pluggable mixer (Radford et al. 2019; Karpathy's nanoGPT;
``memnb.models.block``):

    h = x + Mixer(LN(x), state)        # full attention, sliding window, Infini-attention, ...
    y = h + MLP(LN(h)),   MLP(u) = W_2 GELU(W_1 u)

    logits = LN(h_L) E^T               # LM head tied to the token embedding E

There is no absolute position embedding: position enters through the mixer (RoPE in the
attention layers, recurrence in the SSM). With ``short_conv = k > 0`` every block puts a causal
depthwise convolution of kernel k in front of its mixer, ``h = x + Mixer(Conv(LN(x)), state)``
(``memnb.models.block.ShortConv``; k = 2 is a learned token shift, the short convolution of
Zoology's recall models); its last k − 1 inputs join the block's state. With 0 (the default)
nothing is built, and a decoder is what it was without the option. Every mixer follows the
memnb layer interface ``forward(x, state) -> (y, new_state)``, so ``Decoder.forward(idx, state)``
carries one state per layer from segment to segment (truncated BPTT; see ``memnb.train``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.models.block import MLP, Block, ShortConv
from memnb.models.init import gpt2_init


@dataclass
class DecoderConfig:
    vocab_size: int
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    short_conv: int = 0  # kernel of the causal depthwise conv in front of every mixer; 0 = none

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "mlp_ratio"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DecoderConfig.{name} must be >= 1, got {getattr(self, name)}")
        if isinstance(self.short_conv, bool) or not isinstance(self.short_conv, int) or self.short_conv < 0:
            raise ValueError(f"DecoderConfig.short_conv must be an int >= 0 (0 = no conv), got {self.short_conv!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


Mixer = Callable[[DecoderConfig, int], nn.Module]  # (config, layer index) -> layer
RESIDUAL = ("mixer.out_proj.weight", "mlp.proj.weight")  # the projections GPT-2's init scales


class Decoder(nn.Module):
    """Token embedding → ``n_layers`` blocks → final LayerNorm → tied LM head."""

    def __init__(self, cfg: DecoderConfig, mixer: Mixer) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(
            Block(
                cfg.d_model,
                mixer(cfg, i),
                MLP(cfg.d_model, cfg.mlp_ratio * cfg.d_model, dropout=cfg.dropout),
                conv=ShortConv(cfg.d_model, cfg.short_conv) if cfg.short_conv else None,
            )
            for i in range(cfg.n_layers)
        )
        self.ln_f = nn.LayerNorm(cfg.d_model)
        gpt2_init(self, cfg.n_layers, RESIDUAL)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def hidden(self, idx: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        """The final hidden states (after ``ln_f``) ``[B, T, d_model]`` and the new state."""
        if idx.dim() != 2:
            raise ValueError(f"idx must be [batch, time] token ids, got shape {tuple(idx.shape)}")
        state = state if state is not None else [None] * len(self.blocks)
        x = self.drop(self.embed(idx))
        new_state = []
        for block, s in zip(self.blocks, state, strict=True):
            x, s = block(x, s)
            new_state.append(s)
        return self.ln_f(x), new_state

    def forward(self, idx: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        h, new_state = self.hidden(idx, state)
        return h @ self.embed.weight.T, new_state


def attention_decoder(cfg: DecoderConfig) -> Decoder:
    """The baseline: every mixer is full causal self-attention with RoPE."""
    from memnb.layers.attention import CausalSelfAttention

    return Decoder(cfg, lambda c, i: CausalSelfAttention(c.d_model, c.n_heads))


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over positions whose target is not -100."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
