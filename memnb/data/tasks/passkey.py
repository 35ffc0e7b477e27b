"""Passkey retrieval: a number hidden at a chosen depth in filler, asked for at the end.

Two kinds of filler:

- ``filler="synthetic"``: uniform filler symbols ``w0 .. w{n_filler-1}``; the needle is
  ``<key> d1 .. dk`` and the sequence ends ``<query> => d1 .. dk <eos>``.
- ``filler="corpus"``: a window of real text from a corpus split (digits removed, so the
  key's digits occur only in the needle and the answer), with the sentence
  ``"The pass key is 48213. Remember it. "`` inserted at a word boundary, then
  ``"\\nWhat is the pass key? The pass key is "`` and the answer ``"48213"``; tokenised per
  character by default (``length`` counts characters).

In both, ``length`` is the number of model inputs for character or symbol tokens, the depth
is the needle's start as a fraction of the filler (``meta["depth"]``, 0 = first token), and
``meta["needle_pos"]`` its index in the inputs (synthetic) or characters (corpus).

>>> make_passkey(1, seed=0, length=16, n_digits=3, depth=0.5).show()
'w4 w4 w0 w1 <key> 8 6 5 w0 w2 w13 w10 <query> => 8 6 5 <eos>'
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from memnb.data.tasks.base import (
    EOS,
    KEY,
    PAD,
    QUERY,
    TaskBatch,
    TaskRange,
    TaskVocab,
    TextExample,
    as_float_range,
    as_range,
    build_batch,
    check_choice,
    check_int,
    check_n,
    check_seed,
    grouped,
    insert_pieces,
    sample_sizes,
    texts_to_batch,
    word_start,
)
from memnb.data.tokenizers import Tokenizer, get_tokenizer
from memnb.seeding import rng as make_rng

RANGES = {
    "passkey": TaskRange("length", (256, 1024), (2048, 4096, 8192), "ours; Drex tests 512-16384 characters"),
}
NEEDLE = "The pass key is {key}. Remember it. "
QUESTION = "\nWhat is the pass key? The pass key is "
MAX_LENGTH = 1 << 20


@cache
def passkey_vocab(n_filler: int) -> TaskVocab:
    return TaskVocab((PAD, EOS, KEY, QUERY) + tuple("0123456789") + tuple(f"w{i}" for i in range(n_filler)))


def _keys(rng: np.random.Generator, rows: int, n_digits: int) -> np.ndarray:
    """``[rows, n_digits]`` digits of uniform ``n_digits``-digit numbers (no leading zero)."""
    return np.concatenate([rng.integers(1, 10, (rows, 1)), rng.integers(0, 10, (rows, n_digits - 1))], axis=1)


def make_passkey(
    n: int,
    *,
    seed: int,
    length: int | tuple[int, int] = RANGES["passkey"].iid,
    depth: float | tuple[float, float] = (0.0, 1.0),
    n_digits: int = 5,
    filler: str = "synthetic",
    n_filler: int = 16,
    tokenizer: Tokenizer | None = None,
    corpus_split: str = "test",
) -> TaskBatch:
    """``n`` passkey examples (see the module doc). ``tokenizer`` (corpus filler only) defaults
    to the corpus character tokenizer; ``corpus_split`` picks the filler text."""
    check_choice("filler", filler, ("synthetic", "corpus"))
    if filler == "corpus":
        examples = passkey_texts(n, seed=seed, length=length, depth=depth, n_digits=n_digits, corpus_split=corpus_split)
        sizes = [e.meta["length"] for e in examples]
        return texts_to_batch(examples, tokenizer or get_tokenizer("char"), _split(sizes), "passkey")
    if tokenizer is not None:
        raise ValueError("tokenizer applies to filler='corpus' only (synthetic filler has its own vocabulary)")
    check_n(n)
    check_seed(seed)
    k = check_int("n_digits", n_digits, 1, 18)
    v = passkey_vocab(check_int("n_filler", n_filler, 1, 65536))
    bounds = as_range("length", length, 2 * k + 3, MAX_LENGTH)
    depth_bounds = as_float_range("depth", depth, 0.0, 1.0)
    rng = make_rng(seed)
    sizes = sample_sizes(rng, bounds, n)
    digit0, filler0 = v.id("0"), v.id("w0")

    def make(rows: np.ndarray, size: int):
        m, f = len(rows), size - 2 * k - 2  # filler + (1 + k) needle + (1 + k + 1) query/answer = size + 1
        keys = _keys(rng, m, k)
        background = filler0 + rng.integers(0, n_filler, size=(m, f))
        needle = np.concatenate([np.full((m, 1), v.key), digit0 + keys], axis=1)[:, None, :]
        gaps = np.rint(rng.uniform(*depth_bounds, size=m) * f).astype(np.int64)[:, None]
        haystack, starts = insert_pieces(background, needle, gaps)
        seq = np.concatenate([haystack, np.full((m, 1), v.query), digit0 + keys, np.full((m, 1), v.eos)], axis=1)
        mask = np.zeros_like(seq, dtype=bool)
        mask[:, -(k + 1) :] = True
        meta = {
            "depth": (gaps[:, 0] / f).tolist(),
            "needle_pos": starts[:, 0].tolist(),
            "passkey": ["".join(map(str, row)) for row in keys],
        }
        return list(seq), list(mask), meta

    seqs, scored, meta = grouped(sizes, make)
    return build_batch(seqs, scored, v, {**_split(sizes.tolist()), **meta}, "passkey")


def _split(sizes: list[int]) -> dict:
    return {"length": list(sizes), "split": RANGES["passkey"].split_of(sizes)}


@lru_cache(maxsize=4)
def _filler_text(split: str) -> str:
    from memnb.data.corpus import corpus_text

    return corpus_text(split).translate(str.maketrans("", "", "0123456789"))


def passkey_texts(
    n: int,
    *,
    seed: int,
    length: int | tuple[int, int] = RANGES["passkey"].iid,
    depth: float | tuple[float, float] = (0.0, 1.0),
    n_digits: int = 5,
    corpus_split: str = "test",
) -> list[TextExample]:
    """Passkey examples over real corpus text, as strings; ``len(prompt + answer) == length``."""
    check_n(n)
    check_seed(seed)
    k = check_int("n_digits", n_digits, 1, 18)
    overhead = len(NEEDLE.format(key="0" * k)) + len(QUESTION) + k
    bounds = as_range("length", length, overhead + 1, MAX_LENGTH)
    depth_bounds = as_float_range("depth", depth, 0.0, 1.0)
    text = _filler_text(corpus_split)
    if bounds[1] - overhead > len(text):
        raise ValueError(
            f"length {bounds[1]} needs more filler than the {corpus_split!r} split has ({len(text)} chars)"
        )
    rng = make_rng(seed)
    sizes = sample_sizes(rng, bounds, n)
    keys = ["".join(map(str, row)) for row in _keys(rng, n, k)]
    depths = rng.uniform(*depth_bounds, size=n)
    examples = []
    for size, key, d in zip(sizes.tolist(), keys, depths, strict=True):
        f = size - overhead
        start = int(rng.integers(0, len(text) - f + 1))
        window = text[start : start + f]
        pos = word_start(window, round(d * f))
        prompt = window[:pos] + NEEDLE.format(key=key) + window[pos:] + QUESTION
        meta = {"length": size, "depth": pos / f, "needle_pos": pos, "passkey": key}
        examples.append(TextExample(prompt, key, meta))
    return examples
