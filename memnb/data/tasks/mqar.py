"""Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology: Measuring and Improving
Recall in Efficient Language Models", §3), written here from the task's specification.

An example of ``seq_len = L`` inputs with ``n_pairs = P`` key-value pairs and vocabulary ``V``::

    k_1 v_1 k_2 v_2 ... k_P v_P | q . q . q . ...        (L − 2P query-region tokens)

- **Pairs.** The first 2P tokens are the pairs. Keys are distinct within an example, drawn from
  the key half ``[2, V/2)`` of the vocabulary (ids 0 and 1 are the book's ``<pad>`` and
  ``<eos>``: Zoology draws from ``[1, V/2)`` with 0 reserved, so the pool here is one key
  smaller); values are distinct within an example, from the value half ``[V/2, V)``.
- **Queries.** The query region has ``S = (L − 2P)/2`` slots of two tokens; slot ``j`` starts at
  position ``2P + 2j``. Every key is queried exactly once: the P slots are drawn without
  replacement with probability ∝ ``a·i^(a−1)`` for slot ``i = j + 1`` (a power law, ``a =
  power_a``; Zoology's default 0.01 puts most queries close to the pairs, ``a = 1`` is uniform),
  and key ``k_p`` goes to the ``p``-th slot drawn (``meta["query_slot"][p]``). The draw is the
  Gumbel-top-k form of sequential weighted sampling without replacement (Kool et al. 2019), the
  same distribution as drawing one slot at a time and renormalising.
- **Labels.** Every query is supervised: the target at a query's position is its key's value;
  every other target is ``IGNORE`` (−100). Per example P scored tokens.
- **Filler.** Every other position of the query region (the token after each query, and the
  unused slots) holds a token drawn uniformly from the whole vocabulary ``[0, V)``
  (``random_non_queries=True``, Zoology's default) or ``<pad>`` (False).

This task departs from the book's teacher-forcing convention (``base.py``: the answer is the next
input token) on purpose, as Zoology does: the token after a query is filler, not the value. With
each key queried once and distinct values, showing the values would let the last query be
answered by elimination.

The generator's checks are Zoology's asserts: L even, ``V > L`` (so a generalisation run at a
longer L needs a larger V), ``4P ≤ L`` (at least as many query slots as pairs), and enough keys.

>>> b = make_mqar(1, seed=0, seq_len=16, n_pairs=2, vocab_size=20, random_non_queries=False)
>>> b.vocab.render(b.inputs[0].tolist())
'k5 v3 k7 v2 <pad> <pad> k7 <pad> k5 <pad> <pad> <pad> <pad> <pad> <pad> <pad>'
>>> b.vocab.render(b.targets[0].tolist()), b.meta["query_slot"][0]
('v2 v3', [2, 1])
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from memnb.data.tasks.base import EOS, IGNORE, PAD, TaskBatch, TaskVocab, check_int, check_n, check_seed
from memnb.seeding import rng as make_rng

RESERVED = 2  # <pad>, <eos>: the first key id


@cache
def mqar_vocab(vocab_size: int) -> TaskVocab:
    """``<pad> <eos> k0 .. k_{V/2−3} v0 .. v_{V−V/2−1}``: keys fill ``[2, V/2)``, values ``[V/2, V)``."""
    half = vocab_size // 2
    keys = tuple(f"k{i}" for i in range(half - RESERVED))
    values = tuple(f"v{i}" for i in range(vocab_size - half))
    return TaskVocab((PAD, EOS) + keys + values)


def query_slot_probs(seq_len: int, n_pairs: int, power_a: float) -> np.ndarray:
    """The probability of each of the ``(seq_len − 2·n_pairs)/2`` query slots on one draw:
    ``p_i ∝ a·i^(a−1)``, ``i = 1 .. S`` (the first query's slot follows it exactly)."""
    i = np.arange(1, (seq_len - 2 * n_pairs) // 2 + 1, dtype=np.float64)
    p = power_a * i ** (power_a - 1)
    return p / p.sum()


def check_mqar(seq_len: int, n_pairs: int, vocab_size: int, power_a: float) -> None:
    """Zoology's asserts, each a one-line ValueError that names the fix."""
    seq_len = check_int("seq_len", seq_len, 4, 1 << 20)
    n_pairs = check_int("n_pairs", n_pairs, 1, 1 << 18)
    vocab_size = check_int("vocab_size", vocab_size, 5, 1 << 24)
    if seq_len % 2:
        raise ValueError(f"seq_len must be even, got {seq_len}; use {seq_len + 1}")
    if vocab_size <= seq_len:
        raise ValueError(
            f"vocab_size ({vocab_size}) must exceed seq_len ({seq_len}); raise vocab_size to >= {seq_len + 1}"
        )
    if 4 * n_pairs > seq_len:
        raise ValueError(
            f"4·n_pairs ({4 * n_pairs}) must be <= seq_len ({seq_len}); lower n_pairs to <= {seq_len // 4} "
            f"or raise seq_len to >= {4 * n_pairs}"
        )
    if vocab_size // 2 - RESERVED < n_pairs:
        raise ValueError(
            f"vocab_size ({vocab_size}) leaves {vocab_size // 2 - RESERVED} keys for {n_pairs} distinct keys; "
            f"raise vocab_size to >= {2 * (n_pairs + RESERVED)}"
        )
    if isinstance(power_a, bool) or not isinstance(power_a, int | float) or not power_a > 0:
        raise ValueError(f"power_a must be a number > 0 (1 = uniform slots), got {power_a!r}")


def _distinct(rng: np.random.Generator, n: int, pool: int, k: int) -> np.ndarray:
    """``[n, k]``: per row ``k`` distinct draws from ``range(pool)``, uniform, in random order."""
    return np.stack([rng.choice(pool, k, replace=False) for _ in range(n)]).astype(np.int64)


def make_mqar(
    n: int,
    *,
    seed: int,
    seq_len: int = 64,
    n_pairs: int = 4,
    vocab_size: int = 128,
    power_a: float = 0.01,
    random_non_queries: bool = True,
) -> TaskBatch:
    """``n`` MQAR examples of ``seq_len`` inputs with ``n_pairs`` pairs, every query scored."""
    check_n(n)
    check_seed(seed)
    check_mqar(seq_len, n_pairs, vocab_size, power_a)
    v = mqar_vocab(vocab_size)
    half, P, L = vocab_size // 2, n_pairs, seq_len
    rng = make_rng(seed)
    keys = RESERVED + _distinct(rng, n, half - RESERVED, P)
    values = half + _distinct(rng, n, vocab_size - half, P)
    p = query_slot_probs(L, P, float(power_a))
    gumbel = np.log(p)[None, :] - np.log(-np.log(rng.random((n, len(p)))))
    slots = np.argsort(-gumbel, axis=1, kind="stable")[:, :P]  # the p-th slot drawn holds key p
    if random_non_queries:
        inputs = rng.integers(0, vocab_size, size=(n, L))
    else:
        inputs = np.full((n, L), v.pad, dtype=np.int64)
    inputs[:, 0 : 2 * P : 2], inputs[:, 1 : 2 * P : 2] = keys, values
    rows = np.arange(n)[:, None]
    where = 2 * P + 2 * slots
    inputs[rows, where] = keys
    targets = np.full((n, L), IGNORE, dtype=np.int64)
    targets[rows, where] = values
    meta = {"seq_len": [L] * n, "n_pairs": [P] * n, "query_slot": slots.tolist()}
    return TaskBatch(torch.from_numpy(inputs.astype(np.int64)), torch.from_numpy(targets), v, meta, "mqar")
