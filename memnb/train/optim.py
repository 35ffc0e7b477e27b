"""The optimiser and the learning-rate schedule of a ``TrainConfig``.

``optimizer(model, cfg)``: AdamW or Adam over the parameters that require a gradient, in
``model.parameters()`` order. With ``decay_all=False`` (the book's default, nanoGPT's rule) they
form two groups — matrices and embeddings (dim ≥ 2) decayed, biases and norm gains not;
with ``decay_all=True`` or no weight decay, one group (torch's default, as the seeds wrote it).

``lr_at(step, cfg)``, the lr of optimiser step ``step`` (0-based), peak ``η = cfg.lr``, warmup
``w``, floor ``η_min = min_lr_ratio · η``, ``T = cfg.steps``:

- ``cosine`` (Loshchilov & Hutter 2017, with linear warmup):
  ``η (s+1)/w`` for ``s < w``, then ``η_min + ½ (η − η_min)(1 + cos(π p))``, ``p = (s − w)/(T − w)``;
- ``constant``: ``η`` (warmup ignored);
- ``linear`` (AMS's reader fine-tune): ``η · min(1, (s+1)/w) · (r + (1 − r)(1 − s/T))``, ``r = min_lr_ratio``
  — the warmup ramp times a linear decay from ``η`` towards ``η_min``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from memnb.train.config import TrainConfig


def optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser ``cfg`` names over ``model``'s trainable parameters (module docstring)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.decay_all or cfg.weight_decay == 0:
        groups = [{"params": params, "weight_decay": cfg.weight_decay}]
    else:
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
    cls = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}[cfg.optimizer]
    return cls(groups, lr=cfg.lr, betas=cfg.betas)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The learning rate of optimiser step ``step`` under ``cfg.schedule`` (module docstring)."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "linear":
        ramp = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
        r = cfg.min_lr_ratio
        return cfg.lr * ramp * (r + (1 - r) * (1 - step / cfg.steps))
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    floor = cfg.min_lr_ratio * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))
