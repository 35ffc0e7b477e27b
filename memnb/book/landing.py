"""The landing page's key figures, drawn from the published results (never from typed-in numbers).

``write(rows, profile, book)`` is called by ``python -m memnb ledger`` and writes, beside
``book/intro.md``:

- ``_verdicts.png``: the ledger's verdicts per seed project (stacked counts);
- ``_leaderboard.png``: chapter 50's MQAR accuracy per arm (held-out, at the training
  configuration, 95% CI over seeds) against its chance level (copying a value from the
  context, 1/kv), if that chapter has published;
- ``_key_figures.md``: the two figures as MyST directives, included by the landing page.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from memnb import plotting
from memnb.book.ledger import NOT_RUN, ORDER, RESULTS, SYSTEMS, Row
from memnb.cache import atomic_write_text

LEADERBOARD = "50_leaderboard"
COLORS = {
    "SUPPORTED": "#2a9d55",
    "REFUTED": "#c8553d",
    "INCONCLUSIVE": "#9a9a9a",
    "UNTESTABLE": "#e9b44c",
    NOT_RUN: "#e0e0e0",
    "identity (checked)": "#6c8ebf",
}


def verdict_counts(rows: list[Row]) -> pd.DataFrame:
    """Finding verdicts (the five kinds) per seed system (in ``SYSTEMS`` order), and a last column
    counting its identities (true or false by construction: checked, not judged)."""
    systems = {name: [r for r in rows if r.id.split(".")[0] == prefix] for prefix, name in SYSTEMS.items()}
    counts = {name: Counter(r.verdict for r in mine if r.kind != "identity") for name, mine in systems.items()}
    table = pd.DataFrame({v: [counts[s][v] for s in counts] for v in ORDER}, index=list(counts))
    table["identity (checked)"] = [sum(r.kind == "identity" for r in mine) for mine in systems.values()]
    return table


def leaderboard_scores(record: dict) -> tuple[pd.DataFrame, float]:
    """Chapter 50's per-arm accuracy (``<arm>/acc``: mean, 95% CI) sorted best first, and the
    chance level (``mean_chance``)."""
    m = record["metrics"]
    rows = []
    for key, v in m.items():
        if key.count("/") == 1 and key.endswith("/acc"):
            lo, hi = v["ci95"] if v.get("ci95") else (v["mean"], v["mean"])  # one seed: no interval
            rows.append({"memory": key.split("/")[0], "mean": v["mean"], "lo": lo, "hi": hi, "n": v.get("n", 1)})
    return pd.DataFrame(rows).sort_values("mean", ascending=False), float(m["mean_chance"])


def _save(fig: Figure, path: Path, dpi: int = 120) -> None:
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    tmp.replace(path)


def verdicts_figure(rows: list[Row], profile: str) -> Figure:
    """The landing figure: ``verdict_counts`` as stacked bars, one per seed system."""
    plotting.use_style()
    counts = verdict_counts(rows)
    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    counts.iloc[::-1].plot.barh(stacked=True, ax=ax, color=[COLORS[v] for v in counts.columns], width=0.7)
    ax.set(xlabel="claims (count)", ylabel="", title=f"Verdicts per seed system ({profile} profile)")
    ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return fig


def write(rows: list[Row], profile: str, book: Path, results: Path = RESULTS) -> list[Path]:
    """Draw the key figures into ``book`` and write ``book/_key_figures.md``; returns the figures."""
    plotting.use_style()
    made, blocks = [], []
    _save(verdicts_figure(rows, profile), book / "_verdicts.png")
    made.append(book / "_verdicts.png")
    blocks.append(
        "```{figure} _verdicts.png\n:width: 80%\n\nEvery finding's verdict (seed and audit claims), counted per "
        "seed system, with its identities (statements true or false by construction, checked rather than "
        f"judged) in blue, from `results/{profile}/*.json` (the ledger's rows).\n```\n"
    )
    board = results / profile / f"{LEADERBOARD}.json"
    if board.exists():
        scores, chance = leaderboard_scores(json.loads(board.read_text()))
        fig = Figure(figsize=(7, 3.6))
        ax = fig.subplots()
        y = range(len(scores))
        ax.errorbar(
            scores["mean"],
            y,
            xerr=[scores["mean"] - scores["lo"], scores["hi"] - scores["mean"]],
            fmt="o",
            capsize=3,
        )
        ax.axvline(chance, color="0.4", ls="--", lw=1, label="chance (a value from the context)")
        ax.set_yticks(list(y), scores["memory"])
        ax.invert_yaxis()
        n_seeds = int(scores["n"].min())
        ax.set(xlabel="held-out MQAR accuracy (fraction of queries)", title="Multi-query associative recall")
        if n_seeds < 2:
            ax.text(0.99, 0.02, "one seed: no CI drawn", transform=ax.transAxes, ha="right", fontsize=8)
        ax.legend(fontsize=8)
        _save(fig, book / "_leaderboard.png")
        made.append(book / "_leaderboard.png")
        page = LEADERBOARD
        if (book / "chapters" / f"{LEADERBOARD}.ipynb").exists():
            page = f"{{doc}}`chapter 50 <chapters/{LEADERBOARD}>`"
        blocks.append(
            "```{figure} _leaderboard.png\n:width: 80%\n\nEvery memory at the same width, depth and training "
            "budget on multi-query associative recall (held-out accuracy): mean and 95% CI over seeds, from "
            f"`results/{profile}/{LEADERBOARD}.json` ({page}).\n```\n"
        )
    atomic_write_text(book / "_key_figures.md", "\n".join(blocks))
    return made
