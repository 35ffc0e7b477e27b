"""Exponential-kernel ("distance") attention from HRS (book/appendix/hrs.md §6).

Scores are negative squared distances, s_ij = −||q_i − k_j||² / τ (τ = D_h by default, as in
HRS), causal, softmax over j. Expanding the square,

    −||q_i − k_j||² / τ = (2 q_i·k_j − ||k_j||² − ||q_i||²) / τ,

and −||q_i||²/τ is the same for every key j of query i, so it cancels in the softmax. The layer
is therefore *identical* to dot-product attention with scale 2/τ plus a per-key bias −||k_j||²/τ
(with τ = D_h = 64 that is a 4× softer temperature than 1/√64, plus a key-norm penalty).
``distance_scores`` and ``dot_bias_scores`` give the two score matrices, which differ by the row
constant −||q_i||²/τ. Three impls compute the same layer:

- ``"distance"``: the distances explicitly, then a masked softmax (the reference; slow);
- ``"dot_bias"``: SDPA with scale 2/τ and the key-norm bias as an additive float ``attn_mask``
  (with the causal −inf folded in). The bias depends on k, so it needs a gradient, and PyTorch's
  fused CPU kernel cannot return one for a mask: SDPA falls back to its unfused math path, which
  made this form ~2x slower to train than attention;
- ``"augmented"``: the bias folded into one extra head dimension, q̃ = [q, 1], k̃ = [k, −||k||²/2],
  ṽ = [v, 0], so that (2/τ) q̃·k̃ = (2 q·k − ||k||²)/τ exactly, and SDPA runs with a plain causal
  mask (the fused kernel, forward and backward); the padding column of the output is dropped.
  The default.

No RoPE (HRS used learned absolute position embeddings); the state is the KV cache, so any
split of a sequence, with the state carried, gives the one-pass outputs. ``ScaledDotAttention``
is the control arm: plain dot-product scores q·k · scale with no key bias (scale 1/√D_h is the
usual attention; scale 2/τ isolates the exp kernel's temperature from its key-norm bias).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from memnb.layers.attention import CausalSelfAttention

IMPLS = ("distance", "dot_bias", "augmented")


def distance_scores(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """−||q_i − k_j||² / τ for ``q [..., T, D]``, ``k [..., S, D]`` → ``[..., T, S]``."""
    return -(q.unsqueeze(-2) - k.unsqueeze(-3)).pow(2).sum(-1) / tau


def dot_bias_scores(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """(2 q_i·k_j − ||k_j||²) / τ: ``distance_scores`` plus the row constant ||q_i||²/τ."""
    return (2.0 * q @ k.transpose(-2, -1) - k.pow(2).sum(-1).unsqueeze(-2)) / tau


class ExpKernelAttention(CausalSelfAttention):
    """Causal attention with scores −||q − k||²/τ (no RoPE; a KV cache as state)."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        tau: float | None = None,
        impl: Literal["distance", "dot_bias", "augmented"] = "augmented",
    ) -> None:
        super().__init__(d_model, n_heads, rope_base=None)
        tau = float(d_model // n_heads) if tau is None else tau
        if tau <= 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        self.tau, self.impl = tau, impl

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.impl == "distance":
            scores = distance_scores(q, k, self.tau).masked_fill(~mask, -torch.inf)
            return torch.softmax(scores, dim=-1) @ v
        if self.impl == "dot_bias":
            bias = (-k.pow(2).sum(-1) / self.tau).unsqueeze(-2).masked_fill(~mask, -torch.inf)
            return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=2.0 / self.tau)
        return augmented_attention(q, k, v, mask, self.tau)


def augmented_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, tau: float
) -> torch.Tensor:
    """softmax_j((2 q_i·k_j − ||k_j||²)/τ over the keys ``mask`` allows) v_j, through SDPA with
    one extra head dimension: q̃ = [q, 1], k̃ = [k, −||k||²/2], ṽ = [v, 0] (ṽ padded so that q̃, k̃,
    ṽ share one head size, which the fused kernel needs). ``mask`` ``[T, S]`` boolean; when T = S
    it must be the causal mask (the layer's own, ``CausalSelfAttention.mask`` with no cache), and
    SDPA gets ``is_causal=True``."""
    one = q.new_ones(*q.shape[:-1], 1)
    q_aug = torch.cat((q, one), dim=-1)
    k_aug = torch.cat((k, -0.5 * k.pow(2).sum(-1, keepdim=True)), dim=-1)
    v_aug = torch.cat((v, v.new_zeros(*v.shape[:-1], 1)), dim=-1)
    if q.size(-2) == k.size(-2):
        y = F.scaled_dot_product_attention(q_aug, k_aug, v_aug, is_causal=True, scale=2.0 / tau)
    else:
        y = F.scaled_dot_product_attention(q_aug, k_aug, v_aug, attn_mask=mask, scale=2.0 / tau)
    return y[..., :-1]


class ScaledDotAttention(CausalSelfAttention):
    """Causal dot-product attention, scores ``scale · q_i·k_j`` (default 1/√D_h), no RoPE."""

    def __init__(self, d_model: int, n_heads: int, scale: float | None = None) -> None:
        super().__init__(d_model, n_heads, rope_base=None)
        scale = (d_model // n_heads) ** -0.5 if scale is None else scale
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        self.scale = float(scale)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)


KERNEL_ARMS = ("dot", "exp", "exp_distance", "dot_soft")


def kernel_arm(arm: str, d_model: int, n_heads: int) -> CausalSelfAttention:
    """One arm of the exponential-kernel experiment (chapter 33's arms; book/appendix/hrs.md §6),
    all without RoPE: ``dot`` q·k/√D_h; ``exp`` −||q−k||²/τ computed as (2 q·k − ||k||²)/τ
    (``impl="augmented"``);
    ``exp_distance`` the same scores from explicit distances (slow; for the equivalence check);
    ``dot_soft`` 2 q·k/τ, the exp kernel's temperature without its key-norm bias. τ = D_h."""
    tau = d_model // n_heads
    if arm == "dot":
        return ScaledDotAttention(d_model, n_heads)
    if arm == "exp":
        return ExpKernelAttention(d_model, n_heads, impl="augmented")
    if arm == "exp_distance":
        return ExpKernelAttention(d_model, n_heads, impl="distance")
    if arm == "dot_soft":
        return ScaledDotAttention(d_model, n_heads, scale=2.0 / tau)
    raise ValueError(f"unknown arm {arm!r}; arms: {', '.join(KERNEL_ARMS)}")
