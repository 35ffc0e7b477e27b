"""Argument checks shared by the ops: one readable error before any arithmetic."""

from __future__ import annotations

import torch


def check_tensor(name: str, x: torch.Tensor | None, shape: tuple[int | None, ...]) -> None:
    """Raise unless ``x`` is None or a floating tensor of ``shape`` (None in ``shape``: any size)."""
    if x is None:
        return
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor")
    if x.dim() != len(shape) or any(s not in (None, n) for s, n in zip(shape, x.shape, strict=True)):
        want = ", ".join("*" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} has shape {list(x.shape)}, expected [{want}]")
