"""Chapter 31's runs over seeds: needles, keys, both write gates and every retrieval condition.

Per seed (``run_seed``): ``n_total`` needles generated from the seed, their keys and predictive
entropies under every model in ``models`` (``backbone`` first: its entropies set the gates) and
the TF-IDF baseline; two write gates, the seed's fixed 4.0 bits and one calibrated at the
``gate_percentile``-th percentile of the pool's entropies; then ``niah.needle_ranks`` /
``niah.scores`` for every (gate, keys, pool, distractors, query) condition the pools can fill.
Seed: book/appendix/hrs.md §4.
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


def run_seed(
    models: dict[str, nn.Module],
    tok,
    pool: list[str],
    pool_enc: dict[str, engram_store.Encoded],
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
    sims, ent = {}, None
    for name, model in models.items():
        sims[name], model_ent = niah.model_sims(model, tok, ns, pool_enc[name], layer=layer)
        ent = model_ent if ent is None else ent
    sims["tfidf"] = niah.tfidf_sims(ns, pool)
    threshold = float(np.percentile(ent["pool"], gate_percentile))
    gates_used = {"seed_4bits": SEED_GATE_BITS, "calibrated": threshold}
    stored_by = {g: {k: engram_store.gate(v, t) for k, v in ent.items()} for g, t in gates_used.items()}
    gate_row = {
        "seed": seed,
        "threshold_bits": threshold,
        "needles_stored": stored_by["calibrated"]["needles"].mean(),
        "pool_stored": stored_by["calibrated"]["pool"].mean(),
        "needles_stored_at_4bits": engram_store.gate(ent["needles"], SEED_GATE_BITS).mean(),
        "pool_stored_at_4bits": engram_store.gate(ent["pool"], SEED_GATE_BITS).mean(),
    }
    ent_rows = [{"seed": seed, "text": "needle", "bits": h} for h in ent["needles"]]
    ent_rows += [{"seed": seed, "text": "Shakespeare passage", "bits": h} for h in ent["pool"]]
    rows = []
    for (gate_name, stored), (retriever, k) in itertools.product(stored_by.items(), sims.items()):
        for pool_name, n, query in itertools.product(niah.POOLS, distractors, niah.QUERIES):
            if n > (len(pool) if pool_name == "shakespeare" else n_total - 1):
                continue
            ranks = niah.needle_ranks(
                k, stored, pool=pool_name, n_distractors=n, query=query, n_needles=n_needles, seed=seed
            )
            rows.append(
                {"seed": seed, "gate": gate_name, "keys": retriever, "pool": pool_name, "distractors": n}
                | {"query": query}
                | niah.scores(ranks)
            )
    return rows, gate_row, ent_rows


def run_seeds(
    models: dict[str, nn.Module], tok, pool: list[str], seeds: Sequence[int], *, layer: int, **kw
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``run_seed`` for every seed, the pool encoded once per model: (scores, gates, entropies)."""
    pool_ids = tok.encode_batch(pool)
    pool_enc = {name: engram_store.encode(m, pool_ids, layer=layer) for name, m in models.items()}
    runs, gate_rows, ent_rows = [], [], []
    for seed in tqdm(seeds, desc="seeds", disable=not progress_enabled()):
        r, g, e = run_seed(models, tok, pool, pool_enc, seed=seed, layer=layer, **kw)
        runs += r
        gate_rows.append(g)
        ent_rows += e
    return pd.DataFrame(runs), pd.DataFrame(gate_rows), pd.DataFrame(ent_rows)
