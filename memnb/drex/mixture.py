"""Chapter 12's training stream: corpus text mixed with passkey windows of 1 to K segments.

``passkey_mixture(train_ids, tokenizer, segment_len=S, segments=(1, K), batch_size=B,
passkey_frac=p, answer_weight=a, seed=s)`` is a ``get_batch(step)`` for ``memnb.train.train``
(truncated BPTT):
each batch draws its number of segments k uniformly from ``segments`` and is ``B`` rows of
``k · S`` characters; each row is, with probability ``p``, a passkey example
(``memnb.data.tasks.passkey.passkey_texts`` over the *training* plays: the needle
"The pass key is NNNNN. Remember it. " at a uniform depth, then "\\nWhat is the pass key? The pass
key is " and the key), else a random window of the training text. A batch is ``(inputs, targets,
weights)``; the objective (``weighted_lm_objective``) is the weighted mean of next-character
cross-entropy over every position,

    loss = Σ_i w_i CE_i / Σ_i w_i,   w_i = a at the answer's digits, 1 elsewhere,

so the key's recall is learned beside plain language modelling: the five answer digits of a
row weigh 5a characters of text (a = 25: about the rest of their 128-character segment; without
it the 5 digits are 0.4% of a passkey segment's loss, and a pilot learned no copying at all).

With the needle's depth uniform, a passkey row of k segments puts its needle in any of its k
segments with equal chance: the question at the end reads it through attention when both are in
the last segment, and through the memories carried across segment boundaries otherwise (the
recall the chapter tests, at 2–K segments). Evaluation passkeys (``memnb.eval.long_context``) are
drawn over the *test* plays with other seeds, so no evaluation example was trained on.

A pure function of (seed, step): a run resumed at a step sees the same batches (``random_windows``
is the plain-text special case, ``passkey_frac = 0`` and one segment count).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from memnb.data.tasks.passkey import passkey_texts
from memnb.data.tokenizers import Tokenizer


def passkey_mixture(
    train_ids: torch.Tensor,
    tokenizer: Tokenizer,
    *,
    segment_len: int,
    segments: tuple[int, int],
    batch_size: int,
    passkey_frac: float,
    seed: int,
    answer_weight: float = 1.0,
):
    """``get_batch(step) -> (inputs, targets, weights)``, each ``[B, k·S]`` (module docstring)."""
    lo, hi = int(segments[0]), int(segments[1])
    if not 1 <= lo <= hi:
        raise ValueError(f"segments must be (lo, hi) with 1 <= lo <= hi, got {segments}")
    if answer_weight <= 0:
        raise ValueError(f"answer_weight must be > 0, got {answer_weight}")
    if not 0.0 <= passkey_frac <= 1.0:
        raise ValueError(f"passkey_frac must be in [0, 1], got {passkey_frac}")
    if segment_len < 1 or batch_size < 1:
        raise ValueError(f"segment_len and batch_size must be >= 1, got {segment_len}, {batch_size}")
    if train_ids.numel() <= hi * segment_len + 1:
        raise ValueError(f"training stream ({train_ids.numel()}) is shorter than {hi} segments of {segment_len} + 1")

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([seed, step, 12])
        T = int(rng.integers(lo, hi + 1)) * segment_len
        rows, weights = [], torch.ones(batch_size, T)
        for b in range(batch_size):
            if rng.random() < passkey_frac:
                ex = passkey_texts(1, seed=int(rng.integers(2**31)), length=T + 1, corpus_split="train")[0]
                rows.append(torch.tensor(tokenizer.encode(ex.prompt + ex.answer), dtype=torch.long))
                weights[b, T - len(ex.answer) :] = answer_weight  # targets are seq[1:]: the answer ends them
            else:
                start = int(rng.integers(0, train_ids.numel() - T - 1))
                rows.append(train_ids[start : start + T + 1])
        seq = torch.stack(rows)
        return seq[:, :-1], seq[:, 1:], weights

    return get_batch


def weighted_lm_objective():
    """``loss_fn`` for ``memnb.train.train`` on ``(inputs, targets, weights)`` segments: the
    weighted mean of next-token cross-entropy, Σ w CE / Σ w (module docstring)."""

    def loss_fn(model, batch, state):
        x, y, w = batch
        logits, state = model(x, state)
        ce = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")
        return (ce * w).sum() / w.sum(), state, {}

    return loss_fn
