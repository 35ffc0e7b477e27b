"""ReLSM's ten algorithmic tasks, one token per digit or symbol, in one shared vocabulary.

Every example reads ``<task>: <operands> <sep> <answer> <eos>`` and only the answer and
``<eos>`` are scored, as in ReLSM (loss on the answer + EOS). ReLSM writes the prompts in
English from 4-5 templates and tokenises with a LLaMA tokenizer; here the prompt is the bare
symbolic form, because the chapters train tiny models from scratch.

IID/OOD sizes (``task_ranges``) follow the CPU-scale sizes of book/appendix/relsm.md §4 for
parity, copy/reverse and addition, and ReLSM's final-phase grid for the others. Where ReLSM has no
OOD condition (chain, compare) the OOD values are ours and say so. Dyck is rebuilt: uniform
Dyck words, negatives with equal bracket counts, and longer words as the OOD condition.

>>> make_addition(2, seed=0, digits=3).show(0)
'addition: 8 6 5 + 3 3 0 <sep> => 1 1 9 5 <eos>'
"""

from __future__ import annotations

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
    check_n,
    check_seed,
    sample_sizes,
)
from memnb.data.tasks.dyck import prefix_violating_swap, random_dyck
from memnb.seeding import rng as make_rng

NAMES = (
    "mod_add",
    "parity",
    "addition",
    "multiplication",
    "copy",
    "reverse",
    "dyck",
    "chain",
    "compare",
    "successor",
)
DIGITS = tuple("0123456789")
VOCAB = TaskVocab(
    (PAD, EOS, SEP)
    + DIGITS
    + ("+", "*", "%", "(", ")", "?", "<", ">", "=", "yes", "no")
    + tuple(f"{t}:" for t in NAMES)
)

RANGES = {
    "mod_add": TaskRange("modulus", (500, 997), (2003, 4999), "ReLSM final phase m in [500, 997]; OOD m = 2003, 4999"),
    "parity": TaskRange("length", (8, 12), (16, 20, 24), "ReLSM code; CPU-scale sizes: train 8-12 bits, test 16/20/24"),
    "addition": TaskRange("digits", (1, 4), (5, 6, 8), "CPU-scale sizes (ReLSM code: 3-6 -> 6/8/10)"),
    "multiplication": TaskRange("digits", (2, 3), (4, 5), "ReLSM final phase 2-3 digits; OOD 4, 5"),
    "copy": TaskRange("length", (4, 12), (16, 20, 24), "CPU-scale sizes: train 4-12, test 16/20/24"),
    "reverse": TaskRange("length", (4, 12), (16, 20, 24), "CPU-scale sizes: train 4-12, test 16/20/24"),
    "dyck": TaskRange("length", (4, 20), (32, 48, 64), "ours: ReLSM lengths 6-30 at depth <= 4; OOD = longer words"),
    "chain": TaskRange("n_ops", (5, 8), (12, 16), "ReLSM final phase 5-8 ops; ReLSM has no OOD, 12/16 are ours"),
    "compare": TaskRange("digits", (3, 4), (6, 8), "ReLSM final phase 3-4 digits; ReLSM has no OOD, 6/8 are ours"),
    "successor": TaskRange("digits", (20, 32), (33, 35, 37), "ReLSM final phase 20-32 digits; OOD 33/35/37"),
}


def _digits(rng: np.random.Generator, k: int) -> str:
    """A uniformly random ``k``-digit number (no leading zero) as a string."""
    return str(rng.integers(1, 10)) + "".join(map(str, rng.integers(0, 10, size=k - 1)))


def _batch(task: str, prompts: list[list[str]], answers: list[list[str]], sizes: np.ndarray, meta: dict) -> TaskBatch:
    seqs, scored = [], []
    for prompt, answer in zip(prompts, answers, strict=True):
        head = [f"{task}:", *prompt, SEP]
        seqs.append(np.array(VOCAB.encode(head + answer + [EOS])))
        scored.append(np.r_[np.zeros(len(head), bool), np.ones(len(answer) + 1, bool)])
    meta = {RANGES[task].param: sizes.tolist(), "split": RANGES[task].split_of(sizes), **meta}
    return build_batch(seqs, scored, VOCAB, meta, task)


def _setup(task: str, n: int, seed: int, size: int | tuple[int, int], lo: int, hi: int, step: int = 1):
    check_n(n)
    check_seed(seed)
    bounds = as_range(RANGES[task].param, size, lo, hi)
    if step > 1 and (bounds[0] % step or bounds[1] % step):
        raise ValueError(f"{RANGES[task].param} must be a multiple of {step}, got {size!r}")
    rng = make_rng(seed)
    return rng, sample_sizes(rng, bounds, n, step)


def make_mod_add(n: int, *, seed: int, modulus: int | tuple[int, int] = RANGES["mod_add"].iid) -> TaskBatch:
    """``(a + b) % m`` with ``a, b`` uniform in ``[0, m)``: ``mod_add: ( 3 4 + 9 ) % 1 1 <sep> => 10``."""
    rng, ms = _setup("mod_add", n, seed, modulus, 2, 10**6)
    a = (rng.random(n) * ms).astype(np.int64)
    b = (rng.random(n) * ms).astype(np.int64)
    prompts = [["(", *str(x), "+", *str(y), ")", "%", *str(m)] for x, y, m in zip(a, b, ms, strict=True)]
    answers = [list(str((x + y) % m)) for x, y, m in zip(a, b, ms, strict=True)]
    return _batch("mod_add", prompts, answers, ms, {})


def make_parity(n: int, *, seed: int, length: int | tuple[int, int] = RANGES["parity"].iid) -> TaskBatch:
    """Parity of a uniform bit string: ``parity: 1 0 1 1 <sep> => 1``."""
    rng, lengths = _setup("parity", n, seed, length, 1, 4096)
    bits = [rng.integers(0, 2, size=k) for k in lengths]
    prompts = [[str(b) for b in x] for x in bits]
    answers = [[str(int(x.sum()) % 2)] for x in bits]
    return _batch("parity", prompts, answers, lengths, {})


def make_addition(n: int, *, seed: int, digits: int | tuple[int, int] = RANGES["addition"].iid) -> TaskBatch:
    """``a + b`` with both operands exactly ``digits`` digits long: ``addition: 4 7 + 5 5 <sep> => 1 0 2``."""
    rng, ds = _setup("addition", n, seed, digits, 1, 64)
    pairs = [(_digits(rng, d), _digits(rng, d)) for d in ds]
    prompts = [[*x, "+", *y] for x, y in pairs]
    answers = [list(str(int(x) + int(y))) for x, y in pairs]
    return _batch("addition", prompts, answers, ds, {})


def make_multiplication(
    n: int, *, seed: int, digits: int | tuple[int, int] = RANGES["multiplication"].iid
) -> TaskBatch:
    """``a * b``, ``a, b`` uniform over ``digits``-digit numbers >= 2: ``multiplication: 1 2 * 3 4 <sep> => 4 0 8``."""
    rng, ds = _setup("multiplication", n, seed, digits, 1, 18)
    pairs = [tuple(int(v) for v in rng.integers(max(2, 10 ** (d - 1)), 10**d, size=2)) for d in ds.tolist()]
    prompts = [[*str(x), "*", *str(y)] for x, y in pairs]
    answers = [list(str(x * y)) for x, y in pairs]
    return _batch("multiplication", prompts, answers, ds, {})


def make_copy(n: int, *, seed: int, length: int | tuple[int, int] = RANGES["copy"].iid) -> TaskBatch:
    """Copy a uniform digit string: ``copy: 3 1 4 <sep> => 3 1 4``."""
    rng, lengths = _setup("copy", n, seed, length, 1, 4096)
    xs = [list(map(str, rng.integers(0, 10, size=k))) for k in lengths]
    return _batch("copy", xs, [list(x) for x in xs], lengths, {})


def make_reverse(n: int, *, seed: int, length: int | tuple[int, int] = RANGES["reverse"].iid) -> TaskBatch:
    """Reverse a uniform digit string: ``reverse: 3 1 4 <sep> => 4 1 3``."""
    rng, lengths = _setup("reverse", n, seed, length, 1, 4096)
    xs = [list(map(str, rng.integers(0, 10, size=k))) for k in lengths]
    return _batch("reverse", xs, [x[::-1] for x in xs], lengths, {})


def make_dyck(n: int, *, seed: int, length: int | tuple[int, int] = RANGES["dyck"].iid) -> TaskBatch:
    """Is a bracket string balanced? ``dyck: ( ( ) ) <sep> => yes``; ``dyck: ( ) ) ( <sep> => no``.

    Half the examples (at random) are uniform Dyck words of ``length`` (even) brackets; the
    others are Dyck words with one opening/closing pair swapped so that some prefix closes
    more than it opened. Both have as many ``(`` as ``)``. ``meta["max_depth"]`` is the depth
    of the word before corruption.
    """
    rng, lengths = _setup("dyck", n, seed, length, 2, 4096, step=2)
    labels = rng.random(n) < 0.5
    prompts, depths = [], []
    for k, valid in zip(lengths, labels, strict=True):
        steps = random_dyck(rng, k // 2)
        depths.append(int(np.cumsum(steps).max()))
        if not valid:
            i, j = prefix_violating_swap(rng, steps)
            steps[i], steps[j] = steps[j], steps[i]
        prompts.append(["(" if s == 1 else ")" for s in steps])
    answers = [["yes" if v else "no"] for v in labels]
    return _batch("dyck", prompts, answers, lengths, {"label": labels.tolist(), "max_depth": depths})


def make_chain(
    n: int, *, seed: int, n_ops: int | tuple[int, int] = RANGES["chain"].iid, digits: tuple[int, int] = (24, 32)
) -> TaskBatch:
    """A long base ending in a run of 9s plus small addends, to force long carries:
    ``chain: 5 2 9 9 + 1 + 1 + 3 <sep> => 5 3 0 4``.

    As in ReLSM: the base has ``digits`` digits, its last 1-5 digits are 9s; each addend is 1
    with probability ``p ~ U[0.6, 0.8]`` (drawn per example), otherwise uniform in 2..9.
    """
    rng, ops = _setup("chain", n, seed, n_ops, 1, 256)
    d_lo, d_hi = as_range("digits", digits, 2, 256)
    prompts, answers, nines = [], [], []
    for k in ops:
        d = int(rng.integers(d_lo, d_hi + 1))
        run = int(rng.integers(1, min(5, d - 1) + 1))
        prefix = _digits(rng, d - run)
        if prefix[-1] == "9":  # keep the run of 9s exactly `run` long
            prefix = prefix[:-1] + str(rng.integers(0, 9))
        base = prefix + "9" * run
        p = rng.uniform(0.6, 0.8)
        addends = np.where(rng.random(k) < p, 1, rng.integers(2, 10, size=k))
        prompts.append([*base] + [s for a in addends for s in ("+", str(a))])
        answers.append(list(str(int(base) + int(addends.sum()))))
        nines.append(run)
    return _batch("chain", prompts, answers, ops, {"nines": nines})


def make_compare(n: int, *, seed: int, digits: int | tuple[int, int] = RANGES["compare"].iid) -> TaskBatch:
    """Compare two numbers of ``digits`` digits: ``compare: 4 1 7 ? 4 0 9 <sep> => >``.

    The label is ``<``, ``>`` or ``=`` with probability 1/3 each. Unequal pairs share a
    random-length prefix, so the first differing digit can be anywhere.
    """
    rng, ds = _setup("compare", n, seed, digits, 1, 64)
    prompts, answers = [], []
    for d in ds:
        a = b = _digits(rng, d)
        if rng.random() >= 1 / 3:
            cut = int(rng.integers(0, d))  # b keeps a's first `cut` digits
            while b == a:
                tail = _digits(rng, d) if cut == 0 else "".join(map(str, rng.integers(0, 10, size=d - cut)))
                b = a[:cut] + tail
        prompts.append([*a, "?", *b])
        answers.append(["<" if int(a) < int(b) else ">" if int(a) > int(b) else "="])
    return _batch("compare", prompts, answers, ds, {})


def make_successor(n: int, *, seed: int, digits: int | tuple[int, int] = RANGES["successor"].iid) -> TaskBatch:
    """``n + 1`` for a uniform ``digits``-digit ``n``: ``successor: 1 9 9 <sep> => 2 0 0``.

    As in ReLSM, ``k`` trailing 9s (a carry chain of ``k``) occur with probability ~10^-k;
    ``meta["carry"]`` counts them.
    """
    rng, ds = _setup("successor", n, seed, digits, 1, 4096)
    xs = [_digits(rng, d) for d in ds]
    carries = [len(x) - len(x.rstrip("9")) for x in xs]
    return _batch("successor", [list(x) for x in xs], [list(str(int(x) + 1)) for x in xs], ds, {"carry": carries})
