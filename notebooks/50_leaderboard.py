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
# # 50. Every memory on multi-query associative recall
#
# **Question.** Can the book's memories store key–value pairs and answer lookups of them, at
# what size of state, and how does that compare with what Zoology published for the same task?
# Multi-query associative recall (MQAR; Arora et al. 2023, *Zoology*) puts `kv` key–value pairs
# at the start of a sequence and then queries every key once, each query supervised — a clean
# test of recall that small models can learn, unlike the label-starved suite this chapter used
# before (one or two scored tokens per sequence).
#
# **Claims** (Zoology's, `claims.yaml`; the task and the published figures are in
# {doc}`../appendix/zoology`):
#
# - `zoology.attention_solves`: 2-layer attention solves MQAR at d_model = 64 where fixed-state
#   recurrent memories of the same width do not;
# - `zoology.recall_grows_with_state`: for fixed-state memories, accuracy rises with the size of
#   the recurrent state;
# - `zoology.delta_rule_leads_fixed_state`: at equal state, the (gated) delta rule recalls
#   better than the other fixed-state memories.
#
# What the seeds' own memories (Drex L2 = Infini-attention, L3 = Titans, L4, ReLSM's memory
# tokens, HRS's exp-kernel attention) reach on the same axes is the result none of them
# published; at the `cpu` budget only the control and six contenders fit (Budget, below), the
# others are in the `gpu` profile.
#
# | arm | memory | equation in |
# |---|---|---|
# | `attention` | full causal attention, RoPE, 1 head (Zoology's) | `memnb/layers/attention.py` |
# | `attention_noconv` | the same without the short convolution | `memnb/layers/attention.py` |
# | `attention_nope` | full attention without positions: separates position from kernel | `memnb/layers/attention.py` |
# | `sliding_window` | attention inside a 16-token window (Drex L1) | `memnb/layers/sliding_window.py` |
# | `gated_delta_rule_h2`, `_h1` | Gated DeltaNet, 2 or 1 heads | `memnb/layers/gated_delta_rule.py` |
# | `mamba2` | Mamba-2 (SSD), ReLSM's corrected SSM | `memnb/layers/ssd.py` |
# | `gpu` only | `gated_delta_rule_h4`, Infini, Titans, Drex L4, memory tokens, exp-kernel | `leaderboard/sweep.py` |
#
# **Builds on** {doc}`02_memory_zoo` (every layer checked exact, causal and segment-recurrent;
# the chunked gated-delta-rule op against its per-token reference) and each memory's chapter.

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
from memnb.data.tasks.mqar import make_mqar
from memnb.leaderboard import published
from memnb.leaderboard.mqar import MQARRun
from memnb.leaderboard.rules import FLAT, RULES, SOLVED
from memnb.leaderboard.sweep import ARMS, FIXED_STATE, arm_run, run_all

ch = Chapter.open("50_leaderboard", profile, seeds, overrides)
base = MQARRun(
    d_model=ch["d_model"],
    n_layers=ch["n_layers"],
    seq_len=ch["seq_len"],
    n_pairs=ch["n_pairs"],
    vocab_size=ch["vocab_size"],
    steps=ch["steps"],
    batch_size=ch["batch_size"],
    lr=ch["lr"],
    eval_n=ch["eval_n"],
)
print(base)

# %% [markdown]
# ## Design
#
# - **Task** (`memnb/data/tasks/mqar.py`, written from Zoology's specification): keys from the
#   lower half of the vocabulary, values from the upper half, keys unique within an example;
#   the `kv` pairs first, then every key queried once in a slot drawn by Zoology's power law
#   (a = 0.01: most queries close to the pairs), random tokens elsewhere; every query's value is
#   a label. The vocabulary (`vocab_size`) exceeds 4× the training length, so the
#   generalisation columns (2× and 4× the length with 2× and 4× the pairs, Zoology's (64, 4) →
#   (128, 8) → (256, 16)) are valid tasks.
# - **Model** (`memnb/leaderboard/mqar.py`): `memnb.models.Decoder`, 2 layers as Zoology's, the
#   arm's memory as the mixer of both, a GELU MLP after it (Zoology's Figure 2 has none), one
#   head for attention (Zoology's) and a causal depthwise convolution of kernel 2 in front of
#   **every** mixer (`DecoderConfig.short_conv`: a learned token shift, as Zoology's
#   short-convolution models have; `attention_noconv` shows what it does). Width and depth are
#   the same for every arm; the parameter counts differ by the memory's own projections (table).
# - **Budget**: every arm of a seed trains the same `steps` AdamW steps on the same batches
#   (batch `s` is a pure function of (seed, s)), constant lr 1e-2, no weight decay (chosen in the
#   pilot on attention and the gated delta rule; Zoology sweeps four learning rates per model,
#   which this budget cannot), and is scored on the same held-out examples.
# - **State** in one unit: floats of recurrent state per sequence after the training length,
#   summed over layers, the short convolution's buffer included (attention: its KV cache, which
#   grows with length; everything else is fixed), also in bytes at fp32. The gated delta rule
#   keeps d²/H floats a layer, so 2 → 1 heads doubles its state at the same width and
#   parameters (to 0.2%): the cleanest handle on state this budget affords (Zoology varies d instead,
#   which also changes the parameters; the `gpu` profile adds widths 128 and 256).
# - **Cost**: training FLOPs per token (`torch.utils.flop_counter` over a forward and backward
#   pass: matmuls and attention), measured on the trained model.
# - **Dropped**: the passkey and bAbI tasks of this chapter's earlier suite (no contender left
#   chance on them: too few scored tokens per sequence for these budgets), and Drex L4 at `cpu`
#   (its layer stores keys as their own values, the seed's layout, so it cannot bind a key to a
#   value: in an earlier pilot, V = 128, its loss sat at ln 64, uniform over the values; the
#   corrected key→value layout of chapter 10 is a probe there, not yet a layer option, so the
#   `gpu` arm runs the seed layout and says so).
# - **Chance**: a uniform guess over the values is right 1/(V/2) of the time; a model that copies
#   a random value from its context, 1/kv (the best a model can do without binding keys to
#   values). Both are printed beside every accuracy.
#
# **Controls** (in the rules): attention must solve the training configuration (accuracy ≥ 0.9
# on every seed), or nothing is ranked; and "does not reach" counts only from a finished curve —
# the arm a claim says is worse must gain at most 0.05 over its last quarter of training on
# every seed, else its comparison is *not converged at this budget*: UNTESTABLE, not REFUTED.
#
# ## Budget (piloted before the run)
#
# Pilot: `python -m memnb.leaderboard.mqar_pilot --seed 100 --steps 400 --workers 2` and
# `--seed 101 --steps 480` (seeds the chapter never uses; two workers of one thread each on the
# 2-core machine, 2026-12-02). CPU seconds per step at d = 64, L = 64, batch 32 (seed 100):
# attention 0.050, attention without positions 0.046, without the convolution 0.047, sliding
# window 0.053, gated delta rule 0.093 (2 heads) and 0.081 (1 head), Mamba-2 0.135 — 0.505 s for
# the seven arms. **Budget**: 5 seeds × 480 steps × 0.505 CPU s (the seven arms' sum per step) =
# 1,212 CPU s of training, plus evaluation, on two workers: about 11–12 minutes of wall time (the seven arms
# of one seed took 124 s at 400 steps and 144 s at 480 under load).
#
# **Control, piloted**: attention reached 0.963 (seed 100, 400 steps) and 0.979 (seed 101, 480
# steps), above the 0.9 bar. **MDE** of the paired accuracy differences the rules judge, from the
# two pilot seeds' SD at n = 5 (`memnb.stats.mde`, α = 0.05, power 0.8): attention − sliding window
# 0.026, − gated delta rule (2 heads) 0.029, − (1 head) 0.051, − Mamba-2 0.023; 1 head − 2 heads
# 0.079; 2 heads − Mamba-2 0.006, − sliding window 0.002 — all below δ = 0.1. A two-seed SD is
# rough, and the recurrent arms' curves in the pilot sit near chance and then take off at a
# seed-dependent step (the gated delta rule with 2 heads went 0.04 → 0.71 between steps 200 and
# 400), so the run's own SD may be far larger: the verdicts flag a comparison underpowered when
# the run's MDE exceeds δ. The pilot also showed the convergence control failing for the gated
# delta rule (still climbing at the end on both seeds). The rules (δ, the 0.05 convergence bar,
# the 0.9 control) were written while the pilot ran, after seed 100's first arms had finished,
# and were not changed after it.

# %%
mqar_example = make_mqar(1, seed=0, seq_len=base.seq_len, n_pairs=base.n_pairs, vocab_size=base.vocab_size)
print(" ".join(mqar_example.vocab.render(mqar_example.inputs[0].tolist()).split()[:32]), "...")
chance = {"uniform over values": 2 / base.vocab_size, "a value from the context": 1 / base.n_pairs}
print("chance levels:", {k: round(v, 4) for k, v in chance.items()})

# %% [markdown]
# ## The rules, registered before the run
#
# Written as data in `memnb/leaderboard/rules.py` (committed before this chapter's run; the
# ledger checks the hash):

# %%
ch.rules(RULES)

# %% [markdown]
# ## Train every arm on every seed
#
# One line per finished run: its held-out accuracy, its last-quarter gain and its CPU seconds.

# %%
widths = [ch["d_model"], *[w for w in ch["widths"] if w != ch["d_model"]]]
jobs = [(arm, w, s) for w in widths for arm in ch["arms"] for s in ch.seeds]
runs = [arm_run(arm, base, seed=s, d_model=w) for arm, w, s in jobs]
labels = [f"{arm} d={w} seed {s}" for arm, w, s in jobs]
results = run_all(runs, workers=ch["workers"], labels=labels)

rows = []
for (arm, w, s), res in zip(jobs, results, strict=True):
    rows.append(
        {
            "arm": arm, "d_model": w, "seed": s, "accuracy": res["accuracy"], "nll": res["nll"],
            "acc_x2": res["longer"]["2"], "acc_x4": res["longer"]["4"], "gain_last_quarter": res["gain_last_quarter"],
            "state_floats": res["state_floats"], "params": res["params"],
            "train_flops_per_token": res["train_flops_per_token"], "cpu_s": res["cpu_s"], "wall_s": res["wall_s"],
        }
    )  # fmt: skip
runs_df = pd.DataFrame(rows)
runs_df["state_bytes"] = 4 * runs_df.state_floats
curves = pd.DataFrame(
    [
        {"arm": a, "d_model": w, "seed": s, **pt}
        for (a, w, s), res in zip(jobs, results, strict=True)
        for pt in res["curve"]
    ]
)
for r in runs_df.itertuples():
    ch.timings[f"cpu_s/{r.arm}/d{r.d_model}/{r.seed}"] = round(r.cpu_s, 1)
print(f"{len(runs)} runs, {runs_df.cpu_s.sum():.0f} CPU s of training in all")

# %% [markdown]
# ## Learning curves
#
# Held-out accuracy during training (mean over seeds, 95% CI band), at the width the claims are
# judged at. The dashed line is the control's bar (attention must reach it); the dotted line the
# context-copy chance level 1/kv. The shaded last quarter is where the convergence control
# looks.

# %%
palette = dict(zip(ARMS, sns.color_palette("tab20", len(ARMS)), strict=True))
at_d = curves[curves.d_model == ch["d_model"]]
fig, axes = plotting.subplots(1)
ax = axes[0, 0]
plotting.mean_ci_lines(at_d, x="step", y="accuracy", hue="arm", ax=ax, palette=palette)
ax.axhline(SOLVED, color="grey", ls="--", lw=1)
ax.axhline(chance["a value from the context"], color="grey", ls=":", lw=1)
ax.axvspan(0.75 * base.steps, base.steps, color="0.9", zorder=0)
ax.set(xlabel="training step", ylabel="held-out accuracy (fraction of queries)", ylim=(-0.02, 1.02),
       title=f"MQAR, L = {base.seq_len}, kv = {base.n_pairs}, d = {ch['d_model']} ({len(ch.seeds)} seeds)")  # fmt: skip
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %%
for r in runs_df[runs_df.d_model == ch["d_model"]].groupby("arm", sort=False):
    arm, g = r
    g = g.sort_values("seed")
    ch.metric(f"{arm}/acc", g.accuracy.tolist())
    ch.metric(f"{arm}/acc_x2", g.acc_x2.tolist())
    ch.metric(f"{arm}/acc_x4", g.acc_x4.tolist())
    ch.metric(f"{arm}/nll", g.nll.tolist())
    ch.metric(f"{arm}/gain_last_quarter", g.gain_last_quarter.tolist())
    ch.metric(f"{arm}/state_floats", int(g.state_floats.iloc[0]))
    ch.metric(f"{arm}/state_bytes", int(g.state_bytes.iloc[0]))
    ch.metric(f"{arm}/params", int(g.params.iloc[0]))
    ch.metric(f"{arm}/train_flops_per_token", float(g.train_flops_per_token.iloc[0]))
for (arm, w), g in runs_df[runs_df.d_model != ch["d_model"]].groupby(["arm", "d_model"], sort=False):
    ch.metric(f"{arm}/d{w}/acc", g.sort_values("seed").accuracy.tolist())
    ch.metric(f"{arm}/d{w}/state_floats", int(g.state_floats.iloc[0]))
ch.metric("chance_uniform", chance["uniform over values"])
ch.metric("chance_in_context", chance["a value from the context"])
_ = ch.metric("mean_chance", chance["a value from the context"])  # the landing figure's chance line

# %% [markdown]
# ## The table
#
# Per arm at the claims' width: accuracy at the training configuration (mean and 95% CI over
# seeds), at 2× and 4× the length with 2× and 4× the pairs, the last-quarter gain (the
# convergence control: "still climbing" when above 0.05 on any seed), state, parameters and
# training FLOPs per token. Zoology's published figures follow, by name and source.


# %%
def mean_ci(x: pd.Series) -> str:
    s = stats.summarize(x.tolist())
    lo, hi = s["ci95"] if s.get("ci95") else (s["mean"], s["mean"])
    return f"{s['mean']:.3f} [{lo:.3f}, {hi:.3f}]"


table = (
    runs_df[runs_df.d_model == ch["d_model"]]
    .groupby("arm", sort=False)
    .agg(
        accuracy=("accuracy", mean_ci),
        acc_x2=("acc_x2", "mean"),
        acc_x4=("acc_x4", "mean"),
        max_gain_last_quarter=("gain_last_quarter", "max"),
        state_floats=("state_floats", "first"),
        state_kib=("state_bytes", lambda b: b.iloc[0] / 1024),
        params=("params", "first"),
        mflops_per_token=("train_flops_per_token", lambda f: f.iloc[0] / 1e6),
    )
)
table["fixed_state"] = [a in FIXED_STATE for a in table.index]
table["converged"] = np.where(table.max_gain_last_quarter <= FLAT, "yes", "still climbing")
print(f"chance: {chance['uniform over values']:.4f} (uniform over values), {chance['a value from the context']:.3f} "
      f"(a value from the context); seeds {ch.seeds}; width d = {ch['d_model']}")  # fmt: skip
table.round(3)

# %%
zoo = published.state_curve()
fig2 = published.figure2()
print(published.SOURCE_FIG2, "(d_model = 64):")
print(fig2.to_string(index=False))
print("  and at L = 128 / 256 the gated-convolution and recurrent models:", published.FIGURE2_RANGES)
print(f"\n{published.SOURCE_STATE}:")
zoo[["model", "state_floats", "state_bytes", "accuracy"]]

# %% [markdown]
# ## Accuracy against state and against compute
#
# Left: held-out accuracy against bytes of state per sequence (fp32; attention's is its KV cache
# at the training length), ours as filled points with 95% CIs over seeds (every width run),
# Zoology's published recall-against-state curve as hollow points joined per model, each
# labelled with its source. Their points come from full training at V = 8192 (appendix §2):
# they say where a fully trained model of each class lands, ours where it lands on this
# budget, so the two are read side by side, never pooled. Right: our accuracy against training
# FLOPs per token; the black line joins the Pareto frontier (no arm is both more accurate and
# cheaper).


# %%
def frontier(df: pd.DataFrame, x: str) -> pd.DataFrame:
    """Rows not beaten by another row that is both cheaper (smaller x) and more accurate."""
    df = df.sort_values([x, "acc"], ascending=[True, False])
    keep, best = [], -np.inf
    for r in df.itertuples():
        if r.acc > best:
            keep.append(r.Index)
            best = r.acc
    return df.loc[keep]


points = (
    runs_df.groupby(["arm", "d_model"], sort=False)
    .agg(acc=("accuracy", "mean"), sd=("accuracy", "std"), n=("accuracy", "size"),
         state_bytes=("state_bytes", "first"), flops=("train_flops_per_token", "first"))
    .reset_index()
)  # fmt: skip
points["half"] = [
    stats.summarize(g.accuracy.tolist()).get("ci95") for _, g in runs_df.groupby(["arm", "d_model"], sort=False)
]
points["half"] = [(h[1] - h[0]) / 2 if h else 0.0 for h in points.half]
fig, axes = plotting.subplots(2)
for ax, x, xlabel in [(axes[0, 0], "state_bytes", "state per sequence (bytes, fp32)"),
                      (axes[0, 1], "flops", "training FLOPs per token")]:  # fmt: skip
    for r in points.itertuples():
        ax.errorbar(getattr(r, x), r.acc, yerr=r.half, fmt="o", color=palette[r.arm], ms=6, capsize=2)
        ax.annotate(f"{r.arm}" + (f" d={r.d_model}" if r.d_model != ch["d_model"] else ""), (getattr(r, x), r.acc),
                    fontsize=6, xytext=(3, 3), textcoords="offset points")  # fmt: skip
    front = frontier(points, x)
    ax.plot(front[x], front.acc, c="black", lw=0.8)
    ax.set(xscale="log", xlabel=xlabel, ylabel="held-out accuracy", ylim=(-0.02, 1.05))
ax = axes[0, 0]
for model, g in zoo.groupby("model", sort=False):  # our colour where we run the same class, else grey
    color = palette.get(published.OURS.get(model, ""), "0.35")
    ax.plot(g.state_bytes, g.accuracy, "o--", mfc="none", color=color, lw=0.8, ms=6)
    ax.annotate(f"{model} (Zoology)", (g.state_bytes.iloc[0], g.accuracy.iloc[0]), fontsize=6, color=color,
                xytext=(-4, 5), textcoords="offset points", ha="right")  # fmt: skip
ax.plot([], [], "o", color="0.2", label="this chapter (mean, 95% CI)")
ax.plot([], [], "o--", mfc="none", color="0.35", label=published.SOURCE_STATE)
ax.legend(fontsize=7, loc="lower right")
ax.set_title("accuracy vs state")
axes[0, 1].set_title("accuracy vs training compute")
for a in axes.flat:
    a.xaxis.set_minor_formatter(plt.NullFormatter())
plt.show()

# %% [markdown]
# ## Verdicts
#
# Each claim judged by its registered rule (protocol 2: the control first, then Δ's paired
# 95% CI against δ; a compound claim takes its weakest comparison).

# %%
ch.judge()

# %%
for c in ch.claims:
    print(f"{c['id']}: {c['verdict']}")
    for p in c.get("parts", []):
        eff = p.get("effect") or {}
        ci = eff.get("ci95") or [None, None]
        ctl = p.get("control") or {}
        print(f"  {p['name']:<26} Δ = {eff.get('estimate', float('nan')):+.3f} "
              f"[{ci[0] if ci[0] is None else round(ci[0], 3)}, {ci[1] if ci[1] is None else round(ci[1], 3)}]  "
              f"control {'passed' if ctl.get('passed') else 'FAILED'}  -> {p['verdict']}")  # fmt: skip

# %% [markdown]
# **Reading the verdicts.** The rules check convergence only on the arm a claim says is
# *worse*: an arm said to be better that never leaves its initial plateau (below the
# context-copy level 1/kv, i.e. it has not even learned to answer with a value from its
# context) makes a REFUTED that says "not at this budget", not "never". The cell below finds
# such comparisons in this run and says which arms learned at all.

# %%
learned = runs_df[runs_df.d_model == ch["d_model"]].groupby("arm", sort=False).accuracy
ctx = chance["a value from the context"]
for arm, acc in learned:
    seeds_above = int((acc > ctx).sum())
    print(f"{arm:<22} above the context-copy level 1/kv = {ctx:.2f} on {seeds_above} of {len(acc)} seeds "
          f"(accuracy {acc.min():.3f}-{acc.max():.3f})")  # fmt: skip
for c in ch.claims:
    for p in c.get("parts", []):
        rule_parts = dict(RULES[c["id"]].parts)
        better = rule_parts[p["name"]].measure.metrics[0].split("/")[0]
        if p["verdict"] == "REFUTED" and (learned.get_group(better) <= ctx).all():
            print(f"note: {c['id']} / {p['name']} is REFUTED while {better} stayed below 1/kv on every seed: "
                  f"it never left its plateau at this budget")  # fmt: skip

# %% [markdown]
# **What it shows.** Which of the book's memories learn to bind keys to values on MQAR at this
# budget (the learning curves), how accuracy sits against state and compute beside Zoology's
# published curve, whether it survives 2× and 4× the length, and the three Zoology claims
# decided where the budget allows — with each "does not solve" counted only from a finished
# curve. **What it does not show.** The fully trained picture: Zoology trains 64 epochs of
# 100k examples with a learning-rate sweep per model, this budget a few hundred steps with
# one learning rate; a recurrent memory whose curve is still climbing here is reported as such,
# and the `gpu` profile (every arm, V = 8192, widths 64–256, thousands of steps) is where its
# final accuracy would be measured. That profile has **not been run**: no device machine was
# available when this chapter was rebuilt.

# %%
record = ch.publish()
n_runs = f"{len(ch['arms'])} arms x {len(widths)} widths x {len(ch.seeds)} seeds"
print(f"published {len(record['metrics'])} metrics for {n_runs}")
