"""Language modelling on a token stream: train a decoder, score it, in one call.

``fit_lm`` trains ``memnb.models.Decoder`` (full attention unless another mixer is given) on
random windows of a training stream and evaluates the validation stream every ``eval_every``
steps, returning the model and its learning curve. Chapters use it for every LM baseline so
that all of them are trained the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from memnb.evaluate import stream_nll
from memnb.models.decoder import Decoder, DecoderConfig, attention_decoder
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, random_windows, train


def fit_lm(
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    model_cfg: DecoderConfig,
    train_cfg: TrainConfig,
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    val_tokens: int = 32_768,
    build: Callable[[DecoderConfig], Decoder] = attention_decoder,
    device: torch.device | str = "cpu",
    desc: str = "lm",
) -> tuple[nn.Module, list[dict]]:
    """Train from ``seed``; each history row with ``val_loss`` (mean nats per token)."""
    seed_everything(seed)
    model = build(model_cfg).to(device)

    def evaluate(m: nn.Module) -> dict:
        nll, n = stream_nll(m, val_ids, window=seq_len, max_tokens=val_tokens)
        return {"val_loss": nll / n}

    history = train(
        model, random_windows(train_ids, seq_len, batch_size, seed), train_cfg, evaluate=evaluate, desc=desc
    )
    return model, history
