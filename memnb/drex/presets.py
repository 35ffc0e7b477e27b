"""Parameters of the DREX chapters (10 EMA bootstrap, 11 gate sweep, 12 DREX model), per profile.

Each class is a ``memnb.profiles.Preset``: ``EmaBootstrap.resolve("cpu", {"train_steps": 200})``
gives the validated values a chapter runs with. The seed's own protocol (book/appendix/drex.md §3) is
kept where noted: 800 Adam steps at lr 3e-4, evaluation on 60 batches of 32.
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class EmaBootstrap(Preset):
    """Chapter 10: the closed-form write rate, the frozen-probe grid (a secondary view) and the
    seed-protocol training every claim is judged on: exp_47_1's model on the corrected layout at
    ``train_lengths`` (fixed, adaptive, constant-η α and the memory removed) and on the seed's
    layout at L = 32. The judged rules read L = 16, 32, 64 and 96, so every profile trains those.

    ``cpu``: 5 seeds the chapter had not used (its first versions ran 0, 1, 2), two worker
    processes: the budget piloted in the chapter (``python -m memnb.drex.pilot``)."""

    SEEDS = {"cpu": [10, 11, 12, 13, 14]}  # protocol 2: >= 5 seeds where a run takes under a minute

    lengths: list[int] = per_profile(ci=[16, 32], cpu=[16, 24, 32, 48, 64, 96, 128], low=1)
    seed_lengths: list[int] = per_profile(ci=[32], cpu=[32, 96], low=1)
    probe_d: int = per_profile(ci=16, cpu=16, low=1)
    n_train: int = per_profile(ci=256, cpu=1024, gpu=4096, low=1)
    n_eval: int = per_profile(ci=128, cpu=512, gpu=2048, low=1)
    train_lengths: list[int] = per_profile(
        ci=[16, 32, 64, 96], cpu=[16, 32, 64, 96], gpu=[16, 24, 32, 48, 64, 96, 128], low=1
    )
    train_steps: int = per_profile(ci=5, cpu=800, gpu=800, low=1)  # the seed's 800 Adam steps
    train_lr: float = per_profile(ci=3e-4, cpu=3e-4, gpu=3e-4, low=0.0)  # the seed's lr
    train_eval: int = per_profile(ci=64, cpu=1920, gpu=1920, low=1)  # the seed's 60 batches of 32
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)  # processes of one thread (numbers do not depend on it)

    def check(self) -> None:
        """The judged rules read the trained model at L = 16, 32, 64 and 96."""
        missing = sorted({16, 32, 64, 96} - set(self.train_lengths))
        if missing:
            raise ValueError(f"train_lengths must include 16, 32, 64 and 96 (the rules read them); missing {missing}")


@dataclass(frozen=True)
class GateSweep(Preset):
    """Chapter 11: write rate and recall against the gate threshold θ, and the seed-protocol audit."""

    thresholds: list[float] = per_profile(
        ci=[0.5, 0.7, 0.9], cpu=[0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9], low=0.0, high=1.0
    )
    lengths: list[int] = per_profile(ci=[32], cpu=[32, 96], low=1)
    probe_d: int = per_profile(ci=16, cpu=16, low=1)
    n_train: int = per_profile(ci=256, cpu=1024, gpu=4096, low=1)
    n_eval: int = per_profile(ci=128, cpu=512, gpu=2048, low=1)
    train_steps: int = per_profile(ci=10, cpu=150, gpu=800, low=1)
    train_lr: float = per_profile(ci=3e-3, cpu=3e-3, gpu=3e-4, low=0.0)
    audit_steps: int = per_profile(ci=5, cpu=800, gpu=800, low=1)  # the seed's protocol (book/appendix/drex.md §3)
    audit_lr: float = per_profile(ci=3e-4, cpu=3e-4, gpu=3e-4, low=0.0)
    audit_eval: int = per_profile(ci=64, cpu=1920, gpu=1920, low=1)  # the seed's 60 batches of 32


@dataclass(frozen=True)
class DrexModel(Preset):
    """Chapter 12: the DREX language model against its baselines, long-context tasks and speed."""

    d_model: int = per_profile(ci=32, cpu=64, gpu=256, low=1)
    n_layers: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    segment_len: int = per_profile(ci=32, cpu=128, gpu=512, low=1)
    n_segments: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    batch_size: int = per_profile(ci=4, cpu=16, gpu=16, low=1)
    steps: int = per_profile(ci=6, cpu=200, gpu=5000, low=1)
    passkey_lengths: list[int] = per_profile(
        ci=[96, 256], cpu=[128, 1024, 2048, 4096, 8192], gpu=[512, 2048, 4096, 8192, 16384], low=1
    )
    babi_lengths: list[int] = per_profile(ci=[1024], cpu=[1024, 4096], gpu=[2048, 4096, 8192], low=1)
    n_eval: int = per_profile(ci=2, cpu=12, gpu=50, low=1)
    bench_tokens: int = per_profile(ci=64, cpu=2048, gpu=16384, low=1)
    val_tokens: int = per_profile(ci=2048, cpu=65536, gpu=262144, low=1)
