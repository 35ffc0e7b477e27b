"""The book's verdict rule (CONVENTIONS.md) against a threshold instead of zero.

``threshold_verdict(values, threshold)``: SUPPORTED when every per-seed value and the whole 95%
CI of their mean lie above ``threshold``; REFUTED when every value and the whole CI lie below
it; INCONCLUSIVE otherwise (and always for a single seed). ``memnb.stats.verdict`` is the
special case threshold 0 with a symmetric margin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memnb import stats


def threshold_verdict(values: Sequence[float], threshold: float = 0.0) -> str:
    s = stats.summarize(values)
    if s["ci95"] is None:
        return "INCONCLUSIVE"
    v = np.asarray(values, dtype=float)
    lo, hi = s["ci95"]
    if np.all(v > threshold) and lo > threshold:
        return "SUPPORTED"
    if np.all(v < threshold) and hi < threshold:
        return "REFUTED"
    return "INCONCLUSIVE"
