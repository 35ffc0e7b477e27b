"""Drex L4 memory op: the vectorised path against the per-row reference, the gate's behaviour,
the seed's write-rate arithmetic, and argument checking. The Triton kernel is tested in
test_ops_drex_triton.py (it needs TRITON_INTERPRET=1 before triton is imported)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from memnb.ops.drex_memory import (
    GATES,
    IMPLS,
    DrexMemoryOut,
    DrexMemoryState,
    alpha_for_length,
    drex_memory,
    recency_weight,
    tau_over_L,
)

F64 = torch.float64


def make(
    B: int = 3, T: int = 40, D: int = 6, V: int | None = None, dtype: torch.dtype = F64, seed: int = 0
) -> dict[str, torch.Tensor | None]:
    """Keys with repeats (so the gate both fires and stays shut), queries, optional values."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=F64).to(dtype)

    out = {"k_sem": rnd(B, T, D), "k_epi": rnd(B, T, D), "q_sem": rnd(B, T, D), "q_epi": rnd(B, T, D)}
    if V is not None:
        out |= {"v_sem": rnd(B, T, V), "v_epi": rnd(B, T, V)}
    for name in ("k_sem", "k_epi", "v_sem", "v_epi"):  # a filler block: the same pair again and again
        if name in out:
            out[name][:, 10:30] = out[name][:, 10:11]
    return out


def check_same(a: DrexMemoryOut, b: DrexMemoryOut, tol: float) -> None:
    assert torch.equal(a.fire, b.fire)
    for x, y in zip((a.readout, *a.state), (b.readout, *b.state), strict=True):
        assert (x - y).abs().max() <= tol * y.abs().max().clamp_min(1.0)


@pytest.mark.parametrize("gate", GATES)
@pytest.mark.parametrize("values", [None, 5], ids=["auto_assoc", "key_value"])
@pytest.mark.parametrize("recency", [False, True])
def test_vectorised_matches_naive(gate: str, values: int | None, recency: bool) -> None:
    inp = make(V=values)
    T = inp["k_sem"].shape[1]
    kw = dict(eta=0.3, thresh=0.6, gate=gate, epi_weight=recency_weight(T, seq_len=T + 1) if recency else None)
    ref = drex_memory(**inp, **kw, impl="naive")
    out = drex_memory(**inp, **kw, impl="vectorised")
    check_same(out, ref, 1e-12)
    assert 0 < ref.fire.float().mean() < 1 or gate == "none"


def test_branches_of_different_sizes() -> None:
    """The vectorised path pads the two branches to one size; that must stay exact."""
    gen = torch.Generator().manual_seed(7)
    B, T = 2, 30
    sizes = {"k_sem": 6, "k_epi": 4, "v_sem": 5, "v_epi": 3, "q_sem": 6, "q_epi": 4}
    inp = {name: torch.randn(B, T, d, generator=gen, dtype=F64) for name, d in sizes.items()}
    for name in ("k_sem", "k_epi", "v_sem", "v_epi"):
        inp[name][:, 5:20] = inp[name][:, 5:6]
    s0 = DrexMemoryState(torch.randn(B, 5, 6, dtype=F64), torch.randn(B, 3, 4, dtype=F64))
    kw = dict(eta=0.3, thresh=0.5, epi_weight=recency_weight(T, seq_len=T), initial_state=s0)
    ref = drex_memory(**inp, **kw, impl="naive")
    check_same(drex_memory(**inp, **kw, impl="vectorised"), ref, 1e-12)
    assert ref.readout.shape == (B, T, 8) and ref.state.epi.shape == (B, 3, 4)


def test_float32_matches_naive() -> None:
    inp = make(dtype=torch.float32, seed=3)
    ref = drex_memory(**inp, eta=0.2, thresh=0.5, impl="naive")
    check_same(drex_memory(**inp, eta=0.2, thresh=0.5, impl="vectorised"), ref, 1e-5)


def test_initial_state_and_segments() -> None:
    """Carrying the state (and the recency offset) across segments equals one pass."""
    inp = make(V=4, seed=1)
    T = inp["k_sem"].shape[1]
    w = recency_weight(T, seq_len=T)
    s0 = DrexMemoryState(torch.randn(3, 4, 6, dtype=F64), torch.randn(3, 4, 6, dtype=F64))
    one = drex_memory(**inp, eta=0.4, thresh=0.5, epi_weight=w, initial_state=s0, impl="vectorised")
    state, reads, fires = s0, [], []
    for a, b in ((0, 7), (7, 8), (8, T)):
        part = {name: x[:, a:b] for name, x in inp.items()}
        res = drex_memory(**part, eta=0.4, thresh=0.5, epi_weight=w[a:b], initial_state=state, impl="naive")
        state = res.state
        reads.append(res.readout)
        fires.append(res.fire)
    assert torch.equal(torch.cat(fires, 1), one.fire)
    assert torch.allclose(torch.cat(reads, 1), one.readout, atol=1e-12)
    assert all(torch.allclose(x, y, atol=1e-12) for x, y in zip(state, one.state, strict=True))
    zero = drex_memory(**inp, eta=0.4, thresh=0.5, epi_weight=w, impl="vectorised")
    assert not torch.allclose(zero.readout, one.readout)


def test_gradients_match_naive() -> None:
    inp = {name: x.requires_grad_() for name, x in make(B=2, T=15, V=4, seed=2).items()}
    s0 = [torch.randn(2, 4, 6, dtype=F64, requires_grad=True) for _ in range(2)]
    leaves = [*inp.values(), *s0]
    grads = []
    for impl in ("naive", "vectorised"):
        res = drex_memory(**inp, eta=0.5, thresh=0.5, initial_state=DrexMemoryState(*s0), impl=impl)
        loss = res.readout.pow(2).sum() + sum(m.pow(3).sum() for m in res.state)
        grads.append(torch.autograd.grad(loss, leaves))
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-10)
        assert torch.isfinite(a).all()


def test_gate_is_monotonic_in_threshold() -> None:
    # one step: for a fixed memory, raising θ can only close the gate
    inp = make(B=64, T=1, seed=4)
    s0 = DrexMemoryState(torch.randn(64, 6, 6, dtype=F64) * 0.3, torch.randn(64, 6, 6, dtype=F64) * 0.3)
    thetas = torch.linspace(0.0, 2.0, 21).tolist()
    for gate in ("or", "and"):
        fires = [drex_memory(**inp, eta=0.3, thresh=th, gate=gate, initial_state=s0).fire for th in thetas]
        assert all((lo >= hi).all() for lo, hi in itertools.pairwise(fires))
    # whole sequences with repeats: the write rate does not grow with θ
    inp = make(B=8, T=60, seed=5)
    rates = [drex_memory(**inp, eta=0.1, thresh=th).fire.float().mean().item() for th in thetas]
    assert all(a >= b for a, b in itertools.pairwise(rates)) and rates[0] == 1.0 and rates[-1] < rates[0]


@pytest.mark.parametrize("alpha, theta", [(0.95, 0.4), (alpha_for_length(32), 0.4), (0.95, 0.7)])
def test_repeated_key_fires_exactly_n_star_times(alpha: float, theta: float) -> None:
    """After n writes of one key the error is (1−η)^n ‖k‖, so it fires ⌈ln θ / ln α⌉ times
    (book/appendix/drex.md §4)."""
    k = torch.randn(1, 1, 8, dtype=F64).expand(1, 50, 8)
    res = drex_memory(k, k, eta=1 - alpha, thresh=theta)
    n_star = math.ceil(math.log(theta) / math.log(alpha))
    assert res.fire.sum().item() == n_star and res.fire[0, :n_star].all()
    if (alpha, theta) == (0.95, 0.4):
        assert n_star == 18  # the seed's filler count: wr(96) = 30/95, wr(32) = 30/31


def test_alpha_and_tau_helpers() -> None:
    assert alpha_for_length(96) == pytest.approx(0.95)
    assert alpha_for_length(32) == pytest.approx(0.857375)  # 0.95 ** 3
    assert alpha_for_length(16) == pytest.approx(0.7350918906)
    assert tau_over_L(0.95, 96) == pytest.approx(1 / 4.8)
    assert tau_over_L(alpha_for_length(32), 32) == pytest.approx(0.2192, abs=1e-4)
    assert recency_weight(3, seq_len=4, start=1).tolist() == [0.5, 0.75, 1.0]
    with pytest.raises(ValueError):
        alpha_for_length(0)


def test_dispatch() -> None:
    assert {"naive", "vectorised"} <= set(IMPLS)
    inp = make()
    auto = drex_memory(**inp, eta=0.3, thresh=0.5)
    check_same(auto, drex_memory(**inp, eta=0.3, thresh=0.5, impl="vectorised"), 0.0)
    no_q = drex_memory(inp["k_sem"], inp["k_epi"], eta=0.3, thresh=0.5)
    assert no_q.readout is None and torch.equal(no_q.fire, auto.fire)


def test_bad_arguments_raise_value_errors() -> None:
    inp = make(T=5)
    k = inp["k_sem"]
    with pytest.raises(ValueError, match=r"gate must be one of \('or', 'and', 'none'\)"):
        drex_memory(k, k, eta=0.1, thresh=0.5, gate="xor")
    with pytest.raises(ValueError, match=r"impl must be one of .*'vectorised'.*'triton'"):
        drex_memory(k, k, eta=0.1, thresh=0.5, impl="cuda")
    with pytest.raises(ValueError, match="eta"):
        drex_memory(k, k, eta=1.5, thresh=0.5)
    with pytest.raises(ValueError, match="thresh"):
        drex_memory(k, k, eta=0.5, thresh=-1.0)
    with pytest.raises(ValueError, match="k_epi has shape"):
        drex_memory(k, k[:, :3], eta=0.5, thresh=0.5)
    with pytest.raises(ValueError, match="both q_sem and q_epi"):
        drex_memory(k, k, q_sem=k, eta=0.5, thresh=0.5)
    with pytest.raises(ValueError, match=r"epi_weight must be a tensor of shape \[T\]"):
        drex_memory(k, k, eta=0.5, thresh=0.5, epi_weight=torch.ones(4))
    with pytest.raises(ValueError, match="initial_state.sem has shape"):
        drex_memory(k, k, eta=0.5, thresh=0.5, initial_state=DrexMemoryState(k[:, :2], k[:, :2]))
    with pytest.raises(ValueError, match="one dtype"):
        drex_memory(k, k.float(), eta=0.5, thresh=0.5)


@pytest.mark.skipif("triton" in IMPLS, reason="checks the error when triton cannot run here")
def test_triton_unavailable_names_the_fix() -> None:
    k = make(T=3)["k_sem"]
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        drex_memory(k, k, eta=0.1, thresh=0.5, impl="triton")
