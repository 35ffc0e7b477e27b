"""Infini-attention's compressive memory op: the segment-parallel form against the per-token
reference (values and gradients), state carrying, and the write rules on one key-value pair."""

from __future__ import annotations

import pytest
import torch

from memnb.ops.compressive_memory import (
    IMPLS,
    UPDATES,
    CompressiveMemoryState,
    compressive_memory,
    elu1,
    memory_read,
    memory_write,
)

F64 = torch.float64


def make(
    B: int = 2, T: int = 30, H: int = 3, K: int = 4, V: int = 5, pending: int = 3, seed: int = 0, state: bool = True
) -> tuple[list[torch.Tensor], CompressiveMemoryState | None]:
    """q, k, v ``[B, T, H, ·]`` and a random state: a memory, a positive normaliser (as Σσ(k)
    makes it) and ``pending`` keys and values of an unfinished segment."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=F64)

    qkv = [rnd(B, T, H, K), rnd(B, T, H, K), rnd(B, T, H, V)]
    if not state:
        return qkv, None
    z = 1.0 + 3.0 * torch.rand(B, H, K, generator=gen, dtype=F64)
    return qkv, CompressiveMemoryState(rnd(B, H, K, V), z, rnd(B, pending, H, K), rnd(B, pending, H, V))


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


@pytest.mark.parametrize("update", UPDATES)
@pytest.mark.parametrize("segment_len", [1, 4, 7, 64])
@pytest.mark.parametrize("state", [False, True])
def test_chunked_matches_naive_float64(update: str, segment_len: int, state: bool) -> None:
    (q, k, v), s0 = make(pending=min(3, segment_len - 1), seed=segment_len, state=state)
    kw = dict(segment_len=segment_len, update=update, initial_state=s0)
    o_ref, s_ref = compressive_memory(q, k, v, **kw, impl="naive")
    o, s = compressive_memory(q, k, v, **kw, impl="chunked")
    assert o.shape == v.shape
    assert rel(o, o_ref) < 1e-10 and rel(s.M, s_ref.M) < 1e-10 and rel(s.z, s_ref.z) < 1e-10
    assert torch.equal(s.k, s_ref.k) and torch.equal(s.v, s_ref.v)  # the same input tokens, copied


@pytest.mark.parametrize("update", UPDATES)
def test_gradients_match_naive(update: str) -> None:
    (q, k, v), s0 = make(T=17, pending=2)
    leaves = [t.requires_grad_() for t in (q, k, v, *s0)]
    gen = torch.Generator().manual_seed(1)
    w_o = torch.randn(2, 17, 3, 5, generator=gen, dtype=F64)
    grads = []
    for impl in ("naive", "chunked"):
        o, s = compressive_memory(*leaves[:3], segment_len=5, update=update, initial_state=s0, impl=impl)
        loss = (o * w_o).sum() + s.M.pow(2).sum() + s.z.pow(2).sum() + s.k.pow(3).sum() + s.v.sum()
        grads.append(torch.autograd.grad(loss, leaves))
    for name, a, b in zip(("q", "k", "v", "M", "z", "k_pending", "v_pending"), *grads, strict=True):
        assert rel(a, b) < 1e-10, name


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("update", UPDATES)
def test_state_carried_across_calls_equals_one_pass(impl: str, update: str) -> None:
    (q, k, v), s0 = make(T=40, pending=2, seed=3)
    o_all, s_all = compressive_memory(q, k, v, segment_len=6, update=update, initial_state=s0, impl=impl)
    s, pieces = s0, []
    for a, b in ((0, 3), (3, 4), (4, 17), (17, 40)):
        o, s = compressive_memory(
            q[:, a:b], k[:, a:b], v[:, a:b], segment_len=6, update=update, initial_state=s, impl=impl
        )
        pieces.append(o)
    assert rel(torch.cat(pieces, 1), o_all) < 1e-12
    assert rel(s.M, s_all.M) < 1e-12 and rel(s.z, s_all.z) < 1e-12 and torch.equal(s.k, s_all.k)


@pytest.mark.parametrize("impl", IMPLS)
def test_empty_memory_reads_exactly_zero_until_the_first_segment_ends(impl: str) -> None:
    (q, k, v), _ = make(T=10, state=False)
    o, s = compressive_memory(q, k, v, segment_len=6, impl=impl)
    assert torch.equal(o[:, :6], torch.zeros_like(o[:, :6])) and (o[:, 6:].abs() > 0).all()
    assert s.k.shape == (2, 4, 3, 4)  # tokens 6..9 wait for the second segment to end
    M, z = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4)
    assert torch.equal(memory_read(elu1(torch.randn(2, 3, 7, 4)), M, z), torch.zeros(2, 3, 7, 4))


@pytest.mark.parametrize("impl", IMPLS)
def test_write_rules_on_one_key_value_pair(impl: str) -> None:
    """Segments of one token: write (k, v), then (k, v) again. From an empty memory every rule
    stores M = σ(k) vᵀ, z = σ(k), so σ(k)ᵀM / σ(k)·z = v. The second write: "delta" adds nothing
    (the memory already returns v), "linear" adds the same again, "drex" adds σ(k)(v − σ(k)ᵀM)ᵀ."""
    gen = torch.Generator().manual_seed(0)
    k1 = torch.randn(1, 1, 1, 4, generator=gen, dtype=F64)
    v1 = torch.randn(1, 1, 1, 3, generator=gen, dtype=F64)
    q, k, v = k1.repeat(1, 2, 1, 1), k1.repeat(1, 2, 1, 1), v1.repeat(1, 2, 1, 1)
    sk = elu1(k1[0, 0, 0])
    M1 = torch.outer(sk, v1[0, 0, 0])
    finals = {}
    for update in UPDATES:
        o, s = compressive_memory(q, k, v, segment_len=1, update=update, impl=impl)
        assert torch.equal(o[0, 0], torch.zeros_like(o[0, 0]))  # the first token reads the empty memory
        assert rel(o[0, 1, 0], v1[0, 0, 0]) < 1e-12  # the second reads v back
        assert rel(s.z[0, 0], 2 * sk) < 1e-15
        finals[update] = s.M[0, 0]
    assert rel(finals["delta"], M1) < 1e-12
    assert rel(finals["linear"], 2 * M1) < 1e-12
    assert rel(finals["drex"], M1 + torch.outer(sk, v1[0, 0, 0] - sk @ M1)) < 1e-12


def test_memory_write_helper_on_one_pair() -> None:
    """The segment-parallel write, called directly (the layer calls it this way)."""
    gen = torch.Generator().manual_seed(0)
    sk = elu1(torch.randn(1, 1, 1, 4, generator=gen, dtype=F64))
    v = torch.randn(1, 1, 1, 3, generator=gen, dtype=F64)
    M0, z0 = torch.zeros(1, 1, 4, 3, dtype=F64), torch.zeros(1, 1, 4, dtype=F64)
    for update in UPDATES:
        M1, z1 = memory_write(sk, v, M0, z0, update)
        assert rel(memory_read(sk, M1, z1), v) < 1e-12
    M1, z1 = memory_write(sk, v, M0, z0, "delta")
    assert rel(memory_write(sk, v, M1, z1, "delta")[0], M1) < 1e-12


def test_dispatch_and_dtypes() -> None:
    (q, k, v), s0 = make(T=12)
    o_auto, s_auto = compressive_memory(q, k, v, segment_len=5, initial_state=s0)
    o_chunked, _ = compressive_memory(q, k, v, segment_len=5, initial_state=s0, impl="chunked")
    assert torch.equal(o_auto, o_chunked)  # auto is chunked, and "delta" the default update
    o32, s32 = compressive_memory(
        q.float(), k.float(), v.float(), segment_len=5, initial_state=CompressiveMemoryState(*(t.float() for t in s0))
    )
    assert o32.dtype == torch.float32 and rel(o32.double(), o_auto) < 1e-5


def test_bad_arguments_raise_value_errors() -> None:
    (q, k, v), s0 = make(T=6, pending=3)
    with pytest.raises(ValueError, match=r"impl must be one of .*'naive'.*'chunked'"):
        compressive_memory(q, k, v, segment_len=4, impl="cuda")
    with pytest.raises(ValueError, match="update must be one of"):
        compressive_memory(q, k, v, segment_len=4, update="ema")
    with pytest.raises(ValueError, match="segment_len"):
        compressive_memory(q, k, v, segment_len=0)
    with pytest.raises(ValueError, match="k has shape"):
        compressive_memory(q, k[..., :2], v, segment_len=4)
    with pytest.raises(ValueError, match="v has shape"):
        compressive_memory(q, k, v[:, :2], segment_len=4)
    with pytest.raises(ValueError, match="initial_state.z has shape"):
        compressive_memory(q, k, v, segment_len=4, initial_state=s0._replace(z=s0.z[:, :1]))
    with pytest.raises(ValueError, match="pending tokens"):
        compressive_memory(q, k, v, segment_len=3, initial_state=s0)
    with pytest.raises(ValueError, match="T >= 1"):
        compressive_memory(q[:, :0], k[:, :0], v[:, :0], segment_len=4)
