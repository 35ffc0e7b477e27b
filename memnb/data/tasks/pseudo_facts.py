"""Facts about invented entities: the copy control of a pretrained reader (issue 18).

A *fact session* holds ``n_facts`` facts about invented pseudo-word people ("Dovaru's favourite
colour is teal."), each a (person, attribute, value) triple from ``ATTRIBUTES``, and one question
about one of them. The names are drawn from consonant–vowel syllables, so a pretrained model
cannot know the answer: without the fact in its prompt it can only guess (the floor), with the
gold fact alone in its prompt it need only copy (the oracle), and with every fact of the session
(the gold one among distractors of the same templates) it must pick the right one (D).

The reader's reply is **prefilled with the fact's stem** ("Dovaru's favourite colour is"), so a
strict match of the next word against the value is a fair score; asked plainly, an instruct model
answers in sentences. Within a session the people are distinct and each attribute's values are
distinct, so a distractor of the same attribute always has another value.

>>> s = make_fact_sessions(1, seed=0)[0]
>>> s.question.endswith("?") and s.answer in s.gold_fact and s.gold_fact in s.facts
True
"""

from __future__ import annotations

from dataclasses import dataclass

from memnb.data.tasks.base import check_int, check_n, check_seed
from memnb.seeding import rng as make_rng

ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
VOWELS = ("a", "e", "i", "o", "u")

# attribute -> (fact template, question template, values): one word each, lower case
ATTRIBUTES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "colour": ("{p}'s favourite colour is {v}.", "What is {p}'s favourite colour?",
               ("teal", "amber", "crimson", "violet", "olive", "maroon", "indigo", "silver")),
    "city": ("{p}'s home city is {v}.", "What is {p}'s home city?",
             ("Lisbon", "Oslo", "Lima", "Dublin", "Nairobi", "Prague", "Seoul", "Quito")),
    "pet": ("{p}'s pet is a {v}.", "What is {p}'s pet?",
            ("ferret", "parrot", "tortoise", "hamster", "rabbit", "goldfish", "lizard", "cat")),
    "instrument": ("{p}'s instrument is the {v}.", "What is {p}'s instrument?",
                   ("oboe", "cello", "banjo", "harp", "trumpet", "violin", "flute", "drums")),
    "drink": ("{p}'s favourite drink is {v}.", "What is {p}'s favourite drink?",
              ("cocoa", "lemonade", "coffee", "cider", "milk", "tea", "juice", "water")),
}  # fmt: skip


def pseudo_word(rng, syllables: int = 3) -> str:
    """A capitalised consonant–vowel pseudo-word ("Dovaru")."""
    return "".join(str(rng.choice(ONSETS)) + str(rng.choice(VOWELS)) for _ in range(syllables)).capitalize()


@dataclass(frozen=True)
class FactSession:
    """Facts (sentences) about invented people, one question, its gold fact, stem and answer."""

    facts: tuple[str, ...]
    question: str
    gold_fact: str
    stem: str  # the reply's prefill: the gold fact up to its value
    answer: str
    attribute: str

    @property
    def candidates(self) -> tuple[str, ...]:
        """Every value the gold attribute can take (the forced choice's options)."""
        return ATTRIBUTES[self.attribute][2]


def make_fact_sessions(n: int, *, seed: int, n_facts: int = 7) -> list[FactSession]:
    """``n`` sessions of ``n_facts`` facts (people distinct; per attribute, values distinct)."""
    check_n(n)
    check_seed(seed)
    n_facts = check_int("n_facts", n_facts, 1, 8)  # 8 values per attribute: always enough
    rng = make_rng(seed)
    names = list(ATTRIBUTES)
    out = []
    for _ in range(n):
        people: list[str] = []
        while len(people) < n_facts:
            w = pseudo_word(rng)
            if w not in people:
                people.append(w)
        attrs = [names[i] for i in rng.integers(0, len(names), size=n_facts)]
        used: dict[str, list[str]] = {}
        facts = []
        for p, a in zip(people, attrs, strict=True):
            fact_t, _, values = ATTRIBUTES[a]
            free = [v for v in values if v not in used.get(a, [])]
            v = str(rng.choice(free))
            used.setdefault(a, []).append(v)
            facts.append((p, a, v, fact_t.format(p=p, v=v)))
        order = rng.permutation(n_facts)
        facts = [facts[i] for i in order]
        p, a, v, gold = facts[int(rng.integers(0, n_facts))]
        fact_t, question_t, _ = ATTRIBUTES[a]
        stem = fact_t.split("{v}")[0].format(p=p).rstrip()
        out.append(FactSession(tuple(f[3] for f in facts), question_t.format(p=p), gold, stem, v, a))
    return out
