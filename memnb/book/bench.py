"""Throughput and peak memory of the memory ops: ``python -m memnb bench [--quick]``.

For every op and impl available on the device, at B=4 sequences, H=4 heads, head size D=64,
float32, forward only (``torch.inference_mode``), over T in {512, 2048, 8192} ({512, 2048} with
``--quick``):

- ``gated_delta_rule/chunked`` (the CPU fast path), ``/naive`` (the per-token loop batched over
  B·H: the "efficient loop" baseline), ``/fla`` (CUDA);
- ``drex_memory/vectorised`` and ``/triton`` (CUDA): the state-gated Drex write loop on B·H rows,
  two D×D memories per row, with per-position readouts;
- ``attention/sdpa``: full causal softmax attention, for comparison.

Each case runs 2 warmup calls, then 9 timed calls (1 and 5 with ``--quick``); the reported time
is the median. The 1-minute load average before and after is recorded: timings on a shared
machine are only as good as that.
tokens/s = B·T / median. Peak memory of one call: on CUDA, ``torch.cuda.max_memory_allocated``
minus what was allocated before it; on CPU, the growth of the peak resident set (``VmHWM``,
reset through ``/proc/self/clear_refs``) over the resident set before the call, in a fresh
process whose malloc unmaps every freed block of 64 KiB or more, so the figure tracks live
memory (inputs excluded) rather than allocator history (Linux only, else null).
The cost slope is the least-squares slope of log(time) against log(T) per case (≈1 linear,
≈2 quadratic). CPU runs use ``memnb.seeding.CPU_THREADS`` (2) threads. Results go to
``results/bench/<device>.json`` (device ``cpu-<threads>core`` or the CUDA device name), written
atomically, and a table is printed. A run with ``--quick`` or any of ``--lengths``/``--repeats``
writes ``results/bench/<device>-quick.json`` instead (git-ignored): only the full run may replace
the committed numbers.

Reference comparison (``REFERENCE_T`` = 4096 tokens, 1024 with ``--quick``; B, H, D as above, same
inputs, forward): ``memnb.ops.gated_delta_rule`` chunked and its per-token loop against
flash-linear-attention's own CPU references, ``naive_chunk_gated_delta_rule`` (chunks of 64) and
``naive_recurrent_gated_delta_rule`` from ``fla.ops.gated_delta_rule.naive`` (fla-core, pinned),
each named with its module in the JSON, with the largest relative output difference to memnb's
chunked form, and GFLOP/s against a float32 sgemm (1024³) measured in the same run. FLOPs per
token: 6·H·D·V for every impl (the recurrence's state read, rank-1 write and output read: the
useful work), and for the chunked forms also what they execute, 10·C·H·D + 6·H·D² + (2/3)·H·C²
for chunks of C (five C×C×D matmuls, the state pass, the triangular inverse).

``--train`` runs the training-throughput bench instead (``memnb.book.bench_train``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

import memnb
from memnb.cache import ROOT, atomic_write_json
from memnb.ops.drex_memory import IMPLS as DREX_IMPLS
from memnb.ops.drex_memory import drex_memory
from memnb.ops.gated_delta_rule import IMPLS as GDR_IMPLS
from memnb.ops.gated_delta_rule import gated_delta_rule
from memnb.seeding import CPU_THREADS

B, H, D = 4, 4, 64
LENGTHS, QUICK_LENGTHS = (512, 2048, 8192), (512, 2048)
WARMUP, REPEATS = 2, 9
QUICK_WARMUP, QUICK_REPEATS = 1, 5
LOOP_BASELINE, FAST = "gated_delta_rule/naive", "gated_delta_rule/chunked"
REFERENCE_T, QUICK_REFERENCE_T = 4096, 1024
SGEMM_N = 1024


def _gdr_case(impl: str) -> Callable[[int, torch.device], Callable[[], object]]:
    def make(T: int, device: torch.device) -> Callable[[], object]:
        q, k, v = (torch.randn(B, T, H, D, device=device) for _ in range(3))
        k = F.normalize(k, dim=-1)
        g = F.logsigmoid(torch.randn(B, T, H, device=device) + 3.0)  # mean decay ≈ exp(-0.07)
        beta = torch.sigmoid(torch.randn(B, T, H, device=device))
        return lambda: gated_delta_rule(q, k, v, g, beta, impl=impl)

    return make


def _drex_case(impl: str) -> Callable[[int, torch.device], Callable[[], object]]:
    def make(T: int, device: torch.device) -> Callable[[], object]:
        k_sem, k_epi, q_sem, q_epi = (torch.randn(B * H, T, D, device=device) for _ in range(4))
        return lambda: drex_memory(k_sem, k_epi, q_sem=q_sem, q_epi=q_epi, eta=0.05, thresh=0.7, impl=impl)

    return make


def _sdpa(T: int, device: torch.device) -> Callable[[], object]:
    q, k, v = (torch.randn(B, H, T, D, device=device) for _ in range(3))
    return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)


def cases(device: torch.device) -> list[tuple[str, Callable | None, str | None]]:
    """``(name, make(T, device) -> call, skip_reason)`` for every op/impl, available or not."""
    out = []
    for impl in ("chunked", "naive", "fla"):
        ok = impl in GDR_IMPLS and (impl != "fla" or device.type == "cuda")
        why = None if ok else "needs fla-core and a CUDA device"
        out.append((f"gated_delta_rule/{impl}", _gdr_case(impl) if ok else None, why))
    for impl in ("vectorised", "triton"):
        ok = impl in DREX_IMPLS and (impl != "triton" or device.type == "cuda")
        why = None if ok else "needs triton and a CUDA device (CPU interpreter is for tests only)"
        out.append((f"drex_memory/{impl}", _drex_case(impl) if ok else None, why))
    out.append(("drex_memory/naive", None, "reference only: a Python loop per row and token"))
    out.append(("attention/sdpa", _sdpa, None))
    return out


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")
    return f"cpu-{CPU_THREADS}core"


def _status_kb() -> dict[str, int]:
    with open("/proc/self/status") as f:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}


def cuda_peak_mb(call: Callable[[], object], device: torch.device) -> float:
    """Run ``call`` once; the most memory it held above what was allocated before it."""
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    call()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - before) / 2**20


def cpu_peak_mb(name: str, T: int) -> float | None:
    """Peak resident-set growth of one call of case ``name`` at length T, measured in a fresh
    process whose malloc returns every block of 64 KiB or more to the OS when freed
    (``MALLOC_MMAP_THRESHOLD_``), so the peak tracks live memory rather than this process's
    heap history. Linux only; None elsewhere or on failure."""
    code = f"import memnb.book.bench as b; print(b._child_peak_mb({name!r}, {T}))"
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    try:
        cmd = [sys.executable, "-c", code]
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        return float(done.stdout.split()[-1]) if done.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def _child_peak_mb(name: str, T: int) -> float:
    torch.set_num_threads(CPU_THREADS)
    device = torch.device("cpu")
    make = dict((n, m) for n, m, _ in cases(device))[name]
    with torch.inference_mode():
        call = make(T, device)
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
        before = _status_kb()["VmRSS"]
        call()
        return (_status_kb()["VmHWM"] - before) / 1024


def _time(call: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def slope(lengths: list[int], times: list[float]) -> float | None:
    """Least-squares slope of log(time) on log(T)."""
    if len(lengths) < 2:
        return None
    xs, ys = [math.log(t) for t in lengths], [math.log(s) for s in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"memnb": memnb.__version__, "torch": torch.__version__}
    for dist in ("triton", "fla-core"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    try:
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
        out["commit"] = git.stdout.strip() or None
    except OSError:
        out["commit"] = None
    return out


def measure(
    lengths: list[int] | tuple[int, ...],
    device: torch.device,
    *,
    warmup: int = WARMUP,
    repeats: int = REPEATS,
    memory: bool = True,
    verbose: bool = True,
) -> tuple[list[dict], dict[str, dict[int, float]]]:
    """Time every case at every length: ``(rows, {case: {T: median seconds}})``; rows carry
    tokens/s and peak memory (MB, None if not measured) or the reason a case was skipped."""
    rows, series = [], {}
    torch.manual_seed(0)
    for name, make, why in cases(device):
        if make is None:
            rows.append({"case": name, "status": "skipped", "reason": why})
            if verbose:
                print(f"{name:28s} skipped: {why}", flush=True)
            continue
        for T in lengths:
            with torch.inference_mode():
                call = make(T, device)
                peak = None
                if memory:
                    peak = cuda_peak_mb(call, device) if device.type == "cuda" else cpu_peak_mb(name, T)
                for _ in range(warmup):
                    call()
                times = [_time(call, device) for _ in range(repeats)]
            med = statistics.median(times)
            series.setdefault(name, {})[T] = med
            rows.append(
                {"case": name, "T": T, "status": "ok", "median_s": med, "times_s": times,
                 "tokens_per_s": B * T / med, "peak_mb": peak}
            )  # fmt: skip
            if verbose:
                mem = "n/a" if peak is None else f"{peak:8.1f}"
                print(f"{name:28s} T={T:5d} {med * 1e3:10.2f} ms {B * T / med:12.0f} tok/s {mem} MB", flush=True)
    return rows, series


def sgemm_gflops(threads: int, n: int = SGEMM_N, repeats: int = 7) -> float:
    """float32 ``torch.mm`` of two n × n matrices at ``threads`` threads: 2n³ / median time, GFLOP/s."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for _ in range(2):
            torch.mm(a, b)
        times = [_time(lambda: torch.mm(a, b), torch.device("cpu")) for _ in range(repeats)]
    finally:
        torch.set_num_threads(before)
    return 2 * n**3 / statistics.median(times) / 1e9


def _chunk_flops(C: int) -> float:
    """Executed FLOPs per token of a chunked (WY/UT) gated delta rule with chunks of C, all heads."""
    return H * (10 * C * D + 6 * D * D + 2 * C * C / 3)


def reference_comparison(T: int, *, repeats: int = REPEATS, verbose: bool = True) -> dict:
    """memnb's chunked gated delta rule vs its per-token loop and fla-core's CPU references at
    length T on the same inputs (float32, forward): times, agreement, GFLOP/s vs sgemm."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, T, H, D) for _ in range(3))
    k = F.normalize(k, dim=-1)
    g = F.logsigmoid(torch.randn(B, T, H) + 3.0)
    beta = torch.sigmoid(torch.randn(B, T, H))
    scale = D**-0.5
    impls: dict[str, tuple[Callable[[], torch.Tensor], float | None, str]] = {
        "memnb/chunked": (
            lambda: gated_delta_rule(q, k, v, g, beta, scale=scale, impl="chunked")[0],
            _chunk_flops(32),
            "memnb.ops.gated_delta_rule.gated_delta_rule(impl='chunked'): WY/UT chunks of 32, grouped state pass",
        ),
        "memnb/naive": (
            lambda: gated_delta_rule(q, k, v, g, beta, scale=scale, impl="naive")[0],
            None,
            "memnb.ops.gated_delta_rule.gated_delta_rule(impl='naive'): per-token loop batched over B*H",
        ),
    }
    try:
        from fla.ops.gated_delta_rule import naive as fla_naive

        impls["fla/naive_chunk"] = (
            lambda: fla_naive.naive_chunk_gated_delta_rule(q=q, k=k, v=v, g=g, beta=beta, chunk_size=64, scale=scale)[
                0
            ],
            _chunk_flops(64),
            "fla.ops.gated_delta_rule.naive.naive_chunk_gated_delta_rule (fla-core): its CPU chunk reference, "
            "chunks of 64",
        )
        impls["fla/naive_recurrent"] = (
            lambda: fla_naive.naive_recurrent_gated_delta_rule(q=q, k=k, v=v, beta=beta, g=g, scale=scale)[0],
            None,
            "fla.ops.gated_delta_rule.naive.naive_recurrent_gated_delta_rule (fla-core): its per-token reference",
        )
        fla_note = None
    except ImportError as e:
        fla_note = f"fla-core not importable ({e}); fla baselines skipped"
    peak = sgemm_gflops(CPU_THREADS)
    useful = 6 * H * D * D  # per token: S^T k, the rank-1 write, S^T q (2 FLOPs per multiply-add)
    before = torch.get_num_threads()
    torch.set_num_threads(CPU_THREADS)
    rows, outputs = {}, {}
    try:
        with torch.inference_mode():
            for name, (call, executed, what) in impls.items():
                outputs[name] = call()
                times = [_time(call, torch.device("cpu")) for _ in range(repeats)]
                med = statistics.median(times)
                rate = B * T / med
                rows[name] = {
                    "baseline": what,
                    "median_s": med,
                    "times_s": times,
                    "tokens_per_s": rate,
                    "useful_gflops": useful * rate / 1e9,
                    "useful_frac_of_peak": useful * rate / 1e9 / peak,
                    "executed_gflops": None if executed is None else executed * rate / 1e9,
                    "executed_frac_of_peak": None if executed is None else executed * rate / 1e9 / peak,
                }
    finally:
        torch.set_num_threads(before)
    ref = outputs["memnb/chunked"].float()
    for name, out in outputs.items():
        rows[name]["max_rel_diff_vs_memnb_chunked"] = ((out.float() - ref).abs().max() / ref.abs().max()).item()
        rows[name]["memnb_chunked_speedup"] = rows[name]["median_s"] / rows["memnb/chunked"]["median_s"]
    if verbose:
        print(f"\ngated delta rule at T={T}, B={B}, H={H}, D={D} (sgemm {peak:.1f} GFLOP/s):")
        for name, r in rows.items():
            print(
                f"  {name:22s} {r['median_s'] * 1e3:9.1f} ms {r['useful_gflops']:7.2f} useful GFLOP/s "
                f"({r['useful_frac_of_peak']:.1%} of sgemm); time {r['memnb_chunked_speedup']:.1f}x memnb chunked's; "
                f"max rel diff {r['max_rel_diff_vs_memnb_chunked']:.1e}",
                flush=True,
            )
    return {
        "T": T, "B": B, "H": H, "D": D, "dtype": "float32", "mode": "forward, inference_mode",
        "threads": CPU_THREADS, "repeats": repeats, "sgemm_gflops": peak,
        "useful_flops_per_token": useful, "note": fla_note, "impls": rows,
    }  # fmt: skip


def main(argv: list[str]) -> int:
    if "--train" in argv:
        from memnb.book import bench_train

        return bench_train.main([a for a in argv if a != "--train"])
    ap = argparse.ArgumentParser(prog="python -m memnb bench", description=__doc__.split("\n")[0])
    ap.add_argument("--train", action="store_true", help="training throughput of every zoo memory (bench_train)")
    ap.add_argument("--quick", action="store_true", help="T in {512, 2048} and fewer repeats")
    ap.add_argument("--lengths", type=int, nargs="+", help="sequence lengths (overrides --quick's)")
    ap.add_argument("--repeats", type=int, help="timed calls per case")
    ap.add_argument("--no-memory", action="store_true", help="skip peak memory (on CPU: one process per case)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench", help="output folder")
    ap.add_argument("--no-reference", action="store_true", help="skip the comparison with fla-core's references")
    args = ap.parse_args(argv)
    full = not (args.quick or args.lengths or args.repeats)
    lengths = args.lengths or (QUICK_LENGTHS if args.quick else LENGTHS)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    warmup = QUICK_WARMUP if args.quick else WARMUP
    load_before = os.getloadavg()[0]
    device = torch.device(args.device)
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(CPU_THREADS)
    t_start = time.perf_counter()
    try:
        rows, series = measure(lengths, device, warmup=warmup, repeats=repeats, memory=not args.no_memory)
    finally:
        torch.set_num_threads(threads)
    comparison = None
    if device.type == "cpu" and not args.no_reference:
        comparison = reference_comparison(REFERENCE_T if full else QUICK_REFERENCE_T, repeats=repeats)
    slopes = {name: slope(list(s), list(s.values())) for name, s in series.items()}
    speedup = {
        str(T): series[LOOP_BASELINE][T] / series[FAST][T]
        for T in lengths
        if T in series.get(LOOP_BASELINE, {}) and T in series.get(FAST, {})
    }
    label = device_label(device)
    report = {
        "schema": 1,
        "device": label,
        "env": {
            **_versions(),
            "device": str(device),
            "threads": CPU_THREADS if device.type == "cpu" else None,
            "loadavg_1min_before_after": [load_before, os.getloadavg()[0]],
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
        },
        "config": {"B": B, "H": H, "D": D, "dtype": "float32", "mode": "forward, inference_mode",
                   "lengths": list(lengths), "warmup": warmup, "repeats": repeats, "statistic": "median"},
        "results": rows,
        "slopes": slopes,
        "speedup_chunked_vs_loop": speedup,
        "reference_comparison": comparison,
        "mode": "full" if full else "quick",
        "wall_s": time.perf_counter() - t_start,
    }  # fmt: skip
    path = args.out / f"{label}{'' if full else '-quick'}.json"
    atomic_write_json(path, report)
    print("\ncost slope d log(time) / d log(T):")
    for name, s in slopes.items():
        print(f"  {name:28s} {'n/a' if s is None else f'{s:.2f}'}")
    for T, x in speedup.items():
        print(f"chunked vs per-token loop at T={T}: {x:.1f}x")
    print(f"wrote {path}")
    return 0
