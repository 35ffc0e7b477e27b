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
# # 31. Entropy-gated retrieval: does the store find the needle?
#
# **Question.** HRS keeps a store of "engrams": a passage is written when the language model
# finds it surprising (mean predictive entropy above a threshold), keyed by the mean hidden state
# of a middle block; during generation, a spike of entropy triggers a cosine search of the store.
# The seed's needle test hid one fictional paragraph among 20 hand-written distractors and
# reported that the question found it: **5/5 needles in the top 5, mean rank 1.2**
# (claim `hrs.egr_niah`). The {doc}`HRS appendix <../appendix/hrs>` (§4) notes why that may be
# easy: each question repeats the needle's unique invented name, the distractors were on
# unrelated topics, and the gate stored ~90% of everything. This chapter reruns the test with
# many generated needles and asks three further questions the seed did not: does it survive 200
# and 2,000 distractors, does it survive distractors *written in the same style* (other needles),
# and does it survive a question that does not repeat the invented name? Two controls separate
# what the model learned from lexical overlap: the same architecture at random initialisation,
# and character n-gram TF-IDF with no model at all.
#
# The math is in `memnb/retrieval/`: `entropy.py` (entropy in bits, the read trigger),
# `engram_store.py` (keys, the write gate), `needles.py` (the needle template),
# `niah.py` (cosine similarities, ranks and scores).
#
# **Builds on** {doc}`01_baseline` (the frozen backbone whose hidden states are the retrieval
# keys). Before it: {doc}`30_engram_leakage`; after it, routing by the same hidden states:
# {doc}`32_topic_routing`.

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
from memnb.data.corpus import load_corpus
from memnb.hrs.retrieval import entropy, experiment, needles, niah
from memnb.hrs.rules import CHAPTER_31
from memnb.models.backbone import untrained_backbone
from memnb.train.backbone import load_backbone

ch = Chapter.open("31_entropy_gated_retrieval", profile, seeds, overrides)

# %% [markdown]
# ## Setup
#
# - **Model.** The book's frozen backbone (chapter 1: a 4-layer GPT-2-style model trained on
#   Shakespeare with a 4,096-token BPE). Keys are the mean state after block 2 of 4, the same
#   relative depth as the seed's block 4 of GPT-2's 12 (roughly the middle).
# - **Needles.** Generated from one template with invented names (`needles.py`): "The
#   observatory of Kavenmi stands beside the river Thilo. It was founded in 1432 by …". The
#   *question* names the needle ("Who founded the observatory of Kavenmi …?"); the *paraphrase*
#   describes it without any invented word ("Which observatory has silver gates and a bell that
#   rings seven times at dawn?").
# - **Distractors.** Either held-out Shakespeare passages of `passage_words` words (validation and
#   test plays, never seen in training) — unrelated text, like the seed's distractors — or *other
#   needles* from the same template, which differ only in names and details.
# - **Write gate.** The seed stored a segment when its mean entropy exceeded 4.0 bits, a number
#   taken from another project; it stored ~90% of segments, so it hardly gated at all. We run
#   two gates: the seed's 4.0 bits (`seed_4bits`), and a *calibrated* gate at the
#   `gate_percentile`-th percentile of the Shakespeare passages' entropies, which really
#   selects: a needle the gate refuses is a miss, however good the keys.
# - Each seed draws its own needles and distractor samples; the keys and the gate do not depend
#   on the seed.
#
# **The rule for `hrs.egr_niah`, fixed before the run.** The claim is judged in the seed's
# setting: LM keys, the seed's 4.0-bit gate, the question naming the needle, 20 unrelated
# (Shakespeare) distractors; the measure is recall@5 over `n_needles` needles per seed (the
# seed: 5/5). The harder conditions are reported, not judged: the seed made no claim about them.
# The rule, as data (`memnb/hrs/rules.py`):

# %%
ch.rules(CHAPTER_31)

# %%
backbone, tok, bb_info = load_backbone(ch.profile)
random_lm, _ = untrained_backbone(ch.profile, seed=0)
layer = backbone.config.n_layer // 2
corpus = load_corpus()
held_out = list(corpus["validation"]["text"]) + list(corpus["test"]["text"])
pool_all = niah.passages(held_out, ch["passage_words"])
pool = [pool_all[i] for i in np.random.default_rng(0).permutation(len(pool_all))[: ch["pool_size"]]]
print(f"{len(pool_all)} held-out passages of {ch['passage_words']} words; pool of {len(pool)} (fixed, seed 0)")
print(f"keys: hidden state after block {layer} of {backbone.config.n_layer}")
needle_sizes = [n for n in ch["distractors"] if n < needles.MAX_NEEDLES]  # other-needle pools
n_total = max(ch["n_needles"], max(needle_sizes, default=0) + 1)
print(f"{n_total} needles per seed; other-needle distractor pools: {needle_sizes}")

# %% [markdown]
# ## Entropy: what the gate sees
#
# Mean predictive entropy (bits) of each text under the backbone. The dashed line is the
# calibrated threshold; the dotted line is the seed's 4.0 bits.

# %%
runs, gates, ents = experiment.run_seeds(
    {"backbone": backbone, "random_init": random_lm}, tok, pool, ch.seeds, layer=layer, n_total=n_total,
    n_needles=ch["n_needles"], distractors=ch["distractors"], gate_percentile=ch["gate_percentile"],
)  # fmt: skip

fig, axes = plotting.subplots(1)
ax = axes[0, 0]
sns.histplot(data=ents[ents.seed == ch.seeds[0]], x="bits", hue="text", stat="density", common_norm=False, ax=ax)
ax.axvline(gates.threshold_bits.iloc[0], ls="--", c="k", label="calibrated gate")
ax.axvline(4.0, ls=":", c="grey", label="seed's 4.0 bits")
ax.set(xlabel="mean predictive entropy (bits/token)", title=f"what the write gate sees (seed {ch.seeds[0]})")
plt.show()
print(gates.round(3).to_string(index=False))
for col in ["threshold_bits", "needles_stored", "pool_stored", "needles_stored_at_4bits", "pool_stored_at_4bits"]:
    ch.metric(f"gate_{col}", gates[col].tolist())

# %% [markdown]
# ## Recall against the number of distractors
#
# Recall@1 with the seed's gate (mean over seeds, 95% CI band). The grey line is chance,
# 1/(n+1). Left: unrelated Shakespeare distractors; right: other needles. Top: the question that
# names the needle; bottom: the paraphrase that does not.

# %%
fig, axes = plotting.subplots(2, 2, sharey=True)
for i, query in enumerate(niah.QUERIES):
    for j, pool_name in enumerate(niah.POOLS):
        ax = axes[i, j]
        sub = runs[(runs["gate"] == "seed_4bits") & (runs["query"] == query) & (runs["pool"] == pool_name)]
        plotting.mean_ci_lines(sub, x="distractors", y="recall1", hue="keys", ax=ax)
        ns_ = np.array(sorted(sub.distractors.unique()))
        ax.plot(ns_, 1 / (ns_ + 1), c="grey", lw=1, label="chance")
        ax.set(xscale="log", xlabel="distractors in the store", ylabel="recall@1", title=f"{query} · {pool_name}")
        ax.legend(fontsize=7)
plt.show()

table = runs.groupby(["gate", "keys", "pool", "query", "distractors"])[["recall1", "recall5", "mrr"]].mean().round(3)
table["chance@1"] = (1 / (table.index.get_level_values("distractors") + 1)).round(4)
table

# %%
for (gate_name, retriever, pool_name, query, n), sub in runs.groupby(["gate", "keys", "pool", "query", "distractors"]):
    for score in ("recall1", "recall5", "mrr"):
        name = f"{gate_name}_{retriever}_{pool_name}_{query}_{n}_{score}"
        ch.metric(name, sub.sort_values("seed")[score].tolist())

# %% [markdown]
# ## When does the read rule fire?
#
# The seed retrieves during generation when the mean entropy of the last 10 generated tokens
# exceeds the threshold (then a 10-step cooldown), sampling at temperature 0.9, top-k 50. Here:
# `gen_tokens` tokens generated after needle questions and after Shakespeare openings
# (`gen_prompts` of each per seed), with the calibrated threshold; the rate is firings per
# generated token.

# %%
trig = []
for seed in ch.seeds:
    ns = needles.make_needles(ch["gen_prompts"], seed + 1000)
    starts = np.random.default_rng(seed).choice(len(pool), ch["gen_prompts"], replace=False)
    prompts = [("needle question", n.question) for n in ns] + [
        ("Shakespeare opening", " ".join(pool[i].split()[:20])) for i in starts
    ]
    threshold = gates.set_index("seed").threshold_bits[seed]
    for j, (kind, text) in enumerate(prompts):
        h = entropy.generation_entropies(backbone, tok.encode(text), ch["gen_tokens"], seed=seed * 1000 + j)
        fired = entropy.trigger_steps(h, threshold=threshold)
        trig.append({"seed": seed, "prompt": kind, "fires_per_token": len(fired) / len(h), "mean_bits": np.mean(h)})
trig = pd.DataFrame(trig)
per_seed = trig.groupby(["prompt", "seed"]).mean().reset_index()
for kind, sub in per_seed.groupby("prompt"):
    ch.metric(f"trigger_rate_{kind.split()[0].lower()}", sub.fires_per_token.tolist())
    ch.metric(f"generation_bits_{kind.split()[0].lower()}", sub.mean_bits.tolist())
per_seed.groupby("prompt")[["fires_per_token", "mean_bits"]].mean().round(3)

# %% [markdown]
# ## Verdict
#
# The registered rule, applied to the recorded metrics.

# %%
ch.judge()

# %% [markdown]
# ## Answer
#
# The table below is computed from this run. Read it with the controls: if TF-IDF or the
# untrained model match the trained backbone, the "retrieval" is string matching on the invented
# name, not memory of meaning; the paraphrase rows and the other-needle pool are where that
# difference shows.


# %%
def row(gate_name, keys, pool_name, query, n):
    m = ch.metrics.get(f"{gate_name}_{keys}_{pool_name}_{query}_{n}_recall1")
    return stats.fmt(m) if m else "–"


answer = pd.DataFrame(
    [
        {
            "condition": f"{g} gate · {q} · {p} · {n} distractors",
            "chance@1": f"{1 / (n + 1):.3f}",
            **{f"recall@1 {k}": row(g, k, p, q, n) for k in ("backbone", "random_init", "tfidf")},
        }
        for g in ("seed_4bits", "calibrated")
        for q in niah.QUERIES
        for p in niah.POOLS
        for n in ch["distractors"]
        if f"{g}_backbone_{p}_{q}_{n}_recall1" in ch.metrics
    ]
)
judged = {c["id"]: c["verdict"] for c in ch.claims}
print(f"hrs.egr_niah: {judged['hrs.egr_niah']} (by the registered rule above)")
answer

# %%
ch.publish()
