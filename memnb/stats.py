"""Multi-seed statistics and the book's verdict rules.

``summarize(values)`` gives mean and a 95% Student-t confidence interval
``mean ± t_{0.975, n-1} · s / sqrt(n)`` over seeds. ``verdict`` turns per-seed effects
into SUPPORTED / REFUTED / INCONCLUSIVE:

- SUPPORTED: the claimed effect holds on every seed and the whole 95% CI lies beyond the margin;
- REFUTED: the opposite holds on every seed and the whole CI lies on the other side;
- INCONCLUSIVE: anything else (mixed seeds, CI overlapping, a single seed).

That is protocol 1. Protocol 2 (book/method.md §3-4, ``memnb.verdicts``) builds on the interval
functions below: ``t_interval`` / ``paired_t_interval`` (per-seed differences are the unit),
``welch_interval`` (unpaired arms), ``bootstrap_interval`` (seeds × examples),
``wilson_interval`` (a proportion), ``mde`` (minimum detectable effect ``(t_{0.975,n−1} +
t_{0.80,n−1}) · SE``), and ``holm`` / ``holm_levels`` for best-of-K comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


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


# ---------------------------------------------------------------------------------------------
# Protocol 2 (book/method.md §3-4): intervals, power and multiplicity.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided CI: ``estimate``, ``[lo, hi]`` (``None`` below two units),
    ``n`` units (seeds), the standard error ``se`` of the estimate and the degrees of freedom
    ``df`` that the t quantiles of the MDE use (``n − 1``)."""

    estimate: float
    lo: float | None
    hi: float | None
    n: int
    se: float
    df: int
    method: str

    @property
    def ci95(self) -> list[float] | None:
        return None if self.lo is None else [self.lo, self.hi]


SAME = 1e-12  # relative spread below which per-seed values count as identical (float residue)


def _all_same(v: np.ndarray) -> bool:
    return bool(np.ptp(v) <= SAME * max(1.0, float(np.max(np.abs(v)))))


def _finite(values: Sequence[float], what: str) -> np.ndarray:
    v = np.asarray(list(values), dtype=float)
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"{what} needs a non-empty list of finite numbers, got {list(values)!r}")
    return v


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Student-t CI of the mean of per-seed values: ``mean ± t_{(1+level)/2, n−1} · s/√n``.

    When every value is the same (to ``SAME`` relative to the values' size, so that paired
    differences such as 0.3 − 0.2 and 0.4 − 0.3 count as equal) the CI is that value.
    With one value there is no CI (``lo = hi = None``).
    """
    v = _finite(values, "t_interval")
    n, mean = int(v.size), float(v.mean())
    if n < 2:
        return Interval(mean, None, None, n, math.nan, 0, "t")
    if _all_same(v):
        return Interval(mean, mean, mean, n, 0.0, n - 1, "t")
    se = float(v.std(ddof=1) / math.sqrt(n))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1) * se)
    return Interval(mean, mean - half, mean + half, n, se, n - 1, "t")


def paired_t_interval(a: Sequence[float], b: Sequence[float] | None = None, level: float = 0.95) -> Interval:
    """CI of the mean paired difference ``a_i − b_i`` over seeds i (the seed is the unit).

    With ``b = None``, ``a`` already holds the per-seed differences. The interval is the one
    of ``scipy.stats.ttest_rel(a, b).confidence_interval()``.
    """
    a_ = _finite(a, "paired_t_interval")
    if b is None:
        return t_interval(a_, level)
    b_ = _finite(b, "paired_t_interval")
    if a_.shape != b_.shape:
        raise ValueError(f"paired arms need one value per seed each, got {a_.size} and {b_.size}")
    return t_interval(a_ - b_, level)


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """CI of ``mean(a) − mean(b)`` for two unpaired arms (Welch–Satterthwaite degrees of freedom).
    ``n`` is the smaller arm; ``df`` the Welch df rounded down (at least 1)."""
    a_, b_ = _finite(a, "welch_interval"), _finite(b, "welch_interval")
    est = float(a_.mean() - b_.mean())
    if a_.size < 2 or b_.size < 2:
        return Interval(est, None, None, int(min(a_.size, b_.size)), math.nan, 0, "welch")
    va, vb = a_.var(ddof=1) / a_.size, b_.var(ddof=1) / b_.size
    se = float(math.sqrt(va + vb))
    if se == 0:
        return Interval(est, est, est, int(min(a_.size, b_.size)), 0.0, int(min(a_.size, b_.size)) - 1, "welch")
    df = float((va + vb) ** 2 / (va**2 / (a_.size - 1) + vb**2 / (b_.size - 1)))
    half = float(sps.t.ppf(0.5 + level / 2, df) * se)
    return Interval(est, est - half, est + half, int(min(a_.size, b_.size)), se, max(1, int(df)), "welch")


def bootstrap_interval(
    per_seed: Sequence[Sequence[float]], *, level: float = 0.95, n_boot: int = 10_000, seed: int = 0
) -> Interval:
    """Two-stage (hierarchical) percentile bootstrap over seeds × examples.

    ``per_seed[s]`` holds seed s's per-example values (for a paired design: per-example
    differences between the arms on the same examples). The statistic is the mean over seeds of
    each seed's mean. Each replicate draws ``n`` seeds with replacement, then, for each drawn
    seed, its examples with replacement. Deterministic for a given ``seed``; when every value is
    the same the CI is that value. ``se`` is the standard deviation of the replicates.
    """
    groups = [_finite(g, "bootstrap_interval") for g in per_seed]
    if not groups:
        raise ValueError("bootstrap_interval needs at least one seed")
    n = len(groups)
    estimate = float(np.mean([g.mean() for g in groups]))
    if n < 2:
        return Interval(estimate, None, None, n, math.nan, 0, "bootstrap")
    if _all_same(np.concatenate(groups)):
        return Interval(estimate, estimate, estimate, n, 0.0, n - 1, "bootstrap")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(n_boot, n))  # stage 1: seeds
    sums = np.zeros(n_boot)
    for j in range(n):
        for s in range(n):
            rows = np.flatnonzero(picks[:, j] == s)
            if rows.size:
                g = groups[s]
                idx = rng.integers(0, g.size, size=(rows.size, g.size))  # stage 2: examples
                sums[rows] += g[idx].mean(axis=1)
    boots = sums / n
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(estimate, float(lo), float(hi), n, float(boots.std(ddof=1)), n - 1, "bootstrap")


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n:
    ``(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)`` with ``z = Φ⁻¹((1+level)/2)``."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"wilson_interval needs 0 <= successes <= trials, trials > 0; got {successes}/{trials}")
    z = float(sps.norm.ppf(0.5 + level / 2))
    p, n = successes / trials, trials
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mde(se: float, df: int, *, alpha: float = 0.05, power: float = 0.80) -> float:
    """Minimum detectable effect of a design: ``(t_{1−α/2, df} + t_{power, df}) · SE``
    (≈ 5.4 SE at n = 3 seeds, 3.7 at n = 5, 3.3 at n = 8). ``nan`` when ``df < 1``."""
    if df < 1 or not math.isfinite(se):
        return math.nan
    return float((sps.t.ppf(1 - alpha / 2, df) + sps.t.ppf(power, df)) * se)


def one_sided_p(values: Sequence[float]) -> float:
    """p-value of the one-sided t-test of "mean > 0" over per-seed values (``ttest_1samp``,
    ``alternative="greater"``); 0 or 1 when every value is the same and non-zero, 1 when all zero."""
    v = _finite(values, "one_sided_p")
    if v.size < 2:
        return 1.0
    if _all_same(v):
        return 0.0 if v.mean() > 0 else 1.0
    return float(sps.ttest_1samp(v, 0.0, alternative="greater").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values: sort ascending, ``p̃_(i) = max_{j ≤ i} min(1, (K−j+1)·p_(j))``,
    returned in the input order. Reject hypothesis k at level α iff ``p̃_k ≤ α``."""
    p = np.asarray(list(pvalues), dtype=float)
    if p.size == 0:
        return []
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(f"p-values must lie in [0, 1], got {list(pvalues)!r}")
    order = np.argsort(p, kind="stable")
    k = p.size
    adj = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out = np.empty(k)
    out[order] = adj
    return [float(x) for x in out]


def holm_levels(pvalues: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Per-comparison significance level of Holm's step-down procedure: the comparison of rank
    i (1 = smallest p) is tested at ``α/(K−i+1)`` while every earlier one was rejected; from the
    first non-rejected rank on, the level stays at that rank's. A CI at ``1 − level`` then agrees
    with the Holm decision."""
    p = np.asarray(list(pvalues), dtype=float)
    k = p.size
    order = np.argsort(p, kind="stable")
    levels = np.empty(k)
    current = alpha / k if k else alpha
    stopped = False
    for rank, i in enumerate(order):
        if not stopped:
            current = alpha / (k - rank)
            if p[i] > current:
                stopped = True
        levels[i] = current
    return [float(x) for x in levels]
