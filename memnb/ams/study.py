"""Chapter 40's runs over seeds: the AMS variants it trains and every experiment's table of records.

Each function loops over the chapter's seeds and returns a ``pandas.DataFrame`` (one row per
query, session or item, with its ``seed``) that the chapter aggregates into metrics; the
measurements themselves are in ``memnb.ams.experiments``, the sizes in ``AmsV4``
(``memnb.ams.presets``). Session seeds are fixed per experiment and per seed (harness
``1000·seed + i``, E1 ``50000 + 100·seed + i``, E2 ``60000 + …``, E4 ``80000 + …``, E5
``90000 + 1000·seed + i``), so every experiment reads its own held-out sessions. Seed:
book/appendix/ams.md §2 (harness) and §7 (experiments).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from memnb.ams import experiments as X
from memnb.ams import kakeya
from memnb.ams import sessions as S
from memnb.ams.model import AMS
from memnb.ams.prefix import greedy
from memnb.ams.presets import AmsV4
from memnb.ams.trainer import TrainSpec, train
from memnb.seeding import seed_everything
from memnb.train import progress_enabled

# Every mode of the harness (``experiments.run_modes``), in table order.
MODES = ["floor", "D", "oracle", "bm25@1", "bm25@3", "cos@1", "cos@3", "A:fresh", "A:trained", "C:fresh", "C:trained",
         "A:qa", "Atop4:qa", "Agold:qa", "Agold:trained"]  # fmt: skip
HARNESS_MODELS = ("fresh", "trained", "qa")  # the models the harness modes name


def build(lm, tok, seed: int, **kw) -> AMS:
    """A fresh AMS on the frozen reader, initialised from ``seed``."""
    seed_everything(seed, threads=1)
    return AMS(lm, tok, **kw)


def sessions(base: int, n: int, p: AmsV4) -> list[S.Session]:
    """``n`` random held-out sessions ``base``, ``base + 1``, … of the chapter's size."""
    return [S.make_session(base + i, n_identity=p.n_identity, n_distractors=p.n_distractors) for i in range(n)]


def variants(p: AmsV4) -> dict[str, tuple[dict, TrainSpec]]:
    """Name → (AMS options, training) of every variant trained per seed, in training order."""
    return {
        "trained": ({}, TrainSpec(steps=p.train_steps)),
        "e1_ln": ({"scale_mode": "ln"}, TrainSpec(steps=p.train_steps)),
        "e1_inv_sqrt_d": ({"scale_mode": "inv_sqrt_d"}, TrainSpec(steps=p.train_steps)),
        "e2_a_raw": ({}, TrainSpec(steps=p.train_steps, jaccard="raw", margin=0.1, diversity=False)),
        "cloze": ({}, TrainSpec(objective="cloze", steps=p.alt_steps)),
        "qa": ({}, TrainSpec(objective="qa", steps=p.alt_steps)),
        "e2_b_content": ({}, TrainSpec(steps=p.train_steps, jaccard="content", margin=0.1, diversity=False)),
    }


def _init_ratio(model: AMS, probe: S.Session, prompt: str, wte: torch.Tensor) -> float:
    p0, _ = model.prefix(model.write(probe.facts), prompt)
    return float(X.norm_ratio(p0.detach(), wte).mean())


def geometry_ablation(lm, tok, probe: S.Session, prompt: str, *, max_new: int) -> dict:
    """E6: AMS built from seed 0 with and without the inert geometry; prefix, greedy output and
    two training steps' losses compared bit for bit, and both parameter counts."""
    plain, geo = build(lm, tok, 0), build(lm, tok, 0, with_geometry=True)
    p_plain, _ = plain.prefix(plain.write(probe.facts), prompt)
    p_geo, _ = geo.prefix(geo.write(probe.facts), prompt)
    ids = tok.encode(prompt)
    same_gen = greedy(lm, ids, prefix=p_plain.detach(), max_new=max_new) == greedy(
        lm, ids, prefix=p_geo.detach(), max_new=max_new
    )
    log_plain = train(plain, TrainSpec(steps=2), seed=0)
    log_geo = train(geo, TrainSpec(steps=2), seed=0)
    return {
        "identical": bool(torch.equal(p_plain, p_geo) and same_gen and log_plain == log_geo),
        "params_main": plain.n_params(),
        "params_geometry": sum(q.numel() for q in geo.geometry.parameters()),
    }


def train_variants(
    lm, tok, seeds: Sequence[int], p: AmsV4, probe: S.Session, prompt: str
) -> tuple[dict[int, dict[str, AMS]], pd.DataFrame, dict[tuple[int, str], float]]:
    """Per seed, ``fresh`` and every variant from the same initialisation: (models[seed][name],
    the training log, the slot/token norm ratio at initialisation of the E1 variants)."""
    wte = lm.get_input_embeddings().weight
    models: dict[int, dict[str, AMS]] = {}
    log, init_norm = [], {}
    for seed in seeds:
        models[seed] = {"fresh": build(lm, tok, seed)}
        for name, (kw, spec) in tqdm(variants(p).items(), desc=f"train seed {seed}", disable=not progress_enabled()):
            m = build(lm, tok, seed, **kw)
            if name.startswith("e1_") or name == "trained":
                init_norm[(seed, name)] = _init_ratio(m, probe, prompt, wte)
            for step, row in enumerate(train(m, spec, seed=seed)):
                log.append({"seed": seed, "variant": name, "step": step, **row})
            models[seed][name] = m
        init_norm[(seed, "e1_emb")] = _init_ratio(build(lm, tok, seed, scale_mode="emb"), probe, prompt, wte)
    return models, pd.DataFrame(log), init_norm


def harness(lm, tok, models: dict[int, dict[str, AMS]], seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """Every mode of ``MODES`` on ``n_sessions`` random sessions per seed (that seed's models)."""
    rows = []
    for seed in tqdm(seeds, desc="sessions", disable=not progress_enabled()):
        use = {k: models[seed][k] for k in HARNESS_MODELS}
        for r in X.run_modes(
            lm, tok, sessions(1_000 * seed, p.n_sessions, p), MODES, use, max_new=p.max_new, tag="random"
        ):
            rows.append({"seed": seed, **r})
    return pd.DataFrame(rows)


def replica(lm, tok, models: dict[str, AMS], *, max_new: int) -> pd.DataFrame:
    """Every mode on the seed's verbatim session at N = 10 and 20 facts (one seed's models)."""
    use = {k: models[k] for k in HARNESS_MODELS}
    rows = []
    for n in (10, 20):
        for r in X.run_modes(lm, tok, [S.replica_session(n)], MODES, use, max_new=max_new, tag=f"replica N={n}"):
            rows.append({"N": n, **r})
    return pd.DataFrame(rows)


def e1_prefix_norms(models: dict[int, dict[str, AMS]], init_norm: dict, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E1: per query, the slot/token norm ratio, first-token KL and degeneracy of the three scale
    variants after training (``trained`` is the learnable scale, renamed ``e1_learnable``)."""
    rows = []
    for seed in seeds:
        sess = sessions(50_000 + 100 * seed, p.e1_sessions, p)
        for name in ("e1_ln", "e1_inv_sqrt_d", "trained"):
            for s in sess:
                for r in X.prefix_norms(models[seed][name], s, max_new=p.max_new):
                    rows.append({"seed": seed, "variant": name, "init_ratio": init_norm[(seed, name)], **r})
    return pd.DataFrame(rows).replace({"variant": {"trained": "e1_learnable"}})


def _e2_variants(m: dict[str, AMS]) -> list[tuple[str, AMS, bool | None]]:
    return [("fresh", m["fresh"], None), ("e2_a_raw", m["e2_a_raw"], None), ("e2_b_content", m["e2_b_content"], None),
            ("e2_c_hinge", m["trained"], None), ("e2_d_symmetric", m["trained"], True)]  # fmt: skip


def e2_topic(lm, tok, models: dict[int, dict[str, AMS]], seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E2: topic geometry of the (a)-(d) variants and the untrained retrieval baselines, on
    ``e2_sessions`` random sessions per seed (``set="random"``) and the replica's 20 facts."""
    rows = []
    for seed in seeds:
        for s in sessions(60_000 + 100 * seed, p.e2_sessions, p):
            base = X.retrieval_top1(lm, tok, s)
            for name, model, sym in _e2_variants(models[seed]):
                rows.append(
                    {
                        "seed": seed,
                        "variant": name,
                        "set": "random",
                        **X.topic_geometry(model, s, symmetric=sym),
                        **base,
                    }
                )
        rep20 = S.replica_session(20)
        rep_base = X.retrieval_top1(lm, tok, rep20)
        for name, model, sym in _e2_variants(models[seed]):
            geometry = X.topic_geometry(model, rep20, symmetric=sym)
            rows.append({"seed": seed, "variant": name, "set": "replica", **geometry, **rep_base})
    return pd.DataFrame(rows)


def e3_dilution(models: dict[int, dict[str, AMS]], seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E3: gold attention mass and A's hits against the store size N ∈ ``e3_n``, psa and QA models."""
    rows = []
    for seed in seeds:
        for name in ("trained", "qa"):
            for r in X.dilution(models[seed][name], 70_000 + seed, p.e3_n, p.e3_queries, max_new=p.max_new):
                rows.append({"seed": seed, "model": name, **r})
    return pd.DataFrame(rows)


def e4_invariance(lm, tok, models: dict[int, dict[str, AMS]], seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E4: per objective, the invariance probes on ``e4_pairs`` session pairs per seed, and the
    cloze model's forced choice and substring hit on the harness sessions (rows with ``A_choice``)."""
    rows = []
    objectives = ("fresh", "trained", "cloze", "qa")
    for seed in seeds:
        for i in range(p.e4_pairs):
            s1, s2 = sessions(80_000 + 100 * seed + 2 * i, 2, p)
            for name in objectives:
                rows.append(
                    {"seed": seed, "objective": name, **X.invariance(models[seed][name], s1, s2, max_new=p.max_new)}
                )
        cloze = {"cloze": models[seed]["cloze"]}
        for r in X.run_modes(lm, tok, sessions(1_000 * seed, p.e4_pairs, p), ["A:cloze"], cloze, max_new=p.max_new):
            rows.append({"seed": seed, "objective": "cloze", "A_choice": r["choice"], "A_substring": r["substring"]})
    return pd.DataFrame(rows)


def e5_kakeya(models: dict[int, dict[str, AMS]], seeds: Sequence[int], p: AmsV4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """E5: the Kakeya audit of each seed's trained model on ``max(e5_n)`` pooled facts, and the
    seed's own synthetic rank-8 test per seed (median error vs ‖v‖ and ‖v − μ‖, max error)."""
    rows, syn_rows = [], []
    for seed in seeds:
        pool, i = [], 0
        while len(pool) < max(p.e5_n):
            pool += S.make_session(90_000 + 1_000 * seed + i, n_identity=len(S.SLOTS), n_distractors=4).facts
            i += 1
        for r in X.kakeya_audit(models[seed]["trained"], pool, p.e5_n):
            rows.append({"seed": seed, **r})
        syn = X.synthetic_low_rank(seed)
        kset = kakeya.KakeyaSet(syn, torch.randn(8, generator=torch.Generator().manual_seed(seed)))
        err_n, err_c = kakeya.relative_errors(kset, syn)
        syn_rows.append(
            {"seed": seed, "median": float(err_n.median()), "centred": float(err_c.median()), "max": float(err_n.max())}
        )
    audit = pd.DataFrame(rows)
    audit["raw/stored"] = audit.raw_floats / audit.stored_floats
    return audit, pd.DataFrame(syn_rows)


def e7_content_bias(lm, tok, seeds: Sequence[int], p: AmsV4) -> pd.DataFrame:
    """E7: the keyword-spraying decoder (no learning) at every β of ``e7_betas``; IDF from the
    facts of 200 train-entity sessions."""
    background = [f for i in range(200) for f in S.make_session(5_000 + i, heldout=False).facts]
    rows = []
    for seed in seeds:
        sess = sessions(1_000 * seed, p.e7_sessions, p)
        for r in X.content_bias_audit(lm, tok, sess, p.e7_betas, background, max_new=p.max_new):
            rows.append({"seed": seed, **r})
    return pd.DataFrame(rows)
