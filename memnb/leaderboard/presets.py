"""Parameters of chapter 50 (the leaderboard), per profile: every contender of the registry at
matched parameters, the same steps of the same batches."""

from __future__ import annotations

from dataclasses import dataclass

from memnb.leaderboard.registry import CONTENDERS
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Leaderboard(Preset):
    """Chapter 50: every contender on the recall suite."""

    contenders: list[str] = per_profile(
        ci=list(CONTENDERS), cpu=list(CONTENDERS), gpu=list(CONTENDERS), choices=tuple(CONTENDERS)
    )
    d_model: int = per_profile(ci=32, cpu=64, gpu=256, low=1)
    n_layers: int = per_profile(ci=1, cpu=2, gpu=4, low=1)
    segment_len: int = per_profile(ci=16, cpu=16, gpu=64, low=1)
    train_len: int = per_profile(ci=48, cpu=48, gpu=256, low=1)
    steps: int = per_profile(ci=8, cpu=300, gpu=5000, low=1)
    batch_per_task: int = per_profile(ci=2, cpu=2, gpu=16, low=1)
    lr: float = per_profile(ci=3e-3, cpu=3e-3, gpu=1e-3, low=0.0)
    n_eval: int = per_profile(ci=8, cpu=64, gpu=256, low=1)
