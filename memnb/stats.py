"""Multi-seed statistics and the verdict rule of CONVENTIONS.md.

``summarize(values)`` gives mean and a 95% Student-t confidence interval
``mean ± t_{0.975, n-1} · s / sqrt(n)`` over seeds. ``verdict`` turns per-seed effects
into SUPPORTED / REFUTED / INCONCLUSIVE:

- SUPPORTED: the claimed effect holds on every seed and the whole 95% CI lies beyond the margin;
- REFUTED: the opposite holds on every seed and the whole CI lies on the other side;
- INCONCLUSIVE: anything else (mixed seeds, CI overlapping, a single seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

VERDICTS = ("SUPPORTED", "REFUTED", "INCONCLUSIVE")


def summarize(values: Sequence[float], digits: int = 6) -> dict:
    """``{"mean", "ci95": [lo, hi] or None (n < 2), "n", "values"}``, rounded for stable JSON."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"summarize needs finite values, got {list(values)!r}")
    mean = float(v.mean())
    ci = None
    if v.size >= 2:
        half = float(sps.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
        ci = [round(mean - half, digits), round(mean + half, digits)]
    return {
        "mean": round(mean, digits),
        "ci95": ci,
        "n": int(v.size),
        "values": [round(float(x), digits) for x in v],
    }


def fmt(summary: dict, digits: int = 3) -> str:
    """``0.812 ± 0.031 (n=3)``: mean ± CI half-width."""
    m, ci, n = summary["mean"], summary["ci95"], summary["n"]
    if ci is None:
        return f"{m:.{digits}f} (n={n})"
    return f"{m:.{digits}f} ± {(ci[1] - ci[0]) / 2:.{digits}f} (n={n})"


def verdict(effects: Sequence[float], *, margin: float = 0.0) -> str:
    """Verdict for a claim "effect > margin", from one effect per seed.

    ``effects`` are signed so that positive means the seed's claim holds (e.g. adaptive
    minus fixed recall). A single seed is always INCONCLUSIVE: no CI exists.
    """
    s = summarize(effects)
    if s["ci95"] is None:
        return "INCONCLUSIVE"
    lo, hi = s["ci95"]
    e = np.asarray(effects, dtype=float)
    if np.all(e > margin) and lo > margin:
        return "SUPPORTED"
    if np.all(e < -margin) and hi < -margin:
        return "REFUTED"
    return "INCONCLUSIVE"
