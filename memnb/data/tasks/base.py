"""The common return type of every task generator, and the helpers they share.

A task example is one token sequence ``s = prompt + answer + <eos>``. The model reads
``inputs = s[:-1]`` and is scored on ``targets = s[1:]`` at the answer positions only
(the answer tokens and the closing ``<eos>``); every other target is ``IGNORE`` (-100, the
``ignore_index`` of ``torch.nn.functional.cross_entropy``). Rows of different lengths are
right-padded with ``<pad>``. Under teacher forcing an example is exactly right when the
argmax at every answer position is its target: that is greedy decoding of the answer up to
``<eos>``, because each answer token is predicted from the true prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import torch

IGNORE = -100
PAD, EOS, SEP, QUERY, KEY = "<pad>", "<eos>", "<sep>", "<query>", "<key>"


@dataclass(frozen=True)
class TaskVocab:
    """An id <-> symbol table. Special symbols are written ``<name>``; ids follow list order.

    >>> v = TaskVocab((PAD, EOS, "k1", "v1"))
    >>> v.size, v.pad, v.encode(["v1", "k1"]), v.render([2, 3, 1])
    (4, 0, [3, 2], 'k1 v1 <eos>')
    """

    symbols: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {s: i for i, s in enumerate(self.symbols)}
        if len(index) != len(self.symbols):
            raise ValueError("TaskVocab symbols must be unique")
        for required in (PAD, EOS):
            if required not in index:
                raise ValueError(f"TaskVocab needs the special symbol {required}")
        object.__setattr__(self, "_index", index)

    @property
    def size(self) -> int:
        return len(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._index

    def id(self, symbol: str) -> int:
        try:
            return self._index[symbol]
        except KeyError:
            raise KeyError(f"{symbol!r} is not in this vocabulary") from None

    def encode(self, symbols: Iterable[str]) -> list[int]:
        return [self.id(s) for s in symbols]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.symbols[int(i)] for i in ids]

    @property
    def char_level(self) -> bool:
        """True when every non-special symbol is one character (text tasks)."""
        return all(len(s) == 1 for s in self.symbols if not _is_special(s))

    def render(self, ids: Iterable[int]) -> str:
        """Human-readable text: characters joined as they are, symbols joined by spaces."""
        ids = [int(i) for i in ids if int(i) != IGNORE]
        return ("" if self.char_level else " ").join(self.decode(ids))

    pad = property(lambda self: self.id(PAD))
    eos = property(lambda self: self.id(EOS))
    sep = property(lambda self: self.id(SEP))
    query = property(lambda self: self.id(QUERY))
    key = property(lambda self: self.id(KEY))


def _is_special(symbol: str) -> bool:
    return len(symbol) > 2 and symbol.startswith("<") and symbol.endswith(">")


@dataclass
class TaskBatch:
    """``N`` examples of one task: model inputs, answer-only targets, vocabulary, metadata.

    ``meta`` maps a name to one value per example (a list or array of length ``N``), e.g.
    ``meta["depth"]`` or ``meta["split"]`` (``"iid"`` or ``"ood"``, from ``task_ranges``).
    """

    inputs: torch.Tensor  # [N, T] int64
    targets: torch.Tensor  # [N, T] int64, IGNORE except at answer positions
    vocab: TaskVocab
    meta: dict[str, Any]
    task: str = ""

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def answer_mask(self) -> torch.Tensor:
        return self.targets != IGNORE

    def __getitem__(self, idx: int | slice | Sequence[int] | torch.Tensor) -> TaskBatch:
        """The examples ``idx`` (an index, slice or index list) as a new batch, metadata included."""
        if isinstance(idx, int):
            idx = [idx]
        rows = np.arange(len(self))[idx if isinstance(idx, slice) else np.asarray(idx)]
        meta = {k: _take(v, rows) for k, v in self.meta.items()}
        rows_t = torch.as_tensor(rows)
        return TaskBatch(self.inputs[rows_t], self.targets[rows_t], self.vocab, meta, self.task)

    def to(self, device: str | torch.device) -> TaskBatch:
        return TaskBatch(self.inputs.to(device), self.targets.to(device), self.vocab, self.meta, self.task)

    def show(self, i: int = 0) -> str:
        """Example ``i`` as text: the prompt, then ``=>`` and the scored answer."""
        mask = self.answer_mask[i]
        first = int(mask.nonzero()[0])
        prompt = self.vocab.render(self.inputs[i, : first + 1].tolist())
        answer = self.vocab.render(self.targets[i, mask].tolist())
        return f"{prompt} => {answer}"


def _take(values: Any, rows: np.ndarray) -> Any:
    if isinstance(values, np.ndarray | torch.Tensor):
        return values[rows]
    return [values[r] for r in rows]


def _predictions(logits_or_ids: torch.Tensor) -> torch.Tensor:
    return logits_or_ids.argmax(-1) if logits_or_ids.dim() == 3 else logits_or_ids


def exact_match(logits: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
    """``[N]`` float: 1 where every answer position is predicted right (argmax of ``logits``
    ``[N, T, V]``, or predicted ids ``[N, T]``), else 0."""
    pred = _predictions(logits).to(batch.targets.device)
    mask = batch.answer_mask
    return ((pred == batch.targets) | ~mask).all(dim=-1).float()


def token_accuracy(logits: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
    """``[N]`` float: the fraction of answer positions predicted right, per example."""
    pred = _predictions(logits).to(batch.targets.device)
    mask = batch.answer_mask
    hits = ((pred == batch.targets) & mask).sum(dim=-1)
    return hits.float() / mask.sum(dim=-1).clamp(min=1).float()


@dataclass(frozen=True)
class TaskRange:
    """The size parameter a task is trained over (``iid``, inclusive) and tested beyond (``ood``)."""

    param: str
    iid: tuple[int, int]
    ood: tuple[int, ...]
    source: str

    def split_of(self, sizes: Iterable[int]) -> list[str]:
        """``"iid"`` for sizes inside the training range, ``"ood"`` otherwise."""
        lo, hi = self.iid
        return ["iid" if lo <= int(s) <= hi else "ood" for s in sizes]

    def as_dict(self) -> dict[str, Any]:
        return {"param": self.param, "iid": self.iid, "ood": self.ood, "source": self.source}


# ---------------------------------------------------------------- building batches


def build_batch(
    seqs: np.ndarray | Sequence[np.ndarray],
    scored: np.ndarray | Sequence[np.ndarray],
    vocab: TaskVocab,
    meta: dict[str, Any],
    task: str,
) -> TaskBatch:
    """Turn full sequences (prompt + answer + eos) into a batch.

    ``scored[i][j]`` is True when token ``j`` of sequence ``i`` is an answer token, so it
    becomes a target at input position ``j - 1``. Ragged rows are right-padded with ``<pad>``.
    """
    if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
        full, mask = seqs.astype(np.int64), np.asarray(scored, dtype=bool)
    else:
        width = max(len(s) for s in seqs)
        full = np.full((len(seqs), width), vocab.pad, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=bool)
        for i, (s, m) in enumerate(zip(seqs, scored, strict=True)):
            full[i, : len(s)] = s
            mask[i, : len(m)] = m
    if mask[:, 0].any():
        raise ValueError("the first token of a sequence cannot be an answer token")
    inputs = torch.from_numpy(full[:, :-1].copy())
    targets = torch.from_numpy(np.where(mask[:, 1:], full[:, 1:], IGNORE))
    return TaskBatch(inputs, targets, vocab, meta, task)


def insert_pieces(background: np.ndarray, pieces: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert ``m`` pieces of ``s`` tokens into each background row, vectorised.

    ``background`` is ``[N, F]``, ``pieces`` ``[N, m, s]``, ``gaps`` ``[N, m]`` with values in
    ``[0, F]`` (piece goes before background token ``gap``; equal gaps keep piece order).
    Returns the ``[N, F + m*s]`` rows and the ``[N, m]`` start index of every piece.
    """
    n, f = background.shape
    _, m, s = pieces.shape
    width = m * s + 1
    bg_keys = np.arange(f)[None, :] * width + (width - 1)
    piece_keys = gaps[:, :, None] * width + (np.arange(m)[:, None] * s + np.arange(s))[None]
    keys = np.concatenate([np.broadcast_to(bg_keys, (n, f)), piece_keys.reshape(n, m * s)], axis=1)
    tokens = np.concatenate([background, pieces.reshape(n, m * s)], axis=1)
    order = np.argsort(keys, axis=1, kind="stable")
    inverse = np.argsort(order, axis=1, kind="stable")
    starts = inverse[:, f + np.arange(m) * s]
    return np.take_along_axis(tokens, order, axis=1), starts


# ---------------------------------------------------------------- argument checks


def check_n(n: int) -> None:
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n (number of examples) must be a positive int, got {n!r}")


def check_seed(seed: int) -> None:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")


def check_int(name: str, value: int, lo: int, hi: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}")
    return int(value)


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def as_range(name: str, value: int | tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
    """``value`` as an inclusive ``(a, b)`` with ``lo <= a <= b <= hi``; an int ``k`` is ``(k, k)``."""
    pair = (value, value) if isinstance(value, int | np.integer) and not isinstance(value, bool) else value
    ok = (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in pair)
        and lo <= pair[0] <= pair[1] <= hi
    )
    if not ok:
        raise ValueError(f"{name} must be an int or an inclusive (lo, hi) pair within [{lo}, {hi}], got {value!r}")
    return int(pair[0]), int(pair[1])


def as_float_range(name: str, value: float | tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    pair = (value, value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    ok = isinstance(pair, tuple | list) and len(pair) == 2 and lo <= pair[0] <= pair[1] <= hi
    if not ok:
        raise ValueError(f"{name} must be a number or a (lo, hi) pair within [{lo}, {hi}], got {value!r}")
    return float(pair[0]), float(pair[1])


def sample_sizes(rng: np.random.Generator, bounds: tuple[int, int], n: int, step: int = 1) -> np.ndarray:
    """``n`` sizes uniform over ``lo, lo + step, ..., <= hi`` (``bounds`` inclusive)."""
    lo, hi = bounds
    return lo + step * rng.integers(0, (hi - lo) // step + 1, size=n)


def grouped(sizes: np.ndarray, make: Callable[[np.ndarray, int], tuple[list, list, dict]]) -> tuple[list, list, dict]:
    """Run ``make(rows, size)`` once per distinct size (vectorised inside a group) and put the
    per-example sequences, scored masks and metadata back in the original example order."""
    n = len(sizes)
    seqs: list = [None] * n
    scored: list = [None] * n
    meta: dict[str, list] = {}
    for size in np.unique(sizes):
        rows = np.flatnonzero(sizes == size)
        s, m, md = make(rows, int(size))
        for j, r in enumerate(rows):
            seqs[r], scored[r] = s[j], m[j]
        for k, values in md.items():
            meta.setdefault(k, [None] * n)
            for j, r in enumerate(rows):
                meta[k][r] = values[j]
    return seqs, scored, meta


# ---------------------------------------------------------------- text tasks


@dataclass(frozen=True)
class TextExample:
    """A text-level example: the model reads ``prompt`` and must continue with ``answer``."""

    prompt: str
    answer: str
    meta: dict[str, Any]


def word_start(text: str, pos: int) -> int:
    """The nearest position that starts a word (0, or just after whitespace): the first at or
    after ``pos``, else the last before it."""
    candidates = chain(range(pos, len(text) + 1), range(pos - 1, 0, -1))
    return next((p for p in candidates if p == 0 or text[p - 1].isspace()), 0)


def vocab_of(tokenizer: Any) -> TaskVocab:
    """The ``TaskVocab`` of a ``memnb.data.tokenizers`` tokeniser (same ids; its pad and eos
    tokens are named ``<pad>`` and ``<eos>`` here)."""
    symbols = list(tokenizer.tokens)
    symbols[tokenizer.pad_id], symbols[tokenizer.eos_id] = PAD, EOS
    return TaskVocab(tuple(symbols))


def texts_to_batch(examples: Sequence[TextExample], tokenizer: Any, meta: dict[str, Any], task: str) -> TaskBatch:
    """Tokenise text examples: ``encode(prompt) + encode(answer) + [eos]``, answer and eos scored.

    ``meta`` (per-example lists) is extended with every key of the examples' own ``meta``.
    """
    prompts = tokenizer.encode_batch([e.prompt for e in examples])
    answers = tokenizer.encode_batch([e.answer for e in examples])
    seqs = [np.array(p + a + [tokenizer.eos_id]) for p, a in zip(prompts, answers, strict=True)]
    scored = [np.r_[np.zeros(len(p), bool), np.ones(len(a) + 1, bool)] for p, a in zip(prompts, answers, strict=True)]
    meta = {**meta, **{k: [e.meta[k] for e in examples] for k in examples[0].meta}}
    return build_batch(seqs, scored, vocab_of(tokenizer), meta, task)
