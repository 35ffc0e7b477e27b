"""Memory layers: Infini-attention, Titans, key-value memory, memory tokens. The recurrences of
Infini-attention and Titans (memnb.ops.compressive_memory, memnb.ops.titans_memory) are tested
in test_ops_compressive_memory.py and test_ops_titans_memory.py."""

from __future__ import annotations

import math

import pytest
import torch

from memnb.layers import InfiniAttention, KVMemory, MemoryTokens, TitansMemory
from memnb.layers.attention import merge_heads, split_heads
from memnb.layers.kv_memory import topk_retrieve
from memnb.layers.rope import apply_rope
from memnb.ops.compressive_memory import compressive_memory

D, H = 16, 4
F64 = torch.float64


# --- Infini-attention -------------------------------------------------------------------------


def test_infini_one_segment_is_local_attention_mixed_with_a_zero_readout() -> None:
    torch.manual_seed(0)
    layer = InfiniAttention(D, H, segment_len=10).double()
    with torch.no_grad():
        layer.beta.copy_(torch.randn(H))
    x = torch.randn(2, 10, D, dtype=F64)
    y, state = layer(x)
    q, k, v = (split_heads(t, H) for t in layer.qkv(x).chunk(3, dim=-1))
    local = torch.nn.functional.scaled_dot_product_attention(
        apply_rope(q, 0, 10000.0), apply_rope(k, 0, 10000.0), v, is_causal=True
    )
    gate = torch.sigmoid(layer.beta).view(1, H, 1, 1)
    assert torch.allclose(y, layer.out_proj(merge_heads((1 - gate) * local)), atol=1e-12)
    assert state.k.size(2) == 0 and state.z.abs().sum() > 0  # the full segment was written


def test_infini_memory_path_is_the_compressive_memory_op() -> None:
    """With the gate fully open (g = 1) the layer is W_o applied to the op's readout, for any
    split of the sequence with the state carried."""
    torch.manual_seed(0)
    layer = InfiniAttention(D, H, segment_len=6, update="delta").double()
    with torch.no_grad():
        layer.beta.fill_(100.0)  # sigmoid(100) = 1 in float64
    x = torch.randn(2, 20, D, dtype=F64)
    q, k, v = (t.view(2, 20, H, D // H) for t in layer.qkv(x).chunk(3, dim=-1))
    mem, memory = compressive_memory(q, k, v, segment_len=6, update="delta")
    expected = layer.out_proj(mem.reshape(2, 20, D))
    state, pieces = None, []
    for a, b in ((0, 4), (4, 13), (13, 20)):
        y, state = layer(x[:, a:b], state)
        pieces.append(y)
    assert torch.allclose(torch.cat(pieces, dim=1), expected, rtol=1e-12, atol=1e-12)
    assert torch.allclose(state.M, memory.M, rtol=1e-12, atol=1e-12)
    assert torch.allclose(state.k, memory.k.transpose(1, 2), rtol=1e-12, atol=1e-12)  # [B, H, s, D] in the layer


def test_infini_memory_changes_later_segments_only() -> None:
    torch.manual_seed(0)
    layer = InfiniAttention(D, H, segment_len=6).double()
    x = torch.randn(1, 12, D, dtype=F64)
    y, _ = layer(x)
    y_second_alone, _ = layer(x[:, 6:])
    assert not torch.allclose(y[:, 6:], y_second_alone)  # the memory of segment 1 is read
    assert torch.allclose(y[:, :6], layer(x[:, :6])[0], atol=1e-12)


# --- Titans -----------------------------------------------------------------------------------


def test_titans_memory_reduces_its_loss_on_a_repeated_segment() -> None:
    torch.manual_seed(0)
    layer = TitansMemory(D, chunk_size=8)
    x = torch.randn(2, 16, D)
    with torch.no_grad():
        loss0 = layer.memory_loss(x)
        _, state = layer(x)
        loss1 = layer.memory_loss(x, state)
        _, state = layer(x, state)
        loss2 = layer.memory_loss(x, state)
    assert (loss1 < 0.9 * loss0).all() and (loss2 < loss1).all()


def test_titans_read_before_sees_only_earlier_chunks() -> None:
    torch.manual_seed(0)
    layer = TitansMemory(D, chunk_size=4)
    x = torch.randn(1, 8, D)
    y, _ = layer(x)
    y_init = layer.out_proj(layer.memory(torch.nn.functional.normalize(layer.q_proj(x), dim=-1)))
    assert torch.allclose(y[:, :4], y_init[:, :4], atol=1e-6)  # chunk 1 reads W_0
    assert not torch.allclose(y[:, 4:], y_init[:, 4:], atol=1e-4)  # chunk 2 reads W_1


# --- key-value memory -------------------------------------------------------------------------


def test_topk_retrieval_returns_the_planted_key() -> None:
    torch.manual_seed(0)
    keys, values = torch.randn(2, 30, 8), torch.randn(2, 30, 5)
    keys[:, 11] = 10 * torch.ones(8)  # the planted key, written at position 11
    q = torch.ones(2, 1, 8)  # a query at position 30 that matches it best
    r, idx, w = topk_retrieve(q, keys, values, torch.tensor([30]), torch.arange(30), 64, 3)
    assert (idx[:, 0, 0] == 11).all() and (w[:, 0, 0] > 0.99).all()
    assert torch.allclose(r[:, 0], values[:, 11], atol=0.1)


def test_kv_memory_layer_retrieves_the_planted_token_from_a_previous_segment() -> None:
    torch.manual_seed(0)
    layer = KVMemory(D, capacity=32, top_k=2)
    with torch.no_grad():
        layer.q_proj.weight.copy_(torch.eye(D))
        layer.k_proj.weight.copy_(torch.eye(D))
    x = 0.1 * torch.randn(1, 20, D)
    x[0, 3], x[0, 17] = 3 * torch.ones(D), 3 * torch.ones(D)  # token 17 should retrieve 3
    _, _, _, state = layer.lookup(x[:, :10])
    _, positions, weights, _ = layer.lookup(x[:, 10:], state)
    assert positions[0, 7, 0].item() == 3 and weights[0, 7, 0] > 0.99


def test_kv_memory_reads_strictly_the_past_within_capacity() -> None:
    torch.manual_seed(0)
    layer = KVMemory(D, capacity=5, top_k=3)
    x = torch.randn(2, 24, D)
    _, positions, weights, state = layer.lookup(x)
    query_pos = torch.arange(24).view(1, 24, 1)
    used = weights > 0
    assert ((positions < query_pos) & (positions >= query_pos - 5))[used].all()
    assert torch.equal(layer(x)[0][:, 0], torch.zeros(2, D))  # the first token has no past
    assert state.keys.size(1) == 5 and state.pos == 24


def test_kv_memory_future_edits_never_change_earlier_outputs() -> None:
    torch.manual_seed(0)
    layer = KVMemory(D, capacity=8, top_k=3)
    x = torch.randn(2, 16, D)
    with torch.no_grad():
        y, _ = layer(x)
        for t in range(15):
            x_edit = x.clone()
            x_edit[:, t + 1 :] += torch.randn_like(x_edit[:, t + 1 :])
            assert torch.equal(layer(x_edit)[0][:, : t + 1], y[:, : t + 1]), t


# --- memory tokens ----------------------------------------------------------------------------


def test_memory_tokens_first_segment_attends_to_the_learned_init() -> None:
    torch.manual_seed(0)
    layer = MemoryTokens(D, H, n_mem=3, segment_len=6).double()
    x = torch.randn(2, 6, D, dtype=F64)
    y, state = layer(x)
    mem = layer.mem_init.expand(2, -1, -1)
    q, k, v = (split_heads(t, H) for t in layer.qkv(torch.cat((mem, x), dim=1)).chunk(3, -1))
    q_tok, k_tok = apply_rope(q[:, :, 3:], 0, 10000.0), apply_rope(k[:, :, 3:], 0, 10000.0)
    keys = torch.cat((k[:, :, :3], k_tok), dim=2)
    scores = q_tok @ keys.transpose(-2, -1) / math.sqrt(D // H)
    visible = torch.cat((torch.ones(6, 3, dtype=torch.bool), torch.ones(6, 6, dtype=torch.bool).tril()), 1)
    attn = torch.softmax(scores.masked_fill(~visible, -math.inf), -1) @ v
    assert torch.allclose(y, layer.out_proj(merge_heads(attn)), atol=1e-12)
    assert not torch.allclose(state.mem, mem)  # the segment end rewrote the memory


# --- constructor arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: InfiniAttention(16, 4, segment_len=0), "segment_len must be >= 1"),
        (lambda: InfiniAttention(16, 4, 8, update="ema"), "update must be one of"),
        (lambda: InfiniAttention(16, 3, 8), "n_heads dividing d_model"),
        (lambda: TitansMemory(16, chunk_size=0), "chunk_size must be >= 1"),
        (lambda: TitansMemory(16, lr=0.0), "lr > 0"),
        (lambda: TitansMemory(16, momentum=1.0), r"momentum in \[0, 1\)"),
        (lambda: TitansMemory(16, weight_decay=-0.1), r"weight_decay in \[0, 1\)"),
        (lambda: TitansMemory(16, read="during"), "'before' or 'after'"),
        (lambda: TitansMemory(16, chunk_size=4, read="after"), "needs chunk_size=1"),
        (lambda: KVMemory(16, capacity=0), "capacity >= 1"),
        (lambda: KVMemory(16, capacity=4, top_k=5), "1 <= top_k <= capacity"),
        (lambda: KVMemory(16, d_key=0), "d_key must be >= 1"),
        (lambda: MemoryTokens(16, 4, n_mem=0), "n_mem and segment_len must be >= 1"),
        (lambda: MemoryTokens(16, 4, segment_len=0), "n_mem and segment_len must be >= 1"),
    ],
)
def test_bad_arguments_raise_value_error(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
