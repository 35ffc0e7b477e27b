"""Parameters of chapter 20 (the ReLSM ladder), per profile.

Issue 17: d = 64, two learnable tasks (copy and reverse, trained at lengths 4-12, tested at
16/20/24), the six arms the claims judge (the shipped thought streams are audited at
initialisation only), no language phase and no needle task, and at least 3x the earlier 200
steps. ``cpu`` seeds 10-12 are new to the chapter (its earlier runs used 0-2). ``gpu`` is sized
for the accuracy questions and has **not been run**.

The training setup comes from the pilot recorded in the chapter's Budget text (seed 100, the
baseline at d = 64, 600 steps): with the book's default recipe (warmup + cosine to 10%, weight
decay 0.1) the baseline learned neither task (exact match 0.0); a causal token shift in front of
every mixer (``short_conv = 2``) with a constant lr 3e-3 and no weight decay took it to 0.43 (copy)
and 0.26 (reverse). It applies to every arm alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Ladder(Preset):
    """Chapter 20: the ladder's trained arms on copy and reverse, plus the init-time leak audits."""

    SEEDS = {"cpu": [10, 11, 12]}

    d_model: int = per_profile(ci=16, cpu=64, gpu=256, low=1)
    n_layers: int = per_profile(ci=3, cpu=3, gpu=6, low=2)
    n_heads: int = per_profile(ci=2, cpu=4, gpu=8, low=1)
    n_thoughts: int = per_profile(ci=4, cpu=4, gpu=16, low=1)
    latent_k: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    act_max_k: int = per_profile(ci=4, cpu=4, gpu=8, low=2)
    batch_size: int = per_profile(ci=8, cpu=32, gpu=64, low=2)
    alg_steps: int = per_profile(ci=8, cpu=600, gpu=8000, low=1)
    lr: float = per_profile(ci=3e-3, cpu=3e-3, gpu=6e-4, low=0.0)
    schedule: str = per_profile(ci="constant", cpu="constant", gpu="constant", choices=("constant", "cosine"))
    weight_decay: float = per_profile(ci=0.0, cpu=0.0, gpu=0.0, low=0.0)
    short_conv: int = per_profile(ci=2, cpu=2, gpu=2, low=0)
    eval_n: int = per_profile(ci=4, cpu=48, gpu=500, low=1)
