"""Trainer4 of AMS v4 and the v4.7 plan's QA objective (book/appendix/ams.md §4, §5 item 4, §7 E4).

One step (seed ``train_v4.py``): encode the batch's memory texts with gradients, compute the
losses, ``0.5·obj + 0.5·baa + 0.2·cbi + 0.1·write`` (``recon`` is 0 at every step in the seed: the
Kakeya registry needs 8 entries and a batch has 3), clip the gradient norm at 1, AdamW (3e-4,
wd 0.01).

Objectives (``obj``):

- ``psa`` (the seed's ``prefix_semantic_anchor``): for each of the 3 batch sentences (T ≥ 4
  tokens), split at ⌊T/2⌋; ``q_hidden`` = pooled state of the first half; prefix = cross-bundle
  attention over the 3 batch memories (**the target sentence is one of them**); cross-entropy of
  the second half after ``[prefix; first half]``. Corpus: the seed's 12 sentences, batch k =
  sentences ``3k mod 12 .. +2``; session summary ``S = h`` (as the seed trains).
- ``none``: no LM term (``obj = 0``): the auxiliary losses alone on the psa batches. Chapter 40
  trains its E2 topic variants so at ``cpu`` (the topic bases' own loss is ``baa``; the psa term
  reaches them only through the fibers, and costs a pass through the reader per sentence).
- ``qa`` (QA-format supervision, the objective most favourable to prefix recall): ``spec.batch``
  fact sessions per step (``data``: ``(facts, query text, prompt ids, target ids)``, taken in
  order, cyclically); each session's facts are written with gradients (EMA summary, as at
  inference); prefix over its memories with ``q_hidden`` = pooled query text; cross-entropy of the
  value's tokens after ``[prefix; prompt]``, every example of the step in one right-padded pass;
  ``baa``, ``cbi``, ``write`` averaged over the step's stores.

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
OBJECTIVES = ("psa", "none", "qa")


@dataclass(frozen=True)
class TrainSpec:
    objective: str = "psa"
    jaccard: str = "content"
    margin: float = 0.2
    diversity: bool = True
    steps: int = 60
    batch: int = 8  # sessions per step (qa)
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


def batch_for(spec: TrainSpec, step: int, tok, data=None) -> tuple[list, list]:
    """(memory texts, examples) of one step: psa / none, the seed corpus's 3 sentences with their
    (prompt text, prompt ids, target ids) half-splits; qa, ``spec.batch`` items of ``data`` (``[]``
    as texts: every example has its own store)."""
    if spec.objective == "qa":
        if not data:
            raise ValueError("the qa objective needs its training examples: train(..., data=qa_examples(...))")
        return [], [data[(step * spec.batch + b) % len(data)] for b in range(spec.batch)]
    k = (3 * step) % len(SEED_CORPUS)
    texts = list(SEED_CORPUS[k : k + 3])
    ex = []
    for t in texts:
        ids = tok.encode(t)
        if len(ids) >= 4:
            cut = len(ids) // 2
            ex.append((tok.decode(ids[:cut]), ids[:cut], ids[cut:]))
    return texts, ex


def qa_examples(reader, sessions) -> list[tuple[list[str], str, list[int], list[int]]]:
    """``(facts, query text, prompt ids, target ids)`` per fact session: the floor prompt with the
    stem (``memnb.eval.reader.fact_prompt``), the target the value with its leading space."""
    from memnb.ams.harness import query_text
    from memnb.eval.reader import fact_prompt

    tok = reader.tokenizer
    out = []
    for s in sessions:
        p = tok(fact_prompt(reader, (), s.question, s.stem), add_special_tokens=False).input_ids
        out.append((list(s.facts), query_text(s), p, tok(" " + s.answer, add_special_tokens=False).input_ids))
    return out


def qa_nll(model: AMS, examples) -> tuple[torch.Tensor, list]:
    """Mean over examples of the target's cross-entropy after ``[prefix; prompt]`` (one right-padded
    pass), and each example's store."""
    lm = model.backbone
    emb = lm.get_input_embeddings()
    seqs, stores = [], []
    for facts, qt, pids, tids in examples:
        store = model.encode(facts, summary="ema")
        prefix, _ = model.cross(model.pooled(qt), store.fiber)
        seqs.append(torch.cat([prefix, emb(torch.tensor(pids + tids))], 0))
        stores.append(store)
    width = max(len(e) for e in seqs)
    x = torch.zeros(len(seqs), width, seqs[0].shape[1])
    mask = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, e in enumerate(seqs):
        x[i, : len(e)] = e
        mask[i, : len(e)] = 1
    logits = lm(inputs_embeds=x, attention_mask=mask).logits
    losses = []
    for i, (*_, tids) in enumerate(examples):
        start = len(seqs[i]) - len(tids) - 1
        losses.append(nll.target_nll(logits[i, start : start + len(tids)], torch.tensor(tids)))
    return torch.stack(losses).mean(), stores


def step_loss(model: AMS, batch, state, *, spec: TrainSpec):
    """Trainer4's loss on one batch ``(memory texts, examples)``: ``0.5·obj + 0.5·baa + 0.2·cbi + 0.1·write``."""
    texts, examples = batch
    if spec.objective == "qa":
        obj, stores = qa_nll(model, examples)
    else:
        stores = [model.encode(texts, summary="self")]
        if spec.objective == "psa":
            obj = torch.stack([target_nll(model, stores[0], p, pi, ti) for p, pi, ti in examples]).mean()
        else:
            obj = torch.zeros(())
    baa = torch.stack([baa_loss(model, st, model.tok, spec) for st in stores]).mean()
    cbi = torch.stack([cbi_loss(st) for st in stores]).mean()
    wp = torch.stack([write_loss(st) for st in stores]).mean()
    total = 0.5 * obj + 0.5 * baa + 0.2 * cbi + 0.1 * wp
    return total, state, {"obj": obj.detach(), "baa": baa.detach(), "cbi": cbi.detach(), "write": wp.detach()}


def train(model: AMS, spec: TrainSpec, *, seed: int, data=None, progress: bool = False) -> list[dict]:
    """Train ``model`` in place (``memnb.train.train`` with ``spec.train_config()``); returns the
    per-step loss log (``total`` and its parts, rounded to 5 decimals). ``data``: the qa examples
    (``qa_examples``); ``seed`` seeds the loop (the batches are fixed by ``step``)."""
    history = loop.train(
        model,
        lambda step: batch_for(spec, step, model.tok, data),
        spec.train_config(),
        loss_fn=functools.partial(step_loss, spec=spec),
        desc=f"ams {spec.objective}",
        progress=progress,
    )
    model.eval()
    parts = ("obj", "baa", "cbi", "write")
    return [{"total": round(row["train_loss"], 5), **{k: round(row[k], 5) for k in parts}} for row in history]
