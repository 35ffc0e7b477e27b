"""Attention layers: full causal (RoPE), sliding window, exponential kernel, gated cross-attention."""

from __future__ import annotations

import math

import pytest
import torch

from memnb.layers import (
    CausalSelfAttention,
    ExpKernelAttention,
    GatedCrossAttention,
    SlidingWindowAttention,
)
from memnb.layers.attention import merge_heads, split_heads
from memnb.layers.exp_kernel_attention import distance_scores, dot_bias_scores
from memnb.layers.rope import apply_rope

D, H = 16, 4


def reference_attention(layer: CausalSelfAttention, x: torch.Tensor, window: int) -> torch.Tensor:
    """Softmax attention written out, with RoPE at positions 0..T-1 and a window of keys."""
    q, k, v = (split_heads(t, H) for t in layer.qkv(x).chunk(3, dim=-1))
    q, k = apply_rope(q, 0, 10000.0), apply_rope(k, 0, 10000.0)
    T = x.size(1)
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    visible = (j <= i) & (i - j < window)
    scores = (q @ k.transpose(-2, -1) / math.sqrt(D // H)).masked_fill(~visible, -math.inf)
    return layer.out_proj(merge_heads(torch.softmax(scores, dim=-1) @ v))


def test_rope_scores_depend_only_on_relative_position() -> None:
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8, dtype=torch.float64), torch.randn(1, 1, 1, 8, dtype=torch.float64)
    s1 = apply_rope(q, 5, 100.0) @ apply_rope(k, 2, 100.0).transpose(-2, -1)
    s2 = apply_rope(q, 103, 100.0) @ apply_rope(k, 100, 100.0).transpose(-2, -1)
    assert torch.allclose(s1, s2, atol=1e-12)
    assert torch.allclose(apply_rope(q, 7, 100.0).norm(), q.norm(), atol=1e-12)


def test_causal_attention_matches_written_out_softmax() -> None:
    torch.manual_seed(0)
    layer = CausalSelfAttention(D, H).double()
    x = torch.randn(2, 12, D, dtype=torch.float64)
    y, cache = layer(x)
    assert torch.allclose(y, reference_attention(layer, x, window=12), atol=1e-12)
    assert cache.k.shape == (2, H, 12, D // H) and cache.pos == 12


def test_sliding_window_matches_written_out_softmax_and_keeps_w_minus_1_keys() -> None:
    torch.manual_seed(0)
    layer = SlidingWindowAttention(D, H, window=4).double()
    x = torch.randn(2, 12, D, dtype=torch.float64)
    y, cache = layer(x)
    assert torch.allclose(y, reference_attention(layer, x, window=4), atol=1e-12)
    assert cache.k.size(2) == 3 and cache.pos == 12


def test_sliding_window_at_least_t_equals_full_causal_attention() -> None:
    torch.manual_seed(0)
    full = CausalSelfAttention(D, H).double()
    window = SlidingWindowAttention(D, H, window=20).double()
    window.load_state_dict(full.state_dict())
    x = torch.randn(2, 20, D, dtype=torch.float64)
    assert torch.allclose(window(x)[0], full(x)[0], atol=1e-12)


def test_distance_scores_are_dot_bias_scores_minus_a_row_constant() -> None:
    torch.manual_seed(0)
    q, k = torch.randn(2, 3, 7, 4, dtype=torch.float64), torch.randn(2, 3, 9, 4, dtype=torch.float64)
    tau = 4.0
    gap = dot_bias_scores(q, k, tau) - distance_scores(q, k, tau)
    assert torch.allclose(gap, (q.pow(2).sum(-1, keepdim=True) / tau).expand_as(gap), atol=1e-12)
    assert torch.allclose(
        torch.softmax(distance_scores(q, k, tau), -1),
        torch.softmax(dot_bias_scores(q, k, tau), -1),
        atol=1e-12,
    )


def test_exp_kernel_dot_bias_arm_is_identical_to_the_distance_arm() -> None:
    torch.manual_seed(0)
    distance = ExpKernelAttention(D, H, impl="distance").double()
    dot_bias = ExpKernelAttention(D, H, impl="dot_bias").double()
    dot_bias.load_state_dict(distance.state_dict())
    x = torch.randn(2, 15, D, dtype=torch.float64) * 3
    y = distance(x)[0]
    assert (dot_bias(x)[0] - y).abs().max() < 1e-10
    # and the distance arm is a softmax over −||q − k||²/τ, written out here
    q, k, v = (split_heads(t, H) for t in distance.qkv(x).chunk(3, dim=-1))
    scores = -torch.cdist(q, k).pow(2) / (D // H)
    scores = scores.masked_fill(~torch.ones(15, 15, dtype=torch.bool).tril(), -math.inf)
    assert torch.allclose(y, distance.out_proj(merge_heads(torch.softmax(scores, -1) @ v)), atol=1e-10)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize("impl", ["augmented", "dot_bias"])
@pytest.mark.parametrize("cached", [0, 6])
def test_exp_kernel_fast_impls_match_the_distance_reference_values_and_gradients(impl: str, cached: int) -> None:
    """float64, random inputs and weights, with and without a KV cache: outputs and the gradients
    of every parameter and of the input agree with the explicit-distance reference to 1e-10."""
    torch.manual_seed(1)
    ref = ExpKernelAttention(D, H, tau=3.0, impl="distance").double()
    fast = ExpKernelAttention(D, H, tau=3.0, impl=impl).double()
    with torch.no_grad():
        for p in ref.parameters():
            p.normal_(0.0, 0.5)
    fast.load_state_dict(ref.state_dict())
    x = (torch.randn(3, cached + 11, D, dtype=torch.float64) * 2).requires_grad_()
    w = torch.randn(3, 11, D, dtype=torch.float64)  # a random cotangent
    grads = []
    for layer in (ref, fast):
        state = layer(x[:, :cached])[1] if cached else None
        y = layer(x[:, cached:], state)[0]
        g = torch.autograd.grad((y * w).sum(), [x, *layer.parameters()])
        grads.append((y, *g))
    for a, b in zip(grads[1], grads[0], strict=True):
        assert _rel(a, b) <= 1e-10


def test_cross_attention_without_memory_is_zero_and_passes_memory_through() -> None:
    layer = GatedCrossAttention(D, H)
    x = torch.randn(2, 6, D)
    y, state = layer(x, None)
    assert state is None and torch.equal(y, torch.zeros_like(x))
    mem = torch.randn(2, 3, D)
    assert layer(x, mem)[1] is mem


def test_cross_attention_identical_slots_give_one_vector_for_every_token() -> None:
    """HRS V18's 32 identical buffer slots: a uniform softmax, a constant added to every token."""
    torch.manual_seed(0)
    layer = GatedCrossAttention(D, H).double()
    mem = torch.randn(1, 1, D, dtype=torch.float64).expand(1, 32, D)
    y, _ = layer(torch.randn(3, 10, D, dtype=torch.float64), mem)
    expected = 0.5 * layer.out_proj(layer.kv_proj(mem[:, :1]).chunk(2, dim=-1)[1])
    assert torch.allclose(y, expected.expand_as(y), atol=1e-12)


def test_cross_attention_tanh_gate_starts_closed_and_batch_one_memory_broadcasts() -> None:
    torch.manual_seed(0)
    x, mem = torch.randn(3, 5, D), torch.randn(1, 4, 12)
    assert torch.equal(GatedCrossAttention(D, H, d_memory=12, gate="tanh")(x, mem)[0], torch.zeros_like(x))
    layer = GatedCrossAttention(D, H, d_memory=12)
    assert torch.allclose(layer(x, mem)[0], layer(x, mem.expand(3, -1, -1))[0], atol=1e-6)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: CausalSelfAttention(16, 5), "n_heads dividing d_model"),
        (lambda: CausalSelfAttention(0, 1), "must be >= 1"),
        (lambda: CausalSelfAttention(12, 4), "even head dim"),
        (lambda: CausalSelfAttention(16, 4, rope_base=1.0), "rope_base > 1"),
        (lambda: SlidingWindowAttention(16, 4, window=0), "window must be >= 1"),
        (lambda: ExpKernelAttention(16, 4, tau=0.0), "tau must be > 0"),
        (lambda: ExpKernelAttention(16, 4, impl="cosine"), "impl must be one of"),
        (lambda: GatedCrossAttention(16, 4, gate="relu"), "'sigmoid' or 'tanh'"),
        (lambda: GatedCrossAttention(16, 4, d_memory=0), "d_memory must be >= 1"),
    ],
)
def test_bad_arguments_raise_value_error(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
