"""Pilots of chapters 30 and 33: train the arms once, side by side on one-thread workers as the
chapters do, and print seconds per step and the held-out loss curve beside the count trigram's.

    python -m memnb.hrs.pilot --seed 900 --steps 800                       # chapter 33
    python -m memnb.hrs.pilot --chapter 30 --seed 900 --steps 1500 --batch-size 32 --arms none prepend_self

One JSON line per arm. The pilots use seeds the chapters do not (900+); every other size is the
`cpu` profile's unless given. Chapter 30's curve is the held-out loss with the engram present and,
for same-sequence engrams, restricted to past windows (the leak-free view).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

import torch

from memnb.data import tokenizers
from memnb.eval.ngram import ngram_nll, ngram_token_nll
from memnb.eval.nll import total_nll
from memnb.hrs.experiment import ARMS, Setup, eval_windows, train_config
from memnb.hrs.kernel_experiment import KernelSetup, train_arm
from memnb.hrs.model import EngramLM
from memnb.hrs.presets import EngramLeakage, ExpKernelAttention
from memnb.parallel import run_jobs
from memnb.seeding import seed_everything
from memnb.train import random_windows, train


def pilot_arm(arm: str, seed: int, setup: KernelSetup, evals: int) -> dict:
    """Train ``arm`` once; its wall seconds per step (evaluations included) and its curve."""
    t0 = time.perf_counter()
    _, hist = train_arm(arm, seed, setup, evals=evals)
    wall = time.perf_counter() - t0
    curve = [(h["step"], round(h["val_loss"], 4)) for h in hist if "val_loss" in h]
    return {"arm": arm, "seed": seed, "steps": setup.steps, "wall_s_per_step": round(wall / setup.steps, 4),
            "wall_s": round(wall, 1), "val_loss": curve}  # fmt: skip


def pilot_engram_arm(arm: str, seed: int, setup: Setup, evals: int) -> dict:
    """Chapter 30: train ``arm`` once (``memnb.hrs.experiment``'s model and schedule) with the held-out
    loss every ``steps // evals`` steps; its wall seconds per step (evaluations included)."""
    torch.set_num_threads(1)
    tok = tokenizers.get_tokenizer("char")
    train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
    x, y = eval_windows(val_ids, setup.seq_len, setup.n_eval)
    modes = (
        ["present", "past_windows"]
        if ARMS[arm] == ("prepend", "self") or ARMS[arm] == ("xattn", "self")
        else ["present"]
    )

    def evaluate(model) -> dict:
        return {m: round(total_nll(model, x, y, batch_size=16, engram=m) / y.numel(), 4) for m in modes}

    seed_everything(seed, threads=None)
    model = EngramLM(setup.model_config(arm, tok.vocab_size))
    cfg = replace(train_config(setup), eval_every=max(1, setup.steps // evals))
    t0 = time.perf_counter()
    hist = train(model, random_windows(train_ids, setup.seq_len, setup.batch_size, seed), cfg, evaluate=evaluate)
    wall = time.perf_counter() - t0
    curve = [{"step": h["step"], **{m: h[m] for m in modes}} for h in hist if modes[0] in h]
    return {"arm": arm, "seed": seed, "steps": setup.steps, "wall_s_per_step": round(wall / setup.steps, 4),
            "wall_s": round(wall, 1), "heldout": curve}  # fmt: skip


def main_30(argv: list[str]) -> None:
    p = EngramLeakage.resolve("cpu")
    ap = argparse.ArgumentParser(description="chapter 30's pilot")
    ap.add_argument("--arms", nargs="+", default=["none", "prepend_self"])
    ap.add_argument("--seed", type=int, default=900)
    ap.add_argument("--steps", type=int, default=p.steps)
    ap.add_argument("--batch-size", type=int, default=p.batch_size)
    ap.add_argument("--evals", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    setup = replace(Setup(**{k: v for k, v in p.as_dict().items() if k in Setup.__dataclass_fields__}),
                    steps=a.steps, batch_size=a.batch_size, schedule="constant", weight_decay=0.0)  # fmt: skip
    tok = tokenizers.get_tokenizer("char")
    val = tokenizers.encode_corpus("validation", tok)[: setup.n_eval * setup.seq_len + 1]
    tri = ngram_token_nll(tokenizers.encode_corpus("train", tok), val, n=3, vocab_size=tok.vocab_size)[1:].mean()
    print(json.dumps({"trigram_heldout_loss": round(float(tri), 4), "chars": setup.n_eval * setup.seq_len}), flush=True)
    for out in run_jobs(pilot_engram_arm, [(arm, a.seed, setup, a.evals) for arm in a.arms], workers=a.workers):
        print(json.dumps(out), flush=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["--chapter", "30"]:
        return main_30(argv[2:])
    if argv[:2] == ["--chapter", "33"]:
        argv = argv[2:]
    p = ExpKernelAttention.resolve("cpu")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arms", nargs="+", default=["dot", "exp"])
    ap.add_argument("--seed", type=int, default=900)
    ap.add_argument("--steps", type=int, default=p.steps)
    ap.add_argument("--seq-len", type=int, default=p.seq_len)
    ap.add_argument("--batch-size", type=int, default=p.batch_size)
    ap.add_argument("--d-model", type=int, default=p.d_model)
    ap.add_argument("--evals", type=int, default=4)
    ap.add_argument("--workers", type=int, default=p.workers)
    a = ap.parse_args(argv)
    setup = replace(KernelSetup(), steps=a.steps, seq_len=a.seq_len, batch_size=a.batch_size, d_model=a.d_model,
                    val_chars=p.val_chars)  # fmt: skip
    tok = tokenizers.get_tokenizer("char")
    val = tokenizers.encode_corpus("validation", tok)[: setup.val_chars]
    tri = ngram_nll(tokenizers.encode_corpus("train", tok), val, n=3, vocab_size=tok.vocab_size)
    print(json.dumps({"trigram_val_loss": round(tri, 4), "val_chars": setup.val_chars}), flush=True)
    for out in run_jobs(pilot_arm, [(arm, a.seed, setup, a.evals) for arm in a.arms], workers=a.workers):
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
