"""Chapter 40's runs over seeds, on the frozen pretrained reader: the AMS models it trains and every
experiment's table of records.

Each function loops over the chapter's seeds and returns a ``pandas.DataFrame`` (one row per
session, prompt or item, with its ``seed``) that the chapter aggregates into metrics; the
measurements are in ``memnb.ams.harness`` and ``memnb.ams.experiments``, the sizes in ``AmsV4``
(``memnb.ams.presets``). A seed fixes the AMS initialisation and every session set
(``session_sets``: fact sessions with data seeds ``1000·seed + 1 … 6``), so fresh seeds are fresh
data. Seed: book/appendix/ams.md §2 (harness) and §7 (experiments).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import pandas as pd
import torch

from memnb.ams import experiments as X
from memnb.ams import harness as H
from memnb.ams import kakeya
from memnb.ams.model import AMS
from memnb.ams.presets import AmsV4
from memnb.ams.trainer import TrainSpec, qa_examples, train
from memnb.data.tasks.pseudo_facts import FactSession, make_fact_sessions
from memnb.seeding import seed_everything

# the harness's modes, in table order (memnb.ams.harness); "trained" is the QA-trained model
MODES = ["floor", "oracle", "D", "bm25@1", "A:fresh", "A:trained", "Atop2:trained", "Agold:trained", "C:trained",
         "Aswap:trained"]  # fmt: skip
CAPACITY_MODES = ["floor", "oracle", "A:trained"]  # on the sessions A was trained on
SETS = ("train", "eval", "e1", "e2", "e5", "e7", "pilot")  # appended sets keep the earlier data seeds
E1_BATCH = 100  # E1's replies decoded 100 at a time (pilot: 100 x 30 tokens in 25.5 s vs 35.1 s at 16)
HARNESS_BATCH = 32  # harness replies (4 tokens) decoded 32 at a time (pilot: D 6.0 s vs 6.6 s at 8, floor 2.5 vs 3.5)
_POOLED: dict[str, torch.Tensor] = {}  # the frozen reader's pooled states, shared by every AMS built here


def session_sets(seed: int, p: AmsV4) -> dict[str, list[FactSession]]:
    """The seed's fact sessions, one disjoint data seed per use."""
    sizes = {"train": p.n_train, "eval": p.n_eval, "e1": p.e1_prompts, "e2": p.e2_sessions,
             "e5": -(-max(p.e5_n) // 7) + 1, "e7": p.e7_sessions, "pilot": p.pilot_queries}  # fmt: skip
    return {k: make_fact_sessions(sizes[k], seed=1000 * seed + i + 1) for i, k in enumerate(SETS)}


def warm(m: AMS, sessions: Sequence[FactSession]) -> None:
    """Read every fact and question of ``sessions`` through the frozen reader in batches, into the
    pooled-state cache every AMS built here shares (pilot: 320 texts in 5.9 s at batch 16 against
    25.1 s one at a time; the states agree to 1.4e-5 of values up to 33)."""
    m.pool([t for s in sessions for t in (*s.facts, H.query_text(s))])


def build(reader, tok: H.ReaderTok, seed: int, **kw) -> AMS:
    """A fresh AMS on the frozen reader, initialised from ``seed``."""
    seed_everything(seed)
    m = AMS(reader.model, tok, **kw)
    m._h = _POOLED  # the reader is frozen: a text's pooled state is the same for every model
    return m


def qa_spec(p: AmsV4) -> TrainSpec:
    return TrainSpec(objective="qa", steps=p.train_steps, batch=p.train_batch)


def train_models(reader, tok: H.ReaderTok, seeds: Sequence[int], p: AmsV4):
    """Per seed, ``fresh`` and ``trained`` (QA through the reader) from the same initialisation:
    (models[seed][name], the training log, seconds per training step per seed)."""
    models, log, s_per_step = {}, [], {}
    for seed in seeds:
        sets = session_sets(seed, p)
        fresh, trained = build(reader, tok, seed), build(reader, tok, seed)
        data = qa_examples(reader, sets["train"])
        trained.pool([t for facts, qt, _, _ in data for t in (*facts, qt)])  # once, not training time
        t0 = time.perf_counter()
        for step, row in enumerate(train(trained, qa_spec(p), seed=seed, data=data)):
            log.append({"seed": seed, "step": step, **row})
        s_per_step[seed] = (time.perf_counter() - t0) / p.train_steps
        models[seed] = {"fresh": fresh, "trained": trained}
    return models, pd.DataFrame(log), s_per_step


def oracle_pilot(reader, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """The copy control's pilot (issue 18), run before any training: floor and oracle on each
    seed's ``pilot_queries`` sessions, a set no other experiment reads."""
    rows = []
    for seed in seeds:
        pilot = session_sets(seed, p)["pilot"]
        for r in H.run_modes(reader, pilot, ["floor", "oracle"], {}, new=p.new, batch=HARNESS_BATCH):
            rows.append({"seed": seed, **r})
    return pd.DataFrame(rows)


def harness(reader, models: dict, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """Every mode of ``MODES`` on the held-out sessions (``set="heldout"``) and ``CAPACITY_MODES``
    on the training sessions (``set="train"``), per seed."""
    rows = []
    for seed in seeds:
        sets = session_sets(seed, p)
        warm(models[seed]["trained"], sets["eval"] + sets["train"])
        for name, sess, modes in (("heldout", sets["eval"], MODES), ("train", sets["train"], CAPACITY_MODES)):
            for r in H.run_modes(reader, sess, modes, models[seed], new=p.new, batch=HARNESS_BATCH):
                rows.append({"seed": seed, "set": name, **r})
    return pd.DataFrame(rows)


def prefix_cosine(models: dict, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E4's invariance probe: per seed and model, the mean pairwise cosine of the prefixes that the
    held-out sessions' questions read from one store (the first session's): 1 = the prefix
    ignores the query."""
    rows = []
    for seed in seeds:
        sess = session_sets(seed, p)["eval"]
        for name, m in models[seed].items():
            with torch.no_grad():
                store = m.write(list(sess[0].facts))
                P = torch.stack([m.prefix(store, H.query_text(s))[0].flatten() for s in sess])
            cos = float(X.offdiag(torch.nn.functional.normalize(P, dim=1)).mean())
            rows.append({"seed": seed, "model": name, "prefix_cos": cos})
    return pd.DataFrame(rows)


def e1_prefix_norms(reader, models: dict, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E1 on each seed's trained model: no prefix / LN only / learned scale (``experiments.prefix_norms``)."""
    rows = []
    for seed in seeds:
        e1 = session_sets(seed, p)["e1"]
        warm(models[seed]["trained"], e1)
        for r in X.prefix_norms(reader, models[seed]["trained"], e1, new=p.e1_new, batch=min(len(e1), E1_BATCH)):
            rows.append({"seed": seed, **r})
    return pd.DataFrame(rows)


def e2_variants() -> dict[str, TrainSpec | None]:
    """E2's variants (auxiliary losses only, on the seed's 12 sentences): (a) raw-id Jaccard,
    margin 0.1, no hinge (the seed before its fix); (b) content Jaccard, margin 0.1, no hinge;
    (c) content Jaccard + diversity hinge, margin 0.2 (the seed's fix); ``fresh`` untrained."""
    return {
        "fresh": None,
        "a_raw": TrainSpec(objective="none", jaccard="raw", margin=0.1, diversity=False),
        "b_content": TrainSpec(objective="none", jaccard="content", margin=0.1, diversity=False),
        "c_hinge": TrainSpec(objective="none", jaccard="content", margin=0.2, diversity=True),
    }


def e2_topic(reader, tok: H.ReaderTok, seeds: Sequence[int], p: AmsV4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """E2: per seed, variant and held-out session, the topic geometry (``experiments.topic_geometry``;
    variant ``d_symmetric`` = (c) read with the query's own tokens); and per seed, the planted
    collapse's gap under (a)."""
    rows, planted = [], []
    for seed in seeds:
        sess = session_sets(seed, p)["e2"]
        fitted = {}
        warm(build(reader, tok, seed), sess)
        for name, spec in e2_variants().items():
            m = build(reader, tok, seed)
            if spec is not None:
                train(m, dataclasses.replace(spec, steps=p.e2_steps), seed=seed)
            fitted[name] = m
        for name, m in fitted.items():
            for s in sess:
                rows.append({"seed": seed, "variant": name, **X.topic_geometry(m, s)})
        sym = fitted["c_hinge"]
        sym.symmetric_query = True
        for s in sess:
            rows.append({"seed": seed, "variant": "d_symmetric", **X.topic_geometry(sym, s)})
        sym.symmetric_query = False
        planted.append({"seed": seed, "gap": X.planted_gap(fitted["a_raw"], sess[0].gold_fact)})
    return pd.DataFrame(rows), pd.DataFrame(planted)


def e5_kakeya(models: dict, seeds: Sequence[int], p: AmsV4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """E5: the Kakeya audit of each seed's trained model on ``max(e5_n)`` distinct held-out facts,
    and the seed's own synthetic rank-8 test per seed."""
    rows, syn_rows = [], []
    for seed in seeds:
        pool = list(dict.fromkeys(f for s in session_sets(seed, p)["e5"] for f in s.facts))[: max(p.e5_n)]
        models[seed]["trained"].pool(pool)
        for r in X.kakeya_audit(models[seed]["trained"], pool, p.e5_n):
            rows.append({"seed": seed, **r})
        syn = X.synthetic_low_rank(seed)
        kset = kakeya.KakeyaSet(syn, torch.randn(8, generator=torch.Generator().manual_seed(seed)))
        err_n, err_c = kakeya.relative_errors(kset, syn)
        syn_rows.append({"seed": seed, "median": float(err_n.median()), "centred": float(err_c.median())})
    audit = pd.DataFrame(rows)
    audit["stored/raw"] = audit.stored_floats / audit.raw_floats
    return audit, pd.DataFrame(syn_rows)


def e6_geometry_ablation(reader, tok: H.ReaderTok, session: FactSession) -> dict:
    """E6: AMS from seed 0 with and without the inert geometry: prefix and two psa training steps'
    losses compared bit for bit, and both parameter counts."""
    plain, geo = build(reader, tok, 0), build(reader, tok, 0, with_geometry=True)
    q = H.query_text(session)
    with torch.no_grad():
        p_plain, _ = plain.prefix(plain.write(list(session.facts)), q)
        p_geo, _ = geo.prefix(geo.write(list(session.facts)), q)
    log_plain = train(plain, TrainSpec(steps=2), seed=0)
    log_geo = train(geo, TrainSpec(steps=2), seed=0)
    return {
        "identical": bool(torch.equal(p_plain, p_geo) and log_plain == log_geo),
        "params_main": plain.n_params(),
        "params_geometry": sum(x.numel() for x in geo.geometry.parameters()),
    }


def e7_content_bias(reader, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E7: the keyword-spraying decoder at every β of ``e7_betas``; IDF from the facts of the
    seed's training sessions."""
    rows = []
    for seed in seeds:
        sets = session_sets(seed, p)
        background = [f for s in sets["train"] + sets["e2"] for f in s.facts]
        for r in X.content_bias_audit(reader, sets["e7"], p.e7_betas, background, new=p.e7_new):
            rows.append({"seed": seed, **r})
    return pd.DataFrame(rows)
