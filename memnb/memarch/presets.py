"""Parameters of chapter 21 (the corrected key-value memory), per profile.

``tasks`` are the long-range tasks of ``TASK_SETTINGS`` (random tokens, the control, always run);
``train_lengths`` is the [shortest, longest] training length; the memory's ``capacity`` must reach
back over a whole test sequence (2 × the longest test length), checked before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.memarch.experiment import TASK_SETTINGS
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class KvMemory(Preset):
    """Chapter 21: baseline vs kv_memory on the long-range tasks and on random tokens."""

    tasks: list[str] = per_profile(
        ci=["mem_brackets", "mem_copy"],
        cpu=["mem_brackets", "mem_copy", "mem_repeat"],
        gpu=["mem_brackets", "mem_copy", "mem_repeat"],
        choices=tuple(TASK_SETTINGS),
    )
    steps: int = per_profile(ci=15, cpu=250, gpu=3000, low=1)
    control_steps: int = per_profile(ci=15, cpu=200, gpu=1000, low=1)
    batch_size: int = per_profile(ci=8, cpu=16, gpu=64, low=1)
    d_model: int = per_profile(ci=32, cpu=64, gpu=128, low=1)
    train_lengths: list[int] = per_profile(ci=[8, 16], cpu=[16, 32], gpu=[16, 64], low=1)
    test_lengths: list[int] = per_profile(ci=[16, 32], cpu=[16, 32, 64, 128], gpu=[32, 64, 128, 256, 512], low=1)
    n_eval: int = per_profile(ci=16, cpu=64, gpu=512, low=1)
    capacity: int = per_profile(ci=128, cpu=256, gpu=1024, low=1)
    top_k: int = per_profile(ci=4, cpu=4, gpu=4, low=1)

    def check(self) -> None:
        if len(self.train_lengths) != 2:
            raise ValueError(f"parameter train_lengths={self.train_lengths!r}: must be [shortest, longest]")
        longest = max(self.test_lengths)
        if self.capacity < 2 * longest:
            raise ValueError(
                f"capacity ({self.capacity}) must reach back over a whole test sequence (2·{longest}); raise it"
            )
