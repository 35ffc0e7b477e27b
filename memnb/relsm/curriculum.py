"""ReLSM's split curriculum, scaled down, and the training run of one arm.

ReLSM (data.py ``CurriculumSampler``, book/appendix/relsm.md §1) trains on algorithmic data
first and then on language, keeping 15% algorithmic data in the language phase. Ours:

- phase 1, steps ``[0, alg_steps)``: algorithmic batches only. Every batch holds every training
  task in equal shares (``batch_size // n_tasks`` examples each, the remainder to the first
  tasks), each drawn at its IID sizes (``task_ranges``), loss on the answer + ``<eos>`` only;
- phase 2, the next ``lang_steps`` steps: character-level windows of the Shakespeare training
  split (loss on every next character), except that a fraction ``alg_fraction`` (0.15) of the
  steps, spread evenly, are phase-1 batches.

Every batch is a pure function of (seed, step), so two arms trained with the same seed see the
same data. ReLSM's per-task difficulty schedule, DAG unlocking and label-token budgets are left
out (they need far longer runs than a CPU chapter has).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from memnb.data.tasks import TASKS
from memnb.data.tasks.base import IGNORE
from memnb.models.decoder import lm_loss
from memnb.relsm.vocab import PAD_ID, JointVocab
from memnb.train import TrainConfig, lm_objective, train

NEEDLE = "niah"


def source_of(task: str) -> str:
    """The vocabulary a task's generator uses (see ``memnb.relsm.vocab``)."""
    return "niah" if task == NEEDLE else "alg"


def stream_seed(*parts: int) -> int:
    """A 32-bit generator seed from integer parts (NumPy's SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def pad_cat(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (inputs, targets) of different widths, right-padding with ``<pad>`` / ``IGNORE``."""
    width = max(x.size(1) for x, _ in pairs)
    xs = [nn.functional.pad(x, (0, width - x.size(1)), value=PAD_ID) for x, _ in pairs]
    ys = [nn.functional.pad(y, (0, width - y.size(1)), value=IGNORE) for _, y in pairs]
    return torch.cat(xs), torch.cat(ys)


@dataclass
class SplitCurriculum:
    """``batch(step)``: the training batch at ``step`` in joint ids (see the module doc)."""

    vocab: JointVocab
    tasks: tuple[str, ...]
    text_ids: torch.Tensor  # the character-level training stream, local tokenizer ids
    seed: int
    batch_size: int = 32
    alg_steps: int = 200
    lang_steps: int = 100
    alg_fraction: float = 0.15
    lang_seq_len: int = 64
    needle_lengths: tuple[int, int] = (24, 48)
    needle_distractors: int = 2

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown or not self.tasks:
            raise ValueError(f"tasks must be a non-empty list of memnb tasks; unknown: {unknown}")
        if self.batch_size < len(self.tasks):
            raise ValueError(f"batch_size ({self.batch_size}) must be >= the number of tasks ({len(self.tasks)})")
        if self.alg_steps < 0 or self.lang_steps < 0 or self.alg_steps + self.lang_steps < 1:
            raise ValueError(
                f"need alg_steps, lang_steps >= 0 and > 0 in total, got {self.alg_steps}, {self.lang_steps}"
            )
        if not 0.0 <= self.alg_fraction <= 1.0:
            raise ValueError(f"alg_fraction must be in [0, 1], got {self.alg_fraction}")

    @property
    def steps(self) -> int:
        return self.alg_steps + self.lang_steps

    def is_algorithmic(self, step: int) -> bool:
        """Phase 1, or one of the evenly spread algorithmic steps of phase 2."""
        k = step - self.alg_steps
        return k < 0 or math.floor((k + 1) * self.alg_fraction) > math.floor(k * self.alg_fraction)

    def examples_per_task(self) -> list[int]:
        q, r = divmod(self.batch_size, len(self.tasks))
        return [q + (i < r) for i in range(len(self.tasks))]

    def algorithmic_batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = []
        for i, (task, n) in enumerate(zip(self.tasks, self.examples_per_task(), strict=True)):
            kw = {"length": self.needle_lengths, "n_distractors": self.needle_distractors} if task == NEEDLE else {}
            b = TASKS[task](n, seed=stream_seed(self.seed, step, i), **kw)
            pairs.append(self.vocab.batch(source_of(task), b))
        return pad_cat(pairs)

    def language_batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        L = self.lang_seq_len
        rng = np.random.default_rng(stream_seed(self.seed, step, 1_000_003))
        starts = rng.integers(0, self.text_ids.numel() - L - 1, self.batch_size)
        window = torch.stack([self.text_ids[s : s + L + 1] for s in starts])
        window = self.vocab.map("char", window)
        return window[:, :-1], window[:, 1:]

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.algorithmic_batch(step) if self.is_algorithmic(step) else self.language_batch(step)

    def task_examples_seen(self, task: str) -> int:
        """How many training examples of ``task`` the whole run draws."""
        n_alg = sum(self.is_algorithmic(s) for s in range(self.steps))
        return n_alg * self.examples_per_task()[self.tasks.index(task)]


def train_arm(
    model: nn.Module,
    curriculum: SplitCurriculum,
    *,
    lr: float,
    warmup: int = 20,
    schedule: str = "cosine",
    weight_decay: float = 0.1,
    desc: str = "relsm",
) -> tuple[list[dict], float]:
    """Train ``model`` in place through the curriculum (AdamW, clip 1.0, ``schedule`` as in
    ``memnb.train.optim.lr_at``; loss = next-token cross-entropy + the model's ponder cost).
    Returns the history and wall seconds."""
    cfg = TrainConfig(steps=curriculum.steps, lr=lr, warmup=warmup, schedule=schedule, weight_decay=weight_decay)

    def criterion(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return lm_loss(logits, targets) + model.ponder_loss()

    start = time.perf_counter()
    history = train(model, curriculum.batch, cfg, loss_fn=lm_objective(criterion), desc=desc)
    seconds = time.perf_counter() - start
    for row in history:
        row["phase"] = "algorithmic" if curriculum.is_algorithmic(row["step"] - 1) else "language"
    return history, seconds
