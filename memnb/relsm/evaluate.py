"""The ladder's one evaluation entry point: ``evaluate_model(model, suite)`` -> one schema.

ReLSM's ``eval_hub.py`` (book/appendix/relsm.md §1, "Evaluation") scores greedy generations on an
IID/OOD grid, a needle sweep and perplexity. Ours keeps that shape, fixing the weak points of
book/appendix/relsm.md §3 (items 4-6):

- **exact match by greedy decoding from the prompt alone** (``exact_match_ar``): the prompt
  (up to ``<sep>``, or ``<query> key``) is fed, and the model's own argmax is appended until as
  many tokens as the answer + ``<eos>``; the example counts only if all of them are right
  (strict: no lenient parser). Beside it, the teacher-forced exact match and answer loss
  (``exact_match_tf``, ``answer_loss_tf``) read the whole sequence at once. For a causal model
  the two exact matches are equal by construction; a gap is the signature of a future leak.
- every condition's test set is fixed by a SHA-256 of its name (not Python's salted ``hash``),
  shared by all arms and seeds; ``chance`` is the accuracy of guessing (below);
- perplexity is scored two ways on the same validation windows: teacher-forced (every window
  in one pass) and **prefix-only** (position t is scored from a batch holding only tokens ≤ t
  of every window), which is the honest number for a model that may read the future.

Chance levels: parity and dyck 1/2 (balanced labels); copy/reverse of n digits 10^-n; addition
of d-digit operands 1 / (number of possible sums); needle retrieval 1 / (number of needles),
guessing one of the values present.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from memnb.data.tasks import TASKS, task_ranges
from memnb.data.tasks.base import IGNORE
from memnb.eval.nll import target_nll
from memnb.eval.sampling import sample_batch
from memnb.relsm.curriculum import NEEDLE, pad_cat, source_of
from memnb.relsm.vocab import PAD_ID, JointVocab


def condition_seed(name: str) -> int:
    """A test-set seed from a condition's name, the same in every process."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def chance_level(task: str, size: int, n_distractors: int = 0) -> float:
    """Exact-match accuracy of guessing (see the module doc) for one example of ``size``."""
    if task in ("parity", "dyck"):
        return 0.5
    if task in ("copy", "reverse"):
        return 10.0 ** (-size)
    if task == "addition":
        lo, hi = 10 ** (size - 1), 10**size - 1
        return 1.0 / (2 * hi - 2 * lo + 1)
    if task == NEEDLE:
        return 1.0 / (n_distractors + 1)
    raise ValueError(f"no chance level for task {task!r}; known: parity, dyck, copy, reverse, addition, {NEEDLE}")


@dataclass
class Condition:
    """One test set: ``task`` at ``size`` (``None`` = the IID range), in joint ids."""

    task: str
    split: str
    size: int | None
    inputs: torch.Tensor
    targets: torch.Tensor
    sizes: list[int]
    chance: float

    @property
    def label(self) -> str:
        return f"{self.task}:{self.split}" + ("" if self.size is None else f":{self.size}")


@dataclass
class Suite:
    """Every condition and the validation windows ``[n, W + 1]`` (joint ids) for perplexity."""

    conditions: list[Condition]
    text_windows: torch.Tensor
    meta: dict = field(default_factory=dict)


def build_suite(
    vocab: JointVocab,
    tasks: list[str],
    *,
    n: int,
    val_ids: torch.Tensor | None = None,
    val_windows: int = 0,
    window: int = 64,
    ood_extra: dict[str, list[int]] | None = None,
    needle_lengths: list[int] = (),
    needle_distractors: int = 2,
) -> Suite:
    """The IID range and each OOD size of every task (``task_ranges``, plus ``ood_extra``), the
    needle task at ``needle_lengths``, and ``val_windows`` windows from the start of ``val_ids``
    (none: no text perplexity)."""
    conds = []
    for task in tasks:
        r = task_ranges(task)
        sizes = [None, *r["ood"], *(ood_extra or {}).get(task, [])]
        for size in sizes:
            split = "iid" if size is None else "ood"
            name = f"{task}:{split}:{size}"
            b = TASKS[task](n, seed=condition_seed(name), **({r["param"]: size} if size is not None else {}))
            x, y = vocab.batch(source_of(task), b)
            per = list(b.meta[r["param"]])
            chance = float(np.mean([chance_level(task, s) for s in per]))
            conds.append(Condition(task, split, size, x, y, per, chance))
    for length in needle_lengths:
        b = TASKS[NEEDLE](n, seed=condition_seed(f"{NEEDLE}:{length}"), length=length, n_distractors=needle_distractors)
        x, y = vocab.batch("niah", b)
        conds.append(
            Condition(NEEDLE, "length", length, x, y, [length] * n, chance_level(NEEDLE, length, needle_distractors))
        )
    if not val_windows:
        return Suite(conds, torch.zeros(0, window + 1, dtype=torch.long))
    if val_ids is None or val_ids.numel() < val_windows * (window + 1):
        raise ValueError(f"validation stream too short for {val_windows} windows of {window + 1}")
    text = vocab.map("char", val_ids[: val_windows * (window + 1)]).view(val_windows, window + 1)
    return Suite(conds, text)


def greedy_decode(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy continuation of every prompt, as many tokens as its answer + ``<eos>``.

    Returns the generated ids and the wanted ids ``[N, max answer length]`` (``IGNORE`` past a
    row's answer). Rows with prompts of different lengths decode together by a full recompute per
    token (``memnb.eval.sampling``, ``cache=False``): each row's sequence is right-padded with
    ``<pad>`` and its next token read at its own last position. Pads after a position never reach
    it in a causal model, and the shipped thought stream masks ``<pad>`` keys, so this equals
    decoding each row alone; a model that reads the future sees only ``<pad>`` there.
    """
    mask = targets != IGNORE
    a = mask.float().argmax(dim=1)  # input position of the last prompt token
    n = mask.sum(dim=1)
    prompts = [row[: int(k) + 1].tolist() for row, k in zip(inputs, a, strict=True)]
    gen = sample_batch(model, prompts, int(n.max()), temperature=0, cache=False, pad_id=PAD_ID)
    offs = torch.arange(int(n.max()))[None, :]
    want = targets.gather(1, (a[:, None] + offs).clamp(max=targets.size(1) - 1))
    return torch.tensor(gen, dtype=inputs.dtype, device=inputs.device), torch.where(offs < n[:, None], want, IGNORE)


def greedy_exact_match(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 512):
    """``[N]`` bool: greedy decoding from the prompt alone reproduces answer + ``<eos>`` exactly."""
    out = []
    for x, y in zip(inputs.split(batch_size), targets.split(batch_size), strict=True):
        gen, want = greedy_decode(model, x, y)
        out.append(((gen == want) | (want == IGNORE)).all(dim=1))
    return torch.cat(out)


def greedy_by_task(model: nn.Module, conditions: list[Condition]) -> list[torch.Tensor]:
    """``greedy_exact_match`` per condition, decoding all conditions of a task in one ragged batch."""
    out: list[torch.Tensor | None] = [None] * len(conditions)
    for task in dict.fromkeys(c.task for c in conditions):
        idx = [i for i, c in enumerate(conditions) if c.task == task]
        x, y = pad_cat([(conditions[i].inputs, conditions[i].targets) for i in idx])
        parts = greedy_exact_match(model, x, y).split([len(conditions[i].inputs) for i in idx])
        for i, part in zip(idx, parts, strict=True):
            out[i] = part
    return out


@torch.no_grad()
def teacher_forced(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 256):
    """Per example: exact match of the argmax and mean answer loss (nats) reading the whole
    sequence; and the thought iterations per answer position for halting models (else None)."""
    em, loss, iters = [], [], []
    for x, y in zip(inputs.split(batch_size), targets.split(batch_size), strict=True):
        logits = model(x, None)[0]
        mask = y != IGNORE
        em.append(((logits.argmax(-1) == y) | ~mask).all(dim=1))
        loss.append(target_nll(logits, y, reduction="example"))
        used = model.iterations_used() if hasattr(model, "iterations_used") else None
        if used is not None:
            iters.append((used.to(logits.dtype) * mask).sum(1) / mask.sum(1))
    return torch.cat(em), torch.cat(loss), (torch.cat(iters) if iters else None)


@torch.no_grad()
def text_nll(model: nn.Module, windows: torch.Tensor, *, prefix_only: bool) -> float:
    """Mean next-token NLL (nats) over ``windows [n, W + 1]``: teacher-forced, or prefix-only
    (position t scored from the batch ``windows[:, :t + 1]``, which holds no later token)."""
    x, y = windows[:, :-1], windows[:, 1:]
    if not prefix_only:
        return target_nll(model(x, None)[0], y).item()
    total = 0.0
    for t in range(x.size(1)):
        total += target_nll(model(x[:, : t + 1], None)[0][:, -1], y[:, t], reduction="sum").item()
    return total / y.numel()


def evaluate_model(model: nn.Module, suite: Suite) -> dict[str, pd.DataFrame | dict]:
    """Run the whole suite. Returns ``{"tasks": one row per condition, "ponder": iterations per
    example size (halting models only), "text": perplexities (empty without text windows)}``."""
    was_training = model.training
    model.eval()
    rows, ponder = [], []
    for c, ar in zip(suite.conditions, greedy_by_task(model, suite.conditions), strict=True):
        tf, loss, iters = teacher_forced(model, c.inputs, c.targets)
        rows.append(
            {
                "task": c.task,
                "split": c.split,
                "size": c.size,
                "condition": c.label,
                "n": len(ar),
                "exact_match_ar": ar.float().mean().item(),
                "exact_match_tf": tf.float().mean().item(),
                "answer_loss_tf": loss.mean().item(),
                "chance": c.chance,
            }
        )
        if iters is not None:
            df = pd.DataFrame({"size": c.sizes, "iterations": iters.numpy()})
            for size, g in df.groupby("size"):
                ponder.append({"task": c.task, "split": c.split, "size": int(size), "iterations": g.iterations.mean()})
    text = {}
    if len(suite.text_windows):
        tf_nll = text_nll(model, suite.text_windows, prefix_only=False)
        pre_nll = text_nll(model, suite.text_windows, prefix_only=True)
        text = {"nll_tf": tf_nll, "nll_prefix": pre_nll, "ppl_tf": math.exp(tf_nll), "ppl_prefix": math.exp(pre_nll)}
    model.train(was_training)
    return {"tasks": pd.DataFrame(rows), "ponder": pd.DataFrame(ponder), "text": text}
