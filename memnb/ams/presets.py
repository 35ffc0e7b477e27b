"""Parameters of chapter 40 (AMS v4 on the frozen pretrained reader), per profile.

Per seed: ``n_train`` training fact sessions (the capacity set), ``train_steps`` QA steps of
``train_batch`` sessions through the reader, ``n_eval`` held-out sessions read in every mode
(``new`` tokens decoded for the strict score); E1 on ``e1_prompts`` questions with ``e1_new``-token
replies; E2 on ``e2_sessions`` sessions after ``e2_steps`` auxiliary-loss steps; E5 on stores of
``e5_n`` facts; E7 on ``e7_sessions`` sessions at every β of ``e7_betas``, ``e7_new`` tokens;
the oracle control's pilot on ``pilot_queries`` sessions of the first seed, before any training.
Sized from the pilot in the chapter's text (book/appendix/ams.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class AmsV4(Preset):
    """Chapter 40: AMS v4 read through SmolLM2-135M-Instruct."""

    # cpu: 40-42 were the first run; 43-45 the rerun with E1 at 100 x 30 and the pilot control (1,124 s,
    # over budget); 46-48 fresh for the run with batched reads (same sizes and rules)
    SEEDS = {"ci": [40], "cpu": [46, 47, 48], "gpu": [40, 41, 42, 43, 44]}

    n_train: int = per_profile(ci=2, cpu=8, gpu=64, low=1)
    train_steps: int = per_profile(ci=1, cpu=48, gpu=400, low=1)
    train_batch: int = per_profile(ci=2, cpu=8, gpu=16, low=1)
    n_eval: int = per_profile(ci=3, cpu=32, gpu=200, low=2)
    new: int = per_profile(ci=3, cpu=4, gpu=4, low=1)
    e1_prompts: int = per_profile(ci=2, cpu=100, gpu=100, low=2)
    e1_new: int = per_profile(ci=4, cpu=30, gpu=30, low=2)
    pilot_queries: int = per_profile(ci=2, cpu=20, gpu=20, low=1)  # the oracle control's pilot, before training
    e2_sessions: int = per_profile(ci=2, cpu=24, gpu=100, low=1)
    e2_steps: int = per_profile(ci=2, cpu=60, gpu=60, low=1)
    e5_n: list[int] = per_profile(ci=[10, 20], cpu=[10, 20, 100], gpu=[10, 20, 100, 1000], low=9)
    e7_sessions: int = per_profile(ci=2, cpu=16, gpu=100, low=1)
    e7_betas: list[float] = per_profile(ci=[0.0, 8.0], cpu=[0.0, 2.0, 4.0, 8.0], gpu=[0.0, 2.0, 4.0, 8.0], low=0.0)
    e7_new: int = per_profile(ci=4, cpu=16, gpu=30, low=1)
