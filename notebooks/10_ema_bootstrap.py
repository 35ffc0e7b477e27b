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
# constant τ/L = 1/((1 − α)L) ≈ 0.21 for L = 16–128. Is that a property of memory, or of the
# task? And does the task measure recall at all?
#
# **Seed's claims** (`claims.yaml`): `drex.ema_bootstrap` (fixed α fails at L ≤ 32,
# α(L) fixes it), `drex.tau_over_L` (τ/L ≈ 0.21 constant), and implicitly
# `drex.recall_task_valid` (the 0.20–0.27 accuracies of every arm measure memory recall).
#
# **What we run.** The seed's task (`memnb/drex/task.py`: vocab 64, 5 key→value pairs, a filler
# token repeated, the memory read at a constant query token) and its probe model
# (`memnb/drex/probe.py`: per-token encoder, one 64×64 delta-rule memory, gate θ = 0.40 as in
# exp_47_1), faithfully; then a corrected layout (`layout="kv"`: value stored under the token
# before it, memory read at the queried key). The closed-form write rate is in
# `memnb/drex/theory.py`, the loops in `memnb/drex/experiment.py` and `memnb/drex/sweep.py`.
#
# **Two protocols.** (a) *The memory alone*: the probe is frozen at its random initialisation
# and only a linear softmax head on the memory's read is fitted (`linear_probe`). This isolates
# what the memory returns from what an encoder learns, and it costs seconds, so every L and
# schedule gets ≥ 3 seeds and ≥ 512 evaluation sequences. (b) *The seed's protocol, end to
# end*: exp_47_1's own model (`memnb/drex/seed_model.py`, `ProbeConfig(arch="exp47")`) trained
# as its script trains it — Adam at lr 3e-4, 800 steps, batch 32, a fresh batch every step —
# and scored on 1920 = 60 × 32 fresh sequences, on the seed's layout at L ∈ {32, 96} (§3) and,
# as "the memory inside a small model", on the corrected layout at several L (§4). The first
# version of this chapter ran (a) only; (b) was added to run the seed's task faithfully.

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
from memnb.drex import theory
from memnb.drex.experiment import memory_norms
from memnb.drex.probe import ProbeConfig
from memnb.drex.rules import CHAPTER_10
from memnb.drex.sweep import run_grid, write_rate_table
from memnb.drex.task import N_PAIRS, VALUES

ch = Chapter.open("10_ema_bootstrap", profile, seeds, overrides)
SCHEDULES = list(theory.ALPHA_SCHEDULES)
THETA = 0.40  # exp_47_1's gate threshold
CHANCE_VOCAB = 1 / (VALUES[1] - VALUES[0])  # guess any value token
CHANCE_CONTEXT = 1 / N_PAIRS  # guess one of the in-context values
n_values = VALUES[1] - VALUES[0]
print(f"chance: {CHANCE_VOCAB:.3f} (any of {n_values} values), {CHANCE_CONTEXT:.3f} (one of {N_PAIRS} in context)")

# %% [markdown]
# ## Rules, registered before the run
#
# The chapter's three claims are judged by rules written as data in `memnb/drex/rules.py`
# (`CHAPTER_10`), rendered here from that data before any result exists; §5 applies them to the
# metrics this run records. The sections below say what each rule's measure is and why.

# %%
ch.rules(CHAPTER_10)

# %% [markdown]
# ## 1. α(L), τ/L and the write rate in closed form
#
# The "EMA" write is a delta rule with step η = 1 − α. The filler token of the seed's layout is
# the *same key* written again and again; after n writes its relative error is (1 − η)ⁿ, so the
# gate (fire while the error ≥ θ) fires n* = ⌈ln θ / ln α⌉ times, and the write rate of a
# sequence is wr = (10 + min(n*, L − 13) + 2)/(L − 1) (`theory.seed_write_rate`; the
# {doc}`Drex appendix <../appendix/drex>`, §4). The table puts that formula beside the rate
# measured on the untrained probe (batch of 64 task sequences) for each schedule, and adds the
# seed's production length L = 512. The formula assumes each non-filler token fires exactly once;
# where a random key overlaps an earlier one (large step η) it may not, and the measured rate
# falls slightly below.
#
# `drex.tau_over_L` is checked on τ/L of α(L) = 0.95^(96/L) over L = 16–128 (its half-spread
# around the mean and its extremes against the seed's 0.21): a closed form, deterministic, no
# seeds involved.

# %%
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
adaptive = rates[(rates.schedule == "adaptive") & rates.L.between(16, 128)]
tl = adaptive["tau/L"].to_numpy()
ch.metric("tau_over_L_adaptive_min", float(tl.min()))
ch.metric("tau_over_L_adaptive_max", float(tl.max()))
ch.metric("alpha_adaptive_L512", float(theory.alpha("adaptive", 512)))
spread = float((tl.max() - tl.min()) / 2 / tl.mean())
ch.metric("tau_over_L_adaptive_rel_halfspread", spread)
print(f"tau/L over L=16..128: {tl.min():.3f}..{tl.max():.3f} (±{spread:.1%} around the mean)")

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
# α(L) lets it saturate within the segment. Whether that matters for recall is §3–4.

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
# ## 3. Does the seed's task measure recall? (`drex.recall_task_valid`)
#
# Seed layout, fixed and adaptive α, L ∈ `seed_lengths`, plus the *memory removed* control (the
# read replaced by zeros). For each run we score the prediction against the queried key's value
# (**accuracy**) and against the value of a different, randomly drawn pair in the same sequence
# (**decoy accuracy**). Chance: 1/32 for any value token, 1/5 for "one of the in-context values".
# Both protocols: (a) the frozen single-memory probe with a fitted linear head; (b) exp_47_1's
# model trained end to end (`memnb/drex/seed_model.py`): embedding → ReLU MLP d → 2d → d → LN,
# one 64 × 64 delta-rule memory written at t ≤ L − 2 with θ = 0.40, read at the query token
# (unnormalised), a read projection and the head; Adam, lr `train_lr`, `train_steps` steps,
# batch 32, scored on `train_eval` fresh sequences. Two details of the seed's script that its
# summaries get wrong or leave open: its writes keep their gradient (exp_47_1 has no `no_grad`;
# only the production L4 of Phase 16 detaches them), and its values are drawn *with*
# replacement — we keep ours distinct (chapter choice, `memnb/drex/task.py`) so that the decoy
# is always a different value.
#
# **Rule (changed in this version).** The first version judged protocol (a) alone; the rule of
# `drex.recall_task_valid` (registered above) now includes (b), the seed's own protocol, which
# the issue asks for and the first version left out for budget. Threshold and effect are
# unchanged. Effect per seed and protocol = accuracy − decoy accuracy, averaged over the memory
# arms and lengths: when recall is key-specific, accuracy above chance comes from recalling the
# key's value. The memory-removed arm and the chance levels tell whether the memory contributes
# anything at all.

# %%
arms = [
    ({"arm": s}, ProbeConfig(layout="seed", memory="single", thresh=THETA, alpha=theory.alpha(s, L)), L)
    for s in ("fixed", "adaptive")
    for L in ch["seed_lengths"]
] + [({"arm": "memory removed"}, ProbeConfig(layout="seed", memory="none"), L) for L in ch["seed_lengths"]]
seed_task = run_grid(arms, ch.seeds, mode="probe", n_train=ch["n_train"], n_eval=ch["n_eval"])
seed_task.groupby(["arm", "L"])[["acc", "acc_decoy", "wr"]].agg(["mean", "std"]).style.format("{:.3f}")

# %%
mem = seed_task[seed_task.arm != "memory removed"]
effect = (mem.acc - mem.acc_decoy).groupby(mem.seed).mean()
ch.metric("seed_task_acc", mem.groupby("seed").acc.mean().tolist())
ch.metric("seed_task_acc_decoy", mem.groupby("seed").acc_decoy.mean().tolist())
ch.metric("seed_task_key_specific_effect", effect.tolist())
ch.metric(
    "seed_task_acc_memory_removed", seed_task[seed_task.arm == "memory removed"].groupby("seed").acc.mean().tolist()
)
for (arm, L), g in seed_task.groupby(["arm", "L"]):
    ch.metric(f"seed_task_acc_{arm.replace(' ', '_')}_L{L}", g.acc.tolist())
ch.metric("chance_any_value", CHANCE_VOCAB)
ch.metric("chance_in_context", CHANCE_CONTEXT)
print("(a) memory alone, accuracy − decoy per seed:", effect.round(3).tolist())

# %% [markdown]
# (b) The seed's protocol, end to end. At L = 96 fixed and adaptive α coincide (0.95) and are
# one run. The seed's numbers (exp_47_1, three seeds; {doc}`Drex appendix <../appendix/drex>`
# §3) are beside ours: accuracy 0.259/0.253/0.255 (fixed, L = 32), 0.253/0.245/0.247
# (adaptive, L = 32), ≈ 0.25 at L = 96; write rate (averaged over training, as its script
# reports) 0.966, 0.581, 0.315.

# %%
e2e_kw = {"steps": ch["train_steps"], "lr": ch["train_lr"], "n_eval": ch["train_eval"]}
exp47 = {"arch": "exp47", "layout": "seed", "memory": "single", "thresh": THETA}
arms = [
    ({"arm": s}, ProbeConfig(**exp47, alpha=theory.alpha(s, L)), L)
    for s in ("fixed", "adaptive")
    for L in ch["seed_lengths"]
] + [({"arm": "memory removed"}, ProbeConfig(**{**exp47, "memory": "none"}), L) for L in ch["seed_lengths"]]
e2e = run_grid(arms, ch.seeds, mode="train", **e2e_kw)
e2e.groupby(["arm", "L"])[["acc", "acc_decoy", "loss", "wr_train", "wr"]].agg(["mean", "std"]).style.format("{:.3f}")

# %%
e2e_mem = e2e[e2e.arm != "memory removed"]
e2e_effect = (e2e_mem.acc - e2e_mem.acc_decoy).groupby(e2e_mem.seed).mean()
ch.metric("e2e_seed_task_acc", e2e_mem.groupby("seed").acc.mean().tolist())
ch.metric("e2e_seed_task_acc_decoy", e2e_mem.groupby("seed").acc_decoy.mean().tolist())
ch.metric("e2e_seed_task_key_specific_effect", e2e_effect.tolist())
ch.metric("e2e_seed_task_acc_memory_removed", e2e[e2e.arm == "memory removed"].groupby("seed").acc.mean().tolist())
for (arm, L), g in e2e.groupby(["arm", "L"]):
    name = arm.replace(" ", "_")
    ch.metric(f"e2e_seed_task_acc_{name}_L{L}", g.acc.tolist())
    if arm != "memory removed":
        ch.metric(f"e2e_seed_task_wr_train_{name}_L{L}", g.wr_train.tolist())
print("(b) seed's protocol, accuracy − decoy per seed:", e2e_effect.round(3).tolist())

# %% [markdown]
# ## 4. Recall vs L on the corrected task (`drex.ema_bootstrap`)
#
# Corrected layout: each value is written under the token before it (key → value) and the
# memory is read at the queried key, so the read can depend on which key was asked. At d = 64
# the frozen memory recalls every pair at every L (accuracy 1.0 in our trials: a ceiling that
# hides any effect of α), so the corrected probe uses a smaller memory (`probe_d`, one
# d×d matrix) where capacity binds; the same d for every schedule and L.
#
# (b) *The memory inside a small model.* The issue asks for the recall probe "on the L4 memory
# alone (and inside a small model)". The seed's Phase 11 has exactly one such model — exp_47_1's
# probe, the memory behind a trained per-token encoder (the four-tier transformer is chapter
# 12's subject) — so (b) is that model, trained end to end with the seed's protocol as in §3,
# on the corrected layout (key P h_{t−1}, value P_v h_t, query n(P h_{L−1}); d = 64, θ = 0.40)
# at L ∈ `train_lengths`, fixed vs adaptive α, with the memory-removed control.
#
# **Rule (changed in this version).** The first version judged (a) alone; the rule of
# `drex.ema_bootstrap` (registered above) now includes (b), added to test the claim in the
# seed's own trained setting. Threshold and effect are unchanged. Effect per seed and protocol =
# recall(adaptive) − recall(fixed), averaged over L ≤ 32 (where the seed says fixed α fails).
# `linear_c5` (exp_47_1's clamp(1 − 5/L)) is a control schedule in (a), not judged.

# %%
arms = [
    (
        {"schedule": s},
        ProbeConfig(layout="kv", memory="single", d=ch["probe_d"], thresh=THETA, alpha=theory.alpha(s, L)),
        L,
    )
    for s in SCHEDULES
    for L in ch["lengths"]
]
kv = run_grid(arms, ch.seeds, mode="probe", n_train=ch["n_train"], n_eval=ch["n_eval"])
kv.pivot_table(index="L", columns="schedule", values=["acc", "wr"]).style.format("{:.3f}")

# %%
short = kv[kv.L <= 32].pivot_table(index="seed", columns="schedule", values="acc")
boot_effect = (short["adaptive"] - short["fixed"]).tolist()
for (s, L), g in kv.groupby(["schedule", "L"]):
    ch.metric(f"kv_recall_{s}_L{L}", g.acc.tolist())
ch.metric("kv_recall_adaptive_minus_fixed_Lle32", boot_effect)
ch.metric("kv_acc_decoy_mean", float(kv.acc_decoy.mean()))
print("(a) adaptive − fixed recall at L ≤ 32, per seed:", np.round(boot_effect, 3).tolist())

# %%
kv47 = {"arch": "exp47", "layout": "kv", "memory": "single", "thresh": THETA}
arms = [
    ({"schedule": s}, ProbeConfig(**kv47, alpha=theory.alpha(s, L)), L)
    for s in ("fixed", "adaptive")
    for L in ch["train_lengths"]
] + [({"schedule": "memory removed"}, ProbeConfig(**{**kv47, "memory": "none"}), L) for L in ch["train_lengths"]]
small = run_grid(arms, ch.seeds, mode="train", **e2e_kw)
small.pivot_table(index="L", columns="schedule", values=["acc", "acc_decoy", "wr_train"]).style.format("{:.3f}")

# %%
for (s, L), g in small.groupby(["schedule", "L"]):
    ch.metric(f"e2e_kv_recall_{s.replace(' ', '_')}_L{L}", g.acc.tolist())
short47 = small[small.L <= 32].pivot_table(index="seed", columns="schedule", values="acc")
boot_effect_e2e = (short47["adaptive"] - short47["fixed"]).tolist()
ch.metric("e2e_kv_recall_adaptive_minus_fixed_Lle32", boot_effect_e2e)
print("(b) small model, adaptive − fixed recall at L ≤ 32, per seed:", np.round(boot_effect_e2e, 3).tolist())

# %%
fig, axes = plotting.subplots(2, 2)
panels = [
    (kv, "schedule", f"(a) corrected task, memory alone, d={ch['probe_d']}"),
    (small, "schedule", "(b) corrected task, small model trained (seed's protocol)"),
    (seed_task, "arm", "(a) seed's task, memory alone"),
    (e2e, "arm", "(b) seed's task, seed's model and protocol"),
]
for ax, (data, hue, title) in zip(axes.flat, panels, strict=True):
    plotting.mean_ci_lines(data, x="L", y="acc", hue=hue, ax=ax)
    ax.axhline(CHANCE_CONTEXT, ls=":", c="k", label="chance 1/5")
    ax.axhline(CHANCE_VOCAB, ls="--", c="grey", label="chance 1/32")
    ax.set(xscale="log", xlabel="segment length L (tokens)", ylabel="recall accuracy (fraction)", title=title)
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 5. Verdicts
#
# The rules registered above, applied to the metrics recorded in §1–4.

# %%
ch.judge()

# %% [markdown]
# **Answer.** Read from the numbers of this run (printed below): how closely the untrained
# probe's write rates follow the closed form of the task layout, whether the seed's task can tell
# the asked value from a decoy (accuracy minus decoy accuracy) — with the memory alone and with
# the seed's own model and training protocol — and whether the length-adaptive α changes recall
# on the corrected task, for the memory alone and inside the trained small model. The
# "bootstrap failure" (wr ≈ 0.97 at L = 32 with α = 0.95) is the count of filler repeats the
# delta rule needs to memorise one key. One more row to read in the trained model's table:
# L = 96, where α(L) = 0.95 and τ/L is the seed's "good" 0.21. If recall there is far below the
# adaptive arm's at L = 16–32, the gain follows the write step size 1 − α, not a constant τ/L,
# and "α(L) fixes it across L" does not hold for the trained model.

# %%
fmt, m = stats.fmt, ch.metrics
print(
    f"write rate = closed form (|gap| < 0.001) in {m['wr_formula_n_exact']} of {m['wr_formula_n_rows']} "
    f"(schedule, L) rows; largest gap {m['wr_formula_max_abs_error']:.4f}"
)
print(
    f"seed's task: accuracy {fmt(m['seed_task_acc'])}, decoy accuracy {fmt(m['seed_task_acc_decoy'])}, "
    f"key-specific effect {fmt(m['seed_task_key_specific_effect'])} (chance in context {m['chance_in_context']:.2f})"
)
print(
    f"seed's task, seed's model and protocol: accuracy {fmt(m['e2e_seed_task_acc'])}, decoy "
    f"{fmt(m['e2e_seed_task_acc_decoy'])}, memory removed {fmt(m['e2e_seed_task_acc_memory_removed'])}"
)
print(f"corrected task, adaptive − fixed recall at L ≤ 32: {fmt(m['kv_recall_adaptive_minus_fixed_Lle32'])} (a), "
      f"{fmt(m['e2e_kv_recall_adaptive_minus_fixed_Lle32'])} (b)")  # fmt: skip
faithful = e2e.groupby(["arm", "L"]).agg(acc=("acc", list), wr_train=("wr_train", "mean")).reset_index()
faithful["accuracy (mean ± 95% CI)"] = [fmt(stats.summarize(v)) for v in faithful.acc]
seed_acc = {("fixed", 32): "0.259/0.253/0.255", ("adaptive", 32): "0.253/0.245/0.247"}
faithful["seed's accuracy (3 seeds)"] = [seed_acc.get((a, L), "≈0.25" if a != "memory removed" else "—")
                                         for a, L in zip(faithful.arm, faithful.L, strict=True)]  # fmt: skip
faithful[["arm", "L", "accuracy (mean ± 95% CI)", "seed's accuracy (3 seeds)", "wr_train"]].rename(
    columns={"wr_train": "write rate (training mean, fraction)"}
)

# %%
ch.publish()
