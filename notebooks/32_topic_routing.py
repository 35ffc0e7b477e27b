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
# its *engram* (the mean hidden state of a late block), texts are clustered online by cosine (join
# threshold, evolving centroids, auto-merge, a few active slots), and the context is assembled from
# the active clusters. The seed makes three claims (`claims.yaml`; the
# {doc}`HRS appendix <../appendix/hrs>`, §4):
#
# - `hrs.topic_accuracy_scaling`: engram similarity separates topics at article scale but not at
#   sentence scale (seed: **97.3%** same-vs-different-article accuracy at 512 tokens, **71.5%** at
#   sentence scale) — a "signal-to-noise scaling law".
# - `hrs.learned_classifier_no_better`: a learned classifier cannot beat a fixed cosine threshold
#   (seed: an MLP, 8 pair features → 32 → 32 → 1, tied the threshold at both scales).
# - `hrs.mauve_contamination`: topic-routed context raises MAUVE while held-out perplexity worsens
#   (seed: MAUVE **0.919 → 0.962**, perplexity **35.8 → 38.1**) — "distributional contamination".
#
# The appendix lists why the seed's evidence cannot carry these claims: the 97.3% used *training*
# articles and tuned the threshold on the pairs it reported; the MAUVE benchmark inserted the prompt
# into the clusters before fetching context (so the context ended with the prompt itself), kept
# only 12 context tokens in its 500-token condition, compared against baselines from another run
# with twice the samples, and scored "perplexity" over the context tokens too.
#
# This version (issue 19) replaces the book's first one, which read engrams from the tiny
# Shakespeare backbone of chapter 1: its routing picked the prompt's play *below* chance (9.0%
# against 1/6) and every kind of context raised the NLL, so nothing in it could show an effect.
# Here the engrams, the continuations and the NLL all come from the **pretrained reader**
# (SmolLM2-135M-Instruct, frozen, {doc}`00_data`), each claim is judged by a protocol-2 rule with a
# positive control, and the run uses seeds the chapter had not used (320–322).
#
# The code is in `memnb/hrs/routing/`: `engram.py` (the engram, every length from one read),
# `scaling.py` (accuracy vs length, the threshold vs the seed's MLP, online clustering),
# `topic_manager.py` (the seed's TopicContextManager), `contamination.py` (contexts, NLL,
# generations, MAUVE and its bootstrap).
#
# **Builds on** {doc}`31_entropy_gated_retrieval` (keys from the same reader, the same depth and
# the same centring).

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.data.corpus import load_corpus
from memnb.hrs.retrieval.engram_store import SKIP_FIRST, key_layer
from memnb.hrs.routing import contamination, engram, scaling
from memnb.hrs.rules import chapter_32
from memnb.models import pretrained
from memnb.seeding import seed_everything

ch = Chapter.open("32_topic_routing", profile, seeds, overrides)
p = ch.preset


def fm(name: str) -> str:
    """A recorded metric as "mean [95% CI] (n)"."""
    return stats.fmt(ch.metrics[name])


# %% [markdown]
# ## Setup
#
# - **Model.** The frozen reader SmolLM2-135M-Instruct (30 blocks, d = 576; **4-bit quantisation
#   noise, the instruct checkpoint**), used as a plain language model on raw text (no chat
#   template). Shakespeare is surely in its pretraining data: the plays are held out from nothing
#   here, so part 2 measures what context does for a model that already knows the text's style.
# - **Engram.** As in chapter 31: the mean state after 25 of 30 blocks (the seed's relative depth,
#   5 of 6), every position but the first (its massive activation), and cosines taken after
#   subtracting a centre that holds no evaluation text (the fit half's mean engram in part 1, the
#   routing pool's in part 2). The seed did not centre; a pretrained LM's raw mean states all have
#   cosine near 1.
# - **Topics.** The six held-out plays of the book's corpus (validation and test splits; the poems
#   are left out), tokenised by the reader. TF-IDF of the same chunks' tokens, with no model at
#   all, shows what the words alone do.

# %%
t0 = time.perf_counter()
seed_everything(0, threads=2)
reader = pretrained.load_reader()
tok, lm = reader.tokenizer, reader.model
layer = key_layer(lm)
corpus = load_corpus()
plays = {
    r["title"]: tok(r["text"], add_special_tokens=False).input_ids
    for split in ("validation", "test")
    for r in corpus[split]
    if r["kind"] == "play"
}
ch.timings["reader_load_s"] = round(time.perf_counter() - t0, 1)
print(f"plays (reader tokens): {', '.join(f'{t} ({len(ids):,})' for t, ids in plays.items())}")
print(
    f"engram: hidden_states[{layer}] of {lm.config.num_hidden_layers} blocks, positions {SKIP_FIRST + 1}.. of each text"
)

# %% [markdown]
# ## Pilot and budget
#
# **Pilot** (seed 900, not used below; the whole chapter at these sizes with that one seed,
# `python -m memnb run 32_topic_routing --profile cpu -p seeds "[900]"`, which writes to
# `runs/cpu-custom/`; on this 2-core machine while chapter 11 ran beside it, and after the rules
# below were committed): reading the 120 chunks once at 512 tokens (61,440 tokens) took 174 s;
# scoring 7 lengths × (reader, TF-IDF) 13 s per seed; part 2 (3 conditions × 64 prompts: NLL,
# 32-token generations, MAUVE over 3 clustering seeds, 100 bootstrap replicates) 281 s per seed.
# **Budget:** 174 + 3 × (13 + 281) ≈ 1,060 s on the shared machine; alone, the reader's forward
# passes run roughly 1.5× faster (chapter 40's training step: 2.28 s quiet vs 3.12 s shared), so
# about 12 minutes.
#
# What the pilot showed, for sizing (not judged): the threshold's pair accuracy was 0.49 at 32
# tokens and 0.69 at 512 (the scaling rule's control asks for more than 0.629 at 512); routing put
# 14% of the 32-token prompts in a cluster whose majority play was theirs (chance 1/6), so the
# contamination claim's control (at least 50%) is unlikely to pass at this prompt length; and the
# within-seed bootstrap SD of ΔMAUVE was **0.23** at n = 64 per side. MAUVE's noise falls roughly
# as 1/√n, so an MDE of δ = 0.0215 over 3 seeds (5.4 × SD/√3 ≤ δ) would need about
# 64 × (5.4 × 0.23 / √3 / 0.0215)² ≈ 70,000 prompts per seed: no profile here can resolve the
# seed's +0.043, and the MAUVE part is reported with its MDE. What the `cpu` profile leaves out:
# the conditions `other_play_ref`, `other_domain` and `seed_artifact` (the `gpu` profile runs them,
# with 500 prompts per seed; not run: no GPU was lent), and lengths above 512 tokens.

# %% [markdown]
# ## Rules, registered before the run
#
# Written as data in `memnb/hrs/rules.py` (committed before this run) and rendered here from that
# data. `hrs.topic_accuracy_scaling` is judged by its *direction* with δ = half the seed's gap
# (12.9 points; the seed's levels cannot be reached on six plays by one author, which a TF-IDF
# control at 512 tokens already showed in the first version), with the control that the article
# scale beats chance by more than δ. `hrs.learned_classifier_no_better` is a bound claim at one
# length fixed in advance (512 tokens) with the seed's own MLP. `hrs.mauve_contamination` has two
# parts, each directional with δ half the seed's number, and both need the routing to be topical
# (the routed cluster's majority play is the prompt's for at least half of the prompts).

# %%
ch.rules(chapter_32(ch["article_len"], ch["sentence_len"]))

# %% [markdown]
# ## Part 1 — topic accuracy against text length
#
# Every play is read at `n_chunks` anchors `stride` tokens apart, once, `max(lengths)` tokens from
# each anchor; the engram of the first L tokens of that read *is* the engram of the L-token chunk
# read alone (the model is causal), so every length compares the same places in the plays, and
# chunks of different plays and lengths cost one read. Each seed splits every play's anchors at
# random into a *fit* and an *eval* half and draws `n_pairs` same-play and `n_pairs`
# different-play pairs inside each half (chance, and the majority class, is **50%**). Scores on
# the eval pairs:
#
# - **fixed threshold**: "same play iff cos ≥ t" with t fitted on the fit pairs (the seed fitted t
#   on the pairs it reported); AUROC of the cosine is the threshold-free version;
# - **learned classifiers** fit on the fit pairs: the seed's MLP on its 8 pair features (the one
#   the rule reads) and a logistic regression on [â⊙b̂, |â−b̂|] (a learned diagonal metric);
# - **online clustering**: the eval chunks streamed through the TopicContextManager at τ_join = t;
#   adjusted Rand index with the plays (0 = chance).

# %%
t0 = time.perf_counter()
toks, labels, starts = scaling.anchored_chunks(plays, max(ch["lengths"]), ch["n_chunks"], ch["stride"])
E = engram.prefix_engrams(lm, toks, ch["lengths"], layer=layer, skip_first=SKIP_FIRST)
chunks = {L: [t[:L] for t in toks] for L in ch["lengths"]}
ch.timings["part1_encode_s"] = round(time.perf_counter() - t0, 1)
t0 = time.perf_counter()
scores = pd.DataFrame(
    scaling.score_lengths(E, chunks, labels, starts, ch.seeds, vocab_size=len(tok), n_pairs=ch["n_pairs"], min_gap=0)
)
ch.timings["part1_score_s"] = round(time.perf_counter() - t0, 1)
n_tokens = len(toks) * max(ch["lengths"])
print(f"{len(toks)} chunks ({ch['n_chunks']} per play) read once at {max(ch['lengths'])} tokens: {n_tokens:,} "
      f"tokens in {ch.timings['part1_encode_s']} s; scoring {ch.timings['part1_score_s']} s")  # fmt: skip
cols = ["acc_threshold", "auroc", "acc_mlp", "acc_elementwise", "ari", "n_clusters", "cos_same", "cos_diff"]
scores.groupby(["features", "length"])[cols].mean().round(3)


# %%
def per_seed(col: str, length: int, features: str = "reader") -> np.ndarray:
    sub = scores[(scores.features == features) & (scores.length == length)].sort_values("seed")
    return sub[col].to_numpy()


for L in ch["lengths"]:
    for col in ("acc_threshold", "auroc", "acc_mlp", "acc_elementwise", "ari"):
        ch.metric(f"{col}_L{L}", per_seed(col, L))
    ch.metric(f"tfidf_acc_threshold_L{L}", per_seed("acc_threshold", L, "tfidf"))
    ch.metric(f"mlp_advantage_L{L}", per_seed("acc_mlp", L) - per_seed("acc_threshold", L))
ch.metric("chance_pair_accuracy", 0.5)
ch.metric("scaling_gap", per_seed("acc_threshold", ch["article_len"]) - per_seed("acc_threshold", ch["sentence_len"]))

# %% [markdown]
# The curve: pair accuracy on the eval pairs (mean over seeds, 95% CI) against text length, for the
# reader's fixed threshold, the seed's MLP, the elementwise logistic regression and TF-IDF's
# threshold. The dotted line is chance; the stars are the seed's two numbers (WikiText articles,
# its own GPT-2-style model).

# %%
curves = {  # legend label: (features, accuracy column)
    "reader engram: fixed threshold": ("reader", "acc_threshold"),
    "reader engram: seed's MLP (8 features)": ("reader", "acc_mlp"),
    "reader engram: logistic, elementwise": ("reader", "acc_elementwise"),
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
A, S = (
    ch.metrics[f"acc_threshold_L{ch['article_len']}"]["mean"],
    ch.metrics[f"acc_threshold_L{ch['sentence_len']}"]["mean"],
)
ax.set(xscale="log", xlabel="text length (reader tokens)", ylabel="same-vs-different-play accuracy",
       title=f"Pair accuracy: {S:.0%} at {ch['sentence_len']} tokens, {A:.0%} at {ch['article_len']}")  # fmt: skip
ax.legend(fontsize=7)
ax = axes[0, 1]
plotting.mean_ci_lines(scores[scores.features == "reader"], x="length", y="ari", ax=ax)
ax.axhline(0.0, ls=":", c="k")
ari = ch.metrics[f"ari_L{ch['article_len']}"]["mean"]
ax.set(xscale="log", xlabel="text length (reader tokens)", ylabel="adjusted Rand index",
       title=f"Online clustering vs plays: ARI {ari:.2f} at {ch['article_len']} tokens")  # fmt: skip
plt.show()

# %% [markdown]
# ## Part 2 — the contamination finding, redone
#
# Reference plays R = the test split's plays (Hamlet, King Richard III, The Tempest); other plays
# O = the validation split's. Per seed, `n_prompts` windows (a `prompt_tokens` prompt and its true
# `continuation_tokens` continuation) are drawn from the second half of the R plays, balanced over
# them, and as many more windows give the **human** set (true text against true text: the MAUVE a
# perfect model would get at this n). The routing pool is part 1's `item_tokens`-token chunks of
# all six plays whose anchors lie in the plays' first halves, streamed through the
# TopicContextManager at τ_join = the threshold part 1 fitted at `item_tokens` tokens for the same
# seed. Each condition prepends at most `context_tokens` tokens of context to the same prompts:
#
# | condition | context |
# |---|---|
# | `none` | nothing |
# | `routed` | the TopicContextManager's context; the prompt routed, **not inserted** (the seed inserted it first) |
# | `same_play` | random text from the first half of the prompt's own play: the topical context routing aims at |
#
# (The `gpu` profile adds `other_play_ref`, `other_domain` and the seed's insert-then-retrieve
# `seed_artifact`.) Metrics: the **continuation-only NLL** of the true continuation, per prompt;
# **MAUVE** of the reader's sampled continuations (temperature 0.9, top-k 50, the seed's settings;
# one sampling seed per run seed, the same in every condition) against the true continuations,
# MiniLM features (the seed used GPT-2-large features, so only differences between our conditions
# compare), averaged over `kmeans_seeds` clustering seeds; a **prompt-paired bootstrap** of
# ΔMAUVE within each seed (prompts resampled jointly for the references and both conditions); and
# MAUVE's planted control, the human continuations with their tokens shuffled.

# %%
t0 = time.perf_counter()
setup = contamination.Setup(
    context=ch["context_tokens"],
    prompt=ch["prompt_tokens"],
    continuation=ch["continuation_tokens"],
    n=ch["n_prompts"],
    conditions=tuple(ch["conditions"]),
    kmeans_seeds=ch["kmeans_seeds"],
    n_boot=ch["n_boot"],
)
titles = list(plays)
test_titles = [r["title"] for r in corpus["test"] if r["kind"] == "play"]
ref_plays = {t: plays[t] for t in test_titles}
other_plays = {t: ids for t, ids in plays.items() if t not in ref_plays}
I = ch["item_tokens"]
in_pool = np.array([s + I <= len(plays[titles[lab]]) // 2 for lab, s in zip(labels, starts, strict=True)])
pool = (
    E[I][in_pool],
    [t[:I] for t, k in zip(toks, in_pool, strict=True) if k],
    [titles[lab] for lab in labels[in_pool]],
)


def encode(token_lists: list[list[int]]) -> np.ndarray:
    P = len(token_lists[0])
    return engram.prefix_engrams(lm, token_lists, [P], layer=layer, skip_first=SKIP_FIRST)[P]


runs = []
for seed in ch.seeds:
    t1 = time.perf_counter()
    seed_everything(seed, threads=2)
    join = float(per_seed("threshold", I)[ch.seeds.index(seed)])
    runs.append(contamination.run_seed(lm, tok, ref_plays, other_plays, pool, encode, setup, join, seed=seed))
    print(f"seed {seed}: {time.perf_counter() - t1:.0f} s, routing accuracy {runs[-1]['routing_acc']:.2f}", flush=True)
ch.timings["part2_s"] = round(time.perf_counter() - t0, 1)
cont = pd.DataFrame([r for run in runs for r in run["rows"]])
table = cont.groupby("condition", sort=False)[["cont_nll", "mauve", "context_tokens"]].mean()
table.columns = ["continuation NLL (nats/token)", "MAUVE (continuations)", "context (tokens)"]
human, shuffled = np.mean([r["mauve_human"] for r in runs]), np.mean([r["mauve_shuffled"] for r in runs])
print(f"{len(pool[1])} pool chunks of {I} tokens; human vs human MAUVE (ceiling at n={setup.n}) {human:.3f}; "
      f"shuffled tokens {shuffled:.3f}; clusters {[r['n_clusters'] for r in runs]}")  # fmt: skip
table.round(3)

# %% [markdown]
# One prompt, its true continuation, and what each condition generated (first seed).

# %%
print("PROMPT:", repr(runs[0]["example_prompt"]))
print("TRUE:", repr(runs[0]["example_reference"]))
for r in runs[0]["rows"]:
    print(f"{r['condition']}: {r['example']!r}")

# %%
for cond in setup.conditions:
    sub = cont[cont.condition == cond].sort_values("seed")
    ch.metric(f"cont_nll_{cond}", sub["cont_nll"].tolist())["examples"] = [r["nll"][cond].tolist() for r in runs]
    ch.metric(f"mauve_{cond}", sub["mauve"].tolist())
ch.metric("mauve_human", [r["mauve_human"] for r in runs])
ch.metric("mauve_shuffled", [r["mauve_shuffled"] for r in runs])
ch.metric("routing_acc", [r["routing_acc"] for r in runs])
ch.metric("routing_chance", 1 / len(plays))
ch.metric("ctl_routing_margin", [r["routing_acc"] - 0.5 for r in runs])
ch.metric("ctl_mauve_planted_margin", [r["mauve_human"] - r["mauve_shuffled"] - 0.1 for r in runs])
for cond in setup.conditions[1:]:
    ch.metric(f"d_cont_nll_{cond}", [float(np.mean(r["nll"][cond] - r["nll"]["none"])) for r in runs])
    ch.metric(
        f"d_mauve_{cond}",
        (cont[cont.condition == cond].mauve.to_numpy() - cont[cont.condition == "none"].mauve.to_numpy()).tolist(),
    )
boot = pd.DataFrame(
    [{"seed": s, "ΔMAUVE (kmeans-averaged)": m, "bootstrap SD": r["d_mauve_boot"].std(ddof=1),
      "bootstrap 2.5%": np.quantile(r["d_mauve_boot"], 0.025), "bootstrap 97.5%": np.quantile(r["d_mauve_boot"], 0.975)}
     for s, m, r in zip(ch.seeds, ch.metrics["d_mauve_routed"]["values"], runs, strict=True)]
)  # fmt: skip
ch.metric("d_mauve_boot_sd", boot["bootstrap SD"].tolist())
print(f"routing accuracy {fm('routing_acc')} (chance {1 / len(plays):.3f}); ΔNLL routed − none "
      f"{fm('d_cont_nll_routed')}; ΔMAUVE routed − none {fm('d_mauve_routed')}")  # fmt: skip
boot.round(3)

# %% [markdown]
# Each condition as a point: its MAUVE change against its continuation-NLL change relative to
# `none` (mean over seeds, bars = 95% CI over seeds). The seed's "contamination" is the
# upper-right quadrant: MAUVE up, NLL up (worse).

# %%
fig, axes = plotting.subplots(2)
ax = axes[0, 0]
for cond in setup.conditions[1:]:
    x, y = ch.metrics[f"d_cont_nll_{cond}"], ch.metrics[f"d_mauve_{cond}"]
    half = [(s["ci95"][1] - s["ci95"][0]) / 2 if s["ci95"] else None for s in (x, y)]  # None: one seed
    ax.errorbar(x["mean"], y["mean"], xerr=half[0], yerr=half[1], fmt="o", capsize=3, label=cond)
ax.axhline(0, c="k", lw=0.8)
ax.axvline(0, c="k", lw=0.8)
dn = ch.metrics["d_cont_nll_routed"]["mean"]
ax.set(xlabel="Δ continuation NLL vs none (nats/token)", ylabel="Δ MAUVE vs none",
       title=f"What context does: routed ΔNLL {dn:+.3f} nats/token")  # fmt: skip
ax.legend(fontsize=7)
ax = axes[0, 1]
sns.pointplot(data=cont, x="condition", y="mauve", errorbar=("ci", 95), ax=ax, linestyles="none")
ax.axhline(np.mean([r["mauve_human"] for r in runs]), ls="--", c="k", label="human vs human")
ax.axhline(np.mean([r["mauve_shuffled"] for r in runs]), ls=":", c="k", label="shuffled tokens")
ax.set(xlabel="", ylabel="MAUVE (MiniLM features)", title=f"MAUVE, n={setup.n} per side")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Answer
#
# The three claims, judged by the rules registered above from the metrics recorded in this run:
# each row gives the measured values, the parts' verdicts and the claim's.

# %%
ch.judge()

# %% [markdown]
# **Reading the results.** The verdicts above are the findings; this paragraph says how to read
# them, and the cell below states the numbers they rest on. Part 1 asks whether a pretrained
# model's mean hidden state tells one play from another: the plays share one author, one register
# and one stage format, a much harder topic task than WikiText articles on different subjects, so
# the seed's levels (97% / 72%) are not the question — its direction is. TF-IDF shows how much the
# words alone do at each length. Part 2 asks the seed's contamination question with its confounds
# removed (the prompt is routed, not inserted; every condition uses the same prompts, references,
# n and sampling seed; the NLL counts only the continuation). `same_play` is the topical context a
# perfect router would fetch, so it says what topic-matched context does for a real language
# model; `routed` is what the manager fetched. A part whose control failed is UNTESTABLE, which is
# no evidence either way.

# %%
mm = {k: v["mean"] if isinstance(v, dict) else v for k, v in ch.metrics.items()}
La, Ls = ch["article_len"], ch["sentence_len"]
print(f"pair accuracy {mm[f'acc_threshold_L{Ls}']:.3f} at {Ls} tokens -> {mm[f'acc_threshold_L{La}']:.3f} at {La} "
      f"(TF-IDF {mm[f'tfidf_acc_threshold_L{La}']:.3f}); seed's MLP at {La}: {mm[f'acc_mlp_L{La}']:.3f}")  # fmt: skip
nll = ", ".join(f"{c} {mm[f'd_cont_nll_{c}']:+.3f}" for c in setup.conditions[1:])
mauve = ", ".join(f"{c} {mm[f'd_mauve_{c}']:+.3f}" for c in setup.conditions[1:])
print(f"routing accuracy {mm['routing_acc']:.3f} (chance {mm['routing_chance']:.3f}); continuation NLL vs none: {nll} "
      f"nats/token; MAUVE vs none: {mauve} (within-seed bootstrap SD {mm['d_mauve_boot_sd']:.3f})")  # fmt: skip

# %%
ch.publish()
