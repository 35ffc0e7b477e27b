"""Chapter 31's runs over seeds: needles, keys, the write gates and every retrieval condition.

Per seed (``run_seed``): ``n_total`` needles generated from the seed, their keys and predictive
entropies under the pretrained reader (``niah.model_sims``: centred and raw keys from one forward
pass) and the two lexical baselines (BM25, TF-IDF); three write gates — none (every text stored),
the seed's fixed 4.0 bits, and one calibrated at the ``gate_percentile``-th percentile of the
distractor pool's entropies — then ``niah.needle_ranks`` / ``niah.scores`` for every (gate,
retriever, pool, distractors, query) condition the pools can fill. Each row keeps the needles'
ranks (the per-needle examples of the bootstrap). Seed: book/appendix/hrs.md §3.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch.nn as nn
from tqdm.auto import tqdm

from memnb.hrs.retrieval import engram_store, needles, niah
from memnb.seeding import seed_everything
from memnb.train import progress_enabled

SEED_GATE_BITS = 4.0  # the seed's fixed write threshold
GATES = ("none", "seed_4bits", "calibrated")


def run_seed(
    model: nn.Module,
    tok,
    pool: list[str],
    pool_enc: engram_store.Encoded,
    *,
    seed: int,
    n_total: int,
    n_needles: int,
    distractors: Sequence[int],
    gate_percentile: float,
    layer: int,
) -> tuple[list[dict], dict, list[dict]]:
    """(one score row per condition, the seed's gate statistics, one entropy row per text)."""
    seed_everything(seed)
    ns = needles.make_needles(n_total, seed)
    sims, ent = niah.model_sims(model, tok, ns, pool_enc, layer=layer)
    sims["bm25"] = niah.bm25_sims(ns, pool)
    sims["tfidf"] = niah.tfidf_sims(ns, pool)
    threshold = float(np.percentile(ent["pool"], gate_percentile))
    thresholds = {"none": -np.inf, "seed_4bits": SEED_GATE_BITS, "calibrated": threshold}
    stored_by = {g: {k: engram_store.gate(v, t) for k, v in ent.items()} for g, t in thresholds.items()}
    gate_row = {
        "seed": seed,
        "threshold_bits": threshold,
        "needles_stored": stored_by["calibrated"]["needles"].mean(),
        "pool_stored": stored_by["calibrated"]["pool"].mean(),
        "needles_stored_at_4bits": stored_by["seed_4bits"]["needles"].mean(),
        "pool_stored_at_4bits": stored_by["seed_4bits"]["pool"].mean(),
    }
    ent_rows = [{"seed": seed, "text": "needle", "bits": h} for h in ent["needles"]]
    ent_rows += [{"seed": seed, "text": "distractor", "bits": h} for h in ent["pool"]]
    rows = []
    for gate_name, retriever in itertools.product(GATES, niah.RETRIEVERS):
        stored = stored_by[gate_name]
        for pool_name, n, query in itertools.product(niah.POOLS, distractors, niah.QUERIES):
            if n > (len(pool) if pool_name == "places" else n_total - 1):
                continue
            ranks = niah.needle_ranks(
                sims[retriever], stored, pool=pool_name, n_distractors=n, query=query, n_needles=n_needles, seed=seed
            )
            rows.append(
                {"seed": seed, "gate": gate_name, "keys": retriever, "pool": pool_name, "distractors": n}
                | {"query": query, "ranks": ranks.tolist()}
                | niah.scores(ranks)
            )
    return rows, gate_row, ent_rows


def run_seeds(
    model: nn.Module, tok, pool: list[str], seeds: Sequence[int], *, layer: int, **kw
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``run_seed`` for every seed, the pool encoded once: (scores, gates, entropies)."""
    pool_enc = engram_store.encode(model, engram_store.token_lists(tok, pool), layer=layer)
    runs, gate_rows, ent_rows = [], [], []
    for seed in tqdm(seeds, desc="seeds", disable=not progress_enabled()):
        r, g, e = run_seed(model, tok, pool, pool_enc, seed=seed, layer=layer, **kw)
        runs += r
        gate_rows.append(g)
        ent_rows += e
    return pd.DataFrame(runs), pd.DataFrame(gate_rows), pd.DataFrame(ent_rows)
