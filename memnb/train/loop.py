"""The training loop every chapter uses: AdamW, warmup + cosine schedule, gradient clipping,
truncated BPTT over segments, periodic evaluation, tqdm, atomic checkpoint save/resume.

Truncated BPTT (Williams & Peng 1990; Transformer-XL's segment recurrence): a batch of
sequences of length ``n_segments * segment_len`` is cut into segments; the model's state is
carried from one segment to the next and detached at each boundary, and every segment is one
optimiser step (a segment with no scored target only advances the state). Batches come
from ``get_batch(step)``, a pure function of the step, so a run resumed from a checkpoint
sees exactly the batches it would have seen.

The model interface is ``model(idx, state) -> (logits, new_state)`` (``memnb.models.Decoder``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from tqdm import tqdm

from memnb.layers.state import detach_state
from memnb.models.decoder import lm_loss

Batch = tuple[torch.Tensor, torch.Tensor]  # (inputs [B, T], targets [B, T], -100 = ignore)


@dataclass
class TrainConfig:
    steps: int
    lr: float = 3e-3
    warmup: int = 20
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    segment_len: int | None = None  # None: the whole sequence is one segment
    eval_every: int = 0  # 0: evaluate only at the end
    checkpoint_every: int = 0  # 0: no intermediate checkpoints

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if not 0 < self.lr < 1:
            raise ValueError(f"lr must be in (0, 1), got {self.lr}")
        if self.warmup < 0 or self.grad_clip <= 0:
            raise ValueError("warmup must be >= 0 and grad_clip > 0")
        if self.segment_len is not None and self.segment_len < 1:
            raise ValueError(f"segment_len must be >= 1 or None, got {self.segment_len}")


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


def progress_enabled() -> bool:
    """Progress bars are on unless ``MEMNB_PROGRESS=0`` (the chapter runner sets it, so that
    executed chapters keep no bar output; papermill shows per-cell progress instead)."""
    return os.environ.get("MEMNB_PROGRESS", "1") != "0"


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to ``lr``, then cosine decay to ``min_lr_ratio * lr`` at ``steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    floor = cfg.min_lr_ratio * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)


def _save(path: Path, model, opt, step: int, history: list[dict], cfg: TrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "history": history, "cfg": asdict(cfg)},
        tmp,
    )
    os.replace(tmp, path)


def train(
    model: nn.Module,
    get_batch: Callable[[int], Batch],
    cfg: TrainConfig,
    *,
    evaluate: Callable[[nn.Module], dict] | None = None,
    checkpoint: str | Path | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = lm_loss,
    desc: str = "train",
) -> list[dict]:
    """Train ``model`` for ``cfg.steps`` optimiser steps; return the history (one dict per log).

    History rows: ``{"step", "lr", "train_loss"}`` every step-group, plus ``evaluate``'s
    metrics at every ``eval_every`` steps and at the end. With ``checkpoint`` set, training
    resumes from it if present (same config required) and saves atomically to it.
    """
    opt = _optimizer(model, cfg)
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
    bar = tqdm(total=cfg.steps, initial=step, desc=desc, leave=False, disable=not progress_enabled())
    while step < cfg.steps:
        model.train()
        x, y = (t.to(device) for t in get_batch(step))
        seg = cfg.segment_len or x.size(1)
        state = None
        for start in range(0, x.size(1), seg):
            if step >= cfg.steps:
                break
            y_seg = y[:, start : start + seg]
            if not (y_seg != -100).any():  # nothing to score here: only advance the memory
                with torch.no_grad():
                    state = model(x[:, start : start + seg], state)[1]
                continue
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            logits, state = model(x[:, start : start + seg], state)
            loss = loss_fn(logits, y_seg)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: loss is {loss.item()} at step {step}; lower the lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            state = detach_state(state)
            history.append({"step": step + 1, "lr": lr_at(step, cfg), "train_loss": loss.item()})
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            due = cfg.eval_every and step % cfg.eval_every == 0
            if evaluate is not None and (due or step == cfg.steps):
                history[-1].update(_evaluate(model, evaluate))
            if ckpt is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                _save(ckpt, model, opt, step, history, cfg)
    bar.close()
    if ckpt is not None:
        _save(ckpt, model, opt, step, history, cfg)
    return history


def _evaluate(model: nn.Module, evaluate: Callable[[nn.Module], dict]) -> dict:
    model.eval()
    with torch.no_grad():
        out = evaluate(model)
    model.train()
    return out
