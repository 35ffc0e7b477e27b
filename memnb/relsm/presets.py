"""Parameters of chapter 20 (the ReLSM ladder), per profile.

The ``cpu`` profile is three orders of magnitude below ReLSM's nano model (d = 512;
book/appendix/relsm.md §3, item 7): it is sized so that 8 arms × 3 seeds train and evaluate in
minutes on two cores; ``gpu`` is the profile sized to answer the accuracy questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class Ladder(Preset):
    """Chapter 20: the eight-arm ladder on the algorithmic tasks, Shakespeare and the needle suite."""

    d_model: int = per_profile(ci=16, cpu=32, gpu=256, low=1)
    n_layers: int = per_profile(ci=3, cpu=3, gpu=6, low=1)
    n_heads: int = per_profile(ci=2, cpu=4, gpu=8, low=1)
    n_thoughts: int = per_profile(ci=4, cpu=4, gpu=16, low=1)
    latent_k: int = per_profile(ci=2, cpu=2, gpu=4, low=1)
    act_max_k: int = per_profile(ci=4, cpu=4, gpu=8, low=1)
    batch_size: int = per_profile(ci=12, cpu=32, gpu=64, low=1)
    alg_steps: int = per_profile(ci=8, cpu=200, gpu=8000, low=1)
    lang_steps: int = per_profile(ci=4, cpu=50, gpu=2000, low=1)
    lr: float = per_profile(ci=3e-3, cpu=3e-3, gpu=6e-4, low=0.0)
    eval_n: int = per_profile(ci=4, cpu=48, gpu=500, low=1)
    val_windows: int = per_profile(ci=2, cpu=16, gpu=128, low=1)
    window: int = per_profile(ci=16, cpu=64, gpu=128, low=1)
    needle_lengths: list[int] = per_profile(ci=[32], cpu=[32, 64, 128], gpu=[64, 256, 1024, 2048], low=1)
