"""bAbI tasks 1-5, generated procedurally, optionally hidden BABILong-style in Shakespeare.

No registry ships bAbI, so stories come from a small world simulation: people move between
places, take, drop and give objects; an action is only taken when it is possible (you drop what
you hold; a gift needs both people in one place). Each story ends with one question whose
one-word answer follows from the facts:

1. single supporting fact   ``Where is Mary?`` -> her latest place
2. two supporting facts     ``Where is the apple?`` -> where its holder is, or where it was dropped
3. three supporting facts   ``Where was the apple before the office?`` -> the place it was in just
   before it reached the office (asked only when it has been in the office once)
4. two-argument relations   ``What is north of the kitchen?`` / ``What is the kitchen south of?``
   over a map of ``n_facts`` relations (a self-avoiding path on a grid)
5. three-argument relations ``Who gave the milk to John?``, ``Who received the milk?``,
   ``What did Fred give to John?``, ``Who did Fred give the milk to?``; the latest such gift.

Text form (``babi_texts``): without ``length`` (or with 0) the prompt is the facts, one per
line; with ``length`` (BABILong-style) the facts are inserted, in order, at random word boundaries of a
window of real text from a corpus split so that ``len(prompt + answer) == length``. Both end
with ``"\\nQuestion: <q>\\nAnswer: "``. Tokenised form (``make_babi``): characters, by the
corpus character tokenizer unless another is given (we chose characters so that ``length``
is exact and every model of the book can read it). ``babi_format`` writes the original
``id text`` / ``id question<TAB>answer<TAB>supports`` lines.

>>> babi_texts(1, seed=0, task=1, n_facts=2)[0].prompt
'John went to the kitchen.\\nDaniel moved to the garden.\\nQuestion: Where is Daniel?\\nAnswer: '
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memnb.data.tasks.base import (
    TaskBatch,
    TaskRange,
    TextExample,
    as_range,
    check_int,
    check_n,
    check_seed,
    sample_sizes,
    texts_to_batch,
    word_start,
)
from memnb.data.tokenizers import Tokenizer, get_tokenizer
from memnb.seeding import rng as make_rng

PEOPLE = ("Mary", "John", "Sandra", "Daniel")
GIVERS = ("Bill", "Fred", "Jeff", "Mary")  # task 5's cast, as in bAbI
PLACES = ("kitchen", "garden", "office", "bathroom", "hallway", "bedroom")
OBJECTS = ("apple", "football", "milk")
MOVE = ("{p} went to the {l}.", "{p} journeyed to the {l}.", "{p} travelled to the {l}.", "{p} moved to the {l}.")
TAKE = ("{p} got the {o}.", "{p} grabbed the {o}.", "{p} picked up the {o}.", "{p} took the {o}.")
DROP = ("{p} dropped the {o}.", "{p} discarded the {o}.", "{p} put down the {o}.", "{p} left the {o}.")
GIVE = ("{p} gave the {o} to {q}.", "{p} handed the {o} to {q}.", "{p} passed the {o} to {q}.")
RELATION = "The {a} is {d} of the {b}."
DIRECTIONS = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}

# Story length (number of facts): default range and the allowed range, per task.
N_FACTS = {
    1: ((2, 10), (1, 200)),
    2: ((2, 16), (2, 200)),
    3: ((3, 20), (3, 200)),
    4: ((2, 2), (1, 5)),
    5: ((4, 12), (4, 200)),
}
# Action weights (move anywhere, move to someone, take, drop, give) for the world simulation.
WEIGHTS = {1: (1, 0, 0, 0, 0), 2: (4, 0, 3, 2, 0), 3: (4, 0, 3, 1, 0), 5: (2, 2, 3, 1, 6)}
QUESTION = "\nQuestion: {q}\nAnswer: "
MAX_QA = 60  # bound on the characters of a question and its answer

RANGES = {
    f"babi{t}": TaskRange(
        "length", (0, 0), (1024, 2048, 4096, 8192), "ours: plain stories (length 0, BABILong '0k') vs hidden in text"
    )
    for t in range(1, 6)
}
MAX_TRIES = 1000


@dataclass
class Story:
    """A bAbI story: facts, one question, its one-word answer and the supporting fact indices."""

    task: int
    facts: list[str]
    question: str
    answer: str
    supports: list[int]


def babi_format(story: Story) -> str:
    """The story in the original bAbI file format (1-based line ids)."""
    lines = [f"{i + 1} {fact}" for i, fact in enumerate(story.facts)]
    supports = " ".join(str(i + 1) for i in story.supports)
    lines.append(f"{len(story.facts) + 1} {story.question}\t{story.answer}\t{supports}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- world simulation


class _World:
    """People, places and objects; ``act`` applies one possible action and records its fact."""

    def __init__(self, people: tuple[str, ...]):
        self.people = people
        self.place: dict[str, str | None] = dict.fromkeys(people)
        self.holder: dict[str, str | None] = dict.fromkeys(OBJECTS)
        self.lying: dict[str, str | None] = dict.fromkeys(OBJECTS)  # where a dropped object lies
        self.trail: dict[str, list[tuple[str, int]]] = {o: [] for o in OBJECTS}  # (place, fact index)
        self.moves: dict[str, list[int]] = {p: [] for p in people}  # fact indices of each person's moves
        self.handling: dict[str, list[tuple[str, str, int]]] = {o: [] for o in OBJECTS}  # (action, person, fact)
        self.gifts: list[tuple[str, str, str, int]] = []  # (giver, object, receiver, fact index)
        self.facts: list[str] = []

    def where(self, obj: str) -> str | None:
        holder = self.holder[obj]
        return self.place[holder] if holder else self.lying[obj]

    def _track(self, obj: str, i: int) -> None:
        here = self.where(obj)
        if here and (not self.trail[obj] or self.trail[obj][-1][0] != here):
            self.trail[obj].append((here, i))

    def options(self) -> list[list[tuple]]:
        located = [p for p in self.people if self.place[p]]
        moves = [("move", p, l) for p in self.people for l in PLACES if l != self.place[p]]
        meets = [("move", p, self.place[q]) for p in self.people for q in located if self.place[q] != self.place[p]]
        takes = [
            ("take", p, o)
            for p in located
            for o in OBJECTS
            if self.holder[o] is None and self.lying[o] in (None, self.place[p])
        ]
        drops = [("drop", self.holder[o], o) for o in OBJECTS if self.holder[o]]
        gives = [
            ("give", self.holder[o], o, q)
            for o in OBJECTS
            if self.holder[o]
            for q in located
            if q != self.holder[o] and self.place[q] == self.place[self.holder[o]]
        ]
        return [moves, meets, takes, drops, gives]

    def act(self, rng: np.random.Generator, weights: tuple[int, ...]) -> None:
        # each possible kind of action, listed `weight` times: a weighted choice of kind
        options = [opts for wt, opts in zip(weights, self.options(), strict=True) for _ in range(wt) if opts]
        action = _pick(rng, _pick(rng, options))
        kind, p, i = action[0], action[1], len(self.facts)
        if kind == "move":
            self.place[p] = action[2]
            self.moves[p].append(i)
            self.facts.append(_pick(rng, MOVE).format(p=p, l=action[2]))
            for o in OBJECTS:
                if self.holder[o] == p:
                    self._track(o, i)
            return
        o = action[2]
        self.handling[o].append((kind, p, i))
        if kind == "take":
            self.holder[o], self.lying[o] = p, None
            self.facts.append(_pick(rng, TAKE).format(p=p, o=o))
            self._track(o, i)
        elif kind == "drop":
            self.holder[o], self.lying[o] = None, self.place[p]
            self.facts.append(_pick(rng, DROP).format(p=p, o=o))
        else:
            self.holder[o] = action[3]
            self.gifts.append((p, o, action[3], i))
            self.facts.append(_pick(rng, GIVE).format(p=p, o=o, q=action[3]))


def _pick(rng: np.random.Generator, items):
    return items[int(rng.random() * len(items))]


def _question(task: int, world: _World, rng: np.random.Generator) -> tuple[str, str, list[int]] | None:
    """A question with a determined answer and its supporting facts, or None if there is none."""
    if task == 1:
        p = _pick(rng, [p for p in world.people if world.place[p]])
        return f"Where is {p}?", world.place[p], [world.moves[p][-1]]
    if task == 2:
        known = [o for o in OBJECTS if world.where(o)]
        if not known:
            return None
        o = _pick(rng, known)
        _, person, i = world.handling[o][-1]  # the take that put it in hand, or the drop
        supports = {i, max(m for m in world.moves[person] if m < i) if world.lying[o] else world.moves[person][-1]}
        return f"Where is the {o}?", world.where(o), sorted(supports)
    if task == 3:
        usable = [
            o
            for o in OBJECTS
            if len(world.trail[o]) >= 2 and world.trail[o][-1][0] not in {pl for pl, _ in world.trail[o][:-1]}
        ]
        if not usable:
            return None
        o = _pick(rng, usable)
        (before, i), (last, j) = world.trail[o][-2:]
        took = max(k for kind, _, k in world.handling[o] if kind == "take" and k <= j)
        return f"Where was the {o} before the {last}?", before, sorted({i, j, took})
    if not world.gifts:  # task 5
        return None
    giver, o, receiver, _ = _pick(rng, world.gifts)
    form = int(rng.integers(4))
    same = [
        lambda g: g[1] == o and g[2] == receiver,
        lambda g: g[1] == o,
        lambda g: g[0] == giver and g[2] == receiver,
        lambda g: g[0] == giver and g[1] == o,
    ][form]
    g = [g for g in world.gifts if same(g)][-1]  # the latest gift that fits the question
    question, answer = [
        (f"Who gave the {o} to {receiver}?", g[0]),
        (f"Who received the {o}?", g[2]),
        (f"What did {giver} give to {receiver}?", g[1]),
        (f"Who did {giver} give the {o} to?", g[2]),
    ][form]
    return question, answer, [g[3]]


def _relations_story(rng: np.random.Generator, n_facts: int) -> Story:
    """Task 4: ``n_facts`` relations along a self-avoiding grid path over distinct places."""
    while True:
        cells, names = [(0, 0)], [str(x) for x in rng.permutation(PLACES)[: n_facts + 1]]
        facts, pairs = [], []
        for k in range(n_facts):
            free = [d for d, (dx, dy) in DIRECTIONS.items() if (cells[-1][0] + dx, cells[-1][1] + dy) not in cells]
            if not free:
                break
            d = _pick(rng, free)
            cells.append((cells[-1][0] + DIRECTIONS[d][0], cells[-1][1] + DIRECTIONS[d][1]))
            a, b = names[k + 1], names[k]  # the new place is d of the previous one
            if rng.random() < 0.5:
                a, b, d = b, a, OPPOSITE[d]
            facts.append(RELATION.format(a=a, d=d, b=b))
            pairs.append((a, d, b))
        if len(facts) == n_facts:
            break
    k = int(rng.integers(n_facts))
    a, d, b = pairs[k]
    if rng.random() < 0.5:
        return Story(4, facts, f"What is {d} of the {b}?", a, [k])
    return Story(4, facts, f"What is the {b} {OPPOSITE[d]} of?", a, [k])


def _facts_bounds(task: int, n_facts: int | tuple[int, int] | None) -> tuple[int, int]:
    task = check_int("task", task, 1, 5)
    default, (lo, hi) = N_FACTS[task]
    return as_range(f"n_facts (task {task})", default if n_facts is None else n_facts, lo, hi)


def babi_stories(n: int, *, seed: int, task: int, n_facts: int | tuple[int, int] | None = None) -> list[Story]:
    """``n`` stories of bAbI task ``task`` (1-5) with ``n_facts`` facts each (int or range)."""
    check_n(n)
    check_seed(seed)
    bounds = _facts_bounds(task, n_facts)
    rng = make_rng(seed)
    stories = []
    for size in sample_sizes(rng, bounds, n).tolist():
        if task == 4:
            stories.append(_relations_story(rng, size))
            continue
        for _ in range(MAX_TRIES):
            world = _World(GIVERS if task == 5 else PEOPLE)
            for _ in range(size):
                world.act(rng, WEIGHTS[task])
            qa = _question(task, world, rng)
            if qa is not None:
                stories.append(Story(task, world.facts, *qa))
                break
        else:
            raise RuntimeError(f"no answerable task-{task} story with {size} facts in {MAX_TRIES} tries")
    return stories


# ---------------------------------------------------------------- text and tokens


def _max_fact_len(task: int) -> int:
    longest = max(max(map(len, PEOPLE + GIVERS)), max(map(len, PLACES + OBJECTS)))
    templates = RELATION if task == 4 else max(MOVE + TAKE + DROP + GIVE, key=len)
    return len(templates) + 2 * longest


def babi_texts(
    n: int,
    *,
    seed: int,
    task: int,
    n_facts: int | tuple[int, int] | None = None,
    length: int | tuple[int, int] | None = None,
    corpus_split: str = "test",
) -> list[TextExample]:
    """bAbI stories as prompts and answers; with ``length``, hidden in corpus text (module doc)."""
    stories = babi_stories(n, seed=seed, task=task, n_facts=n_facts)
    rng = make_rng(seed + 1)  # a separate stream for the background, so stories do not depend on it
    if length is None or length == 0 or length == (0, 0):
        sizes = [0] * n
    else:
        most = _facts_bounds(task, n_facts)[1]
        need = most * (_max_fact_len(task) + 1) + len(QUESTION) + MAX_QA
        bounds = as_range(f"length (room for {most} facts and the question)", length, need, 1 << 24)
        sizes = sample_sizes(rng, bounds, n).tolist()
        from memnb.data.corpus import corpus_text

        text = corpus_text(corpus_split)
        if bounds[1] > len(text):
            raise ValueError(f"length {bounds[1]} exceeds the {corpus_split!r} split ({len(text)} chars)")
    examples = []
    for story, size in zip(stories, sizes, strict=True):
        tail = QUESTION.format(q=story.question)
        if size == 0:
            context, offsets = "\n".join(story.facts), np.cumsum([0] + [len(f) + 1 for f in story.facts[:-1]])
        else:
            context, offsets = _hide(rng, story.facts, text, size - len(tail) - len(story.answer))
        meta = {
            "length": size,
            "n_facts": len(story.facts),
            "supports": story.supports,
            "fact_pos": [int(x) for x in offsets],
            "depth": [float(offsets[i]) / max(len(context), 1) for i in story.supports],
            "question": story.question,
        }
        examples.append(TextExample(context + tail, story.answer, meta))
    return examples


def _hide(rng: np.random.Generator, facts: list[str], text: str, size: int) -> tuple[str, list[int]]:
    """Insert ``facts`` (each followed by a space) in order at word starts of a random window of
    ``text`` so that the result has exactly ``size`` characters; return it and the fact offsets."""
    window_len = size - sum(len(f) + 1 for f in facts)
    start = int(rng.integers(0, len(text) - window_len + 1))
    window = text[start : start + window_len]
    cuts = sorted(word_start(window, int(p)) for p in rng.integers(0, window_len + 1, size=len(facts)))
    parts, offsets, prev, shift = [], [], 0, 0
    for fact, cut in zip(facts, cuts, strict=True):
        parts += [window[prev:cut], fact + " "]
        offsets.append(cut + shift)
        shift += len(fact) + 1
        prev = cut
    parts.append(window[prev:])
    return "".join(parts), offsets


def make_babi(
    n: int,
    *,
    seed: int,
    task: int,
    n_facts: int | tuple[int, int] | None = None,
    length: int | tuple[int, int] | None = None,
    tokenizer: Tokenizer | None = None,
    corpus_split: str = "test",
) -> TaskBatch:
    """Tokenised ``babi_texts`` (characters by default); ``meta["split"]`` from ``length``."""
    examples = babi_texts(n, seed=seed, task=task, n_facts=n_facts, length=length, corpus_split=corpus_split)
    name = f"babi{task}"
    split = RANGES[name].split_of(e.meta["length"] for e in examples)
    return texts_to_batch(examples, tokenizer or get_tokenizer("char"), {"split": split}, name)
