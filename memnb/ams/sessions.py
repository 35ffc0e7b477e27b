"""The session-viability harness of AMS (seed: AgentMemorySystem ``session_viability_v4.py``).

A *session* writes facts ("User: I work as a baker.") into a memory and then asks questions
whose answers are single entities of those facts. The seed runs one fixed session: the 20
facts and 10 queries in ``REPLICA_FACTS`` / ``REPLICA_QUERIES`` (verbatim from the
seed's harness; book/appendix/ams.md §2); ``N = 10`` uses facts 0-9, ``N = 20`` adds the ten impersonal
distractors 10-19, and all queries target facts 0-9. With ten queries a hit rate has a 95%
Wilson interval about ±30 pp wide, so this module also generates random sessions
(``make_session``): ``n_identity`` first-person facts over entity slots plus impersonal
distractors, one query per identity fact. Entities come from disjoint train / held-out lists
(``heldout=True`` for evaluation), so a correct answer must be read from memory, not from the
language model's prior.

Scorers (all case-insensitive, on the generated continuation):

- ``substring_hit``: the seed's scorer, keyword occurs as a substring ("thai" in "Thailand");
- ``word_hit``: keyword occurs as a whole word (``\\bkw\\b``);
- ``strict_hit``: keyword occurs as a whole word in the *first sentence/line* of the answer;
- ``degeneracy``: distinct-token ratio (distinct / total generated tokens) and the longest run
  of one repeated token.

Prompts are not built here: the book has one prompt builder for questions about facts,
``memnb.eval.reader.fact_prompt`` (chapter 40's harness, ``memnb.ams.harness``, reads fact
sessions about invented people through it). Retrieval baselines: BM25 (``rank_bm25.BM25Okapi``
on lower-cased word tokens) and the cosine of mean-pooled backbone hidden states (the seed's
v3.46 ``B_flat_cos``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from memnb.data.stories import HELDOUT_NAMES, TRAIN_NAMES
from memnb.eval import pooling
from memnb.seeding import rng as make_rng

REPLICA_FACTS = (
    "I love classical piano, especially Chopin nocturnes.",
    "My favorite composer is Beethoven, particularly the Ninth Symphony.",
    "Last summer I traveled to Tokyo and visited the Shibuya crossing.",
    "I work as a software engineer on distributed systems.",
    "My dog is a golden retriever named Max, he is three years old.",
    "I started learning Mandarin Chinese in January this year.",
    "I collect vinyl records; my latest is Kind of Blue by Miles Davis.",
    "I am allergic to peanuts and shellfish, so I avoid Thai food.",
    "I use a mechanical keyboard with Cherry MX Brown switches for coding.",
    "My sister is a marine biologist studying coral reefs in Australia.",
    "Chess openings like the Sicilian Defense require deep theoretical study.",
    "Sourdough bread depends on long fermentation for a complex flavor.",
    "Marathons require consistent training plans spread over several months.",
    "Film noir often uses low-key lighting and moral ambiguity.",
    "Lunar eclipses occur when Earth sits between the Sun and the Moon.",
    "Kubernetes schedules containers across a cluster using a control plane.",
    "Tea ceremonies in Kyoto follow precise, centuries-old protocols.",
    "Ancient Rome's aqueducts carried water across tens of kilometers.",
    "Sudoku puzzles are constraint-satisfaction problems solvable by backtracking.",
    "Honey crystallizes faster when stored below about ten degrees Celsius.",
)
# (query, keyword); query i targets fact i.
REPLICA_QUERIES = (
    ("What kind of music do I love?", "chopin"),
    ("Who is my favorite composer?", "beethoven"),
    ("Where did I travel last summer?", "tokyo"),
    ("What is my job?", "engineer"),
    ("What is my dog's name?", "max"),
    ("What language am I learning this year?", "mandarin"),
    ("What is the latest record in my collection?", "davis"),
    ("What cuisine should I avoid because of allergies?", "thai"),
    ("What keyboard switches do I use?", "brown"),
    ("What does my sister study?", "coral"),
)


@dataclass(frozen=True)
class Slot:
    """One kind of personal fact: its fact and question templates and its entity lists."""

    name: str
    fact: str
    question: str
    train: tuple[str, ...]
    heldout: tuple[str, ...]


SLOTS = (
    Slot("dog", "My dog is named {}.", "What is my dog's name?",
         tuple(n for n, _ in TRAIN_NAMES), tuple(n for n, _ in HELDOUT_NAMES)),
    Slot("travel", "Last summer I traveled to {}.", "Where did I travel last summer?",
         ("Paris", "London", "Madrid", "Rome", "Berlin", "Cairo", "Lima", "Oslo", "Dublin", "Vienna"),
         ("Tokyo", "Sydney", "Toronto", "Prague", "Nairobi", "Seoul")),
    Slot("job", "I work as a {}.", "What is my job?",
         ("baker", "farmer", "teacher", "doctor", "pilot", "nurse", "lawyer", "painter", "tailor", "builder"),
         ("engineer", "chemist", "plumber", "dentist", "florist", "jeweler")),
    Slot("language", "I started learning {} this year.", "What language am I learning this year?",
         ("French", "German", "Spanish", "Italian", "Greek", "Dutch", "Polish", "Arabic", "Hindi", "Swedish"),
         ("Mandarin", "Japanese", "Korean", "Turkish", "Russian", "Welsh")),
    Slot("composer", "My favorite composer is {}.", "Who is my favorite composer?",
         ("Bach", "Mozart", "Haydn", "Handel", "Verdi", "Brahms", "Liszt", "Ravel", "Elgar", "Purcell"),
         ("Beethoven", "Chopin", "Vivaldi", "Schubert", "Debussy", "Wagner")),
    Slot("cuisine", "I am allergic to nuts, so I avoid {} food.", "What cuisine should I avoid because of allergies?",
         ("Indian", "Mexican", "Lebanese", "Ethiopian", "Cuban", "Peruvian", "Moroccan", "Persian", "Syrian", "Somali"),
         ("Thai", "Malay", "Nepali", "Georgian", "Basque", "Cajun")),
    Slot("sister", "My sister is a biologist studying {}.", "What does my sister study?",
         ("whales", "bees", "ants", "frogs", "owls", "wolves", "sharks", "moths", "snails", "crabs"),
         ("coral", "lichens", "jellyfish", "otters", "beetles", "penguins")),
    Slot("color", "My favorite color is {}.", "What is my favorite color?",
         ("red", "blue", "green", "yellow", "purple", "orange", "pink", "grey", "black", "white"),
         ("brown", "teal", "maroon", "violet", "amber", "indigo")),
    Slot("record", "My latest record is by {}.", "Who made my latest record?",
         ("Smith", "Jones", "Taylor", "Walker", "Wright", "Green", "Hall", "Young", "King", "Scott"),
         ("Davis", "Parker", "Monk", "Coltrane", "Mingus", "Ellington")),
)  # fmt: skip
DISTRACTORS = (
    "Glaciers carve deep valleys as they move slowly downhill.",
    "Bridges expand slightly on hot days and shrink in the cold.",
    "Owls can turn their heads much farther than most birds.",
    "Volcanic soil is often rich and good for growing grapes.",
    "Lighthouses guided ships along rocky coasts for centuries.",
    "Bamboo is one of the fastest growing plants on the planet.",
    "Copper turns green when it reacts with air and water.",
    "Desert nights can be surprisingly cold after hot days.",
    "Tides rise and fall twice a day because of the moon.",
    "Paper was first made from bark, rags and plant fibers.",
    "Bees communicate the location of flowers with a dance.",
    "Old castles were built on hills to watch the land around them.",
    "Salt water freezes at a lower temperature than fresh water.",
    "Early clocks used falling water to measure the hours.",
    "Wool keeps sheep warm even when it is wet.",
    "Rivers carry sand and silt that build wide deltas.",
    "Thunder is the sound made by air heated by lightning.",
    "Maps drawn by sailors marked harbors, reefs and currents.",
    "Some trees live for thousands of years in the mountains.",
    "Windmills once ground grain into flour across the country.",
    "A rainbow appears when sunlight passes through raindrops.",
    "Caves form when water slowly dissolves limestone rock.",
    "Printing presses made books cheap enough for many readers.",
    "Penguins huddle together to stay warm through the winter.",
    "Canals linked rivers so that boats could carry heavy goods.",
    "Mushrooms grow best in dark and damp places.",
    "Telescopes gather faint light from very distant stars.",
    "Ice floats because it is less dense than liquid water.",
    "Markets in old towns sold bread, cheese and fresh fish.",
    "The heart pumps blood through the body without rest.",
    "Sand dunes move slowly as the wind pushes the grains.",
    "Snow reflects most of the sunlight that falls on it.",
)


@dataclass
class Session:
    """Facts in write order; queries as (question, keyword, index of the gold fact)."""

    facts: list[str]
    queries: list[tuple[str, str, int]]
    slots: list[str] = field(default_factory=list)  # slot name per query
    answers: list[str] = field(default_factory=list)  # the entity as written in the fact, per query


def replica_session(n_facts: int = 20) -> Session:
    """The seed's fixed session: facts 0..n_facts-1 (10 or 20), the same 10 queries."""
    if n_facts not in (10, 20):
        raise ValueError(f"the seed's session has N=10 or N=20 facts, got {n_facts}")
    return Session(
        list(REPLICA_FACTS[:n_facts]),
        [(q, kw, i) for i, (q, kw) in enumerate(REPLICA_QUERIES)],
        ["replica"] * 10,
        [kw for _, kw in REPLICA_QUERIES],
    )


def make_session(
    seed: int, *, n_identity: int = 5, n_distractors: int = 5, heldout: bool = True, n_total: int | None = None
) -> Session:
    """A random session: ``n_identity`` facts over distinct slots with one query each, plus
    distractors, shuffled. ``n_total`` (optional) pads with more distractors (store-size sweeps)."""
    if not 1 <= n_identity <= len(SLOTS):
        raise ValueError(f"n_identity must be in [1, {len(SLOTS)}], got {n_identity}")
    n_distractors = n_distractors if n_total is None else n_total - n_identity
    if not 0 <= n_distractors <= len(DISTRACTORS):
        raise ValueError(f"need 0 <= distractors <= {len(DISTRACTORS)}; got {n_distractors} (lower n_total)")
    r = make_rng(seed)
    slots = [SLOTS[i] for i in r.choice(len(SLOTS), size=n_identity, replace=False)]
    items: list[tuple[str, str | None, str | None, str]] = []
    for s in slots:
        pool = s.heldout if heldout else s.train
        ent = pool[int(r.integers(len(pool)))]
        items.append((s.fact.format(ent), s.question, ent, s.name))
    for i in r.choice(len(DISTRACTORS), size=n_distractors, replace=False):
        items.append((DISTRACTORS[int(i)], None, None, ""))
    order = r.permutation(len(items))
    items = [items[int(i)] for i in order]
    facts = [it[0] for it in items]
    queries = [(q, ent.lower(), i) for i, (_, q, ent, _) in enumerate(items) if q is not None]
    names = [it[3] for it in items if it[1] is not None]
    answers = [str(it[2]) for it in items if it[1] is not None]
    return Session(facts, queries, names, answers)


def candidates_for(slot: str, *, heldout: bool = True) -> list[str]:
    """The entity list a forced-choice query picks from (chance = 1 / len)."""
    for s in SLOTS:
        if s.name == slot:
            return list(s.heldout if heldout else s.train)
    raise ValueError(f"unknown slot {slot!r}; known: {[s.name for s in SLOTS]}")


# ---------------------------------------------------------------- scorers


def substring_hit(text: str, keyword: str) -> bool:
    """The seed's scorer: case-insensitive substring."""
    return keyword.lower() in text.lower()


def word_hit(text: str, keyword: str) -> bool:
    """Keyword as a whole word, case-insensitive."""
    return re.search(rf"\b{re.escape(keyword.lower())}\b", text.lower()) is not None


def first_sentence(text: str) -> str:
    """The answer up to its first sentence end (. ! ?) or newline, leading space stripped."""
    text = text.lstrip()
    m = re.search(r"[.!?\n]", text)
    return text if m is None else text[: m.start()]


def strict_hit(text: str, keyword: str) -> bool:
    """Keyword as a whole word inside the first sentence of the answer."""
    return word_hit(first_sentence(text), keyword)


def degeneracy(token_ids: Sequence[int]) -> tuple[float, int]:
    """(distinct-token ratio, longest run of one repeated token); (1.0, 0) for empty output."""
    ids = list(token_ids)
    if not ids:
        return 1.0, 0
    run = best = 1
    for a, b in zip(ids, ids[1:], strict=False):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return len(set(ids)) / len(ids), best


def score(text: str, token_ids: Sequence[int], keyword: str) -> dict:
    distinct, rep = degeneracy(token_ids)
    return {
        "substring": float(substring_hit(text, keyword)),
        "word": float(word_hit(text, keyword)),
        "strict": float(strict_hit(text, keyword)),
        "distinct": distinct,
        "max_repeat": float(rep),
    }


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval for k successes in n."""
    if n <= 0:
        raise ValueError("wilson needs n > 0")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return float(mid - half), float(mid + half)


# ---------------------------------------------------------------- retrieval baselines


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def bm25_rank(facts: Sequence[str], question: str) -> list[int]:
    """Fact indices by BM25 score (``rank_bm25.BM25Okapi``), best first, ties by index."""
    from rank_bm25 import BM25Okapi

    bm = BM25Okapi([_words(f) for f in facts])
    s = bm.get_scores(_words(question))
    return sorted(range(len(facts)), key=lambda i: (-float(s[i]), i))


def pooled_hidden(model, tok, texts: Sequence[str], *, batch_size: int = 1) -> torch.Tensor:
    """Mean over tokens of the backbone's last-layer hidden states (after the final LayerNorm),
    one row per text (float32): the seed's ``semantic_emb`` h. Each text is read alone
    (``batch_size=1``) or ``batch_size`` at a time, right-padded and masked, texts of similar length
    together: equal up to float rounding (tests/test_ams_model.py), ~4x faster on the CPU reader."""
    ids = [tok.encode(t) for t in texts]
    h = pooling.pooled_hidden(model, ids, layer=-1, batch_size=batch_size, sort=batch_size > 1)
    return torch.from_numpy(h).float()


def cosine_rank(fact_h: torch.Tensor, query_h: torch.Tensor) -> list[int]:
    """Fact indices by cosine(query, fact) of pooled hidden states, best first."""
    s = torch.nn.functional.cosine_similarity(fact_h, query_h[None], dim=-1)
    return sorted(range(len(s)), key=lambda i: (-float(s[i]), i))
