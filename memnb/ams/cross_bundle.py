"""Query heads, cross-bundle attention and the 12-slot prefix (seed ``ams_v4/attention``, ``projection``).

Seed: book/appendix/ams.md §1 (cross-bundle attention) and §3 (prefix norm):

- Query heads: ``ĥ = LN_D(q_hidden)``; ``q_time = W_t ĥ`` (32), ``q_topic = W_p ĥ`` (64),
  ``q_ctx = W_c ĥ`` (48), where ``q_hidden`` is the pooled hidden state of the whole prompt.
- Per bundle b an ``nn.MultiheadAttention(E_b, heads_b)`` (E = 32/64/48, 4/8/4 heads) with one
  query and keys = values = the stacked fibers of the memories it is given (the seed gives it
  **all** of them: "flat attend"; ``keep`` restricts it, the v4.7 top-k filter). Output ``o_b``.
- Slot lifts: every slot s of bundle b has its own ``Linear(E_b → D)``: 2 time, 6 topic, 4 ctx
  slots, concatenated ``[time, topic, ctx]`` → (12, D).
- ``prefix = LN_D(slots) · scale``. ``scale_mode``: ``"ln"`` (scale 1, the seed's first run),
  ``"inv_sqrt_d"`` (fixed 1/√D), ``"emb"`` (fixed E‖e‖/√D, the measured token-embedding norm),
  ``"learnable"`` (a learnable scalar initialised to 1/√D, the seed's fix).

With γ = 1, β = 0 the LayerNorm output has norm √D per slot, so the prefix-to-token norm ratio is
``scale·√D / E‖e‖``. The prefix is an affine function of at most 32 + 64 + 48 = 144 numbers.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

BUNDLES = (("time", 32, 4, 2), ("topic", 64, 8, 6), ("ctx", 48, 4, 4))  # name, fiber E, heads, slots
SCALE_MODES = ("ln", "inv_sqrt_d", "emb", "learnable")


class CrossBundleAttention(nn.Module):
    def __init__(self, d_model: int, *, scale_mode: str = "learnable", emb_norm: float = 1.0) -> None:
        super().__init__()
        if scale_mode not in SCALE_MODES:
            raise ValueError(f"scale_mode must be one of {SCALE_MODES}, got {scale_mode!r}")
        self.d_model, self.scale_mode = d_model, scale_mode
        self.q_ln = nn.LayerNorm(d_model)
        self.q_heads = nn.ModuleDict({b: nn.Linear(d_model, e) for b, e, _, _ in BUNDLES})
        self.attn = nn.ModuleDict({b: nn.MultiheadAttention(e, h, batch_first=True) for b, e, h, _ in BUNDLES})
        self.lifts = nn.ModuleDict(
            {b: nn.ModuleList(nn.Linear(e, d_model) for _ in range(s)) for b, e, _, s in BUNDLES}
        )
        self.out_ln = nn.LayerNorm(d_model)
        init = {"ln": 1.0, "inv_sqrt_d": 1 / math.sqrt(d_model), "emb": emb_norm / math.sqrt(d_model)}
        init["learnable"] = init["inv_sqrt_d"]
        if scale_mode == "learnable":
            self.scale = nn.Parameter(torch.tensor(init[scale_mode]))
        else:
            self.register_buffer("scale", torch.tensor(init[scale_mode]))

    @property
    def n_slots(self) -> int:
        return sum(s for *_, s in BUNDLES)

    def forward(
        self, q_hidden: torch.Tensor, fibers: dict[str, torch.Tensor], keep: list[int] | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``q_hidden`` (D,), ``fibers[b]`` (M, E_b) → prefix (12, D) and attention weights per
        bundle (heads, M') over the memories kept (``keep``: indices; default all)."""
        qh = self.q_ln(q_hidden)
        slots, weights = [], {}
        for b, *_ in BUNDLES:
            kv = fibers[b] if keep is None else fibers[b][keep]
            q = self.q_heads[b](qh)[None, None]
            o, w = self.attn[b](q, kv[None], kv[None], need_weights=True, average_attn_weights=False)
            weights[b] = w[0, :, 0]  # (heads, M')
            slots += [lift(o[0, 0]) for lift in self.lifts[b]]
        return self.out_ln(torch.stack(slots)) * self.scale, weights


def norm_ratio(prefix: torch.Tensor, wte: torch.Tensor) -> torch.Tensor:
    """Per-slot ‖prefix_s‖ / E‖e‖ over the token-embedding rows ``wte``."""
    return prefix.norm(dim=-1) / wte.norm(dim=-1).mean()
