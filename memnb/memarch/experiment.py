"""Train one arm on one task and seed, then score it at each test length (book/appendix/memarch.md §3).

Procedure (one run = arm × task × seed):

1. ``seed_everything(seed, threads=run.threads)``, build the arm (``memnb.memarch.model``).
2. Train with ``memnb.train.train`` on fresh batches of the task at the training lengths
   (``train_lengths``, inclusive, drawn per example): batch ``step`` is
   ``TASKS[task](batch_size, seed=h(seed, step), length=train_lengths)``, a pure function of
   (seed, step), so both arms of a seed see exactly the same examples. The loss is the task's
   answer-only next-token cross-entropy (the generators' targets).
3. For each test length L: a held-out batch of ``n_eval`` examples of exactly length L (its own
   seed stream, disjoint from training), scored by teacher forcing on the *informative* answer
   positions, i.e. every scored target except the closing ``<eos>``:

       loss_L = mean over those positions of −log p(target),   acc_L = mean [argmax = target],

   and exact match (every answer position right, ``<eos>`` included). ``chance(task)`` gives
   the loss and accuracy of a model that knows the answer format but guesses uniformly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from memnb.data.tasks import TASKS, TaskBatch
from memnb.eval.nll import task_logits
from memnb.memarch.checks import future_leak
from memnb.memarch.model import ArmConfig, build_model
from memnb.parallel import run_jobs
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, progress_enabled, train

# The chapter's task settings: brackets as dense matching (name every closer: a stack target,
# chance 1/4), copy and random tokens over 16 symbols, repeated elements over 512 symbols
# (>= every test length, so a "no" answer always exists).
TASK_SETTINGS: dict[str, dict[str, Any]] = {
    "mem_brackets": {"mode": "match", "n_types": 4},
    "mem_copy": {"n_symbols": 16},
    "mem_repeat": {"n_symbols": 512},
    "mem_random": {"n_symbols": 16},
}
EVAL_STREAM = 1  # SeedSequence tags keeping evaluation data apart from training data
TRAIN_STREAM = 0


def stream_seed(*key: int) -> int:
    """A non-negative int seed for a task generator from an integer key (stable across runs)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


def chance(task: str, task_kwargs: dict[str, Any]) -> dict[str, float]:
    """Loss (nats) and accuracy of uniform guessing among the answer's possible symbols:
    copy and random tokens: ``n_symbols``; repeated elements: yes/no; bracket matching
    (``mode="match"``): the ``n_types`` closers; bracket classification: yes/no."""
    if task in ("mem_copy", "mem_random"):
        k = task_kwargs.get("n_symbols", 16)
    elif task == "mem_repeat":
        k = 2
    elif task == "mem_brackets":
        k = task_kwargs.get("n_types", 2) if task_kwargs.get("mode", "classify") == "match" else 2
    else:
        raise ValueError(f"no chance level defined for task {task!r}; memarch tasks: mem_brackets, mem_copy, ...")
    return {"loss": math.log(k), "accuracy": 1.0 / k}


@dataclass(frozen=True)
class RunConfig:
    """What one run trains and tests."""

    task: str
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    train_lengths: tuple[int, int] = (16, 64)
    test_lengths: tuple[int, ...] = (32, 64, 128, 256)
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    n_eval: int = 128
    threads: int = 1  # CPU threads for the run (fixed: float reductions depend on the split)

    def __post_init__(self) -> None:
        if self.task not in TASKS or not self.task.startswith("mem_"):
            raise ValueError(f"task must be one of the memarch tasks (mem_*), got {self.task!r}")
        lo, hi = self.train_lengths
        if not 1 <= lo <= hi:
            raise ValueError(f"train_lengths must be (lo, hi) with 1 <= lo <= hi, got {self.train_lengths}")
        if not self.test_lengths or min(self.test_lengths) < 1:
            raise ValueError(f"test_lengths must be a non-empty list of lengths >= 1, got {self.test_lengths}")
        if self.n_eval < 1 or self.batch_size < 1 or self.threads < 1:
            raise ValueError("n_eval, batch_size and threads must be >= 1")


def make_batch(run: RunConfig, n: int, seed: int, length: int | tuple[int, int]) -> TaskBatch:
    """``n`` examples of ``run.task`` at ``length`` (an int or an inclusive range)."""
    length = tuple(length) if isinstance(length, list) else length
    return TASKS[run.task](n, seed=seed, length=length, **run.task_kwargs)


def informative_mask(batch: TaskBatch) -> torch.Tensor:
    """Scored positions whose target is not the closing ``<eos>`` (which is always predictable)."""
    return batch.answer_mask & (batch.targets != batch.vocab.eos)


def score(logits: torch.Tensor, batch: TaskBatch) -> dict[str, float]:
    """Loss and accuracy on the informative answer positions, and exact match, of ``logits [N, T, V]``."""
    mask = informative_mask(batch)
    targets = batch.targets[mask]
    nll = F.cross_entropy(logits[mask].float(), targets, reduction="mean")
    acc = (logits[mask].argmax(-1) == targets).float().mean()
    pred = logits.argmax(-1)
    exact = ((pred == batch.targets) | ~batch.answer_mask).all(-1).float().mean()
    return {"loss": nll.item(), "accuracy": acc.item(), "exact_match": exact.item()}


def evaluate_lengths(model: torch.nn.Module, run: RunConfig, seed: int) -> list[dict[str, Any]]:
    """One row per test length: ``{"length", "loss", "accuracy", "exact_match"}``."""
    rows = []
    for L in run.test_lengths:
        batch = make_batch(run, run.n_eval, stream_seed(seed, L, EVAL_STREAM), L)
        logits = task_logits(model, batch.inputs, batch_size=32)
        rows.append({"length": L, **score(logits, batch)})
    return rows


def run_arm(arm: str, run: RunConfig, arm_cfg: ArmConfig, seed: int, *, desc: str | None = None) -> dict[str, Any]:
    """Train ``arm`` on ``run.task`` with ``seed`` and score it: ``{"rows": per-length rows
    (arm, task, seed added), "history": training log, "train_time_s", "model"}``."""
    vocab = make_batch(run, 1, 0, run.train_lengths[0]).vocab
    seed_everything(seed, threads=run.threads)
    model = build_model(arm, vocab.size, arm_cfg)

    def get_batch(step: int):
        b = make_batch(run, run.batch_size, stream_seed(seed, step, TRAIN_STREAM), run.train_lengths)
        return b.inputs, b.targets

    t0 = time.perf_counter()
    history = train(model, get_batch, TrainConfig(steps=run.steps, lr=run.lr), desc=desc or f"{arm}/{run.task}/{seed}")
    train_time = time.perf_counter() - t0
    rows = [{"arm": arm, "task": run.task, "seed": seed, **r} for r in evaluate_lengths(model, run, seed)]
    return {"rows": rows, "history": history, "train_time_s": train_time, "model": model}


def run_job(arm: str, run: RunConfig, arm_cfg: ArmConfig, seed: int, leak_len: int = 24) -> dict[str, Any]:
    """One run of ``run_grid``: its per-length rows and its run row (training time, CPU seconds,
    final training loss, and the ``future_leak`` of the *trained* model on a held-out sequence of
    ``leak_len`` tokens); the model itself is not returned (it may come from a worker process)."""
    cpu0 = time.process_time()
    out = run_arm(arm, run, arm_cfg, seed)
    probe = make_batch(run, 2, stream_seed(seed, 0, EVAL_STREAM + 1), run.train_lengths[0]).inputs[:, :leak_len]
    leak = future_leak(out["model"], probe, int(out["model"].cfg.vocab_size))
    row = {
        "task": run.task,
        "seed": seed,
        "arm": arm,
        "steps": run.steps,
        "train_time_s": out["train_time_s"],
        "cpu_s": time.process_time() - cpu0,
        "final_train_loss": float(np.mean([h["train_loss"] for h in out["history"][-20:]])),
        "future_leak": leak,
    }
    return {"rows": out["rows"], "run": row}


def run_grid(
    arms: list[str],
    tasks: list[str],
    seeds: list[int],
    arm_cfg: ArmConfig,
    *,
    leak_len: int = 24,
    workers: int = 1,
    task_settings: dict[str, dict[str, Any]] | None = None,
    **run_kwargs: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (task, seed, arm) run with ``(task_settings or TASK_SETTINGS)[task]`` (``run_job``): the per-length
    scores (one row per run and length) and one row per run. ``workers`` > 1 runs them in
    spawned processes of one thread each; every run is a pure function of its arguments and
    trains on one thread, so the numbers do not depend on ``workers`` (a test checks it)."""
    combos = [(task, seed, arm) for task in tasks for seed in seeds for arm in arms]
    settings = TASK_SETTINGS | (task_settings or {})
    jobs = [(arm, RunConfig(task, settings[task], **run_kwargs), arm_cfg, seed, leak_len) for task, seed, arm in combos]
    if workers <= 1:
        results = [run_job(*job) for job in tqdm(jobs, desc="runs", disable=not progress_enabled())]
    else:
        results = run_jobs(run_job, jobs, workers=workers)
    scores = [r for res in results for r in res["rows"]]
    return pd.DataFrame(scores), pd.DataFrame([res["run"] for res in results])
