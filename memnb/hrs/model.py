"""``EngramLM``: a small decoder with an engram injected by HRS's two paths (book/appendix/hrs.md §3).

The backbone is memnb's decoder block (pre-LN, RoPE causal self-attention, GELU MLP, tied LM
head; ``memnb.models.block``). Two independent switches say how an engram enters it:

**Injection path** (``injection``)

- ``"none"`` — HRS V17, no engram.
- ``"prepend"`` — HRS V16. At every block after ``extract_layer`` the engram vectors E (plus a
  learned type embedding) are concatenated *before* the tokens, the whole block runs on
  ``[E ; x]`` with the causal mask, and the first |E| positions are stripped again:

      [·; x] ← Block([E + t ; x]).

  The causal mask lets every token position see every engram slot.
- ``"xattn"`` — HRS V18. At the odd blocks (1, 3, ...) a gated cross-attention
  (``memnb.layers.cross_attention.GatedCrossAttention``; sigmoid gate, logit 0 → 0.5, queries
  LayerNorm-ed, memory not, no mask) sits between self-attention and MLP:

      x ← x + SA(LN x);   x ← x + σ(a)·W_o Attn(W_Q LN x; W_K E, W_V E);   x ← x + MLP(LN x).

**Engram source** (``source``)

- ``"self"`` — HRS V16's engram of the *same* sequence: ``WindowEngram`` on the output of block
  ``extract_layer`` (K vectors per complete window of W tokens; ``memnb.hrs.engram``). With
  probability ``engram_dropout`` per training batch all engrams are dropped (V16's "engram
  dropout").
- ``"ema"`` — HRS V18's corpus-level ``EngramBuffer`` (all slots identical), fed from block
  ``buffer_layer`` (default −2: the second-to-last block) during training.
- ``"const"`` — a learned vector (one memory slot), i.e. the "engram" replaced by a constant.

V16 = (prepend, self), V18 = (xattn, ema); the other two cells of the 2×2 separate the path from
the source. Evaluation switches (``forward(..., engram=...)``): ``"present"``; ``"absent"`` (no
engram, V16/V18 "OFF"); ``"shuffled"`` (each sequence gets the engram of the next sequence in
the batch); ``"past_windows"`` (source ``self`` only: position p may read engram e_w only if its
window ended at or before p, (w+1)W − 1 ≤ p — exactly what the model has when it generates,
where the future does not exist yet).

The model follows the memnb interface ``forward(idx, state) -> (logits, state)``. The state is
the token context so far and every call recomputes the whole context (the engram of the
context changes as windows complete, so a KV cache does not apply; HRS also recomputed fully
per generated token); logits are returned for the new tokens only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from memnb.hrs.engram import EngramBuffer, WindowEngram
from memnb.layers.attention import CausalSelfAttention, merge_heads, split_heads
from memnb.layers.cross_attention import GatedCrossAttention
from memnb.layers.peer import PEER, peer_for
from memnb.layers.rope import apply_rope
from memnb.models.block import MLP, Block
from memnb.models.decoder import DecoderConfig
from memnb.models.init import normal_init

INJECTIONS = ("none", "prepend", "xattn")
SOURCES = ("self", "ema", "const")
MODES = ("present", "absent", "shuffled", "past_windows")
FFNS = ("mlp", "peer")


@dataclass
class EngramConfig:
    vocab_size: int
    d_model: int = 64
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    injection: str = "none"
    source: str = "self"
    window: int = 32  # W, tokens per engram window (V16: 128 BPE tokens)
    per_window: int = 2  # K, engram vectors per window (V16: 4)
    extract_layer: int = 0  # block whose output feeds WindowEngram (V16: block 1 of 6)
    buffer_layer: int = -2  # block whose output feeds the EMA buffer (V18: -2)
    n_slots: int = 32  # EMA buffer slots (V18: 32)
    update_interval: int = 10  # training batches per buffer update (V18: 100 of 50 K steps)
    momentum: float = 0.9  # buffer EMA momentum (V18: 0.99)
    engram_dropout: float = 0.1  # V16: drop all engrams with this probability per batch
    ffn: str = "mlp"  # "mlp" (dense GELU MLP) or "peer" (HRS's FFN: memnb.layers.peer)

    def __post_init__(self) -> None:
        self.decoder = DecoderConfig(
            vocab_size=self.vocab_size,
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            mlp_ratio=self.mlp_ratio,
        )
        if self.injection not in INJECTIONS:
            raise ValueError(f"injection must be one of {INJECTIONS}, got {self.injection!r}")
        if self.ffn not in FFNS:
            raise ValueError(f"ffn must be one of {FFNS}, got {self.ffn!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if not 0 <= self.extract_layer < self.n_layers - 1:
            raise ValueError(
                f"extract_layer must leave a later block to inject into: 0 <= extract_layer < {self.n_layers - 1}, "
                f"got {self.extract_layer}"
            )
        if self.injection == "xattn" and self.n_layers < 2:
            raise ValueError("cross-attention sits at the odd blocks: n_layers must be >= 2")
        if not -self.n_layers <= self.buffer_layer < self.n_layers:
            raise ValueError(
                f"buffer_layer must index a block (-{self.n_layers}..{self.n_layers - 1}), got {self.buffer_layer}"
            )
        if not 0.0 <= self.engram_dropout < 1.0:
            raise ValueError(f"engram_dropout must be in [0, 1), got {self.engram_dropout}")

    @property
    def inject_layers(self) -> tuple[int, ...]:
        """Blocks that read the engram: after ``extract_layer`` (prepend) or the odd blocks (xattn)."""
        if self.injection == "prepend":
            return tuple(range(self.extract_layer + 1, self.n_layers))
        if self.injection == "xattn":
            return tuple(i for i in range(self.n_layers) if i % 2 == 1 and i > self.extract_layer)
        return ()


class PrefixSelfAttention(CausalSelfAttention):
    """Self-attention over one whole sequence (RoPE from position 0) with an explicit
    ``[L, L]`` boolean ``mask`` (True = may attend); the default mask is causal. It keeps no
    state (the model recomputes the whole context per call): ``forward(x, None) -> (y, None)``."""

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, state: None = None, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, None]:
        L = x.size(1)
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        q, k = apply_rope(q, 0, self.rope_base), apply_rope(k, 0, self.rope_base)
        if mask is None:
            mask = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
        return self.out_proj(merge_heads(self.attend(q, k, v, mask))), None


class MaskedGatedCrossAttention(GatedCrossAttention):
    """``GatedCrossAttention`` with an optional ``[T, m]`` boolean ``mask`` over memory slots; a
    token that may see no slot gets 0 (as if there were no memory). It returns y alone: the
    memory is the caller's (a ``Block`` branch that ``reads`` it)."""

    def forward(self, x: torch.Tensor, mem: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if mask is None:
            return super().forward(x, mem)[0]
        q = split_heads(self.q_proj(self.ln(x)), self.n_heads)
        k, v = (split_heads(t, self.n_heads) for t in self.kv_proj(mem).chunk(2, dim=-1))
        k, v = k.expand(q.size(0), -1, -1, -1), v.expand(q.size(0), -1, -1, -1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1).nan_to_num(0.0)
        return self.gate_fn(self.gate_logit) * self.out_proj(merge_heads(weights @ v))


def engram_block(cfg: DecoderConfig, cross: bool, ffn: str = "mlp") -> Block:
    """One pre-LN block (``memnb.models.block.Block``); with ``cross=True`` a gated
    cross-attention branch (``xattn``, reading the engram passed as its state) sits between SA
    and MLP (V18). The FFN is the dense GELU MLP or, with ``ffn="peer"``, a PEER layer (HRS
    V16-V18's FFN)."""
    d = cfg.d_model
    attn = PrefixSelfAttention(d, cfg.n_heads)
    xattn = MaskedGatedCrossAttention(d, cfg.n_heads) if cross else None
    mlp = MLP(d, cfg.mlp_ratio * d) if ffn == "mlp" else peer_for(d, cfg.mlp_ratio)
    return Block(d, attn, mlp, pre_mlp={"xattn": xattn}, reads=("xattn",))


class EngramLM(nn.Module):
    """Decoder + engram (path × source); see the module docstring for the equations."""

    def __init__(self, cfg: EngramConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dc = cfg.decoder
        self.embed = nn.Embedding(dc.vocab_size, dc.d_model)
        cross = set(cfg.inject_layers) if cfg.injection == "xattn" else set()
        self.blocks = nn.ModuleList(engram_block(dc, i in cross, cfg.ffn) for i in range(dc.n_layers))
        self.ln_f = nn.LayerNorm(dc.d_model)
        self.encoder = self.buffer = self.const = self.type_emb = None
        if cfg.injection != "none":
            if cfg.source == "self":
                self.encoder = WindowEngram(dc.d_model, cfg.window, cfg.per_window)
            elif cfg.source == "ema":
                self.buffer = EngramBuffer(dc.d_model, cfg.n_slots, cfg.update_interval, cfg.momentum)
            else:
                self.const = nn.Parameter(torch.empty(dc.d_model))
        if cfg.injection == "prepend":
            self.type_emb = nn.Parameter(torch.empty(dc.d_model))
        # Every Linear/Embedding N(0, 0.02) (HRS's global init, which also re-initialises the
        # cross-attention out_proj: book/appendix/hrs.md §3), GPT-2's scaled init of the residual
        # projections of self-attention and MLP.
        self.apply(normal_init)
        for p in (self.const, self.type_emb):
            if p is not None:
                nn.init.normal_(p, 0.0, 0.02)
        for block in self.blocks:
            out = block.mlp.proj if isinstance(block.mlp, MLP) else block.mlp.w_out
            for w in (block.mixer.out_proj.weight, out.weight):
                nn.init.normal_(w, 0.0, 0.02 / math.sqrt(2 * dc.n_layers))
            if isinstance(block.mlp, PEER):  # HRS: expert tables u, v ~ N(0, 0.01)
                nn.init.normal_(block.mlp.down.weight, 0.0, 0.01)
                nn.init.normal_(block.mlp.up.weight, 0.0, 0.01)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def gates(self) -> list[float]:
        """σ(a) of each cross-attention layer (HRS V18 reports these; seed: 0.27–0.33)."""
        return [float(b.xattn.gate_fn(b.xattn.gate_logit.detach())) for b in self.blocks if b.xattn is not None]

    def _static_memory(self, batch: int) -> torch.Tensor | None:
        if self.buffer is not None:
            mem = self.buffer.read()
        elif self.const is not None:
            mem = self.const.view(1, 1, -1)
        else:
            return None
        return None if mem is None else mem.expand(batch, -1, -1)

    def _masks(self, mem: torch.Tensor, T: int, engram: str):
        """(self-attention mask for prepend, cross-attention mask for xattn) for ``past_windows``."""
        if engram != "past_windows" or self.encoder is None:
            return None, None
        m, dev = mem.size(1), mem.device
        visible = self.encoder.window_ends(m, dev)[None, :] <= torch.arange(T, device=dev)[:, None]  # [T, m]
        if self.cfg.injection == "xattn":
            return None, visible
        mask = torch.ones(m + T, m + T, dtype=torch.bool, device=dev).tril()
        mask[m:, :m] = visible
        return mask, None

    def forward(
        self, idx: torch.Tensor, state: torch.Tensor | None = None, *, engram: str = "present"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if idx.dim() != 2:
            raise ValueError(f"idx must be [batch, time] token ids, got shape {tuple(idx.shape)}")
        if engram not in MODES:
            raise ValueError(f"engram must be one of {MODES}, got {engram!r}")
        n_new = idx.size(1)
        if state is not None:
            idx = torch.cat((state, idx), dim=1)
        B, T = idx.shape
        cfg = self.cfg
        x = self.embed(idx)
        use = engram != "absent" and cfg.injection != "none"
        if use and self.encoder is not None and self.training and cfg.engram_dropout > 0:
            use = bool(torch.rand(()) >= cfg.engram_dropout)
        mem = self._static_memory(B) if use else None
        if mem is not None and engram == "shuffled":
            mem = mem.roll(1, dims=0)
        buffer_layer = cfg.buffer_layer % cfg.n_layers
        for i, block in enumerate(self.blocks):
            if mem is not None and i in cfg.inject_layers:
                self_mask, cross_mask = self._masks(mem, T, engram)
                if cfg.injection == "prepend":
                    m = mem.size(1)
                    x = block(torch.cat((mem + self.type_emb, x), dim=1), mixer={"mask": self_mask})[0][:, m:]
                else:
                    x = block(x, {"xattn": mem}, xattn={"mask": cross_mask})[0]
            else:
                x = block(x)[0]
            if use and self.encoder is not None and i == cfg.extract_layer:
                mem = self.encoder(x)
                if mem is not None and engram == "shuffled":
                    mem = mem.roll(1, dims=0)
            if self.buffer is not None and self.training and i == buffer_layer:
                self.buffer.record(x)
        logits = self.ln_f(x) @ self.embed.weight.T
        return logits[:, T - n_new :], idx
