"""Chapter 20's pilot: train one arm of the ladder on copy + reverse and print seconds per step and
teacher-forced exact match (equal to greedy exact match for a causal arm) per test condition.

    python -m memnb.relsm.pilot --variant baseline --seed 100 --steps 600 --lr 3e-3 --short-conv 2

One JSON line per run. The pilot uses seeds the chapter does not (100+), a single torch thread,
and the chapter's batches (``SplitCurriculum`` over copy and reverse, no language phase).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from memnb.data import tokenizers
from memnb.relsm.curriculum import SplitCurriculum, train_arm
from memnb.relsm.evaluate import build_suite, teacher_forced
from memnb.relsm.variants import VARIANTS, LadderConfig, build
from memnb.relsm.vocab import joint_vocab
from memnb.seeding import seed_everything

TASKS = ("copy", "reverse")


def pilot(
    variant: str, *, seed: int, steps: int, lr: float, schedule: str, weight_decay: float, short_conv: int,
    d_model: int = 64, n_layers: int = 3, n_heads: int = 4, batch_size: int = 32, eval_n: int = 100,
) -> dict:  # fmt: skip
    """Train ``variant`` once and return its timing, final training loss and exact match per condition."""
    vocab = joint_vocab(tokenizers.get_tokenizer("char"))
    cfg = LadderConfig(vocab.size, d_model=d_model, n_layers=n_layers, n_heads=n_heads, short_conv=short_conv)
    cur = SplitCurriculum(vocab, TASKS, torch.zeros(1, dtype=torch.long), seed=seed, batch_size=batch_size,
                          alg_steps=steps, lang_steps=0)  # fmt: skip
    seed_everything(seed, threads=1)
    model = build(variant, cfg)
    cpu0 = time.process_time()
    hist, wall = train_arm(model, cur, lr=lr, schedule=schedule, weight_decay=weight_decay, desc=f"pilot {variant}")
    cpu = time.process_time() - cpu0
    model.eval()
    em = {}
    for c in build_suite(vocab, list(TASKS), n=eval_n).conditions:
        em[c.label] = round(teacher_forced(model, c.inputs, c.targets)[0].float().mean().item(), 3)
    tail = [h["train_loss"] for h in hist[-20:]]
    return {
        "variant": variant, "seed": seed, "steps": steps, "lr": lr, "schedule": schedule,
        "weight_decay": weight_decay, "short_conv": short_conv, "wall_s_per_step": round(wall / steps, 4),
        "cpu_s_per_step": round(cpu / steps, 4), "loss_last20": round(sum(tail) / len(tail), 3),
        "exact_match": em,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=VARIANTS, default="baseline")
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--short-conv", type=int, default=2)
    ap.add_argument("--eval-n", type=int, default=100)
    a = ap.parse_args(argv)
    out = pilot(a.variant, seed=a.seed, steps=a.steps, lr=a.lr, schedule=a.schedule, weight_decay=a.weight_decay,
                short_conv=a.short_conv, eval_n=a.eval_n)  # fmt: skip
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
