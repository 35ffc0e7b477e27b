"""The pilot of chapter 21: seconds per step and accuracy per length of each arm, on seeds the
chapter does not use, to size the budget and the design's MDE before the run.

    python -m memnb.memarch.pilot --seed 100 --steps 1000 --workers 2

prints one row per (task, arm): CPU seconds per training step, and held-out accuracy and loss at
every test length (the chapter's ``cpu`` settings unless overridden).
"""

from __future__ import annotations

import argparse

from memnb.memarch.experiment import run_grid
from memnb.memarch.model import ArmConfig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, nargs="+", default=[100])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--arms", nargs="+", default=["baseline", "nope", "window", "kv_memory"])
    p.add_argument("--tasks", nargs="+", default=["mem_copy", "mem_brackets"])
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--train-lengths", type=int, nargs=2, default=[16, 32])
    p.add_argument("--test-lengths", type=int, nargs="+", default=[16, 32, 64, 128])
    p.add_argument("--n-eval", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--copy-symbols", type=int, default=None, help="n_symbols of mem_copy (default: TASK_SETTINGS)")
    a = p.parse_args(argv)
    cfg = ArmConfig(d_model=a.d_model, capacity=2 * max(a.test_lengths) + 4, window=a.window)
    scores, runs = run_grid(
        a.arms, a.tasks, a.seed, cfg, workers=a.workers, steps=a.steps, batch_size=a.batch_size, lr=a.lr,
        train_lengths=tuple(a.train_lengths), test_lengths=tuple(a.test_lengths), n_eval=a.n_eval,
        task_settings={"mem_copy": {"n_symbols": a.copy_symbols}} if a.copy_symbols else None,
    )  # fmt: skip
    runs["cpu_s_per_step"] = runs["cpu_s"] / runs["steps"]
    table = scores.pivot_table(index=["task", "arm", "seed"], columns="length", values=["accuracy", "loss"])
    print(runs[["task", "arm", "seed", "cpu_s_per_step", "final_train_loss", "future_leak"]].round(4).to_string())
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
