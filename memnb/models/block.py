"""The transformer block every memnb model is built from: one MLP, one pre-LN block.

**MLP** (the position-wise feed-forward branch), with hidden width ``hidden``:

    gelu / relu:  MLP(u) = W_2 act(W_1 u + b_1) + b_2                (GPT-2, nanoGPT; Radford et al. 2019)
    swiglu:       MLP(u) = W_2 (SiLU(W_1 u) ⊙ W_3 u)                 (Shazeer 2020, "GLU Variants Improve
                                                                       Transformer"; ReLSM, LLaMA: no biases)

GELU is the exact (erf) form. ``bias=False`` drops b_1, b_2 (ReLSM's SwiGLU has none).

**Block** (pre-LN residual block; nanoGPT's ``Block`` with a pluggable mixer and optional extra
branches, each a residual added to the stream x in this order)::

    x ← x + Mixer(LN_1 x)            the sequence mixer (absent when ``mixer`` is None);
                                     with a ``conv``: x ← x + Mixer(Conv(LN_1 x))
    x ← x + f(x)   for f in pre_mlp  extra branches before the MLP (HRS V18's cross-attention to
                                     an engram; ``PreNorm`` wraps one that needs its own LN, as
                                     Drex's Titans memory)
    x ← x + MLP(LN_2 x)
    x ← x + f(x)   for f in post_mlp extra branches after the MLP (Drex's L4 memory, read from
                                     the block's output through its own LayerNorm)

**ShortConv** (the optional ``conv`` in front of the mixer): a causal depthwise convolution of
kernel k over time, one filter per channel c, no bias (the short convolution of Zoology's
recall-capable models, Arora et al. 2023; H3's shift SSM, Fu et al. 2023; fla's
``ShortConvolution``)::

    Conv(u)_t,c = Σ_{j=0}^{k−1} w_{c,j} u_{t−k+1+j, c}          (u_s = 0 before the sequence)

With k = 2 it is a learned token shift, w_{c,0} u_{t−1} + w_{c,1} u_t: the mixer's key at t
can hold the previous token, which is what one attention layer needs to bind a key to the value
after it. Its state is the last k − 1 inputs ``[B, k−1, d]``, so a sequence fed in segments
with the state carried gives the one-pass outputs. The weights keep PyTorch's ``Conv1d`` init.

Every sub-layer but the MLP follows the memnb layer interface ``f(u, s) -> (y, s')``. A block
with no extra branches and no conv carries its mixer's state, so a stack of plain blocks carries
one mixer state per layer; a block built with extra branches or a conv carries a dict
``{name: state}`` (``"mixer"`` for the mixer, ``"conv"`` for the conv's last inputs). ``None``
is the empty state. A branch named in ``reads`` keeps no memory of its own but reads one the
caller passes as its state: ``y = f(x, memory)`` (y alone), run only when a memory is given
(HRS's engram cross-attention). ``forward``'s keyword arguments, keyed by sub-layer name, pass
per-call options (e.g. an attention mask) to that sub-layer.

Each extra branch is also an attribute of the block under its name (``None`` when that slot is
empty), so a model can reach ``block.l4`` or test ``block.xattn is not None``. The modules are
registered in the order above, the conv between LN_1 and the mixer (the parameter order: it
fixes the order of the gradient-clipping norm's sum); ``PreNorm`` registers its LayerNorm after
the layer it wraps.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = ("gelu", "relu", "swiglu")
_ACT = {"gelu": F.gelu, "relu": F.relu, "swiglu": F.silu}


class MLP(nn.Module):
    """``d_model → hidden → d_model`` feed-forward branch; ``activation`` in ``ACTIVATIONS``."""

    def __init__(
        self, d_model: int, hidden: int, activation: str = "gelu", *, bias: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if d_model < 1 or hidden < 1:
            raise ValueError(f"d_model and hidden must be >= 1, got {d_model}, {hidden}")
        self.activation = activation
        self.fc = nn.Linear(d_model, hidden, bias=bias)  # W_1
        self.up = nn.Linear(d_model, hidden, bias=bias) if activation == "swiglu" else None  # W_3 (gated only)
        self.proj = nn.Linear(hidden, d_model, bias=bias)  # W_2
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _ACT[self.activation](self.fc(x))
        if self.up is not None:
            h = h * self.up(x)
        return self.drop(self.proj(h))


class PreNorm(nn.Module):
    """A memnb layer read through its own LayerNorm: ``(x, s) -> layer(LN x, s)``."""

    def __init__(self, d_model: int, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, state: Any = None, **kw: Any) -> tuple[torch.Tensor, Any]:
        return self.layer(self.norm(x), state, **kw)


class ShortConv(nn.Module):
    """Causal depthwise convolution of kernel ``kernel`` over ``[B, T, d]``, state = the last
    ``kernel − 1`` inputs (see the module docstring)."""

    def __init__(self, d_model: int, kernel: int) -> None:
        super().__init__()
        if d_model < 1 or kernel < 1:
            raise ValueError(f"d_model and kernel must be >= 1, got {d_model}, {kernel}")
        self.kernel = kernel
        self.conv = nn.Conv1d(d_model, d_model, kernel, groups=d_model, bias=False)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            state = x.new_zeros(x.size(0), self.kernel - 1, x.size(2))
        u = torch.cat((state, x), dim=1)
        y = self.conv(u.transpose(1, 2)).transpose(1, 2)
        return y, u[:, u.size(1) - (self.kernel - 1) :]


class Block(nn.Module):
    """Pre-LN block: mixer, extra branches, MLP (see the module docstring for the equations)."""

    def __init__(
        self,
        d_model: int,
        mixer: nn.Module | None,
        mlp: nn.Module,
        *,
        pre_mlp: dict[str, nn.Module | None] | None = None,
        post_mlp: dict[str, nn.Module | None] | None = None,
        reads: tuple[str, ...] = (),
        conv: nn.Module | None = None,
    ) -> None:
        super().__init__()
        pre_mlp, post_mlp = dict(pre_mlp or {}), dict(post_mlp or {})
        names = [*pre_mlp, *post_mlp]
        reserved = {"mixer", "mlp", "ln1", "ln2", "conv"}
        if len(set(names)) < len(names) or any(n in reserved or hasattr(self, n) for n in names):
            raise ValueError(f"extra branch names must be distinct and name no other Block attribute: {names}")
        if unknown := set(reads) - set(names):
            raise ValueError(f"reads names no extra branch: {sorted(unknown)}")
        if conv is not None and mixer is None:
            raise ValueError("a conv runs in front of the mixer: give a mixer, or no conv")
        self.ln1 = nn.LayerNorm(d_model) if mixer is not None else None
        self.conv = conv  # None registers nothing: a block without a conv has the parameters it had
        self.mixer = mixer
        for name, branch in pre_mlp.items():
            setattr(self, name, branch)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = mlp
        for name, branch in post_mlp.items():
            setattr(self, name, branch)
        self.pre_mlp, self.post_mlp, self.reads = tuple(pre_mlp), tuple(post_mlp), frozenset(reads)

    @property
    def plain(self) -> bool:
        """True when the block has no extra branch slots and no conv: its state is then the mixer's."""
        return not (self.pre_mlp or self.post_mlp) and self.conv is None

    def _branch(self, name: str, x: torch.Tensor, states: dict, new: dict, kw: dict) -> torch.Tensor:
        f, s = getattr(self, name), states.get(name)
        if f is None or (name in self.reads and s is None):
            return x
        if name in self.reads:  # y = f(x, memory): the memory is the caller's and stays as it is
            new[name] = s
            return x + f(x, s, **kw.get(name, {}))
        h, new[name] = f(x, s, **kw.get(name, {}))
        return x + h

    def forward(self, x: torch.Tensor, state: Any = None, **kw: dict[str, Any]) -> tuple[torch.Tensor, Any]:
        states, new = ({"mixer": state} if self.plain else state or {}), {}
        if self.mixer is not None:
            u = self.ln1(x)
            if self.conv is not None:
                u, new["conv"] = self.conv(u, states.get("conv"))
            h, new["mixer"] = self.mixer(u, states.get("mixer"), **kw.get("mixer", {}))
            x = x + h
        for name in self.pre_mlp:
            x = self._branch(name, x, states, new, kw)
        x = x + self.mlp(self.ln2(x))
        for name in self.post_mlp:
            x = self._branch(name, x, states, new, kw)
        return x, (new.get("mixer") if self.plain else new)
