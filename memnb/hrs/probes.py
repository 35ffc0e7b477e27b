"""Probes of an ``EngramLM``: does the past read the future, and what does cross-attention read?

**Causality probe** (chapter 30; the leak it detects: book/appendix/hrs.md §3). For a batch of
sequences x and an edit position s, let x' equal x except x'_s = (x_s + 1) mod V. A causal
language model's logits at positions t < s (which predict tokens ≤ s) cannot depend on x_s, so

    Δ(s) = max_{b, t < s, v} | logit_{b,t,v}(x') − logit_{b,t,v}(x) |

is exactly 0 (the masked attention weights are exactly 0). Any Δ > 0 is a path from a future
token to an earlier prediction: a leak.

**Cross-attention diagnostics** (book/appendix/hrs.md §3). For each gated cross-attention layer:
the gate σ(a), the mean entropy of the attention over memory slots (log m when uniform, which
V18's m = 32 identical slots force), and the spread of the layer's output over all tokens of all
sequences, max_i ‖y_i − ȳ‖ / ‖ȳ‖ (0 when the layer adds the same vector to every token).

**PEER check** (``peer_check``): HRS's FFN, built at a chapter's width and compared with its
all-experts reference (``memnb.layers.peer``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import torch

from memnb.eval import probes
from memnb.hrs.model import EngramConfig, EngramLM


def causality_probe(model: EngramLM, x: torch.Tensor, positions: Sequence[int], *, engram: str = "present") -> float:
    """max over edit positions s of Δ(s) (see the module docstring), in eval mode
    (``memnb.eval.probes.future_leak``)."""
    return probes.future_leak(model, x, positions, edit=probes.next_token(model.cfg.vocab_size), engram=engram)


@torch.no_grad()
def cross_attention_stats(model: EngramLM, x: torch.Tensor) -> list[dict]:
    """One row per cross-attention layer: gate, mean attention entropy (nats), log(slots),
    relative output spread over tokens (see the module docstring); engram present, eval mode."""
    layers = [(i, b.xattn) for i, b in enumerate(model.blocks) if b.xattn is not None]
    captured: dict[int, tuple] = {}
    hooks = [
        layer.register_forward_hook(lambda mod, args, out, i=i: captured.__setitem__(i, (args[0], args[1], out)))
        for i, layer in layers
    ]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    rows = []
    for i, layer in layers:
        if i not in captured:  # no memory this pass (e.g. sequence shorter than one window)
            continue
        h, mem, y = captured[i]
        q = layer.q_proj(layer.ln(h)).unflatten(-1, (layer.n_heads, -1)).transpose(1, 2)
        k = layer.kv_proj(mem).chunk(2, dim=-1)[0].unflatten(-1, (layer.n_heads, -1)).transpose(1, 2)
        k = k.expand(q.size(0), -1, -1, -1)
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)), dim=-1)
        entropy = float(-(w * w.clamp_min(1e-30).log()).sum(-1).mean())
        flat = y.reshape(-1, y.size(-1))
        mean = flat.mean(0)
        spread = float((flat - mean).norm(dim=-1).max() / mean.norm().clamp_min(1e-30))
        gate = float(layer.gate_fn(layer.gate_logit))
        rows.append(
            {
                "layer": i,
                "gate": gate,
                "entropy": entropy,
                "max_entropy": math.log(mem.size(1)),
                "output_spread": spread,
            }
        )
    return rows


@torch.no_grad()
def peer_check(cfg: EngramConfig, x: torch.Tensor, *, seed: int) -> dict[str, float]:
    """The PEER FFN (``ffn="peer"``) of an untrained model built from ``cfg`` with ``seed``:
    its size, the largest relative difference between the product-key layer and the same layer
    scored over all n² experts (``PEER.dense_reference``) on the blocks' inputs for ``x``, and
    the causality probe of the whole model (0 when causal)."""
    torch.manual_seed(seed)
    model = EngramLM(dataclasses.replace(cfg, ffn="peer")).eval()
    peer = model.blocks[0].mlp
    h = model.blocks[0].ln2(model.embed(x))
    fast, dense = peer(h), peer.dense_reference(h)
    return {
        "experts per layer": peer.n_experts,
        "active experts per token": peer.n_heads * peer.top_k,
        "PEER parameters per layer": sum(p.numel() for p in peer.parameters()),
        "max relative difference, product keys vs all experts": float((fast - dense).norm() / dense.norm()),
        "causality probe (0 = causal)": causality_probe(model, x, [x.size(1) // 2, x.size(1) - 1]),
    }
