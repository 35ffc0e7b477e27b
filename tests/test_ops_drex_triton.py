"""The Drex fused-recurrent Triton kernel against the torch reference.

Triton decides at decoration time whether a kernel is compiled or interpreted, so on a machine
without CUDA these tests re-run this file in a subprocess with TRITON_INTERPRET=1 set before
anything imports triton; in the parent process they show as skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

INNER = os.environ.get("TRITON_INTERPRET") == "1" or torch.cuda.is_available()
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
pytest.importorskip("triton")


@pytest.mark.skipif(INNER, reason="this process can run the kernel directly")
def test_kernel_in_interpreter_subprocess() -> None:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert " passed" in done.stdout


@pytest.mark.skipif(not INNER, reason="runs under TRITON_INTERPRET=1 (subprocess) or on CUDA")
@pytest.mark.parametrize("gate", ["or", "and", "none"])
@pytest.mark.parametrize("shape", [(2, 24, 8, None), (1, 17, 6, 5)], ids=["auto_assoc", "key_value_odd"])
def test_triton_matches_naive(gate: str, shape: tuple[int, int, int, int | None]) -> None:
    from memnb.ops.drex_memory import IMPLS, DrexMemoryState, drex_memory, recency_weight

    assert "triton" in IMPLS
    B, T, D, V = shape
    gen = torch.Generator().manual_seed(T)
    k_sem, k_epi = torch.randn(B, T, D, generator=gen), torch.randn(B, T, D, generator=gen)
    k_sem[:, 5:15], k_epi[:, 5:15] = k_sem[:, 5:6], k_epi[:, 5:6]
    q = {"q_sem": torch.randn(B, T, D, generator=gen), "q_epi": torch.randn(B, T, D, generator=gen)}
    vals = (
        {}
        if V is None
        else {"v_sem": torch.randn(B, T, V, generator=gen), "v_epi": torch.randn(B, T, V, generator=gen)}
    )
    Vs = D if V is None else V
    s0 = DrexMemoryState(torch.randn(B, Vs, D, generator=gen) * 0.1, torch.randn(B, Vs, D, generator=gen) * 0.1)
    kw = dict(eta=0.3, thresh=0.5, gate=gate, epi_weight=recency_weight(T, seq_len=T + 1), initial_state=s0)
    ref = drex_memory(k_sem, k_epi, **vals, **q, **kw, impl="naive")
    to = {name: x.to(DEVICE) for name, x in {"k_sem": k_sem, "k_epi": k_epi, **vals, **q}.items()}
    kw["initial_state"] = DrexMemoryState(*(m.to(DEVICE) for m in s0))
    kw["epi_weight"] = kw["epi_weight"].to(DEVICE)
    out = drex_memory(**to, **kw, impl="triton")
    assert torch.equal(out.fire.cpu(), ref.fire)
    assert (out.readout.cpu() - ref.readout).abs().max() < 1e-5
    for a, b in zip(out.state, ref.state, strict=True):
        assert (a.cpu() - b).abs().max() < 1e-5
    no_q = drex_memory(to["k_sem"], to["k_epi"], **{n: to[n] for n in vals}, **kw, impl="triton")
    assert no_q.readout is None and torch.equal(no_q.fire, out.fire)


@pytest.mark.skipif(not INNER, reason="runs under TRITON_INTERPRET=1 (subprocess) or on CUDA")
def test_triton_is_forward_only() -> None:
    from memnb.ops.drex_memory import drex_memory

    k = torch.randn(1, 4, 4, device=DEVICE, requires_grad=True)
    with pytest.raises(ValueError, match="forward-only"):
        drex_memory(k, k, eta=0.1, thresh=0.5, impl="triton")
    assert drex_memory(k, k, eta=0.1, thresh=0.5).fire.shape == (1, 4)  # auto → vectorised
