"""The contract every memory layer keeps, checked once, over the one registry.

For every entry of ``memnb.layers.registry.MEMORIES`` (built small) and every other setting the
chapters use (``VARIANTS``: the same layers with another update rule, readout or impl):

1. **Segment recurrence.** One pass over a sequence equals the same sequence fed in ragged
   segments with the state carried, in its outputs and in its final state (two computation
   paths: float64 relative 1e-10, float32 1e-5 of the tensor's scale; integer counters exactly).
2. **Causality.** Editing the inputs after position t changes nothing at positions <= t, exactly
   (the same computation run twice), and does change what follows.
3. **Gradients** reach every parameter of the layer, finite and non-zero, also through a carried
   state.
4. **Detachable state.** ``detach_state`` leaves no tensor attached to the graph.
5. **A decoder mixer.** Every registered memory builds a ``Decoder`` whose gradients flow.

Per-layer test files keep only known-answer checks of their own equations.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn as nn

from memnb import layers
from memnb.layers import registry
from memnb.layers.prefix_memory import PrefixMemory
from memnb.layers.retrieval_context import RetrievalContext
from memnb.layers.state import detach_state, state_tensors
from memnb.models.decoder import Decoder, DecoderConfig

D, H, SEG, T = 16, 4, 8, 40
SPLITS = (0, 5, 16, 17, 33, T)  # ragged: crosses segment and chunk boundaries mid-way

VARIANTS: dict[str, Callable[[], nn.Module]] = {
    "exp_kernel/dot_bias": lambda: layers.ExpKernelAttention(D, H, impl="dot_bias"),
    "exp_kernel/distance": lambda: layers.ExpKernelAttention(D, H, impl="distance"),
    "infini/delta": lambda: layers.InfiniAttention(D, H, segment_len=SEG, update="delta"),
    "infini/linear": lambda: layers.InfiniAttention(D, H, segment_len=SEG, update="linear"),
    "infini/drex": lambda: layers.InfiniAttention(D, H, segment_len=SEG, update="drex"),
    "titans/chunk8": lambda: layers.TitansMemory(D, chunk_size=8, lr=0.1),
    "titans/read_after": lambda: layers.TitansMemory(D, chunk_size=1, lr=0.02, read="after"),
    "kv_memory/small": lambda: layers.KVMemory(D, capacity=12, top_k=3),
    "memory_tokens/4": lambda: layers.MemoryTokens(D, H, n_mem=4, segment_len=SEG),
    "mamba2/chunk8": lambda: layers.Mamba2(D, head_dim=8, chunk_size=8),
    "mamba2/sequential": lambda: layers.Mamba2(D, head_dim=8, impl="sequential"),
    "drex_l4/seed": lambda: layers.DrexL4Memory(D, segment_len=SEG),
    "drex_l4/gate_write_grad": lambda: layers.DrexL4Memory(
        D, segment_len=SEG, readout="per_position", combine="gate", write_grad=True, carry_memory=True
    ),
    "drex_l4/and_no_recency": lambda: layers.DrexL4Memory(
        D, segment_len=7, carry_memory=True, gate="and", recency=False
    ),
    "drex_l4/fixed_alpha": lambda: layers.DrexL4Memory(D, segment_len=T, alpha=0.95, null_gate=False),
    "prefix_memory/3": lambda: PrefixMemory(D, H, segment_len=SEG, n_slots=3),
    "retrieval_context/4": lambda: RetrievalContext(D, H, segment_len=SEG, chunk_len=4, top_k=2),
    "cross_attention": lambda: layers.GatedCrossAttention(D, H, d_memory=12),
    "gated_delta_rule": lambda: layers.GatedDeltaNet(D, H),
    "gated_delta_rule/naive": lambda: layers.GatedDeltaNet(D, H, impl="naive"),
    "gated_delta_rule/ungated_expand2": lambda: layers.GatedDeltaNet(D, 2, expand_v=2, gate=False),
}
CASES = {name: (lambda n=name: registry.build(n, D, H, SEG)) for name in registry.MEMORIES} | VARIANTS


def make(name: str, dtype: torch.dtype = torch.float32):
    """A seeded layer, an input ``[2, T, D]`` (with a repeated block, so write gates also stay
    shut) and the layer's initial state (a memory to read for cross-attention, else None)."""
    torch.manual_seed(0)
    layer = CASES[name]().to(dtype)
    x = torch.randn(2, T, D, dtype=dtype)
    x[:, 8:20] = x[:, 8:9]
    state = torch.randn(2, 5, 12, dtype=dtype) if name == "cross_attention" else None
    return layer, x, state


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("name", CASES)
def test_segmentwise_equals_one_pass(name: str, dtype: torch.dtype, tol: float) -> None:
    layer, x, state0 = make(name, dtype)
    with torch.no_grad():
        y, state_all = layer(x, state0)
        state, pieces = state0, []
        for a, b in zip(SPLITS[:-1], SPLITS[1:], strict=True):
            y_ab, state = layer(x[:, a:b], state)
            pieces.append(y_ab)
    assert y.shape == x.shape
    scale = max(1.0, y.abs().max().item())  # "drex" Infini-attention grows large (unbounded M)
    assert (torch.cat(pieces, dim=1) - y).abs().max().item() < tol * scale
    whole, carried = list(state_tensors(state_all)), list(state_tensors(state))
    assert [t.shape for t in whole] == [t.shape for t in carried]
    for a, b in zip(whole, carried, strict=True):
        if not a.is_floating_point():
            assert torch.equal(a, b)  # write counters, fire counts
        elif a.numel():
            assert (a - b).abs().max().item() <= tol * max(1.0, a.abs().max().item())


@pytest.mark.parametrize("name", CASES)
def test_future_inputs_do_not_change_the_past(name: str) -> None:
    layer, x, state = make(name)
    t = 19
    x_edit = x.clone()
    x_edit[:, t + 1 :] = torch.randn_like(x_edit[:, t + 1 :]) * 3
    with torch.no_grad():
        y, _ = layer(x, state)
        y_edit, _ = layer(x_edit, state)
    assert torch.equal(y[:, : t + 1], y_edit[:, : t + 1])
    assert not torch.equal(y[:, t + 1 :], y_edit[:, t + 1 :])


@pytest.mark.parametrize("name", CASES)
def test_gradients_reach_every_parameter(name: str) -> None:
    layer, x, state = make(name)
    y1, state = layer(x, state)  # two calls: gradients also flow through the carried state
    y2, _ = layer(x.flip(1), state)
    (y1.pow(2).sum() + y2.pow(2).sum()).backward()
    for pname, p in layer.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", CASES)
def test_detach_state_cuts_the_graph(name: str) -> None:
    layer, x, state = make(name)
    x.requires_grad_(True)
    _, state = layer(x, state)
    tensors = list(state_tensors(detach_state(state)))
    assert tensors and all(t.grad_fn is None and not t.requires_grad for t in tensors)


@pytest.mark.parametrize("name", list(registry.MEMORIES))
def test_every_memory_works_as_a_decoder_mixer(name: str) -> None:
    torch.manual_seed(0)
    model = Decoder(
        DecoderConfig(vocab_size=11, d_model=32, n_layers=2, n_heads=4), registry.mixer(name, segment_len=8)
    )
    idx = torch.randint(0, 11, (2, 20))
    logits, state = model(idx)
    assert logits.shape == (2, 20, 11) and len(state) == 2
    logits.logsumexp(-1).mean().backward()
    grads = [(n, p.grad) for n, p in model.named_parameters() if ".mixer." in n]
    assert grads and all(g is not None and torch.isfinite(g).all() for _, g in grads)
