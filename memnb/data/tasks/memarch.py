"""The memory-architectures tasks: long-range dependencies over growing lengths.

The seed's README names the tasks (bracket matching, copying, repeated elements, random
tokens as the case where memory should not help) but its code is not available; these are
our reconstruction (book/appendix/memarch.md §1, §3): ``length`` is the number of content tokens,
trained at ``length <= 64`` and tested up to 256, with small vocabularies.

- ``mem_brackets``: bracket strings with ``n_types`` kinds. ``mode="classify"``: is the
  string well nested (``( [ ] ) <sep> => yes``)? Negatives keep every count equal (a swapped
  pair that breaks a prefix, or two closers of different kinds swapped so they cross).
  ``mode="match"``: every closing bracket is given as ``<close>`` and the model must name it
  (``( [ <close> => ]``): a dense stack-memory target, ``meta["distance"]`` per closer.
- ``mem_copy``: ``x <sep> x <eos>``, scored on the copy.
- ``mem_repeat``: ``x_1 ... x_L <sep> => yes|no``: did ``x_L`` occur earlier? Balanced labels;
  ``n_symbols >= length`` so that a "no" is always possible.
- ``mem_random``: uniform tokens, every next token scored: the irreducible loss is
  ``ln(n_symbols)`` (``meta["entropy"]``), so any model that beats it is reading the future.
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
    check_choice,
    check_int,
    check_n,
    check_seed,
    grouped,
    sample_sizes,
)
from memnb.data.tasks.dyck import matching, prefix_violating_swap, random_dyck
from memnb.seeding import rng as make_rng

CLOSE = "<close>"
BRACKETS = (("(", ")"), ("[", "]"), ("{", "}"), ("<", ">"))
BRACKET_VOCAB = TaskVocab((PAD, EOS, SEP, CLOSE, "yes", "no") + tuple(c for pair in BRACKETS for c in pair))

_SOURCE = "memory-architectures README (our reconstruction): L in 32..256, train L <= 64"
RANGES = {
    name: TaskRange("length", (16, 64), (128, 256), _SOURCE)
    for name in ("mem_brackets", "mem_copy", "mem_repeat", "mem_random")
}
MAX_LENGTH = 8192


@cache
def symbol_vocab(n_symbols: int, extra: tuple[str, ...] = ()) -> TaskVocab:
    """``<pad> <eos> <sep>``, then ``extra``, then ``t0 ... t{n_symbols-1}``."""
    return TaskVocab((PAD, EOS, SEP) + extra + tuple(f"t{i}" for i in range(n_symbols)))


def _setup(task: str, n: int, seed: int, length, lo: int = 1, step: int = 1):
    check_n(n)
    check_seed(seed)
    bounds = as_range("length", length, lo, MAX_LENGTH)
    if step > 1 and (bounds[0] % step or bounds[1] % step):
        raise ValueError(f"length must be even for {task}, got {length!r}")
    rng = make_rng(seed)
    return rng, sample_sizes(rng, bounds, n, step)


def _column(rows: int, token: int) -> np.ndarray:
    return np.full((rows, 1), token, dtype=np.int64)


def _split_meta(task: str, sizes: np.ndarray) -> dict:
    return {"length": sizes.tolist(), "split": RANGES[task].split_of(sizes)}


def make_mem_brackets(
    n: int,
    *,
    seed: int,
    length: int | tuple[int, int] = RANGES["mem_brackets"].iid,
    n_types: int = 2,
    mode: str = "classify",
) -> TaskBatch:
    """Bracket matching over ``length`` (even) brackets of ``n_types`` kinds; see the module doc."""
    rng, sizes = _setup("mem_brackets", n, seed, length, lo=2, step=2)
    n_types = check_int("n_types", n_types, 1, len(BRACKETS))
    check_choice("mode", mode, ("classify", "match"))
    v = BRACKET_VOCAB
    seqs, scored = [], []
    keys = ("max_depth", "distance") + (("label", "corruption") if mode == "classify" else ())
    meta: dict[str, list] = {k: [] for k in keys}
    for k in sizes:
        steps = random_dyck(rng, k // 2)
        match = matching(steps)
        kinds = rng.integers(0, n_types, size=k)
        kinds[steps == -1] = kinds[match[steps == -1]]
        meta["max_depth"].append(int(np.cumsum(steps).max()))
        meta["distance"].append((np.flatnonzero(steps == -1) - match[steps == -1]).tolist())
        if mode == "match":
            toks, marks = [], []
            for s, kind in zip(steps, kinds, strict=True):
                if s == 1:
                    toks.append(v.id(BRACKETS[kind][0]))
                    marks.append(False)
                else:
                    toks += [v.id(CLOSE), v.id(BRACKETS[kind][1])]
                    marks += [False, True]
            seqs.append(np.array(toks + [v.eos]))
            scored.append(np.array(marks + [False]))
            continue
        valid = bool(rng.random() < 0.5)
        corruption = None
        if not valid:
            closers = np.flatnonzero(steps == -1)
            crossable = len(set(kinds[closers].tolist())) > 1
            if crossable and rng.random() < 0.5:
                i, j = _crossing_pair(rng, closers, kinds)
                corruption = "crossing"
            else:
                i, j = prefix_violating_swap(rng, steps)
                corruption = "prefix"
            steps[[i, j]], kinds[[i, j]] = steps[[j, i]], kinds[[j, i]]
        chars = [BRACKETS[kind][0 if s == 1 else 1] for s, kind in zip(steps, kinds, strict=True)]
        seqs.append(np.array(v.encode(chars + [SEP, "yes" if valid else "no", EOS])))
        scored.append(np.r_[np.zeros(k + 1, bool), True, True])
        meta["label"].append(valid)
        meta["corruption"].append(corruption)
    return build_batch(seqs, scored, v, {**_split_meta("mem_brackets", sizes), **meta}, "mem_brackets")


def _crossing_pair(rng: np.random.Generator, closers: np.ndarray, kinds: np.ndarray) -> tuple[int, int]:
    """Two closing brackets of different kinds, in order. Swapping them puts a wrong closer
    at the first one (the innermost open bracket there is of the other kind)."""
    while True:
        i, j = sorted(rng.choice(closers, size=2, replace=False).tolist())
        if kinds[i] != kinds[j]:
            return i, j


def make_mem_copy(
    n: int, *, seed: int, length: int | tuple[int, int] = RANGES["mem_copy"].iid, n_symbols: int = 16
) -> TaskBatch:
    """Copy ``length`` uniform tokens: ``t3 t0 t7 <sep> => t3 t0 t7 <eos>``."""
    rng, sizes = _setup("mem_copy", n, seed, length)
    v = symbol_vocab(check_int("n_symbols", n_symbols, 2, 65536))
    base = v.id("t0")

    def make(rows: np.ndarray, k: int):
        x = base + rng.integers(0, n_symbols, size=(len(rows), k))
        seq = np.concatenate([x, _column(len(rows), v.sep), x, _column(len(rows), v.eos)], axis=1)
        mask = np.zeros_like(seq, dtype=bool)
        mask[:, k + 1 :] = True
        return list(seq), list(mask), {}

    seqs, scored, _ = grouped(sizes, make)
    return build_batch(seqs, scored, v, _split_meta("mem_copy", sizes), "mem_copy")


def make_mem_repeat(
    n: int, *, seed: int, length: int | tuple[int, int] = RANGES["mem_repeat"].iid, n_symbols: int = 512
) -> TaskBatch:
    """Has the last of ``length`` tokens occurred before? ``t5 t9 t2 t9 <sep> => yes <eos>``.

    The label is yes/no with probability 1/2: for "yes" the last token copies a uniformly
    chosen earlier position, for "no" it is a symbol absent from the prefix. ``meta["distance"]``
    is how far back its latest earlier occurrence is (-1 for "no"); ``meta["base_rate"]`` is the
    fraction of prefix tokens that repeat an earlier one (the chance rate of "seen" in the prefix).
    """
    rng, sizes = _setup("mem_repeat", n, seed, length, lo=2)
    n_symbols = check_int("n_symbols", n_symbols, 2, 65536)
    if n_symbols < sizes.max():
        raise ValueError(f"n_symbols must be >= length so that a 'no' is possible, got {n_symbols} < {sizes.max()}")
    v = symbol_vocab(n_symbols, ("yes", "no"))
    base = v.id("t0")

    def make(rows: np.ndarray, k: int):
        m = len(rows)
        x = rng.integers(0, n_symbols, size=(m, k))
        yes = rng.random(m) < 0.5
        earlier = rng.integers(0, k - 1, size=m)
        present = np.zeros((m, n_symbols), dtype=bool)
        np.put_along_axis(present, x[:, :-1], True, axis=1)
        absent_pick = np.argmax(np.where(present, -1.0, rng.random((m, n_symbols))), axis=1)
        x[:, -1] = np.where(yes, x[np.arange(m), earlier], absent_pick)
        hits = x[:, :-1] == x[:, -1:]
        last = np.where(hits.any(1), k - 1 - np.argmax(hits[:, ::-1], axis=1) - 1, -1)
        distance = np.where(yes, k - 1 - last, -1)
        n_distinct = present.sum(1)
        answer = np.where(yes, v.id("yes"), v.id("no"))[:, None]
        seq = np.concatenate([base + x, _column(m, v.sep), answer, _column(m, v.eos)], axis=1)
        mask = np.zeros_like(seq, dtype=bool)
        mask[:, -2:] = True
        meta = {
            "label": yes.tolist(),
            "distance": distance.tolist(),
            "base_rate": ((k - 1 - n_distinct) / (k - 1)).tolist(),
        }
        return list(seq), list(mask), meta

    seqs, scored, meta = grouped(sizes, make)
    return build_batch(seqs, scored, v, {**_split_meta("mem_repeat", sizes), **meta}, "mem_repeat")


def make_mem_random(
    n: int, *, seed: int, length: int | tuple[int, int] = RANGES["mem_random"].iid, n_symbols: int = 16
) -> TaskBatch:
    """Negative control: ``length + 1`` uniform tokens; all ``length`` next-token targets are scored.

    Nothing in the input predicts a target, so the best possible loss is ``ln(n_symbols)``.
    """
    rng, sizes = _setup("mem_random", n, seed, length)
    v = symbol_vocab(check_int("n_symbols", n_symbols, 2, 65536))
    base = v.id("t0")

    def make(rows: np.ndarray, k: int):
        seq = base + rng.integers(0, n_symbols, size=(len(rows), k + 1))
        mask = np.ones_like(seq, dtype=bool)
        mask[:, 0] = False
        return list(seq), list(mask), {}

    seqs, scored, _ = grouped(sizes, make)
    meta = {**_split_meta("mem_random", sizes), "entropy": [float(np.log(n_symbols))] * n}
    return build_batch(seqs, scored, v, meta, "mem_random")
