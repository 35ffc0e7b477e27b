"""Language modelling on a token stream: train any memnb-interface model, with validation.

``fit_lm`` trains a model (``model(idx, state) -> (logits, state)``) on random windows of a
training stream and scores the validation stream every ``eval_every`` steps, returning its
learning curve. Every LM in the book — the baselines and the frozen backbone — is trained
through it, so all of them are trained the same way.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from memnb.eval.nll import stream_nll
from memnb.train import TrainConfig, random_windows, train


def fit_lm(
    model: nn.Module,
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    train_cfg: TrainConfig,
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    val_tokens: int = 32_768,
    desc: str = "lm",
) -> list[dict]:
    """Train ``model`` in place on windows drawn from ``seed``; each evaluated history row has
    ``val_loss`` (mean nats per token over the first ``val_tokens`` validation tokens)."""

    def evaluate(m: nn.Module) -> dict:
        nll, n = stream_nll(m, val_ids, window=seq_len, max_tokens=val_tokens)
        return {"val_loss": nll / n}

    return train(model, random_windows(train_ids, seq_len, batch_size, seed), train_cfg, evaluate=evaluate, desc=desc)
