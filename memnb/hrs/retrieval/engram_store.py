"""The EGR engram store (HRS ``engram_store.py`` / ``populate_store.py``, digest hrs.md §3).

A text segment x_1..x_n is read by a frozen causal LM. Its key is the L2-normalised mean of the
hidden states after block ``layer`` (seed: block 4 of GPT-2's 12),

    key(x) = m / ||m||,   m = (1/n) Σ_t h_t^(layer),

and its write score is the mean predictive entropy of the segment (``entropy.entropy_bits``).
The write gate stores a segment iff its mean entropy exceeds a threshold. The seed used 4.0 bits
for GPT-2's 50k vocabulary, which stored ~90% of segments; the book calibrates the threshold as
a percentile of held-out segment entropies instead. Search is brute-force cosine similarity
(``niah.similarities``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from memnb.hrs.retrieval.entropy import entropy_bits


@dataclass
class Encoded:
    keys: np.ndarray  # [N, d] unit-norm keys
    entropy: np.ndarray  # [N] mean predictive entropy per segment, bits


@torch.inference_mode()
def encode(model: nn.Module, token_lists: list[list[int]], *, layer: int, batch_size: int = 32) -> Encoded:
    """Keys and mean entropies of token segments under a ``transformers`` causal LM.

    Segments are right-padded in batches; padding is masked out of the mean (a causal model's
    states at real tokens do not depend on later padding). Segments longer than the model's
    positions are cut to ``model.config.n_positions`` tokens."""
    n_layers = model.config.n_layer
    if not 0 <= layer <= n_layers:
        raise ValueError(f"layer must be in 0..{n_layers} (0 = embeddings), got {layer}")
    if any(len(t) == 0 for t in token_lists):
        raise ValueError("every segment needs at least one token")
    limit = model.config.n_positions
    keys, ents = [], []
    for i in range(0, len(token_lists), batch_size):
        batch = [t[:limit] for t in token_lists[i : i + batch_size]]
        width = max(len(t) for t in batch)
        ids = torch.zeros(len(batch), width, dtype=torch.long)
        mask = torch.zeros(len(batch), width)
        for j, t in enumerate(batch):
            ids[j, : len(t)] = torch.tensor(t)
            mask[j, : len(t)] = 1.0
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        h = out.hidden_states[layer]
        m = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        keys.append(torch.nn.functional.normalize(m, dim=-1))
        ents.append((entropy_bits(out.logits) * mask).sum(1) / mask.sum(1))
    return Encoded(torch.cat(keys).numpy().astype(np.float64), torch.cat(ents).numpy().astype(np.float64))


def gate(entropy: np.ndarray, threshold: float) -> np.ndarray:
    """The write gate: which segments are stored (mean entropy > threshold, bits)."""
    return np.asarray(entropy) > threshold
