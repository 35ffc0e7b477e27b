"""Synthetic needles for the EGR needle-in-a-haystack test (chapter 31's redesign; why the seed's
test was easy: book/appendix/hrs.md §4).

The seed hand-wrote 5 fictional needle paragraphs, each with a question that names the needle's
unique proper noun. Here every needle is drawn from one template with invented names, so there
are as many as a test needs and none can be in any model's training text:

    text:       "The {kind} of {Name} stands beside the river {River}. It was founded in {year} by
                 {Founder}, ... its {colour} gates and the bell that rings {count} times at dawn."
    question:   "Who founded the {kind} of {Name}, and in which year?"    (names the needle)
    paraphrase: "Which {kind'}, with {colour'} entrances, sounds {count as digits} peals every
                 sunrise?"  ({kind'}, {colour'}: a synonym from ``KIND_SYNONYMS`` / ``COLOUR_SYNONYMS``)

The paraphrase shares **no content word** with the needle (``content_words``: lower-cased words
outside ``STOPWORDS``, two words counting as shared when they share their first 5 letters, so
"rings"/"ring" or "founded"/"founder" do): it can match only by meaning. ``answer`` holds the
founder and the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sel", "dun", "qua", "bri", "zan", "mor", "pel", "thi", "gor")
SYLLABLES += ("ash", "lyn", "dre", "vos", "kel", "ith", "bar", "nu", "ost", "fen", "rho", "sta", "quel", "wyn")
KINDS = ("observatory", "monastery", "shipyard", "library", "foundry", "lighthouse", "academy", "vineyard", "mill")
COLOURS = ("red", "green", "blue", "white", "black", "golden", "silver", "grey", "yellow", "violet")
COUNTS = ("three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
# Synonyms that share no content word (nor 5-letter stem) with the needle template's words.
KIND_SYNONYMS = {
    "observatory": "stargazing station",
    "monastery": "cloister",
    "shipyard": "boatworks",
    "library": "archive",
    "foundry": "ironworks",
    "lighthouse": "beacon",
    "academy": "college",
    "vineyard": "winery",
    "mill": "grinding house",
}
COLOUR_SYNONYMS = {
    "red": "scarlet",
    "green": "emerald",
    "blue": "azure",
    "white": "ivory",
    "black": "ebony",
    "golden": "gilded",
    "silver": "mirror-bright",
    "grey": "slate-coloured",
    "yellow": "saffron",
    "violet": "purple",
}
COUNT_DIGITS = {c: str(i) for i, c in enumerate(COUNTS, start=3)}
STOPWORDS = frozenset(
    "a an and the of in on at by to for from with its it is was which who what whose there that this "
    "every each has have had be as or".split()
)
# Each needle takes two distinct two-syllable names (river, founder's first name) of the 29² = 841
# there are, and one distinct (kind, colour, count) triple of 900: 400 needles always fit.
MAX_NEEDLES = 400


@dataclass(frozen=True)
class Needle:
    name: str
    text: str
    question: str
    paraphrase: str
    answer: tuple[str, str]


def _invented(rng: np.random.Generator, taken: set[str], parts: int) -> str:
    for _ in range(100_000):
        word = "".join(rng.choice(SYLLABLES, parts)).capitalize()
        if word not in taken:
            taken.add(word)
            return word
    raise RuntimeError(f"no unused {parts}-syllable name left after {len(taken)} names")


def make_needles(n: int, seed: int) -> list[Needle]:
    """``n`` needles with distinct invented names and distinct (kind, colour, count) triples."""
    if not 1 <= n <= MAX_NEEDLES:
        raise ValueError(f"n must be in 1..{MAX_NEEDLES}, got {n}")
    rng = np.random.default_rng(seed)
    taken: set[str] = set()
    triples = rng.permutation(MAX_NEEDLES)[:n]
    needles = []
    for t in triples:
        kind, colour, count = KINDS[t // 100], COLOURS[t // 10 % 10], COUNTS[t % 10]
        name, river = _invented(rng, taken, 3), _invented(rng, taken, 2)
        founder = f"{_invented(rng, taken, 2)} {_invented(rng, taken, 3)}"
        year = str(int(rng.integers(1100, 1900)))
        text = (
            f"The {kind} of {name} stands beside the river {river}. It was founded in {year} by {founder}, "
            f"who brought the first stones there by cart. Travellers remember its {colour} gates and the "
            f"bell that rings {count} times at dawn."
        )
        question = f"Who founded the {kind} of {name}, and in which year?"
        paraphrase = (
            f"Which {KIND_SYNONYMS[kind]}, with {COLOUR_SYNONYMS[colour]} entrances, sounds "
            f"{COUNT_DIGITS[count]} peals every sunrise?"
        )
        needles.append(Needle(name, text, question, paraphrase, (founder, year)))
    return needles


def content_words(text: str) -> set[str]:
    """Lower-cased words (letters and digits, split at hyphens) of ``text`` outside ``STOPWORDS``."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def shared_content_words(a: str, b: str, stem: int = 5) -> set[str]:
    """Content words of ``a`` that also occur in ``b``, two words matching when equal or when both
    are at least ``stem`` letters long and begin with the same ``stem`` letters."""
    wb = content_words(b)
    stems = {w[:stem] for w in wb if len(w) >= stem}
    return {w for w in content_words(a) if w in wb or (len(w) >= stem and w[:stem] in stems)}
