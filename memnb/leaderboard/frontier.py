"""The leaderboard's summaries: the ranked table and the Pareto frontier.

- ``ranking``: per contender, its score per seed = mean exact-match accuracy over every suite
  task and test length (every task and length weighs the same; the chance level of this mean
  is the same for every contender, so it does not change the order), summarised over seeds
  (mean, 95% Student-t CI, ``memnb.stats.summarize``), beside the accuracy at the shortest
  (1×) and longest (8×) test length, the parameter count, throughput, state size, FLOPs per
  token and accuracy per unit of compute, ``acc_per_mflop = score / (flops_per_token / 10^6)``.
  Ranked by mean score; ``ties_with_top`` marks contenders whose CI overlaps the leader's.
- ``pareto``: the contenders no other one beats on both axes (higher accuracy, and higher
  throughput or smaller state), i.e. the frontier a reader can choose from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memnb.stats import summarize


def ranking(scores: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per contender (columns in the module docstring), best first."""
    per_seed = scores.groupby(["contender", "seed"]).accuracy.mean().rename("score").reset_index()
    lo_len, hi_len = scores.length.min(), scores.length.max()
    rows = []
    for name, grp in per_seed.groupby("contender", sort=False):
        s = summarize(grp.score.tolist())
        ci = s["ci95"] or [np.nan, np.nan]
        mine, cost = scores[scores.contender == name], runs[runs.contender == name]
        rows.append(
            {
                "contender": name,
                "score": s["mean"],
                "ci_lo": ci[0],
                "ci_hi": ci[1],
                "acc_1x": mine[mine.length == lo_len].accuracy.mean(),
                "acc_8x": mine[mine.length == hi_len].accuracy.mean(),
                "params": int(cost.params.iloc[0]),
                "tokens_per_s": float(cost.tokens_per_s.median()),
                "state_kib": float(cost.state_bytes.iloc[0]) / 1024,
                "mflops_per_token": float(cost.flops_per_token.iloc[0]) / 1e6,
                "acc_per_mflop": s["mean"] / (float(cost.flops_per_token.iloc[0]) / 1e6),
            }
        )
    table = pd.DataFrame(rows).sort_values("score", ascending=False, ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["ties_with_top"] = (table.ci_hi >= table.ci_lo.iloc[0]) | (table["rank"] == 1)  # False without CIs
    return table


def pareto(table: pd.DataFrame, x: str, y: str = "score", *, x_higher_is_better: bool = True) -> pd.Series:
    """True for the rows no other row dominates (at least as good on both, better on one)."""
    xs = table[x].to_numpy() * (1 if x_higher_is_better else -1)
    ys = table[y].to_numpy()
    better_eq = (xs[None, :] >= xs[:, None]) & (ys[None, :] >= ys[:, None])
    strictly = (xs[None, :] > xs[:, None]) | (ys[None, :] > ys[:, None])
    return pd.Series(~(better_eq & strictly).any(axis=1), index=table.index)


def above_chance(scores: pd.DataFrame, chance: dict[str, float]) -> pd.DataFrame:
    """Per (task, length, contender): mean accuracy over seeds, its 95% CI and ``recalls`` =
    the CI's lower bound is above the task's chance level (False with a single seed)."""
    rows = []
    for (task, length, name), grp in scores.groupby(["task", "length", "contender"], sort=False):
        s = summarize(grp.sort_values("seed").accuracy.tolist())
        lo = s["ci95"][0] if s["ci95"] else np.nan
        rows.append(
            {"task": task, "length": length, "contender": name, "accuracy": s["mean"], "ci_lo": lo,
             "chance": chance[task], "recalls": bool(lo > chance[task])}
        )  # fmt: skip
    return pd.DataFrame(rows)
