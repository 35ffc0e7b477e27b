"""Mamba-2 / SSD: the chunked (dual) form equals the sequential scan."""

from __future__ import annotations

import pytest
import torch

from memnb.layers import Mamba2
from memnb.layers.ssd import segsum, ssd_chunked, ssd_sequential

F64 = torch.float64


def random_scan_inputs(b: int = 2, T: int = 37, H: int = 3, P: int = 4, N: int = 5):
    torch.manual_seed(0)
    x = torch.randn(b, T, H, P, dtype=F64)
    dt = torch.nn.functional.softplus(torch.randn(b, T, H, dtype=F64))
    A = -torch.rand(H, dtype=F64) * 4
    B, C = torch.randn(b, T, N, dtype=F64), torch.randn(b, T, N, dtype=F64)
    h0 = torch.randn(b, H, P, N, dtype=F64)
    return x, dt, A, B, C, h0


def test_segsum_sums_the_open_closed_interval() -> None:
    a = torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=F64)
    expected = torch.tensor([[0, -1, -1, -1], [2, 0, -1, -1], [6, 4, 0, -1], [14, 12, 8, 0]], dtype=F64)
    expected = expected.masked_fill(expected < 0, -torch.inf)
    assert torch.equal(segsum(a), expected)


@pytest.mark.parametrize("chunk_size", [1, 8, 16, 64])
def test_chunked_scan_equals_sequential_scan(chunk_size: int) -> None:
    x, dt, A, B, C, h0 = random_scan_inputs()
    y_seq, h_seq = ssd_sequential(x, dt, A, B, C, h0)
    y_chk, h_chk = ssd_chunked(x, dt, A, B, C, h0, chunk_size)
    assert (y_chk - y_seq).abs().max() < 1e-10
    assert (h_chk - h_seq).abs().max() < 1e-10


def test_sequential_scan_matches_the_scalar_recurrence() -> None:
    x, dt, A, B, C, h0 = random_scan_inputs(b=1, T=6, H=1, P=1, N=1)
    h, ys = h0[0, 0, 0, 0], []
    for t in range(6):  # h_t = exp(Δ_t A) h_{t-1} + Δ_t x_t B_t,  y_t = C_t h_t
        h = torch.exp(dt[0, t, 0] * A[0]) * h + dt[0, t, 0] * x[0, t, 0, 0] * B[0, t, 0]
        ys.append(C[0, t, 0] * h)
    y, _ = ssd_sequential(x, dt, A, B, C, h0)
    assert torch.allclose(y.flatten(), torch.stack(ys), atol=1e-12)


def test_mamba2_chunked_block_equals_sequential_block() -> None:
    torch.manual_seed(0)
    chunked = Mamba2(16, head_dim=8, chunk_size=8).double()
    sequential = Mamba2(16, head_dim=8, impl="sequential").double()
    sequential.load_state_dict(chunked.state_dict())
    x = torch.randn(2, 29, 16, dtype=F64)
    (y_c, s_c), (y_s, s_s) = chunked(x), sequential(x)
    assert (y_c - y_s).abs().max() < 1e-10
    assert (s_c.h - s_s.h).abs().max() < 1e-10 and torch.equal(s_c.conv, s_s.conv)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Mamba2(16, head_dim=5), "head_dim must divide"),
        (lambda: Mamba2(16, d_state=0), "must all be >= 1"),
        (lambda: Mamba2(16, chunk_size=0), "must all be >= 1"),
        (lambda: Mamba2(16, impl="parallel"), "'chunked' or 'sequential'"),
    ],
)
def test_bad_arguments_raise_value_error(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
