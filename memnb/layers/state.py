"""Layer state helpers.

Every memnb layer returns its memory as a state object (a frozen dataclass, a dict or a tensor;
``None`` is the empty memory). The state keeps its autograd graph, so gradients flow across
segments. Truncated BPTT is the caller's decision: detach the state at a segment boundary with
``detach_state`` (the training loop does this once per optimiser step).
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import TypeVar

import torch

S = TypeVar("S")


def state_tensors(state) -> list[torch.Tensor]:
    """Every tensor inside a (nested dataclass / dict / list / tuple) state."""
    if isinstance(state, torch.Tensor):
        return [state]
    if is_dataclass(state) and not isinstance(state, type):
        return [t for f in fields(state) for t in state_tensors(getattr(state, f.name))]
    if isinstance(state, dict):
        return [t for value in state.values() for t in state_tensors(value)]
    if isinstance(state, (list, tuple)):
        return [t for value in state for t in state_tensors(value)]
    return []


def detach_state(state: S) -> S:
    """A copy of ``state`` with every tensor inside it detached (nested dataclasses, dicts,
    lists and tuples are walked; ints and ``None`` are returned as they are)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if is_dataclass(state) and not isinstance(state, type):
        return replace(state, **{f.name: detach_state(getattr(state, f.name)) for f in fields(state)})
    if isinstance(state, dict):
        return {key: detach_state(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(detach_state(value) for value in state)
    return state
