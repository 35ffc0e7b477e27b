"""Gated delta rule: every impl against the per-token reference, and the reference against fla's."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from memnb.ops.gated_delta_rule import IMPLS, gated_delta_rule
from memnb.ops.gated_delta_rule import chunked as chunked_mod
from memnb.ops.gated_delta_rule.chunked import chunked_gated_delta_rule, unit_lower_inverse
from memnb.ops.gated_delta_rule.naive import naive_gated_delta_rule

F64, F32 = torch.float64, torch.float32


def make(
    B: int = 2,
    T: int = 45,
    H: int = 3,
    K: int = 8,
    V: int = 12,
    dtype: torch.dtype = F64,
    decay: float = 1.0,
    seed: int = 0,
    state: bool = False,
) -> list[torch.Tensor | None]:
    """Inputs as a Gated DeltaNet layer makes them: unit keys, sigmoid beta, logsigmoid decay."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=F64)

    q, k, v = rnd(B, T, H, K), F.normalize(rnd(B, T, H, K), dim=-1), rnd(B, T, H, V)
    g = decay * F.logsigmoid(rnd(B, T, H) + 2.0)
    beta = torch.sigmoid(rnd(B, T, H))
    h0 = rnd(B, H, K, V) if state else None
    cast = [x.to(dtype) for x in (q, k, v, g, beta)]
    return cast + [None if h0 is None else h0.to(dtype)]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300)).item()


@pytest.mark.parametrize("T", [1, 15, 32, 45, 100])
@pytest.mark.parametrize("chunk", [16, 32, 64])
@pytest.mark.parametrize("state", [False, True])
def test_chunked_matches_naive_float64(T: int, chunk: int, state: bool) -> None:
    q, k, v, g, beta, h0 = make(T=T, state=state, seed=T + chunk)
    o_ref, s_ref = naive_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    o, s = chunked_gated_delta_rule(
        q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True, chunk_size=chunk
    )
    assert o.shape == o_ref.shape == v.shape and s.shape == (2, 3, 8, 12)
    assert rel(o, o_ref) < 1e-10 and rel(s, s_ref) < 1e-10


@pytest.mark.parametrize("limit", [0.0, math.inf], ids=["exp_differences", "factored"])
@pytest.mark.parametrize("decay", [0.05, 8.0])
def test_both_decay_paths_match_naive(monkeypatch: pytest.MonkeyPatch, limit: float, decay: float) -> None:
    """The factored path (Γ folded into the operands) and the exact path (exp(G_t − G_i))."""
    monkeypatch.setattr(chunked_mod, "_FACTOR_LIMIT", {F32: limit, F64: limit})
    q, k, v, g, beta, h0 = make(T=70, decay=decay, state=True)
    o_ref, s_ref = naive_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    o, s = chunked_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    assert rel(o, o_ref) < 1e-10 and rel(s, s_ref) < 1e-10


def test_mixed_factored_and_exact_groups() -> None:
    """Mild decay in most chunks, one stretch strong enough to force exact groups, in one call."""
    q, k, v, g, beta, h0 = make(T=300, decay=0.05, state=True)
    g[:, 100:170] = -30.0 * torch.rand(2, 70, 3, dtype=F64)
    groups = chunked_mod._groups(F.pad(g, (0, 0, 0, 20)).view(2, 10, 32, 3).permute(1, 0, 3, 2).cumsum(-1), 4, 300.0)
    assert {f for _, _, f in groups} == {True, False}
    o_ref, s_ref = naive_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    o, s = chunked_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    assert rel(o, o_ref) < 1e-10 and rel(s, s_ref) < 1e-10


@pytest.mark.parametrize("decay", [0.1, 1.0, 10.0])
def test_float32_close_to_float64_reference(decay: float) -> None:
    args64 = make(B=2, T=300, H=2, K=32, V=32, decay=decay, state=True)
    o_ref, s_ref = naive_gated_delta_rule(*args64[:5], scale=32**-0.5, initial_state=args64[5], output_final_state=True)
    args32 = [x.float() for x in args64]
    o, s = gated_delta_rule(*args32[:5], initial_state=args32[5], output_final_state=True, impl="chunked")
    assert o.dtype == F32 and s.dtype == F32
    assert rel(o, o_ref) < 1e-4 and rel(s, s_ref) < 1e-4


def test_gradients_match_naive() -> None:
    inputs = [x.requires_grad_() for x in make(T=37, state=True)]
    weights = torch.randn(2, 37, 3, 12, dtype=F64)
    grads = []
    for fn in (naive_gated_delta_rule, chunked_gated_delta_rule):
        o, s = fn(*inputs[:5], scale=0.3, initial_state=inputs[5], output_final_state=True)
        loss = (o * weights).sum() + s.pow(2).sum()
        grads.append(torch.autograd.grad(loss, inputs))
    for name, a, b in zip(("q", "k", "v", "g", "beta", "initial_state"), *grads, strict=True):
        assert rel(a, b) < 1e-9, name


def test_chunked_gradcheck() -> None:
    inputs = [x.requires_grad_() for x in make(B=1, T=11, H=1, K=3, V=2, state=True)]

    def fn(*xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return chunked_gated_delta_rule(*xs[:5], scale=0.7, initial_state=xs[5], output_final_state=True, chunk_size=4)

    assert torch.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("impl", ["naive", "chunked"])
def test_state_carried_across_segments_equals_one_pass(impl: str) -> None:
    q, k, v, g, beta, h0 = make(T=77, state=True)
    o_all, s_all = gated_delta_rule(q, k, v, g, beta, initial_state=h0, output_final_state=True, impl=impl)
    s, pieces = h0, []
    for a, b in ((0, 20), (20, 21), (21, 77)):
        o, s = gated_delta_rule(
            q[:, a:b],
            k[:, a:b],
            v[:, a:b],
            g[:, a:b],
            beta[:, a:b],
            initial_state=s,
            output_final_state=True,
            impl=impl,
        )
        pieces.append(o)
    assert rel(torch.cat(pieces, 1), o_all) < 1e-10 and rel(s, s_all) < 1e-10


def test_initial_state_is_honoured() -> None:
    q, k, v, g, beta, h0 = make(T=5, state=True)
    o0, _ = gated_delta_rule(q, k, v, g, beta, impl="chunked")
    o1, _ = gated_delta_rule(q, k, v, g, beta, initial_state=h0, impl="chunked")
    o2, _ = gated_delta_rule(q, k, v, g, beta, initial_state=torch.zeros_like(h0), impl="chunked")
    assert not torch.allclose(o0, o1) and rel(o0, o2) < 1e-12  # a zero state vs none: two code paths


def test_naive_matches_fla_reference() -> None:
    """fla-core's own per-token and chunk references are independent implementations (float32)."""
    fla_naive = pytest.importorskip("fla.ops.gated_delta_rule.naive")
    q, k, v, g, beta, h0 = make(T=70, state=True)
    o, s = naive_gated_delta_rule(q, k, v, g, beta, scale=0.3, initial_state=h0, output_final_state=True)
    o_fla, s_fla = fla_naive.naive_recurrent_gated_delta_rule(
        q=q, k=k, v=v, beta=beta, g=g, scale=0.3, initial_state=h0, output_final_state=True
    )
    assert rel(o_fla, o) < 1e-5 and rel(s_fla, s) < 1e-5
    o_fla, s_fla = fla_naive.naive_chunk_gated_delta_rule(
        q=q, k=k, v=v, g=g, beta=beta, chunk_size=16, scale=0.3, initial_state=h0, output_final_state=True
    )
    assert rel(o_fla, o) < 1e-5 and rel(s_fla, s) < 1e-5


@pytest.mark.parametrize("C", [1, 2, 8, 16, 32, 64, 128])
def test_unit_lower_inverse(C: int) -> None:
    A = torch.randn(5, C, C, dtype=F64).tril(-1) * 0.3
    eye = torch.eye(C, dtype=F64)
    assert (unit_lower_inverse(A) @ (eye + A) - eye).abs().max() < 1e-10


def test_dispatch_and_dtypes() -> None:
    assert {"naive", "chunked"} <= set(IMPLS)
    q, k, v, g, beta, _ = make(T=20, dtype=torch.bfloat16)
    o, s = gated_delta_rule(q, k, v, g, beta, output_final_state=True)  # auto: chunked on CPU
    o_ref, s_ref = gated_delta_rule(q, k, v, g, beta, output_final_state=True, impl="naive")
    assert o.dtype == torch.bfloat16 and s.dtype == F32
    assert rel(s, s_ref) < 1e-5 and rel(o, o_ref) < 1e-2
    o_none, _ = gated_delta_rule(*make(T=9)[:5], impl="chunked")
    o_scale, _ = gated_delta_rule(*make(T=9)[:5], impl="chunked", scale=8**-0.5)
    assert torch.equal(o_none, o_scale)  # default scale K**-0.5


def test_exact_causal_output_ignores_later_inputs_bit_for_bit() -> None:
    """A chunk's decay path depends on all its tokens; the default may round an early output
    differently once a later token's decay changes, ``exact_causal`` may not, and both stay
    within float32 rounding of the reference."""
    q, k, v, g, beta, _ = make(T=40, dtype=F32, decay=1.0)
    g = g * 0 - 0.8  # accumulated |log decay| over chunk 0 (32 tokens): 25.6, under the limit 30
    t, edit = 19, [x.clone() for x in (q, k, v, g, beta)]
    edit[3][:, t + 1 :] = -2.0  # later decay pushes chunk 0 past the limit: the default path changes
    o_ref, _ = naive_gated_delta_rule(q, k, v, g, beta, scale=0.3)
    for exact in (False, True):
        o, _ = gated_delta_rule(q, k, v, g, beta, scale=0.3, impl="chunked", exact_causal=exact)
        o_edit, _ = gated_delta_rule(*edit, scale=0.3, impl="chunked", exact_causal=exact)
        assert rel(o, o_ref) < 1e-5
        assert torch.equal(o[:, : t + 1], o_edit[:, : t + 1]) == exact
    assert torch.equal(
        chunked_gated_delta_rule(q, k, v, g, beta, scale=0.3, factor_limit=0.0)[0],
        gated_delta_rule(q, k, v, g, beta, scale=0.3, impl="chunked", exact_causal=True)[0],
    )
    with pytest.raises(ValueError, match="factor_limit"):
        chunked_gated_delta_rule(q, k, v, g, beta, scale=0.3, factor_limit=-1.0)


def test_bad_arguments_raise_value_errors() -> None:
    q, k, v, g, beta, h0 = make(T=6, state=True)
    with pytest.raises(ValueError, match=r"impl must be one of .*'naive'.*'chunked'"):
        gated_delta_rule(q, k, v, g, beta, impl="cuda")
    with pytest.raises(ValueError, match=r"beta has shape"):
        gated_delta_rule(q, k, v, g, beta[:, :3])
    with pytest.raises(ValueError, match=r"q must be \[B, T, H, K\]"):
        gated_delta_rule(q[0], k, v, g, beta)
    with pytest.raises(ValueError, match="initial_state has shape"):
        gated_delta_rule(q, k, v, g, beta, initial_state=h0[:, :, :2])
    with pytest.raises(ValueError, match="one dtype"):
        gated_delta_rule(q, k.float(), v, g, beta)
    with pytest.raises(ValueError, match="dtype in"):
        gated_delta_rule(q, k, v, g.long(), beta)
    with pytest.raises(ValueError, match="scale"):
        gated_delta_rule(q, k, v, g, beta, scale=-1.0)
    with pytest.raises(ValueError, match="power of two"):
        chunked_gated_delta_rule(q, k, v, g, beta, scale=1.0, chunk_size=48)
    with pytest.raises(ValueError, match="T >= 1"):
        gated_delta_rule(q[:, :0], k[:, :0], v[:, :0], g[:, :0], beta[:, :0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-side error of impl='fla'")
def test_fla_impl_without_cuda_names_the_fix() -> None:
    with pytest.raises(RuntimeError, match="impl='chunked'"):
        gated_delta_rule(*make(T=4)[:5], impl="fla")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fla's chunk kernels need a CUDA device")
@pytest.mark.parametrize("dtype, tol", [(F32, 1e-3), (torch.bfloat16, 2e-2)])
def test_fla_matches_chunked_on_cuda(dtype: torch.dtype, tol: float) -> None:
    pytest.importorskip("fla")
    args = make(B=2, T=300, H=4, K=64, V=64, state=True)
    o_ref, s_ref = gated_delta_rule(*args[:5], initial_state=args[5], output_final_state=True, impl="chunked")
    cuda = [x.cuda() for x in args]
    cuda = [x.to(dtype) for x in cuda[:5]] + [cuda[5].float()]
    o, s = gated_delta_rule(*cuda[:5], initial_state=cuda[5], output_final_state=True, impl="fla")
    assert rel(o.cpu(), o_ref) < tol and rel(s.cpu(), s_ref) < tol
    o_auto, _ = gated_delta_rule(*cuda[:5], initial_state=cuda[5])
    assert rel(o_auto.cpu(), o.cpu()) < 1e-6
