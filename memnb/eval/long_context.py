"""Long-context recall: passkey and BABILong-style bAbI 1-5, scored by streaming.

``evaluate_long_context(model, task, lengths, n, seed, segment_len=S)`` draws ``n`` examples of
``task`` at each length (``memnb.data.tasks``: ``"passkey"`` over corpus text, ``"babi1"`` ..
``"babi5"`` hidden in corpus text), feeds each prompt to the model ``S`` tokens at a time with
the state carried (``model(idx, state) -> (logits, state)``, the interface of every memnb
model), and scores the answer under teacher forcing. It returns one row per length:

- ``accuracy``: the fraction of examples whose every answer token is the argmax (greedy
  decoding of the answer: each token is predicted from the true prefix), beside ``chance``;
- ``token_accuracy``: the fraction of answer tokens that are the argmax, beside ``token_chance``;
- ``answer_nll``: mean NLL per answer token (nats), beside ``nll_chance``;
- ``key_gain`` (passkey only): NLL per digit of a *foil* key (the next example's key, fed as
  the answer in place of the true one) minus that of the true key, from the same state. A
  model that has not kept the needle cannot prefer the true key, so its expected gain is 0;
  a model that recalls it scores > 0. A graded recall measure where exact match sits at 0.

Scored positions are the answer tokens only (the closing ``<eos>`` of the task batch is not
scored). Chance levels: passkey ``chance = 1 / (9 · 10^(k−1))`` (a uniform k-digit key),
``token_chance`` the mean per-digit guess rate (1/9 for the first digit, 1/10 after), and
``nll_chance = ln 10`` per digit (a model that knows a digit follows and nothing else). bAbI:
``chance`` is the frequency of the most common answer over 2,000 stories of the task (the best
constant guess); its token and NLL chances are not defined (NaN).

Streaming: the prompt up to the segment boundary before the first answer token is fed in
segments of ``S`` tokens from an empty state; the rest (the last part-segment and the answer)
is then run from that state (twice for the passkey foil). Segment boundaries are at multiples
of ``S`` from the first token, so a model whose layers cut segments the same way sees exactly
the segments it was trained on. The Drex seed's own evaluator fed generated tokens as 1-token
segments with no attention context (book/appendix/drex.md §5, item 4); this one does not.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.data.tasks import IGNORE, TASKS, TaskBatch
from memnb.data.tasks.babi import babi_stories
from memnb.data.tokenizers import Tokenizer, get_tokenizer

TASK_NAMES = ("passkey", "babi1", "babi2", "babi3", "babi4", "babi5")
COLUMNS = (
    "task",
    "length",
    "n",
    "accuracy",
    "chance",
    "token_accuracy",
    "token_chance",
    "answer_nll",
    "nll_chance",
    "key_gain",
)
N_DIGITS = 5
CHANCE_STORIES = 2000


def make_task(
    task: str, n: int, *, length: int, seed: int, tokenizer: Tokenizer, depth: tuple[float, float] = (0.0, 1.0)
) -> TaskBatch:
    """``n`` examples of ``task`` at ``length`` (characters; corpus background, test split);
    ``depth``: the passkey needle's depth range (a fraction of the filler; passkey only)."""
    check_task(task)
    if task == "passkey":
        return TASKS["passkey"](
            n, seed=seed, length=length, filler="corpus", n_digits=N_DIGITS, tokenizer=tokenizer, depth=depth
        )
    if tuple(depth) != (0.0, 1.0):
        raise ValueError(f"depth applies to the passkey task only, not {task!r}")
    return TASKS[task](n, seed=seed, length=length, tokenizer=tokenizer)


def check_task(task: str) -> None:
    if task not in TASK_NAMES:
        raise ValueError(f"unknown long-context task {task!r}; choose from {TASK_NAMES}")


def chance_levels(task: str) -> dict[str, float]:
    """``{"chance", "token_chance", "nll_chance"}`` for ``task`` (module docstring)."""
    check_task(task)
    if task == "passkey":
        k = N_DIGITS
        return {
            "chance": 1 / (9 * 10 ** (k - 1)),
            "token_chance": (1 / 9 + (k - 1) / 10) / k,
            "nll_chance": math.log(10),
        }
    answers = Counter(s.answer for s in babi_stories(CHANCE_STORIES, seed=0, task=int(task[-1])))
    return {"chance": answers.most_common(1)[0][1] / CHANCE_STORIES, "token_chance": math.nan, "nll_chance": math.nan}


def answer_mask(batch: TaskBatch) -> torch.Tensor:
    """``[N, T]`` bool: the scored positions (answer tokens; the closing ``<eos>`` excluded)."""
    return (batch.targets != IGNORE) & (batch.targets != batch.vocab.eos)


@torch.no_grad()
def stream(model: nn.Module, idx: torch.Tensor, segment_len: int, state=None, *, keep: bool = True):
    """Feed ``idx [B, T]`` in segments of ``segment_len`` with the state carried; return the
    logits ``[B, T, V]`` (or None with ``keep=False``) and the final state."""
    outs = []
    for start in range(0, idx.size(1), segment_len):
        logits, state = model(idx[:, start : start + segment_len], state)
        if keep:
            outs.append(logits)
    return (torch.cat(outs, 1) if keep else None), state


def _score(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per row: exact match, token accuracy, mean NLL over the masked positions."""
    hit = (logits.argmax(-1) == targets) & mask
    nll = F.cross_entropy(logits.transpose(1, 2), targets.clamp_min(0), reduction="none") * mask
    count = mask.sum(1).clamp_min(1)
    exact = (hit.sum(1) == mask.sum(1)).float()
    return exact, hit.sum(1) / count, nll.sum(1) / count


@torch.no_grad()
def score_batch(model: nn.Module, batch: TaskBatch, segment_len: int, *, foil: bool = False) -> dict[str, np.ndarray]:
    """Per-example ``exact``, ``token_acc``, ``nll`` (and ``key_gain`` with ``foil``) by streaming."""
    device = next(model.parameters()).device
    inputs, targets, mask = batch.inputs.to(device), batch.targets.to(device), answer_mask(batch).to(device)
    first = int(mask.float().argmax(1).min())
    cut = first - first % segment_len
    _, state = stream(model, inputs[:, :cut], segment_len, keep=False)
    logits, _ = stream(model, inputs[:, cut:], segment_len, state)
    exact, tok, nll = _score(logits, targets[:, cut:], mask[:, cut:])
    out = {"exact": exact, "token_acc": tok, "nll": nll}
    if foil:
        if len(batch) < 2 or not (mask == mask[:1]).all():
            raise ValueError("the foil needs >= 2 examples whose answers sit at the same positions (passkey)")
        cols = mask[0].nonzero().squeeze(1)  # answer token t is the target at cols[t], the input at cols[t] + 1
        foil_ids = targets[:, cols].roll(1, dims=0)
        f_inputs, f_targets = inputs.clone(), targets.clone()
        f_targets[:, cols] = foil_ids
        f_inputs[:, cols[1:]] = foil_ids[:, :-1]  # inputs at cols[1:] hold answer tokens 0..k-2
        f_logits, _ = stream(model, f_inputs[:, cut:], segment_len, state)
        out["key_gain"] = _score(f_logits, f_targets[:, cut:], mask[:, cut:])[2] - nll
    return {k: v.cpu().numpy() for k, v in out.items()}


def evaluate_long_context(
    model: nn.Module,
    task: str,
    lengths: Sequence[int],
    n: int,
    seed: int,
    *,
    segment_len: int,
    tokenizer: Tokenizer | None = None,
    batch_size: int = 16,
    depth: tuple[float, float] = (0.0, 1.0),
) -> pd.DataFrame:
    """Accuracy per length on ``task`` with chance levels beside it (columns ``COLUMNS``).

    ``model(idx, state) -> (logits, state)``; ``lengths`` in characters of the example (prompt +
    answer); ``n`` examples per length drawn from ``seed`` (the same examples for every model
    given the same seed); ``tokenizer`` defaults to the corpus character tokenizer; ``depth``
    the passkey needle's depth range (e.g. ``(0, 0.5)``: the needle in the first half).
    """
    check_task(task)
    if not lengths or any(int(L) < 1 for L in lengths):
        raise ValueError(f"lengths must be a non-empty list of positive ints, got {lengths!r}")
    if n < 2 or segment_len < 1 or batch_size < 2:
        raise ValueError(f"need n >= 2, segment_len >= 1, batch_size >= 2; got {n}, {segment_len}, {batch_size}")
    tokenizer = tokenizer or get_tokenizer("char")
    chance = chance_levels(task)
    was_training = model.training
    model.eval()
    rows = []
    for length in lengths:
        batch = make_task(task, n, length=int(length), seed=seed, tokenizer=tokenizer, depth=depth)
        parts: dict[str, list] = {}
        for rows_i in np.array_split(np.arange(n), -(-n // batch_size)):  # chunks of >= 2 rows (the foil)
            sub = batch[rows_i.tolist()]
            for k, v in score_batch(model, sub, segment_len, foil=task == "passkey").items():
                parts.setdefault(k, []).append(v)
        res = {k: np.concatenate(v) for k, v in parts.items()}
        rows.append(
            {
                "task": task,
                "length": int(length),
                "n": n,
                "accuracy": float(res["exact"].mean()),
                "chance": chance["chance"],
                "token_accuracy": float(res["token_acc"].mean()),
                "token_chance": chance["token_chance"],
                "answer_nll": float(res["nll"].mean()),
                "nll_chance": chance["nll_chance"],
                "key_gain": float(res["key_gain"].mean()) if "key_gain" in res else math.nan,
            }
        )
    model.train(was_training)
    return pd.DataFrame(rows, columns=list(COLUMNS))
