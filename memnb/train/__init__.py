"""Training: one loop for every model in the book (``loop``), language-model fitting on a token
stream (``lm``), and the book's small frozen backbone, trained once and cached (``backbone``).

``from memnb.train import TrainConfig, train`` is the usual entry point.
"""

from memnb.train.loop import Batch, TrainConfig, lr_at, progress_enabled, random_windows, train

__all__ = ["Batch", "TrainConfig", "lr_at", "progress_enabled", "random_windows", "train"]
