"""Properties every memnb layer must have: one pass == segment by segment with the state
carried, causality (exact), gradients reaching every parameter, and detachable state."""

from __future__ import annotations

import pytest
import torch

from memnb.layers import (
    CausalSelfAttention,
    ExpKernelAttention,
    GatedCrossAttention,
    InfiniAttention,
    KVMemory,
    Mamba2,
    MemoryTokens,
    SlidingWindowAttention,
    TitansMemory,
    detach_state,
)

D, H, T = 16, 4, 40
SPLITS = (0, 5, 16, 17, 33, T)  # ragged: crosses segment and chunk boundaries mid-way

# name -> a small layer; each is causal and segment-recurrent in its own documented sense
LAYERS = {
    "attention": lambda: CausalSelfAttention(D, H),
    "sliding_window": lambda: SlidingWindowAttention(D, H, window=7),
    "exp_kernel_dot_bias": lambda: ExpKernelAttention(D, H, impl="dot_bias"),
    "exp_kernel_distance": lambda: ExpKernelAttention(D, H, impl="distance"),
    "exp_kernel_augmented": lambda: ExpKernelAttention(D, H, impl="augmented"),
    "infini_delta": lambda: InfiniAttention(D, H, segment_len=8, update="delta"),
    "infini_linear": lambda: InfiniAttention(D, H, segment_len=8, update="linear"),
    "infini_drex": lambda: InfiniAttention(D, H, segment_len=8, update="drex"),
    "titans_before": lambda: TitansMemory(D, chunk_size=8, lr=0.1),
    "titans_after": lambda: TitansMemory(D, chunk_size=1, lr=0.02, read="after"),
    "kv_memory": lambda: KVMemory(D, capacity=12, top_k=3),
    "memory_tokens": lambda: MemoryTokens(D, H, n_mem=4, segment_len=8),
    "mamba2_chunked": lambda: Mamba2(D, head_dim=8, chunk_size=8),
    "mamba2_sequential": lambda: Mamba2(D, head_dim=8, impl="sequential"),
    "cross_attention": lambda: GatedCrossAttention(D, H, d_memory=12),
}


def make(name: str, dtype: torch.dtype = torch.float32, batch: int = 2):
    """A seeded layer, an input ``[batch, T, D]`` and its initial state."""
    torch.manual_seed(0)
    layer = LAYERS[name]().to(dtype)
    x = torch.randn(batch, T, D, dtype=dtype)
    state = torch.randn(batch, 5, 12, dtype=dtype) if name == "cross_attention" else None
    return layer, x, state


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("name", LAYERS)
def test_segmentwise_equals_one_pass(name: str, dtype: torch.dtype, tol: float) -> None:
    layer, x, state0 = make(name, dtype)
    with torch.no_grad():
        y, _ = layer(x, state0)
        state, pieces = state0, []
        for a, b in zip(SPLITS[:-1], SPLITS[1:], strict=True):
            y_ab, state = layer(x[:, a:b], state)
            pieces.append(y_ab)
    assert y.shape == x.shape
    scale = max(1.0, y.abs().max().item())  # "drex" Infini-attention grows large (unbounded M)
    assert (torch.cat(pieces, dim=1) - y).abs().max().item() < tol * scale


@pytest.mark.parametrize("name", LAYERS)
def test_future_tokens_do_not_change_the_past(name: str) -> None:
    layer, x, state = make(name)
    t = 19
    x_edit = x.clone()
    x_edit[:, t + 1 :] = torch.randn_like(x_edit[:, t + 1 :]) * 3
    with torch.no_grad():
        y, _ = layer(x, state)
        y_edit, _ = layer(x_edit, state)
    assert torch.equal(y[:, : t + 1], y_edit[:, : t + 1])
    assert not torch.equal(y[:, t + 1 :], y_edit[:, t + 1 :])


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_reach_every_parameter(name: str) -> None:
    layer, x, state = make(name)
    y1, state = layer(x, state)  # two calls: gradients also flow through the carried state
    y2, _ = layer(x.flip(1), state)
    (y1.pow(2).sum() + y2.pow(2).sum()).backward()
    for pname, p in layer.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", LAYERS)
def test_detach_state_cuts_the_graph(name: str) -> None:
    layer, x, state = make(name)
    _, state = layer(x, state)
    tensors = []

    def collect(s) -> None:
        if isinstance(s, torch.Tensor):
            tensors.append(s)
        elif isinstance(s, dict):
            for v in s.values():
                collect(v)
        elif hasattr(s, "__dataclass_fields__"):
            for f in s.__dataclass_fields__:
                collect(getattr(s, f))

    collect(detach_state(state))
    assert tensors and all(t.grad_fn is None and not t.requires_grad for t in tensors)
