"""The recall suite: four tasks in one symbol vocabulary, so one model trains on their mixture.

Every generator is ``make(task, n, seed=, length=)`` -> a ``TaskBatch`` of exactly ``length``
model inputs over ``suite_vocab()``; the answer is scored by exact match (every answer token
the argmax under teacher forcing; the closing ``<eos>`` not scored). Filler is 16 uniform
symbols ``w0 .. w15`` in every task, so longer inputs mean longer distances, not new symbols.

- ``passkey``: ``memnb.data.tasks.make_passkey`` (synthetic filler, a 1-digit key at a uniform
  depth: the digit occurs only in the needle, so this is "keep one token across the gap",
  the easiest recall there is). Chance: 1/9 (a uniform non-zero digit).
- ``niah``: ``make_niah`` (4 needles ``<key> k v``, one queried, 32 keys and 32 values).
  Chance: 1/4 (a guess among the 4 values in context).
- ``assoc``: multi-key associative recall over a gap: ``make_assoc_recall`` with 6 pairs and 2
  queries (32 keys, 32 values), with filler between the pairs and the queries, so the pairs
  sit at the start and the queries at the end. Chance: (1/6)^2 (both answers guessed among the
  6 values in context).
- ``babi``: bAbI tasks 1-5 (``memnb.data.tasks.babi_stories``, the task uniform per example,
  2-5 facts), one token per word (punctuation ``.`` and ``?`` are tokens), the facts
  inserted in order at uniform positions of the filler, then ``<query>`` question answer.
  Chance: the most frequent answer's share, averaged over the 5 tasks (the best constant
  guess per question type), from ``CHANCE_STORIES`` stories.

The character-level, corpus-background forms of passkey and bAbI (``memnb.eval.long_context``)
need far more training than a CPU leaderboard can give every model; this suite keeps the tasks
and drops the language. The key is one digit for the same reason: a multi-digit key must be
copied in order (an induction circuit), which tiny models do not learn in a few hundred steps,
while one digit only has to be found and kept.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import numpy as np
import torch

from memnb.data.tasks import (
    IGNORE,
    TaskBatch,
    TaskVocab,
    babi,
    babi_stories,
    make_assoc_recall,
    make_niah,
    make_passkey,
)
from memnb.data.tasks.base import EOS, KEY, PAD, QUERY, SEP, build_batch
from memnb.seeding import rng as make_rng

SUITE = ("passkey", "niah", "assoc", "babi")
N_FILLER, N_KEYS, N_VALUES = 16, 32, 32
PASSKEY_DIGITS, NIAH_NEEDLES, ASSOC_PAIRS, ASSOC_QUERIES = 1, 4, 6, 2
BABI_FACTS = {1: (2, 4), 2: (2, 4), 3: (3, 5), 4: (2, 2), 5: (4, 5)}
CHANCE_STORIES = 500
QUESTION_WORDS = "Where is was the before What of Who gave to received did give ?"
WORD = re.compile(r"[A-Za-z]+|[.?]")


def check_task(task: str) -> None:
    if task not in SUITE:
        raise ValueError(f"unknown suite task {task!r}; the suite has: {', '.join(SUITE)}")


def words(text: str) -> list[str]:
    return WORD.findall(text)


@cache
def _babi_corpus() -> dict[int, list]:
    return {t: babi_stories(CHANCE_STORIES, seed=0, task=t, n_facts=BABI_FACTS[t]) for t in BABI_FACTS}


def babi_words() -> list[str]:
    """Every word a bAbI story can use: the generator's templates, names, places, objects and
    directions, and the words of its questions (``memnb.data.tasks.babi``), sorted."""
    templates = " ".join(babi.MOVE + babi.TAKE + babi.DROP + babi.GIVE + (babi.RELATION,))
    names = babi.PEOPLE + babi.GIVERS + babi.PLACES + babi.OBJECTS + tuple(babi.DIRECTIONS)
    found = set(words(re.sub(r"\{\w+\}", " ", templates))) | set(names) | set(words(QUESTION_WORDS))
    return sorted(found)


@cache
def suite_vocab() -> TaskVocab:
    """Specials, digits, filler ``w*``, keys ``k*``, values ``v*`` and the bAbI words."""
    base = [PAD, EOS, KEY, QUERY, SEP, *"0123456789"]
    base += [f"w{i}" for i in range(N_FILLER)] + [f"k{i}" for i in range(N_KEYS)] + [f"v{i}" for i in range(N_VALUES)]
    return TaskVocab(tuple(base) + tuple(babi_words()))


def chance(task: str) -> float:
    """The exact-match accuracy of the guess named in the module docstring."""
    check_task(task)
    if task == "passkey":
        return 1 / (9 * 10 ** (PASSKEY_DIGITS - 1))
    if task == "niah":
        return 1 / NIAH_NEEDLES
    if task == "assoc":
        return (1 / ASSOC_PAIRS) ** ASSOC_QUERIES
    shares = [Counter(s.answer for s in told).most_common(1)[0][1] / len(told) for told in _babi_corpus().values()]
    return float(np.mean(shares))


def _remap(batch: TaskBatch, task: str) -> TaskBatch:
    """The batch with its ids translated into ``suite_vocab()`` (same symbols)."""
    vocab = suite_vocab()
    lut = torch.tensor([vocab.id(s) for s in batch.vocab.symbols])
    targets = torch.where(batch.targets == IGNORE, IGNORE, lut[batch.targets.clamp_min(0)])
    return TaskBatch(lut[batch.inputs], targets, vocab, batch.meta, task)


def _full(batch: TaskBatch) -> tuple[np.ndarray, np.ndarray]:
    """The full sequences (inputs + the last target) and their scored mask, from a batch with
    no padding."""
    last = batch.targets[:, -1:].clamp_min(0)
    full = torch.cat((batch.inputs, last), 1).numpy()
    scored = np.concatenate([np.zeros((len(batch), 1), bool), (batch.targets != IGNORE).numpy()], 1)
    return full, scored


def _assoc(n: int, seed: int, length: int) -> TaskBatch:
    gap = length - (2 * ASSOC_PAIRS + 2 * ASSOC_QUERIES + 1)
    if gap < 0:
        raise ValueError(f"assoc needs length >= {length - gap} ({ASSOC_PAIRS} pairs, {ASSOC_QUERIES} queries)")
    raw = make_assoc_recall(
        n, seed=seed, n_pairs=ASSOC_PAIRS, n_queries=ASSOC_QUERIES, n_keys=N_KEYS, n_values=N_VALUES
    )
    full, scored = _full(_remap(raw, "assoc"))
    w0 = suite_vocab().id("w0")
    filler = w0 + make_rng(seed + 1).integers(0, N_FILLER, size=(n, gap))
    cut = 2 * ASSOC_PAIRS
    full = np.concatenate([full[:, :cut], filler, full[:, cut:]], 1)
    scored = np.concatenate([scored[:, :cut], np.zeros((n, gap), bool), scored[:, cut:]], 1)
    return build_batch(full, scored, suite_vocab(), {"query_index": raw.meta["query_index"]}, "assoc")


def _babi(n: int, seed: int, length: int) -> TaskBatch:
    vocab, rng = suite_vocab(), make_rng(seed)
    tasks = rng.integers(1, 6, size=n)
    stories: list = [None] * n
    for t in range(1, 6):
        rows = np.flatnonzero(tasks == t)
        if rows.size:
            made = babi_stories(int(rows.size), seed=int(seed * 5 + t), task=t, n_facts=BABI_FACTS[t])
            for r, s in zip(rows, made, strict=True):
                stories[r] = s
    w0, seqs, scored = vocab.id("w0"), [], []
    for s in stories:
        facts = [vocab.encode(words(f)) for f in s.facts]
        tail = [vocab.id(QUERY)] + vocab.encode(words(s.question)) + [vocab.id(s.answer), vocab.eos]
        gap = length + 1 - len(tail) - sum(map(len, facts))
        if gap < 0:
            raise ValueError(f"babi length {length} is too short for a {len(s.facts)}-fact story; use length >= 48")
        cuts = np.sort(rng.integers(0, gap + 1, size=len(facts)))
        filler = (w0 + rng.integers(0, N_FILLER, size=gap)).tolist()
        seq, prev = [], 0
        for fact, cut in zip(facts, cuts, strict=True):
            seq += filler[prev:cut] + fact
            prev = cut
        seq += filler[prev:] + tail
        seqs.append(np.array(seq))
        mask = np.zeros(len(seq), bool)
        mask[-2:] = True  # the answer and <eos>
        scored.append(mask)
    return build_batch(np.stack(seqs), np.stack(scored), vocab, {"babi_task": tasks.tolist()}, "babi")


def make(task: str, n: int, *, seed: int, length: int) -> TaskBatch:
    """``n`` examples of suite task ``task`` with exactly ``length`` inputs each."""
    check_task(task)
    if task == "passkey":
        raw = make_passkey(n, seed=seed, length=length, n_digits=PASSKEY_DIGITS, n_filler=N_FILLER)
        return _remap(raw, task)
    if task == "niah":
        raw = make_niah(
            n, seed=seed, length=length, n_distractors=NIAH_NEEDLES - 1, n_keys=N_KEYS, n_values=N_VALUES,
            n_filler=N_FILLER,
        )  # fmt: skip
        return _remap(raw, task)
    if task == "assoc":
        return _assoc(n, seed, length)
    return _babi(n, seed, length)


def mixture(n_per_task: int, *, seed: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch: ``n_per_task`` examples of every suite task, stacked (inputs, targets)."""
    batches = [make(task, n_per_task, seed=seed * len(SUITE) + i, length=length) for i, task in enumerate(SUITE)]
    return torch.cat([b.inputs for b in batches]), torch.cat([b.targets for b in batches])
