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
# # 20. The ReLSM ablation ladder
#
# **Question.** ReLSM (jpturcotte/ReLSM) asks whether recursion and latent compute help a
# small transformer on algorithmic tasks: parameter-shared depth (`shared_loop`), a latent
# "thought" stream (`latent`), adaptive halting over it (`act`), a Mamba-2 backbone (`ssm`) and
# an SSM with memory tokens (`ssm_mem`), each against a baseline transformer. The repository
# publishes no results, only an "Expected Results (Hypotheses)" table and four success criteria:
# a variant wins with **≥ 5% better algorithmic accuracy, better OOD length generalisation,
# ≤ 2× training time and no perplexity collapse**.
#
# | metric (ReLSM's hypotheses) | baseline | shared loop | latent | ACT |
# |---|---|---|---|---|
# | algorithmic accuracy | 70% | 75% | 80% | 82% |
# | OOD parity @ 32 bits | 20% | 40% | 60% | 65% |
# | needle @ 2k tokens | 80% | 80% | 85% | 85% |
# | perplexity | 20 | 22 | 21 | 21 |
# | training time | 1× | 1.2× | 1.5× | 1.8× |
#
# Two bugs in the shipped code ({doc}`ReLSM appendix <../appendix/relsm>`, §3) decide how
# the ladder must be built:
#
# 1. the thought stream cross-attends to **all** positions and adds its summary to every
#    position, so in teacher-forced training position *t* reads tokens after *t*;
# 2. the ACT ponder cost is a detached constant and halting never weights the output, so the
#    halting head is never trained.
#
# We therefore build each as shipped (`latent_seed`, `act_seed`) **and** corrected (`latent`:
# one thought set per position reading only the prefix; `act`: Graves' ACT with a
# differentiable ponder cost), and judge the ladder on the corrected arms. All eight arms are
# composed from `memnb.models.decoder` at matched parameter count; the code is in
# `memnb/relsm/` (`variants.py`, `thoughts.py`, `act.py`, `curriculum.py`, `evaluate.py`,
# `audit.py`, `criteria.py`, `rules.py`).
#
# **Builds on** {doc}`00_data` (the algorithmic tasks and their OOD sizes), {doc}`02_memory_zoo`
# (memory tokens and Mamba-2, checked causal and segment-exact). Sibling: {doc}`21_kv_memory`, the
# other seed in this part.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.data import tokenizers
from memnb.data.tasks import task_ranges
from memnb.relsm import criteria
from memnb.relsm.curriculum import SplitCurriculum
from memnb.relsm.evaluate import build_suite
from memnb.relsm.ladder import run_ladder
from memnb.relsm.rules import RULES
from memnb.relsm.variants import CAUSAL, VARIANTS, LadderConfig, build
from memnb.relsm.vocab import joint_vocab

ch = Chapter.open("20_relsm_ladder", profile, seeds, overrides)
TASKS = ["parity", "addition", "copy", "reverse", "dyck"]
THREADS = 1  # tiny models: one thread is as fast as two and gives the same numbers on any machine

# %% [markdown]
# ## Setup: data, arms and their sizes
#
# **Tasks.** ReLSM's generators from `memnb.data.tasks` (one token per digit or symbol; the
# prompt is the bare symbolic form), each trained over its IID range and tested beyond it:
# parity of 8–12 bits (OOD 16/20/24, plus **32**, the length of the seed's hypothesis row),
# addition of 1–4-digit operands (OOD 5/6/8), copy and reverse of 4–12 digits (OOD 16/20/24),
# and a rebuilt Dyck task (balanced vs prefix-violating words with equal bracket counts, so the
# label cannot be read off by counting; 4–20 brackets, OOD 32/48/64). Needle-in-a-haystack
# (`niah`, two distractor needles) is trained at 24–48 tokens and tested at the lengths below;
# ReLSM never trains retrieval and its needle suite skips every context it was meant to test.
#
# **Curriculum** (`memnb.relsm.curriculum`): `alg_steps` steps of algorithmic batches (every
# task in equal shares, loss on answer + `<eos>`), then `lang_steps` steps of character-level
# Shakespeare with 15% of the steps algorithmic (ReLSM's persistent fraction). Every arm of a
# seed sees the same batches. **Scale**: the `cpu` profile is three orders of magnitude below
# ReLSM's nano model (d = 512, 10M answer tokens); it is sized so that 8 arms × 3 seeds train
# and evaluate in minutes on two cores, so expect the models to learn little (see the floor
# rule below). The `gpu` profile is the one sized to answer the accuracy questions.

# %%
tok = tokenizers.get_tokenizer("char")
train_ids = tokenizers.encode_corpus("train", tok)
val_ids = tokenizers.encode_corpus("validation", tok)
vocab = joint_vocab(tok)
cfg = LadderConfig(
    vocab_size=vocab.size, d_model=ch["d_model"], n_layers=ch["n_layers"], n_heads=ch["n_heads"],
    n_thoughts=ch["n_thoughts"], latent_k=ch["latent_k"], act_max_k=ch["act_max_k"],
)  # fmt: skip


def curriculum(seed: int) -> SplitCurriculum:
    return SplitCurriculum(
        vocab, (*TASKS, "niah"), train_ids, seed=seed, batch_size=ch["batch_size"],
        alg_steps=ch["alg_steps"], lang_steps=ch["lang_steps"],
    )  # fmt: skip


suite = build_suite(
    vocab, TASKS, n=ch["eval_n"], val_ids=val_ids, val_windows=ch["val_windows"], window=ch["window"],
    ood_extra={"parity": [32]}, needle_lengths=ch["needle_lengths"],
)  # fmt: skip
probe = curriculum(10_000).batch(0)  # a fixed algorithmic batch for the audits and FLOP counts

sizes = pd.DataFrame(
    [{"variant": v, "parameters": build(v, cfg).num_params(), "causal by design": CAUSAL[v]} for v in VARIANTS]
).set_index("variant")
sizes["vs baseline"] = sizes.parameters / sizes.parameters["baseline"]
for v in VARIANTS:
    ch.metric(f"params_{v}", int(sizes.parameters[v]))
ranges = pd.DataFrame({t: task_ranges(t) for t in [*TASKS, "niah"]}).T[["param", "iid", "ood"]]
display(ranges)
sizes.style.format({"vs baseline": "{:.3f}"})

# %% [markdown]
# The thought stream (learned init, one shared cross-attention + SwiGLU core, injection)
# *replaces* one of the baseline's blocks, its SwiGLU width solved to match the block's size;
# the Mamba-2 mixer uses expansion 1 so that it is about the size of an attention mixer. All
# arms are within a few percent of the baseline (ReLSM's latent/act carry +11% and its SSMs
# +22–27%). `shared_loop` applies the baseline's blocks twice (ReLSM: 4×), so it has the same
# parameters and twice the block compute.
#
# ## Pre-registered rules
#
# All effects are paired by seed (every arm of a seed sees the same data). Accuracy is strict
# greedy exact match decoded from the prompt alone; "algorithmic accuracy" is its mean over the
# five tasks (IID test sets), "OOD accuracy" the same over each task's OOD sizes. The accuracy
# claims compare an arm with its reference (`shared_loop` and the causal `latent` against the
# baseline: the seed's criteria 1–2; the Graves `act` arm against the causal latent arm with
# fixed K), behind a **floor rule**: a comparison counts only if the better of its two arms beats
# chance, measured as chance-corrected accuracy (acc − chance)/(1 − chance) averaged over tasks;
# otherwise nothing was learned and the comparison is INCONCLUSIVE. `relsm.ssm_ood` compares the
# OOD accuracy of `ssm` with the RoPE baseline. `relsm.cost` (criteria 3–4) checks the arms of
# the hypothesis table (`shared_loop`, `latent`, `act`) for training cost and perplexity collapse
# against the baseline; training FLOPs per step (counted by `torch.utils.flop_counter` on a fixed
# batch) replace wall-clock time, which on a shared machine is noise, and the wall-clock ratio is
# shown beside them. `relsm.latent_is_causal` perturbs token t + 1 of a fixed batch of the
# shipped `latent_seed` and takes the largest change of the logits at positions ≤ t;
# `relsm.act_adapts` asks whether the Graves arm spends more thought iterations on the largest
# IID inputs than on the smallest. The rules, as data (`memnb/relsm/rules.py`):

# %%
ch.rules(RULES)

# %% [markdown]
# ## Run the ladder
#
# Every arm × seed: build, train through the curriculum, audit, evaluate
# (`memnb.relsm.ladder.run_ladder`).

# %%
res = run_ladder(VARIANTS, ch.seeds, cfg, curriculum, suite, probe, lr=ch["lr"], threads=THREADS, device=ch.device)
arms = res.arms.set_index(["variant", "seed"])
print(f"{len(arms)} runs, {res.history.step.max()} steps each")

# %% [markdown]
# ## 1. The leak, directly and in the numbers
#
# The direct test changes token t + 1 and watches the logits at positions ≤ t. Beside it, the
# numbers a leak distorts: teacher-forced exact match (the whole answer in the input) against
# greedy exact match from the prompt alone, and teacher-forced against prefix-only perplexity
# on held-out text. For a causal arm each pair is equal by construction.

# %%
iid = res.tasks[res.tasks.split == "iid"]
gap = (iid.exact_match_tf - iid.exact_match_ar).groupby([iid.variant, iid.seed]).mean()
leak_table = pd.DataFrame(
    {
        "max |Δ logit| at ≤ t": arms.future_leak.groupby("variant").max(),
        "TF − greedy exact match (IID, mean)": gap.groupby("variant").mean(),
        "perplexity, teacher-forced": arms.ppl_tf.groupby("variant").mean(),
        "perplexity, prefix-only": arms.ppl_prefix.groupby("variant").mean(),
    }
).loc[list(VARIANTS)]
for v in VARIANTS:
    ch.metric(f"leak_{v}", arms.future_leak.xs(v).tolist())
    ch.metric(f"ppl_tf_{v}", arms.ppl_tf.xs(v).tolist())
    ch.metric(f"ppl_prefix_{v}", arms.ppl_prefix.xs(v).tolist())
    ch.metric(f"tf_minus_ar_{v}", gap.xs(v).tolist())
leak_table.style.format("{:.3g}")

# %% [markdown]
# ## 2. Accuracy, with chance beside it
#
# Strict greedy exact match per task on the IID test set (mean over seeds), and the chance
# level of each task (parity and Dyck 1/2; copy/reverse 10^-n; addition 1/#sums; needle 1/3).

# %%
acc = iid.pivot_table(index="task", columns="variant", values="exact_match_ar", aggfunc="mean")[list(VARIANTS)]
acc.insert(0, "chance", iid.groupby("task").chance.first())
iid_macro = criteria.macro(res.tasks, "iid")
ood_macro = criteria.macro(res.tasks, "ood")
iid_cc = criteria.macro(res.tasks, "iid", corrected=True)
ood_cc = criteria.macro(res.tasks, "ood", corrected=True)
parity32 = res.tasks[(res.tasks.task == "parity") & (res.tasks["size"] == 32)].set_index(["variant", "seed"])
for v in VARIANTS:
    ch.metric(f"iid_acc_{v}", iid_macro[v].tolist())
    ch.metric(f"ood_acc_{v}", ood_macro[v].tolist())
    ch.metric(f"iid_acc_chance_corrected_{v}", iid_cc[v].tolist())
    ch.metric(f"ood_acc_chance_corrected_{v}", ood_cc[v].tolist())
    ch.metric(f"parity32_acc_{v}", parity32.exact_match_ar.xs(v).tolist())
ch.metric("iid_acc_chance", float(iid.groupby("task").chance.first().mean()))
acc.loc["mean (algorithmic accuracy)"] = [ch.metrics["iid_acc_chance"], *iid_macro.mean()[list(VARIANTS)]]
acc.style.format("{:.3f}")

# %%
ood = res.tasks[res.tasks.task.isin(TASKS)].copy()
ood["size"] = ood["size"].fillna(-1)
fig, axes = plotting.subplots(ncols=len(TASKS), sharey=True)
for ax, task in zip(axes[0], TASKS, strict=True):
    d = ood[(ood.task == task) & (ood.split == "ood")]
    plotting.mean_ci_lines(d, x="size", y="exact_match_ar", hue="variant", ax=ax, legend=(task == TASKS[-1]))
    ax.axhline(d.chance.mean(), color="grey", ls=":", lw=1)
    ax.set(title=task, xlabel=task_ranges(task)["param"], ylabel="greedy exact match (fraction)")
axes[0][-1].legend(fontsize=6, loc="upper right")
fig.suptitle("OOD length grid (dotted: chance)")
plt.show()

# %% [markdown]
# Needle-in-a-haystack retrieval at the test lengths (trained at 24–48 tokens; chance 1/3 by
# picking one of the three values present).

# %%
needle = res.tasks[res.tasks.task == "niah"]
for L in ch["needle_lengths"]:
    for v in VARIANTS:
        ch.metric(f"needle_{L}_acc_{v}", needle[(needle["size"] == L) & (needle.variant == v)].exact_match_ar.tolist())
ax = plotting.mean_ci_lines(needle, x="size", y="exact_match_ar", hue="variant")
ax.axhline(needle.chance.mean(), color="grey", ls=":", lw=1)
ax.set(xscale="log", xlabel="context length (tokens)", ylabel="retrieval exact match (fraction)", title="needle")
ax.legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ## 3. Does halting adapt?
#
# Thought iterations per answer position against input size, for the shipped ACT (stops when
# every sequence of the batch has halted; its halting head never receives a gradient) and for
# Graves' ACT (per position, weighted mixture, differentiable ponder cost N + R).

# %%
for v in ("act_seed", "act"):
    ch.metric(f"halting_grad_is_none_{v}", int(arms.halting_grad_is_none.xs(v).sum()))
effort = criteria.halting_effort_gap(res.ponder, "act")
ch.metric("act_iterations_hard_minus_easy", effort.tolist())
ch.metric("act_mean_iterations", res.ponder[res.ponder.variant == "act"].iterations.mean())
ch.metric("act_seed_mean_iterations", res.ponder[res.ponder.variant == "act_seed"].iterations.mean())
g = sns.relplot(
    data=res.ponder[res.ponder.task.isin(TASKS)], x="size", y="iterations", hue="variant", col="task",
    kind="line", marker="o", errorbar=("ci", 95), facet_kws={"sharex": False}, height=2.4, aspect=0.9,
)  # fmt: skip
g.set_axis_labels("input size (task's size parameter)", "thought iterations per answer token")
plt.show()
print("halting-head gradient is None on", arms.halting_grad_is_none.groupby("variant").sum().to_dict())

# %% [markdown]
# ## 4. Cost
#
# FLOPs of one training step on the fixed probe batch (deterministic) and the measured
# training wall-clock time, both relative to the baseline of the same seed.

# %%
flops_ratio = arms.flops_per_step.unstack("variant").div(arms.flops_per_step.xs("baseline"), axis=0)
time_ratio = arms.train_s.unstack("variant").div(arms.train_s.xs("baseline"), axis=0)
ppl_ratio = arms.ppl_prefix.unstack("variant").div(arms.ppl_prefix.xs("baseline"), axis=0)
for v in VARIANTS:
    ch.metric(f"flops_ratio_{v}", flops_ratio[v].tolist())
    ch.metric(f"ppl_ratio_{v}", ppl_ratio[v].tolist())
    ch.timings[f"train_time_s_{v}"] = arms.train_s.xs(v).round(2).tolist()
    ch.timings[f"time_ratio_{v}"] = time_ratio[v].round(3).tolist()
cost = pd.DataFrame(
    {
        "FLOPs / step (×baseline)": flops_ratio.mean(),
        "wall time (×baseline)": time_ratio.mean(),
        "prefix-only perplexity (×baseline)": ppl_ratio.mean(),
    }
).loc[list(VARIANTS)]
cost.style.format("{:.2f}")

# %% [markdown]
# ## 5. Verdicts
#
# The rules registered above, applied to the recorded metrics (`ch.judge`): first the per-seed
# gains they read.

# %%
for arm, ref in (("shared_loop", "baseline"), ("latent", "baseline"), ("act", "latent")):
    ch.metric(f"iid_gain_{arm}_vs_{ref}", (iid_macro[arm] - iid_macro[ref]).tolist())
    ch.metric(f"ood_gain_{arm}_vs_{ref}", (ood_macro[arm] - ood_macro[ref]).tolist())
ch.metric("ood_gain_ssm_vs_baseline", (ood_macro["ssm"] - ood_macro["baseline"]).tolist())
ch.judge()

# %% [markdown]
# ## Answer
#
# The seed's hypothesis table beside our measurements (mean ± 95% CI over seeds; our accuracy
# is strict greedy exact match at the `cpu` scale, our needle length is the longest tested,
# our perplexity is character-level on held-out Shakespeare, prefix-only; the time row is
# training FLOPs per step). Chance is in the last column.

# %%
cols = {"baseline": "baseline", "shared_loop": "shared loop", "latent": "latent (causal)", "act": "ACT (Graves)"}
L = ch["needle_lengths"][-1]
rows = {
    "algorithmic accuracy": ("70% / 75% / 80% / 82%", "iid_acc", ch.metrics["iid_acc_chance"]),
    "OOD parity @ 32": ("20% / 40% / 60% / 65%", "parity32_acc", 0.5),
    f"needle @ {L} (seed: 2k)": ("80% / 80% / 85% / 85%", f"needle_{L}_acc", 1 / 3),
    "perplexity (prefix-only)": ("20 / 22 / 21 / 21", "ppl_prefix", None),
    "training cost (FLOPs ×)": ("1 / 1.2 / 1.5 / 1.8 (time)", "flops_ratio", None),
}
table = pd.DataFrame(
    {
        name: {"seed (hypothesis)": seed, **{cols[v]: stats.fmt(ch.metrics[f"{key}_{v}"], 2) for v in cols},
               "chance": "" if chance is None else f"{chance:.3f}"}
        for name, (seed, key, chance) in rows.items()
    }
).T  # fmt: skip
display(table)
pd.DataFrame([{"claim": c["id"], "seed says": c["seed_says"], "we measured": c["we_measured"], "verdict": c["verdict"]}
              for c in ch.claims]).set_index("claim")  # fmt: skip

# %%
long = pd.concat(
    [
        pd.DataFrame({"variant": v, "seed": iid_macro.index, "metric": name, "value": frame[v].values})
        for v in VARIANTS
        for name, frame in (("algorithmic accuracy (IID)", iid_macro), ("OOD accuracy", ood_macro))
    ]
)
ax = sns.barplot(data=long, x="variant", y="value", hue="metric", errorbar=("ci", 95))
ax.axhline(ch.metrics["iid_acc_chance"], color="grey", ls=":", lw=1, label="chance (IID mean)")
ax.set(xlabel="", ylabel="greedy exact match (fraction)", title="the ladder at the cpu scale")
ax.tick_params(axis="x", rotation=30)
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# **Reading the answer.** The audits (the leak probe, the halting gradient, the FLOP counts)
# do not depend on how well the models learned. The accuracy claims do: where no arm beats
# chance by 5 chance-corrected points the floor rule reports INCONCLUSIVE, which at the `cpu`
# scale is a statement about the training budget, not about the architectures; the `gpu`
# profile (d = 256, 6 layers, 10k steps) is sized to decide them.

# %%
rec = ch.publish()
print({c["id"]: c["verdict"] for c in rec["claims"]})
