"""Direct audits of the seed's two code bugs, and the deterministic cost of a training step.

- ``future_leak``: change the token at position t + 1 and return the largest change of the
  logits at positions ≤ t (``memnb.eval.probes.future_leak`` with ``other_token``). A causal
  model gives exactly 0 (masked keys get weight exp(−∞) = 0, so nothing of the changed token
  reaches the earlier positions); ReLSM's shipped thought stream does not
  (book/appendix/relsm.md §3 item 1: 1.3e-2 at nano).
- ``halting_gradient``: one forward/backward of the training loss; the norm of the gradient that
  reaches the halting head (``None`` when no gradient arrives at all: ReLSM's ``act``).
- ``train_step_flops``: floating-point operations of one forward + backward on a batch, counted
  by ``torch.utils.flop_counter`` with attention in its matmul form, so that the cost ratio
  between arms does not depend on a shared machine's load.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from memnb.eval import probes
from memnb.models.decoder import lm_loss


def other_token(vocab_size: int, vocab_lo: int) -> probes.Edit:
    """A token edit to a different non-special id (ids ``>= vocab_lo``): shift by
    ``1 + (x − lo + 1) mod (V − lo − 1)`` within ``[lo, V)``."""

    def edit(column: torch.Tensor) -> torch.Tensor:
        shift = 1 + (column - vocab_lo + 1) % (vocab_size - vocab_lo - 1)
        return vocab_lo + (column - vocab_lo + shift) % (vocab_size - vocab_lo)

    return edit


def future_leak(model: nn.Module, idx: torch.Tensor, t: int, *, vocab_lo: int = 2) -> float:
    """Max |Δ logits| at positions ≤ ``t`` when token ``t + 1`` of every row is replaced by a
    different non-special token (``other_token``; ``memnb.eval.probes.future_leak``)."""
    edit = other_token(model.embed.num_embeddings, vocab_lo)
    return probes.future_leak(model, idx, t, edit=edit, upto="<=")


def halting_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float | None:
    """Norm of d(loss + ponder cost)/d(halting weights), or ``None`` if no gradient reaches them."""
    halt = model.head.halt
    model.zero_grad(set_to_none=True)
    logits = model(x, None)[0]
    (lm_loss(logits, y) + model.ponder_loss()).backward()
    grad = halt.weight.grad
    model.zero_grad(set_to_none=True)
    return None if grad is None else grad.norm().item()


def train_step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one forward + backward of the training loss on ``(x, y)``."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        logits = model(x, None)[0]
        (lm_loss(logits, y) + model.ponder_loss()).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())
