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
# of a late block; during generation, a spike of entropy triggers a cosine search of the store.
# The seed's needle test hid one fictional paragraph among 20 hand-written distractors and
# reported that the question found it: **5/5 needles in the top 5, mean rank 1.2**
# (claim `hrs.egr_niah`). The {doc}`HRS appendix <../appendix/hrs>` (§3) notes why that may be
# easy: each question repeats the needle's unique invented name, the distractors were on
# unrelated topics, and the gate stored ~90% of everything. This chapter reruns the test with a
# real pretrained language model, many generated needles and distractors *from the same domain*
# (paragraphs about other invented places), and asks what the seed did not: does it survive 200
# and 1,000 distractors, distractors written from the needle's own template, and a paraphrase
# that shares **no content word** with the needle? Beside the gated store stand the retrievers a
# reader would try first, with no model at all: BM25 on words and character n-gram TF-IDF.
#
# This version (issue 19) replaces the book's first one, which read keys from the tiny
# Shakespeare backbone of chapter 1 (trained keys did worse than random ones: degenerate mean
# states), used a "paraphrase" that repeated the needle's words (TF-IDF found it every time) and
# drew distractors from Shakespeare. It runs on seeds the chapter had not used (10–14).
#
# The code is in `memnb/hrs/retrieval/`: `entropy.py` (entropy in bits, the read trigger),
# `engram_store.py` (keys, centring, the write gate), `needles.py` (the needle template and its
# paraphrase), `haystack.py` (same-domain distractors), `niah.py` (retrievers, ranks, scores),
# `experiment.py` (the runs over seeds), `pilot.py` (the pilot below).
#
# **Builds on** {doc}`00_data` (the pretrained reader: SmolLM2-135M-Instruct, frozen). Before it:
# {doc}`30_engram_leakage`; after it, routing by the same kind of hidden state:
# {doc}`32_topic_routing`.

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
from IPython.display import Markdown, display

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.hrs.presets import EntropyGatedRetrieval
from memnb.hrs.retrieval import engram_store, entropy, experiment, haystack, needles, niah
from memnb.hrs.rules import CHAPTER_31, EGR_MISS_BOUND
from memnb.models.pretrained import load_reader

ch = Chapter.open("31_entropy_gated_retrieval", profile, seeds, overrides)

# %% [markdown]
# ## Setup
#
# - **Model.** The book's pretrained reader, SmolLM2-135M-Instruct (30 blocks, d = 576, a
#   49,152-token vocabulary; frozen, fp32 from a 4-bit checkpoint, see chapter 0). It is a real
#   language model, so its entropies mean what the seed's GPT-2 entropies meant, and the seed's
#   fixed 4.0-bit gate can be used as it was (a vocabulary of the same size).
# - **Keys.** The mean hidden state after **25 of the reader's 30 blocks**, the seed's relative
#   depth: HRS read its keys after block index 4 of its own 6-block model (`extract_layer = −2`,
#   i.e. after 5 of 6 blocks; the book's first version said "block 4 of GPT-2's 12", which is
#   not what HRS did). The layer was fixed by that ratio before any result, not tuned. The mean
#   leaves out the **first position**, whose state carries a massive activation (see the pilot).
#   Keys are **mean-centred**: the mean state of the distractor pool (which depends on no query) is
#   subtracted before normalising, because mean-pooled states of a pretrained model share one
#   large common direction and every raw cosine is close to 1. The seed's raw keys run beside
#   them (`reader_raw`, the same forward pass).
# - **Needles.** Generated from one template with invented names (`needles.py`): "The library of
#   Vosquelquel stands beside the river Mizan. It was founded in 1232 by Wynbar Pellovos, … its
#   grey gates and the bell that rings twelve times at dawn." The *question* names the needle
#   ("Who founded the library of Vosquelquel, and in which year?"); the *paraphrase* describes it
#   in other words ("Which archive, with slate-coloured entrances, sounds 12 peals every
#   sunrise?") and shares no content word with it (nor a 5-letter stem; `needles.shared_content_words`,
#   checked by a test for every needle the template can make).
# - **Distractors, one domain.** `places`: paragraphs about *other* invented places in the same
#   register and with the same vocabulary of kinds, colours, numbers and invented names
#   (`haystack.py`, six templates; one of them mentions a bell), `pool_size` of them, fixed and
#   encoded once; each seed draws its own distractors from them. `needles`: other needles from
#   the needle's own template, which differ only in names and details (the hardest pool).
# - **Write gate.** None (every text stored), the seed's 4.0 bits (`seed_4bits`), and one
#   *calibrated* at the `gate_percentile`-th percentile of the distractors' entropies, which
#   really selects: a needle the gate refuses is a miss, however good the keys.
# - **Retrievers.** `reader` (centred keys), `reader_raw`, `bm25` (Okapi BM25 on lower-cased
#   words over needles and distractors), `tfidf` (character 3–5-gram TF-IDF cosine).

# %% [markdown]
# ### Pilot, budget and power (written before the run)
#
# Pilot (`python -m memnb.hrs.retrieval.pilot --texts 64 --batch 16`, seed 100, one run on the
# 2-core machine): the reader reads a distractor (44 tokens) in 0.144 s, a needle (56 tokens) in
# 0.150 s, a question (15 tokens) in 0.033 s and a paraphrase (17 tokens) in 0.037 s, batches of
# 16, keys and entropies from one forward pass. Every text of the pilot had a mean entropy above
# 4.0 bits (needles 5.35, distractors 5.33 bits): the seed's gate stores everything here too.
#
# The pilot also found the keys' flaw (a diagnostic on the pilot's seed 100, 30 needles, 20
# distractors, every text stored): after 25 blocks the state at the first position has norm
# ≈ 22,600 against ≈ 460 at the others (the "massive activation" of pretrained LMs), so a plain
# mean over positions is that one vector divided by the text's length. With it, every needle —
# even when the query was the needle's own first sentence — ranked *last* among the 20
# distractors (recall@5 0.00): the key measured length. Leaving the first position out of the
# mean, the question found the needle in the top 5 every time (recall@5 1.00, recall@1 0.63),
# the paraphrase did not (recall@5 0.00). The key rule (first position out, the seed's depth,
# centred) was fixed then, before the registered run, whose seeds (10–14) the pilot did not
# use; the layer was not changed after the pilot (the same diagnostic at 15 of 30 blocks gave
# recall@1 0.87, which would have been a choice made on results).
#
# Budget at `cpu`: the pool, 1,000 × 0.144 s ≈ 145 s; per seed 201 needles (50 judged, the rest
# the `needles` pool up to 200 distractors) with two queries each, 201 × (0.150 + 0.070) s ≈ 44 s,
# × 5 seeds ≈ 220 s; the read-trigger sample (16 prompts × 30 tokens per seed at ~45 tokens/s
# batched) ≈ 60 s; ≈ 7 min in all, under the 15-minute cap.
#
# Power: `hrs.egr_niah` is judged on 5 seeds × 50 needles by a bootstrap over seeds × needles. Its
# MDE is 3.72 SE (n = 5 seeds); for a miss rate p the binomial SE over 250 needles is
# √(p(1−p)/250), 0.019 at p = 0.1 and 0.025 at p = 0.2, so the MDE is 0.07–0.09 — below the
# bound b = 0.2, so a miss rate near 0 or near 0.4 is decided either way.
#
# **The rule for `hrs.egr_niah`, fixed before the run.** The claim is judged in the seed's
# setting with the reader's keys: the seed's 4.0-bit gate, the question naming the needle, 20
# same-domain distractors. The harder conditions are reported, not judged (the seed made no
# claim about them). The rule, as data (`memnb/hrs/rules.py`):

# %%
ch.rules(CHAPTER_31)

# %%
reader = load_reader()
model, tok = reader.model, reader.tokenizer
layer = engram_store.key_layer(model)
pool = haystack.places(ch["pool_size"], EntropyGatedRetrieval.POOL_SEED)
needle_sizes = [n for n in ch["distractors"] if n < needles.MAX_NEEDLES]  # other-needle pools
n_total = max(ch["n_needles"], max(needle_sizes, default=0) + 1)
print(f"keys: hidden_states[{layer}], after {layer} of {model.config.num_hidden_layers} blocks, mean-centred")
print(f"{len(pool)} same-domain distractors (fixed, seed {EntropyGatedRetrieval.POOL_SEED}), e.g.:\n  {pool[0]}")
print(f"seeds {ch.seeds}: {n_total} needles per seed ({ch['n_needles']} judged); other-needle pools: {needle_sizes}")
example = needles.make_needles(1, ch.seeds[0])[0]
print(f"needle: {example.text}\nquestion: {example.question}\nparaphrase: {example.paraphrase}")
print("content words shared by paraphrase and needle:", needles.shared_content_words(example.paraphrase, example.text))

# %% [markdown]
# ## Entropy: what the gate sees
#
# Mean predictive entropy (bits) of each text under the reader. The dashed line is the
# calibrated threshold; the dotted line is the seed's 4.0 bits.

# %%
t0 = time.perf_counter()
runs, gates, ents = experiment.run_seeds(
    model, tok, pool, ch.seeds, layer=layer, n_total=n_total, n_needles=ch["n_needles"],
    distractors=ch["distractors"], gate_percentile=ch["gate_percentile"],
)  # fmt: skip
ch.timings["retrieval_s"] = round(time.perf_counter() - t0, 1)

fig, axes = plotting.subplots(1)
ax = axes[0, 0]
sns.histplot(data=ents[ents.seed == ch.seeds[0]], x="bits", hue="text", stat="density", common_norm=False, ax=ax)
ax.axvline(gates.threshold_bits.iloc[0], ls="--", c="k", label="calibrated gate")
ax.axvline(experiment.SEED_GATE_BITS, ls=":", c="grey", label="seed's 4.0 bits")
ax.set(xlabel="mean predictive entropy (bits/token)", title=f"what the write gate sees (seed {ch.seeds[0]})")
plt.show()
print(gates.round(3).to_string(index=False))
for col in ["threshold_bits", "needles_stored", "pool_stored", "needles_stored_at_4bits", "pool_stored_at_4bits"]:
    ch.metric(f"gate_{col}", gates[col].tolist())

# %% [markdown]
# ## Recall against the number of distractors
#
# Recall@1 with the seed's 4.0-bit gate (mean over seeds, 95% CI band), one line per retriever.
# The grey line is chance, 1/(n+1). Left: same-domain `places` distractors; right: other needles.
# Top: the question that names the needle; bottom: the paraphrase that shares no content word.

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

scores = ["recall1", "recall5", "mrr"]
table = runs.groupby(["gate", "keys", "pool", "query", "distractors"])[scores].mean().round(3)
table["chance@1"] = (1 / (table.index.get_level_values("distractors") + 1)).round(4)
table.loc["seed_4bits"]

# %%
for (gate_name, retriever, pool_name, query, n), sub in runs.groupby(["gate", "keys", "pool", "query", "distractors"]):
    sub = sub.sort_values("seed")
    name = f"{gate_name}_{retriever}_{pool_name}_{query}_{n}"
    for score in scores:
        ch.metric(f"{name}_{score}", sub[score].tolist())
    if n == 20 and pool_name == "places":  # the judged setting's per-needle misses (bootstrap examples)
        misses = [[float(not 1 <= r <= 5) for r in ranks] for ranks in sub["ranks"]]
        ch.metric(f"{name}_miss5", [float(np.mean(m)) for m in misses])["examples"] = misses

# %% [markdown]
# ## When does the read rule fire?
#
# The seed retrieves during generation when the mean entropy of the last 10 generated tokens
# exceeds the threshold (then a 10-step cooldown), sampling at temperature 0.9, top-k 50. Here
# the reader writes `gen_tokens` tokens after needle questions and after the openings of
# distractor paragraphs (`gen_prompts` of each per seed); the rate is firings per generated token
# with the seed's 4.0 bits and with the calibrated threshold.

# %%
trig = []
t0 = time.perf_counter()
for seed in ch.seeds:
    qs = [n.question for n in needles.make_needles(ch["gen_prompts"], seed + 1000)]
    starts = np.random.default_rng(seed).choice(len(pool), ch["gen_prompts"], replace=False)
    openings = [" ".join(pool[i].split()[:12]) for i in starts]
    prompts = [("needle question", q) for q in qs] + [("distractor opening", o) for o in openings]
    hs = entropy.reader_generation_entropies(model, tok, [p for _, p in prompts], ch["gen_tokens"], seed=seed)
    calibrated = gates.set_index("seed").threshold_bits[seed]
    for (kind, _), h in zip(prompts, hs, strict=True):
        row = {"seed": seed, "prompt": kind, "mean_bits": float(np.mean(h))}
        for g, t in (("4bits", experiment.SEED_GATE_BITS), ("calibrated", calibrated)):
            row[f"fires_per_token_{g}"] = len(entropy.trigger_steps(h, threshold=t)) / len(h)
        trig.append(row)
ch.timings["trigger_s"] = round(time.perf_counter() - t0, 1)
trig = pd.DataFrame(trig)
per_seed = trig.groupby(["prompt", "seed"]).mean().reset_index()
for kind, sub in per_seed.groupby("prompt"):
    short = kind.split()[0]
    ch.metric(f"generation_bits_{short}", sub.mean_bits.tolist())
    for g in ("4bits", "calibrated"):
        ch.metric(f"trigger_rate_{g}_{short}", sub[f"fires_per_token_{g}"].tolist())
per_seed.drop(columns="seed").groupby("prompt").mean().round(3)

# %% [markdown]
# ## Verdict
#
# The registered rule, applied to the recorded metrics.

# %%
ch.judge()

# %% [markdown]
# ## Answer
#
# Printed from this run's numbers: the judged claim first, then what the seed did not test —
# the paraphrase, the larger stores, the other-needle pool — each beside the lexical baselines
# and the seed's uncentred keys.

# %%
M = ch.metrics
claim = {c["id"]: c for c in ch.claims}["hrs.egr_niah"]
eff = claim["effect"]


def r(gate_name, keys, pool_name, query, n, score="recall1"):
    m = M.get(f"{gate_name}_{keys}_{pool_name}_{query}_{n}_{score}")
    return stats.fmt(m, 2) if m else "–"


ci = "no CI" if eff["ci95"] is None else f"95% CI [{eff['ci95'][0]:.3f}, {eff['ci95'][1]:.3f}]"
mde = "–" if eff["mde"] is None else f"{eff['mde']:.3f}"
lines = [
    f"**`hrs.egr_niah`: {claim['verdict']}.** With the seed's 4.0-bit gate, the question naming the needle and "
    f"20 same-domain distractors, the reader's centred keys miss {eff['estimate']:.3f} of the needles from the "
    f"top 5 ({ci}, {eff['n']} seeds × {ch['n_needles']} needles, MDE {mde}) against the bound "
    f"b = {EGR_MISS_BOUND}; the control ({'passed' if claim['control']['passed'] else 'FAILED'}): "
    f"{claim['control']['measured']}. "
    f"The gate stored {stats.fmt(M['gate_needles_stored_at_4bits'], 2)} of the needles and "
    f"{stats.fmt(M['gate_pool_stored_at_4bits'], 2)} of the distractors"
    + (": at 4.0 bits it does not select." if M["gate_pool_stored_at_4bits"]["mean"] > 0.9 else "."),
    "Recall@1 in that setting: "
    + ", ".join(f"{k} {r('seed_4bits', k, 'places', 'question', 20)}" for k in niah.RETRIEVERS)
    + ".",
]
display(Markdown("\n\n".join(lines)))

answer = pd.DataFrame(
    [
        {
            "query · pool · distractors": f"{q} · {p} · {n}",
            "chance@1": f"{1 / (n + 1):.3f}",
            **{f"recall@1 {k}": r("seed_4bits", k, p, q, n) for k in niah.RETRIEVERS},
        }
        for q in niah.QUERIES
        for p in niah.POOLS
        for n in ch["distractors"]
        if f"seed_4bits_reader_{p}_{q}_{n}_recall1" in M
    ]
)
answer

# %% [markdown]
# Reading the table (each row's numbers are above; the sentences below are computed from them):
# where BM25 and TF-IDF match the reader, the "retrieval" is string matching on the invented name;
# the paraphrase rows, which no lexical retriever can match, show whether the keys carry meaning.


# %%
def mean(name):
    return M[name]["mean"]


notes = []
for p in niah.POOLS:
    for n in ch["distractors"]:
        key = f"seed_4bits_{{}}_{p}_paraphrase_{n}_recall1"
        if key.format("reader") not in M:
            continue
        rd, raw, bm = (mean(key.format(k)) for k in ("reader", "reader_raw", "bm25"))
        notes.append(
            f"- paraphrase among {n} {p}: reader {rd:.2f} vs chance {1 / (n + 1):.3f} "
            f"({rd * (n + 1):.1f}× chance); BM25 {bm:.2f}; the seed's raw keys {raw:.2f}"
            f" ({'centring helps' if rd > raw else 'centring does not help'} here)."
        )
display(Markdown("\n".join(notes)))

# %%
ch.publish()
