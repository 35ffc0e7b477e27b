"""Same-domain distractors for the EGR needle test (chapter 31; issue 19: the seed's distractors,
and the book's first ones, were on other topics than the needles, which makes retrieval easy).

Every distractor is a short paragraph about an invented place, written from one of ``TEMPLATES``
with the needles' own vocabulary (``needles.KINDS``, ``COLOURS``, ``COUNTS``, invented names from
the same syllables, years 1100–1899): the same register and the same kinds of facts, so a key
can tell the needle apart only by what it says, not by its style or topic. One template even
mentions a bell. A distractor never uses a needle's exact sentences.

    places(n, seed) -> n paragraphs, template i = k mod len(TEMPLATES) for the k-th, slots drawn
    from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np

from memnb.hrs.retrieval.needles import COLOURS, COUNTS, KINDS, SYLLABLES

TEMPLATES = (
    "The {kind} of {name} lies in the hills above the town of {town}. Its {colour} roof was rebuilt in {year} "
    "after a fire, and {count} keepers still live there through the winter.",
    "{person} was a merchant of {town} who sailed to the islands of {name} in {year}. He came home with {count} "
    "chests of {colour} cloth and built a {kind} by the harbour.",
    "Every spring the people of {town} hold a fair beside the river {river}. Musicians play for {count} days, "
    "the streets are hung with {colour} banners, and the old {kind} opens its doors to visitors.",
    "The road from {town} to {name} crosses {count} bridges over the river {river}. In {year} a flood carried "
    "away the {colour} bridge, and travellers waited a month at the {kind} until it was rebuilt.",
    "In the archives of {town} there is a letter from {year} describing the {kind} of {name}: a long hall with "
    "{colour} windows, where {count} scholars copied maps by candlelight.",
    "The {kind} of {name} was abandoned in {year} when the river {river} changed its course. Only its {colour} "
    "tower remains, and shepherds say a bell is heard there {count} times a year.",
)


def _word(rng: np.random.Generator, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES, parts)).capitalize()


def places(n: int, seed: int) -> list[str]:
    """``n`` same-domain distractor paragraphs (deterministic in ``seed``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        slots = {
            "kind": str(rng.choice(KINDS)),
            "colour": str(rng.choice(COLOURS)),
            "count": str(rng.choice(COUNTS)),
            "name": _word(rng, 3),
            "town": _word(rng, 2),
            "river": _word(rng, 2),
            "person": f"{_word(rng, 2)} {_word(rng, 3)}",
            "year": str(int(rng.integers(1100, 1900))),
        }
        out.append(TEMPLATES[k % len(TEMPLATES)].format(**slots))
    return out
