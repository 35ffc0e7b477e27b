"""Chapter 33's pilot: train the arms once, side by side on one-thread workers as the chapter
does, and print seconds per step and the validation loss curve beside the count-trigram loss.

    python -m memnb.hrs.pilot --seed 900 --steps 900 --seq-len 256 --batch-size 8

One JSON line per arm. The pilot uses seeds the chapter does not (900+); every other size is the
`cpu` profile's unless given.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

from memnb.data import tokenizers
from memnb.eval.ngram import ngram_nll
from memnb.hrs.kernel_experiment import KernelSetup, train_arm
from memnb.hrs.presets import ExpKernelAttention
from memnb.parallel import run_jobs


def pilot_arm(arm: str, seed: int, setup: KernelSetup, evals: int) -> dict:
    """Train ``arm`` once; its wall seconds per step (evaluations included) and its curve."""
    t0 = time.perf_counter()
    _, hist = train_arm(arm, seed, setup, evals=evals)
    wall = time.perf_counter() - t0
    curve = [(h["step"], round(h["val_loss"], 4)) for h in hist if "val_loss" in h]
    return {"arm": arm, "seed": seed, "steps": setup.steps, "wall_s_per_step": round(wall / setup.steps, 4),
            "wall_s": round(wall, 1), "val_loss": curve}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
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
