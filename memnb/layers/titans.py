"""Titans neural memory (Behrouz, Zhong & Mirrokni 2024, "Titans: Learning to Memorize at Test
Time").

The memory is a small MLP M_W(k) = W_2 GELU(W_1 k) whose weights W are trained *while the model
runs*, by gradient steps on the associative loss ℓ(W; k, v) = ||M_W(k) − v||², with keys, values
and queries k = norm(W_K x), v = W_V x, q = norm(W_Q x) (norm = L2 normalisation):

    S_c = η S_{c−1} − θ ∇_W ℓ(W_{c−1}; chunk c)        (momentum: the "surprise")
    W_c = (1 − α) W_{c−1} + S_c                         (α: weight decay, the forgetting gate)

with ∇ℓ averaged over the tokens of chunk c (mini-batch gradient descent with one step per chunk
of ``chunk_size`` tokens, as in the paper's parallel training form) and computed per batch
element with ``torch.func`` (``vmap`` over the batch of ``grad``). The recurrence is the op
``memnb.ops.titans_memory`` (per-token reference and this chunked form); this layer adds the
projections and W_0. The layer reads the memory with y_t = W_o M_W(q_t):

- ``read="before"``: token t in chunk c reads W_{c−1}, the weights before its chunk's update.
  Causal for any chunk size.
- ``read="after"``: token t reads the weights after the update with its own (k_t, v_t); only
  allowed with ``chunk_size=1`` (this is the paper's per-token form y_t = M_t(q_t)). With larger
  chunks it would let a token read what later tokens of its chunk wrote: a future leak.

The gradient is the mean over the chunk, so a stable θ depends on the chunk size: on unit-scale
inputs θ = 0.1 is stable with 16-token chunks, while per-token updates need θ ≈ 0.02.

Simplifications: θ, η, α are constants (the paper makes them data-dependent), and the memory is a
single head over d_model. The initial weights W_0 are learned parameters (the outer loop
meta-learns them, with W_Q, W_K, W_V, W_o, through the inner updates).

The state holds the per-sample weights, the momentum and the keys and values of the unfinished
chunk, so any split of a sequence, with the state carried, gives the one-pass outputs.

Drex's L3 "TitanMemory" (book/appendix/drex.md §1, §5 item 6) is not this: its read path is
never called, so it has no effect on outputs; its write is one step of its own Adam optimiser,
outside the model's graph, on an identity task for the mean vector of batch element 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.ops.titans_memory import TitansMemoryState, mlp, recall, titans_memory

Params = dict[str, torch.Tensor]


class MemoryMLP(nn.Module):
    """M_W(k) = W_2 GELU(W_1 k), no biases; the parameters here are the initial weights W_0."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(dim, hidden) / dim**0.5)
        self.w2 = nn.Parameter(torch.randn(hidden, dim) / hidden**0.5)

    def forward(self, k: torch.Tensor) -> torch.Tensor:
        return mlp(self.w1, self.w2, k)


@dataclass(frozen=True)
class TitansState:
    """Per-sample memory weights and momentum (``{name: [B, ...]}``) and the keys and values
    ``[B, s, d]`` of the s < chunk_size tokens of the unfinished chunk."""

    params: Params
    momentum: Params
    k: torch.Tensor
    v: torch.Tensor


class TitansMemory(nn.Module):
    """An MLP memory written at test time by gradient descent with momentum and decay."""

    def __init__(
        self,
        d_model: int,
        chunk_size: int = 16,
        hidden_mult: int = 2,
        lr: float = 0.1,
        momentum: float = 0.9,
        weight_decay: float = 0.01,
        read: Literal["before", "after"] = "before",
    ) -> None:
        super().__init__()
        if d_model < 1 or hidden_mult < 1:
            raise ValueError(f"d_model and hidden_mult must be >= 1, got {d_model}, {hidden_mult}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if lr <= 0 or not 0 <= momentum < 1 or not 0 <= weight_decay < 1:
            raise ValueError(
                f"need lr > 0, momentum in [0, 1), weight_decay in [0, 1); "
                f"got lr={lr}, momentum={momentum}, weight_decay={weight_decay}"
            )
        if read not in ("before", "after"):
            raise ValueError(f"read must be 'before' or 'after', got {read!r}")
        if read == "after" and chunk_size != 1:
            raise ValueError(f"read='after' needs chunk_size=1 (larger chunks leak later tokens), got {chunk_size}")
        self.chunk_size = chunk_size
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.read = read
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)
        self.memory = MemoryMLP(d_model, hidden_mult * d_model)

    def empty_state(self, x: torch.Tensor) -> TitansState:
        B = x.size(0)
        params = {n: p.unsqueeze(0).expand(B, *p.shape) for n, p in self.memory.named_parameters()}
        momentum = {n: torch.zeros_like(p) for n, p in params.items()}
        kv = x.new_zeros(B, 0, x.size(-1))
        return TitansState(params, momentum, kv, kv)

    def recall(self, params: Params, q: torch.Tensor) -> torch.Tensor:
        """M_W(q) with per-sample weights: ``q [B, T, d] -> [B, T, d]``."""
        return recall(params["w1"], params["w2"], q)

    def memory_loss(self, x: torch.Tensor, state: TitansState | None = None) -> torch.Tensor:
        """Mean ℓ = ||M_W(k) − v||² over the tokens of ``x``, per sample ``[B]``, with the
        weights of ``state`` (no update)."""
        state = self.empty_state(x) if state is None else state
        k, v = F.normalize(self.k_proj(x), dim=-1), self.v_proj(x)
        return (self.recall(state.params, k) - v).pow(2).sum(-1).mean(-1)

    def forward(self, x: torch.Tensor, state: TitansState | None = None) -> tuple[torch.Tensor, TitansState]:
        state = self.empty_state(x) if state is None else state
        q = F.normalize(self.q_proj(x), dim=-1)
        k = F.normalize(self.k_proj(x), dim=-1)
        v = self.v_proj(x)
        memory = TitansMemoryState(
            state.params["w1"], state.params["w2"], state.momentum["w1"], state.momentum["w2"], state.k, state.v
        )
        y, memory = titans_memory(
            q, k, v, initial_state=memory, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
            chunk_size=self.chunk_size, read=self.read, impl="chunked",
        )  # fmt: skip
        params, momentum = {"w1": memory.w1, "w2": memory.w2}, {"w1": memory.m1, "w2": memory.m2}
        return self.out_proj(y), TitansState(params, momentum, memory.k, memory.v)
