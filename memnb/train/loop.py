"""The one training loop of the book: every model — the LMs, the seed systems' objectives, a
linear probe — is fitted by ``train``.

Per optimiser step: ``batch = get_batch(step)``, ``loss, state, info = loss_fn(model, batch,
state)``, backward, clip, ``opt.step()``. What differs between systems is a value, not a loop:

- the **objective**: ``loss_fn(model, batch, state) -> (loss, state, info)``; the default,
  ``lm_objective()``, is next-token cross-entropy of ``model(idx, state) -> (logits, state)``
  (``memnb.models.Decoder``); ``info``'s scalars join the history row; a ``None`` loss means
  "nothing to learn from here", and the step only advances ``state``;
- the **batch source**: ``get_batch(step)``, best a pure function of the step (``random_windows``),
  so that a run resumed from a checkpoint sees exactly the batches it would have seen;
- the **optimiser and schedule**: ``TrainConfig`` (``memnb.train.config``, ``memnb.train.optim``);
- a **per-step callback** ``on_step(row, model)`` after each step's logging and evaluation.

Truncated BPTT (Williams & Peng 1990; Transformer-XL's segment recurrence): with
``cfg.segment_len`` set, an ``(inputs, targets)`` batch of length ``n · segment_len`` is cut into
segments; the state is carried from one segment to the next and detached at each boundary, and
every segment is one optimiser step. Evaluation every ``eval_every`` steps, tqdm, atomic
checkpoint save/resume.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

from memnb.layers.state import detach_state
from memnb.models.decoder import lm_loss
from memnb.train.config import TrainConfig
from memnb.train.optim import lr_at, optimizer

Batch = tuple[torch.Tensor, torch.Tensor]  # (inputs [B, T], targets [B, T], -100 = ignore)
LossFn = Callable[[nn.Module, Any, Any], tuple[torch.Tensor | None, Any, dict]]


def random_windows(tokens: torch.Tensor, seq_len: int, batch_size: int, seed: int):
    """``get_batch(step)`` drawing ``batch_size`` random windows; a pure function of (seed, step)."""
    if tokens.numel() <= seq_len + 1:
        raise ValueError(f"token stream ({tokens.numel()}) is shorter than seq_len + 1 ({seq_len + 1})")

    def get_batch(step: int):
        starts = np.random.default_rng([seed, step]).integers(0, tokens.numel() - seq_len - 1, batch_size)
        x = torch.stack([tokens[s : s + seq_len] for s in starts])
        y = torch.stack([tokens[s + 1 : s + seq_len + 1] for s in starts])
        return x, y

    return get_batch


def lm_objective(criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = lm_loss) -> LossFn:
    """The language-model objective: ``criterion(logits, targets)`` of ``model(inputs, state)``.
    A segment with no scored target (all -100) only advances the state (no gradient, no step)."""

    def loss_fn(model: nn.Module, batch: Batch, state):
        x, y = batch
        if not (y != -100).any():
            with torch.no_grad():
                return None, model(x, state)[1], {}
        logits, state = model(x, state)
        return criterion(logits, y), state, {}

    return loss_fn


def progress_enabled() -> bool:
    """tqdm bars (in the notebook, or the terminal) are on unless ``MEMNB_PROGRESS`` is ``0`` or a
    path (it has a ``/``: ``/dev/tty``, the log the chapter runner relays to its console), which
    gets plain progress lines instead (``ProgressLog``), so that executed chapters keep none."""
    value = os.environ.get("MEMNB_PROGRESS", "1")
    return value != "0" and "/" not in value


def progress_file() -> str | None:
    """The file progress lines go to: ``MEMNB_PROGRESS`` when it is a path (has a ``/``)."""
    value = os.environ.get("MEMNB_PROGRESS", "1")
    return value if "/" in value else None


class ProgressLog:
    """Plain progress lines for a console that is not the notebook: ``desc seed 2: step 120/480
    loss 2.345 (13 s)``, appended to ``progress_file()`` every ``every`` seconds and at the end of a
    run that wrote one (a run shorter than ``every`` writes nothing). Does nothing when no file is
    set; a file that cannot be written is dropped."""

    def __init__(self, desc: str, total: int, every: float = 10.0):
        from memnb.seeding import current_seed

        self.path, self.total, self.every = progress_file(), total, every
        seed = current_seed()
        self.label = desc if seed is None or f"seed {seed}" in desc else f"{desc} seed {seed}"
        self.t0 = self.last = time.perf_counter()
        self.wrote = False

    def update(self, step: int, loss: float | None = None) -> None:
        if self.path is None:
            return
        now = time.perf_counter()
        if not (now - self.last >= self.every or (step == self.total and self.wrote)):
            return
        self.last, self.wrote = now, True
        tail = "" if loss is None else f" loss {loss:.4g}"
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(f"{self.label}: step {step}/{self.total}{tail} ({now - self.t0:.0f} s)\n")
        except OSError:
            self.path = None


def train(
    model: nn.Module,
    get_batch: Callable[[int], Any],
    cfg: TrainConfig,
    *,
    loss_fn: LossFn | None = None,
    evaluate: Callable[[nn.Module], dict] | None = None,
    on_step: Callable[[dict, nn.Module], None] | None = None,
    checkpoint: str | Path | None = None,
    desc: str = "train",
    progress: bool | None = None,
) -> list[dict]:
    """Train ``model`` for ``cfg.steps`` optimiser steps; return the history (one dict per step).

    History rows: ``{"step", "lr", "train_loss"}`` plus ``loss_fn``'s ``info`` (as floats), and
    ``evaluate``'s metrics at every ``eval_every`` steps and at the end. With ``checkpoint`` set,
    training resumes from it if present (same config required) and saves atomically to it.
    ``progress``: show a tqdm bar (default: ``progress_enabled()``).
    """
    loss_fn = loss_fn or lm_objective()
    opt = optimizer(model, cfg)
    step, history = 0, []
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.exists():
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        if saved["cfg"] != asdict(cfg):
            raise ValueError(f"checkpoint {ckpt} was made with another TrainConfig; delete it to retrain")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        step, history = saved["step"], saved["history"]
    device = next(model.parameters()).device
    show = progress_enabled() if progress is None else progress
    bar = tqdm(total=cfg.steps, initial=step, desc=desc, leave=False, disable=not show)
    log = ProgressLog(desc, cfg.steps)
    while step < cfg.steps:
        model.train()
        state = None
        for piece in _segments(_to(get_batch(step), device), cfg.segment_len):
            if step >= cfg.steps:
                break
            lr = lr_at(step, cfg)
            for group in opt.param_groups:
                group["lr"] = lr
            loss, state, info = loss_fn(model, piece, state)
            if loss is None:  # nothing to learn from this piece: the state moved on, no step
                continue
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: loss is {loss.item()} at step {step}; lower the lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            state = detach_state(state)
            row = {"step": step + 1, "lr": lr, "train_loss": loss.item(), **{k: float(v) for k, v in info.items()}}
            history.append(row)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{row['train_loss']:.3f}")
            log.update(step, row["train_loss"])
            due = cfg.eval_every and step % cfg.eval_every == 0
            if evaluate is not None and (due or step == cfg.steps):
                row.update(_evaluate(model, evaluate))
            if on_step is not None:
                on_step(row, model)
            if ckpt is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                _save(ckpt, model, opt, step, history, cfg)
    bar.close()
    if ckpt is not None:
        _save(ckpt, model, opt, step, history, cfg)
    return history


def _to(batch, device: torch.device):
    """A tensor, or a tuple of them, on ``device``; anything else is the loss function's business."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple):
        return tuple(t.to(device) if isinstance(t, torch.Tensor) else t for t in batch)
    return batch


def _segments(batch, segment_len: int | None) -> Iterator:
    """The batch itself, or with ``segment_len`` its ``(inputs, targets, ...)`` — a tuple of
    ``[B, T]`` tensors, e.g. with per-token loss weights — cut into time segments."""
    if segment_len is None:
        yield batch
        return
    for start in range(0, batch[0].size(1), segment_len):
        yield tuple(t[:, start : start + segment_len] for t in batch)


def _evaluate(model: nn.Module, evaluate: Callable[[nn.Module], dict]) -> dict:
    model.eval()
    with torch.no_grad():
        out = evaluate(model)
    model.train()
    return out


def _save(path: Path, model, opt, step: int, history: list[dict], cfg: TrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "history": history, "cfg": asdict(cfg)},
        tmp,
    )
    os.replace(tmp, path)
