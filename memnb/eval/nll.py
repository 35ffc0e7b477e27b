"""Evaluation helpers: perplexity / bits per character, and task accuracy by a meta key.

Perplexity is ``exp(mean NLL)`` over every predicted token of a held-out stream, scored in
non-overlapping windows of ``window`` tokens (each window starts with an empty memory state
unless ``carry_state``). Bits per character ``= total NLL / (ln 2 · characters)`` over the same
text makes char- and BPE-level models comparable.
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
    """Total next-token NLL (nats) and the number of predicted tokens over a 1-D stream.

    Every token but the first is predicted: the stream is cut into windows of ``window``
    inputs (the last one shorter), each scored from an empty state, or, with
    ``carry_state``, in order with the model's state carried from window to window.
    """
    if tokens.dim() != 1:
        raise ValueError(f"tokens must be 1-D, got shape {tuple(tokens.shape)}")
    if max_tokens is not None:
        tokens = tokens[: max_tokens + 1]
    if tokens.numel() < 2 or window < 1:
        raise ValueError(f"need >= 2 tokens and window >= 1, got {tokens.numel()} tokens, window {window}")
    device = next(model.parameters()).device
    x_all, y_all = tokens[:-1], tokens[1:]
    n = x_all.numel()
    n_full = n // window
    was_training = model.training
    model.eval()
    total, state = 0.0, None

    def nll(x: torch.Tensor, y: torch.Tensor, st=None):
        logits, st = model(x.to(device), st)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1).to(device), reduction="sum")
        return loss.item(), st

    if carry_state:
        for start in range(0, n, window):
            part, state = nll(x_all[None, start : start + window], y_all[None, start : start + window], state)
            total += part
    else:
        x = x_all[: n_full * window].view(n_full, window)
        y = y_all[: n_full * window].view(n_full, window)
        for i in range(0, n_full, batch_size):
            total += nll(x[i : i + batch_size], y[i : i + batch_size])[0]
        if n_full * window < n:
            total += nll(x_all[None, n_full * window :], y_all[None, n_full * window :])[0]
    model.train(was_training)
    return total, n


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
