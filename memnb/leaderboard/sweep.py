"""Run many ``MQARRun``s, in parallel worker processes: the arms × seeds of chapter 50.

Every run is self-contained (its model, data and evaluation are pure functions of its config)
and trains on one torch thread, so a run's numbers do not depend on how many workers share the
machine or in which order the runs finish: ``run_all(runs, workers=1)`` and ``workers=2`` give
identical results (a test checks it). The workers are ``memnb.parallel.run_jobs``'s (spawned, one
thread each); results come back in the order of ``runs``.

Arms: ``ARMS`` names each contender of the chapter as a memory with its head count and short
convolution, so one name in a preset means one model class. The gated delta rule appears at
three head counts at the same width d: its state per layer is d²/H floats, so H ∈ {4, 2, 1}
sweeps the state ×4 at an equal parameter count (a cleaner handle on state than d, which also
changes the parameters).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import torch

from memnb.leaderboard.mqar import MQARRun, train_mqar
from memnb.parallel import run_jobs

# name -> (memory, n_heads, short_conv, what it is)
ARMS: dict[str, tuple[str, int, int, str]] = {
    "attention": ("attention", 1, 2, "full causal attention, RoPE, 1 head (Zoology's)"),
    "attention_noconv": ("attention", 1, 0, "the same without the short convolution"),
    "attention_nope": ("attention_nope", 1, 2, "full causal attention without positions"),
    "sliding_window": ("sliding_window", 1, 2, "attention inside a window of one segment"),
    "gated_delta_rule_h4": ("gated_delta_rule", 4, 2, "Gated DeltaNet, 4 heads (state d²/4 a layer)"),
    "gated_delta_rule_h2": ("gated_delta_rule", 2, 2, "Gated DeltaNet, 2 heads (state d²/2 a layer)"),
    "gated_delta_rule_h1": ("gated_delta_rule", 1, 2, "Gated DeltaNet, 1 head (state d² a layer)"),
    "mamba2": ("mamba2", 1, 2, "Mamba-2 (SSD), d_state 16, 8 heads of 16"),
    "infini_attention": ("infini_attention", 1, 2, "Infini-attention (Drex L2)"),
    "titans": ("titans", 1, 2, "Titans neural memory (Drex L3, corrected)"),
    # the seed's auto-associative layout (keys stored as their own values); the corrected key→value
    # layout of chapter 10 is a probe there, not yet an option of the layer
    "drex_l4": ("drex_l4", 1, 2, "Drex L4 delta-rule memory (seed layout)"),
    "memory_tokens": ("memory_tokens", 1, 2, "recurrent memory tokens (ReLSM)"),
    "exp_kernel": ("exp_kernel", 1, 2, "exponential-kernel attention (HRS)"),
}
# the contenders that keep a fixed-size state whatever the length (attention's grows with it)
FIXED_STATE = ("gated_delta_rule_h4", "gated_delta_rule_h2", "gated_delta_rule_h1", "mamba2", "sliding_window",
               "infini_attention", "titans", "drex_l4", "memory_tokens")  # fmt: skip


def check_arm(name: str) -> None:
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; choose from {', '.join(ARMS)}")


def arm_run(name: str, base: MQARRun, **changes) -> MQARRun:
    """``base`` with arm ``name``'s memory, heads and short convolution (and ``changes``)."""
    check_arm(name)
    memory, heads, conv, _ = ARMS[name]
    return replace(base, memory=memory, n_heads=heads, short_conv=conv, **changes)


def _one(run: MQARRun) -> dict:
    torch.set_num_threads(1)
    return train_mqar(run)


def run_all(runs: list[MQARRun], *, workers: int = 1, labels: list[str] | None = None, log=sys.stdout) -> list[dict]:
    """Train every run (``workers`` processes, one thread each); results in the order of ``runs``.
    Prints one line per finished run (label, held-out accuracy, seconds) and a running count."""
    labels = labels or [f"{r.memory}/seed{r.seed}" for r in runs]
    t0 = time.perf_counter()

    def report(i: int, res: dict, done: int) -> None:
        print(
            f"[{done:>3}/{len(runs)}] {labels[i]:<28} acc {res['accuracy']:.3f}  "
            f"last-quarter gain {res['gain_last_quarter']:+.3f}  {res['cpu_s']:.0f} CPU s  "
            f"(elapsed {time.perf_counter() - t0:.0f} s)",
            file=log,
            flush=True,
        )

    return run_jobs(_one, [(run,) for run in runs], workers=workers, on_done=lambda i, res, n: report(i, res, n))
