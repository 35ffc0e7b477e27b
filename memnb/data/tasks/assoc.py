"""Associative recall: key->value pairs, then one or more keys to look up.

``k1 v1 k2 v2 ... kP vP <sep> q1 => a1  q2 => a2 ... <eos>``: keys are distinct within an
example, values are uniform (they may repeat), queries are distinct keys from the list and
every answer (and the closing ``<eos>``) is scored. ``meta["query_index"]`` gives the pair
index of each query (0 = the first pair, the furthest back).

>>> make_assoc_recall(1, seed=0, n_pairs=3).show()
'k11 v57 k3 v19 k20 v57 <sep> k11 => v57 <eos>'
"""

from __future__ import annotations

from functools import cache

import numpy as np

from memnb.data.tasks.base import (
    EOS,
    PAD,
    SEP,
    TaskBatch,
    TaskRange,
    TaskVocab,
    as_range,
    build_batch,
    check_int,
    check_n,
    check_seed,
    grouped,
    sample_sizes,
)
from memnb.seeding import rng as make_rng

RANGES = {
    "assoc_recall": TaskRange("n_pairs", (2, 16), (24, 32, 64), "ours (Drex's recall task uses 5 pairs)"),
}


@cache
def assoc_vocab(n_keys: int, n_values: int) -> TaskVocab:
    return TaskVocab((PAD, EOS, SEP) + tuple(f"k{i}" for i in range(n_keys)) + tuple(f"v{i}" for i in range(n_values)))


def make_assoc_recall(
    n: int,
    *,
    seed: int,
    n_pairs: int | tuple[int, int] = RANGES["assoc_recall"].iid,
    n_queries: int = 1,
    n_keys: int = 64,
    n_values: int = 64,
) -> TaskBatch:
    """``n`` recall examples with ``n_pairs`` pairs and ``n_queries`` queries each."""
    check_n(n)
    check_seed(seed)
    v = assoc_vocab(check_int("n_keys", n_keys, 1, 65536), check_int("n_values", n_values, 1, 65536))
    bounds = as_range("n_pairs", n_pairs, 1, n_keys)
    n_queries = check_int("n_queries", n_queries, 1, bounds[0])
    rng = make_rng(seed)
    sizes = sample_sizes(rng, bounds, n)
    key0, value0 = v.id("k0"), v.id("v0")

    def make(rows: np.ndarray, p: int):
        m = len(rows)
        keys = key0 + np.argsort(rng.random((m, n_keys)), axis=1)[:, :p]
        values = value0 + rng.integers(0, n_values, size=(m, p))
        asked = np.argsort(rng.random((m, p)), axis=1)[:, :n_queries]
        pairs = np.stack([keys, values], axis=2).reshape(m, 2 * p)
        queries = np.stack([np.take_along_axis(keys, asked, 1), np.take_along_axis(values, asked, 1)], axis=2)
        seq = np.concatenate([pairs, np.full((m, 1), v.sep), queries.reshape(m, -1), np.full((m, 1), v.eos)], axis=1)
        mask = np.zeros_like(seq, dtype=bool)
        mask[:, 2 * p + 2 :: 2] = True  # every answer, then <eos>
        mask[:, -1] = True
        return list(seq), list(mask), {"query_index": asked.tolist()}

    seqs, scored, meta = grouped(sizes, make)
    meta = {
        "n_pairs": sizes.tolist(),
        "split": RANGES["assoc_recall"].split_of(sizes),
        "n_queries": [n_queries] * n,
        **meta,
    }
    return build_batch(seqs, scored, v, meta, "assoc_recall")
