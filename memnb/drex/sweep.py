"""Grids of probe runs as tidy tables (one row per arm × L × seed), for chapters 10–11.

``write_rate_table``: for each (schedule, L): α, τ/L, the filler count n*, the closed-form write
rate (``memnb.drex.theory.seed_write_rate``) and the rate measured on the untrained probe.
``run_grid``: each arm (a label dict plus a ``ProbeConfig`` and L) on every seed, through
``linear_probe`` (the frozen memory) or ``train_probe`` (the seed's training protocol); arms
with the same (config, L) — e.g. fixed and adaptive α at L = 96, where both are 0.95 — are run
once and their rows share the result. ``workers`` > 1 runs them in that many spawned processes of
one torch thread each: every run seeds itself and draws its data from streams keyed by (seed, L),
so the numbers do not depend on the worker count or the order runs finish in (a test checks it).
``lm_grid``: the same for the Drex language model (``memnb.drex.model.fit_drex`` on the
character-level corpus): validation loss at the end and halfway through training, per (arm, seed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace

import pandas as pd
from tqdm import tqdm

from memnb.drex import theory
from memnb.drex.experiment import ProbeResult, evaluate, linear_probe, train_probe
from memnb.drex.model import DrexConfig
from memnb.drex.probe import ProbeConfig, RecallProbe
from memnb.parallel import run_jobs
from memnb.seeding import seed_everything
from memnb.train import progress_enabled

Arm = tuple[dict, ProbeConfig, int]  # (labels, config, L)


def write_rate_table(
    cfg: ProbeConfig, lengths: Sequence[int], schedules: Sequence[str], *, seed: int, n_eval: int = 64
) -> pd.DataFrame:
    """Closed-form vs measured (untrained probe, seed layout) write rates; ``cfg.alpha`` is
    replaced by each schedule's α(L)."""
    gate = "single" if cfg.memory == "single" else cfg.gate
    rows = []
    for schedule in schedules:
        for L in lengths:
            a = theory.alpha(schedule, L)
            c = replace(cfg, alpha=a)
            seed_everything(seed, threads=1)
            measured = evaluate(RecallProbe(c), L, n_eval=n_eval, seed=seed).wr
            rows.append(
                {
                    "schedule": schedule,
                    "L": L,
                    "alpha": a,
                    "tau/L": theory.tau_over_L(a, L),
                    "n* (filler writes)": theory.filler_writes(1 - a, cfg.thresh),
                    "wr formula": theory.seed_write_rate(L, a, cfg.thresh, gate=gate),
                    "wr measured": measured,
                }
            )
    return pd.DataFrame(rows)


MODES = ("probe", "train")


def _run(mode: str, cfg: ProbeConfig, length: int, seed: int, kw: dict) -> ProbeResult:
    fn: Callable[..., ProbeResult] = linear_probe if mode == "probe" else train_probe
    return fn(cfg, length=length, seed=seed, **kw)


def _pool_map(fn: Callable, jobs: list[tuple], workers: int, desc: str) -> list:
    """``[fn(*job) for job in jobs]``, in ``workers`` spawned one-thread processes or in this one
    (``memnb.parallel.run_jobs``), with a progress bar."""
    bar = tqdm(total=len(jobs), disable=not progress_enabled(), desc=desc)
    try:
        return run_jobs(fn, jobs, workers=workers, on_done=lambda i, result, n: bar.update())
    finally:
        bar.close()


def run_grid(arms: Iterable[Arm], seeds: Sequence[int], *, mode: str = "probe", workers: int = 1, **kw) -> pd.DataFrame:
    """Run every arm on every seed; ``mode`` "probe" (``linear_probe``) or "train"
    (``train_probe``); ``kw`` goes to that function; ``workers`` processes (module docstring).
    One row per (arm, seed)."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'probe' or 'train', got {mode!r}")
    arms = list(arms)
    jobs = list(dict.fromkeys((cfg, L, seed) for _, cfg, L in arms for seed in seeds))  # unique, in order
    order = sorted(jobs, key=lambda j: -j[1]) if workers > 1 else jobs  # longest first: short ones finish last
    done = dict(zip(order, _pool_map(_run, [(mode, *job, kw) for job in order], workers, mode), strict=True))
    return pd.DataFrame(
        [{**labels, "L": L, "seed": seed, **asdict(done[cfg, L, seed])} for labels, cfg, L in arms for seed in seeds]
    )


def _fit_lm(cfg: DrexConfig, seed: int, kw: dict) -> dict:
    from memnb.data import tokenizers
    from memnb.drex.model import fit_drex

    tok = tokenizers.get_tokenizer("char")
    train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
    steps = kw["steps"]
    _, hist, train_s = fit_drex(cfg, train_ids, val_ids, seed=seed, eval_every=max(1, steps // 2), **kw)
    val = {row["step"]: row["val_loss"] for row in hist if "val_loss" in row}
    return {"val_loss": val[steps], "val_loss_half": val[max(1, steps // 2)], "train_s": train_s}


def lm_grid(arms: Iterable[tuple[dict, DrexConfig]], seeds: Sequence[int], *, workers: int = 1, **kw) -> pd.DataFrame:
    """Train every (labels, ``DrexConfig``) arm on every seed with ``fit_drex`` (``kw``: steps,
    batch_size, n_segments, lr, val_tokens), evaluated halfway and at the end; one row per (arm,
    seed) with ``val_loss``, ``val_loss_half`` (nats/char) and ``train_s`` (wall clock)."""
    arms = list(arms)
    jobs = list(dict.fromkeys((cfg, seed) for _, cfg in arms for seed in seeds))
    done = dict(zip(jobs, _pool_map(_fit_lm, [(cfg, seed, kw) for cfg, seed in jobs], workers, "lm"), strict=True))
    return pd.DataFrame([{**labels, "seed": seed, **done[cfg, seed]} for labels, cfg in arms for seed in seeds])
