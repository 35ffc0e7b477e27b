"""Titans neural-memory op: the chunked torch.func form against the per-token reference with
the gradient written by hand (values and gradients), state carrying, one step worked out by
hand, and one step against plain autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from memnb.ops.titans_memory import IMPLS, TitansMemoryState, mlp, recall, titans_memory, titans_memory_state
from memnb.ops.titans_memory.naive import gelu_grad

F64 = torch.float64
HYPER = dict(lr=0.1, momentum=0.9, weight_decay=0.01)


def make(
    B: int = 2, T: int = 30, d: int = 6, h: int = 12, pending: int = 2, seed: int = 0
) -> tuple[list[torch.Tensor], TitansMemoryState]:
    """q, k (unit rows, as the layer makes them), v ``[B, T, d]`` and a random state: per-sample
    weights, momentum, and ``pending`` keys and values of an unfinished chunk."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=gen, dtype=F64)

    q, k, v = F.normalize(rnd(B, T, d), dim=-1), F.normalize(rnd(B, T, d), dim=-1), rnd(B, T, d)
    w1, w2 = rnd(B, d, h, scale=d**-0.5), rnd(B, h, d, scale=h**-0.5)
    m1, m2 = rnd(B, d, h, scale=0.05), rnd(B, h, d, scale=0.05)
    k_c, v_c = F.normalize(rnd(B, pending, d), dim=-1), rnd(B, pending, d)
    return [q, k, v], TitansMemoryState(w1, w2, m1, m2, k_c, v_c)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


CASES = [(1, "before", 0.02), (1, "after", 0.02), (4, "before", 0.1), (7, "before", 0.1), (64, "before", 0.1)]


@pytest.mark.parametrize("chunk_size, read, lr", CASES)
def test_chunked_matches_naive_float64(chunk_size: int, read: str, lr: float) -> None:
    (q, k, v), s0 = make(pending=min(2, chunk_size - 1), seed=chunk_size)
    kw = dict(HYPER, lr=lr, chunk_size=chunk_size, read=read, initial_state=s0)
    o_ref, s_ref = titans_memory(q, k, v, **kw, impl="naive")
    o, s = titans_memory(q, k, v, **kw, impl="chunked")
    assert o.shape == q.shape and o.abs().max() < 100  # a stable run, not a diverged one
    assert rel(o, o_ref) < 1e-10
    for name, a, b in zip(TitansMemoryState._fields, s, s_ref, strict=True):
        assert a.shape == b.shape and (a.numel() == 0 or rel(a, b) < 1e-10), name


@pytest.mark.parametrize("chunk_size, read, lr", [(1, "after", 0.02), (5, "before", 0.1)])
def test_gradients_match_naive(chunk_size: int, read: str, lr: float) -> None:
    (q, k, v), s0 = make(T=13, d=4, h=6, pending=min(2, chunk_size - 1), seed=1)
    leaves = [t.requires_grad_() for t in (q, k, v, *s0)]
    state = TitansMemoryState(*leaves[3:])
    gen = torch.Generator().manual_seed(2)
    w_o = torch.randn(2, 13, 4, generator=gen, dtype=F64)
    grads = []
    for impl in ("naive", "chunked"):
        o, s = titans_memory(
            *leaves[:3], initial_state=state, **dict(HYPER, lr=lr), chunk_size=chunk_size, read=read, impl=impl
        )
        loss = (o * w_o).sum() + sum(t.pow(2).sum() for t in s)
        grads.append(torch.autograd.grad(loss, leaves))
    names = ("q", "k", "v", *(f"state.{f}" for f in TitansMemoryState._fields))
    for name, a, b in zip(names, *grads, strict=True):
        assert rel(a, b) < 1e-10, name


@pytest.mark.parametrize("impl", IMPLS)
def test_state_carried_across_calls_equals_one_pass(impl: str) -> None:
    (q, k, v), s0 = make(T=31, pending=2, seed=3)
    kw = dict(HYPER, chunk_size=5, impl=impl)
    o_all, s_all = titans_memory(q, k, v, initial_state=s0, **kw)
    s, pieces = s0, []
    for a, b in ((0, 2), (2, 3), (3, 14), (14, 31)):
        o, s = titans_memory(q[:, a:b], k[:, a:b], v[:, a:b], initial_state=s, **kw)
        pieces.append(o)
    assert rel(torch.cat(pieces, 1), o_all) < 1e-12
    for name, a, b in zip(TitansMemoryState._fields, s, s_all, strict=True):
        assert a.shape == b.shape and (a.numel() == 0 or rel(a, b) < 1e-12), name


@pytest.mark.parametrize("impl", IMPLS)
def test_one_step_by_hand(impl: str) -> None:
    """d = h = 1, W_1 = 0, W_2 = 2, k = v = 1: a = 0, GELU(0) = 0, GELU'(0) = 1/2, e = −1, so
    ∇W_1 = 2·1·(−1·2·½) = −2 and ∇W_2 = 0. With θ = 0.1, η = 0.9, α = 0.5, S_0 = (1, 0):
    S_1 = (0.9 + 0.2, 0) = (1.1, 0) and W = (0.5·0 + 1.1, 0.5·2 + 0) = (1.1, 1)."""
    one = torch.ones(1, 1, 1, dtype=F64)
    state = TitansMemoryState(0 * one, 2 * one, one, 0 * one, one[:, :0], one[:, :0])
    o, s = titans_memory(
        one, one, one, initial_state=state, lr=0.1, momentum=0.9, weight_decay=0.5, chunk_size=1, impl=impl
    )
    assert torch.equal(o, torch.zeros_like(o))  # read before the step: GELU(0) = 0
    expected = (1.1, 1.0, 1.1, 0.0)
    assert all(abs(t.item() - e) < 1e-15 for t, e in zip(s[:4], expected, strict=True))
    assert abs(gelu_grad(torch.tensor(0.0, dtype=F64)).item() - 0.5) < 1e-16


@pytest.mark.parametrize("impl", IMPLS)
def test_update_is_a_gradient_step_per_sample(impl: str) -> None:
    """No momentum, no decay, one chunk: W_1 = W_0 − θ ∇ℓ, ∇ by plain autograd on each sample alone."""
    (q, k, v), _ = make(B=3, T=5, pending=0)
    w0 = (torch.randn(6, 12, dtype=F64) / 6**0.5, torch.randn(12, 6, dtype=F64) / 12**0.5)
    _, s = titans_memory(
        q, k, v, initial_state=titans_memory_state(*w0, 3), lr=0.3, momentum=0.0, weight_decay=0.0, chunk_size=5,
        impl=impl,
    )  # fmt: skip
    for b in range(3):
        w = [t.clone().requires_grad_() for t in w0]
        loss = (mlp(*w, k[b]) - v[b]).pow(2).sum(-1).mean()
        grads = torch.autograd.grad(loss, w)
        assert rel(s.w1[b], w0[0] - 0.3 * grads[0]) < 1e-12 and rel(s.w2[b], w0[1] - 0.3 * grads[1]) < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
def test_read_before_sees_only_earlier_chunks(impl: str) -> None:
    (q, k, v), s0 = make(T=12, pending=0)
    o, _ = titans_memory(q, k, v, initial_state=s0, **HYPER, chunk_size=4, impl=impl)
    first = recall(s0.w1, s0.w2, q)  # every token read W_0
    assert rel(o[:, :4], first[:, :4]) < 1e-12 and rel(o[:, 4:], first[:, 4:]) > 1e-3
    q_edit, k_edit, v_edit = (t.clone() for t in (q, k, v))
    for t in (q_edit, k_edit, v_edit):
        t[:, 8:] = torch.randn_like(t[:, 8:])
    o_edit, _ = titans_memory(q_edit, k_edit, v_edit, initial_state=s0, **HYPER, chunk_size=4, impl=impl)
    assert torch.equal(o_edit[:, :8], o[:, :8])  # the same computation on the same inputs


def test_dispatch_and_initial_state_helper() -> None:
    (q, k, v), s0 = make(T=9, pending=1)
    o_auto, _ = titans_memory(q, k, v, initial_state=s0, **HYPER, chunk_size=4)
    o_chunked, _ = titans_memory(q, k, v, initial_state=s0, **HYPER, chunk_size=4, impl="chunked")
    assert torch.equal(o_auto, o_chunked)  # auto is chunked
    w1, w2 = torch.randn(6, 12), torch.randn(12, 6)
    s = titans_memory_state(w1, w2, 3)
    assert s.w1.shape == (3, 6, 12) and torch.equal(s.w2[2], w2) and not s.m1.any() and s.k.shape == (3, 0, 6)


def test_bad_arguments_raise_value_errors() -> None:
    (q, k, v), s0 = make(T=6, pending=2)
    kw = dict(HYPER, initial_state=s0)
    with pytest.raises(ValueError, match=r"impl must be one of .*'naive'.*'chunked'"):
        titans_memory(q, k, v, **kw, chunk_size=4, impl="parallel")
    with pytest.raises(ValueError, match="read must be one of"):
        titans_memory(q, k, v, **kw, chunk_size=4, read="during")
    with pytest.raises(ValueError, match="needs chunk_size=1"):
        titans_memory(q, k, v, **kw, chunk_size=4, read="after")
    with pytest.raises(ValueError, match="chunk_size"):
        titans_memory(q, k, v, **kw, chunk_size=0)
    with pytest.raises(ValueError, match="pending tokens"):
        titans_memory(q, k, v, **kw, chunk_size=2)
    with pytest.raises(ValueError, match="v has shape"):
        titans_memory(q, k, v[..., :3], **kw, chunk_size=4)
    with pytest.raises(ValueError, match="initial_state.w2 has shape"):
        titans_memory(q, k, v, **dict(kw, initial_state=s0._replace(w2=s0.w2[:, :3])), chunk_size=4)
    with pytest.raises(ValueError, match="TitansMemoryState"):
        titans_memory(q, k, v, **dict(kw, initial_state=tuple(s0)), chunk_size=4)
    with pytest.raises(ValueError, match="T >= 1"):
        titans_memory(q[:, :0], k[:, :0], v[:, :0], **kw, chunk_size=4)
