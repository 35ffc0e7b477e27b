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
# # 32. Topic routing: does hidden-state similarity find the topic, and does routed context help?
#
# **Question.** HRS organises a model's context by topic instead of recency: each text is keyed by
# its *engram* (the mean hidden state of a middle-to-late block), texts are clustered online by
# cosine (join threshold, evolving centroids, auto-merge, a few active slots), and the context is
# assembled from the active clusters. The seed makes three claims (`claims.yaml`; the
# {doc}`HRS appendix <../appendix/hrs>`, §5):
#
# - `hrs.topic_accuracy_scaling`: engram similarity separates topics at article scale but not at
#   sentence scale (seed: **97.3%** same-vs-different-article accuracy at 512 tokens, **71.5%** at
#   sentence scale) — a "signal-to-noise scaling law".
# - `hrs.learned_classifier_no_better`: a learned classifier cannot beat a fixed cosine threshold
#   (seed: an MLP on 8 pair features tied the threshold at both scales).
# - `hrs.mauve_contamination`: topic-routed context raises MAUVE while held-out perplexity worsens
#   (seed: MAUVE **0.919 → 0.962**, perplexity **35.8 → 38.1**, an LLM judge preferring the
#   baseline 28–22) — "distributional contamination".
#
# The HRS appendix (§5) lists why the seed's evidence cannot carry these claims: the 97.3% used
# *training* articles and tuned the threshold on the pairs it reported; the MAUVE benchmark
# inserted the prompt into the clusters before fetching context (so the context ended with the
# prompt itself), kept only 12 context tokens in its 500-token condition, compared against
# baselines from another run with twice the samples, and scored "perplexity" over the context
# tokens too. This chapter redoes both experiments with held-out plays as topics, held-out
# thresholds, matched sample counts, several seeds and a continuation-only NLL.
#
# The math is in `memnb/routing/`: `engram.py` (the engram), `topic_manager.py` (the seed's
# TopicContextManager), `scaling.py` (accuracy vs length, threshold vs learned classifiers),
# `contamination.py` (context conditions, NLL, MAUVE; KV-cached sampling by `memnb/eval/sampling.py`).
#
# **Builds on** {doc}`01_baseline` (the frozen backbone) and {doc}`31_entropy_gated_retrieval`
# (retrieval by its hidden states).

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from tqdm.auto import tqdm

from memnb import plotting
from memnb.book.chapter import Chapter
from memnb.data.corpus import load_corpus
from memnb.hrs.routing import contamination, engram, scaling
from memnb.hrs.rules import chapter_32
from memnb.models.backbone import untrained_backbone
from memnb.seeding import seed_everything
from memnb.train import progress_enabled
from memnb.train.backbone import load_backbone

ch = Chapter.open("32_topic_routing", profile, seeds, overrides)

# %% [markdown]
# ## Setup
#
# - **Model.** The book's frozen backbone (chapter 1: a GPT-2-style model trained on the
#   Shakespeare training plays with a 4,096-token BPE) and, as a control, the same architecture at
#   random initialisation. The engram is the mean state after the second-to-last block, the seed's
#   `extract_layer = −2`. The backbone was trained on windows of `seq_len` tokens (128 at the
#   `cpu` profile) and never trained its later positions, so longer texts are read in consecutive
#   windows of that size and every sequence fed for generation fits in it.
# - **Topics.** The six held-out plays (validation and test splits, never seen in training), each
#   cut to its first `play_tokens` tokens so that every play weighs the same. The poems are left out.
# - **Lexical control.** TF-IDF vectors of the token counts, no model at all: how far the words
#   alone separate the plays at each length.

# %%
seed_everything(0, threads=1)
backbone, tok, bb_info = load_backbone(ch.profile)
random_lm, _ = untrained_backbone(ch.profile, seed=0)
window = int(bb_info["config"]["seq_len"])
layer = engram.seed_layer(backbone)
corpus = load_corpus()
held_out = {
    r["title"]: tok.encode(r["text"]) for split in ("validation", "test") for r in corpus[split] if r["kind"] == "play"
}
plays = {t: ids[: ch["play_tokens"]] for t, ids in held_out.items()}
print(f"plays: {', '.join(f'{t} ({len(ids):,} tokens)' for t, ids in plays.items())}")
print(f"engram: hidden_states[{layer}] of {backbone.config.n_layer} blocks; read in windows of {window} tokens")

# %% [markdown]
# ## Rules, registered before the run
#
# The three claims are judged by rules written as data in `memnb/hrs/rules.py` and rendered below
# from that data, before any result exists. `hrs.topic_accuracy_scaling` compares A = threshold
# accuracy at `article_len` tokens with S = at `sentence_len` tokens (the seed's scales: 512-token
# articles; sentences of 8–40 words ≈ 32 of our tokens), with a 10-point gap (the seed's was 26
# points) and 90% separation at article scale (the seed: 97.3%). The learned classifier judged by
# `hrs.learned_classifier_no_better` is `elementwise` (fixed in advance as the stronger learner),
# at every length. `hrs.mauve_contamination` reads the `routed` condition of part 2 against `none`;
# the other conditions are reported, not judged. The two scaling rules read one metric per length,
# so they are built for this profile's `lengths`, `article_len` and `sentence_len`; at the `cpu`
# profile they are the published rules.

# %%
ch.rules(chapter_32(ch["lengths"], ch["article_len"], ch["sentence_len"]))

# %% [markdown]
# ## Part 1 — topic accuracy against text length
#
# For each length L, the plays are cut into non-overlapping L-token chunks (at most `max_chunks`
# per play, evenly spaced). Each seed splits every play's chunks at random into a *fit* half and an
# *eval* half and draws `n_pairs` same-play and `n_pairs` different-play pairs inside each half;
# same-play pairs start at least `min_gap` tokens apart, so they are not the same scene. Chance (and
# the majority class) is **50%**. Scores on the eval pairs:
#
# - **fixed threshold**: "same play iff cos ≥ t" with t fitted on the fit pairs (the seed fitted t
#   on the pairs it reported); AUROC of the cosine is the threshold-free version;
# - **learned classifiers** fit on the fit pairs: logistic regression on the seed's 8 pair
#   features (`seed8`), and on [â⊙b̂, |â−b̂|] (`elementwise`, a learned diagonal metric);
# - **online clustering**: the eval chunks streamed through the TopicContextManager at
#   τ_join = t; adjusted Rand index with the plays (0 = chance).

# %%
encoders = {"backbone": backbone, "untrained": random_lm}
sets = {
    name: scaling.length_engrams(model, plays, ch["lengths"], max_chunks=ch["max_chunks"], layer=layer, window=window)
    for name, model in tqdm(encoders.items(), desc="engrams", disable=not progress_enabled())
}
scores = pd.DataFrame(
    scaling.score_lengths(sets, ch.seeds, vocab_size=tok.vocab_size, n_pairs=ch["n_pairs"], min_gap=ch["min_gap"])
)
n_chunks = {L: len(sets["backbone"][L][0]) for L in ch["lengths"]}
print(f"chunks per length (6 plays): {n_chunks}")
(
    scores.groupby(["features", "length"])[
        ["acc_threshold", "auroc", "acc_seed8", "acc_elementwise", "ari", "n_clusters", "cos_same", "cos_diff"]
    ]
    .mean()
    .round(3)
)

# %% [markdown]
# The curve: pair accuracy (eval pairs, mean over seeds with 95% CI) against text length, for the
# backbone's fixed threshold and its two learned classifiers, the untrained backbone's threshold,
# and TF-IDF's threshold. The dotted line is chance (50%); the stars are the seed's two numbers.

# %%
curves = {  # legend label: (features, accuracy column)
    "backbone: fixed threshold": ("backbone", "acc_threshold"),
    "backbone: logistic, seed's 8 features": ("backbone", "acc_seed8"),
    "backbone: logistic, elementwise": ("backbone", "acc_elementwise"),
    "untrained backbone: threshold": ("untrained", "acc_threshold"),
    "TF-IDF tokens: threshold": ("tfidf", "acc_threshold"),
}
long = pd.concat(
    [scores[scores.features == f].assign(method=label, acc=lambda d, c=col: d[c]) for label, (f, col) in curves.items()]
)
fig, axes = plotting.subplots(2)
ax = axes[0, 0]
plotting.mean_ci_lines(long, x="length", y="acc", hue="method", ax=ax)
ax.axhline(0.5, ls=":", c="k", label="chance")
ax.scatter([ch["sentence_len"], ch["article_len"]], [0.715, 0.973], marker="*", s=120, c="k", label="seed (WikiText)")
ax.set(xscale="log", xlabel="text length (tokens)", ylabel="same-vs-different-play accuracy", title="Pair accuracy")
ax.legend(fontsize=7)
ax = axes[0, 1]
plotting.mean_ci_lines(scores, x="length", y="ari", hue="features", ax=ax)
ax.axhline(0.0, ls=":", c="k")
ax.set(xscale="log", xlabel="text length (tokens)", ylabel="adjusted Rand index", title="Online clustering vs plays")
plt.show()


# %%
def per_seed(frame: pd.DataFrame, col: str, length: int, features: str = "backbone") -> np.ndarray:
    sub = frame[(frame.features == features) & (frame.length == length)].sort_values("seed")
    return sub[col].to_numpy()


for L in ch["lengths"]:
    for col in ("acc_threshold", "auroc", "acc_seed8", "acc_elementwise", "ari"):
        ch.metric(f"{col}_L{L}", per_seed(scores, col, L))
    ch.metric(f"untrained_acc_threshold_L{L}", per_seed(scores, "acc_threshold", L, "untrained"))
    ch.metric(f"tfidf_acc_threshold_L{L}", per_seed(scores, "acc_threshold", L, "tfidf"))
    ch.metric(f"learned_advantage_L{L}", per_seed(scores, "acc_elementwise", L) - per_seed(scores, "acc_threshold", L))
ch.metric("chance_pair_accuracy", 0.5)

A = per_seed(scores, "acc_threshold", ch["article_len"])
S = per_seed(scores, "acc_threshold", ch["sentence_len"])
ch.metric("scaling_gap", A - S)
m = ch.metrics

# %% [markdown]
# ## Part 2 — the contamination finding, redone
#
# Reference plays R = the test split's plays (Hamlet, King Richard III, The Tempest); other plays
# O = the validation split's. Each R play's first half is its context pool and its second half the
# evaluation region; O plays serve as pools. Per seed, `n_prompts` windows (a `prompt_tokens`
# prompt and its true `continuation_tokens` continuation) are drawn from the evaluation regions,
# balanced over R plays, and `n_prompts` more windows give the **human** set — true text against
# true text, the MAUVE a perfect model would get at this n. Every condition prepends at most
# `context_tokens` tokens of context to the same prompts:
#
# | condition | context | overlaps the MAUVE reference distribution? |
# |---|---|---|
# | `none` | nothing | — |
# | `same_play` | random text from the prompt's own play | yes, and topic-matched |
# | `routed` | TopicContextManager over chunks of all six pools; prompt routed, not inserted | partly |
# | `other_play_ref` | random text from another R play | yes, but the wrong topic |
# | `other_domain` | random text from an O play | no |
# | `seed_artifact` | seed's order: prompt inserted, then context read (ends with the prompt) | yes (the prompt) |
#
# The manager's τ_join is the threshold fitted in part 1 at `item_tokens` tokens for the same seed
# (the seed's 0.5 assumes GPT-2's cosine spread). Metrics: **continuation-only NLL** of the true
# continuation (context and prompt positions masked), the seed's **all-position perplexity**
# (for comparison), **MAUVE** of the generated continuations (prompt stripped) against the true
# continuations — the same n, the same references and the same sampling seeds in every condition,
# averaged over `kmeans_seeds` clustering seeds — and MAUVE under the seed's protocol (prompt
# included on both sides). MAUVE features come from the local MiniLM sentence encoder
# (`memnb.eval.mauve`); **the seed used GPT-2-large features**, so absolute values are not
# comparable with its 0.919/0.962, only differences between our conditions. With
# `n_prompts` samples per side MAUVE uses round(n/10) clusters and is noisy: the CIs over seeds are
# the point. The claim reads ΔMAUVE = MAUVE(routed) − MAUVE(none) and ΔNLL = continuation
# NLL(routed) − NLL(none) per seed (its rule is registered above); the other conditions are
# reported, not judged: they say *what* moves MAUVE.

# %%
setup = contamination.Setup(
    context=ch["context_tokens"],
    prompt=ch["prompt_tokens"],
    continuation=ch["continuation_tokens"],
    n=ch["n_prompts"],
    pool_items=ch["pool_items"],
    item_tokens=ch["item_tokens"],
    kmeans_seeds=ch["kmeans_seeds"],
)
test_titles = [r["title"] for r in corpus["test"] if r["kind"] == "play"]
ref_plays = {t: held_out[t] for t in test_titles}
other_plays = {t: ids for t, ids in held_out.items() if t not in ref_plays}
runs = []
for seed in tqdm(ch.seeds, desc="contamination seeds", disable=not progress_enabled()):
    seed_everything(seed, threads=1)
    join = float(per_seed(scores, "threshold", ch["item_tokens"])[ch.seeds.index(seed)])
    runs.append(
        contamination.run_seed(
            backbone, tok, ref_plays, other_plays, setup, join, layer=layer, window=window, seed=seed
        )
    )
cont = pd.DataFrame([r for run in runs for r in run["rows"]])
table = cont.groupby("condition", sort=False)[
    ["cont_nll", "seed_ppl", "mauve", "mauve_seed_protocol", "distinct2", "context_tokens"]
].mean()
table.columns = [
    "continuation NLL (nats/token)",
    "seed's all-position PPL",
    "MAUVE (continuations)",
    "MAUVE (seed protocol)",
    "distinct-2",
    "context (tokens)",
]
print(
    f"human vs human MAUVE (ceiling at n={setup.n}): {np.mean([r['mauve_human'] for r in runs]):.3f}; routing "
    f"picked the prompt's play for {np.mean([r['routing_acc'] for r in runs]):.1%} of prompts "
    f"(chance {1 / len(held_out):.1%} by pool share); clusters: {[r['n_clusters'] for r in runs]}"
)
table.round(3)

# %% [markdown]
# One prompt, its true continuation, and what each condition generated (seed 0).

# %%
print("PROMPT:", runs[0]["example_prompt"])
print("TRUE:", runs[0]["example_reference"])
for r in runs[0]["rows"]:
    print(f"{r['condition']}: {r['example']!r}")

# %%
for cond in contamination.CONDITIONS:
    sub = cont[cont.condition == cond].sort_values("seed")
    for col in ("cont_nll", "seed_ppl", "mauve", "mauve_seed_protocol", "distinct2"):
        ch.metric(f"{col}_{cond}", sub[col].tolist())
ch.metric("mauve_human", [r["mauve_human"] for r in runs])
ch.metric("routing_acc", [r["routing_acc"] for r in runs])
ch.metric("routing_chance", 1 / len(held_out))


def delta(col: str, cond: str, base: str = "none") -> list[float]:
    return [a - b for a, b in zip(m[f"{col}_{cond}"]["values"], m[f"{col}_{base}"]["values"], strict=True)]


for cond in contamination.CONDITIONS[1:]:
    ch.metric(f"d_mauve_{cond}", delta("mauve", cond))
    ch.metric(f"d_cont_nll_{cond}", delta("cont_nll", cond))
    ch.metric(f"d_seed_ppl_{cond}", delta("seed_ppl", cond))
ch.metric("d_mauve_in_ref_vs_out", delta("mauve", "other_play_ref", "other_domain"))

# %% [markdown]
# Each condition as a point: its MAUVE change against its continuation-NLL change relative to
# `none` (mean over seeds, bars = 95% CI). The seed's "contamination" is the upper-right quadrant:
# MAUVE up, NLL up (worse).

# %%
fig, axes = plotting.subplots(2)
ax = axes[0, 0]
for cond in contamination.CONDITIONS[1:]:
    x, y = m[f"d_cont_nll_{cond}"], m[f"d_mauve_{cond}"]
    half = [(s["ci95"][1] - s["ci95"][0]) / 2 if s["ci95"] else None for s in (x, y)]  # None: one seed
    ax.errorbar(x["mean"], y["mean"], xerr=half[0], yerr=half[1], fmt="o", capsize=3, label=cond)
ax.axhline(0, c="k", lw=0.8)
ax.axvline(0, c="k", lw=0.8)
ax.set(xlabel="Δ continuation NLL vs none (nats/token)", ylabel="Δ MAUVE vs none", title="What context does")
ax.legend(fontsize=7)
ax = axes[0, 1]
sns.pointplot(data=cont, x="condition", y="mauve", errorbar=("ci", 95), ax=ax, linestyles="none")
ax.axhline(np.mean([r["mauve_human"] for r in runs]), ls="--", c="k", label="human vs human")
ax.set(xlabel="", ylabel="MAUVE (MiniLM features)", title=f"MAUVE, n={setup.n} per side")
ax.tick_params(axis="x", rotation=35)
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Answer
#
# The three claims, judged by the rules registered above from the metrics recorded in this run:
# each row gives the measured values (per seed, or mean ± 95% CI), the parts' verdicts and the claim's.

# %%
ch.judge()

# %% [markdown]
# **Reading the results.** The numbers above are the findings; this paragraph says how to read
# them. Part 1 measures whether a small Shakespeare-trained model's mean hidden state tells one
# held-out play from another. The plays share one author, one register and one stage format, so
# this is a much harder topic task than WikiText articles on different subjects, and the TF-IDF
# control shows how much the words alone can do at each length; the untrained backbone shows how
# much of the engram's signal the training added. Accuracy rises with length (the seed's scaling
# direction); whether it reaches the seed's 97% is what the first verdict says. Part 2 asks the
# seed's question with the confounds removed: every condition uses the same prompts, references,
# sample count and sampling seeds, and the NLL counts only the continuation. The `other_play_ref`
# vs `other_domain` contrast is the controlled variable — context inside vs outside the reference
# distribution with the topic held wrong in both — and the `seed_artifact` row shows what the
# seed's insert-then-retrieve order does. Absolute MAUVE values depend on the featuriser (MiniLM
# here, GPT-2-large in the seed) and on n; only the differences between our conditions are
# comparable.

# %%
ch.publish()
