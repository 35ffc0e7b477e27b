"""Evaluation helpers: the NLL of target tokens, perplexity / bits per character, and task
accuracy by a meta key.

``target_nll`` is the one teacher-forced loss: given a model's logits ``[..., V]`` on a context
and the target ids ``[...]`` they predict, ``NLL_i = −log softmax(logits_i)[target_i]`` at every
scored position (targets equal to ``ignore_index`` are not scored), reduced as the caller needs:
``"sum"`` = Σ_i NLL_i, ``"mean"`` = Σ_i NLL_i / #scored (one mean over all tokens), ``"none"`` =
NLL_i in the targets' shape (0 where not scored), ``"example"`` = per row (last dim) the mean over
its scored positions (a mean of means when the caller then averages the rows). ``total_nll``
sums it over windows scored in batches.

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

from memnb.data.tasks.base import IGNORE


def target_nll(
    logits: torch.Tensor, targets: torch.Tensor, *, reduction: str = "mean", ignore_index: int = IGNORE
) -> torch.Tensor:
    """NLL (nats) of ``targets [...]`` under ``logits [..., V]``, reduced by ``reduction`` (module
    docstring). ``"sum"``/``"mean"`` reduce inside ``F.cross_entropy`` on the flattened rows;
    ``"none"``/``"example"`` compute per position with the class on dim 1 (``[B, V, T]``)."""
    if reduction in ("sum", "mean"):
        flat = logits.reshape(-1, logits.size(-1))
        return F.cross_entropy(flat, targets.reshape(-1), reduction=reduction, ignore_index=ignore_index)
    if reduction not in ("none", "example"):
        raise ValueError(f"reduction must be one of sum, mean, none, example; got {reduction!r}")
    per = F.cross_entropy(logits.movedim(-1, 1), targets, reduction="none", ignore_index=ignore_index)
    return per if reduction == "none" else per.sum(-1) / (targets != ignore_index).sum(-1)


@torch.no_grad()
def total_nll(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 16, **forward_kw) -> float:
    """Σ NLL (nats) of targets ``y [N, T]`` given inputs ``x [N, T]``, rows scored ``batch_size``
    at a time, each from an empty state: ``model(x, None, **forward_kw)``, eval mode."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size].to(device), None, **forward_kw)[0]
        total += target_nll(logits, y[i : i + batch_size].to(device), reduction="sum").item()
    model.train(was_training)
    return total


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
    x_all, y_all = tokens[:-1], tokens[1:]
    n = x_all.numel()
    n_full = n // window
    if carry_state:
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        total, state = 0.0, None
        for start in range(0, n, window):
            logits, state = model(x_all[None, start : start + window].to(device), state)
            total += target_nll(logits, y_all[None, start : start + window].to(device), reduction="sum").item()
        model.train(was_training)
        return total, n
    x = x_all[: n_full * window].view(n_full, window)
    y = y_all[: n_full * window].view(n_full, window)
    total = total_nll(model, x, y, batch_size=batch_size)
    if n_full * window < n:
        total += total_nll(model, x_all[None, n_full * window :], y_all[None, n_full * window :])
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
