"""The MAUVE "distributional contamination" finding, redone with controls (book/appendix/hrs.md §5).

HRS reported that routing topic-matched context into the prompt raised MAUVE (0.919 → 0.962)
while "held-out perplexity" worsened (35.8 → 38.1). Its evidence had four flaws
(book/appendix/hrs.md §5): the prompt was inserted into the clusters before retrieval (the
context ended with the prompt itself), the 500-token condition kept ~12 context tokens, the
baselines came from another run with twice the samples, and the perplexity scored the context
tokens too. Here, per seed:

- **Plays.** Reference plays R (the prompts' plays) and other plays O, all held out. Each R play's
  first half is its *context pool*, its second half the *evaluation region*; O plays are pools only.
- **Windows.** ``n`` prompt windows (prompt ``P`` tokens + true continuation ``C`` tokens) drawn from
  the evaluation regions, balanced over R plays and ordered play by play (the seed walked the test
  stream at a uniform stride); ``n`` more windows give the *human* set (true text vs true text, the
  ceiling MAUVE can reach at this n).
- **Conditions** (context of ≤ ``B`` tokens, then the prompt; ``B + P + C`` ≤ the trained window):
  ``none``; ``same_play`` (B random contiguous tokens of the prompt's play pool); ``routed`` (the
  TopicContextManager over pool chunks of R ∪ O, the prompt *routed without insertion*, context
  assembled within B); ``other_play_ref`` (B tokens of another R play: inside the reference
  distribution, wrong topic); ``other_domain`` (B tokens of an O play: outside it);
  ``seed_artifact`` (the seed's order: prompt inserted, then context assembled, so the context ends
  with the prompt, which is then appended again; test prompts accumulate in the clusters).
- **Metrics.** ``cont_nll``: mean NLL (nats/token) of the true continuation's C tokens given
  context ⊕ prompt (context and prompt positions masked out). ``seed_ppl``: the seed's metric, per
  sample exp(mean CE over *all* positions of context ⊕ prompt ⊕ continuation), averaged
  arithmetically. ``mauve``: MAUVE (``memnb.eval.mauve``, MiniLM features) of the generated C-token
  continuations against the n true continuations, the same n for every condition, averaged over
  ``kmeans_seeds`` clustering seeds; ``mauve_seed_protocol``: the same with the prompt decoded into
  both sides (the seed's protocol). ``distinct2``: distinct token bigrams / all bigrams of the
  generations. Generations: ``memnb.eval.sampling.sample`` (temperature 0.9, top-k 50 as in the seed) with
  one sampling seed per prompt shared by all conditions (common random numbers).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from memnb.eval.mauve import mauve_features, text_features
from memnb.eval.nll import target_nll
from memnb.eval.sampling import sample
from memnb.hrs.routing.engram import engrams
from memnb.hrs.routing.topic_manager import TopicContextManager

CONDITIONS = ("none", "same_play", "routed", "other_play_ref", "other_domain", "seed_artifact")
TEMPERATURE, TOP_K = 0.9, 50  # the seed's sampling settings


@dataclass(frozen=True)
class Setup:
    context: int  # B: context budget, tokens
    prompt: int  # P
    continuation: int  # C
    n: int  # prompts per seed (= MAUVE samples per side)
    pool_items: int  # manager pool chunks per play
    item_tokens: int  # tokens per pool chunk
    kmeans_seeds: int  # MAUVE clustering seeds averaged per score

    def check(self, window: int) -> None:
        if self.context + self.prompt + self.continuation > window:
            raise ValueError(
                f"context {self.context} + prompt {self.prompt} + continuation {self.continuation} tokens exceed the "
                f"backbone's trained window of {window}; shrink one of them"
            )
        if min(self.prompt, self.continuation, self.n, self.item_tokens, self.kmeans_seeds) < 1 or self.context < 0:
            raise ValueError(f"every size must be >= 1 (context >= 0), got {self}")


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
    model: nn.Module, pools: dict[str, list[int]], setup: Setup, join: float, *, layer: int, window: int, rng
) -> TopicContextManager:
    """A manager holding ``pool_items`` random chunks per pool play, streamed in random order."""
    items = []
    for title, ids in pools.items():
        grid = np.arange(0, len(ids) - setup.item_tokens + 1, setup.item_tokens)
        for s in rng.choice(grid, min(setup.pool_items, len(grid)), replace=False):
            items.append((title, ids[s : s + setup.item_tokens]))
    items = [items[i] for i in rng.permutation(len(items))]
    e = engrams(model, [t for _, t in items], layer=layer, window=window)
    mgr = TopicContextManager(join, budget=max(setup.context, 1))
    for (title, toks), v in zip(items, e, strict=True):
        mgr.insert(v, toks, label=title)
    return mgr


def contexts(
    model: nn.Module,
    prompts: list[Window],
    pools: dict[str, list[int]],
    ref_titles: list[str],
    other_titles: list[str],
    manager: TopicContextManager,
    setup: Setup,
    *,
    layer: int,
    window: int,
    rng: np.random.Generator,
) -> tuple[dict[str, list[list[int]]], list[bool]]:
    """The context of every prompt under every condition, and whether routing hit the prompt's play."""
    B = setup.context
    out: dict[str, list[list[int]]] = {c: [] for c in CONDITIONS}
    routed_ok = []
    e = engrams(model, [w.prompt for w in prompts], layer=layer, window=window)
    seed_mgr = copy.deepcopy(manager)
    for w, v in zip(prompts, e, strict=True):
        out["none"].append([])
        out["same_play"].append(_slice(pools[w.play], B, rng))
        others = [t for t in ref_titles if t != w.play]
        out["other_play_ref"].append(_slice(pools[others[int(rng.integers(len(others)))]], B, rng))
        out["other_domain"].append(_slice(pools[other_titles[int(rng.integers(len(other_titles)))]], B, rng))
        cid, _ = manager.route(v)
        out["routed"].append(manager.assemble()[-B:] if B else [])
        routed_ok.append(cid is not None and manager.majority_label(cid) == w.play)
        seed_mgr.insert(v, w.prompt, label=w.play)
        out["seed_artifact"].append(seed_mgr.assemble()[-B:] if B else [])
    return out, routed_ok


@torch.inference_mode()
def nll_scores(model: nn.Module, ctxs: list[list[int]], prompts: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """(continuation-only NLL per sample, the seed's all-position PPL per sample)."""
    cont, seed = [], []
    for c, w in zip(ctxs, prompts, strict=True):
        ids = torch.tensor([c + w.prompt + w.continuation])
        logits = model(input_ids=ids).logits[0, :-1]
        ce = target_nll(logits.float(), ids[0, 1:], reduction="none")
        cont.append(float(ce[-len(w.continuation) :].mean()))
        seed.append(float(torch.exp(ce.mean())))
    return np.array(cont), np.array(seed)


def generate(
    model: nn.Module, ctxs: list[list[int]], prompts: list[Window], n_tokens: int, seed: int
) -> list[list[int]]:
    """One sampled continuation per prompt (KV-cached); prompt i uses sampling seed (seed, i) in every condition."""
    return [
        sample(model, c + w.prompt, n_tokens, temperature=TEMPERATURE, top_k=TOP_K, seed=seed * 100_003 + i)
        for i, (c, w) in enumerate(zip(ctxs, prompts, strict=True))
    ]


def distinct2(token_lists: list[list[int]]) -> float:
    """Distinct token bigrams / all bigrams over a set of generations."""
    grams = [tuple(t[i : i + 2]) for t in token_lists for i in range(len(t) - 1)]
    return len(set(grams)) / max(1, len(grams))


def mauve_mean(p: np.ndarray, q: np.ndarray, seeds: int, base: int) -> float:
    """MAUVE averaged over ``seeds`` k-means seeds (base, base+1, …)."""
    return float(np.mean([mauve_features(p, q, seed=base + s) for s in range(seeds)]))


def run_seed(
    model: nn.Module,
    tok,
    ref_plays: dict[str, list[int]],
    other_plays: dict[str, list[int]],
    setup: Setup,
    join: float,
    *,
    layer: int,
    window: int,
    seed: int,
) -> dict:
    """One seed of the experiment: per-condition rows, the human ceiling, routing accuracy."""
    setup.check(window)
    rng = np.random.default_rng(seed)
    pools = {t: ids[: len(ids) // 2] for t, ids in {**ref_plays, **other_plays}.items()}
    ref_eval = {t: ids[len(ids) // 2 :] for t, ids in ref_plays.items()}
    prompts, human = windows(ref_eval, setup, rng)
    manager = build_manager(model, pools, setup, join, layer=layer, window=window, rng=rng)
    ctxs, routed_ok = contexts(
        model, prompts, pools, list(ref_plays), list(other_plays), manager, setup, layer=layer, window=window, rng=rng
    )
    refs = [tok.decode(w.continuation) for w in prompts]
    p_cont = text_features(refs)
    p_full = text_features([tok.decode(w.prompt + w.continuation) for w in prompts])
    rows = []
    for cond in CONDITIONS:
        cont_nll, seed_ppl = nll_scores(model, ctxs[cond], prompts)
        gens = generate(model, ctxs[cond], prompts, setup.continuation, seed)
        q_cont = text_features([tok.decode(g) for g in gens])
        q_full = text_features([tok.decode(w.prompt + g) for w, g in zip(prompts, gens, strict=True)])
        rows.append(
            {
                "seed": seed,
                "condition": cond,
                "cont_nll": float(cont_nll.mean()),
                "seed_ppl": float(seed_ppl.mean()),
                "mauve": mauve_mean(p_cont, q_cont, setup.kmeans_seeds, seed * 1000),
                "mauve_seed_protocol": mauve_mean(p_full, q_full, setup.kmeans_seeds, seed * 1000),
                "distinct2": distinct2(gens),
                "context_tokens": float(np.mean([len(c) for c in ctxs[cond]])),
                "example": tok.decode(gens[0]),
            }
        )
    human_feats = text_features([tok.decode(w.continuation) for w in human])
    return {
        "rows": rows,
        "mauve_human": mauve_mean(p_cont, human_feats, setup.kmeans_seeds, seed * 1000),
        "routing_acc": float(np.mean(routed_ok)),
        "routing_chance": 1.0 / len(pools),  # the manager holds every pool play's chunks (R ∪ O), as many each
        "n_clusters": len(manager.clusters),
        "example_prompt": tok.decode(prompts[0].prompt),
        "example_reference": refs[0],
    }
