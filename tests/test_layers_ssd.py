"""Mamba-2 block: its two scan impls give the same block, and argument checks. The scan itself
(memnb.ops.ssd) is tested in test_ops_ssd.py."""

from __future__ import annotations

import pytest
import torch

from memnb.layers import Mamba2

F64 = torch.float64


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
