"""Trainer4 of AMS v4 and the v4.7 plan's alternative objectives (book/appendix/ams.md §4,
§5 item 4, §7 E4).

One step (seed ``train_v4.py``): encode the batch's memory texts with gradients (time scalars
``(i, 0, 0)``, topic centroid over all ids, session summary ``S = h``), compute the losses,
``0.5·obj + 0.5·baa + 0.2·cbi + 0.1·write`` (``recon`` is 0 at every step in the seed: the Kakeya
registry needs 8 entries and a batch has 3), clip the gradient norm at 1, AdamW (3e-4, wd 0.01).

Objectives (``obj``):

- ``psa`` (the seed's ``prefix_semantic_anchor``): for each of the 3 batch sentences (T ≥ 4
  tokens), split at ⌊T/2⌋; ``q_hidden`` = pooled state of the first half; prefix = cross-bundle
  attention over the 3 batch memories (**the target sentence is one of them**); cross-entropy of
  the second half after ``[prefix; first half]``. Corpus: the seed's 12 sentences, batch k =
  sentences ``3k mod 12 .. +2``.
- ``cloze`` (v4.7 fix 2, entity mask): a 10-memory train-entity session; for each personal fact,
  predict its entity after the fact's text up to the entity.
- ``qa`` (QA-format supervision): the same store; prompt ``"User: {q}\\nAssistant:"``, target
  ``" {entity}."``.

``baa`` (bundle_axis_alignment, mean of the parts): time ``1 − Pearson(base_time·axis_time, ts)``;
topic triplet ``mean relu(cos_neg − cos_pos + margin)`` with positive / negative = arg max / min
Jaccard of the token-id sets (``jaccard="raw"``: all ids, the seed's bug; ``"content"``: stopword
and punctuation tokens dropped, our stand-in for the seed's "ids ≥ 1000" BPE rule, which is
meaningless for another vocabulary); optional diversity hinge ``Σ_{i≠j} relu(cos_ij − 0.7)/(N(N−1))``;
ctx ``mean relu(0.3 − cos(ctx_base, axis_ctx))``. ``cbi``: each fiber → the mean of its
L2-normalised entries, ``mean over bundle pairs (|Pearson| − 0.3)²``. ``write``:
``mean relu(1 − ‖fiber‖)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from memnb.ams import sessions
from memnb.ams.model import AMS
from memnb.eval import nll
from memnb.train import TrainConfig, loop

SEED_CORPUS = (
    "He practiced piano for hours perfecting a difficult Chopin nocturne.",
    "She studied music theory and harmonic progression at the conservatory.",
    "The orchestra performed Beethoven symphony with remarkable precision.",
    "The telescope revealed distant galaxies beyond the Milky Way.",
    "Astronauts trained for the Mars mission in simulated zero gravity.",
    "The nebula emitted radiation across the electromagnetic spectrum.",
    "The pianist practiced arpeggios and Chopin nocturnes until midnight.",
    "A musician refined finger technique, phrasing, and pedal control.",
    "Classical interpretation often depends on dynamics, tempo rubato, and touch.",
    "A conservatory student studied etudes, scales, and expressive keyboard skills.",
    "Distant astronomers observed galaxies quasars and stellar evolution.",
    "Space orbital mechanics explains satellites and planetary motion.",
)
STOPWORDS = frozenset(
    "a an the i my me he she it we you they his her its our your their is am are was were be been "
    "to of in on at by for with and or so as that this these those from into over up down user "
    "assistant context what who where which do does did have has had".split()
)
OBJECTIVES = ("psa", "cloze", "qa")


@dataclass(frozen=True)
class TrainSpec:
    objective: str = "psa"
    jaccard: str = "content"
    margin: float = 0.2
    diversity: bool = True
    steps: int = 60
    lr: float = 3e-4
    weight_decay: float = 0.01
    clip: float = 1.0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.jaccard not in ("raw", "content"):
            raise ValueError(f"jaccard must be 'raw' or 'content', got {self.jaccard!r}")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")

    def train_config(self) -> TrainConfig:
        """The seed's optimiser: AdamW with torch's defaults (betas 0.9/0.999, every parameter
        decayed), a constant lr, the gradient norm clipped at ``clip``."""
        adamw = {"betas": (0.9, 0.999), "weight_decay": self.weight_decay, "decay_all": True}
        return TrainConfig(steps=self.steps, lr=self.lr, schedule="constant", warmup=0, grad_clip=self.clip, **adamw)


def pearson(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x, y = x - x.mean(), y - y.mean()
    return (x * y).sum() / (x.norm() * y.norm() + 1e-8)


def content_ids(tok, ids: list[int]) -> set[int]:
    """Token ids that are not stopwords or punctuation (decoded, stripped, lower-cased)."""
    keep = set()
    for t in ids:
        w = tok.decode([t]).strip().lower()
        if w and any(ch.isalpha() for ch in w) and w not in STOPWORDS:
            keep.add(t)
    return keep


def jaccard(a: set[int], b: set[int]) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def baa_loss(model: AMS, store, tok, spec: TrainSpec) -> torch.Tensor:
    M = len(store)
    parts = [1 - pearson(store.base["time"] @ model.axis("time"), torch.arange(M, dtype=torch.float))]
    sets = [set(i) if spec.jaccard == "raw" else content_ids(tok, i) for i in store.ids]
    tb = store.base["topic"]
    cos = tb @ tb.T
    trip = []
    for i in range(M):
        others = [j for j in range(M) if j != i]
        jac = [jaccard(sets[i], sets[j]) for j in others]
        pos, neg = (
            others[max(range(len(others)), key=lambda k: jac[k])],
            others[min(range(len(others)), key=lambda k: jac[k])],
        )
        trip.append(F.relu(cos[i, neg] - cos[i, pos] + spec.margin))
    parts.append(torch.stack(trip).mean())
    if spec.diversity:
        off = ~torch.eye(M, dtype=torch.bool)
        parts.append(F.relu(cos[off] - 0.7).sum() / (M * (M - 1)))
    parts.append(F.relu(0.3 - store.base["ctx"] @ model.axis("ctx")).mean())
    return torch.stack(parts).mean()


def cbi_loss(store) -> torch.Tensor:
    z = {b: F.normalize(f, dim=-1).mean(-1) for b, f in store.fiber.items()}
    pairs = (("time", "topic"), ("time", "ctx"), ("topic", "ctx"))
    return torch.stack([(pearson(z[a], z[b]).abs() - 0.3) ** 2 for a, b in pairs]).mean()


def write_loss(store) -> torch.Tensor:
    return torch.stack([F.relu(1 - f.norm(dim=-1)).mean() for f in store.fiber.values()]).mean()


def target_nll(model: AMS, store, prompt: str, prompt_ids: list[int], target_ids: list[int]) -> torch.Tensor:
    """Mean cross-entropy of ``target_ids`` after ``[prefix(q = pooled(prompt)); prompt_ids]``
    (``memnb.eval.nll.target_nll``)."""
    lm = model.backbone
    prefix, _ = model.cross(model.pooled(prompt), store.fiber)
    emb = lm.get_input_embeddings()(torch.tensor(prompt_ids + target_ids))
    logits = lm(inputs_embeds=torch.cat([prefix, emb], 0)[None]).logits[0]
    start = prefix.shape[0] + len(prompt_ids) - 1
    return nll.target_nll(logits[start : start + len(target_ids)], torch.tensor(target_ids))


def batch_for(spec: TrainSpec, step: int, seed: int, tok) -> tuple[list[str], list[tuple[str, list[int], list[int]]]]:
    """(memory texts, examples (prompt text, prompt ids, target ids)) for one step."""
    if spec.objective == "psa":
        k = (3 * step) % len(SEED_CORPUS)
        texts = list(SEED_CORPUS[k : k + 3])
        ex = []
        for t in texts:
            ids = tok.encode(t)
            if len(ids) >= 4:
                cut = len(ids) // 2
                ex.append((tok.decode(ids[:cut]), ids[:cut], ids[cut:]))
        return texts, ex
    s = sessions.make_session(7919 * seed + 104729 + step, heldout=False)
    ex = []
    for (q, _, gold), ent in zip(s.queries, s.answers, strict=True):
        if spec.objective == "qa":
            prompt = sessions.prompt_for(None, q, style="question")
            target = f" {ent}."
        else:
            fact = s.facts[gold]
            prompt, target = fact[: fact.index(ent)].rstrip(), " " + ent
        ex.append((prompt, tok.encode(prompt), tok.encode(target)))
    return s.facts, ex


def step_loss(model: AMS, batch, state, *, spec: TrainSpec):
    """Trainer4's loss on one batch ``(memory texts, examples)``: ``0.5·obj + 0.5·baa + 0.2·cbi + 0.1·write``."""
    texts, examples = batch
    store = model.encode(texts, summary="self")
    obj = torch.stack([target_nll(model, store, p, pi, ti) for p, pi, ti in examples]).mean()
    baa, cbi, wp = baa_loss(model, store, model.tok, spec), cbi_loss(store), write_loss(store)
    total = 0.5 * obj + 0.5 * baa + 0.2 * cbi + 0.1 * wp
    return total, state, {"obj": obj.detach(), "baa": baa.detach(), "cbi": cbi.detach(), "write": wp.detach()}


def train(model: AMS, spec: TrainSpec, *, seed: int, progress: bool = False) -> list[dict]:
    """Train ``model`` in place (``memnb.train.train`` with ``spec.train_config()``); returns the
    per-step loss log (``total`` and its parts, rounded to 5 decimals)."""
    history = loop.train(
        model,
        lambda step: batch_for(spec, step, seed, model.tok),
        spec.train_config(),
        loss_fn=functools.partial(step_loss, spec=spec),
        desc=f"ams {spec.objective}",
        progress=progress,
    )
    model.eval()
    parts = ("obj", "baa", "cbi", "write")
    return [{"total": round(row["train_loss"], 5), **{k: round(row[k], 5) for k in parts}} for row in history]
