"""The per-seed measures ReLSM's success criteria read: chance-corrected accuracy, the mean over
tasks, and the halting effort gap.

The README's rule: a variant "wins" with (1) ≥ 5% better algorithmic accuracy than the baseline
(we read it as 5 points absolute: the README does not say), (2) better OOD generalisation,
(3) ≤ 2x training time, (4) no perplexity collapse. The verdict rules themselves, with the floor
rule (a comparison counts only when the better arm beats chance), are data in
``memnb.relsm.rules``; this module computes the per-seed numbers they are applied to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def iterations_spread(ponder: pd.DataFrame, variant: str) -> pd.Series:
    """Per seed: the range (max − min) of the mean iterations over the IID (task, length) cells;
    0 when every input halts after the same number of iterations (no adaptation at all)."""
    df = ponder[(ponder.variant == variant) & (ponder.split == "iid")]
    return df.groupby("seed").iterations.agg(lambda x: float(x.max() - x.min())).sort_index()


def halting_effort_gap(ponder: pd.DataFrame, variant: str) -> pd.Series:
    """Per seed: the mean over tasks of (iterations at the largest IID size − at the smallest)."""
    df = ponder[(ponder.variant == variant) & (ponder.split == "iid")]
    rows = {}
    for (seed, _task), g in df.groupby(["seed", "task"]):
        g = g.sort_values("size")
        rows.setdefault(seed, []).append(g.iterations.iloc[-1] - g.iterations.iloc[0])
    return pd.Series({s: float(np.mean(v)) for s, v in rows.items()}).sort_index()
