"""DrexL4Memory: the seed's equations written out by hand, segment semantics, causality,
gradients, write-rate monitoring and argument checks."""

from __future__ import annotations

import pytest
import torch

from memnb.layers.drex_memory import DrexL4Memory
from memnb.ops.drex_memory import alpha_for_length

D, T = 16, 40
SPLITS = (0, 5, 16, 17, 33, T)


def make(dtype: torch.dtype = torch.float64, **kw: object) -> tuple[DrexL4Memory, torch.Tensor]:
    torch.manual_seed(0)
    layer = DrexL4Memory(D, **kw).to(dtype)
    x = torch.randn(2, T, D, dtype=dtype)
    x[:, 8:20] = x[:, 8:9]  # repeats, so the gate also stays shut sometimes
    return layer, x


def seed_reference(layer: DrexL4Memory, x: torch.Tensor, theta: float = 0.70) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's MemoryModule on one segment, token by token (book/appendix/drex.md §2)."""
    B, L, d = x.shape
    eta = 1 - 0.95 ** (96 / L)
    h = layer.norm(x)
    out = torch.zeros_like(x)
    fires = torch.zeros(B, L - 1, dtype=torch.bool)
    unit = lambda z: z / z.norm().clamp_min(1e-6)  # noqa: E731
    for b in range(B):
        Ms = torch.zeros(d // 2, d // 2, dtype=x.dtype)
        Me = torch.zeros(d // 2, d // 2, dtype=x.dtype)
        for t in range(L - 1):
            ks, ke = layer.W_s(h[b, t]), layer.W_e(h[b, t])
            ps, pe = Ms @ unit(ks), Me @ unit(ke)
            fire = (ks - ps).norm() >= theta * ks.norm() or (ke - pe).norm() >= theta * ke.norm()
            fires[b, t] = fire
            if fire:
                Ms = Ms + eta * torch.outer(ks - ps, unit(ks))
                Me = Me + eta * (t + 1) / L * torch.outer(ke - pe, unit(ke))
        q = h[b, L - 1]
        r = torch.cat([Ms @ unit(layer.W_s(q)), Me @ unit(layer.W_e(q))])
        r = torch.sigmoid(layer.null(q)) * r
        out[b, L - 1] = layer.out_norm(layer.out(r))
    return out, fires


def test_matches_the_seed_equations() -> None:
    layer, x = make()
    with torch.no_grad():
        y, state = layer(x)
        y_ref, fires = seed_reference(layer, x)
    assert (y - y_ref).abs().max() < 1e-12
    assert torch.equal(layer.last_fire, fires)
    assert 0.1 < layer.last_write_rate.item() < 1.0
    assert layer.last_write_rate.item() == pytest.approx(fires.float().mean().item())
    assert state.writes == T - 1 and torch.equal(state.fires, fires.sum(1).to(state.fires.dtype))
    assert layer.eta(T) == pytest.approx(1 - alpha_for_length(T))


def test_last_readout_touches_only_segment_ends() -> None:
    layer, x = make(segment_len=8)
    y, _ = layer(x)
    touched = (y.abs().sum(-1) > 0).any(0).nonzero().flatten().tolist()
    assert touched == [7, 15, 23, 31, 39]
    layer, x = make(segment_len=8, readout="per_position")
    y, _ = layer(x)
    assert (y.abs().sum(-1) > 0).all()


def test_write_grad_changes_key_gradients() -> None:
    grads = []
    for write_grad in (False, True):
        layer, x = make(segment_len=8, write_grad=write_grad)
        layer(x)[0].pow(2).sum().backward()
        grads.append(layer.W_s.weight.grad)
    assert not torch.allclose(*grads)


def test_bad_arguments_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="even"):
        DrexL4Memory(15)
    with pytest.raises(ValueError, match=r"readout must be one of \('last', 'per_position'\)"):
        DrexL4Memory(16, readout="first")
    with pytest.raises(ValueError, match=r"combine must be one of \('concat', 'gate'\)"):
        DrexL4Memory(16, combine="sum")
    with pytest.raises(ValueError, match="alpha"):
        DrexL4Memory(16, alpha=1.0)
    with pytest.raises(ValueError, match="gate must be one of"):
        DrexL4Memory(16, gate="xor")
    with pytest.raises(ValueError, match="impl must be one of"):
        DrexL4Memory(16, impl="cuda")
