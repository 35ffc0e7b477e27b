# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11. Drex: the write-gate threshold sweep
#
# **Question.** Drex (Phase 12, exp_48_1) calibrated the OR relative-norm write gate of its split
# episodic/semantic memory: θ = 0.70 gives write rates 0.581 (L = 32) and 0.421 (L = 96), inside
# its target bands (0.20–0.70 and 0.15–0.50), and was declared the best threshold; the null
# retrieval gate "helps" (+0.30 ppl without it) and a learned combination of the two reads does
# not beat plain concatenation. Which of these survive once the write rate is computed in
# closed form and recall is made possible?
#
# **Seed's claims:** `drex.gate_write_rates`, `drex.thresh_070_best`, `drex.null_gate`,
# `drex.no_combination_gate`, `drex.write_rates_trained` (`claims.yaml`).
#
# **What we run.** The split probe of exp_48_1 (`memnb/drex/probe.py`, `memory="split"`: two
# d/2 × d/2 memories, OR gate, episodic recency ramp, α(L) = 0.95^(96/L)) on the seed's layout
# and on the corrected key→value layout of chapter 10 (`memnb/drex/task.py`). The closed form is
# `memnb/drex/theory.py`; the loops are `memnb/drex/experiment.py` and `memnb/drex/sweep.py`.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from memnb import plotting
from memnb.book.chapter import Chapter
from memnb.drex import theory
from memnb.drex.probe import ProbeConfig
from memnb.drex.rules import CHAPTER_11
from memnb.drex.sweep import run_grid, write_rate_table
from memnb.drex.task import N_PAIRS

ch = Chapter.open("11_gate_sweep", profile, seeds, overrides)
BANDS = {32: (0.20, 0.70), 96: (0.15, 0.50)}  # the seed's target write-rate bands
split = ProbeConfig(layout="seed", memory="split", thresh=0.70, gate="or")
print(f"chance: 1/{N_PAIRS} in context")

# %% [markdown]
# ## Rules, registered before the run
#
# The chapter's five claims are judged by rules written as data in `memnb/drex/rules.py`
# (`CHAPTER_11`), rendered here from that data before any result exists; §5 applies them to the
# metrics this run records. The sections below say what each rule's measure is and why.

# %%
ch.rules(CHAPTER_11)

# %% [markdown]
# ## 1. Write rate vs θ: closed form, at initialisation
#
# For the split memory the filler token is written until *both* branches have memorised it
# (OR gate): the semantic branch after ⌈ln θ / ln α⌉ writes, the episodic one, whose step is
# η(t+1)/L, later (`theory.seed_write_rate(..., gate="or")`). The AND gate stops at the earlier
# one. Measured: the untrained probe on the seed layout, per seed. The formula assumes every
# non-filler token fires once; at high θ some do not (random keys overlap), so the measured rate
# falls below it there — the table shows the gap.
#
# `drex.gate_write_rates` checks the measured write rate at θ = 0.70 against the seed's bands at
# L = 32 and L = 96. The rate is a deterministic function of the layout, so seeds agree; the
# rule still checks each.

# %%
L_all = sorted({32, 96, *ch["lengths"]})
rows = []
for seed in ch.seeds:
    for gate in ("or", "and"):
        for th in ch["thresholds"]:
            t = write_rate_table(
                ProbeConfig(layout="seed", memory="split", thresh=th, gate=gate), L_all, ["adaptive"], seed=seed
            )
            rows.append(t.assign(theta=th, gate=gate, seed=seed))
wr = pd.concat(rows, ignore_index=True)
wr["|measured − formula|"] = (wr["wr measured"] - wr["wr formula"]).abs()
wr[wr.seed == ch.seeds[0]].pivot_table(
    index="theta", columns=["gate", "L"], values=["wr formula", "wr measured"]
).style.format("{:.3f}")

# %%
at07 = wr[(wr.theta == 0.70) & (wr.gate == "or")] if 0.70 in ch["thresholds"] else wr.iloc[:0]
for L in (32, 96):
    ch.metric(f"wr_or_theta070_L{L}", at07[at07.L == L]["wr measured"].tolist())
ch.metric("wr_formula_max_abs_error", float(wr["|measured − formula|"].max()))
ch.metric("wr_formula_max_abs_error_theta_le_075", float(wr[wr.theta <= 0.75]["|measured − formula|"].max()))
print(
    "θ=0.70, OR gate, write rate per seed:", {L: at07[at07.L == L]["wr measured"].round(3).tolist() for L in (32, 96)}
)

# %%
ax = sns.lineplot(data=wr[wr.seed == ch.seeds[0]], x="theta", y="wr measured", hue="L", style="gate", markers=True)
for L, (lo, hi) in BANDS.items():
    ax.axhspan(lo, hi, alpha=0.08, color="g" if L == 32 else "b")
ax.axvline(0.70, ls=":", c="k")
ax.set(
    xlabel="gate threshold θ",
    ylabel="write rate (fraction of positions)",
    title="write rate vs θ (bands: seed's targets)",
)
plt.show()

# %% [markdown]
# ## 2. After training (`drex.write_rates_trained`)
#
# The seed's own split model and protocol (`memnb/drex/seed_model.py`, `ProbeConfig(arch=
# "exp47")`: exp_47_2's `FullAdaptiveModel` — ReLU MLP encoder, two 32 × 32 memories, OR gate,
# episodic recency ramp, α(L) = 0.95^(96/L), writes *with* gradient, read projection and head —
# at θ = 0.70 as exp_48_1 uses it), trained as the seed trains it: `audit_steps` Adam steps at lr
# `audit_lr`, batch 32, fresh batches, on the seed's layout. Write rates on `audit_eval` fresh
# sequences before and after training, and the seed's own figure, the rate averaged over the
# training batches. (Changed in this version: the first version trained our `RecallProbe` for
# 150 steps at lr 3e-3 to fit the budget; the audit now uses the seed's model and its 800 steps
# at 3e-4. The rule is unchanged.)
#
# **Measure.** Effect per seed = |wr(trained) − wr(closed form)|, the largest over the lengths,
# with wr(trained) measured on fresh sequences after training: a gap well above 0.01 would make
# the rate a property of the trained memory, a gap below it makes it the layout's closed form
# (the rule of `drex.write_rates_trained`, registered above).

# %%
arms = [
    (
        {"arm": "seed layout"},
        ProbeConfig(arch="exp47", layout="seed", memory="split", thresh=0.70, alpha=theory.alpha("adaptive", L)),
        L,
    )
    for L in ch["lengths"]
]
trained = run_grid(arms, ch.seeds, mode="train", steps=ch["audit_steps"], lr=ch["audit_lr"], n_eval=ch["audit_eval"])
trained["wr formula"] = [theory.seed_write_rate(L, theory.alpha("adaptive", L), 0.70, gate="or") for L in trained.L]
trained["|trained − formula|"] = (trained.wr - trained["wr formula"]).abs()
cols = ["L", "seed", "wr formula", "wr_init", "wr_train", "wr", "|trained − formula|", "acc", "acc_decoy"]
trained[cols].rename(
    columns={"wr_init": "wr at init", "wr_train": "wr training mean", "wr": "wr trained", "acc": "accuracy"}
).style.format(precision=4)

# %%
dev = trained.groupby("seed")["|trained − formula|"].max()
ch.metric("wr_trained_minus_formula_abs", dev.tolist())
for L, g in trained.groupby("L"):
    ch.metric(f"wr_trained_L{L}", g.wr.tolist())
    ch.metric(f"wr_init_L{L}", g.wr_init.tolist())
    ch.metric(f"wr_train_mean_L{L}", g.wr_train.tolist())
    ch.metric(f"trained_seed_task_acc_L{L}", g.acc.tolist())
print("max |trained − formula| per seed:", dev.round(4).tolist())

# %% [markdown]
# ## 3. Recall vs θ on the corrected task (`drex.thresh_070_best`), OR vs AND
#
# The corrected key→value layout with the split memory at `probe_d` (small enough that capacity
# binds; chapter 10 §4), frozen at initialisation, linear head fitted (`linear_probe`), for every
# θ and L; the AND gate at the same θ as a control.
#
# **Measure.** Effect per seed = recall(θ = 0.70) − recall(θ'), where θ' is the other threshold
# with the highest mean recall (averaged over L); negative means another θ recalls better (the
# rule of `drex.thresh_070_best`, registered above).

# %%
d = ch["probe_d"]
arms = [
    (
        {"theta": th, "gate": g},
        ProbeConfig(layout="kv", memory="split", d=d, thresh=th, gate=g, alpha=theory.alpha("adaptive", L)),
        L,
    )
    for g in ("or", "and")
    for th in ch["thresholds"]
    for L in ch["lengths"]
    if g == "or" or th == 0.70
]
sweep = run_grid(arms, ch.seeds, mode="probe", n_train=ch["n_train"], n_eval=ch["n_eval"])
sweep.pivot_table(index="theta", columns=["gate", "L"], values=["acc", "wr"]).style.format("{:.3f}")

# %%
orr = sweep[sweep.gate == "or"].pivot_table(index="seed", columns="theta", values="acc")  # mean over L
others = orr.drop(columns=[0.70]) if 0.70 in orr else orr
best_other = others.mean().idxmax()
thr_effect = (orr[0.70] - orr[best_other]).tolist() if 0.70 in orr else [0.0]
for th in orr.columns:
    ch.metric(f"kv_recall_or_theta{th:.2f}", orr[th].tolist())
ch.metric("kv_recall_070_minus_best_other", thr_effect)
ch.metric("best_other_theta", float(best_other))
and_ = sweep[sweep.gate == "and"].groupby("seed").acc.mean()
ch.metric("kv_recall_and_theta070", and_.tolist())
ch.metric("kv_recall_or_minus_and_theta070", (orr[0.70] - and_).tolist() if 0.70 in orr else [0.0])
print(f"recall(0.70) − recall({best_other}) per seed:", np.round(thr_effect, 3).tolist())

# %% [markdown]
# ## 4. Null retrieval gate and combination gate (trained)
#
# Both are learned, so they need training: our split probe (`RecallProbe`) on the corrected
# layout (L = 32, d = 64, θ = 0.70), trained `train_steps` Adam steps at lr `train_lr`, batch 32
# (a budget protocol: fewer, larger steps than the seed's 800 at 3e-4 of §2); arms: the seed's
# (null gate, concatenated read), no null gate, and a learned combination gate
# [c r_s ; (1 − c) r_e] (with the null gate). Metric: eval cross-entropy (nats) on fresh
# sequences — the seed measured perplexity.
#
# **Measures.** `drex.null_gate`: effect per seed = loss(no null gate) − loss(null gate).
# `drex.no_combination_gate` ("concatenation is as good as a learned gate"): effect per seed =
# loss(combination gate) − loss(concat), read against a gain of 0.02 nats for the gate. Both
# rules are registered above.

# %%
L0 = ch["lengths"][0]
base = ProbeConfig(layout="kv", memory="split", thresh=0.70, alpha=theory.alpha("adaptive", L0), null_gate=True)
arms = [
    ({"arm": "seed (null gate, concat)"}, base, L0),
    ({"arm": "no null gate"}, replace(base, null_gate=False), L0),
    ({"arm": "combination gate"}, replace(base, combine="gate"), L0),
]
gates = run_grid(arms, ch.seeds, mode="train", steps=ch["train_steps"], lr=ch["train_lr"], n_eval=ch["n_eval"])
gates.groupby("arm")[["loss", "acc", "acc_decoy"]].agg(["mean", "std"]).style.format("{:.3f}")

# %%
lp = gates.pivot_table(index="seed", columns="arm", values="loss")
null_effect = (lp["no null gate"] - lp["seed (null gate, concat)"]).tolist()
comb_effect = (lp["combination gate"] - lp["seed (null gate, concat)"]).tolist()
for arm in lp.columns:
    ch.metric("loss_" + arm.split(" (")[0].replace(" ", "_"), lp[arm].tolist())
ch.metric("null_gate_loss_effect", null_effect)
ch.metric("combination_gate_minus_concat_loss", comb_effect)
print("null gate:", np.round(null_effect, 4).tolist(), "| combination:", np.round(comb_effect, 4).tolist())

# %%
fig, axes = plotting.subplots(2)
plotting.mean_ci_lines(sweep[sweep.gate == "or"], x="theta", y="acc", hue="L", ax=axes[0, 0])
axes[0, 0].axvline(0.70, ls=":", c="k")
axes[0, 0].set(xlabel="gate threshold θ", ylabel="recall accuracy", title=f"corrected task, split d={d}, OR gate")
sns.barplot(data=gates, x="arm", y="loss", errorbar=("ci", 95), ax=axes[0, 1])
axes[0, 1].set(xlabel="", ylabel="eval loss (nats)", title=f"trained probe, L={L0}")
axes[0, 1].tick_params(axis="x", labelrotation=15, labelsize=7)
plt.show()

# %% [markdown]
# ## 5. Verdicts
#
# The rules registered above, applied to the metrics recorded in §1–4.

# %%
ch.judge()

# %% [markdown]
# **Answer.** The table above compares the write rates of Phase 12 with the closed form of the
# layout before and after training (`drex.write_rates_trained`). Where they coincide, "θ = 0.70
# is in band" is a statement about how many filler repeats the two branches need, not about
# what the memory stores. Where recall is possible (corrected task),
# the recall-vs-θ curve in §3 and the verdicts above say whether 0.70 is special; the null and
# combination gates are judged on trained loss in §4.

# %%
ch.publish()
