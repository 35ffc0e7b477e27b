"""α schedules, τ/L, and the closed-form write rate of Drex's repeated filler token.

Seed: Drex Phase 11 (exp_47_1/3) and Phase 12 (exp_48_1); derivation in book/appendix/drex.md §4.

The L4 write is a delta rule with step η = 1 − α (keys as values, M ← M + η (k − M k̂) k̂ᵀ). If
the same key is written n times into a memory that holds nothing along k̂, the relative error
is ‖k − M k̂‖/‖k‖ = ∏ (1 − η_i); the relative-norm gate fires while that error is ≥ θ. With a
constant step (the semantic branch) the filler fires n* = ⌈ln θ / ln α⌉ times; with the
episodic recency ramp η_t = η (t+1)/L it fires until ∏ (1 − η (t+1)/L) < θ. The write rate of
one sequence of the seed layout (10 pair tokens, L − 13 fillers, marker, queried key, all
other tokens fired once) is therefore

    wr = (10 + min(n*, L − 13) + 2) / (L − 1),

with n* the semantic count for the single memory and the larger of the two branches' counts
for the OR gate (the AND gate: the smaller). Nothing in it depends on training or the seed.

Schedules (``ALPHA_SCHEDULES``): ``fixed`` α = 0.95; ``adaptive`` α(L) = 0.95^(96/L), which holds
τ/L = 1/((1 − α)L) near 0.21; ``linear_c5`` exp_47_1's clamp(1 − 5/L, 0.75, 0.98); ``const_eta``
α = α(32) = 0.95³ = 0.857375 at every L — the write step η = 1 − α of α(L) at L = 32 held fixed,
so τ/L falls as 1/L (chapter 10's test of whether recall follows τ/L or η).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from memnb.drex.task import N_PAIRS
from memnb.ops.drex_memory import alpha_for_length, tau_over_L

CONST_ETA_LENGTH = 32  # the "const_eta" schedule keeps the step size of α(L) at this L

ALPHA_SCHEDULES: dict[str, Callable[[int], float]] = {
    "fixed": lambda L: 0.95,  # the seed's original α
    "adaptive": alpha_for_length,  # α(L) = 0.95^(96/L), the seed's fix
    "linear_c5": lambda L: min(max(1.0 - 5.0 / L, 0.75), 0.98),  # exp_47_1's clamp(1 − 5/L)
    "const_eta": lambda L: alpha_for_length(CONST_ETA_LENGTH),  # α(32) = 0.95³ at every L: the step η held fixed
}


def alpha(schedule: str, length: int) -> float:
    """α of a named schedule at segment length L."""
    if schedule not in ALPHA_SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(ALPHA_SCHEDULES)}, got {schedule!r}")
    return ALPHA_SCHEDULES[schedule](length)


def filler_writes(eta: float, thresh: float) -> int:
    """n* = ⌈ln θ / ln(1 − η)⌉: writes of one repeated key before the gate stops firing."""
    if not 0 < eta < 1 or not 0 < thresh < 1:
        raise ValueError(f"need 0 < eta < 1 and 0 < thresh < 1, got eta={eta}, thresh={thresh}")
    return math.ceil(math.log(thresh) / math.log(1.0 - eta))


def recency_filler_writes(eta: float, thresh: float, length: int, start: int, n_filler: int) -> int:
    """Filler writes of the episodic branch (step η (t+1)/L at position t, filler from ``start``)."""
    err, n = 1.0, 0
    for t in range(start, start + n_filler):
        if err < thresh:
            break
        err *= 1.0 - eta * (t + 1) / length
        n += 1
    return n


def seed_write_rate(length: int, alpha_value: float, thresh: float, *, gate: str = "single") -> float:
    """Closed-form write rate of the seed layout: ``gate`` is ``single`` (one memory), ``or`` or
    ``and`` (split memory, semantic constant step + episodic recency ramp), ``none`` (1.0)."""
    n_filler = length - 2 * N_PAIRS - 3
    if n_filler < 0:
        raise ValueError(f"length must be >= {2 * N_PAIRS + 3}, got {length}")
    if gate == "none":
        return 1.0
    eta = 1.0 - alpha_value
    n_sem = min(filler_writes(eta, thresh), n_filler)
    if gate == "single":
        n = n_sem
    elif gate in ("or", "and"):
        n_epi = recency_filler_writes(eta, thresh, length, 2 * N_PAIRS, n_filler)
        n = max(n_sem, n_epi) if gate == "or" else min(n_sem, n_epi)
    else:
        raise ValueError(f"gate must be single, or, and or none, got {gate!r}")
    return (2 * N_PAIRS + n + 2) / (length - 1)


__all__ = ["ALPHA_SCHEDULES", "alpha", "filler_writes", "recency_filler_writes", "seed_write_rate", "tau_over_L"]
