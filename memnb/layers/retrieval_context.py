"""Retrieval into the prompt: the top-k most similar past chunks, by key similarity, copied into
the current segment's attention context.

HRS's entropy-gated retrieval (book/appendix/hrs.md §4) looks up the stored engram nearest (cosine,
top-1) to the current hidden state and puts it into the model's context; RETRO-style and
landmark-style models do the same with whole chunks of past tokens. This layer is that idea
inside one attention layer, without the entropy gate (it always retrieves). The stream is cut
into segments of N tokens and stored in chunks of C tokens (C divides N). Per head, with
q_i, k_t, v_t the (unrotated) projections of the layer input:

    store, at the end of each segment:  its N/C chunks j, each with keys K_j, values V_j [C, D_h]
                                        and its landmark  k̄_j = mean_{t∈j} k_t
    select, per token i of segment c:   J_i = top-k_j (q_i · k̄_j)   over chunks of segments < c
    token i:  y_i = W_o softmax([q_i K_J ; q̃_i K̃_{c,≤i}] / √D_h) [V_J ; V_{c,≤i}]

where K_J, V_J are the selected chunks' keys and values (k·C tokens, no positions) and
q̃, K̃ the RoPE-rotated queries and keys of the current segment (positions counted from the
segment start): the retrieved chunks sit in the context beside the segment, as if copied into
the prompt. Only chunks of *finished earlier* segments can be selected, so a token never
retrieves itself or anything after it (book/appendix/memarch.md §4, pitfalls 1-2: no
self-retrieval, no future leak). The top-k pick is not differentiable; W_Q and W_K still learn
through the attention over the retrieved keys (the softmax in y_i). With fewer than k stored
chunks, the missing ones are masked out.

State: every past chunk's keys and values ``[B, H, n, C, D_h]`` (it grows with the stream, as
a KV cache does, plus one landmark per chunk) and the unfinished segment's keys and values,
so any split of a sequence, with the state carried, gives the one-pass outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.layers.attention import check_heads, merge_heads, split_heads
from memnb.layers.rope import apply_rope


@dataclass(frozen=True)
class RetrievalContextState:
    """Stored chunks: keys and values ``[B, H, n, C, D_h]`` (unrotated), and the unfinished
    segment's unrotated keys and values ``[B, H, s, D_h]``."""

    mem_k: torch.Tensor
    mem_v: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor


class RetrievalContext(nn.Module):
    """Causal segment attention whose context also holds the top-k past chunks per token."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        segment_len: int = 64,
        chunk_len: int = 8,
        top_k: int = 2,
        rope_base: float = 10000.0,
    ) -> None:
        super().__init__()
        check_heads(d_model, n_heads)
        if chunk_len < 1 or top_k < 1 or segment_len < 1 or segment_len % chunk_len:
            raise ValueError(
                f"need chunk_len >= 1 dividing segment_len and top_k >= 1, got chunk_len={chunk_len}, "
                f"segment_len={segment_len}, top_k={top_k}"
            )
        if (d_model // n_heads) % 2:
            raise ValueError(f"RoPE needs an even head dim, got {d_model // n_heads}")
        self.n_heads, self.segment_len, self.chunk_len, self.top_k = n_heads, segment_len, chunk_len, top_k
        self.rope_base = rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)

    def empty_state(self, x: torch.Tensor) -> RetrievalContextState:
        B, D = x.size(0), x.size(-1) // self.n_heads
        mem = x.new_zeros(B, self.n_heads, 0, self.chunk_len, D)
        kv = x.new_zeros(B, self.n_heads, 0, D)
        return RetrievalContextState(mem, mem, kv, kv)

    def retrieved(self, q: torch.Tensor, state: RetrievalContextState) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[B, H, n, k·C]`` of queries ``q [B, H, n, D_h]`` on their selected chunks'
        keys (−inf where fewer than k chunks exist) and those chunks' values ``[B, H, n, k·C, D_h]``."""
        B, H, n, D = q.shape
        n_chunks, C = state.mem_k.size(2), self.chunk_len
        k = min(self.top_k, n_chunks)
        landmarks = state.mem_k.mean(3)  # [B, H, n_chunks, D]
        pick = (q @ landmarks.transpose(-1, -2)).topk(k, dim=-1).indices  # [B, H, n, k]
        index = pick[..., None, None].expand(B, H, n, k, C, D)
        source = (B, H, n, n_chunks, C, D)
        keys = state.mem_k[:, :, None].expand(source).gather(3, index).reshape(B, H, n, k * C, D)
        values = state.mem_v[:, :, None].expand(source).gather(3, index).reshape(B, H, n, k * C, D)
        logits = (q[..., None, :] @ keys.transpose(-1, -2))[..., 0, :] / D**0.5
        if k < self.top_k:  # pad to k·C columns so the context width does not depend on the stream
            pad = (0, (self.top_k - k) * C)
            logits = F.pad(logits, pad, value=float("-inf"))
            values = F.pad(values, (0, 0) + pad)
        return logits, values

    def forward(
        self, x: torch.Tensor, state: RetrievalContextState | None = None
    ) -> tuple[torch.Tensor, RetrievalContextState]:
        state = self.empty_state(x) if state is None else state
        q, k, v = (split_heads(t, self.n_heads) for t in self.qkv(x).chunk(3, dim=-1))
        D = q.size(-1)
        outputs, i, T = [], 0, x.size(1)
        while i < T:  # one piece per (part of a) segment
            s = state.k.size(2)
            n = min(self.segment_len - s, T - i)
            k_seg = torch.cat((state.k, k[:, :, i : i + n]), dim=2)
            v_seg = torch.cat((state.v, v[:, :, i : i + n]), dim=2)
            q_i = q[:, :, i : i + n]
            local = apply_rope(q_i, s, self.rope_base) @ apply_rope(k_seg, 0, self.rope_base).transpose(-1, -2)
            causal = torch.ones(n, s + n, dtype=torch.bool, device=x.device).tril(s)
            local = local.masked_fill(~causal, float("-inf")) / D**0.5
            if state.mem_k.size(2) > 0:
                mem_logits, mem_values = self.retrieved(q_i, state)
                weights = torch.cat((mem_logits, local), dim=-1).softmax(-1)
                w_mem, w_loc = weights.split((mem_logits.size(-1), local.size(-1)), dim=-1)
                out = (w_mem[..., None, :] @ mem_values)[..., 0, :] + w_loc @ v_seg
            else:
                out = local.softmax(-1) @ v_seg
            outputs.append(out)
            if s + n == self.segment_len:  # the segment is finished: store its chunks
                B, H, _, _ = k_seg.shape
                chunks = (B, H, self.segment_len // self.chunk_len, self.chunk_len, D)
                mem_k = torch.cat((state.mem_k, k_seg.reshape(chunks)), dim=2)
                mem_v = torch.cat((state.mem_v, v_seg.reshape(chunks)), dim=2)
                state = RetrievalContextState(mem_k, mem_v, k_seg[:, :, :0], v_seg[:, :, :0])
            else:
                state = RetrievalContextState(state.mem_k, state.mem_v, k_seg, v_seg)
            i += n
        return self.out_proj(merge_heads(torch.cat(outputs, dim=2))), state
