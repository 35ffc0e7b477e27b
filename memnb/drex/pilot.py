"""Pilot of chapter 10's trained arms: seconds per training step of each, on a seed the chapter
does not use, to size the ``cpu`` profile's budget (arms × seeds × steps × s/step).

    python -m memnb.drex.pilot --seed 100 --steps 100

Each arm is exp_47_1's model trained with the seed's protocol (``memnb.drex.experiment.train_probe``,
one torch thread) for ``--steps`` steps and scored on ``--n-eval`` sequences; the line printed per
arm gives its wall and CPU seconds per step (training and evaluation together, divided by the
steps) and its accuracy, which at a pilot's few steps means nothing.
"""

from __future__ import annotations

import argparse
import time

from memnb.drex import theory
from memnb.drex.experiment import train_probe
from memnb.drex.probe import ProbeConfig

THETA = 0.40  # exp_47_1's gate threshold


def arms(lengths: list[int], seed_lengths: list[int]) -> list[tuple[str, ProbeConfig, int]]:
    """(label, config, L) of every trained arm chapter 10 runs: the seed layout (fixed, adaptive,
    memory removed) and the corrected layout (fixed, adaptive, constant η, memory removed)."""
    seed = {"arch": "exp47", "layout": "seed", "memory": "single", "thresh": THETA}
    kv = {**seed, "layout": "kv"}
    out = []
    for layout, base, Ls, schedules in (
        ("seed", seed, seed_lengths, ("fixed", "adaptive")),
        ("kv", kv, lengths, ("fixed", "adaptive", "const_eta")),
    ):
        for L in Ls:
            out += [(f"{layout} {s} L={L}", ProbeConfig(**base, alpha=theory.alpha(s, L)), L) for s in schedules]
            out.append((f"{layout} memory removed L={L}", ProbeConfig(**{**base, "memory": "none"}), L))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--n-eval", type=int, default=1920)
    ap.add_argument("--lengths", type=int, nargs="+", default=[16, 32, 64, 96])
    ap.add_argument("--seed-lengths", type=int, nargs="+", default=[32, 96])
    a = ap.parse_args(argv)
    seen = set()
    for label, cfg, L in arms(a.lengths, a.seed_lengths):
        if (cfg, L) in seen:  # e.g. fixed = adaptive at L = 96: one run
            continue
        seen.add((cfg, L))
        t0, c0 = time.perf_counter(), time.process_time()
        res = train_probe(cfg, length=L, steps=a.steps, seed=a.seed, n_eval=a.n_eval)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label:<28} {wall / a.steps:.4f} s/step wall  {cpu / a.steps:.4f} CPU s/step  acc {res.acc:.3f}")


if __name__ == "__main__":
    main()
