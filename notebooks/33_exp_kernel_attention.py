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
# # 33. Exponential-kernel attention: distance, or a softer temperature?
#
# **Question.** HRS replaced dot-product attention scores q·k/√d with a negative squared
# distance, −‖q − k‖²/τ (τ = head dim), and reported that on Tiny Shakespeare it *improves
# play-level topic separation* (+3.4% accuracy at 256 characters, tied at line level) and
# *slightly lowers validation loss* (1.613 vs 1.630 nats/char), from one seed each (claim
# `hrs.exp_kernel`).
#
# Two things make that claim weaker than it looks ({doc}`HRS appendix <../appendix/hrs>`, §6):
# 1. Expanding the square, −‖q_i − k_j‖²/τ = (2 q_i·k_j − ‖k_j‖² − ‖q_i‖²)/τ, and ‖q_i‖² is the
#    same for every key, so it cancels in the softmax. The kernel *is* dot-product attention
#    with scale 2/τ (4× softer than 1/√τ at τ = 64) plus a per-key bias −‖k_j‖²/τ
#    (`memnb/layers/exp_kernel_attention.py`).
# 2. The separation metric picks the best threshold on a grid for very unbalanced pairs; both
#    arms scored *below* the majority-class rate (always answering "different play").
#
# So this chapter trains the two arms of the claim on the same data and seeds — `dot` (q·k/√d)
# and `exp` (the kernel); the `gpu` profile adds `dot_soft` (2 q·k/τ: the kernel's temperature
# without the key bias) — checks briefly that `exp_distance` (the kernel from explicit distances)
# reproduces `exp`, and measures separation with a threshold-free AUROC on **held-out** plays,
# balanced pairs, same-play pairs at least `min_gap` chunks apart (`memnb/hrs/topic_separation.py`),
# beside the seed's own metric and its majority-class floor.
#
# A first version of this chapter (3 seeds, 300 steps) found a precise null, but its models sat at
# the level of a character *bigram* count model (2.50 nats/char; a count trigram scores 2.02 on
# the same characters): an attention score cannot matter in a model that has not learned to use
# context. This version trains in the setting where chapter 20's small models learn (constant lr
# 3e-3, no weight decay, a causal token shift in front of every mixer) and judges the claim only
# if both arms beat the count trigram (the positive control).
#
# **Builds on** {doc}`02_memory_zoo` (the exponential-kernel layer and its checks) and
# {doc}`01_baseline` (the char-level setup).

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import time
from dataclasses import fields

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.data import tokenizers
from memnb.eval.ngram import ngram_nll
from memnb.hrs import kernel_experiment as ke
from memnb.hrs.kernel_experiment import KernelSetup
from memnb.hrs.rules import CHAPTER_33
from memnb.parallel import run_jobs

ch = Chapter.open("33_exp_kernel_attention", profile, seeds, overrides)

# %% [markdown]
# ## Setup
#
# - Character-level language model on the Shakespeare training plays (the book's corpus, not
#   Tiny Shakespeare's single file), `n_layers` pre-LN blocks of width `d_model`, `n_heads`
#   heads, a causal token shift of kernel `short_conv` in front of every mixer and **no position
#   embedding in any arm** (the kernel layer has no RoPE, so neither does the baseline: the arms
#   differ only in their scores), AdamW at a constant lr 3e-3 after a 20-step warmup, no weight
#   decay, `steps` steps of `batch_size` × `seq_len` characters. τ = head dim = `d_model / n_heads`.
#   Each (arm, seed) is one job on a one-thread worker (`memnb/hrs/kernel_experiment.py`); the
#   numbers do not depend on the number of `workers`.
# - Validation loss: nats per character on the first `val_chars` characters of the validation plays.
# - Regime baseline: an interpolated Witten-Bell count trigram (`memnb/eval/ngram.py`, nothing
#   tuned) fitted on the training plays and scored on the same validation characters.
# - Engram of a text: the unit-norm mean of the final hidden states. Play level: the first
#   `chunks_per_play` non-overlapping `chunk_chars`-character chunks of each held-out play
#   (validation and test splits: six plays never trained on; the two poems are left out, as in
#   chapter 32); line level: the first `lines_per_play` lines of 20-120 characters. Separation =
#   AUROC of cosine for `n_pairs` same-play vs `n_pairs` different-play pairs (0.5 = none).
#
# **Pilot and budget** (`python -m memnb.hrs.pilot --seed 900 --steps 900`, seed 900, not a
# chapter seed; both arms side by side on two one-thread workers, as in the run): 0.186 s/step
# (`dot`) and 0.200 s/step (`exp`) at 8 × 256 characters, evaluations included; validation loss
# 2.076 / 1.933 / 1.858 nats/char (`dot`) and 2.077 / 1.929 / 1.858 (`exp`) at steps 300 / 600 /
# 900, against the count trigram's 2.022 on the same characters; 300 steps (the first version) do
# not leave the n-gram regime. The 900-step chapter (seeds 330-333) then ran 192-211 s per
# training run and 927.5 s in all, over the 15-minute budget, so the chapter now trains **800
# steps** on fresh seeds 334-337. Its pilot (`python -m memnb.hrs.pilot --seed 900 --steps 800`):
# validation loss 2.176 / 2.006 / 1.933 / 1.892 (`dot`) and 2.163 / 2.010 / 1.929 / 1.897 (`exp`)
# at steps 200 / 400 / 600 / 800, a margin of ~0.125 nats/char below the trigram, in 157 s and
# 165 s. Budget: 2 arms × 4 seeds × 800 steps × ≈ 0.23 s/step (the 900-step chapter's rate, with
# its engram measurements) = 1,500 one-thread seconds on two workers ≈ 12.5 minutes, plus the
# n-gram counts, the kernel check and the engrams (≈ 1 minute). A fifth seed would pass 15 minutes.
#
# **Power.** MDE = (t₀.₉₇₅,₃ + t₀.₈₀,₃) × SE = 4.16 × sd/√4 at n = 4 seeds. The first version's
# per-seed spread (sd 0.0029 nats/char for Δloss, 0.0017 for ΔAUROC) gives a planned MDE of
# 0.0060 nats/char (< δ = 0.0085) and 0.0035 AUROC (< δ = 0.017). The spread in the trained regime
# may differ; the verdict table reports the run's own MDE and flags a part whose MDE exceeds δ.
#
# **Sizing the `gpu` profile** (not run): the seed's model size (d 384, 6 layers, 6 heads),
# 64 × 256 characters × 5,000 steps (the seed's best checkpoints were at 2,250-2,500 of its
# 64 × 256-character steps, at 1.63 nats/char, far below the trigram), 5 seeds, and the
# `dot_soft` arm that separates the kernel's temperature from its key bias.

# %% [markdown]
# ## Rule, registered before the run
#
# `hrs.exp_kernel` is judged part by part, each part directional with δ from the seed's own
# numbers: Δloss = loss(dot) − loss(exp) (δ = 0.0085 nats/char, half its 0.017) and ΔAUROC =
# AUROC(exp) − AUROC(dot) at play level (δ = 0.017, half its +3.4 points); a CI that excludes δ
# refutes a part. Both parts share the positive control: both arms beat the count trigram.
# The claim takes its weakest part. The rule is data in `memnb/hrs/rules.py`, rendered here
# before any result exists.

# %%
ch.rules(CHAPTER_33)

# %%
setup = KernelSetup(**{f.name: ch[f.name] for f in fields(KernelSetup) if f.name in ch.params})
tok = tokenizers.get_tokenizer("char")
train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
play_chunks, play_lines = ke.held_out_texts(setup)
trigram = ngram_nll(train_ids, val_ids[: ch["val_chars"]], n=3, vocab_size=tok.vocab_size)
bigram = ngram_nll(train_ids, val_ids[: ch["val_chars"]], n=2, vocab_size=tok.vocab_size)
ch.metric("trigram_val_loss", trigram)
ch.metric("bigram_val_loss", bigram)
print(
    f"count n-gram on the first {ch['val_chars']:,} validation characters: bigram {bigram:.4f}, trigram {trigram:.4f}"
)
pd.DataFrame(
    {
        "play": list(play_chunks),
        "chunks": [len(c) for c in play_chunks.values()],
        "lines": [len(v) for v in play_lines.values()],
    }
)

# %% [markdown]
# ## The kernel is a dot product: a direct check
#
# `exp` computes the kernel as (2 q·k − ‖k‖²)/τ; `exp_distance` from explicit distances ‖q − k‖².
# The same weights must give the same logits in both forms, up to float rounding. So `exp` trains
# 50 steps from the first seed (attention is no longer near uniform), and its weights are loaded
# into both forms and read on 4 × 256 validation characters. The same weights in a `dot` model
# are the contrast: a different score must change the logits (by > 1e-3; rounding is ~1e-6), or the
# check could not fail.
# (This chapter first compared 10 training steps of each form instead. That is not a test of the
# algebra: AdamW turns rounding noise in near-zero gradients into full-size updates. On seed 334
# the two runs' losses agreed to 2e-6 for six steps and then parted by 3.2e-3 nats at step 7,
# failing that check's 1e-3 bar; seed 330 had passed it at 0.97e-3. After 50 steps of `exp`, the
# same-weights logits differ by 2e-6 on both seeds, and `dot`'s by 3.8-4.0.)

# %%
n_check = min(50, ch["steps"])
exp_model, _ = ke.train_arm("exp", ch.seeds[0], setup, steps=n_check, evals=1)
probe = val_ids[: 4 * setup.seq_len].view(4, setup.seq_len)
gaps = ke.same_weights_gap(exp_model, probe)
ch.metric("exp_vs_distance_max_logit_gap", gaps["exp_distance"])
ch.metric("exp_vs_dot_max_logit_gap", gaps["dot"])
print(
    f"same weights after {n_check} steps, largest |Δ logit|: exp_distance {gaps['exp_distance']:.2e}, "
    f"dot {gaps['dot']:.2e}"
)
assert gaps["exp_distance"] < 1e-4, "the two forms of the kernel disagree on the same weights: the algebra is wrong"
assert gaps["dot"] > 1e-3, "dot matches exp on these weights: the check cannot tell forms apart"

# %% [markdown]
# ## Training the arms

# %%
ARMS = tuple(ch["arms"])
jobs = [(arm, seed, setup) for seed in ch.seeds for arm in ARMS]
t0 = time.perf_counter()
out = run_jobs(
    ke.run_arm,
    jobs,
    workers=ch["workers"],
    on_done=lambda i, r, n: print(f"{n}/{len(jobs)}: {r['arm']} seed {r['seed']}"),
)
ch.timings["train_and_measure_s"] = round(time.perf_counter() - t0, 1)
ch.timings["train_s_per_run"] = [round(r["train_s"], 1) for r in out]
res = pd.DataFrame([{k: v for k, v in r.items() if k not in ("curve", "train_s")} for r in out])
curves = pd.DataFrame([{"arm": r["arm"], "seed": r["seed"], **c} for r in out for c in r["curve"]])
for arm in ARMS:
    sub = res[res.arm == arm].sort_values("seed")
    for col in ("val_loss", "best_val_loss", "auroc_play", "auroc_line", "seed_metric_play"):
        ch.metric(f"{arm}_{col}", sub[col].tolist())
    ch.metric(f"trigram_minus_{arm}_val_loss", (trigram - sub.val_loss.values).tolist())
ch.metric("seed_metric_majority_rate", float(res.majority_rate.iloc[0]))
res.groupby("arm")[["val_loss", "auroc_play", "auroc_line", "seed_metric_play", "majority_rate"]].agg(
    ["mean", "std"]
).round(4)

# %%
fig, axes = plotting.subplots(3)
sns.lineplot(data=curves, x="step", y="val_loss", hue="arm", marker="o", ax=axes[0, 0])
axes[0, 0].axhline(trigram, c="k", ls="--", lw=1, label=f"count trigram ({trigram:.3f})")
axes[0, 0].axhline(bigram, c="grey", ls=":", lw=1, label=f"count bigram ({bigram:.3f})")
axes[0, 0].legend()
axes[0, 0].set(ylabel="validation loss (nats/char)", title="learning curves (mean, 95% CI)")
long = res.melt(id_vars=["arm", "seed"], value_vars=["auroc_play", "auroc_line"], var_name="level", value_name="AUROC")
sns.pointplot(data=long, x="level", y="AUROC", hue="arm", errorbar=("ci", 95), dodge=0.3, ax=axes[0, 1])
axes[0, 1].axhline(0.5, c="grey", lw=1)
axes[0, 1].set(title="held-out topic separation", ylabel="AUROC (0.5 = none)")
sns.pointplot(data=res, x="arm", y="seed_metric_play", errorbar=("ci", 95), ax=axes[0, 2])
axes[0, 2].axhline(res.majority_rate.iloc[0], c="k", ls="--", label="majority-class rate")
axes[0, 2].set(title="the seed's metric", ylabel="best-threshold accuracy")
axes[0, 2].legend()
plt.show()

# %% [markdown]
# ## Verdict

# %%
by = {arm: res[res.arm == arm].sort_values("seed") for arm in ARMS}
ch.metric("delta_loss_dot_minus_exp", (by["dot"].val_loss.values - by["exp"].val_loss.values).tolist())
ch.metric("delta_auroc_play_exp_minus_dot", (by["exp"].auroc_play.values - by["dot"].auroc_play.values).tolist())
if "dot_soft" in by:
    ch.metric("delta_loss_dot_soft_minus_exp", (by["dot_soft"].val_loss.values - by["exp"].val_loss.values).tolist())
ch.judge()

# %% [markdown]
# ## Answer
#
# The table below is computed from this run's numbers; the reading after it is the published
# `cpu` run's.

# %%
m = ch.metrics
claim = {c["id"]: c for c in ch.claims}["hrs.exp_kernel"]
part = {p["name"]: p for p in claim["parts"]}


def ci_text(p: dict) -> str:
    e = p["effect"]
    if not e or e.get("ci95") is None:  # fewer seeds than the design needs (the ci profile)
        return f"no interval ({p['we_measured']})"
    mde = "–" if e.get("mde") is None else f"{e['mde']:.4f}"
    return f"{e['estimate']:+.4f} [{e['ci95'][0]:+.4f}, {e['ci95'][1]:+.4f}] (n={e['n']}, MDE {mde})"


rows = [
    {
        "quantity": "regime: trigram − arm loss, min over arms (nats/char)",
        "value": ", ".join(
            f"{min(a, b):+.3f}"
            for a, b in zip(
                m["trigram_minus_dot_val_loss"]["values"], m["trigram_minus_exp_val_loss"]["values"], strict=True
            )
        ),
        "verdict": "control " + ("passed" if claim["control"]["passed"] else "FAILED"),
    },
    {
        "quantity": "val loss, dot − exp (nats/char)",
        "value": ci_text(part["loss"]),
        "verdict": f"{part['loss']['verdict']} (δ {part['loss']['delta']})",
    },
    {
        "quantity": "play AUROC, exp − dot",
        "value": ci_text(part["separation"]),
        "verdict": f"{part['separation']['verdict']} (δ {part['separation']['delta']})",
    },
    {
        "quantity": "line AUROC, dot / exp",
        "value": f"{m['dot_auroc_line']['mean']:.3f} / {m['exp_auroc_line']['mean']:.3f}",
        "verdict": "–",
    },
    {
        "quantity": "seed's metric, dot / exp vs majority rate",
        "value": f"{m['dot_seed_metric_play']['mean']:.3f} / {m['exp_seed_metric_play']['mean']:.3f} "
        f"vs {m['seed_metric_majority_rate']:.3f}",
        "verdict": "–",
    },
]
if "delta_loss_dot_soft_minus_exp" in m:
    rows.append(
        {
            "quantity": "val loss, dot_soft − exp (nats/char)",
            "value": stats.fmt(m["delta_loss_dot_soft_minus_exp"], 4),
            "verdict": "–",
        }
    )
rows.append({"quantity": "hrs.exp_kernel", "value": "", "verdict": claim["verdict"]})
pd.DataFrame(rows)

# %% [markdown]
# **Reading.** The sentences below are composed from this run's verdicts and intervals.

# %%
loss_p, sep_p = part["loss"], part["separation"]
print(
    f"Regime: both arms beat the count trigram ({trigram:.3f} nats/char) on every seed: "
    f"{'yes' if claim['control']['passed'] else 'NO, so the claim is UNTESTABLE at this scale'}; "
    f"dot {m['dot_val_loss']['mean']:.3f}, exp {m['exp_val_loss']['mean']:.3f} nats/char."
)
for name, p, units in (("loss", loss_p, "nats/char"), ("separation", sep_p, "AUROC")):
    e = p["effect"]
    if not e or e.get("ci95") is None or e.get("mde") is None:
        print(f"{name}: no interval at n = {len(ch.seeds)} seed(s) → {p['verdict']}")
        continue
    lo, hi = e["ci95"]
    where = (
        "excludes δ"
        if hi < p["delta"]
        else "reaches δ"
        if lo > 0
        else "contains both 0 and δ"
        if lo <= 0
        else "is above 0"
    )
    print(
        f"{name}: Δ = {e['estimate']:+.4f} {units}, 95% CI [{lo:+.4f}, {hi:+.4f}] over {e['n']} seeds; the CI {where} "
        f"(δ = {p['delta']}, MDE {e['mde']:.4f}{', underpowered' if p['underpowered'] else ''}) → {p['verdict']}."
    )
print(f"hrs.exp_kernel → {claim['verdict']} (the weakest part: {claim['weakest_part']}).")

# %%
ch.publish()
