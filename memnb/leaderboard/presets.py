"""Parameters of chapter 50 (every memory on MQAR), per profile.

``cpu``: the control plus six contenders at d = 64 (the gated delta rule at 2 and 1 heads: state
×2 at equal parameters), 5 seeds × 480 steps of batch 32, two worker processes: the budget
measured in the chapter's pilot (see its Budget section). ``gpu``: every arm, Zoology's vocabulary
and widths — sized from the paper's Figure-2 sweep, **not run yet**. ``ci``: the cpu arms on a
tiny model for seconds (a smoke test: the numbers mean nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.data.tasks.mqar import check_mqar
from memnb.leaderboard.mqar import CURVE_POINTS, MQARRun
from memnb.leaderboard.sweep import ARMS
from memnb.profiles import Preset, per_profile

CPU_ARMS = [
    "attention",
    "attention_noconv",
    "attention_nope",
    "sliding_window",
    "gated_delta_rule_h2",
    "gated_delta_rule_h1",
    "mamba2",
]
GPU_ARMS = list(ARMS)


@dataclass(frozen=True)
class Leaderboard(Preset):
    """Chapter 50: every contender on multi-query associative recall."""

    SEEDS = {"cpu": [0, 1, 2, 3, 4]}  # protocol 2 asks >= 5 seeds where runs are short

    arms: list[str] = per_profile(ci=CPU_ARMS, cpu=CPU_ARMS, gpu=GPU_ARMS, choices=tuple(ARMS))
    d_model: int = per_profile(ci=16, cpu=64, gpu=64, low=4)  # the width every claim is judged at
    widths: list[int] = per_profile(ci=[], cpu=[], gpu=[128, 256], low=4)  # further widths (figure only)
    n_layers: int = per_profile(ci=2, cpu=2, gpu=2, low=1)
    seq_len: int = per_profile(ci=32, cpu=64, gpu=64, low=4)
    n_pairs: int = per_profile(ci=2, cpu=4, gpu=4, low=1)
    vocab_size: int = per_profile(ci=160, cpu=320, gpu=8192, low=5)
    steps: int = per_profile(ci=16, cpu=480, gpu=8000, low=8)
    batch_size: int = per_profile(ci=8, cpu=32, gpu=256, low=1)
    lr: float = per_profile(ci=1e-2, cpu=1e-2, gpu=1e-3, low=0.0, high=1.0)
    eval_n: int = per_profile(ci=16, cpu=256, gpu=1024, low=1)
    workers: int = per_profile(ci=1, cpu=2, gpu=1, low=1)

    def check(self) -> None:
        """The task's asserts at the training length and at 2× and 4× it (the generalisation
        column), and a step count the learning curve can split into quarters."""
        for m in (1, *MQARRun.length_multiples):
            check_mqar(m * self.seq_len, m * self.n_pairs, self.vocab_size, 0.01)
        if self.steps % CURVE_POINTS:
            raise ValueError(
                f"steps must be a multiple of {CURVE_POINTS} (the learning curve's points), got {self.steps}"
            )
