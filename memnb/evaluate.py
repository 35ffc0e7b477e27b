"""Evaluation helpers: perplexity / bits per character, and task accuracy by a meta key.

Perplexity is ``exp(mean NLL)`` over every predicted token of a held-out stream, scored in
non-overlapping windows of ``window`` tokens (each window starts with an empty memory state
unless ``carry_state``). Bits per character ``= total NLL / (ln 2 · characters)`` makes char-
and BPE-level models comparable.
"""

from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F


@torch.no_grad()
def stream_nll(
    model: nn.Module,
    tokens: torch.Tensor,
    *,
    window: int,
    batch_size: int = 16,
    max_tokens: int | None = None,
    carry_state: bool = False,
) -> tuple[float, int]:
    """Total next-token NLL (nats) and the number of predicted tokens over a 1-D stream."""
    if tokens.dim() != 1:
        raise ValueError(f"tokens must be 1-D, got shape {tuple(tokens.shape)}")
    if max_tokens is not None:
        tokens = tokens[: max_tokens + 1]
    n_win = (tokens.numel() - 1) // window
    if n_win < 1:
        raise ValueError(f"stream of {tokens.numel()} tokens is shorter than one window ({window} + 1)")
    device = next(model.parameters()).device
    x = tokens[: n_win * window].view(n_win, window)
    y = tokens[1 : n_win * window + 1].view(n_win, window)
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    if carry_state:  # one long row: windows in order, memory carried
        x, y, batch_size = x.reshape(1, -1), y.reshape(1, -1), 1
        for start in range(0, x.size(1), window):
            logits, state = model(x[:, start : start + window].to(device), state)
            total += F.cross_entropy(logits[0], y[0, start : start + window].to(device), reduction="sum").item()
    else:
        for i in range(0, n_win, batch_size):
            logits, _ = model(x[i : i + batch_size].to(device), None)
            total += F.cross_entropy(
                logits.reshape(-1, logits.size(-1)), y[i : i + batch_size].reshape(-1).to(device), reduction="sum"
            ).item()
    model.train(was_training)
    return total, n_win * window


def perplexity(model: nn.Module, tokens: torch.Tensor, *, window: int, **kw) -> float:
    nll, n = stream_nll(model, tokens, window=window, **kw)
    return math.exp(nll / n)


def bits_per_char(nll_nats: float, n_chars: int) -> float:
    return nll_nats / (math.log(2) * n_chars)


@torch.no_grad()
def task_logits(model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Logits for a batch of task inputs ``[N, T]``, computed in chunks (fresh state each)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = [model(inputs[i : i + batch_size].to(device), None)[0].cpu() for i in range(0, len(inputs), batch_size)]
    model.train(was_training)
    return torch.cat(out)


def accuracy_by(correct: torch.Tensor, meta: dict, key: str) -> pd.DataFrame:
    """Mean accuracy and count grouped by ``meta[key]`` (e.g. needle depth or length)."""
    df = pd.DataFrame({key: list(meta[key]), "correct": correct.float().cpu().numpy()})
    return df.groupby(key, as_index=False).agg(accuracy=("correct", "mean"), n=("correct", "size"))
