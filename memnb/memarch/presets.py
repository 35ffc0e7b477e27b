"""Parameters of chapter 21 (the corrected key-value memory), per profile.

``tasks`` are the long-range tasks of ``TASK_SETTINGS`` (random tokens, the control, always run);
they must include the tasks the rules judge (``memnb.memarch.rules.TASKS``). ``train_lengths`` is
the [shortest, longest] training length; the local attention ``window`` of the memory arm must be
shorter than the shortest training sequence (so that the memory, not the attention, reaches the
start of every sequence), and the memory's ``capacity`` must reach back over a whole test
sequence (2 × the longest test length); both are checked before anything runs. ``cpu``: 4 arms ×
2 tasks × 5 seeds × 1000 steps plus the random-token control, sized by the chapter's pilot (see
its Budget section); ``gpu``: sized up, **not run**; ``ci``: a smoke test whose numbers mean
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.memarch.experiment import TASK_SETTINGS
from memnb.memarch.rules import TASKS as JUDGED_TASKS
from memnb.profiles import Preset, per_profile


@dataclass(frozen=True)
class KvMemory(Preset):
    """Chapter 21: the key-value memory (local attention + memory) against full attention with and
    without positions, on the long-range tasks and on random tokens."""

    SEEDS = {"cpu": [10, 11, 12, 13, 14]}  # fresh seeds (the protocol-1 run used 0, 1, 2); >= 5: runs are short

    tasks: list[str] = per_profile(
        ci=["mem_brackets", "mem_copy"],
        cpu=["mem_brackets", "mem_copy"],
        gpu=["mem_brackets", "mem_copy", "mem_repeat"],
        choices=tuple(TASK_SETTINGS),
    )
    steps: int = per_profile(ci=15, cpu=1000, gpu=3000, low=1)
    control_steps: int = per_profile(ci=15, cpu=400, gpu=1000, low=1)
    batch_size: int = per_profile(ci=8, cpu=16, gpu=64, low=1)
    d_model: int = per_profile(ci=32, cpu=64, gpu=128, low=1)
    train_lengths: list[int] = per_profile(ci=[8, 16], cpu=[16, 32], gpu=[16, 64], low=1)
    test_lengths: list[int] = per_profile(ci=[16, 32], cpu=[16, 32, 64, 128], gpu=[32, 64, 128, 256, 512], low=1)
    n_eval: int = per_profile(ci=16, cpu=128, gpu=512, low=1)
    capacity: int = per_profile(ci=128, cpu=256, gpu=1024, low=1)
    top_k: int = per_profile(ci=4, cpu=4, gpu=4, low=1)
    window: int = per_profile(ci=4, cpu=8, gpu=8, low=1)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)

    def check(self) -> None:
        if len(self.train_lengths) != 2:
            raise ValueError(f"parameter train_lengths={self.train_lengths!r}: must be [shortest, longest]")
        missing = [t for t in JUDGED_TASKS if t not in self.tasks]
        if missing:
            raise ValueError(f"parameter tasks={self.tasks!r}: must include the judged tasks {missing}")
        if self.window >= self.train_lengths[0]:
            raise ValueError(
                f"window ({self.window}) must be shorter than the shortest training sequence "
                f"({self.train_lengths[0]}), so that the memory is external to the attention"
            )
        longest = max(self.test_lengths)
        if self.capacity < 2 * longest:
            raise ValueError(
                f"capacity ({self.capacity}) must reach back over a whole test sequence (2·{longest}); raise it"
            )
