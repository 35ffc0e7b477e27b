"""Titans neural memory: an MLP written at test time by gradient descent with momentum and
weight decay (Behrouz, Zhong & Mirrokni 2024, "Titans: Learning to Memorize at Test Time").

``titans_memory(q, k, v, *, initial_state, lr, momentum, weight_decay, chunk_size,
read="before", impl="auto") -> (o, final_state)`` with q, k, v ``[B, T, d]`` (one head; the
layer normalises q and k) and ``TitansMemoryState(w1 [B, d, h], w2 [B, h, d], m1, m2, k [B, s, d],
v [B, s, d])``: each sample's weights and momentum, and the keys and values of the s <
chunk_size tokens of the unfinished chunk (``titans_memory_state`` makes the state that starts
a stream from shared initial weights W_0). The memory M_W(x) = GELU(x W_1) W_2 learns
ℓ(W; k, v) = ||M_W(k) − v||² with one step per chunk c of C = ``chunk_size`` tokens, counted
from the first token of the stream::

    S_c = η S_{c−1} − θ ∇_W (1/C) Σ_{t∈c} ℓ(W_{c−1}; k_t, v_t)      η = momentum, θ = lr
    W_c = (1 − α) W_{c−1} + S_c                                      α = weight_decay
    o_t = M_{W_{c−1}}(q_t)                            read="before": causal for any C
    o_t = M_{W_c}(q_t)                                read="after": needs C = 1 (y_t = M_t(q_t))

Any split of a sequence, with the state carried, gives the one-pass outputs. o ``[B, T, d]``.
Impls (``IMPLS``): ``naive`` (per-token loop with the gradient written out by hand, the
reference) and ``chunked`` (``torch.func`` per-sample gradient of each chunk's mean loss, the
layer's path); ``auto`` takes ``chunked``. Both are differentiable by autograd, so the outer
loop can train W_0 and the projections through the inner steps.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from memnb.ops.checks import check_tensor
from memnb.ops.titans_memory.chunked import chunked_titans_memory, mlp, recall
from memnb.ops.titans_memory.naive import naive_titans_memory

IMPLS = ("naive", "chunked")
READS = ("before", "after")

__all__ = ["IMPLS", "READS", "TitansMemoryState", "mlp", "recall", "titans_memory", "titans_memory_state"]


class TitansMemoryState(NamedTuple):
    w1: torch.Tensor  # [B, d, h]
    w2: torch.Tensor  # [B, h, d]
    m1: torch.Tensor  # [B, d, h]: momentum ("surprise") of w1
    m2: torch.Tensor  # [B, h, d]
    k: torch.Tensor  # [B, s, d], s < chunk_size: keys of the unfinished chunk
    v: torch.Tensor  # [B, s, d]


def titans_memory_state(w1: torch.Tensor, w2: torch.Tensor, batch: int) -> TitansMemoryState:
    """The state that starts a stream: W_0 = (w1 ``[d, h]``, w2 ``[h, d]``) for every sample
    (expanded, not copied), zero momentum, no pending tokens."""
    w1b, w2b = (w.unsqueeze(0).expand(batch, *w.shape) for w in (w1, w2))
    kv = w1.new_zeros(batch, 0, w1.size(0))
    return TitansMemoryState(w1b, w2b, torch.zeros_like(w1b), torch.zeros_like(w2b), kv, kv)


def titans_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    initial_state: TitansMemoryState,
    lr: float,
    momentum: float,
    weight_decay: float,
    chunk_size: int,
    read: str = "before",
    impl: str = "auto",
) -> tuple[torch.Tensor, TitansMemoryState]:
    """Read and train the memory over ``[B, T, d]`` inputs; see the module docstring."""
    if impl not in ("auto", *IMPLS):
        raise ValueError(f"impl must be one of {('auto', *IMPLS)}, got {impl!r}")
    if read not in READS:
        raise ValueError(f"read must be one of {READS}, got {read!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    if read == "after" and chunk_size != 1:
        raise ValueError(f"read='after' needs chunk_size=1 (larger chunks leak later tokens), got {chunk_size}")
    check_tensor("q", q, (None, None, None))
    B, T, d = q.shape
    check_tensor("k", k, (B, T, d))
    check_tensor("v", v, (B, T, d))
    if T < 1:
        raise ValueError("the sequence must have at least one token (T >= 1)")
    if not isinstance(initial_state, TitansMemoryState):
        raise ValueError("initial_state must be a TitansMemoryState (see titans_memory_state)")
    w1, w2, m1, m2, k_c, v_c = initial_state
    h = w1.shape[-1] if w1.dim() == 3 else -1
    for name, x, shape in (("w1", w1, (B, d, h)), ("w2", w2, (B, h, d)), ("m1", m1, (B, d, h)), ("m2", m2, (B, h, d))):
        check_tensor(f"initial_state.{name}", x, shape)
    check_tensor("initial_state.k", k_c, (B, None, d))
    check_tensor("initial_state.v", v_c, (B, k_c.size(1), d))
    if k_c.size(1) >= chunk_size:
        raise ValueError(f"the state holds {k_c.size(1)} pending tokens, expected fewer than {chunk_size}")
    fn = naive_titans_memory if impl == "naive" else chunked_titans_memory
    o, ((w1, w2), (m1, m2), k_c, v_c) = fn(
        q, k, v, w=(w1, w2), m=(m1, m2), k_c=k_c, v_c=v_c, lr=float(lr), momentum=float(momentum),
        weight_decay=float(weight_decay), chunk_size=chunk_size, read=read,
    )  # fmt: skip
    return o, TitansMemoryState(w1, w2, m1, m2, k_c, v_c)
