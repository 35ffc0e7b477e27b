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
    """Chapter 11: the write rate against θ in closed form; the seed's split model trained with the
    seed's protocol (``train_*``) on its layout at ``lengths`` (the write-rate audit, on the first
    ``audit_seeds`` seeds) and on the corrected layout at ``sweep_length`` (exp_48_1's six θ, the
    learned combination gate, the memory removed); and chapter 12's language model with the null
    gate on and off (``lm_*``). ``cpu``: 5 seeds the chapter had not used (its first versions ran
    0, 1, 2), two worker processes; the budget is piloted in the chapter
    (``python -m memnb.drex.pilot --chapter 11``)."""

    SEEDS = {"cpu": [20, 21, 22, 23, 24]}  # protocol 2: >= 5 seeds where a run takes under a minute

    thresholds: list[float] = per_profile(
        ci=[0.5, 0.7, 0.9], cpu=[0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9], low=0.0, high=1.0
    )
    lengths: list[int] = per_profile(ci=[32], cpu=[32, 96], low=1)
    sweep_thresholds: list[float] = per_profile(
        ci=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75], cpu=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75], low=0.0, high=1.0
    )  # exp_48_1's six (the rules read them all)
    sweep_length: int = per_profile(ci=32, cpu=64, gpu=64, low=2)  # recall neither at chance nor at ceiling
    train_steps: int = per_profile(ci=5, cpu=800, gpu=800, low=1)  # the seed's 800 Adam steps
    train_lr: float = per_profile(ci=3e-4, cpu=3e-4, gpu=3e-4, low=0.0)  # the seed's lr
    train_eval: int = per_profile(ci=64, cpu=1920, gpu=1920, low=1)  # the seed's 60 batches of 32
    audit_seeds: int = per_profile(ci=1, cpu=3, gpu=5, low=1)  # the write-rate audit: the first n seeds
    # the language model of drex.null_gate: chapter 12's Exp B (the seed's L4), null gate on and off
    lm_d_model: int = per_profile(ci=32, cpu=64, gpu=128, low=1)
    lm_layers: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    lm_segment_len: int = per_profile(ci=32, cpu=128, gpu=64, low=1)
    lm_n_segments: int = per_profile(ci=2, cpu=2, gpu=2, low=1)
    lm_batch_size: int = per_profile(ci=4, cpu=16, gpu=16, low=1)
    lm_steps: int = per_profile(ci=6, cpu=200, gpu=500, low=2)
    lm_val_tokens: int = per_profile(ci=2048, cpu=65536, gpu=262144, low=1)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)  # processes of one thread (numbers do not depend on it)

    def check(self) -> None:
        """The rules read θ = 0.70 and the other five of exp_48_1, and the write rates at L = 32, 96."""
        missing = sorted({0.5, 0.55, 0.6, 0.65, 0.7, 0.75} - set(self.sweep_thresholds))
        if missing:
            raise ValueError(f"sweep_thresholds must include exp_48_1's six thresholds; missing {missing}")
        if 0.7 not in self.thresholds:
            raise ValueError("thresholds must include 0.7 (the rules read the write rate at theta = 0.70)")


@dataclass(frozen=True)
class DrexModel(Preset):
    """Chapter 12: the Drex language model (Exp A, Exp B, Exp B in the last layer only).

    ``drex.episodic_memory_helps`` (first ``ep_seeds`` seeds): Exp A and Exp B trained
    ``mix_steps`` steps on the passkey mixture (``memnb.drex.mixture``: windows of
    ``mix_segments`` segments, a fraction ``passkey_frac`` of rows passkeys, answer digits weighted
    ``answer_weight``), scored on passkeys of one segment (the control) and of ``beyond_lengths``
    with the needle in the first half (``beyond_depth``). ``drex.last_layer_only`` (every seed):
    Exp B and Exp B-last-layer trained ``steps`` steps on plain text (windows of ``n_segments``
    segments). ``cpu``: 8 seeds the chapter had not used (its first version ran 0, 1, 2), two
    worker processes; the budget is piloted in the chapter (``python -m memnb.drex.pilot
    --chapter 12``)."""

    SEEDS = {"cpu": [120, 121, 122, 123, 124, 125, 126, 127]}

    d_model: int = per_profile(ci=32, cpu=64, gpu=256, low=1)
    n_layers: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    segment_len: int = per_profile(ci=128, cpu=128, gpu=512, low=96)  # a passkey (>= 82 chars) fits in one
    batch_size: int = per_profile(ci=2, cpu=16, gpu=16, low=1)
    n_segments: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    steps: int = per_profile(ci=4, cpu=400, gpu=5000, low=2)
    val_tokens: int = per_profile(ci=2048, cpu=65536, gpu=262144, low=1)
    ep_seeds: int = per_profile(ci=1, cpu=5, gpu=5, low=1)
    mix_steps: int = per_profile(ci=4, cpu=1500, gpu=5000, low=2)
    mix_segments: list[int] = per_profile(ci=[1, 2], cpu=[1, 8], gpu=[1, 8], low=1)
    passkey_frac: float = per_profile(ci=1.0, cpu=1.0, gpu=0.5, low=0.0, high=1.0)
    answer_weight: float = per_profile(ci=200.0, cpu=200.0, gpu=200.0, low=0.0)
    beyond_lengths: list[int] = per_profile(ci=[256], cpu=[256, 512, 1024], gpu=[1024, 2048, 4096], low=1)
    beyond_depth: list[float] = per_profile(ci=[0.0, 0.5], cpu=[0.0, 0.5], gpu=[0.0, 0.5], low=0.0, high=1.0)
    n_eval: int = per_profile(ci=2, cpu=32, gpu=100, low=2)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)  # processes of one thread (numbers do not depend on it)

    def check(self) -> None:
        """The mixture's segment range is (lo, hi) with lo <= hi; the beyond lengths span more
        than one segment (the needle then sits at least one segment boundary before the question
        when the depth is at most 0.5 and the length at least two segments)."""
        lo, hi = self.mix_segments
        if not 1 <= lo <= hi:
            raise ValueError(f"mix_segments must be [lo, hi] with 1 <= lo <= hi, got {self.mix_segments}")
        if min(self.beyond_lengths) < 2 * self.segment_len:
            raise ValueError(
                f"beyond_lengths must be >= 2 segments ({2 * self.segment_len}), got {self.beyond_lengths}"
            )
        if len(self.beyond_depth) != 2 or not 0 <= self.beyond_depth[0] <= self.beyond_depth[1] <= 0.5:
            raise ValueError(f"beyond_depth must be [lo, hi] within [0, 0.5], got {self.beyond_depth}")
