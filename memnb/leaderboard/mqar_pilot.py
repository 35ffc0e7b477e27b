"""The MQAR pilot of issue 16 (not a chapter; nothing is published): is the positive control
there, and what does a recurrent contender cost?

    python -m memnb.leaderboard.mqar_pilot                       # the default table below
    python -m memnb.leaderboard.mqar_pilot --run attention:0:2000 --run attention:2:200

Each ``--run memory:short_conv:steps`` trains one ``MQARRun`` (d = 64, 2 layers, 4 heads,
V = 128, batch 64, AdamW 3e-3, L = 64, kv = 4 unless overridden, one seed, one torch thread) and
prints its held-out accuracy curve and wall / CPU seconds. ``--json PATH`` also writes the rows.

Measured 2026-12-02 (seed 0, one thread, a shared 2-core CPU; held-out accuracy over 512 examples):

    memory            conv  schedule            steps  accuracy  CPU s
    attention         0     cosine (warmup 20)  2000   0.255     166
    attention         0     constant            2000   0.247     160
    attention         2     cosine (warmup 20)   200   0.113      17
    attention         2     constant             200   0.873      21
    gated_delta_rule  2     cosine (warmup 20)   300   0.034      44
    gated_delta_rule  2     constant             300   0.045      47
    gated_delta_rule  2     constant            1000   0.225     146   (still climbing)
    mamba2            2     constant             300   0.039      68
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import torch

from memnb.leaderboard.mqar import MQARRun, train_mqar

DEFAULT_RUNS = ("attention:0:2000", "attention:2:200", "gated_delta_rule:2:300")


def parse_run(spec: str, base: MQARRun) -> MQARRun:
    try:
        memory, conv, steps = spec.split(":")
        return replace(base, memory=memory, short_conv=int(conv), steps=int(steps))
    except ValueError as err:
        raise SystemExit(f"--run takes memory:short_conv:steps (e.g. attention:2:200), got {spec!r}: {err}") from None


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", help="memory:short_conv:steps (repeatable)")
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--schedule", choices=("cosine", "constant"), default="cosine")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the result rows here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = MQARRun(
        seq_len=args.seq_len,
        n_pairs=args.pairs,
        vocab_size=args.vocab,
        seed=args.seed,
        eval_every=args.eval_every,
        schedule=args.schedule,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
    )
    rows = []
    for spec in args.run or DEFAULT_RUNS:
        run = parse_run(spec, base)
        res = train_mqar(run)
        rows.append(res)
        curve = " ".join(f"{r['step']}:{r['accuracy']:.2f}" for r in res["curve"])
        print(
            f"{run.memory:>18} conv={run.short_conv} L={run.seq_len} kv={run.n_pairs} {run.schedule} "
            f"wd={run.weight_decay} steps={run.steps:>5} "
            f"acc={res['accuracy']:.3f} nll={res['nll']:.3f} wall={res['wall_s']:.1f}s cpu={res['cpu_s']:.1f}s "
            f"params={res['params']} state={res['state_floats']}",
            flush=True,
        )
        print(f"{'':>18} curve (step:acc) {curve}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
