"""Chapter 40's tables and figures, built from the record frames of ``memnb.ams.study``.

Each function takes frames (and, for the summary of fixes, the chapter's metric means) and
returns a ``DataFrame`` to display or draws one figure; none records a metric or a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from memnb import plotting, stats
from memnb.ams import sessions as S


def first_last_4(d: pd.DataFrame) -> pd.Series:
    """Objective over the first 4 and the last 4 steps, and the alignment loss over the last 4."""
    last = d[d.step >= d.step.max() - 3]
    return pd.Series(
        {"obj first-4": d[d.step < 4].obj.mean(), "obj last-4": last.obj.mean(), "baa last-4": last.baa.mean()}
    )


def training_table(logs: pd.DataFrame) -> pd.DataFrame:
    """``first_last_4`` of every variant's training log (means over seeds)."""
    return logs.groupby("variant")[["step", "obj", "baa"]].apply(first_last_4)


def mode_table(df: pd.DataFrame, modes: Sequence[str]) -> pd.DataFrame:
    """Per mode: the hit rates, the pooled Wilson interval of the word hit, the strict hit's CI
    over seeds, forced choice, degeneracy, input tokens and latency."""
    out = {}
    for mode in modes:
        d = df[df["mode"] == mode]
        k, n = int(d.word.sum()), len(d)
        lo, hi = S.wilson(k, n)
        ps = d.groupby("seed")
        out[mode] = {
            "substring %": 100 * d.substring.mean(),
            "word %": 100 * d.word.mean(),
            "word Wilson 95% (pooled)": f"[{100 * lo:.0f}, {100 * hi:.0f}]",
            "strict %": 100 * d.strict.mean(),
            "strict per-seed CI": stats.fmt(stats.summarize(ps.strict.mean().tolist()), 2)
            if len(ps) > 1
            else f"{d.strict.mean():.2f}",
            "choice %": 100 * d.choice.mean(),
            "distinct ratio": d.distinct.mean(),
            "input tokens": d.input_tokens.mean(),
            "latency ms": 1000 * d.latency_s.mean(),
        }
    return pd.DataFrame(out).T


def replica_table(R: pd.DataFrame, modes: Sequence[str]) -> pd.DataFrame:
    """Substring, strict and forced-choice rates (%) per mode at N = 10 and 20."""
    wide = R.pivot_table(index="mode", columns="N", values=["substring", "strict", "choice"], aggfunc="mean")
    return wide.reindex(modes) * 100


def objective_table(E4: pd.DataFrame, H: pd.DataFrame, logs: pd.DataFrame) -> pd.DataFrame:
    """E4 per objective: the invariance probes, A's forced choice in the harness (the cloze
    model's from its own rows) and the objective's first / last training steps."""
    summary = E4.groupby("objective").mean(numeric_only=True)[
        ["prefix_cos", "swap_answer_changed", "swap_choice_changed"]
    ]
    summary["A choice (harness)"] = [
        H[H["mode"] == m].choice.mean() if m in set(H["mode"]) else np.nan
        for m in ("A:cloze", "A:fresh", "A:qa", "A:trained")
    ]
    summary.loc["cloze", "A choice (harness)"] = E4[E4.objective == "cloze"].A_choice.mean()
    obj_rows = training_table(logs[logs.variant.isin(["trained", "cloze", "qa"])])
    return summary.join(obj_rows[["obj first-4", "obj last-4"]])


KAKEYA_COLUMNS = ["d_eff", "in_norm", "in_centred", "out_norm", "out_centred", "rebuilt_norm", "rebuilt_centred",
                  "stored_floats", "raw_floats", "raw/stored"]  # fmt: skip


def kakeya_table(E5: pd.DataFrame) -> pd.DataFrame:
    """E5 per set and store size: effective dimension, errors in/out of sample and rebuilt, floats."""
    return E5.groupby(["set", "N"]).mean(numeric_only=True)[KAKEYA_COLUMNS]


def dilution_figure(E3: pd.DataFrame) -> None:
    """E3: gold topic attention against N (uniform 1/N dashed), and A's forced choice by filter."""
    fig, axes = plotting.subplots(2)
    d = E3[E3["filter"] == "flat"].copy()
    d["uniform 1/N"] = 1 / d["N"]
    plotting.mean_ci_lines(d, x="N", y="gold_mass_topic", hue="model", ax=axes[0, 0])
    axes[0, 0].plot(sorted(d.N.unique()), [1 / n for n in sorted(d.N.unique())], "k--", label="uniform 1/N")
    axes[0, 0].set(
        xscale="log", xlabel="memories in store N", ylabel="topic attention on gold (fraction)", title="Dilution"
    )
    axes[0, 0].legend()
    plotting.mean_ci_lines(E3[E3.model == "qa"], x="N", y="choice", hue="filter", ax=axes[0, 1])
    axes[0, 1].axhline(E3.chance.mean(), color="k", ls=":", label="chance")
    axes[0, 1].set(
        xscale="log",
        xlabel="memories in store N",
        ylabel="A forced-choice accuracy (fraction)",
        title="A (QA-trained) by filter",
    )
    axes[0, 1].legend(fontsize=8)
    plt.show()


def recall_figure(H: pd.DataFrame, modes: Sequence[str]) -> None:
    """Held-out recall of every mode (strict hit and forced choice, mean over seeds, 95% CI)."""
    fig, axes = plotting.subplots(1)
    ax = axes[0, 0]
    long = (
        H.groupby(["mode", "seed"])[["strict", "choice"]]
        .mean()
        .reset_index()
        .melt(id_vars=["mode", "seed"], var_name="score", value_name="rate")
    )
    sns.barplot(data=long, y="mode", x="rate", hue="score", order=modes, errorbar=("ci", 95), ax=ax)
    ax.axvline(H.chance.mean(), color="k", ls=":", label="forced-choice chance")
    ax.set(
        xlabel="held-out recall (fraction of queries)",
        ylabel="mode",
        title="Text in the prompt recalls; the prefix does not",
    )
    ax.legend(fontsize=8)
    plt.show()


def fixes_table(M: Mapping[str, float], e3_n: Sequence[int], e7_betas: Sequence[float]) -> pd.DataFrame:
    """For each failure the PR names (book/appendix/ams.md §5): the fix, what it changes and what
    remains, filled from the chapter's metric means ``M``."""
    n_top = max(e3_n)
    b_lo, b_hi = min(e7_betas), max(e7_betas)
    return pd.DataFrame(
        [
            ("prefix ≈ √D loud (E1)", "LN × learnable scale",
             f"slot/token norm ratio {M['e1_ln_norm_ratio']:.1f} → {M['e1_learnable_norm_ratio']:.2f}",
             f"distinct ratio {M['e1_ln_distinct']:.2f} → {M['e1_learnable_distinct']:.2f}; strict hit of A "
             f"{M['e1_learnable_strict']:.2f}"),
            ("topic bases collapse (E2)", "content Jaccard + diversity hinge; symmetric query",
             f"off-diag cos {M['e2_a_raw_offdiag_mean']:.3f} (raw) → {M['e2_b_content_offdiag_mean']:.3f} (content) "
             f"→ {M['e2_c_hinge_offdiag_mean']:.3f} (+ hinge)",
             f"topic top-1 {M['e2_c_hinge_top1']:.2f} (symmetric {M['e2_d_symmetric_top1']:.2f}) vs BM25 "
             f"{M['topic_bm25_top1']:.2f}, pooled-h cos {M['topic_cos_top1']:.2f}"),
            ("dilution over N (E3)", "top-4 / oracle filter before attention",
             f"gold topic mass (QA model) N=1 {M['e3_qa_gold_mass_topic_N1']:.2f}, N={n_top} "
             f"{M[f'e3_qa_gold_mass_topic_N{n_top}']:.3f}",
             f"A substring hit flat {M['substring_A_qa']:.3f}, top-4 {M['substring_Atop4_qa']:.3f}, gold only "
             f"{M['substring_Agold_qa']:.3f} vs text oracle {M['substring_oracle']:.3f}"),
            ("self-completion objective (E4)", "entity cloze, QA supervision",
             f"store-swap choice change psa {M['e4_trained_swap_choice_changed']:.2f}, cloze "
             f"{M['e4_cloze_swap_choice_changed']:.2f}, qa {M['e4_qa_swap_choice_changed']:.2f}",
             f"forced choice A:qa {M['choice_A_qa']:.3f} vs floor {M['choice_floor']:.3f}"),
            ("Kakeya side store (E5, E6)", "none needed: off the read path",
             f"bit-identical without geometry: {bool(M['e6_bit_identical'])}",
             f"raw/stored floats at N=20: {M['e5_raw_over_stored_N20']:.2f}; centred error "
             f"{M['e5_out_err_centred_N20_set0']:.2f}"),
            ("gate met by keyword spraying (E7)", "strict scorers",
             f"substring hit β={b_lo:g} {M[f'e7_beta{b_lo:g}_substring']:.2f} → β={b_hi:g} "
             f"{M[f'e7_beta{b_hi:g}_substring']:.2f}",
             f"strict hit {M[f'e7_beta{b_hi:g}_strict']:.2f}, distinct ratio {M[f'e7_beta{b_hi:g}_distinct']:.2f}"),
            ("honest baseline", "BM25 / pooled-h cosine top-k + text",
             f"strict hit bm25@1 {M['strict_bm25at1']:.3f}, cos@1 {M['strict_cosat1']:.3f}, D {M['strict_D']:.3f}",
             f"forced choice bm25@1 {M['choice_bm25at1']:.3f}, oracle {M['choice_oracle']:.3f}, A:trained "
             f"{M['choice_A_trained']:.3f}"),
        ],
        columns=["failure", "fix", "what the fix changes (measured)", "what remains (measured)"],
    ).set_index("failure")  # fmt: skip
