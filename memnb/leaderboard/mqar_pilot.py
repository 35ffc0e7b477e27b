"""The MQAR pilot of chapter 50 (not a chapter; nothing is published): is the positive control
there, what does each arm cost per step, and how far apart are the arms' seeds (the MDE)?

    python -m memnb.leaderboard.mqar_pilot --seed 100 --steps 400 --workers 2     # the chapter's 7 arms
    python -m memnb.leaderboard.mqar_pilot --arm attention --arm mamba2 --lr 3e-3 --json out.json

Each arm (``memnb.leaderboard.sweep.ARMS``) trains one ``MQARRun`` (the chapter's ``cpu``
defaults unless overridden: d = 64, 2 layers, L = 64, kv = 4, V = 320, batch 32, constant
lr 1e-2, no weight decay) on one seed, one torch thread per worker; the pilot prints each arm's
held-out accuracy curve, state, FLOPs and CPU seconds per step. Use seeds the chapter does not
use (its are 0-4). ``--json PATH`` also writes the result rows.
"""

from __future__ import annotations

import argparse
import json

from memnb.leaderboard.mqar import MQARRun
from memnb.leaderboard.presets import CPU_ARMS
from memnb.leaderboard.sweep import ARMS, arm_run, run_all


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arm", action="append", choices=list(ARMS), help="an arm (repeatable; default: the cpu arms)")
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--steps", type=int, default=MQARRun.steps)
    ap.add_argument("--d-model", type=int, default=MQARRun.d_model)
    ap.add_argument("--seq-len", type=int, default=MQARRun.seq_len)
    ap.add_argument("--pairs", type=int, default=MQARRun.n_pairs)
    ap.add_argument("--vocab", type=int, default=MQARRun.vocab_size)
    ap.add_argument("--batch", type=int, default=MQARRun.batch_size)
    ap.add_argument("--lr", type=float, default=MQARRun.lr)
    ap.add_argument("--eval-n", type=int, default=MQARRun.eval_n)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the result rows here")
    args = ap.parse_args(argv)
    try:
        base = MQARRun(
            seed=args.seed,
            steps=args.steps,
            d_model=args.d_model,
            seq_len=args.seq_len,
            n_pairs=args.pairs,
            vocab_size=args.vocab,
            batch_size=args.batch,
            lr=args.lr,
            eval_n=args.eval_n,
        )
    except ValueError as err:
        raise SystemExit(f"mqar_pilot: {err}") from None
    arms = args.arm or CPU_ARMS
    rows = run_all([arm_run(a, base) for a in arms], workers=args.workers, labels=arms)
    for arm, res in zip(arms, rows, strict=True):
        curve = " ".join(f"{r['step']}:{r['accuracy']:.2f}" for r in res["curve"])
        print(
            f"{arm:>20} acc={res['accuracy']:.3f} x2={res['longer']['2']:.3f} x4={res['longer']['4']:.3f} "
            f"state={res['state_floats']} params={res['params']} train_flops/token={res['train_flops_per_token']:.3g} "
            f"cpu/step={res['cpu_s'] / args.steps:.3f}s | curve {curve}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
