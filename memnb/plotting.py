"""The book's one figure style (seaborn), and small helpers every chapter uses.

Call ``use_style()`` once at the top of a chapter. Plots go inline (never ``plt.savefig``):
every figure in the book is drawn by the notebook that computes it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

PALETTE = "colorblind"
FIGSIZE = (6.4, 3.6)


def use_style() -> None:
    """Seaborn whitegrid, colour-blind palette, readable sizes, tight layout."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, font_scale=0.95)
    plt.rcParams.update(
        {
            "figure.figsize": FIGSIZE,
            "figure.dpi": 110,
            "figure.autolayout": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "legend.frameon": False,
        }
    )


def subplots(ncols: int = 1, nrows: int = 1, **kw):
    """``plt.subplots`` sized for the book: each panel is FIGSIZE wide-ish."""
    w, h = FIGSIZE
    kw.setdefault("figsize", (min(w * ncols * 0.8, 13), h * nrows))
    return plt.subplots(nrows, ncols, squeeze=False, **kw)


def mean_ci_lines(data: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax=None, **kw):
    """Mean over seeds with a 95% CI band (seaborn's t-based errorbar), one line per ``hue``."""
    return sns.lineplot(data=data, x=x, y=y, hue=hue, ax=ax, errorbar=("ci", 95), marker="o", **kw)
