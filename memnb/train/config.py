"""``TrainConfig``: every choice of a training run in one value — steps, optimiser, learning-rate
schedule, weight decay, clipping, truncated-BPTT segment length, evaluation and checkpoint cadence.

The defaults are the book's recipe (nanoGPT's): AdamW with betas (0.9, 0.95) and weight decay 0.1
on matrices only, linear warmup then cosine decay to a tenth of the peak, gradient norm clipped
at 1. A seed system that trained its own way says so with field values, e.g. Drex's probe
protocol (Adam with torch's defaults, a constant lr, no clipping)::

    TrainConfig(steps, lr=3e-4, optimizer="adam", schedule="constant", warmup=0,
                betas=(0.9, 0.999), weight_decay=0.0, grad_clip=None)
"""

from __future__ import annotations

from dataclasses import dataclass

OPTIMIZERS = ("adamw", "adam")  # torch.optim.AdamW (decoupled decay), torch.optim.Adam (L2 decay)
SCHEDULES = ("cosine", "constant", "linear")  # see memnb.train.optim.lr_at


@dataclass
class TrainConfig:
    steps: int
    lr: float = 3e-3
    optimizer: str = "adamw"
    schedule: str = "cosine"
    warmup: int = 20
    min_lr_ratio: float = 0.1  # the schedule's floor, as a fraction of lr
    weight_decay: float = 0.1
    decay_all: bool = False  # False: biases and norm gains (dim < 2) are not decayed
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float | None = 1.0  # max global gradient norm; None: no clipping
    segment_len: int | None = None  # None: the whole sequence is one segment
    eval_every: int = 0  # 0: evaluate only at the end
    checkpoint_every: int = 0  # 0: no intermediate checkpoints

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if not 0 < self.lr < 1:
            raise ValueError(f"lr must be in (0, 1), got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.warmup < 0 or (self.grad_clip is not None and self.grad_clip <= 0):
            raise ValueError("warmup must be >= 0 and grad_clip > 0 (or None)")
        if self.segment_len is not None and self.segment_len < 1:
            raise ValueError(f"segment_len must be >= 1 or None, got {self.segment_len}")
