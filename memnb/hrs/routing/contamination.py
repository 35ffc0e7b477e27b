"""The MAUVE "distributional contamination" finding, redone with controls on the pretrained reader
(book/appendix/hrs.md §4.3).

HRS reported that routing topic-matched context into the prompt raised MAUVE (0.919 → 0.962)
while "held-out perplexity" worsened (35.8 → 38.1). Its evidence had four flaws (the appendix):
the prompt was inserted into the clusters before retrieval (the context ended with the prompt
itself), the 500-token condition kept ~12 context tokens, the baselines came from another run
with twice the samples, and the perplexity scored the context tokens too. Here, per seed, with
the frozen reader SmolLM2-135M as the language model (it writes real text):

- **Plays.** Reference plays R (the prompts' plays) and other plays O. The routing pool is the
  chunks of chapter 32's part 1 at ``item_tokens`` (anchored in every play's first half); prompts
  come from the second half of the R plays.
- **Windows.** ``n`` prompt windows (``P`` prompt + ``C`` continuation tokens) drawn from the
  evaluation regions, balanced over R plays; ``n`` more windows give the *human* set (true text vs
  true text: the ceiling MAUVE can reach at this n).
- **Conditions** (a context of ≤ ``B`` tokens, then the prompt): ``none``; ``routed`` (the
  TopicContextManager over the pool, the prompt *routed without insertion*, the context assembled
  within B); ``same_play`` (B random contiguous tokens of the prompt's play's first half: the
  topic-matched context routing aims at); ``other_play_ref`` (another R play), ``other_domain``
  (an O play), ``seed_artifact`` (the seed's order: prompt inserted, then context assembled).
  A profile runs the subset ``conditions``.
- **Metrics.** ``cont_nll``: per prompt, the mean NLL (nats/token) of the true continuation's C
  tokens given context ⊕ prompt (context and prompt positions not scored). ``mauve``: MAUVE
  (``memnb.eval.mauve``, MiniLM features) of the n generated continuations against the n true
  ones, the same n, references and sampling seed in every condition, averaged over
  ``kmeans_seeds`` clustering seeds. ``d_mauve_boot``: a prompt-paired bootstrap of
  MAUVE(routed) − MAUVE(none) (prompts resampled jointly for references and both conditions).
  ``mauve_shuffled``: MAUVE of the human set with each continuation's tokens shuffled (a planted
  degradation the measure must see). Generations: ``transformers``' sampler, temperature 0.9,
  top-k 50 (the seed's settings), ``torch.manual_seed(seed)`` before each condition's batches.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from memnb.eval.mauve import mauve_features, text_features
from memnb.eval.pooling import unit
from memnb.hrs.routing.topic_manager import TopicContextManager

CONDITIONS = ("none", "routed", "same_play", "other_play_ref", "other_domain", "seed_artifact")
TEMPERATURE, TOP_K = 0.9, 50  # the seed's sampling settings
BATCH = 16  # rows per forward pass or generation batch


@dataclass(frozen=True)
class Setup:
    context: int  # B: context budget, tokens
    prompt: int  # P
    continuation: int  # C
    n: int  # prompts per seed (= MAUVE samples per side)
    conditions: tuple[str, ...]
    kmeans_seeds: int  # MAUVE clustering seeds averaged per score
    n_boot: int  # prompt-paired bootstrap replicates of ΔMAUVE per seed

    def check(self) -> None:
        bad = [c for c in self.conditions if c not in CONDITIONS]
        if bad or not {"none", "routed"} <= set(self.conditions):
            raise ValueError(
                f"conditions must be among {CONDITIONS} and include 'none' and 'routed', got {self.conditions}"
            )
        if min(self.prompt, self.continuation, self.n, self.kmeans_seeds) < 1 or self.context < 0 or self.n_boot < 0:
            raise ValueError(f"every size must be >= 1 (context, n_boot >= 0), got {self}")


@dataclass
class Window:
    play: str
    prompt: list[int]
    continuation: list[int]


def _slice(ids: list[int], length: int, rng: np.random.Generator) -> list[int]:
    s = int(rng.integers(0, len(ids) - length + 1))
    return ids[s : s + length]


def windows(
    ref_eval: dict[str, list[int]], setup: Setup, rng: np.random.Generator
) -> tuple[list[Window], list[Window]]:
    """(prompt windows, human windows): 2n non-overlapping windows, balanced over plays, play by play."""
    span = setup.prompt + setup.continuation
    plays = list(ref_eval)
    per_play = [setup.n // len(plays) + (i < setup.n % len(plays)) for i in range(len(plays))]
    prompts, human = [], []
    for title, k in zip(plays, per_play, strict=True):
        grid = np.arange(0, len(ref_eval[title]) - span + 1, span)
        if len(grid) < 2 * k:
            raise ValueError(f"{title}: {len(grid)} windows of {span} tokens, need {2 * k}; lower n")
        chosen = rng.choice(grid, 2 * k, replace=False)
        for dest, starts in ((prompts, np.sort(chosen[:k])), (human, chosen[k:])):
            for s in starts:
                ids = ref_eval[title][s : s + span]
                dest.append(Window(title, ids[: setup.prompt], ids[setup.prompt :]))
    return prompts, human


def build_manager(
    vectors: np.ndarray, tokens: list[list[int]], titles: list[str], join: float, budget: int, rng
) -> TopicContextManager:
    """A manager holding the pool items (unit engrams, tokens, play), streamed in random order."""
    mgr = TopicContextManager(join, budget=max(budget, 1))
    for i in rng.permutation(len(tokens)):
        mgr.insert(vectors[i], tokens[i], label=titles[i])
    return mgr


def contexts(
    prompt_vectors: np.ndarray,
    prompts: list[Window],
    pools: dict[str, list[int]],
    ref_titles: list[str],
    other_titles: list[str],
    manager: TopicContextManager,
    setup: Setup,
    rng: np.random.Generator,
) -> tuple[dict[str, list[list[int]]], list[bool]]:
    """The context of every prompt under every condition of ``setup``, and whether routing picked a
    cluster whose majority play is the prompt's."""
    B = setup.context
    out: dict[str, list[list[int]]] = {c: [] for c in setup.conditions}
    routed_ok = []
    seed_mgr = copy.deepcopy(manager)
    for w, v in zip(prompts, prompt_vectors, strict=True):
        others = [t for t in ref_titles if t != w.play]
        draws = {  # every draw is made for every prompt, so the conditions run share one random stream
            "same_play": _slice(pools[w.play], B, rng),
            "other_play_ref": _slice(pools[others[int(rng.integers(len(others)))]], B, rng),
            "other_domain": _slice(pools[other_titles[int(rng.integers(len(other_titles)))]], B, rng),
        }
        cid, _ = manager.route(v)
        routed_ok.append(cid is not None and manager.majority_label(cid) == w.play)
        seed_mgr.insert(v, w.prompt, label=w.play)
        made = {"none": [], "routed": manager.assemble()[-B:] if B else [], **draws}
        made["seed_artifact"] = seed_mgr.assemble()[-B:] if B else []
        for c in setup.conditions:
            out[c].append(made[c])
    return out, routed_ok


@torch.no_grad()
def continuation_nll(model: nn.Module, ctxs: list[list[int]], prompts: list[Window]) -> np.ndarray:
    """Per prompt: mean NLL (nats/token) of its continuation given context ⊕ prompt (a
    ``transformers`` causal LM; right-padded batches, only the continuation's logits computed)."""
    out = []
    for b in range(0, len(prompts), BATCH):
        rows = [c + w.prompt + w.continuation for c, w in zip(ctxs[b : b + BATCH], prompts[b : b + BATCH], strict=True)]
        width = max(map(len, rows))
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)], mask[i, : len(r)] = torch.tensor(r), 1
        h = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
        for i, (r, w) in enumerate(zip(rows, prompts[b : b + BATCH], strict=True)):
            C = len(w.continuation)
            logits = model.lm_head(h[i, len(r) - C - 1 : len(r) - 1]).float()
            out.append(float(torch.nn.functional.cross_entropy(logits, torch.tensor(w.continuation))))
    return np.array(out)


@torch.no_grad()
def generate(model: nn.Module, ctxs: list[list[int]], prompts: list[Window], n_tokens: int, seed: int, pad_id: int):
    """One sampled continuation of ``n_tokens`` tokens per prompt after context ⊕ prompt
    (left-padded batches; ``torch.manual_seed(seed)`` first, so every condition starts from the
    same random stream)."""
    torch.manual_seed(seed)
    out = []
    for b in range(0, len(prompts), BATCH):
        rows = [c + w.prompt for c, w in zip(ctxs[b : b + BATCH], prompts[b : b + BATCH], strict=True)]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r) :], mask[i, width - len(r) :] = torch.tensor(r), 1
        gen = model.generate(
            input_ids=ids, attention_mask=mask, do_sample=True, temperature=TEMPERATURE, top_k=TOP_K,
            max_new_tokens=n_tokens, min_new_tokens=n_tokens, pad_token_id=pad_id,
        )  # fmt: skip
        out += gen[:, width:].tolist()
    return out


def mauve_mean(p: np.ndarray, q: np.ndarray, seeds: int, base: int) -> float:
    """MAUVE averaged over ``seeds`` k-means seeds (base, base+1, …)."""
    return float(np.mean([mauve_features(p, q, seed=base + s) for s in range(seeds)]))


def paired_bootstrap(p: np.ndarray, q_a: np.ndarray, q_b: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` replicates of MAUVE(p, q_a) − MAUVE(p, q_b), prompts resampled jointly (row i of
    p, q_a and q_b belong to prompt i), one k-means seed per replicate."""
    rng = np.random.default_rng(seed)
    reps = []
    for b in range(n_boot):
        i = rng.integers(0, len(p), len(p))
        reps.append(mauve_features(p[i], q_a[i], seed=b) - mauve_features(p[i], q_b[i], seed=b))
    return np.array(reps)


def shuffled(token_lists: list[list[int]], rng: np.random.Generator) -> list[list[int]]:
    """Each list's tokens in random order (a planted degradation for MAUVE's control)."""
    return [list(rng.permutation(t)) for t in token_lists]


def run_seed(
    model: nn.Module,
    tok,
    ref_plays: dict[str, list[int]],
    other_plays: dict[str, list[int]],
    pool: tuple[np.ndarray, list[list[int]], list[str]],
    encode,
    setup: Setup,
    join: float,
    *,
    seed: int,
) -> dict:
    """One seed: per-condition rows and per-prompt NLLs, routing accuracy, the human ceiling, the
    planted control and the bootstrap. ``pool``: (raw engrams, tokens, play) of the routing pool;
    ``encode``: token lists of length P -> raw engrams; cosines are centred on the pool's mean."""
    setup.check()
    rng = np.random.default_rng(seed)
    plays = {**ref_plays, **other_plays}
    pools = {t: ids[: len(ids) // 2] for t, ids in plays.items()}
    ref_eval = {t: ids[len(ids) // 2 :] for t, ids in ref_plays.items()}
    prompts, human = windows(ref_eval, setup, rng)
    vectors, tokens, titles = pool
    centre = vectors.mean(0)
    manager = build_manager(unit(vectors - centre), tokens, titles, join, setup.context, rng)
    pv = unit(encode([w.prompt for w in prompts]) - centre)
    ctxs, routed_ok = contexts(pv, prompts, pools, list(ref_plays), list(other_plays), manager, setup, rng)
    refs = text_features([tok.decode(w.continuation) for w in prompts])
    pad = tok.eos_token_id
    rows, nll, feats = [], {}, {}
    for cond in setup.conditions:
        nll[cond] = continuation_nll(model, ctxs[cond], prompts)
        gens = generate(model, ctxs[cond], prompts, setup.continuation, seed, pad)
        feats[cond] = text_features([tok.decode(g) for g in gens])
        rows.append(
            {
                "seed": seed,
                "condition": cond,
                "cont_nll": float(nll[cond].mean()),
                "mauve": mauve_mean(refs, feats[cond], setup.kmeans_seeds, seed * 1000),
                "context_tokens": float(np.mean([len(c) for c in ctxs[cond]])),
                "example": tok.decode(gens[0]),
            }
        )
    human_cont = [w.continuation for w in human]
    boot = paired_bootstrap(refs, feats["routed"], feats["none"], setup.n_boot, seed)
    return {
        "rows": rows,
        "nll": nll,
        "mauve_human": mauve_mean(
            refs, text_features([tok.decode(t) for t in human_cont]), setup.kmeans_seeds, seed * 1000
        ),
        "mauve_shuffled": mauve_mean(
            refs, text_features([tok.decode(t) for t in shuffled(human_cont, rng)]), setup.kmeans_seeds, seed * 1000
        ),
        "d_mauve_boot": boot,
        "routing_acc": float(np.mean(routed_ok)),
        "n_clusters": len(manager.clusters),
        "example_prompt": tok.decode(prompts[0].prompt),
        "example_reference": tok.decode(prompts[0].continuation),
    }
