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
# # 10. Drex: the EMA bootstrap problem
#
# **Question.** Drex (Phase 11) reports that its associative memory, written with a fixed
# α = 0.95, "fails" at short segments (L ≤ 32: the gate fires ~97% of the time, the memory never
# warms up), and that the length-adaptive α(L) = 0.95^(96/L) fixes it by holding the time
# constant τ/L = 1/((1 − α)L) ≈ 0.21 for L = 16–128. Is that so in the seed's own trained
# setting, is it the time constant that matters, and does the seed's task measure recall at all?
#
# **Claims** (`claims.yaml`): `drex.ema_bootstrap` (seed: fixed α fails at L ≤ 32, α(L) fixes
# it), `drex.tau_explains_recall` (audit: what α(L) fixes is τ/L — at equal τ/L recall is the
# same at every L, rather than being set by the write step η = 1 − α), `drex.recall_task_valid`
# (audit: the 0.20–0.27 accuracies of the seed's task measure memory recall) and
# `drex.tau_over_L` (identity: α(L) keeps τ/L constant, ≈ 0.21).
#
# **What we run.** The seed's task (`memnb/drex/task.py`: vocab 64, 5 key→value pairs, a filler
# token repeated, the memory read at a constant query token) and a corrected layout
# (`layout="kv"`: each value stored under the token before it, the memory read at the queried
# key). **The design every claim is judged on is the seed's own protocol**: exp_47_1's model
# (`memnb/drex/seed_model.py`, `ProbeConfig(arch="exp47")`: embedding → ReLU MLP → LN, one 64×64
# delta-rule memory, gate θ = 0.40) trained as its script trains it — Adam at lr 3e-4, 800 steps,
# batch 32, a fresh batch every step — and scored on 1920 = 60 × 32 fresh sequences. A second,
# cheaper protocol is shown beside it as a **secondary view**, not judged: *the memory alone*,
# the model frozen at its random initialisation with only a linear head fitted on the memory's
# read (`linear_probe`), at a smaller d where capacity binds. The closed-form write rate is in
# `memnb/drex/theory.py`, the loops in `memnb/drex/experiment.py` and `memnb/drex/sweep.py`.
#
# **This version (issue 17).** The first versions judged `drex.ema_bootstrap` by an AND of both
# protocols; the trained one was decisive (adaptive − fixed +0.534 ± 0.233, adaptive 1.0 at
# L = 16 and 32 on every seed) and the frozen probe (+0.023) made the verdict INCONCLUSIVE. The
# seed's protocol is now the design and the frozen probe a secondary view; the rules are
# protocol 2 (a positive control, δ, a paired CI over seeds, the MDE); a constant-η arm decides
# `drex.tau_explains_recall`; and every number comes from 5 seeds the chapter had not used.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.drex import rules, theory
from memnb.drex.experiment import memory_norms
from memnb.drex.probe import ProbeConfig
from memnb.drex.sweep import run_grid, write_rate_table
from memnb.drex.task import N_PAIRS, VALUES

ch = Chapter.open("10_ema_bootstrap", profile, seeds, overrides)
THETA = 0.40  # exp_47_1's gate threshold
SEED_TASK_L = 32  # the seed's layout is trained at the length its claim is about (rules: L = 32)
CHANCE_VOCAB = 1 / (VALUES[1] - VALUES[0])  # guess any value token
CHANCE_CONTEXT = 1 / N_PAIRS  # guess one of the in-context values
n_values = VALUES[1] - VALUES[0]
print(f"chance: {CHANCE_VOCAB:.3f} (any of {n_values} values), {CHANCE_CONTEXT:.3f} (one of {N_PAIRS} in context)")
print(f"constant-η arm: α = α(32) = 0.95³ = {theory.alpha('const_eta', 96):.6f} at every L")

# %% [markdown]
# ## Design and budget (piloted before the run)
#
# **Arms** (exp_47_1's model, the seed's protocol; every arm of a seed shares its initialisation
# seed and draws its training batches and evaluation sequences from the same streams, keyed by
# seed and L, so differences are paired by seed):
#
# - corrected layout at L ∈ `train_lengths` = {16, 32, 64, 96}: **fixed** α = 0.95 (L = 16, 32,
#   96), **adaptive** α(L) (every L; τ/L ≈ 0.21 — the *constant-τ/L* arm), **constant η**
#   α = 0.95³ = 0.857 (L = 64, 96; at L = 32 it *is* α(32), the same run), and the **memory
#   removed** (every L). At L = 96 fixed and adaptive α are both 0.95: one run.
# - the seed's layout at L = 32: fixed, adaptive, memory removed.
#
# **Pilot** (`python -m memnb.drex.pilot --seed 100 --steps 100`, seed 100, which the chapter
# never uses; one thread; seconds per step include scoring 1920 sequences, so they overstate an
# 800-step run by a few per cent): corrected layout 0.016 s/step at L = 16 (fixed and adaptive),
# 0.021 at L = 32, 0.040–0.042 at L = 64, 0.054–0.059 at L = 96, memory removed 0.0015–0.007;
# seed layout at L = 32 0.022 (adaptive) and 0.038 (fixed). **Budget**: per seed the 15 trained
# runs sum to 0.343 s/step × 800 steps = 275 CPU s; × 5 seeds = 1,374 CPU s, plus the frozen-probe
# grid and the tables (≈ 20 CPU s a seed), on two worker processes of one thread: ≈ 12 minutes
# of wall time. The seed's layout is no longer trained at L = 96 (its first version did): the
# claim it serves is about the seed's task at L = 32, and the budget goes to the new arms.
#
# **MDE** (α = 0.05, power 0.8, n = 5, from the per-seed SD of the chapter's previous run on
# seeds 0–2): `drex.ema_bootstrap` SD 0.094 → MDE 0.156 (δ = 0.2); `drex.recall_task_valid`
# SD 0.0073 → 0.012 (δ = 0.025); `drex.tau_explains_recall`, recall at L = 96 minus L = 32, SD
# 0.074 → 0.122 (δ = 0.2). Every planned MDE is below its δ; the verdicts report the run's own
# MDE and flag a claim underpowered where it exceeds δ.

# %% [markdown]
# ## Rules, registered before the run
#
# Written as data in `memnb/drex/rules.py` (`CHAPTER_10`, committed before this run; the ledger
# checks the hash), rendered here from that data before any result exists. §6 applies them.

# %%
ch.rules(rules.CHAPTER_10)

# %% [markdown]
# ## 1. α(L), τ/L and the write rate in closed form
#
# The "EMA" write is a delta rule with step η = 1 − α. The filler token of the seed's layout is
# the *same key* written again and again; after n writes its relative error is (1 − η)ⁿ, so the
# gate (fire while the error ≥ θ) fires n* = ⌈ln θ / ln α⌉ times, and the write rate of a
# sequence is wr = (10 + min(n*, L − 13) + 2)/(L − 1) (`theory.seed_write_rate`; the
# {doc}`Drex appendix <../appendix/drex>`, §4). The table puts that formula beside the rate
# measured on the untrained probe (batch of 64 task sequences) for each schedule, and adds the
# seed's production length L = 512. Where a random key overlaps an earlier one (large step η)
# a non-filler token may not fire, and the measured rate falls slightly below the formula.
#
# `drex.tau_over_L` is an identity: τ/L = 1/((1 − 0.95^(96/L)) L) is a closed form, so its rule
# checks the exact values at L = 16, 24, 32, 48, 64, 96, 128 (each within ±10% of the seed's
# 0.21, and the half-spread around their mean at most 10%): no seeds, no CI.

# %%
SCHEDULES = ["fixed", "adaptive", "linear_c5", "const_eta"]
rates = write_rate_table(
    ProbeConfig(memory="single", thresh=THETA), sorted({*ch["lengths"], 512}), SCHEDULES, seed=ch.seeds[0]
)
rates.style.format({"alpha": "{:.4f}", "tau/L": "{:.3f}", "wr formula": "{:.3f}", "wr measured": "{:.3f}"})

# %%
rates["|measured − formula|"] = (rates["wr measured"] - rates["wr formula"]).abs()
ch.metric("wr_formula_max_abs_error", float(rates["|measured − formula|"].max()))
ch.metric("wr_formula_n_exact", int((rates["|measured − formula|"] < 1e-3).sum()))
ch.metric("wr_formula_n_rows", len(rates))
for _, r in rates.iterrows():
    ch.metric(f"wr_init_{r['schedule']}_L{r['L']}", float(r["wr measured"]))
tau = pd.DataFrame(
    {"L": rules.TAU_LENGTHS, "alpha(L)": [theory.alpha("adaptive", L) for L in rules.TAU_LENGTHS]}
).assign(**{"tau/L": lambda d: [theory.tau_over_L(a, L) for a, L in zip(d["alpha(L)"], d.L, strict=True)]})
tau["tau/L ÷ 0.21 − 1"] = tau["tau/L"] / 0.21 - 1
for L, v in zip(tau.L, tau["tau/L"], strict=True):
    ch.metric(f"tau_over_L_adaptive_L{L}", float(v))
tl = tau["tau/L"].to_numpy()
spread = float((tl.max() - tl.min()) / 2 / tl.mean())
ch.metric("tau_over_L_adaptive_rel_halfspread", spread)
ch.metric("alpha_adaptive_L512", float(theory.alpha("adaptive", 512)))
ch.metric("tau_over_L_limit", float(1 / (96 * np.log(1 / 0.95))))  # L → ∞
print(f"tau/L over L=16..128: {tl.min():.4f}..{tl.max():.4f} (±{spread:.1%} around the mean); "
      f"limit L→∞: 1/(96 ln(1/0.95)) = {ch.metrics['tau_over_L_limit']:.4f}")  # fmt: skip
tau.style.format({"alpha(L)": "{:.4f}", "tau/L": "{:.4f}", "tau/L ÷ 0.21 − 1": "{:+.1%}"})

# %%
fig, axes = plotting.subplots(2)
sns.lineplot(data=rates[rates.L <= 128], x="L", y="tau/L", hue="schedule", marker="o", ax=axes[0, 0])
axes[0, 0].axhline(0.21, ls=":", c="k", label="seed: 0.21")
axes[0, 0].set(
    xscale="log", ylabel="τ/L = 1/((1−α)L)", xlabel="segment length L (tokens)", title="time constant per length"
)
sns.lineplot(data=rates, x="L", y="wr measured", hue="schedule", marker="o", ax=axes[0, 1], legend=False)
for s in SCHEDULES:
    sub = rates[rates.schedule == s]
    axes[0, 1].plot(sub.L, sub["wr formula"], ls=":", c="k", lw=1)
axes[0, 1].axhspan(0.20, 0.70, alpha=0.1, color="g")
axes[0, 1].set(
    xscale="log",
    xlabel="segment length L (tokens)",
    ylabel="write rate (fraction of positions)",
    title=f"write rate, θ={THETA} (dotted: formula)",
)
plt.show()

# %% [markdown]
# ## 2. Memory-norm growth over positions
#
# ‖M‖_F after each write of the untrained probe (64 sequences, seed layout): with fixed α the
# norm at L = 32 is still climbing when the segment ends (the "never warms up" of the seed);
# α(L) lets it saturate within the segment. Whether that matters for recall is §3–5.

# %%
curves = []
for s in ("fixed", "adaptive"):
    for L in ch["seed_lengths"]:
        cfg = ProbeConfig(memory="single", thresh=THETA, alpha=theory.alpha(s, L))
        n = memory_norms(cfg, length=L, seed=ch.seeds[0])[:, 0]
        curves += [{"schedule": s, "L": L, "position t": t, "‖M‖_F": v} for t, v in enumerate(n)]
curves = pd.DataFrame(curves)
ax = sns.lineplot(data=curves, x="position t", y="‖M‖_F", hue="schedule", style="L")
ax.set(xlabel="write position t (tokens)", ylabel="‖M‖_F (Frobenius norm)", title="memory norm over the segment")
plt.show()

# %% [markdown]
# ## 3. The trained runs (the design every claim is judged on)
#
# All trained arms of §Design in one grid, on two worker processes (the numbers do not depend on
# the worker count: `tests/test_drex_seed_model.py`). Each row: accuracy against the queried
# key's value, against a decoy (the value of another in-context pair), the eval loss and the
# write rate averaged over training (the seed's own figure).

# %%
exp47 = {"arch": "exp47", "memory": "single", "thresh": THETA}
train_arms = [
    ({"layout": "seed", "arm": s}, ProbeConfig(**exp47, layout="seed", alpha=theory.alpha(s, SEED_TASK_L)), SEED_TASK_L)
    for s in ("fixed", "adaptive")
] + [({"layout": "seed", "arm": "memory removed"}, ProbeConfig(**{**exp47, "memory": "none"}), SEED_TASK_L)]
kv_schedules = {"fixed": [L for L in ch["train_lengths"] if L != 64], "adaptive": ch["train_lengths"],
                "const_eta": [L for L in ch["train_lengths"] if L >= 32]}  # fmt: skip
for s, Ls in kv_schedules.items():
    train_arms += [
        ({"layout": "kv", "arm": s}, ProbeConfig(**exp47, layout="kv", alpha=theory.alpha(s, L)), L) for L in Ls
    ]
train_arms += [
    ({"layout": "kv", "arm": "memory removed"}, ProbeConfig(**{**exp47, "layout": "kv", "memory": "none"}), L)
    for L in ch["train_lengths"]
]
trained = run_grid(
    train_arms, ch.seeds, mode="train", workers=ch["workers"],
    steps=ch["train_steps"], lr=ch["train_lr"], n_eval=ch["train_eval"],
)  # fmt: skip
e2e, small = trained[trained.layout == "seed"], trained[trained.layout == "kv"]
trained.groupby(["layout", "arm", "L"])[["acc", "acc_decoy", "loss", "wr_train"]].mean().style.format("{:.3f}")

# %%
for (arm, L), g in small.groupby(["arm", "L"]):
    name = arm.replace(" ", "_")
    ch.metric(f"e2e_kv_recall_{name}_L{L}", g.sort_values("seed").acc.tolist())
    ch.metric(f"e2e_kv_acc_decoy_{name}_L{L}", g.sort_values("seed").acc_decoy.tolist())
    if arm != "memory removed":
        ch.metric(f"e2e_kv_wr_train_{name}_L{L}", g.sort_values("seed").wr_train.tolist())
by_seed = small.pivot_table(index="seed", columns=["arm", "L"], values="acc")
for s in ("fixed", "adaptive"):
    ch.metric(f"e2e_kv_recall_{s}_Lle32", by_seed[s][[16, 32]].mean(axis=1).tolist())
for s in ("adaptive", "const_eta"):
    ch.metric(f"e2e_kv_recall_{s}_L64_96", by_seed[s][[64, 96]].mean(axis=1).tolist())

# %% [markdown]
# ## 4. Does the seed's task measure recall? (`drex.recall_task_valid`)
#
# The seed's layout at L = 32, fixed and adaptive α, and the memory removed. The effect per seed
# is accuracy − decoy accuracy, averaged over the two memory arms: when recall is key-specific,
# accuracy above chance comes from recalling the *asked* key's value, and the decoy stays low.
# Chance: 1/32 for any value token, 1/5 for "one of the in-context values". The positive control
# is the same model and protocol on the corrected layout, where the query can name its key.
# Two details of the seed's script: its writes keep their gradient (exp_47_1 has no `no_grad`;
# only the production L4 of Phase 16 detaches them), and its values are drawn *with*
# replacement — we keep ours distinct (`memnb/drex/task.py`) so that the decoy is always a
# different value. The seed's numbers (exp_47_1, three seeds; {doc}`Drex appendix
# <../appendix/drex>` §3) are beside ours in the table: accuracy 0.259/0.253/0.255 (fixed),
# 0.253/0.245/0.247 (adaptive); write rate (averaged over training) 0.966 and 0.581.

# %%
mem = e2e[e2e.arm != "memory removed"].sort_values("seed")
ch.metric("e2e_seed_task_acc", mem.groupby("seed").acc.mean().tolist())
ch.metric("e2e_seed_task_acc_decoy", mem.groupby("seed").acc_decoy.mean().tolist())
ch.metric("e2e_seed_task_acc_memory_removed", e2e[e2e.arm == "memory removed"].sort_values("seed").acc.tolist())
for arm, g in e2e.groupby("arm"):
    ch.metric(f"e2e_seed_task_acc_{arm.replace(' ', '_')}_L{SEED_TASK_L}", g.sort_values("seed").acc.tolist())
    if arm != "memory removed":
        ch.metric(f"e2e_seed_task_wr_train_{arm}_L{SEED_TASK_L}", g.sort_values("seed").wr_train.tolist())
ch.metric("chance_any_value", CHANCE_VOCAB)
ch.metric("chance_in_context", CHANCE_CONTEXT)
seed_acc = {"fixed": "0.259/0.253/0.255", "adaptive": "0.253/0.245/0.247", "memory removed": "—"}
faithful = e2e.groupby("arm").agg(acc=("acc", list), decoy=("acc_decoy", list), wr=("wr_train", "mean")).reset_index()
faithful["accuracy (mean ± 95% CI)"] = [stats.fmt(stats.summarize(v)) for v in faithful.acc]
faithful["decoy accuracy"] = [stats.fmt(stats.summarize(v)) for v in faithful.decoy]
faithful["seed's accuracy (3 seeds)"] = faithful.arm.map(seed_acc)
faithful["write rate (training mean)"] = faithful.wr.round(3)
faithful.drop(columns=["acc", "decoy", "wr"])

# %% [markdown]
# *Secondary view: the memory alone.* The same question with the probe frozen at its random
# initialisation and a linear head fitted on the memory's read (seed layout, L ∈ `seed_lengths`,
# d = 64): not judged.

# %%
probe_arms = [
    ({"arm": s}, ProbeConfig(layout="seed", memory="single", thresh=THETA, alpha=theory.alpha(s, L)), L)
    for s in ("fixed", "adaptive")
    for L in ch["seed_lengths"]
] + [({"arm": "memory removed"}, ProbeConfig(layout="seed", memory="none"), L) for L in ch["seed_lengths"]]
seed_task = run_grid(
    probe_arms, ch.seeds, mode="probe", workers=ch["workers"], n_train=ch["n_train"], n_eval=ch["n_eval"]
)
pmem = seed_task[seed_task.arm != "memory removed"]
ch.metric("seed_task_key_specific_effect", (pmem.acc - pmem.acc_decoy).groupby(pmem.seed).mean().tolist())
ch.metric("seed_task_acc", pmem.groupby("seed").acc.mean().tolist())
ch.metric(
    "seed_task_acc_memory_removed", seed_task[seed_task.arm == "memory removed"].groupby("seed").acc.mean().tolist()
)
seed_task.groupby(["arm", "L"])[["acc", "acc_decoy", "wr"]].mean().style.format("{:.3f}")

# %% [markdown]
# ## 5. Recall vs L on the corrected task (`drex.ema_bootstrap`, `drex.tau_explains_recall`)
#
# `drex.ema_bootstrap`: recall(adaptive) − recall(fixed), per seed, averaged over L ∈ {16, 32}
# (where the seed says fixed α fails). `drex.tau_explains_recall`: the constant-τ/L arm (α(L))
# at L = 64 and 96 against itself at L = 32 (τ/L ≈ 0.21 at all three: the claim says recall is
# the same), and the constant-η arm (α = 0.857 at every L, τ/L falling as 1/L) against the
# constant-τ/L arm at the same L (if recall followed η rather than τ/L, holding η would do
# better). Both arms are the *same run* at L = 32, so the two curves start from one point.

# %%
short = by_seed["adaptive"][[16, 32]].mean(axis=1) - by_seed["fixed"][[16, 32]].mean(axis=1)
eta_gap = by_seed["const_eta"][[64, 96]].mean(axis=1) - by_seed["adaptive"][[64, 96]].mean(axis=1)
print("adaptive − fixed recall at L ≤ 32, per seed:", short.round(3).tolist())
for L in (64, 96):
    print(
        f"α(L): recall at L = {L} − at L = 32, per seed:",
        (by_seed["adaptive"][L] - by_seed["adaptive"][32]).round(3).tolist(),
    )
print("constant η − constant τ/L recall at L ∈ {64, 96}, per seed:", eta_gap.round(3).tolist())
small.pivot_table(index="L", columns="arm", values=["acc", "wr_train"]).style.format("{:.3f}", na_rep="–")

# %% [markdown]
# *Secondary view: the memory alone.* The frozen probe on the corrected layout, at d = `probe_d`
# (at d = 64 the frozen memory recalls every pair at every L, a ceiling that hides any effect of
# α), every schedule at every L in `lengths`: not judged.

# %%
kv_arms = [
    (
        {"arm": s},
        ProbeConfig(layout="kv", memory="single", d=ch["probe_d"], thresh=THETA, alpha=theory.alpha(s, L)),
        L,
    )
    for s in SCHEDULES
    for L in ch["lengths"]
]
kv = run_grid(kv_arms, ch.seeds, mode="probe", workers=ch["workers"], n_train=ch["n_train"], n_eval=ch["n_eval"])
for (s, L), g in kv.groupby(["arm", "L"]):
    ch.metric(f"kv_recall_{s}_L{L}", g.sort_values("seed").acc.tolist())
kv_short = kv[kv.L <= 32].pivot_table(index="seed", columns="arm", values="acc")
ch.metric("kv_recall_adaptive_minus_fixed_Lle32", (kv_short["adaptive"] - kv_short["fixed"]).tolist())
kv.pivot_table(index="L", columns="arm", values="acc").style.format("{:.3f}")

# %%
fig, axes = plotting.subplots(2, 2)
panels = [
    (small, "(b) corrected task, exp_47_1's model trained (the judged design)"),
    (kv, f"(a) corrected task, memory alone, d={ch['probe_d']} (secondary)"),
    (e2e, f"(b) seed's task, seed's model and protocol, L={SEED_TASK_L}"),
    (seed_task, "(a) seed's task, memory alone (secondary)"),
]
for ax, (data, title) in zip(axes.flat, panels, strict=True):
    if data["L"].nunique() > 1:
        plotting.mean_ci_lines(data, x="L", y="acc", hue="arm", ax=ax)
        ax.set(xscale="log", xlabel="segment length L (tokens)")
    else:
        sns.barplot(data=data, x="arm", y="acc", errorbar=("ci", 95), ax=ax)
        ax.set(xlabel="arm")
    ax.axhline(CHANCE_CONTEXT, ls=":", c="k", label="chance 1/5")
    ax.axhline(CHANCE_VOCAB, ls="--", c="grey", label="chance 1/32")
    ax.set(ylabel="recall accuracy (fraction)", title=title)
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 6. Verdicts
#
# The rules registered above, applied to the metrics recorded in §1–5 (protocol 2: the control
# first, then Δ's paired 95% CI against δ or the bound; a compound claim takes its weakest
# part; the identity is a check on exact values).

# %%
ch.judge()

# %%
for c in ch.claims:
    eff, ctl = c.get("effect") or {}, c.get("control") or {}
    ci = eff.get("ci95")
    ci_text = f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "(no CI)"
    est = f"Δ = {eff['estimate']:+.3f} {ci_text}, n={eff['n']}, MDE {eff['mde']:.3f}" if eff.get("mde") else ""
    ref = f"δ = {c['delta']}" if c.get("delta") is not None else (f"b = {c['bound']}" if c.get("bound") else "")
    control = f"control {'passed' if ctl.get('passed') else 'FAILED'}" if ctl else "check on exact values"
    print(f"{c['id']}: {c['verdict']}  {est}  {ref}  {control}")
    for p in c.get("parts", []):
        pe, pci = p["effect"], p["effect"]["ci95"]
        print(f"   {p['name']:<14} Δ = {pe['estimate']:+.3f} [{pci[0]:+.3f}, {pci[1]:+.3f}]  → {p['verdict']}"
              if pci else f"   {p['name']:<14} Δ = {pe['estimate']:+.3f} (no CI) → {p['verdict']}")  # fmt: skip

# %% [markdown]
# **Answer.** Printed from this run's numbers (below). `drex.tau_over_L`: whether the closed
# form stays within ±10% of 0.21 at every L from 16 to 128. `drex.recall_task_valid`: whether
# the seed's task, in the seed's own model and protocol, tells the asked value from a decoy.
# `drex.ema_bootstrap`: whether α(L) recalls better than α = 0.95 at L ≤ 32 in that trained
# model, on the corrected layout. `drex.tau_explains_recall`: whether recall at equal τ/L holds
# from L = 32 to 64 and 96, and whether the constant-η arm does better there — the test of
# whether the gain follows τ/L or the write step 1 − α. The frozen-memory view is printed last,
# as context.

# %%
fmt, m = stats.fmt, ch.metrics
verdict = {c["id"]: c["verdict"] for c in ch.claims}
tau_vals = ", ".join(f"{L}: {m[f'tau_over_L_adaptive_L{L}']:.3f}" for L in rules.TAU_LENGTHS)
print(f"tau/L of alpha(L) (exact): {tau_vals}; half-spread {m['tau_over_L_adaptive_rel_halfspread']:.1%} "
      f"→ drex.tau_over_L {verdict['drex.tau_over_L']}")  # fmt: skip
print(
    f"write rate = closed form (|gap| < 0.001) in {m['wr_formula_n_exact']} of {m['wr_formula_n_rows']} "
    f"(schedule, L) rows; largest gap {m['wr_formula_max_abs_error']:.4f}"
)
print(f"seed's task (L = {SEED_TASK_L}), seed's model and protocol: accuracy {fmt(m['e2e_seed_task_acc'])}, "
      f"decoy {fmt(m['e2e_seed_task_acc_decoy'])}, memory removed {fmt(m['e2e_seed_task_acc_memory_removed'])} "
      f"→ drex.recall_task_valid {verdict['drex.recall_task_valid']}")  # fmt: skip
print(f"corrected task, trained: recall at L ≤ 32, fixed α {fmt(m['e2e_kv_recall_fixed_Lle32'])} vs adaptive "
      f"{fmt(m['e2e_kv_recall_adaptive_Lle32'])} → drex.ema_bootstrap {verdict['drex.ema_bootstrap']}")  # fmt: skip
print("corrected task, trained, recall by L: "
      + "; ".join(f"α(L) L={L}: {fmt(m[f'e2e_kv_recall_adaptive_L{L}'])}" for L in (32, 64, 96))
      + "; " + "; ".join(f"constant η L={L}: {fmt(m[f'e2e_kv_recall_const_eta_L{L}'])}" for L in (64, 96))
      + f" → drex.tau_explains_recall {verdict['drex.tau_explains_recall']}")  # fmt: skip
print(f"memory alone (secondary): seed's task accuracy − decoy {fmt(m['seed_task_key_specific_effect'])}; "
      f"corrected task adaptive − fixed at L ≤ 32 {fmt(m['kv_recall_adaptive_minus_fixed_Lle32'])}")  # fmt: skip

# %%
ch.publish()
