"""Chapter 33's experiment: one attention arm × one seed, trained and measured.

Arms (``memnb.layers.exp_kernel_attention.kernel_arm``): ``dot`` (q·k/√d), ``exp`` (HRS's
−‖q − k‖²/τ, τ = head dim), ``dot_soft`` (2 q·k/τ, the kernel's temperature without its key
bias), ``exp_distance`` (the kernel from explicit distances; equals ``exp``).

Procedure for one (arm, seed), a pure function of its arguments on one torch thread (so
``memnb.parallel.run_jobs`` gives the same numbers at any worker count):

1. ``seed_everything(seed)``; a ``Decoder`` with the arm in every block and a causal token shift
   (``short_conv``) in front of every mixer, no position embedding; trained with ``fit_lm`` on
   random windows drawn from ``seed`` (every arm of a seed sees the same batches), AdamW at a
   constant lr after a short warmup, no weight decay (the settings in which chapter 20's small
   models learn), validation loss (nats/char) on the first ``val_chars`` validation characters
   ``evals`` times.
2. Engrams (unit-norm mean final hidden state) of the held-out plays' chunks and lines
   (``held_out_texts``: validation and test plays, poems left out, as in chapter 32); AUROC of
   same-play vs other-play cosine on balanced pairs drawn from ``seed`` (``topic_separation``),
   and HRS's best-threshold accuracy with its majority-class floor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from memnb.data import tokenizers
from memnb.data.corpus import load_corpus
from memnb.hrs import topic_separation as ts
from memnb.layers.exp_kernel_attention import kernel_arm
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.seeding import seed_everything
from memnb.train import TrainConfig
from memnb.train.lm import fit_lm


@dataclass(frozen=True)
class KernelSetup:
    """Sizes shared by every arm (chapter 33's parameters)."""

    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    short_conv: int = 2
    seq_len: int = 256
    batch_size: int = 8
    steps: int = 300
    lr: float = 3e-3
    warmup: int = 20
    val_chars: int = 32768
    chunk_chars: int = 256
    chunks_per_play: int = 50
    lines_per_play: int = 100
    n_pairs: int = 2000
    min_gap: int = 2


def held_out_texts(setup: KernelSetup) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(chunks, lines) per held-out play: validation and test splits, ``kind == "play"`` only."""
    corpus = load_corpus()
    held = {r["title"]: r["text"] for split in ("validation", "test") for r in corpus[split] if r["kind"] == "play"}
    chunks = {t: ts.chunks(x, setup.chunk_chars, setup.chunks_per_play) for t, x in held.items()}
    lines = {
        t: [ln.strip() for ln in x.splitlines() if 20 <= len(ln.strip()) <= 120][: setup.lines_per_play]
        for t, x in held.items()
    }
    return chunks, lines


def train_arm(arm: str, seed: int, setup: KernelSetup, steps: int | None = None, evals: int = 4):
    """(model, learning curve) of ``arm`` trained from ``seed`` (module docstring, step 1)."""
    steps = setup.steps if steps is None else steps
    tok = tokenizers.get_tokenizer("char")
    train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
    cfg = DecoderConfig(
        vocab_size=tok.vocab_size,
        d_model=setup.d_model,
        n_layers=setup.n_layers,
        n_heads=setup.n_heads,
        short_conv=setup.short_conv,
    )
    seed_everything(seed, threads=1)
    model = Decoder(cfg, lambda c, i: kernel_arm(arm, c.d_model, c.n_heads))
    tcfg = TrainConfig(
        steps=steps,
        lr=setup.lr,
        schedule="constant",
        warmup=min(setup.warmup, steps - 1),
        weight_decay=0.0,
        eval_every=max(1, steps // evals),
    )
    hist = fit_lm(
        model,
        train_ids,
        val_ids,
        tcfg,
        seq_len=setup.seq_len,
        batch_size=setup.batch_size,
        seed=seed,
        val_tokens=setup.val_chars,
        desc=f"{arm} seed {seed}",
    )
    return model, hist


@torch.no_grad()
def same_weights_gap(
    model: Decoder, ids: torch.Tensor, arms: Sequence[str] = ("exp_distance", "dot")
) -> dict[str, float]:
    """Max |Δ logit| on ``ids`` between ``model`` (an ``exp`` arm) and its own weights loaded into
    each arm of ``arms``: ``exp_distance`` computes the same kernel from explicit distances (so
    only float rounding may differ), ``dot`` a different score (the contrast that shows the check
    can fail). Comparing trained runs instead is not a test of the algebra: AdamW turns rounding
    noise in near-zero gradients into full-size updates, so two runs part after a few steps."""
    ref, _ = model.eval()(ids)
    out = {}
    for arm in arms:
        other = Decoder(model.cfg, lambda c, i, arm=arm: kernel_arm(arm, c.d_model, c.n_heads))
        other.load_state_dict(model.state_dict())
        logits, _ = other.eval()(ids)
        out[arm] = float((logits - ref).abs().max())
    return out


def run_arm(arm: str, seed: int, setup: KernelSetup) -> dict:
    """Train ``arm`` from ``seed`` and measure it (module docstring). Returns one row: ``val_loss``
    (last evaluation), ``best_val_loss``, ``auroc_play``, ``auroc_line``, ``seed_metric_play``,
    ``majority_rate``, the curve and ``train_s`` (wall clock)."""
    t0 = time.perf_counter()
    model, hist = train_arm(arm, seed, setup)
    train_s = time.perf_counter() - t0
    tok = tokenizers.get_tokenizer("char")
    play_chunks, play_lines = held_out_texts(setup)
    chunk_keys = [ts.engrams(model, [tok.encode(c) for c in cs], "cpu") for cs in play_chunks.values()]
    line_keys = [ts.engrams(model, [tok.encode(s) for s in ls], "cpu") for ls in play_lines.values()]
    grid_acc, majority = ts.seed_grid_accuracy(*ts.seed_pairs(chunk_keys))
    val = [h["val_loss"] for h in hist if "val_loss" in h]
    pairs = {"n_pairs": setup.n_pairs, "min_gap": setup.min_gap, "seed": seed}
    return {
        "arm": arm,
        "seed": seed,
        "val_loss": val[-1],
        "best_val_loss": min(val),
        "auroc_play": ts.pair_auroc(chunk_keys, **pairs),
        "auroc_line": ts.pair_auroc(line_keys, **pairs),
        "seed_metric_play": grid_acc,
        "majority_rate": majority,
        "curve": [{"step": h["step"], "val_loss": h["val_loss"]} for h in hist if "val_loss" in h],
        "train_s": train_s,
    }
