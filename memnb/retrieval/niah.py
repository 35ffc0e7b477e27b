"""The EGR needle-in-a-haystack test (HRS ``niah_egr.py``; redesigned per the digest, hrs.md §3, §9 B).

For each needle: a fresh store holds the needle and ``n`` distractors, each written only if the
entropy gate lets it through (``engram_store.gate``); the query's key is compared with every
stored key by cosine similarity and the needle's rank recorded (a needle the gate did not store
is a miss). Per condition this gives recall@1, recall@5 and the mean reciprocal rank (MRR, a
miss counting 0). Conditions: the distractor pool (held-out Shakespeare passages, as the seed's
unrelated paragraphs; or *other needles* written from the same template), the number of
distractors, the query (the question naming the needle, or a paraphrase with no invented word),
and the key function (``backbone``: the frozen LM's mid-layer mean state, as the seed;
``random_init``: the same architecture untrained; ``tfidf``: character 3-5-gram TF-IDF, a
lexical baseline with no model at all). Chance recall@1 with n distractors is 1 / (n + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from memnb.retrieval.engram_store import cosine_ranks, encode
from memnb.retrieval.needles import Needle

QUERIES = ("question", "paraphrase")
POOLS = ("shakespeare", "needles")


@dataclass
class Keys:
    """Unit-norm keys of one key function: needle texts, their two queries, and the passage pool."""

    needles: np.ndarray
    question: np.ndarray
    paraphrase: np.ndarray
    pool: np.ndarray


def passages(texts: list[str], words: int) -> list[str]:
    """Consecutive passages of ``words`` words from each text (the remainder of a text is dropped)."""
    if words < 1:
        raise ValueError(f"words must be >= 1, got {words}")
    out = []
    for text in texts:
        w = text.split()
        out += [" ".join(w[i : i + words]) for i in range(0, len(w) - words + 1, words)]
    return out


def model_keys(model: nn.Module, tok, needles: list[Needle], pool: list[str], *, layer: int) -> tuple[Keys, dict]:
    """Keys from a ``transformers`` LM, and the mean entropies (bits) of needles and pool."""

    def enc(texts: list[str]):
        return encode(model, tok.encode_batch(texts), layer=layer)

    docs, q, p, pl = (
        enc(t)
        for t in ([n.text for n in needles], [n.question for n in needles], [n.paraphrase for n in needles], pool)
    )
    return Keys(docs.keys, q.keys, p.keys, pl.keys), {"needles": docs.entropy, "pool": pl.entropy}


def tfidf_keys(needles: list[Needle], pool: list[str]) -> Keys:
    """Character 3-5-gram TF-IDF vectors (L2-normalised), fitted on the documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vec.fit([n.text for n in needles] + pool)

    def dense(texts: list[str]) -> np.ndarray:
        return vec.transform(texts).toarray()

    return Keys(
        dense([n.text for n in needles]),
        dense([n.question for n in needles]),
        dense([n.paraphrase for n in needles]),
        dense(pool),
    )


def needle_ranks(
    keys: Keys,
    stored: dict[str, np.ndarray],
    *,
    pool: str,
    n_distractors: int,
    query: str,
    n_needles: int,
    seed: int,
) -> np.ndarray:
    """Rank (1 = first) of each of the first ``n_needles`` needles in its own store; 0 = not stored.

    ``stored`` holds the gate's decisions for ``"needles"`` and ``"pool"``. Distractors are drawn
    without replacement by ``seed`` (for the ``needles`` pool: from the other needles)."""
    if pool not in POOLS or query not in QUERIES:
        raise ValueError(f"pool must be one of {POOLS} and query one of {QUERIES}, got {pool!r}, {query!r}")
    cand_keys, cand_stored = (keys.pool, stored["pool"]) if pool == "shakespeare" else (keys.needles, stored["needles"])
    available = len(cand_keys) - (pool == "needles")
    if n_distractors > available or n_needles > len(keys.needles):
        raise ValueError(
            f"{pool} pool has {available} distractors and {len(keys.needles)} needles; "
            f"asked for {n_distractors} distractors and {n_needles} needles"
        )
    rng = np.random.default_rng(seed)
    q_keys = getattr(keys, query)
    ranks = np.zeros(n_needles, dtype=int)
    for i in range(n_needles):
        if not stored["needles"][i]:
            continue
        choices = np.arange(len(cand_keys)) if pool == "shakespeare" else np.delete(np.arange(len(cand_keys)), i)
        pick = rng.choice(choices, n_distractors, replace=False)
        pick = pick[cand_stored[pick]]
        ranks[i] = cosine_ranks(q_keys[i], np.vstack([keys.needles[i : i + 1], cand_keys[pick]]), 0)
    return ranks


def scores(ranks: np.ndarray) -> dict[str, float]:
    """recall@1, recall@5 and MRR of needle ranks (0 = miss)."""
    ranks = np.asarray(ranks)
    hit = ranks > 0
    return {
        "recall1": float(np.mean(ranks == 1)),
        "recall5": float(np.mean(hit & (ranks <= 5))),
        "mrr": float(np.mean(np.where(hit, 1.0 / np.maximum(ranks, 1), 0.0))),
    }
