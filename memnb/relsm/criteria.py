"""ReLSM's success criteria as pre-registered verdict rules (``memnb.stats.verdict``).

The README's rule: a variant "wins" with (1) ≥ 5% better algorithmic accuracy than the baseline
(we read it as 5 points absolute: the README does not say), (2) better OOD generalisation,
(3) ≤ 2x training time, (4) no perplexity collapse. Every effect below is one number per seed,
paired by seed (the same data stream), and judged by ``stats.verdict``: SUPPORTED when the claim
holds on every seed and the 95% CI lies beyond the bar, REFUTED when the opposite does,
INCONCLUSIVE otherwise.

**Floor rule.** An accuracy comparison where neither arm has learned the tasks says nothing
about the arms. Such a comparison is INCONCLUSIVE ("floor") unless the better of the two arms
beats chance by ``FLOOR`` (5 points of chance-corrected accuracy, (acc − chance)/(1 − chance),
averaged over tasks) on every seed beyond the CI.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from memnb import stats

ACC_BAR = 0.05  # criterion 1: >= 5 points of algorithmic accuracy
COST_BAR = 2.0  # criterion 3: <= 2x the baseline's training cost
COLLAPSE = 1.25  # criterion 4: perplexity more than 25% above the baseline's is a collapse
FLOOR = 0.05  # chance-corrected accuracy an arm must reach for a comparison to count
LEAK_TOL = 1e-6  # a logit change above this at positions <= t is a leak


def _shift(values: Sequence[float], bar: float) -> list[float]:
    return [float(v) - bar for v in values]


def learned(chance_corrected: Sequence[float]) -> bool:
    """True when an arm beats chance by ``FLOOR`` on every seed beyond the CI."""
    return stats.verdict(_shift(chance_corrected, FLOOR)) == "SUPPORTED"


def gain_verdict(gains: Sequence[float], *, bar: float, above_floor: bool) -> str:
    """ "gain > bar": SUPPORTED / REFUTED (gain < bar beyond the CI) / INCONCLUSIVE, or
    INCONCLUSIVE at the floor."""
    if not above_floor:
        return "INCONCLUSIVE"
    return stats.verdict(_shift(gains, bar))


def both(first: str, second: str) -> str:
    """A conjunction of two claims: SUPPORTED if both are, REFUTED if either is."""
    if "REFUTED" in (first, second):
        return "REFUTED"
    return "SUPPORTED" if first == second == "SUPPORTED" else "INCONCLUSIVE"


def all_of(verdicts: Sequence[str]) -> str:
    """A conjunction of several claims (see ``both``)."""
    out = "SUPPORTED"
    for v in verdicts:
        out = both(out, v)
    return out


def leak_verdict(leaks: Sequence[float]) -> str:
    """Claim "no future-token leak": SUPPORTED if every seed's leak is below ``LEAK_TOL`` beyond
    the CI, REFUTED if every seed's leak is above it beyond the CI."""
    return stats.verdict([LEAK_TOL - float(x) for x in leaks])


def cost_verdict(cost_ratios: Sequence[float], ppl_ratios: Sequence[float]) -> str:
    """Claim "costs <= 2x and no perplexity collapse" for one variant (per-seed ratios to baseline)."""
    cheap = stats.verdict([COST_BAR - float(r) for r in cost_ratios])
    fluent = stats.verdict([COLLAPSE - float(r) for r in ppl_ratios])
    return both(cheap, fluent)


def chance_corrected(acc: np.ndarray | float, chance: np.ndarray | float) -> np.ndarray | float:
    """(acc − chance) / (1 − chance): 0 at chance, 1 when perfect."""
    return (np.asarray(acc) - np.asarray(chance)) / (1 - np.asarray(chance))


def macro(tasks: pd.DataFrame, split: str, column: str = "exact_match_ar", *, corrected: bool = False) -> pd.DataFrame:
    """Per (seed x variant): the mean over algorithmic tasks of ``column`` on ``split``
    (``"iid"``: the IID test set; ``"ood"``: the mean over a task's OOD sizes first), optionally
    chance-corrected. ReLSM reports a micro-average over conditions; we weight tasks equally."""
    df = tasks[tasks.split == split].copy()
    if corrected:
        df[column] = chance_corrected(df[column], df["chance"])
    per_task = df.groupby(["variant", "seed", "task"])[column].mean()
    return per_task.groupby(["seed", "variant"]).mean().unstack("variant")


def halting_effort_gap(ponder: pd.DataFrame, variant: str) -> pd.Series:
    """Per seed: the mean over tasks of (iterations at the largest IID size − at the smallest)."""
    df = ponder[(ponder.variant == variant) & (ponder.split == "iid")]
    rows = {}
    for (seed, _task), g in df.groupby(["seed", "task"]):
        g = g.sort_values("size")
        rows.setdefault(seed, []).append(g.iterations.iloc[-1] - g.iterations.iloc[0])
    return pd.Series({s: float(np.mean(v)) for s, v in rows.items()}).sort_index()
