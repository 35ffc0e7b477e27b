"""Forward FLOPs per token of each memory layer, counted from its shape (deterministic).

d = d_model, T = tokens per call, H = heads; one multiply-add is 2 FLOPs. Each formula's
docstring gives its count. Used by the training bench (``memnb.book.bench_train``, 3 × forward
for a training step) and by chapter 12's speed claim (``memnb.drex.flops``).
"""

from __future__ import annotations

from collections.abc import Callable


def _causal_keys(T: int) -> float:
    """Mean number of keys a causal query sees: (T + 1) / 2."""
    return (T + 1) / 2


def _window_keys(T: int, W: int) -> float:
    """Mean of min(i + 1, W) over positions i < T: keys a query sees in a causal window of W."""
    return sum(min(i + 1, W) for i in range(T)) / T


def _segment_keys(T: int, N: int) -> float:
    """Mean of (i mod N) + 1: keys a query sees causally inside its segment of N tokens."""
    return sum(i % N + 1 for i in range(T)) / T


def flops_attention(layer, d: int, T: int) -> float:
    """8d² (q, k, v, out projections) + 4d·(T+1)/2 (q·k and the weighted sum of v over the
    (T+1)/2 keys a causal query sees on average) ≈ 8d² + 2Td."""
    return 8 * d * d + 4 * d * _causal_keys(T)


def flops_exp_kernel(layer, d: int, T: int) -> float:
    """As attention, with head size D+1 in the scores and values (the key-norm bias rides in one
    extra dimension, ``impl="augmented"``): 8d² + 4(d + H)·(T+1)/2."""
    return 8 * d * d + 4 * (d + layer.n_heads) * _causal_keys(T)


def flops_sliding_window(layer, d: int, T: int) -> float:
    """8d² + 4d·w̄, w̄ = mean_i min(i+1, W) the keys a query sees in its window of W."""
    return 8 * d * d + 4 * d * _window_keys(T, layer.window)


def flops_infini_attention(layer, d: int, T: int) -> float:
    """8d² + 4d·s̄ (causal attention inside segments of N, s̄ = mean (i mod N)+1) + the
    compressive memory, per head D×D with D = d/H: read σ(Q)M and σ(Q)z (2dD + 2d), delta write
    σ(K)M, σ(K)z and σ(K)ᵀΔ (4dD + 2d): 8d² + 4d·s̄ + 6dD + 4d."""
    D = d // layer.n_heads
    return 8 * d * d + 4 * d * _segment_keys(T, layer.segment_len) + 6 * d * D + 4 * d


def flops_memory_tokens(layer, d: int, T: int) -> float:
    """Tokens: 8d² + 4d·(m + s̄) (attention over the m memory slots and the causal part of the
    segment of N). Per segment, amortised over its N tokens: the memory's q, k, v projections
    6d²·m/N, its write (m queries over m + N keys) 4d·m(m+N)/N and out projection 2d²·m/N."""
    m, N = layer.mem_init.shape[0], layer.segment_len
    tokens = 8 * d * d + 4 * d * (m + _segment_keys(T, N))
    return tokens + (6 * d * d + 4 * d * (m + N) + 2 * d * d) * m / N


def flops_kv_memory(layer, d: int, T: int) -> float:
    """8d² (q, k, v, out) + 2d (gate) + 2d·c̄ (scores over the c̄ = mean_t min(t, C) slots a query
    may see in the FIFO of C) + 2kd (the weighted sum of the k retrieved values)."""
    C, k = layer.capacity, layer.top_k
    visible = sum(min(t, C) for t in range(T)) / T
    return 8 * d * d + 2 * d + 2 * d * visible + 2 * k * d


def flops_titans(layer, d: int, T: int) -> float:
    """8d² (q, k, v, out) + 4dh (read: M(q) = W₂ GELU(W₁ q), hidden h) + 12dh (the inner step on
    each chunk: M(k) forward 4dh and its weight gradients ≈ 8dh) = 8d² + 16dh (h = 2d: 40d²). The
    outer backward goes through the inner gradient (second order), so 3 × forward undercounts."""
    h = layer.memory.w1.shape[1]
    return 8 * d * d + 16 * d * h


def flops_drex_l4(layer, d: int, T: int) -> float:
    """W_s, W_e (d → d/2 each): 2d²; output projection 2d²; null gate 2d; per token and per
    memory (d/2 × d/2): prediction M k̂, rank-1 write and per-position read M q, 2(d/2)² each:
    3d² for both. Total 7d² + 2d. The write loop runs on detached keys: no backward there, so
    3 × forward overcounts."""
    return 7 * d * d + 2 * d


def flops_mamba2(layer, d: int, T: int) -> float:
    """E = d_inner, N = d_state, n_h = E / head_dim, chunk L, conv kernel K: in_proj 2d(2E + 2N + n_h),
    depthwise conv 2K(E + 2N), SSD intra-chunk C·Bᵀ and the decay-weighted sum 2(N + E)·l̄ (l̄ the
    causal keys inside a chunk), carried state read and update 4EN, out_proj 2Ed."""
    E, N, nh, L, K = layer.d_inner, layer.d_state, layer.n_heads, layer.chunk_size, layer.conv.kernel_size[0]
    projections = 2 * d * (2 * E + 2 * N + nh) + 2 * E * d
    return projections + 2 * K * (E + 2 * N) + 2 * (N + E) * _segment_keys(T, L) + 4 * E * N


MIXER_FLOPS: dict[str, Callable[[object, int, int], float]] = {
    "attention": flops_attention,
    "sliding_window": flops_sliding_window,
    "infini_attention": flops_infini_attention,
    "titans": flops_titans,
    "drex_l4": flops_drex_l4,
    "kv_memory": flops_kv_memory,
    "memory_tokens": flops_memory_tokens,
    "mamba2": flops_mamba2,
    "exp_kernel": flops_exp_kernel,
}
