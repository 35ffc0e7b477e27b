"""The book's per-seed verdict rule (``memnb.stats.verdict``) against a threshold instead of zero.

``threshold_verdict(values, threshold)``: SUPPORTED when every per-seed value and the whole 95%
CI of their mean lie above ``threshold``; REFUTED when every value and the whole CI lie below
it; INCONCLUSIVE otherwise (and always for a single seed). It is ``memnb.stats.verdict`` applied
to ``values − threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence

from memnb import stats


def threshold_verdict(values: Sequence[float], threshold: float = 0.0) -> str:
    return stats.verdict([float(v) - threshold for v in values])
