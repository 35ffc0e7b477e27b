"""A procedural TinyStories-like corpus: short, simple English stories with known topics.

TinyStories is not reachable offline, so stories are built from templates: an opening that
introduces a child (the named entity), a body of sentences from one of eight topics (kept in
the topic's order; past six, topic-neutral sentences are mixed in), and a closing line.
Every story has a ``topic`` (its theme, a routing label), ``entities`` (the names in it), a
``place`` and an ``object``. Names come from two disjoint lists:
``TRAIN_NAMES`` for ordinary stories and ``HELDOUT_NAMES`` (``heldout=True``) for a test
set whose characters never appear in training.

>>> make_stories(1, seed=0, n_sentences=4)[0]["text"]  # doctest: +NORMALIZE_WHITESPACE
'There once was a happy girl called Rosa. It was time for bed, but Rosa was not sleepy.
 She looked out the window at the moon and the stars. Rosa learned that it is good to be happy.'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from memnb.data.tasks.base import as_range, check_n, check_seed
from memnb.seeding import rng as make_rng

if TYPE_CHECKING:
    import datasets

# (name, "girl"/"boy"): pronouns follow from the second field.
TRAIN_NAMES = (
    ("Lily", "girl"), ("Tom", "boy"), ("Mia", "girl"), ("Ben", "boy"), ("Anna", "girl"), ("Max", "boy"),
    ("Sue", "girl"), ("Sam", "boy"), ("Lucy", "girl"), ("Tim", "boy"), ("Emma", "girl"), ("Jack", "boy"),
    ("Zoe", "girl"), ("Leo", "boy"), ("Ella", "girl"), ("Finn", "boy"), ("Rosa", "girl"), ("Noah", "boy"),
    ("Ivy", "girl"), ("Omar", "boy"),
)  # fmt: skip
HELDOUT_NAMES = (
    ("Nora", "girl"), ("Eli", "boy"), ("Hana", "girl"), ("Kofi", "boy"), ("Tess", "girl"), ("Ravi", "boy"),
)  # fmt: skip
PLACES = ("park", "garden", "forest", "beach", "kitchen", "yard", "meadow", "school")
OBJECTS = ("ball", "kite", "teddy bear", "red hat", "toy car", "blue cup", "book", "doll")
ADJECTIVES = ("happy", "kind", "curious", "brave", "shy", "cheerful")

OPENINGS = (
    "Once upon a time, there was a little {kind} named {name}.",
    "There once was a {adj} {kind} called {name}.",
    "{name} was a {adj} little {kind} who lived near a big {place}.",
)
CLOSINGS = (
    "From that day on, {name} was very happy.",
    '{name} smiled and said, "This was the best day ever!"',
    "That night, {name} went to sleep with a big smile.",
    "{name} learned that it is good to be {adj}.",
)
TOPICS = {
    "friendship": (
        "One day, {name} met {friend} at the {place}.",
        "{friend} wanted to play with {name}'s {object}.",
        '{name} said, "Let\'s play together!"',
        "They played with the {object} all day long.",
        "{friend} and {name} laughed and ran around the {place}.",
        "{name} was glad to have a new friend.",
    ),
    "lost_toy": (
        "{name} had a {object} that {pron} loved very much.",
        "One day, {name} could not find the {object}.",
        "{Pron} looked under the bed and behind the door.",
        "{Pron} felt sad and began to cry.",
        "Then {friend} came to help {obj}.",
        "They found the {object} in the {place}.",
    ),
    "baking": (
        "{name} wanted to bake a cake with {poss} mom.",
        "They put flour, eggs and sugar in a big bowl.",
        "{name} stirred and stirred until the batter was smooth.",
        "The kitchen smelled sweet and warm.",
        "When the cake was ready, {name} shared it with {friend}.",
        "The cake was soft and yummy.",
    ),
    "rain": (
        "One morning, dark clouds filled the sky over the {place}.",
        "Soon, big drops of rain began to fall.",
        "{name} put on {poss} boots and {poss} red coat.",
        "{Pron} jumped in every puddle and got very wet.",
        "After the rain, a bright rainbow came out.",
        "{name} showed the rainbow to {friend}.",
    ),
    "animals": (
        "One day, {name} found a little puppy in the {place}.",
        "The puppy was cold and hungry.",
        "{name} gave the puppy some milk and a warm blanket.",
        "The puppy wagged its tail and licked {poss} hand.",
        "{friend} helped {obj} look for the puppy's home.",
        "The puppy's family was so happy to see it again.",
    ),
    "bedtime": (
        "It was time for bed, but {name} was not sleepy.",
        "{Pron} looked out the window at the moon and the stars.",
        "{Poss} dad read {obj} a story about a dragon.",
        "{name} held {poss} {object} close.",
        "Slowly, {poss} eyes began to close.",
        "{name} dreamed of playing in the {place} with {friend}.",
    ),
    "garden": (
        "{name} found a small seed in the {place}.",
        "{Pron} planted the seed and gave it some water.",
        "Every day, {name} checked on the little plant.",
        "The sun was warm and the plant grew tall.",
        "One morning, a big yellow flower opened.",
        "{name} picked the flower and gave it to {friend}.",
    ),
    "sharing": (
        "{name} had a shiny {object} at the {place}.",
        "{friend} looked at the {object} and felt sad.",
        "{friend} did not have a toy to play with.",
        "{name} thought for a moment and then shared the {object}.",
        '{friend} said, "Thank you, {name}!"',
        "Sharing made them both feel warm inside.",
    ),
}
GENERIC = (
    "The sun was shining and the birds were singing.",
    "{name} hummed a happy song.",
    "A soft wind blew through the {place}.",
    "{Pron} saw a butterfly fly by.",
    "{name} took a deep breath and smiled.",
    "Everything was calm and quiet.",
    "{friend} waved hello from far away.",
    "{name} ate a red apple for a snack.",
)
MAX_SENTENCES = 2 + max(map(len, TOPICS.values())) + len(GENERIC)
PRONOUNS = {"girl": ("she", "her", "her"), "boy": ("he", "him", "his")}


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def make_stories(
    n: int, *, seed: int, n_sentences: int | tuple[int, int] = (5, 10), heldout: bool = False
) -> list[dict]:
    """``n`` stories with ``n_sentences`` sentences each (opening + topic body + closing).

    Each story is ``{"text", "topic", "entities", "place", "object"}``; ``entities`` lists the
    child's name and, if it appears, the friend's. ``heldout=True`` draws names from ``HELDOUT_NAMES``.
    """
    check_n(n)
    check_seed(seed)
    lo, hi = as_range("n_sentences", n_sentences, 3, MAX_SENTENCES)
    rng = make_rng(seed)
    names = HELDOUT_NAMES if heldout else TRAIN_NAMES
    topics = sorted(TOPICS)
    stories = []
    for _ in range(n):
        child, friend = (names[i] for i in rng.choice(len(names), size=2, replace=False))
        topic = topics[int(rng.integers(len(topics)))]
        subject, object_, possessive = PRONOUNS[child[1]]
        slots = {
            "name": child[0],
            "kind": child[1],
            "friend": friend[0],
            "place": PLACES[int(rng.integers(len(PLACES)))],
            "object": OBJECTS[int(rng.integers(len(OBJECTS)))],
            "adj": ADJECTIVES[int(rng.integers(len(ADJECTIVES)))],
            "pron": subject,
            "Pron": subject.capitalize(),
            "obj": object_,
            "poss": possessive,
            "Poss": possessive.capitalize(),
        }
        n_body = int(rng.integers(lo, hi + 1)) - 2
        topical = TOPICS[topic]
        body = [topical[i] for i in sorted(rng.choice(len(topical), size=min(n_body, len(topical)), replace=False))]
        for extra in rng.choice(len(GENERIC), size=n_body - len(body), replace=False):
            body.insert(int(rng.integers(len(body) + 1)), GENERIC[extra])
        sentences = [OPENINGS[int(rng.integers(len(OPENINGS)))], *body, CLOSINGS[int(rng.integers(len(CLOSINGS)))]]
        text = " ".join(_fill(s, slots) for s in sentences)
        stories.append(
            {
                "text": text,
                "topic": topic,
                "entities": [child[0]] + ([friend[0]] if friend[0] in text else []),
                "place": slots["place"],
                "object": slots["object"],
            }
        )
    return stories


def stories_dataset(
    n_train: int = 2000, n_validation: int = 200, n_test: int = 200, *, seed: int = 0, n_sentences=(5, 10)
) -> datasets.DatasetDict:
    """Train / validation stories with ``TRAIN_NAMES`` and a test split with ``HELDOUT_NAMES``."""
    import datasets

    seeds = np.random.SeedSequence(seed).generate_state(3)
    splits = {
        "train": make_stories(n_train, seed=int(seeds[0]), n_sentences=n_sentences),
        "validation": make_stories(n_validation, seed=int(seeds[1]), n_sentences=n_sentences),
        "test": make_stories(n_test, seed=int(seeds[2]), n_sentences=n_sentences, heldout=True),
    }
    return datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in splits.items()})
