"""Mean-pooled hidden states: a text's *engram*, the mean of a frozen LM's hidden states at one layer.

    e(x) = (1/n) Σ_{t=1..n} h_t^(ℓ)

HRS keys texts by it (``topic_context.py``, ``engram_store.py``, ``exp_kernel_attention.py``;
book/appendix/hrs.md §3, §4, §6) and AMS uses it as a memory's semantic vector (``semantic_emb``,
book/appendix/ams.md §1). The callers differ only in choices, which are parameters here:

- ``layer``: the ``transformers`` ``hidden_states`` index (0 = embeddings, i = output of block
  i−1, −1 = the last block after the final LayerNorm). A memnb ``Decoder`` offers only its final
  hidden state (after ``ln_f``, what its LM head reads): ``layer=-1``.
- ``window``: a text is read in consecutive windows of ``window`` tokens, each a fresh context,
  and the mean runs over all its tokens (a model has learned only so many positions).
- ``batch_size`` / ``sort``: texts are read in right-padded batches with the padding masked out
  of the sums (a causal model's states at real tokens do not depend on later padding, but a padded
  batch's arithmetic can differ from a lone text's in the last float bits, so ``batch_size=1``
  reads every text alone); ``sort`` puts similar lengths in one batch.
- ``logit_stat``: a per-token statistic of the logits (e.g. the predictive entropy), summed from
  the same forward pass.

Per text (or window) the sum over tokens is taken in the model's dtype and then accumulated and
divided in float64; for a text read alone, that mean cast back to float32 equals ``h.mean(0)``
(tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn


@dataclass
class Sums:
    hidden: np.ndarray  # [N, d] Σ_t h_t^(layer), float64
    counts: np.ndarray  # [N] tokens per text
    stat: np.ndarray | None  # [N] Σ_t logit_stat_t, float64 (None without logit_stat)


def is_transformers_model(model: nn.Module) -> bool:
    """A ``transformers`` model (``config`` + ``base_model``), as opposed to a memnb decoder."""
    return hasattr(model, "config") and hasattr(model, "base_model")


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def _check(model: nn.Module, layer: int, longest: int, logit_stat) -> None:
    if not is_transformers_model(model):
        if layer != -1 or logit_stat is not None:
            raise ValueError("a memnb decoder offers only its final hidden state: layer=-1, no logit_stat")
        return
    cfg = model.config  # GPT-2 names its sizes n_layer / n_positions, Llama num_hidden_layers / max_position_embeddings
    n_layers = int(getattr(cfg, "n_layer", None) or cfg.num_hidden_layers)
    n_pos = int(getattr(cfg, "n_positions", None) or cfg.max_position_embeddings)
    if not -n_layers - 1 <= layer <= n_layers:
        raise ValueError(f"layer must be in 0..{n_layers} (0 = embeddings; negative counts from the end), got {layer}")
    if longest > n_pos:
        raise ValueError(f"a text or window of {longest} tokens exceeds the model's {n_pos} positions")


def _forward(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, layer: int, logit_stat):
    """(hidden states ``[B, T, d]`` at ``layer``, ``logit_stat`` per token ``[B, T]`` or None)."""
    if not is_transformers_model(model):
        return model.hidden(ids)[0], None
    if logit_stat is None:  # the base model alone: no LM head to compute
        out = model.base_model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        return out.hidden_states[layer], None
    out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    return out.hidden_states[layer], logit_stat(out.logits)


@torch.no_grad()
def hidden_sums(
    model: nn.Module,
    token_lists: list[list[int]],
    *,
    layer: int = -1,
    batch_size: int = 1,
    sort: bool = False,
    logit_stat: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
) -> Sums:
    """Σ_t h_t^(layer) and the token count of each token list, each read as one fresh context."""
    if not token_lists or any(len(t) == 0 for t in token_lists):
        raise ValueError("need a non-empty list of non-empty token lists")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    _check(model, layer, max(len(t) for t in token_lists), logit_stat)
    device = device if device is not None else next(model.parameters()).device
    was = model.training
    model.eval()
    order = list(range(len(token_lists)))
    if sort:  # similar lengths per batch: less padding
        order.sort(key=lambda i: len(token_lists[i]))
    sums, counts, stat = [None] * len(token_lists), np.zeros(len(token_lists)), np.zeros(len(token_lists))
    for b in range(0, len(order), batch_size):
        rows = order[b : b + batch_size]
        width = max(len(token_lists[i]) for i in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width)
        for j, i in enumerate(rows):
            ids[j, : len(token_lists[i])] = torch.tensor(token_lists[i])
            mask[j, : len(token_lists[i])] = 1.0
        ids, mask = ids.to(device), mask.to(device)
        h, s = _forward(model, ids, mask, layer, logit_stat)
        hs = (h * mask[..., None]).sum(1).double().cpu().numpy()
        for j, i in enumerate(rows):
            sums[i] = hs[j]
        counts[rows] = mask.sum(1).cpu().numpy()
        if s is not None:
            stat[rows] = (s * mask).sum(1).double().cpu().numpy()
    model.train(was)
    return Sums(np.stack(sums), counts, stat if logit_stat is not None else None)


def pooled_hidden(
    model: nn.Module,
    token_lists: list[list[int]],
    *,
    layer: int = -1,
    window: int | None = None,
    batch_size: int = 1,
    sort: bool = False,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """``[N, d]`` float64 mean hidden state of each token list (raw; ``unit`` normalises), read in
    windows of ≤ ``window`` tokens (``None``: each list in one context)."""
    if not token_lists or any(len(t) == 0 for t in token_lists):
        raise ValueError("need a non-empty list of non-empty token lists")
    if window is not None and window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    w = window or max(len(t) for t in token_lists)
    owner = [i for i, t in enumerate(token_lists) for _ in range(0, len(t), w)]
    pieces = [t[s : s + w] for t in token_lists for s in range(0, len(t), w)]
    s = hidden_sums(model, pieces, layer=layer, batch_size=batch_size, sort=sort, device=device)
    out = np.zeros((len(token_lists), s.hidden.shape[1]))
    np.add.at(out, owner, s.hidden)
    return out / np.bincount(owner, weights=s.counts)[:, None]
