"""The two engrams of HRS (book/appendix/hrs.md §3).

**V16 window engram (``WindowEngram``), a function of the same sequence.** From the residual
stream h ∈ R^{T×d} after block ``extract_layer``, cut into complete windows of W tokens (an
incomplete trailing window is dropped), each window w gives K vectors:

    e_w = LN( reshape_K( W_2 GELU(W_1 mean_{t ∈ [wW, (w+1)W)} h_t) ) ),   W_1: d→2d, W_2: 2d→K·d

so a sequence of T tokens yields (T // W)·K engram vectors. e_w depends on tokens up to
(w+1)W − 1, i.e. on tokens *after* every position of window w (and of earlier windows): whoever
may read e_w from position p < (w+1)W − 1 reads the future. ``window_ends`` gives, per engram
vector, the last token it depends on, which is what a causal visibility rule needs.

**V18 buffer (``EngramBuffer``), a function of the training corpus.** A buffer of ``n_slots``
vectors, no gradient. Every training forward pass records m_b = mean over batch and positions
of the (detached) hidden state after block ``buffer_layer``; every ``update_interval`` forward
passes (counting from the first, as in V18's ``step % 100 == 0``) the recorded vectors are
averaged into m and

    buffer ← m (first update),   buffer ← μ·buffer + (1 − μ)·m (later),  broadcast to all slots,

so **all slots are always identical**. The buffer is read only after it has been written once
(V18 skips the cross-attention while the buffer is empty). HRS used 32 slots, interval 100
steps, μ = 0.99 over 50 K steps; chapters scale interval and μ to their step count.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class WindowEngram(nn.Module):
    """V16's engram encoder: K vectors per complete window of W tokens (see module docstring)."""

    def __init__(self, d_model: int, window: int, per_window: int) -> None:
        super().__init__()
        if window < 1 or per_window < 1:
            raise ValueError(f"window and per_window must be >= 1, got {window}, {per_window}")
        self.window, self.per_window = window, per_window
        self.fc1 = nn.Linear(d_model, 2 * d_model)
        self.fc2 = nn.Linear(2 * d_model, per_window * d_model)
        self.ln = nn.LayerNorm(d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor | None:
        """``[B, T, d]`` hidden states → ``[B, (T // W)·K, d]`` engrams, or None if T < W."""
        B, T, d = h.shape
        n_w = T // self.window
        if n_w == 0:
            return None
        pooled = h[:, : n_w * self.window].reshape(B, n_w, self.window, d).mean(2)
        e = self.fc2(F.gelu(self.fc1(pooled))).reshape(B, n_w * self.per_window, d)
        return self.ln(e)

    def window_ends(self, n_engrams: int, device: torch.device | None = None) -> torch.Tensor:
        """``[n_engrams]``: the index of the last token engram vector j depends on."""
        return (torch.arange(n_engrams, device=device) // self.per_window + 1) * self.window - 1


class EngramBuffer(nn.Module):
    """V18's corpus-level EMA buffer of identical slots (see module docstring)."""

    def __init__(self, d_model: int, n_slots: int = 32, update_interval: int = 100, momentum: float = 0.99) -> None:
        super().__init__()
        if n_slots < 1 or update_interval < 1 or not 0.0 <= momentum < 1.0:
            raise ValueError(
                "need n_slots >= 1, update_interval >= 1, 0 <= momentum < 1; "
                f"got {n_slots}, {update_interval}, {momentum}"
            )
        self.update_interval, self.momentum = update_interval, momentum
        self.register_buffer("buffer", torch.zeros(1, n_slots, d_model))
        self.register_buffer("initialized", torch.tensor(False))  # saved with the model (V18's flag was not)
        self.register_buffer("n_recorded", torch.tensor(0))
        self._pending: list[torch.Tensor] = []

    def read(self) -> torch.Tensor | None:
        """``[1, n_slots, d]``, or None before the first update."""
        return self.buffer if bool(self.initialized) else None

    @torch.no_grad()
    def record(self, h: torch.Tensor) -> None:
        """Record the batch mean of ``h`` ``[B, T, d]``; update the buffer every ``update_interval`` records."""
        self._pending.append(h.detach().float().mean(dim=(0, 1)))
        if int(self.n_recorded) % self.update_interval == 0:
            m = torch.stack(self._pending).mean(0)
            if bool(self.initialized):
                m = self.momentum * self.buffer[0, 0] + (1.0 - self.momentum) * m
            self.buffer.copy_(m.expand_as(self.buffer))
            self.initialized.fill_(True)
            self._pending = []
        self.n_recorded += 1
