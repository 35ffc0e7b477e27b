"""Training throughput of every memory in the zoo: ``python -m memnb bench --train [--quick]``.

For every entry of ``memnb.layers.registry.ZOO``: a ``Decoder`` (d = 64, 2 layers, 4 heads,
MLP ratio 4, vocabulary 256, the zoo's default settings, segment length 64) trained by
``memnb.train.train`` (AdamW, clipping, the chapters' loop) on batches of 8 random-token
sequences of T ∈ {256, 1024} tokens, float32, at 1 and 2 threads (``torch.set_num_threads``),
with deterministic algorithms on, as ``memnb.seeding.seed_everything`` sets them for the
chapters. Each case: one warm-up ``train`` call, then ``repeats`` timed calls of ``steps``
optimiser steps each; tokens/s = steps · 8 · T / median time of a call.

Beside each rate:

- ``flops_per_token``: an analytic training FLOP count, 3 × the forward count (backward ≈ 2 ×
  forward), where the forward count per token is Σ_layers (mixer + MLP) + LM head, matmuls
  only (2 FLOPs per multiply-add; softmax, norms and elementwise work not counted), and the
  useful work only (a causal query counts the keys it may see, not the masked ones a kernel may
  compute anyway). The mixer's formula is in the docstring of its function in ``MIXER_FLOPS``.
- ``gflops`` = flops_per_token · tokens/s and ``frac_of_peak``: that over the float32 sgemm
  rate measured in the same run (``torch.mm`` of two 1024 × 1024 matrices, same thread count).
- ``vs_attention``: tokens/s over full attention's at the same T and thread count. At the
  chapters' setting (T = 256, 1 thread) every memory should reach ``THRESHOLD`` = 0.6; one
  below it carries a ``reason`` (``REASONS``: its FLOPs, why it is slower, what was tried).

Seed ensembles (``memnb.train.ensemble``): S = 5 attention decoders (the config above, T = 256)
trained together in one process with 2 threads, against the usual way on the same two cores:
two one-thread processes side by side, each training its members one after the other with
``train`` (members 0, 2, 4 and 1, 3). Both sides start timing after their warm-up, together
(a barrier). Two ensemble forms use both cores: one process at 2 threads training all S
members together, and two one-thread processes each training its members (3 and 2) as an
ensemble; ``ensemble_speedup`` = the faster one's tokens/s / the usual way's (which one is in
``ensemble.best_on_two_cores``; every form's ratio in ``ensemble.speedup_vs_usual``, with the
ensemble at 1 thread for reference).

``--quick`` (CI) runs T = 64, fewer steps, one repeat, and writes ``<device>-train-quick.json``
(git-ignored), never the committed ``<device>-train.json`` of the full run.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from memnb.book.bench import _versions, device_label, sgemm_gflops
from memnb.cache import ROOT, atomic_write_json
from memnb.layers import registry
from memnb.layers.flops import MIXER_FLOPS, _segment_keys, _window_keys  # noqa: F401 (the tests read them here)
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.train import TrainConfig, train
from memnb.train.ensemble import train_ensemble

D_MODEL, N_LAYERS, N_HEADS, BATCH, VOCAB, SEGMENT = 64, 2, 4, 8, 256, 64
LENGTHS, QUICK_LENGTHS = (256, 1024), (64,)
THREADS = (1, 2)
STEPS, REPEATS = 4, 5
QUICK_STEPS, QUICK_REPEATS = 2, 1
REFERENCE = {"T": 256, "threads": 1}  # the chapters' setting, where THRESHOLD applies
THRESHOLD = 0.6
ENSEMBLE_S, ENSEMBLE_T, ENSEMBLE_MIXER = 5, 256, "attention"


# FLOP counts per mixer live in memnb.layers.flops (a core module: chapter 12 counts with them too).
def train_flops_per_token(name: str, model: Decoder, T: int) -> float | None:
    """3 × forward FLOPs per token of ``model``: Σ_layers (mixer + MLP 4·r·d²) + LM head 2dV.
    None if the mixer has no formula in ``MIXER_FLOPS``."""
    if name not in MIXER_FLOPS:
        return None
    cfg = model.cfg
    d = cfg.d_model
    layers = sum(MIXER_FLOPS[name](b.mixer, d, T) + 4 * cfg.mlp_ratio * d * d for b in model.blocks)
    return 3 * (layers + 2 * d * cfg.vocab_size)


# ----------------------------------------------------------------------------- reasons
# For a memory below THRESHOLD × attention at the reference setting: why, and what was tried.
REASONS = {
    "drex_l4": (
        "Sequential by definition: the write gate of token t reads the memory written by tokens < t "
        "(fire_t = [||k - M k^|| >= theta ||k||], memnb/ops/drex_memory), so no chunked or parallel form "
        "is exact. The CPU impl ('vectorised') batches over sequences and both memories and loops over "
        "the T tokens of each layer in Python; its FLOPs are few (7d^2 + 2d per token per layer), the "
        "time is the loop: one training step at B=8, T=256 makes ~1,500 tiny bmm and ~500 addcmul calls "
        "and ~15,000 indexing ops (torch profiler, 1 thread). Tried: nothing new here; the Triton kernel "
        "(memnb/ops/drex_memory, CUDA only, forward only) is the fast path on a GPU."
    ),
    "titans": (
        "Already the paper's chunk-parallel form (one inner gradient step per chunk of 16 tokens, batched "
        "over sequences with torch.func.vmap + grad): T/16 sequential inner steps per layer, each a "
        "per-sample MLP forward and backward, and the outer backward is second order through them. "
        "FLOPs 8d^2 + 16dh per token per layer (h = 2d); the time is per-op overhead, not FLOPs: one "
        "training step at B=8, T=256 makes ~650 bmm and ~260 mm calls of ~60 us (torch profiler, 1 thread). "
        "Not tried: a hand-written inner gradient (fewer, larger ops) or larger chunks (a different model)."
    ),
    "mamba2": (
        "Already Mamba-2's exact chunked SSD form (memnb/ops/ssd, 'chunked', linear in T; the per-token "
        "scan 'naive' is ~2x slower at T=256-1024), run as a Python loop over chunks of 64; about a "
        "third of its time is elementwise work on the L x L decay matrices of segsum "
        "(masked_fill, cumsum, exp: torch profiler, 1 thread), which the FLOP count (matmuls only) omits."
    ),
    "exp_kernel": (
        "Runs through SDPA's fused causal kernel with the key-norm bias in one extra head dimension "
        "(impl='augmented'); the previous form (a float attn_mask that needs a gradient) forced SDPA's "
        "math path. Below the line only if the extra dimension or the concatenations cost more here."
    ),
    "infini_attention": (
        "Python loop over segments of 64 (local SDPA per segment plus the compressive memory read and "
        "delta write between segments); exact, linear in T."
    ),
    "memory_tokens": (
        "Python loop over segments of 64: each segment's attention waits for the memory the previous "
        "segment wrote (RMT recurrence); exact, linear in T."
    ),
}

ENSEMBLE_TRIED = [
    "torch.func.vmap over functional_call of one module, parameters stacked in one flat [S, P] buffer "
    "(memnb.train.ensemble), per-member clipping and AdamW on that buffer (a handful of ops per step)",
    "a vmap batching rule for aten::_scaled_dot_product_flash_attention_for_cpu (PyTorch has none; without "
    "it vmap ran the fused kernel once per member and the ensemble was ~3x slower than solo runs)",
    "thread settings: the ensemble at 2 threads in one process (ensemble_speedup) and at 1 thread, and "
    "two one-thread processes each running a sub-ensemble (members 0, 2, 4 and 1, 3): 'variants'",
]


# ----------------------------------------------------------------------------- measuring
@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _bench_settings() -> Iterator[None]:
    """Deterministic algorithms on (the chapters' setting), progress bars off; both restored."""
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    progress = os.environ.get("MEMNB_PROGRESS")
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ["MEMNB_PROGRESS"] = "0"
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(det, warn_only=warn)
        if progress is None:
            os.environ.pop("MEMNB_PROGRESS", None)
        else:
            os.environ["MEMNB_PROGRESS"] = progress


def build_model(name: str, seed: int = 0) -> Decoder:
    torch.manual_seed(seed)
    cfg = DecoderConfig(vocab_size=VOCAB, d_model=D_MODEL, n_layers=N_LAYERS, n_heads=N_HEADS)
    return Decoder(cfg, registry.mixer(name, segment_len=SEGMENT))


def random_batches(T: int, seed: int) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """``get_batch(step)``: BATCH random-token sequences of T tokens (inputs, next-token targets)."""

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed * 100_003 + step)
        x = torch.randint(0, VOCAB, (BATCH, T + 1), generator=g)
        return x[:, :-1], x[:, 1:]

    return get_batch


def _cfg(steps: int) -> TrainConfig:
    return TrainConfig(steps=steps, lr=1e-3, warmup=1)


def time_training(name: str, T: int, threads: int, steps: int, repeats: int) -> list[float]:
    """Seconds per ``train`` call of ``steps`` steps (``repeats`` calls after a warm-up call)."""
    model, get_batch = build_model(name), random_batches(T, seed=1)
    with _threads(threads):
        train(model, get_batch, _cfg(1))
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            train(model, get_batch, _cfg(steps))
            times.append(time.perf_counter() - t0)
    return times


def _usual_worker(members: list[int], T: int, steps: int, mode: str, barrier, out) -> None:
    """One process of the 'usual way': 1 thread, its members one after the other (``train``) or,
    with mode 'ensemble', together (``train_ensemble``); puts its timed seconds on ``out``."""
    torch.set_num_threads(1)
    os.environ["MEMNB_PROGRESS"] = "0"
    torch.use_deterministic_algorithms(True, warn_only=True)
    models = [build_model(ENSEMBLE_MIXER, seed=s) for s in members]
    gets = [random_batches(T, seed=10 + s) for s in members]
    if mode == "ensemble":
        train_ensemble(copy.deepcopy(models), gets, _cfg(1))
    else:
        for m, g in zip(models, gets, strict=True):
            train(copy.deepcopy(m), g, _cfg(1))
    barrier.wait()
    t0 = time.perf_counter()
    if mode == "ensemble":
        train_ensemble(models, gets, _cfg(steps))
    else:
        for m, g in zip(models, gets, strict=True):
            train(m, g, _cfg(steps))
    out.put(time.perf_counter() - t0)


def two_processes(S: int, T: int, steps: int, mode: str) -> float:
    """Wall seconds for S members split over two one-thread processes side by side (the slower one)."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_usual_worker, args=(list(range(w, S, 2)), T, steps, mode, barrier, out)) for w in (0, 1)
    ]
    for p in procs:
        p.start()
    times = [out.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    return max(times)


def time_ensemble(S: int, T: int, threads: int, steps: int) -> float:
    models = [build_model(ENSEMBLE_MIXER, seed=s) for s in range(S)]
    gets = [random_batches(T, seed=10 + s) for s in range(S)]
    with _threads(threads):
        train_ensemble(copy.deepcopy(models), gets, _cfg(1))
        t0 = time.perf_counter()
        train_ensemble(models, gets, _cfg(steps))
        return time.perf_counter() - t0


def measure_ensemble(S: int, T: int, steps: int, verbose: bool = True) -> dict:
    tokens = S * steps * BATCH * T
    rates = {
        "ensemble_2threads": tokens / time_ensemble(S, T, 2, steps),
        "usual_2procs_1thread": tokens / two_processes(S, T, steps, "solo"),
        "ensemble_1thread": tokens / time_ensemble(S, T, 1, steps),
        "sub_ensembles_2procs_1thread": tokens / two_processes(S, T, steps, "ensemble"),
    }
    if verbose:
        for k, v in rates.items():
            print(f"  ensemble S={S} T={T} {k:30s} {v:10.0f} tok/s", flush=True)
    usual = rates["usual_2procs_1thread"]
    two_cores = ("ensemble_2threads", "sub_ensembles_2procs_1thread")  # the ensemble forms that use both cores
    return {
        "best_on_two_cores": max(two_cores, key=rates.get),
        "S": S,
        "mixer": ENSEMBLE_MIXER,
        "T": T,
        "steps": steps,
        "tokens_per_s": rates,
        "speedup_vs_usual": {k: v / usual for k, v in rates.items()},
        "usual": "two one-thread processes side by side, members 0,2,4 and 1,3 each trained alone with train()",
        "tried": ENSEMBLE_TRIED,
    }


def measure(
    lengths: tuple[int, ...], threads: tuple[int, ...], steps: int, repeats: int, verbose: bool = True
) -> tuple[list[dict], dict[str, float]]:
    """Rows (mixer, T, threads, tokens/s, FLOPs, GFLOP/s, fraction of peak, vs_attention) and the
    sgemm peak per thread count."""
    peak = {str(n): sgemm_gflops(n) for n in threads}
    if verbose:
        print("sgemm " + ", ".join(f"{n} thread(s): {g:.1f} GFLOP/s" for n, g in peak.items()), flush=True)
    rows = []
    for name in registry.ZOO:
        for T in lengths:
            flops = train_flops_per_token(name, build_model(name), T)
            for n in threads:
                times = time_training(name, T, n, steps, repeats)
                rate = steps * BATCH * T / statistics.median(times)
                gflops = None if flops is None else flops * rate / 1e9
                rows.append(
                    {"mixer": name, "T": T, "threads": n, "tokens_per_s": rate, "times_s": times,
                     "flops_per_token": flops, "gflops": gflops,
                     "frac_of_peak": None if gflops is None else gflops / peak[str(n)]}
                )  # fmt: skip
                if verbose:
                    g = "n/a" if gflops is None else f"{gflops:6.1f} GFLOP/s ({gflops / peak[str(n)]:.0%} of sgemm)"
                    print(f"{name:18s} T={T:5d} threads={n} {rate:10.0f} tok/s  {g}", flush=True)
    base = {(r["T"], r["threads"]): r["tokens_per_s"] for r in rows if r["mixer"] == "attention"}
    for r in rows:
        r["vs_attention"] = r["tokens_per_s"] / base[(r["T"], r["threads"])] if base else None
    return rows, peak


def summary(rows: list[dict], reference: dict) -> dict[str, dict]:
    """Per mixer, at the reference setting (or the nearest measured one): FLOPs, vs_attention,
    whether it passes THRESHOLD, and the reason if not."""
    out = {}
    for name in registry.ZOO:
        mine = [r for r in rows if r["mixer"] == name]
        ref = [r for r in mine if r["T"] == reference["T"] and r["threads"] == reference["threads"]]
        r = (ref or sorted(mine, key=lambda r: (abs(r["T"] - reference["T"]), r["threads"])))[0]
        entry = {
            "T": r["T"],
            "threads": r["threads"],
            "vs_attention": r["vs_attention"],
            "flops_per_token": r["flops_per_token"],
            "flops_formula": " ".join((MIXER_FLOPS[name].__doc__ or "").split()) if name in MIXER_FLOPS else None,
            "passes": r["vs_attention"] is not None and r["vs_attention"] >= THRESHOLD,
        }
        if not entry["passes"]:
            flops = "n/a" if r["flops_per_token"] is None else f"{r['flops_per_token'] / 1e6:.2f} MFLOP/token"
            why = REASONS.get(name, "no reason recorded yet: investigate before the next full run")
            where = f"{r['vs_attention']:.2f}x attention at T={r['T']}, {r['threads']} thread(s)"
            entry["reason"] = f"{where}; {flops}. {why}"
        out[name] = entry
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m memnb bench --train", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="T=64, 2 steps, 1 repeat; writes <device>-train-quick.json")
    ap.add_argument("--lengths", type=int, nargs="+", help="sequence lengths (overrides the mode's)")
    ap.add_argument("--threads", type=int, nargs="+", help="thread counts (default 1 2)")
    ap.add_argument("--steps", type=int, help="optimiser steps per timed call")
    ap.add_argument("--repeats", type=int, help="timed calls per case")
    ap.add_argument("--no-ensemble", action="store_true", help="skip the seed-ensemble comparison")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench", help="output folder")
    args = ap.parse_args(argv)
    full = not (args.quick or args.lengths or args.threads or args.steps or args.repeats or args.no_ensemble)
    lengths = tuple(args.lengths or (QUICK_LENGTHS if args.quick else LENGTHS))
    threads = tuple(args.threads or THREADS)
    steps = args.steps or (QUICK_STEPS if args.quick else STEPS)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else REPEATS)
    load_before = os.getloadavg()[0]
    t_start = time.perf_counter()
    with _bench_settings():
        rows, peak = measure(lengths, threads, steps, repeats)
        reference = REFERENCE if full else {"T": lengths[0], "threads": threads[0]}
        mixers = summary(rows, reference)
        ensemble = None
        if not args.no_ensemble:
            ens_T = lengths[0] if args.quick or args.lengths else ENSEMBLE_T
            ensemble = measure_ensemble(ENSEMBLE_S, ens_T, steps)
    label = device_label(torch.device("cpu"))
    report = {
        "schema": 1,
        "device": label,
        "mode": "full" if full else "quick",
        "env": {
            **_versions(),
            "cpu_count": os.cpu_count(),
            "loadavg_1min_before_after": [load_before, os.getloadavg()[0]],
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
            "deterministic_algorithms": True,
        },
        "config": {"d_model": D_MODEL, "n_layers": N_LAYERS, "n_heads": N_HEADS, "mlp_ratio": 4, "batch": BATCH,
                   "vocab_size": VOCAB, "segment_len": SEGMENT, "dtype": "float32", "lengths": list(lengths),
                   "threads": list(threads), "steps": steps, "repeats": repeats, "statistic": "median",
                   "optimizer": "memnb.train.train: AdamW lr 1e-3, warmup 1, clip 1.0",
                   "flops": "3 x forward matmul FLOPs per token (formulas under mixers.*.flops_formula)"},
        "sgemm_gflops": peak,
        "reference": {**reference, "threshold": THRESHOLD},
        "results": rows,
        "mixers": mixers,
        "ensemble": ensemble,
        "ensemble_speedup": None if ensemble is None else ensemble["speedup_vs_usual"][ensemble["best_on_two_cores"]],
        "wall_s": time.perf_counter() - t_start,
    }  # fmt: skip
    path = args.out / f"{label}-train{'' if full else '-quick'}.json"
    atomic_write_json(path, report)
    print_table(report)
    print(f"wrote {path}")
    return 0


def print_table(report: dict) -> None:
    ref = report["reference"]
    print(f"\nvs attention at T={ref['T']}, {ref['threads']} thread(s) (line at {ref['threshold']}):")
    print("| mixer | tok/s | vs attention | MFLOP/token | GFLOP/s | of sgemm | reason |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, m in report["mixers"].items():
        at = (name, m["T"], m["threads"])
        (r,) = [r for r in report["results"] if (r["mixer"], r["T"], r["threads"]) == at]
        flops = "n/a" if r["flops_per_token"] is None else f"{r['flops_per_token'] / 1e6:.2f}"
        g = "n/a" if r["gflops"] is None else f"{r['gflops']:.1f} | {r['frac_of_peak']:.0%}"
        reason = "" if m["passes"] else "below the line (reason in JSON)"
        print(f"| {name} | {r['tokens_per_s']:,.0f} | {r['vs_attention']:.2f} | {flops} | {g} | {reason} |")
    if report["ensemble"]:
        ens = report["ensemble"]
        print(f"ensemble_speedup (S={ens['S']}, {ens['best_on_two_cores']}): {report['ensemble_speedup']:.2f}x")
