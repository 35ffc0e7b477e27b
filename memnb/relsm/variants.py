"""The arms of the ReLSM ladder, built from ``memnb.models.decoder`` at matched size.

ReLSM's ladder (model.py; book/appendix/relsm.md §1) and ours:

| arm | what it is | vs ReLSM |
|---|---|---|
| ``baseline`` | L attention blocks (RoPE) | same idea (ReLSM: RMSNorm/SwiGLU blocks) |
| ``shared_loop`` | the same L blocks applied ``loops`` times | ReLSM: 6 blocks x 4 = 24 applications |
| ``latent_seed`` | L−1 blocks + thought stream reading the whole sequence | as shipped (leaks) |
| ``latent`` | L−1 blocks + causal thought stream (per-position prefix) | the fix, T× the thought compute |
| ``latent_prompt`` | L−1 blocks + thoughts reading only the prompt, injected into the answer | the cheap fix |
| ``act_seed`` | L−1 blocks + whole-sequence thoughts + shipped halting | as shipped (leaks, no gradient) |
| ``act`` | L−1 blocks + prompt-only thoughts + Graves halting (per sequence) | the fix |
| ``ssm`` | L Mamba-2 (SSD) blocks | ReLSM's scan drops its input and adds the thought loop |
| ``planted_leak`` | ``latent`` whose thoughts also read one token ahead | the leak probe's positive control |

``TRAINED`` are the arms the claims judge after training; the shipped arms' leak is structural
and is audited at initialisation (``AUDITED_AT_INIT``), beside the planted leak.

Parameter matching: the thought stream (init, shared core, injection) *replaces* one backbone
block, and its SwiGLU width is solved so that it has as many parameters as that block; the
SSM uses ``expand = 1`` so a Mamba-2 mixer is about the size of an attention mixer. Every
model has the interface ``model(idx, state) -> (logits, state)`` and ``ponder_loss()``
(zero unless it halts adaptively).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb.layers.attention import CausalSelfAttention
from memnb.layers.ssd import Mamba2
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.models.init import normal_init
from memnb.relsm.act import GravesHalting, ShippedHalting
from memnb.relsm.thoughts import ThoughtStream
from memnb.relsm.vocab import PAD_ID, SEP_ID

VARIANTS = (
    "baseline",
    "shared_loop",
    "latent_seed",
    "latent",
    "latent_prompt",
    "act_seed",
    "act",
    "ssm",
    "planted_leak",
)
TRAINED = ("baseline", "shared_loop", "latent", "latent_prompt", "act", "ssm")
AUDITED_AT_INIT = ("latent_seed", "act_seed", "planted_leak")
# by construction; `audit.future_leak` measures it
CAUSAL = {v: not (v.endswith("_seed") or v == "planted_leak") for v in VARIANTS}
STREAM_MODE = {
    "latent_seed": "shipped", "act_seed": "shipped", "latent": "causal", "planted_leak": "causal",
    "latent_prompt": "prompt", "act": "prompt",
}  # fmt: skip


@dataclass(frozen=True)
class LadderConfig:
    """Sizes shared by every arm (ReLSM nano: d 512, 6 layers, Z 16, K 4, ACT 2..8)."""

    vocab_size: int
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    loops: int = 2
    n_thoughts: int = 4
    latent_k: int = 2
    act_min_k: int = 2
    act_max_k: int = 4
    act_tau: float = 1e-3
    ssm_state: int = 16
    ssm_head_dim: int = 16
    prompt_id: int = SEP_ID
    short_conv: int = 0  # kernel of the causal token-mixing conv in front of every backbone mixer (0: none)

    def __post_init__(self) -> None:
        if self.n_layers < 2:
            raise ValueError(f"n_layers must be >= 2 (the thought arms keep n_layers - 1 blocks), got {self.n_layers}")
        if min(self.loops, self.n_thoughts, self.latent_k, self.act_min_k) < 1:
            raise ValueError("loops, n_thoughts, latent_k and act_min_k must be >= 1")
        if self.act_max_k < self.act_min_k:
            raise ValueError(f"act_max_k ({self.act_max_k}) must be >= act_min_k ({self.act_min_k})")

    def decoder(self, n_layers: int | None = None) -> DecoderConfig:
        return DecoderConfig(
            self.vocab_size, self.d_model, n_layers or self.n_layers, self.n_heads, short_conv=self.short_conv
        )


class LadderModel(Decoder):
    """Embedding → blocks (applied ``loops`` times) → optional thought head → LN → tied head."""

    def __init__(self, cfg: DecoderConfig, mixer, *, loops: int = 1, head: nn.Module | None = None) -> None:
        super().__init__(cfg, mixer)
        self.loops, self.head = loops, head
        if head is not None:  # ReLSM: N(0, 0.02) for every Linear, zero biases
            head.apply(normal_init)
            if hasattr(head, "reset_parameters"):
                head.reset_parameters()

    def forward(self, idx: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        if idx.dim() != 2:
            raise ValueError(f"idx must be [batch, time] token ids, got shape {tuple(idx.shape)}")
        blocks = list(self.blocks) * self.loops
        state = state if state is not None else [None] * len(blocks)
        x = self.drop(self.embed(idx))
        new_state = []
        for block, s in zip(blocks, state, strict=True):
            x, s = block(x, s)
            new_state.append(s)
        if self.head is not None:
            x = self.head(x, idx)
        return self.ln_f(x) @ self.embed.weight.T, new_state

    def ponder_loss(self) -> torch.Tensor:
        if self.head is None or not hasattr(self.head, "ponder_loss"):
            return torch.zeros(())
        return self.head.ponder_loss()

    def iterations_used(self) -> torch.Tensor | None:
        """Thought iterations per position ``[B, T]`` of the last forward (halting arms only)."""
        return getattr(self.head, "last_iterations", None)


def block_params(cfg: LadderConfig) -> int:
    """Parameters of one attention block of ``memnb.models.decoder`` at this width."""
    d = cfg.d_model
    return 4 * d * d + 2 * 4 * d * d + 4 * d + d + 4 * d


def thought_ff(cfg: LadderConfig) -> int:
    """SwiGLU width that makes the thought stream as large as one backbone block."""
    d = cfg.d_model
    rest = cfg.n_thoughts * d + 5 * d * d + 3 * d  # init, q/kv/out, to_token, three RMSNorms
    return max(1, round((block_params(cfg) - rest) / (3 * d)))


def build(variant: str, cfg: LadderConfig) -> LadderModel:
    """A freshly initialised arm of the ladder (call ``seed_everything`` first)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; variants: {', '.join(VARIANTS)}")
    attn = lambda c, i: CausalSelfAttention(c.d_model, c.n_heads)  # noqa: E731
    mamba = lambda c, i: Mamba2(c.d_model, cfg.ssm_state, 1, cfg.ssm_head_dim)  # noqa: E731
    if variant == "baseline":
        return LadderModel(cfg.decoder(), attn)
    if variant == "shared_loop":
        return LadderModel(cfg.decoder(), attn, loops=cfg.loops)
    if variant == "ssm":
        return LadderModel(cfg.decoder(), mamba)
    stream = ThoughtStream(
        cfg.d_model, cfg.n_heads, cfg.n_thoughts, thought_ff(cfg), mode=STREAM_MODE[variant], pad_id=PAD_ID,
        prompt_id=cfg.prompt_id, iterations=cfg.latent_k, lookahead=int(variant == "planted_leak"),
    )  # fmt: skip
    if variant == "act_seed":
        head = ShippedHalting(stream, cfg.act_min_k, cfg.act_max_k)
    elif variant == "act":
        head = GravesHalting(stream, cfg.act_max_k, tau=cfg.act_tau)
    else:
        head = stream
    return LadderModel(cfg.decoder(cfg.n_layers - 1), attn, head=head)
