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


def _fit_mixture(cfg: DrexConfig, seed: int, kw: dict) -> dict:
    from memnb.data import tokenizers
    from memnb.drex.mixture import passkey_mixture, weighted_lm_objective
    from memnb.drex.model import fit_drex
    from memnb.eval.long_context import evaluate_long_context

    tok = tokenizers.get_tokenizer("char")
    train_ids, val_ids = tokenizers.encode_corpus("train", tok), tokenizers.encode_corpus("validation", tok)
    steps, S, B = kw["steps"], cfg.segment_len, kw["batch_size"]
    batches = passkey_mixture(
        train_ids, tok, segment_len=S, segments=kw["segments"], batch_size=B, passkey_frac=kw["passkey_frac"],
        seed=seed, answer_weight=kw["answer_weight"],
    )  # fmt: skip
    model, hist, train_s = fit_drex(
        cfg, train_ids, val_ids, steps=steps, batch_size=B, n_segments=kw["segments"][1], seed=seed,
        eval_every=max(1, steps // 2), val_tokens=kw["val_tokens"], batches=batches, val_window=kw["val_window"],
        loss_fn=weighted_lm_objective(),
    )  # fmt: skip
    val = {row["step"]: row["val_loss"] for row in hist if "val_loss" in row}
    out = {
        "val_loss": val[steps],
        "val_loss_half": val[max(1, steps // 2)],
        "train_s": train_s,
        "train_tokens_per_s": steps * B * S / train_s,
    }
    for name, (length, depth) in kw.get("passkey", {}).items():
        df = evaluate_long_context(
            model, "passkey", [length], kw["n_eval"], kw["eval_seed_offset"] + seed, segment_len=S, depth=depth
        )
        out[f"key_gain_{name}"] = float(df["key_gain"].iloc[0])
        out[f"exact_{name}"] = float(df["accuracy"].iloc[0])
        out[f"digit_acc_{name}"] = float(df["token_accuracy"].iloc[0])
    return out


def mixture_grid(arms: Iterable[tuple[dict, DrexConfig, dict, Sequence[int]]], *, workers: int = 1) -> pd.DataFrame:
    """Chapter 12: train each (labels, ``DrexConfig``, kw, seeds) arm on each of its seeds on the
    passkey mixture (``memnb.drex.mixture.passkey_mixture``, weighted objective; ``kw``: steps,
    batch_size, segments, passkey_frac, answer_weight, val_tokens, val_window; ``passkey_frac = 0``
    is plain text) and score it: validation loss halfway and at the end (nats/char) and, for each
    ``kw["passkey"]`` entry ``name: (length, depth range)``, passkey exact match, digit accuracy
    and key gain on ``n_eval`` test-play examples drawn from ``eval_seed_offset + seed`` (the same
    examples for every arm of a seed). One row per (arm, seed); ``train_s`` and
    ``train_tokens_per_s`` are wall clock. ``workers`` processes (module docstring); the longest
    runs (most steps) start first."""
    arms = list(arms)
    jobs = [(cfg, seed, kw) for _, cfg, kw, seeds in arms for seed in seeds]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2]["steps"] * (1 + jobs[i][0].l4))
    done = _pool_map(_fit_mixture, [jobs[i] for i in order], workers, "drex lm")
    result = dict(zip(order, done, strict=True))
    rows, i = [], 0
    for labels, _, _, seeds in arms:
        for seed in seeds:
            rows.append({**labels, "seed": seed, **result[i]})
            i += 1
    return pd.DataFrame(rows)


def chapter12_kw(p) -> tuple[dict, dict]:
    """``mixture_grid`` keyword sets of chapter 12 from its resolved preset ``p``: the passkey
    mixture (Exp A / Exp B, scored on passkeys) and plain text (Exp B / last layer)."""
    S = p.segment_len
    passkey = {"in_segment": (S, (0.0, 1.0))}
    passkey.update({f"beyond_{L}": (L, tuple(p.beyond_depth)) for L in p.beyond_lengths})
    common = {"batch_size": p.batch_size, "val_tokens": p.val_tokens, "n_eval": p.n_eval, "eval_seed_offset": 5000}
    mix = {**common, "steps": p.mix_steps, "segments": tuple(p.mix_segments), "passkey_frac": p.passkey_frac,
           "answer_weight": p.answer_weight, "val_window": p.mix_segments[1] * S, "passkey": passkey}  # fmt: skip
    lm = {**common, "steps": p.steps, "segments": (p.n_segments, p.n_segments), "passkey_frac": 0.0,
          "answer_weight": 1.0, "val_window": p.n_segments * S}  # fmt: skip
    return mix, lm
