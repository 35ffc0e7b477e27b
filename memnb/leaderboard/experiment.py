"""One leaderboard run: train a contender on the suite mixture, then measure it.

Procedure (one run = contender × seed; every contender gets the same budget):

1. ``seed_everything(seed, threads=1)``; build the contender at the matched parameter count
   (``memnb.leaderboard.registry.build_model``).
2. Train with ``memnb.train.train`` for ``steps`` AdamW steps (warmup 10 %, cosine), each on a
   batch of ``batch_per_task`` examples of every suite task at exactly ``train_len`` inputs
   (``suite.mixture``; batch ``step`` is a pure function of (seed, step), so every contender
   of a seed sees the same examples). The whole ``train_len`` sequence is one forward pass
   (the memories cut it into segments of ``segment_len`` themselves), so gradients reach the
   memory writes of earlier segments; the loss is the answer-only cross-entropy.
3. For each task and each length ``L`` in ``eval_lengths`` (multiples of ``train_len``):
   ``n_eval`` held-out examples (their own seed stream, the same for every contender of a
   seed), fed ``segment_len`` tokens at a time with the state carried
   (``memnb.eval.long_context.score_batch``) and scored by exact match of the answer.
4. Cost, on the trained model: ``tokens_per_s`` (wall clock, best of ``bench_repeats``: a
   ``[bench_batch, max(eval_lengths)]`` batch streamed in segments, one thread),
   ``state_bytes`` (every tensor of the state after one sequence of ``max(eval_lengths)``
   tokens, batch 1: the memory a deployment keeps per sequence) and ``flops_per_token``
   (``torch.utils.flop_counter``'s op counts over that same stream, divided by its length:
   deterministic; matmuls and attention, not elementwise ops)).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode, _FlopCounterMode
from tqdm import tqdm

from memnb.eval.long_context import score_batch, stream
from memnb.layers.registry import check, state_bytes
from memnb.leaderboard import suite
from memnb.leaderboard.registry import ModelConfig, build_model
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, progress_enabled, train

TRAIN_STREAM, EVAL_STREAM = 0, 1


def stream_seed(*key: int) -> int:
    """A non-negative int seed from an integer key (stable across runs)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


@dataclass(frozen=True)
class RunConfig:
    train_len: int = 64
    steps: int = 200
    batch_per_task: int = 4
    lr: float = 3e-3
    length_multiples: tuple[int, ...] = (1, 2, 4, 8)
    n_eval: int = 32
    bench_batch: int = 8
    bench_repeats: int = 2

    def __post_init__(self) -> None:
        if self.train_len < 48:
            raise ValueError(f"train_len must be >= 48 (a 5-fact bAbI story and its question), got {self.train_len}")
        if self.steps < 1 or self.batch_per_task < 1 or self.n_eval < 2 or self.bench_batch < 1:
            raise ValueError("steps, batch_per_task, bench_batch must be >= 1 and n_eval >= 2")
        if not self.length_multiples or min(self.length_multiples) < 1:
            raise ValueError(f"length_multiples must be positive ints, got {self.length_multiples}")

    @property
    def eval_lengths(self) -> list[int]:
        return [m * self.train_len for m in self.length_multiples]

    @property
    def train_tokens(self) -> int:
        return self.steps * self.batch_per_task * len(suite.SUITE) * self.train_len


def evaluate(model: torch.nn.Module, run: RunConfig, seed: int, segment_len: int) -> list[dict]:
    """Exact-match accuracy per (task, length): one row each."""
    rows = []
    for t, task in enumerate(suite.SUITE):
        for L in run.eval_lengths:
            batch = suite.make(task, run.n_eval, seed=stream_seed(seed, t, L, EVAL_STREAM), length=L)
            exact = np.concatenate(
                [score_batch(model, batch[i : i + 32], segment_len)["exact"] for i in range(0, run.n_eval, 32)]
            )
            rows.append({"task": task, "length": L, "accuracy": float(exact.mean()), "chance": suite.chance(task)})
    return rows


@torch.no_grad()
def cost(model: torch.nn.Module, run: RunConfig, segment_len: int, vocab_size: int) -> dict[str, float]:
    """``tokens_per_s``, ``state_bytes`` and ``flops_per_token`` at the longest test length."""
    L = max(run.eval_lengths)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, vocab_size, (run.bench_batch, L), generator=g).to(next(model.parameters()).device)
    best = float("inf")
    for _ in range(run.bench_repeats):
        t0 = time.perf_counter()
        stream(model, idx, segment_len, keep=False)
        if idx.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    counter = FlopCounterMode(display=False)
    with _FlopCounterMode(counter):  # the dispatch mode alone: the module tracker breaks on some states
        _, state = stream(model, idx[:1], segment_len, keep=False)
    return {
        "tokens_per_s": run.bench_batch * L / best,
        "state_bytes": float(state_bytes(state)),
        "flops_per_token": counter.get_total_flops() / L,
    }


def run_contender(name: str, seed: int, model_cfg: ModelConfig, run: RunConfig, device: str = "cpu") -> dict:
    """Train and measure ``name`` with ``seed``: ``{"rows", "params", "train_time_s",
    "final_loss", **cost}`` (rows: one per task and length, contender and seed added)."""
    check(name)
    vocab = suite.suite_vocab()
    seed_everything(seed, threads=1)
    model = build_model(name, vocab.size, model_cfg).to(device)

    def get_batch(step: int):
        return suite.mixture(run.batch_per_task, seed=stream_seed(seed, step, TRAIN_STREAM), length=run.train_len)

    cfg = TrainConfig(steps=run.steps, lr=run.lr, warmup=max(1, run.steps // 10))
    t0 = time.perf_counter()
    history = train(model, get_batch, cfg, desc=f"{name}/{seed}")
    train_time = time.perf_counter() - t0
    model.eval()
    rows = [{"contender": name, "seed": seed, **r} for r in evaluate(model, run, seed, model_cfg.segment_len)]
    return {
        "rows": rows,
        "params": model.num_params(),
        "train_time_s": train_time,
        "final_loss": float(np.mean([h["train_loss"] for h in history[-max(1, run.steps // 10) :]])),
        **cost(model, run, model_cfg.segment_len, vocab.size),
    }


def run_all(
    names: list[str], seeds: list[int], model_cfg: ModelConfig, run: RunConfig, device: str = "cpu"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (contender, seed) on ``device``: the per-(task, length) accuracies and one row of
    costs per run."""
    scores, runs = [], []
    for name, seed in tqdm([(n, s) for n in names for s in seeds], desc="runs", disable=not progress_enabled()):
        out = run_contender(name, seed, model_cfg, run, device)
        scores += out.pop("rows")
        runs.append({"contender": name, "seed": seed, **out})
    return pd.DataFrame(scores), pd.DataFrame(runs)
