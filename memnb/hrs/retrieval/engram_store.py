"""The EGR engram store (HRS ``engram_store.py`` / ``populate_store.py``, book/appendix/hrs.md §3).

A text segment x_1..x_n is read by a frozen causal LM. The seed's key is the L2-normalised mean of
the hidden states after block ``extract_layer = −2`` of its 6-block model, i.e. after 5 of 6
blocks. Here the LM is the pretrained reader (SmolLM2-135M, 30 blocks) and the key is read at the
same relative depth, after 25 of 30 blocks (``key_layer``: ``hidden_states[25]``), **mean-centred**
over the store before normalising:

    m(x) = (1/(n−1)) Σ_{t=2..n} h_t^(layer),   key(x) = (m(x) − μ) / ||m(x) − μ||,   μ = mean of m over
    the store's distractors.

The first position is left out of the mean (``SKIP_FIRST``): in the reader, as in most pretrained
LMs, the state at position 1 carries a massive activation (norm ≈ 22,600 after 25 blocks against
≈ 460 at the other positions, chapter 31's pilot), so a plain mean is that vector divided by the
text's length, and every key encodes the length, not the text (the pilot: a needle's own first
sentence ranked it last among 20 distractors).

Mean-pooled states of a pretrained LM share one large common direction (every raw cosine is close
to 1); subtracting μ, which depends on no query, leaves the directions that tell texts apart
(the seed did not centre). The write score is the mean predictive entropy of the segment
(``entropy.entropy_bits``); the write gate stores a segment iff it exceeds a threshold (the seed:
4.0 bits, for GPT-2's 50,257-token vocabulary — the reader's 49,152 is of the same size). Search
is brute-force cosine similarity (``niah.similarities``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from memnb.eval.pooling import hidden_sums, n_layers_positions, unit
from memnb.hrs.retrieval.entropy import entropy_bits

SKIP_FIRST = 1  # positions left out of the mean (the first position's massive activation)
SEED_DEPTH = 5 / 6  # the seed's keys: after block index 4 (extract_layer = -2) of 6 blocks


@dataclass
class Encoded:
    means: np.ndarray  # [N, d] mean hidden state per segment (float64, raw)
    entropy: np.ndarray  # [N] mean predictive entropy per segment, bits


def key_layer(model: nn.Module) -> int:
    """The ``hidden_states`` index at the seed's relative depth (after 5/6 of the blocks)."""
    return round(n_layers_positions(model)[0] * SEED_DEPTH)


def token_lists(tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids of each text, no special tokens (a ``transformers`` tokenizer, or a ``tokenizers``
    one with ``encode_batch``)."""
    if hasattr(tokenizer, "encode_batch"):
        return tokenizer.encode_batch(texts)
    return tokenizer(list(texts), add_special_tokens=False).input_ids


def encode(
    model: nn.Module, token_lists: list[list[int]], *, layer: int, batch_size: int = 16, skip_first: int = SKIP_FIRST
) -> Encoded:
    """Mean hidden states (positions ``skip_first`` on) and mean entropies (every position) of token
    segments under a ``transformers`` causal LM, from one forward pass per right-padded batch
    (``memnb.eval.pooling.hidden_sums``; padding is masked out). Segments longer than the model's
    positions are cut to fit."""
    cut = [t[: n_layers_positions(model)[1]] for t in token_lists]
    s = hidden_sums(
        model, cut, layer=layer, batch_size=batch_size, sort=True, logit_stat=entropy_bits, skip_first=skip_first
    )
    return Encoded(s.hidden / s.counts[:, None], s.stat / s.stat_counts)


def keys(means: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """Unit-norm keys of mean states, after subtracting ``centre`` (``None``: the seed's raw keys)."""
    m = np.asarray(means, dtype=np.float64)
    return unit(m - centre if centre is not None else m)


def gate(entropy: np.ndarray, threshold: float) -> np.ndarray:
    """The write gate: which segments are stored (mean entropy > threshold, bits)."""
    return np.asarray(entropy) > threshold
