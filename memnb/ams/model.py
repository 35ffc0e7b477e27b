"""AMS v4 end to end: write memories into the three bundles, read a 12-slot prefix (seed ``MemLLM4``).

Seed: book/appendix/ams.md §1. ``AMS(lm, tok)`` holds the trainable parts (three bundle
encoders, their canonical axes, the cross-bundle attention) around a frozen causal LM:

- ``write(texts)`` (seed ``MemLLM4.write``): for memory i, ``h_i`` = pooled last-layer state,
  ``c_i`` = uniform mean of the row-normalised input embeddings over **all** its token ids,
  ``ts = i``, ``surprise = 0``, session summary ``S ← 0.7 S + 0.3 h_i`` (``S = h_0`` first), and
  the three (base, fiber, dirn) triples. It returns a ``Store``; the Kakeya registry is a side
  store (``memnb.ams.kakeya``) that the read path never touches.
- ``prefix(store, prompt)`` (seed ``prepare_decode_context``): ``q_hidden`` = pooled state of
  the whole prompt, then cross-bundle attention over the memories (all of them unless ``keep``).
- ``topic_query(question)`` (seed mode C): the question text's pooled state through the topic
  encoder with an **empty** token list (``c = 0``), or with the question's own tokens when
  ``symmetric_query`` (E2 variant d); ``topic_rank`` ranks memories by cosine to their
  ``topic_dirn`` (at N ≤ 20 the seed's direction tree is one leaf, i.e. exactly this scan).

The inert geometry (metric, connection, transporter, context attention pool) is attached only
when ``with_geometry=True``; it is built under a forked RNG so the main path is initialised
identically either way, and nothing in the read/write path calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from memnb.ams.bundles import ContextEncoder, TimeEncoder, TopicEncoder, topic_centroid
from memnb.ams.cross_bundle import CrossBundleAttention
from memnb.ams.sessions import pooled_hidden


@dataclass
class Store:
    texts: list[str]
    ids: list[list[int]]
    h: torch.Tensor  # (M, D)
    c: torch.Tensor  # (M, D)
    base: dict[str, torch.Tensor]
    fiber: dict[str, torch.Tensor]
    dirn: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return len(self.texts)


class AMS(nn.Module):
    def __init__(
        self,
        lm: nn.Module,
        tok,
        *,
        scale_mode: str = "learnable",
        symmetric_query: bool = False,
        with_geometry: bool = False,
    ) -> None:
        super().__init__()
        self.lm, self.tok = [lm], tok  # a list: the frozen LM is not a submodule (not trained or saved)
        wte = lm.get_input_embeddings().weight.detach()
        D = wte.shape[1]
        self.register_buffer("wte_unit", F.normalize(wte, dim=-1), persistent=False)
        self.emb_norm = float(wte.norm(dim=-1).mean())
        self.time = TimeEncoder(D)
        self.topic = TopicEncoder(D)
        self.ctx = ContextEncoder(D)
        self.axes_raw = nn.ParameterDict(
            {b: nn.Parameter(0.1 * torch.randn(d)) for b, d in (("time", 8), ("topic", 16), ("ctx", 12))}
        )
        self.cross = CrossBundleAttention(D, scale_mode=scale_mode, emb_norm=self.emb_norm)
        self.symmetric_query = symmetric_query
        self.geometry = None
        if with_geometry:
            from memnb.ams.geometry import InertGeometry

            with torch.random.fork_rng():
                self.geometry = InertGeometry(D)
        self._h: dict[str, torch.Tensor] = {}

    # -- frozen-LM features --------------------------------------------------------------
    @property
    def backbone(self) -> nn.Module:
        return self.lm[0]

    @torch.no_grad()
    def pooled(self, text: str) -> torch.Tensor:
        """Mean of the frozen LM's last-layer hidden states over the text's tokens (cached)."""
        if text not in self._h:
            self._h[text] = pooled_hidden(self.backbone, self.tok, [text])[0]
        return self._h[text]

    @torch.no_grad()
    def pool(self, texts: list[str], batch_size: int = 32) -> None:
        """Read the texts not yet cached ``batch_size`` at a time into the cache ``pooled`` reads
        (the frozen LM is the cost of a write, so a run reads its texts in batches up front)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._h]
        if todo:
            self._h.update(zip(todo, pooled_hidden(self.backbone, self.tok, todo, batch_size=batch_size), strict=True))

    def axis(self, bundle: str) -> torch.Tensor:
        return F.normalize(self.axes_raw[bundle], dim=0)

    # -- write -----------------------------------------------------------------------------
    def encode(self, texts: list[str], *, summary: str = "ema") -> Store:
        """Bundle triples for ``texts`` written in order (``summary``: "ema" at inference,
        "self" = ``S = h`` as in the seed's training step). Gradients flow into the encoders."""
        ids = [self.tok.encode(t) for t in texts]
        h = torch.stack([self.pooled(t) for t in texts])
        c = torch.stack([topic_centroid(self.wte_unit, i) for i in ids])
        if summary == "self":
            S = h
        elif summary == "ema":
            rows, s = [], h[0]
            for i in range(len(texts)):
                s = h[0] if i == 0 else 0.7 * s + 0.3 * h[i]
                rows.append(s)
            S = torch.stack(rows)
        else:
            raise ValueError(f"summary must be 'ema' or 'self', got {summary!r}")
        ts = torch.arange(len(texts))
        out = {"time": self.time(h, ts), "topic": self.topic(h, c), "ctx": self.ctx(h, S)}
        return Store(
            list(texts),
            ids,
            h,
            c,
            {b: v[0] for b, v in out.items()},
            {b: v[1] for b, v in out.items()},
            {b: v[2] for b, v in out.items()},
        )

    @torch.no_grad()
    def write(self, texts: list[str]) -> Store:
        return self.encode(texts, summary="ema")

    # -- read ------------------------------------------------------------------------------
    def prefix(self, store: Store, prompt: str, keep: list[int] | None = None):
        """(prefix (12, D), attention weights per bundle (heads, M'))."""
        return self.cross(self.pooled(prompt), store.fiber, keep)

    def topic_query(self, question: str) -> torch.Tensor:
        ids = self.tok.encode(question) if self.symmetric_query else []
        c = topic_centroid(self.wte_unit, ids)
        return self.topic(self.pooled(question)[None], c[None])[2][0]

    @torch.no_grad()
    def topic_rank(self, store: Store, question: str) -> list[int]:
        s = store.dirn["topic"] @ self.topic_query(question)
        return sorted(range(len(store)), key=lambda i: (-float(s[i]), i))

    def n_params(self, *, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
