"""The EGR needle-in-a-haystack test (HRS ``niah_egr.py``; redesigned for the weaknesses in
book/appendix/hrs.md §3 and issue 19).

For each needle: a fresh store holds the needle and ``n`` distractors, each written only if the
entropy gate lets it through (``engram_store.gate``); the query's key is compared with every
stored key and the needle's rank recorded (a needle the gate did not store is a miss). Per
condition this gives recall@1, recall@5 and the mean reciprocal rank (MRR, a miss counting 0).
Conditions: the distractor pool (``places``: paragraphs about other invented places in the needles'
register, ``haystack.places``; or ``needles``: *other needles* from the same template), the number
of distractors, the query (the question naming the needle, or a paraphrase sharing no content
word with it), and the retriever: ``reader`` (the pretrained reader's mean state at the seed's
relative depth, mean-centred: ``engram_store.keys``), ``reader_raw`` (the same, uncentred, as the
seed keyed), and the two lexical baselines a reader would try first, with no model at all:
``bm25`` (Okapi BM25 on lower-cased words, ``rank_bm25``) and ``tfidf`` (character 3–5-gram
TF-IDF cosine). Chance recall@1 with n distractors is 1 / (n + 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from memnb.hrs.retrieval.engram_store import Encoded, encode, keys, token_lists
from memnb.hrs.retrieval.needles import Needle

QUERIES = ("question", "paraphrase")
POOLS = ("places", "needles")
RETRIEVERS = ("reader", "reader_raw", "bm25", "tfidf")


@dataclass
class Sims:
    """Cosine similarities of one key function, for one query type: every needle's query against
    every needle text ``[M, M]`` and against every pool passage ``[M, P]``."""

    needles: np.ndarray
    pool: np.ndarray


def similarities(docs: np.ndarray, pool: np.ndarray, queries: dict[str, np.ndarray]) -> dict[str, Sims]:
    """``Sims`` per query type from unit-norm keys (dense arrays or scipy sparse matrices)."""

    def dense(x):
        return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)

    return {q: Sims(dense(k @ docs.T), dense(k @ pool.T)) for q, k in queries.items()}


def passages(texts: list[str], words: int) -> list[str]:
    """Consecutive passages of ``words`` words from each text (the remainder of a text is dropped)."""
    if words < 1:
        raise ValueError(f"words must be >= 1, got {words}")
    out = []
    for text in texts:
        w = text.split()
        out += [" ".join(w[i : i + words]) for i in range(0, len(w) - words + 1, words)]
    return out


def model_sims(
    model: nn.Module, tok, needles: list[Needle], pool: Encoded, *, layer: int, batch_size: int = 16
) -> tuple[dict[str, dict[str, Sims]], dict]:
    """``{"reader": Sims per query, "reader_raw": ...}`` from an LM's keys (``pool``: the distractor
    passages already encoded by ``engram_store.encode`` at the same layer; the centre is the mean of
    their states), and the mean entropies (bits) of the needle texts and the pool passages."""

    def enc(texts: list[str]) -> Encoded:
        return encode(model, token_lists(tok, texts), layer=layer, batch_size=batch_size)

    docs = enc([n.text for n in needles])
    queries = {q: enc([getattr(n, q) for n in needles]).means for q in QUERIES}
    out = {}
    for name, centre in (("reader", pool.means.mean(0)), ("reader_raw", None)):
        qk = {q: keys(m, centre) for q, m in queries.items()}
        out[name] = similarities(keys(docs.means, centre), keys(pool.means, centre), qk)
    return out, {"needles": docs.entropy, "pool": pool.entropy}


def tfidf_sims(needles: list[Needle], pool: list[str]) -> dict[str, Sims]:
    """``Sims`` per query type from character 3-5-gram TF-IDF vectors (L2-normalised, sparse),
    fitted on the documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vec.fit([n.text for n in needles] + pool)
    queries = {
        "question": vec.transform([n.question for n in needles]),
        "paraphrase": vec.transform([n.paraphrase for n in needles]),
    }
    return similarities(vec.transform([n.text for n in needles]), vec.transform(pool), queries)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def bm25_sims(needles: list[Needle], pool: list[str]) -> dict[str, Sims]:
    """``Sims`` per query type holding Okapi BM25 scores (``rank_bm25.BM25Okapi``, k1 = 1.5,
    b = 0.75, on lower-cased words), the index built over the needle texts and the pool together."""
    from rank_bm25 import BM25Okapi

    docs = [n.text for n in needles]
    bm = BM25Okapi([_words(t) for t in docs + pool])
    out = {}
    for q in QUERIES:
        s = np.stack([bm.get_scores(_words(getattr(n, q))) for n in needles]).astype(np.float64)
        out[q] = Sims(s[:, : len(docs)], s[:, len(docs) :])
    return out


def needle_ranks(
    sims: dict[str, Sims],
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
    without replacement by ``seed`` (for the ``needles`` pool: from the other needles); a rank
    counts ties against the needle."""
    if pool not in POOLS or query not in QUERIES:
        raise ValueError(f"pool must be one of {POOLS} and query one of {QUERIES}, got {pool!r}, {query!r}")
    s = sims[query]
    cand, cand_stored = (s.pool, stored["pool"]) if pool == "places" else (s.needles, stored["needles"])
    available = cand.shape[1] - (pool == "needles")
    if n_distractors > available or n_needles > s.needles.shape[0]:
        raise ValueError(
            f"{pool} pool has {available} distractors and {s.needles.shape[0]} needles; "
            f"asked for {n_distractors} distractors and {n_needles} needles"
        )
    rng = np.random.default_rng(seed)
    ranks = np.zeros(n_needles, dtype=int)
    for i in range(n_needles):
        if not stored["needles"][i]:
            continue
        choices = np.arange(cand.shape[1]) if pool == "places" else np.delete(np.arange(cand.shape[1]), i)
        pick = rng.choice(choices, n_distractors, replace=False)
        pick = pick[cand_stored[pick]]
        ranks[i] = 1 + int((cand[i, pick] >= s.needles[i, i]).sum())
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
