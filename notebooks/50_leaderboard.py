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
# # 50. One recall suite for every memory
#
# **Question.** None of the five seed projects compares its memory with the others on the same
# tasks at the same cost. Put every memory of the book in the same small decoder, at the same
# parameter count and the same training budget, train each on one mixture of recall tasks, and
# test it from inside its training length to 8× beyond it: which memories recall, how far, and
# at what cost in throughput, state and compute?
#
# **Seed claims.** None: no seed makes a cross-memory claim, so this chapter publishes metrics
# only and judges no claim. It is a fair comparison *at small scale* (CPU: tiny models, a few
# hundred steps), not a claim about any memory at scale.
#
# | contender | equation in | seed |
# |---|---|---|
# | full causal attention (RoPE) | `memnb/layers/attention.py` | baseline |
# | sliding window (window = segment) | `memnb/layers/sliding_window.py` | Drex L1 |
# | Infini-attention | `memnb/layers/infini_attention.py` | Drex L2 |
# | Titans neural memory | `memnb/layers/titans.py` | Drex L3 (corrected) |
# | Drex L4 delta-rule memory | `memnb/layers/drex_memory.py` | Drex L4 |
# | external KV memory | `memnb/layers/kv_memory.py` | memory-architectures |
# | memory tokens (recurrent) | `memnb/layers/memory_tokens.py` | ReLSM ssm_mem (causal) |
# | Mamba-2 (SSD) | `memnb/layers/ssd.py` | ReLSM ssm (corrected) |
# | exponential-kernel attention | `memnb/layers/exp_kernel_attention.py` | HRS |
# | AMS-style prefix memory | `memnb/layers/prefix_memory.py` | AMS (causal) |
# | retrieval into context (top-k chunks) | `memnb/layers/retrieval_context.py` | HRS retrieval |
#
# The registry is `memnb.leaderboard.registry.CONTENDERS` (the zoo plus the last two); the
# suite is `memnb.leaderboard.suite`, the run procedure `memnb.leaderboard.experiment`, the
# table and frontier `memnb.leaderboard.frontier`.
#
# **Builds on** {doc}`02_memory_zoo` (every layer checked exact, causal and segment-recurrent)
# and each memory's own chapter: Drex in {doc}`10_ema_bootstrap`–{doc}`12_drex_model`, ReLSM and
# memory-architectures in {doc}`20_relsm_ladder` and {doc}`21_kv_memory`, HRS in
# {doc}`30_engram_leakage`–{doc}`33_exp_kernel_attention`, AMS in {doc}`40_ams_v4`.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from memnb import plotting
from memnb.book.chapter import Chapter
from memnb.leaderboard import frontier, suite
from memnb.leaderboard.experiment import RunConfig, run_all
from memnb.leaderboard.registry import ModelConfig, matched_d_ff

ch = Chapter.open("50_leaderboard", profile, seeds, overrides)
model_cfg = ModelConfig(ch["d_model"], ch["n_layers"], 4, ch["segment_len"])
run_cfg = RunConfig(ch["train_len"], ch["steps"], ch["batch_per_task"], ch["lr"], n_eval=ch["n_eval"])
print(model_cfg, run_cfg)

# %% [markdown]
# ## Design
#
# - **Model.** `memnb.models.Decoder` (pre-norm blocks, tied LM head, no position embedding)
#   with the contender's memory as the mixer of every layer, `d_model`, `n_layers`, 4 heads;
#   every memory cuts the stream into segments of `segment_len` tokens (the sliding window is
#   one segment wide; retrieval stores chunks of a quarter segment and copies the top 2 into the
#   context). Parameters are matched by the MLP width (`registry.matched_d_ff`): every model
#   has the parameter count of the full-attention decoder with a 4× MLP, to within one MLP unit.
# - **Suite** (`memnb.leaderboard.suite`, one shared symbol vocabulary, uniform filler):
#   passkey (a 1-digit key: one token to keep), multi-needle NIAH (4 needles, one queried), multi-key associative
#   recall over a gap (6 pairs at the start, 2 queries at the end), bAbI tasks 1-5 (one token
#   per word, facts scattered in filler). Exact match of the answer; chance levels below.
# - **Budget.** Every contender: the same `steps` AdamW steps of the same batches
#   (`batch_per_task` examples of each task, all `train_len` tokens long), so the same tokens.
#   The training length is inside every memory's window of training (the whole sequence is
#   one forward pass). Test at 1×, 2×, 4× and 8× `train_len`, streamed `segment_len` tokens at
#   a time with the state carried.
# - **Cost.** Throughput (tokens/s, wall clock, one thread, batch 8 at 8× length), state size
#   (bytes per sequence after 8× length) and FLOPs per token (counted), on the trained model.
# - **Reductions** (CPU): tiny models and a few hundred steps; bAbI and passkey without the
#   natural-language background (`memnb.eval.long_context` has those forms); one shared
#   learning rate, no per-contender tuning. Rankings at this scale say which memories learn
#   recall *fast and small*, not which would win at scale.

# %%
print(f"vocabulary: {suite.suite_vocab().size} symbols; training tokens per contender: {run_cfg.train_tokens:,}")
chance = pd.Series({t: suite.chance(t) for t in suite.SUITE}, name="chance (exact match)")
for t in suite.SUITE:
    print(f"{t:8s} | {suite.make(t, 1, seed=0, length=ch['train_len']).show(0)}")
chance.to_frame()

# %% [markdown]
# Matched parameter counts (the MLP width each contender gets):

# %%
vocab_size = suite.suite_vocab().size
sizes = pd.DataFrame({"d_ff": {n: matched_d_ff(n, vocab_size, model_cfg) for n in ch["contenders"]}}).rename_axis(
    "contender"
)
sizes

# %% [markdown]
# ## Train and test every contender on every seed

# %%
scores, runs = run_all(ch["contenders"], ch.seeds, model_cfg, run_cfg, device=ch.device)
spread = runs.params.max() / runs.params.min() - 1
print(f"parameter counts: {runs.params.min():,} .. {runs.params.max():,} (spread {spread:.2%})")
for r in runs.itertuples():
    ch.timings[f"train_time_s/{r.contender}/{r.seed}"] = round(r.train_time_s, 2)
runs[["contender", "seed", "params", "final_loss", "train_time_s", "tokens_per_s"]].round(3)

# %% [markdown]
# ## Accuracy against length, per task
#
# Mean over seeds with a 95% CI band; the dashed line is the task's chance level and the
# dotted vertical line the training length.

# %%
colors = dict(zip(ch["contenders"], sns.color_palette("tab20", len(ch["contenders"])), strict=True))
fig, axes = plotting.subplots(2, 2, sharex=True, sharey=False)
for ax, task in zip(axes.flat, suite.SUITE, strict=True):
    plotting.mean_ci_lines(
        scores[scores.task == task], x="length", y="accuracy", hue="contender", ax=ax, palette=colors
    )
    ax.axhline(suite.chance(task), color="grey", ls="--", lw=1)
    ax.axvline(ch["train_len"], color="grey", ls=":", lw=1)
    ax.set(xscale="log", title=task, xlabel="test length (tokens)", ylabel="exact match")
    ax.set_xticks(run_cfg.eval_lengths, [str(L) for L in run_cfg.eval_lengths])
    ax.minorticks_off()
    ax.get_legend().remove()
handles, labels = axes.flat[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.show()

# %%
for (name, task, length), grp in scores.groupby(["contender", "task", "length"]):
    ch.metric(f"{name}/acc/{task}/{length}", grp.sort_values("seed").accuracy.tolist())
for name, grp in runs.groupby("contender"):
    ch.metric(f"{name}/params", int(grp.params.iloc[0]))
    ch.metric(f"{name}/state_bytes", float(grp.state_bytes.iloc[0]))
    ch.metric(f"{name}/flops_per_token", float(grp.flops_per_token.iloc[0]))
    ch.metric(f"{name}/tokens_per_s", grp.sort_values("seed").tokens_per_s.tolist())  # wall clock

# %% [markdown]
# ## The frontier
#
# Each contender's score (mean exact match over the four tasks and four lengths, 95% CI over
# seeds) against its throughput and against its state size. Circled points are on the Pareto
# frontier: no other contender is both more accurate and faster (smaller); the frontier and
# the top three are named (colours as in the figure above).

# %%
table = frontier.ranking(scores, runs)
table["frontier_speed"] = frontier.pareto(table, "tokens_per_s")
table["frontier_state"] = frontier.pareto(table, "state_kib", x_higher_is_better=False)
fig, axes = plotting.subplots(2)
for ax, (x, label, flag) in zip(
    axes.flat,
    [("tokens_per_s", "throughput (tokens/s, 1 thread)", "frontier_speed"),
     ("state_kib", "state per sequence at 8× length (KiB)", "frontier_state")],
    strict=True,
):  # fmt: skip
    sns.scatterplot(data=table, x=x, y="score", hue="contender", palette=colors, ax=ax, legend=False, s=60)
    yerr = [table.score - table.ci_lo, table.ci_hi - table.score]
    ax.errorbar(table[x], table.score, yerr=yerr, fmt="none", c="grey", lw=0.8)
    front = table[table[flag]].sort_values(x)
    ax.plot(front[x], front.score, "o", mfc="none", mec="black", ms=12)
    ax.plot(front[x], front.score, c="black", lw=0.8)
    for r in table[table[flag] | (table["rank"] <= 3)].itertuples():  # the frontier and the top 3
        ax.annotate(r.contender, (getattr(r, x), r.score), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xscale="log", xlabel=label, ylabel="score (mean exact match)")
plt.show()

# %%
for r in table.itertuples():
    ch.metric(f"{r.contender}/score", scores[scores.contender == r.contender].groupby("seed").accuracy.mean().tolist())
    ch.metric(f"{r.contender}/acc_per_mflop", float(r.acc_per_mflop))
_ = ch.metric("param_spread", float(spread)), ch.metric("mean_chance", float(chance.mean()))

# %% [markdown]
# ## Answer
#
# The ranked table: score = mean exact match over the suite (4 tasks × 4 lengths) with its
# 95% CI over seeds; accuracy at the training length (1×) and at 8×; cost per contender.
# `ties_with_top`: the contender's CI overlaps the leader's, so this budget does not separate
# them. The chance level of the score is the mean of the four tasks' chance levels (printed).

# %%
print(f"chance level of the score: {chance.mean():.3f}; seeds: {ch.seeds}")
show = table[
    ["rank", "contender", "score", "ci_lo", "ci_hi", "acc_1x", "acc_8x", "params", "tokens_per_s", "state_kib",
     "mflops_per_token", "acc_per_mflop", "ties_with_top", "frontier_speed", "frontier_state"]
]  # fmt: skip
show.round(3)

# %% [markdown]
# Which memories recall at all? Rule, fixed before the run: a contender *recalls* a task at a
# length when the lower end of the 95% CI (over seeds) of its exact match is above the task's
# chance level. The table counts, per task and test length, the contenders that recall.

# %%
recall = frontier.above_chance(scores, chance.to_dict())
print(f"leader: {table.contender[0]} (score {table.score[0]:.3f}, 95% CI {table.ci_lo[0]:.3f}..{table.ci_hi[0]:.3f})")
print("not separated from the leader (CIs overlap):", ", ".join(table.contender[table.ties_with_top]))
for (task, length), grp in recall.groupby(["task", "length"], sort=False):
    names = ", ".join(grp.contender[grp.recalls]) or "none"
    print(f"{task:8s} {length:4d} tokens: recall above chance: {names}")
recall.pivot_table(index="contender", columns=["task", "length"], values="accuracy").round(2)

# %% [markdown]
# **What it shows.** The order of the memories on one recall suite at one small, equal budget
# (parameters, steps, batches, tokens), with each one's spread over seeds, how its accuracy
# holds from the training length to 8× beyond it, and what it costs to run. **What it does not
# show.** How they rank at scale, with tuned learning rates, longer training or natural-
# language backgrounds: a memory that needs more steps to learn its read and write looks
# worse here than it is, and with three seeds most neighbouring ranks are not separated
# (`ties_with_top`, overlapping CIs). Throughput is one-thread CPU wall clock on a shared
# machine (the FLOPs column is the deterministic cost).

# %%
record = ch.publish()
print(f"published {len(record['metrics'])} metrics for {len(ch['contenders'])} contenders x {len(ch.seeds)} seeds")
