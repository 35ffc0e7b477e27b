"""Training: one loop for every model in the book (``loop``), its config (``config``) and
optimiser/schedule (``optim``), language-model fitting on a token stream (``lm``), and the book's
small frozen backbone, trained once and cached (``backbone``).

``from memnb.train import TrainConfig, train`` is the usual entry point.
"""

from memnb.train.config import TrainConfig
from memnb.train.loop import Batch, LossFn, lm_objective, progress_enabled, random_windows, train
from memnb.train.optim import lr_at, optimizer

__all__ = [
    "Batch",
    "LossFn",
    "TrainConfig",
    "lm_objective",
    "lr_at",
    "optimizer",
    "progress_enabled",
    "random_windows",
    "train",
]
