"""SSD (Mamba-2) scan op: the chunked form against the per-token reference (values and
gradients), state carrying, and small cases worked out by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from memnb.ops.ssd import IMPLS, chunked_ssd, naive_ssd, segsum, ssd

F64 = torch.float64


def make(
    b: int = 2, T: int = 37, H: int = 3, P: int = 4, N: int = 5, seed: int = 0, state: bool = True
) -> list[torch.Tensor | None]:
    """x, dt (softplus, > 0), A (< 0), B, C and an initial state, in float64."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=F64)

    x, dt, A = rnd(b, T, H, P), F.softplus(rnd(b, T, H)), -4 * torch.rand(H, generator=gen, dtype=F64)
    B, C = rnd(b, T, N), rnd(b, T, N)
    return [x, dt, A, B, C, rnd(b, H, P, N) if state else None]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def test_segsum_sums_the_open_closed_interval() -> None:
    a = torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=F64)
    expected = torch.tensor([[0, -1, -1, -1], [2, 0, -1, -1], [6, 4, 0, -1], [14, 12, 8, 0]], dtype=F64)
    expected = expected.masked_fill(expected < 0, -torch.inf)
    assert torch.equal(segsum(a), expected)


def test_known_answer_by_hand() -> None:
    """One channel, one state: decay exp(Δ A) = 1/2, so h = 4 → 0.5·4 + 2·1 = 4 → 2 + 0 = 2 → 1 + 4·0.5 = 3."""
    x = torch.tensor([2.0, 0.0, 4.0], dtype=F64).view(1, 3, 1, 1)
    dt, A = torch.ones(1, 3, 1, dtype=F64), -torch.tensor([2.0], dtype=F64).log()
    B, C = (
        torch.tensor([1.0, 1.0, 0.5], dtype=F64).view(1, 3, 1),
        torch.tensor([1.0, 3.0, 2.0], dtype=F64).view(1, 3, 1),
    )
    h0 = torch.full((1, 1, 1, 1), 4.0, dtype=F64)
    for impl in IMPLS:
        y, h = ssd(x, dt, A, B, C, initial_state=h0, impl=impl, chunk_size=2)
        assert torch.allclose(y.flatten(), torch.tensor([4.0, 6.0, 6.0], dtype=F64), rtol=1e-14, atol=0), impl
        assert torch.allclose(h.flatten(), torch.tensor([3.0], dtype=F64), rtol=1e-14, atol=0), impl


def test_naive_matches_the_scalar_recurrence() -> None:
    x, dt, A, B, C, h0 = make(b=1, T=6, H=1, P=1, N=1)
    h, ys = h0[0, 0, 0, 0], []
    for t in range(6):  # h_t = exp(Δ_t A) h_{t-1} + Δ_t x_t B_t,  y_t = C_t h_t
        h = torch.exp(dt[0, t, 0] * A[0]) * h + dt[0, t, 0] * x[0, t, 0, 0] * B[0, t, 0]
        ys.append(C[0, t, 0] * h)
    y, _ = ssd(x, dt, A, B, C, initial_state=h0, impl="naive")
    assert rel(y.flatten(), torch.stack(ys)) < 1e-12


@pytest.mark.parametrize("T", [1, 5, 37, 64, 100])
@pytest.mark.parametrize("chunk_size", [1, 8, 13, 64])
@pytest.mark.parametrize("state", [False, True])
def test_chunked_matches_naive_float64(T: int, chunk_size: int, state: bool) -> None:
    x, dt, A, B, C, h0 = make(T=T, seed=T + chunk_size, state=state)
    y_ref, h_ref = ssd(x, dt, A, B, C, initial_state=h0, impl="naive")
    y, h = ssd(x, dt, A, B, C, initial_state=h0, chunk_size=chunk_size, impl="chunked")
    assert y.shape == x.shape and h.shape == (2, 3, 4, 5)
    assert rel(y, y_ref) < 1e-10 and rel(h, h_ref) < 1e-10


@pytest.mark.parametrize("chunk_size", [4, 64])
def test_gradients_match_naive(chunk_size: int) -> None:
    inputs = [t.requires_grad_() for t in make(T=23, seed=1)]
    gen = torch.Generator().manual_seed(2)
    w_y, w_h = torch.randn(2, 23, 3, 4, generator=gen, dtype=F64), torch.randn(2, 3, 4, 5, generator=gen, dtype=F64)
    grads = []
    for fn in (naive_ssd, lambda *a: chunked_ssd(*a, chunk_size=chunk_size)):
        y, h = fn(*inputs)
        grads.append(torch.autograd.grad((y * w_y).sum() + (h * w_h).sum(), inputs))
    for name, a, b in zip(("x", "dt", "A", "B", "C", "initial_state"), *grads, strict=True):
        assert rel(a, b) < 1e-10, name


def test_chunked_gradcheck() -> None:
    inputs = [t.requires_grad_() for t in make(b=1, T=7, H=2, P=2, N=2)]
    assert torch.autograd.gradcheck(lambda *a: chunked_ssd(*a, chunk_size=3), inputs)


@pytest.mark.parametrize("impl", IMPLS)
def test_state_carried_across_segments_equals_one_pass(impl: str) -> None:
    x, dt, A, B, C, h0 = make(T=50, seed=3)
    y_all, h_all = ssd(x, dt, A, B, C, initial_state=h0, chunk_size=8, impl=impl)
    h, pieces = h0, []
    for a, b in ((0, 11), (11, 12), (12, 50)):
        y, h = ssd(x[:, a:b], dt[:, a:b], A, B[:, a:b], C[:, a:b], initial_state=h, chunk_size=8, impl=impl)
        pieces.append(y)
    assert rel(torch.cat(pieces, 1), y_all) < 1e-12 and rel(h, h_all) < 1e-12


def test_dispatch_and_default_state() -> None:
    x, dt, A, B, C, _ = make(T=20, state=False)
    y_auto, h_auto = ssd(x, dt, A, B, C)
    y_chunked, h_chunked = ssd(x, dt, A, B, C, impl="chunked")
    assert torch.equal(y_auto, y_chunked) and torch.equal(h_auto, h_chunked)  # auto is chunked
    y_zero, _ = ssd(x, dt, A, B, C, initial_state=torch.zeros_like(h_auto))
    assert torch.equal(y_zero, y_auto)  # None is a zero state (the same computation)
    x32 = [t.float() for t in (x, dt, A, B, C)]
    y32, _ = ssd(*x32)
    assert y32.dtype == torch.float32 and rel(y32.double(), y_auto) < 1e-5


def test_bad_arguments_raise_value_errors() -> None:
    x, dt, A, B, C, h0 = make(T=6)
    with pytest.raises(ValueError, match=r"impl must be one of .*'naive'.*'chunked'"):
        ssd(x, dt, A, B, C, impl="sequential")
    with pytest.raises(ValueError, match="chunk_size"):
        ssd(x, dt, A, B, C, chunk_size=0)
    with pytest.raises(ValueError, match=r"x must be \[b, T, H, P\]"):
        ssd(x[0], dt, A, B, C)
    with pytest.raises(ValueError, match="dt has shape"):
        ssd(x, dt[:, :3], A, B, C)
    with pytest.raises(ValueError, match="C has shape"):
        ssd(x, dt, A, B, C[..., :2])
    with pytest.raises(ValueError, match="initial_state has shape"):
        ssd(x, dt, A, B, C, initial_state=h0[:, :1])
    with pytest.raises(ValueError, match="floating-point"):
        ssd(x, dt, A.long(), B, C)
    with pytest.raises(ValueError, match="T >= 1"):
        ssd(x[:, :0], dt[:, :0], A, B[:, :0], C[:, :0])
