"""Parameters of chapter 40 (AMS v4), per profile.

``reader_steps`` sizes the cached reader (``memnb.ams.reader``); ``n_sessions`` random sessions per
seed of ``n_identity`` personal facts and ``n_distractors`` impersonal ones feed the harness; the
``e*`` fields size experiments E1-E7 (book/appendix/ams.md §2 and §7).
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.ams.sessions import DISTRACTORS, SLOTS
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class AmsV4(Preset):
    """Chapter 40: the reader, the AMS variants, the session harness and E1-E7."""

    reader_steps: int = per_profile(ci=4, cpu=400, gpu=3000, low=1)
    n_sessions: int = per_profile(ci=2, cpu=17, gpu=100, low=1)
    n_identity: int = per_profile(ci=2, cpu=3, gpu=5, low=1, high=len(SLOTS))  # personal facts per session
    n_distractors: int = per_profile(ci=2, cpu=4, gpu=5, low=0, high=len(DISTRACTORS))
    max_new: int = per_profile(ci=4, cpu=10, gpu=30, low=1)
    train_steps: int = per_profile(ci=2, cpu=60, gpu=60, low=1)
    alt_steps: int = per_profile(ci=2, cpu=60, gpu=1000, low=1)
    e1_sessions: int = per_profile(ci=1, cpu=3, gpu=20, low=1)
    e2_sessions: int = per_profile(ci=1, cpu=6, gpu=50, low=1)
    e3_n: list[int] = per_profile(ci=[1, 2, 5], cpu=[1, 2, 5, 10, 20, 40], gpu=[1, 2, 5, 10, 20, 40], low=1)
    e3_queries: int = per_profile(ci=1, cpu=6, gpu=100, low=1)
    e4_pairs: int = per_profile(ci=1, cpu=3, gpu=30, low=1)
    e5_n: list[int] = per_profile(ci=[10, 20], cpu=[10, 20, 100, 200], gpu=[10, 20, 100, 1000], low=1)
    e7_betas: list[float] = per_profile(ci=[0.0, 4.0], cpu=[0.0, 2.0, 4.0, 8.0], gpu=[0.0, 2.0, 4.0, 8.0], low=0.0)
    e7_sessions: int = per_profile(ci=1, cpu=4, gpu=30, low=1)
