"""Multi-needle in a haystack: several key->value needles in filler, one of them queried.

Each needle is ``<key> k v``; keys and values are distinct within an example, so the
queried value occurs only in its needle and in the answer. The sequence ends
``<query> k => v <eos>``. The queried needle sits at ``depth`` (a fraction of the filler);
the ``n_distractors`` other needles are placed uniformly at random.

>>> make_niah(1, seed=0, length=24, n_distractors=1, depth=0.0).show()
'<key> k11 v27 w14 w3 w12 w15 <key> k3 v21 w0 w5 w10 w1 w8 w10 w12 w14 w6 w7 w7 <query> k11 => v27 <eos>'
"""

from __future__ import annotations

from functools import cache

import numpy as np

from memnb.data.tasks.base import (
    EOS,
    KEY,
    PAD,
    QUERY,
    TaskBatch,
    TaskRange,
    TaskVocab,
    as_float_range,
    as_range,
    build_batch,
    check_int,
    check_n,
    check_seed,
    grouped,
    insert_pieces,
    sample_sizes,
)
from memnb.seeding import rng as make_rng

RANGES = {"niah": TaskRange("length", (256, 1024), (2048, 4096, 8192), "ours (the seeds test 1k-16k tokens)")}
MAX_LENGTH = 1 << 20


@cache
def niah_vocab(n_keys: int, n_values: int, n_filler: int) -> TaskVocab:
    names = [f"k{i}" for i in range(n_keys)] + [f"v{i}" for i in range(n_values)] + [f"w{i}" for i in range(n_filler)]
    return TaskVocab((PAD, EOS, KEY, QUERY) + tuple(names))


def _distinct(rng: np.random.Generator, rows: int, pool: int, k: int) -> np.ndarray:
    """``[rows, k]`` draws without replacement from ``range(pool)``, independently per row."""
    return np.argsort(rng.random((rows, pool)), axis=1)[:, :k]


def make_niah(
    n: int,
    *,
    seed: int,
    length: int | tuple[int, int] = RANGES["niah"].iid,
    n_distractors: int = 3,
    depth: float | tuple[float, float] = (0.0, 1.0),
    n_keys: int = 32,
    n_values: int = 32,
    n_filler: int = 16,
) -> TaskBatch:
    """``n`` multi-needle examples of ``length`` inputs (see the module doc)."""
    check_n(n)
    check_seed(seed)
    v = niah_vocab(
        check_int("n_keys", n_keys, 1, 65536), check_int("n_values", n_values, 1, 65536),
        check_int("n_filler", n_filler, 1, 65536),
    )  # fmt: skip
    n_needles = check_int("n_distractors", n_distractors, 0, min(n_keys, n_values) - 1) + 1
    bounds = as_range("length", length, 3 * n_needles + 4, MAX_LENGTH)
    depth_bounds = as_float_range("depth", depth, 0.0, 1.0)
    rng = make_rng(seed)
    sizes = sample_sizes(rng, bounds, n)
    key0, value0, filler0 = v.id("k0"), v.id("v0"), v.id("w0")

    def make(rows: np.ndarray, size: int):
        m, f = len(rows), size - 3 * n_needles - 3  # filler + needles + <query> k v <eos> = size + 1
        keys = key0 + _distinct(rng, m, n_keys, n_needles)
        values = value0 + _distinct(rng, m, n_values, n_needles)
        needles = np.stack([np.full((m, n_needles), v.key), keys, values], axis=2)
        gaps = rng.integers(0, f + 1, size=(m, n_needles))
        gaps[:, 0] = np.rint(rng.uniform(*depth_bounds, size=m) * f)
        haystack, starts = insert_pieces(rng.integers(filler0, filler0 + n_filler, size=(m, f)), needles, gaps)
        tail = np.stack([np.full(m, v.query), keys[:, 0], values[:, 0], np.full(m, v.eos)], axis=1)
        seq = np.concatenate([haystack, tail], axis=1)
        mask = np.zeros_like(seq, dtype=bool)
        mask[:, -2:] = True
        meta = {"depth": (gaps[:, 0] / f).tolist(), "needle_pos": starts[:, 0].tolist()}
        return list(seq), list(mask), meta

    seqs, scored, meta = grouped(sizes, make)
    meta = {
        "length": sizes.tolist(),
        "split": RANGES["niah"].split_of(sizes),
        "n_distractors": [n_distractors] * n,
        **meta,
    }
    return build_batch(seqs, scored, v, meta, "niah")
