"""A Drex-style language model: four switchable memory tiers around a small decoder.

Seed: Drex (wesleyscholl/drex) ``python/drex/models/transformer.py`` (``DrexLayer``,
``DrexTransformer``); tiers and equations in book/appendix/drex.md §1-2. Each block (a
``memnb.models.block.Block``: ``drex_block``) is, with every branch present only when its tier
is switched on::

    x ← x + Attn(LN_1 x)        L1 alone: sliding-window attention, window W = segment_len
                                L1 + L2:  Infini-attention (causal attention inside each segment
                                          of W tokens + a compressive memory across segments)
    x ← x + Titans(LN_3 x)      L3: MLP memory written by test-time gradient steps
    x ← x + FFN(LN_2 x)         FFN(u) = W_2 GELU(W_1 u)
    x ← x + L4(x)               L4: episodic/semantic delta-rule memory with the OR write gate
                                (``memnb.layers.drex_memory``; it has its own LayerNorm)

    logits = LN_f(x) Eᵀ         LM head tied to the token embedding E

The block order (attention, FFN, then L4 on the block's output) is the seed's. The layers are
``memnb.layers``' (one jump to each equation):
``SlidingWindowAttention`` (L1), ``InfiniAttention`` (L2), ``TitansMemory`` (L3),
``DrexL4Memory`` (L4). Choices that differ from the seed, each a named setting here:

- L1 is a real sliding window (the seed's ``window_size`` is dead code: it attends to the whole
  segment). With L2 on, the local part is Infini-attention's in-segment causal attention, which
  is what the seed's L1 computes.
- L2 writes with the paper's normalised delta rule by default (``l2_update="delta"``); the seed's
  unnormalised write (``"drex"``) is available.
- L3 is the corrected Titans memory, read in the forward pass (the seed's L3 is write-only and
  has no effect on outputs). The seed trains with L3 off (``use_l3=False``).
- L4 follows the seed by default: fresh matrices in every segment, read only at the segment's
  last token (``l4_readout="last"``, ``l4_carry=False``); ``l4_readout="per_position"`` with
  ``l4_carry=True`` is the variant that reads at every token and carries the memory across
  segments. ``l4_layers="last"`` puts L4 in the final block only (the seed's
  ``memory_last_layer_only``).
- Position enters through RoPE in the attention layers, not through a learned absolute
  embedding reset per segment.

Every tier cuts the stream into the same segments of ``segment_len`` tokens counted from the
first token the model saw, so ``model(idx, state)`` on any split of a sequence, with the state
carried, gives the one-pass logits (the layers' segment semantics). ``mlp_hidden`` lets a
model without L4 be widened to the parameter count of one with it (``matched_mlp_hidden``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from memnb.eval.nll import stream_nll
from memnb.layers.drex_memory import READOUTS, DrexL4Memory
from memnb.layers.infini_attention import UPDATES, InfiniAttention
from memnb.layers.sliding_window import SlidingWindowAttention
from memnb.layers.titans import TitansMemory
from memnb.models.block import MLP, Block, PreNorm
from memnb.models.init import gpt2_init
from memnb.seeding import seed_everything
from memnb.train import LossFn, TrainConfig, random_windows, train

L4_LAYERS = ("all", "last")


@dataclass(frozen=True)
class DrexConfig:
    """Sizes and tier switches of a ``DrexModel`` (see the module docstring)."""

    vocab_size: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    segment_len: int = 64
    l1: bool = True
    l2: bool = True
    l3: bool = False
    l4: bool = False
    l4_layers: str = "all"
    l4_thresh: float = 0.70
    l4_null_gate: bool = True  # the seed's null retrieval gate r ← σ(w·h + b) r (off: chapter 11's ablation)
    l4_readout: str = "last"
    l4_carry: bool = False
    l2_update: str = "delta"
    titans_chunk: int = 16
    mlp_hidden: int | None = None  # None: 4 · d_model

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "segment_len", "titans_chunk"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DrexConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError(
                f"d_model ({self.d_model}) must split into n_heads ({self.n_heads}) heads of even size (RoPE)"
            )
        if self.l2 and not self.l1:
            raise ValueError("L2 (Infini-attention) contains L1's local attention: set l1=True to use l2=True")
        if self.l4_layers not in L4_LAYERS:
            raise ValueError(f"l4_layers must be one of {L4_LAYERS}, got {self.l4_layers!r}")
        if self.l4_readout not in READOUTS:
            raise ValueError(f"l4_readout must be one of {READOUTS}, got {self.l4_readout!r}")
        if self.l2_update not in UPDATES:
            raise ValueError(f"l2_update must be one of {UPDATES}, got {self.l2_update!r}")
        if not 0.0 <= self.l4_thresh <= 1.0:
            raise ValueError(f"l4_thresh must be in [0, 1], got {self.l4_thresh}")
        if self.mlp_hidden is not None and self.mlp_hidden < 1:
            raise ValueError(f"mlp_hidden must be >= 1 or None (4 · d_model), got {self.mlp_hidden}")

    @property
    def hidden(self) -> int:
        return self.mlp_hidden or 4 * self.d_model

    def has_l4(self, layer: int) -> bool:
        return self.l4 and (self.l4_layers == "all" or layer == self.n_layers - 1)

    @property
    def tiers(self) -> str:
        """``"L1+L2+L4"`` style name of the tiers switched on (L4 placement noted)."""
        names = [f"L{i}" for i, on in enumerate((self.l1, self.l2, self.l3, self.l4), 1) if on]
        name = "+".join(names) or "FFN only"
        return name + (" (L4 last layer)" if self.l4 and self.l4_layers == "last" else "")


def drex_block(cfg: DrexConfig, layer: int) -> Block:
    """One Drex block (``memnb.models.block.Block``): the attention tier and Titans as pre-MLP
    branches through their own LayerNorms, the GELU FFN, L4 after it; a switched-off tier is an
    empty slot. Its state is ``{"attn", "titans", "l4"}`` (missing = off or empty).

    The attention tier is a branch rather than the block's mixer so that each LayerNorm follows
    its layer in the parameter order, as in the seed-shaped block this replaced: the
    gradient-clipping norm sums the parameters in that order, so the ci numbers stay the same.
    """
    d, S = cfg.d_model, cfg.segment_len
    attn: nn.Module | None = None
    if cfg.l2:
        attn = PreNorm(d, InfiniAttention(d, cfg.n_heads, segment_len=S, update=cfg.l2_update))
    elif cfg.l1:
        attn = PreNorm(d, SlidingWindowAttention(d, cfg.n_heads, window=S))
    titans = PreNorm(d, TitansMemory(d, chunk_size=cfg.titans_chunk)) if cfg.l3 else None
    ffn = MLP(d, cfg.hidden)
    l4 = None
    if cfg.has_l4(layer):
        l4 = DrexL4Memory(
            d, segment_len=S, thresh=cfg.l4_thresh, readout=cfg.l4_readout, carry_memory=cfg.l4_carry,
            null_gate=cfg.l4_null_gate,
        )  # fmt: skip
    return Block(d, None, ffn, pre_mlp={"attn": attn, "titans": titans}, post_mlp={"l4": l4})


class DrexModel(nn.Module):
    """Token embedding → ``n_layers`` Drex blocks → LayerNorm → tied LM head.

    ``forward(idx [B, T], state) -> (logits [B, T, V], state)``; ``state=None`` is empty memory.
    """

    def __init__(self, cfg: DrexConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(drex_block(cfg, i) for i in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        gpt2_init(self, cfg.n_layers, ("attn.layer.out_proj.weight", "mlp.proj.weight"))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def l4_modules(self) -> list[DrexL4Memory]:
        return [b.l4 for b in self.blocks if b.l4 is not None]

    def forward(self, idx: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        if idx.dim() != 2:
            raise ValueError(f"idx must be [batch, time] token ids, got shape {tuple(idx.shape)}")
        state = state if state is not None else [None] * len(self.blocks)
        x = self.embed(idx)
        new_state = []
        for block, s in zip(self.blocks, state, strict=True):
            x, s = block(x, s)
            new_state.append(s)
        return self.ln_f(x) @ self.embed.weight.T, new_state


def write_rates(state: list) -> list[float | None]:
    """Per block, the fraction of L4 write steps that fired since the state was empty (running
    totals ``fires / (B · writes)`` of ``DrexL4State``); ``None`` for a block without L4."""
    out: list[float | None] = []
    for s in state:
        l4 = s.get("l4")
        out.append(None if l4 is None or l4.writes == 0 else float(l4.fires.float().mean()) / l4.writes)
    return out


def matched_mlp_hidden(cfg: DrexConfig, target_params: int) -> int:
    """The FFN width that brings ``DrexModel(cfg)`` closest to ``target_params`` parameters
    (the count is linear in the width, so two probes find it)."""
    n0 = DrexModel(replace(cfg, mlp_hidden=cfg.hidden)).num_params()
    n1 = DrexModel(replace(cfg, mlp_hidden=cfg.hidden + 1)).num_params()
    hidden = cfg.hidden + round((target_params - n0) / (n1 - n0))
    if hidden < 1:
        raise ValueError(f"no FFN width brings {cfg.tiers} to {target_params} parameters (needs {hidden})")
    return hidden


def fit_drex(
    cfg: DrexConfig,
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    *,
    steps: int,
    batch_size: int,
    n_segments: int,
    seed: int,
    lr: float = 3e-3,
    eval_every: int = 0,
    val_tokens: int = 16_384,
    desc: str = "drex",
    batches: Callable[[int], tuple[torch.Tensor, torch.Tensor]] | None = None,
    val_window: int | None = None,
    loss_fn: LossFn | None = None,
) -> tuple[DrexModel, list[dict], float]:
    """Train ``DrexModel(cfg)`` from ``seed`` with truncated BPTT; return it, its history and the
    training wall time (s, the periodic evaluations excluded).

    Each batch is ``batch_size`` random windows of ``n_segments · segment_len`` tokens; every
    segment is one optimiser step with the state carried from the previous segment and detached
    (``memnb.train``; AdamW, 5% warmup, cosine). Evaluated rows carry ``val_loss`` (nats/token
    over the first ``val_tokens`` validation tokens, windows of ``n_segments · segment_len``
    tokens from an empty state) and ``wr_<layer>``, the L4 write rate of each L4 block over the
    first validation window of each of 4 rows.

    ``batches``: another ``get_batch(step)`` (e.g. ``memnb.drex.mixture.passkey_mixture``) in place
    of the random windows; ``val_window``: the validation windows' length (default
    ``n_segments · segment_len``); ``loss_fn``: the objective (default next-token cross-entropy),
    e.g. ``memnb.drex.mixture.weighted_lm_objective`` for a batch with loss weights.
    """
    seed_everything(seed, threads=1)
    model = DrexModel(cfg)
    window = val_window or n_segments * cfg.segment_len
    probe = val_ids[: 4 * window].view(4, window)

    eval_time = 0.0

    def evaluate(m: nn.Module) -> dict:
        nonlocal eval_time
        t0 = time.perf_counter()
        nll, n = stream_nll(m, val_ids, window=window, max_tokens=val_tokens)
        rates = write_rates(m(probe)[1])
        eval_time += time.perf_counter() - t0
        return {"val_loss": nll / n, **{f"wr_{i}": r for i, r in enumerate(rates) if r is not None}}

    tcfg = TrainConfig(
        steps=steps, lr=lr, warmup=max(1, steps // 20), segment_len=cfg.segment_len, eval_every=eval_every
    )
    start = time.perf_counter()
    get_batch = batches or random_windows(train_ids, n_segments * cfg.segment_len, batch_size, seed)
    history = train(model, get_batch, tcfg, loss_fn=loss_fn, evaluate=evaluate, desc=desc)
    return model, history, time.perf_counter() - start - eval_time


@torch.no_grad()
def tokens_per_s(model: nn.Module, idx: torch.Tensor, segment_len: int, repeats: int = 2) -> float:
    """Inference throughput: ``idx [B, T]`` read in segments of ``segment_len`` with the state
    carried, best of ``repeats`` runs (wall clock: varies with the machine's load)."""
    was_training = model.training
    model.eval()
    best = float("inf")
    for _ in range(repeats):
        start, state = time.perf_counter(), None
        for s in range(0, idx.size(1), segment_len):
            state = model(idx[:, s : s + segment_len], state)[1]
        best = min(best, time.perf_counter() - start)
    model.train(was_training)
    return idx.numel() / best


def exp_configs(base: DrexConfig) -> dict[str, DrexConfig]:
    """The seed's runs on ``base`` (L1 + L2): ``"Exp A"`` (no L4, its FFN widened to Exp B's
    parameter count), ``"Exp B"`` (the seed's L4 in every layer) and ``"Exp B, last layer"``
    (``memory_last_layer_only``, not re-matched, as in the seed's ablation)."""
    exp_b = replace(base, l4=True)
    exp_a = replace(
        base, l4=False, mlp_hidden=matched_mlp_hidden(replace(base, l4=False), DrexModel(exp_b).num_params())
    )
    return {"Exp A": exp_a, "Exp B": exp_b, "Exp B, last layer": replace(exp_b, l4_layers="last")}
