"""The AMS v4 measurement loops: the session harness over modes, and experiments E1-E5, E7.

Seed: book/appendix/ams.md §2 (harness) and §7 (experiments E1-E7). Every function returns plain
records (one dict per query or per item) that the chapter aggregates; scorers and prompt formats
are in ``memnb.ams.sessions``, decoding in ``memnb.ams.prefix``.

Modes (``run_modes``): ``floor`` (question only), ``D`` (every fact as "User: fact", the
ceiling), ``oracle`` (the gold fact as context), ``bm25@k`` / ``cos@k`` (top-k facts by BM25 or by
cosine of pooled hidden states, as context), ``A:<name>`` (prefix of AMS model ``<name>``
attending over all memories, question only), ``C:<name>`` (the same prefix plus the top-1 fact
by the model's topic encoder as context), ``Atop4:<name>`` (prefix attending over the model's
topic top-4 only: v4.7 fix 3), ``Agold:<name>`` (prefix attending over the gold memory only: the
oracle filter, an upper bound for any filter).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch

from memnb.ams import kakeya
from memnb.ams import sessions as S
from memnb.ams.cross_bundle import norm_ratio
from memnb.ams.model import AMS
from memnb.ams.prefix import choice_logprobs, content_bias, first_token_kl, greedy, idf

REPLICA_ANSWERS = ("Chopin", "Beethoven", "Tokyo", "engineer", "Max", "Mandarin", "Davis", "Thai", "Brown", "coral")


def candidates(session: S.Session, qi: int) -> tuple[list[str], str]:
    """(forced-choice candidates, the gold one) for query ``qi``."""
    if session.slots[qi] == "replica":
        return list(REPLICA_ANSWERS), REPLICA_ANSWERS[session.queries[qi][2]]
    return S.candidates_for(session.slots[qi]), session.answers[qi]


def mode_prompt(
    mode: str, session: S.Session, qi: int, lm, tok, models: dict[str, AMS], stores: dict, fact_h: torch.Tensor | None
) -> tuple[str, torch.Tensor | None]:
    q, _, gold = session.queries[qi]
    facts = session.facts
    kind, _, name = mode.partition(":")
    if kind == "floor":
        return S.prompt_for(None, q, style="question"), None
    if kind == "D":
        return S.prompt_for(facts, q, style="history"), None
    if kind == "oracle":
        return S.prompt_for([facts[gold]], q, style="context"), None
    if kind.startswith(("bm25@", "cos@")):
        k = int(kind.split("@")[1])
        if kind.startswith("bm25"):
            order = S.bm25_rank(facts, q)
        else:
            order = S.cosine_rank(fact_h, S.pooled_hidden(lm, tok, [q])[0])
        return S.prompt_for([facts[i] for i in order[:k]], q, style="context"), None
    if kind in ("A", "C", "Agold", "Atop4"):
        model, store = models[name], stores[name]
        if kind == "C":
            top = model.topic_rank(store, q)[0]
            prompt = S.prompt_for([facts[top]], q, style="context")
        else:
            prompt = S.prompt_for(None, q, style="question")
        keep = {"Agold": [gold], "Atop4": model.topic_rank(store, q)[:4]}.get(kind)
        prefix, _ = model.prefix(store, prompt, keep)
        return prompt, prefix.detach()
    raise ValueError(f"unknown mode {mode!r}: use floor, D, oracle, bm25@k, cos@k, A:<m>, C:<m>, Atop4:<m>, Agold:<m>")


@torch.no_grad()
def run_modes(
    lm, tok, sessions: Sequence[S.Session], modes: Sequence[str], models: dict[str, AMS], *, max_new: int, tag: str = ""
) -> list[dict]:
    """One record per (session, query, mode): scores, forced choice, tokens and latency."""
    rows = []
    for si, session in enumerate(sessions):
        stores = {n: m.write(session.facts) for n, m in models.items()}
        fact_h = S.pooled_hidden(lm, tok, session.facts) if any(m.startswith("cos@") for m in modes) else None
        for qi, (_, kw, _) in enumerate(session.queries):
            cands, gold = candidates(session, qi)
            for mode in modes:
                t0 = time.perf_counter()
                prompt, prefix = mode_prompt(mode, session, qi, lm, tok, models, stores, fact_h)
                ids = tok.encode(prompt)
                new = greedy(lm, ids, prefix=prefix, max_new=max_new, eos_id=tok.eos_id)
                dt = time.perf_counter() - t0
                text = tok.decode(new)
                lp = choice_logprobs(lm, tok, ids, cands, prefix=prefix)
                rows.append(
                    {
                        "tag": tag,
                        "session": si,
                        "query": qi,
                        "mode": mode,
                        "keyword": kw,
                        "answer": text,
                        **S.score(text, new, kw),
                        "choice": float(cands[int(lp.argmax())] == gold),
                        "chance": 1 / len(cands),
                        "input_tokens": len(ids),
                        "latency_s": dt,
                    }
                )
    return rows


# ---------------------------------------------------------------- E1 prefix norm


@torch.no_grad()
def prefix_norms(model: AMS, session: S.Session, *, max_new: int) -> list[dict]:
    """Per query: mean per-slot norm ratio to E‖e‖, first-answer-token KL(prefix ‖ none),
    and the degeneracy of the prefixed greedy answer."""
    lm, tok = model.backbone, model.tok
    wte = lm.get_input_embeddings().weight
    store = model.write(session.facts)
    rows = []
    for q, kw, _ in session.queries:
        prompt = S.prompt_for(None, q, style="question")
        prefix, _ = model.prefix(store, prompt)
        ids = tok.encode(prompt)
        new = greedy(lm, ids, prefix=prefix, max_new=max_new, eos_id=tok.eos_id)
        rows.append(
            {
                "norm_ratio": float(norm_ratio(prefix, wte).mean()),
                "kl": first_token_kl(lm, ids, prefix),
                **S.score(tok.decode(new), new, kw),
            }
        )
    return rows


# ---------------------------------------------------------------- E2 topic geometry


def participation_ratio(X: torch.Tensor) -> float:
    """``(Σλ)² / Σλ²`` of the covariance eigenvalues of the rows of X (effective rank)."""
    lam = torch.linalg.eigvalsh(torch.cov(X.T.double())).clamp_min(0)
    return float(lam.sum() ** 2 / (lam**2).sum().clamp_min(1e-30))


@torch.no_grad()
def topic_geometry(model: AMS, session: S.Session, *, symmetric: bool | None = None) -> dict:
    """Off-diagonal cosine (mean, 95th pct) of the memories' topic bases, their participation
    ratio, mean query-memory cosine and top-1 retrieval accuracy of the queries. ``symmetric``
    overrides the model's query encoding (E2 variant d: the query's own tokens in its centroid;
    no training loss reads the query side, so it needs no separate training)."""
    if symmetric is not None:
        saved, model.symmetric_query = model.symmetric_query, symmetric
        try:
            return topic_geometry(model, session)
        finally:
            model.symmetric_query = saved
    store = model.write(session.facts)
    tb = store.base["topic"]
    cos = tb @ tb.T
    off = cos[~torch.eye(len(tb), dtype=torch.bool)]
    hits, qm = [], []
    for q, _, gold in session.queries:
        qv = model.topic_query(q)
        qm.append(float((tb @ qv).mean()))
        hits.append(float(model.topic_rank(store, q)[0] == gold))
    return {
        "offdiag_mean": float(off.mean()),
        "offdiag_p95": float(off.quantile(0.95)),
        "pr": participation_ratio(tb),
        "query_mem_cos": float(np.mean(qm)),
        "top1": float(np.mean(hits)),
    }


def retrieval_top1(lm, tok, session: S.Session) -> dict:
    """Top-1 accuracy of the untrained baselines (BM25, pooled-hidden cosine) on a session."""
    fact_h = S.pooled_hidden(lm, tok, session.facts)
    b = [float(S.bm25_rank(session.facts, q)[0] == g) for q, _, g in session.queries]
    c = [float(S.cosine_rank(fact_h, S.pooled_hidden(lm, tok, [q])[0])[0] == g) for q, _, g in session.queries]
    return {"bm25": float(np.mean(b)), "cos": float(np.mean(c))}


# ---------------------------------------------------------------- E3 dilution


@torch.no_grad()
def dilution(model: AMS, seed: int, n_values: Sequence[int], n_queries: int, *, max_new: int) -> list[dict]:
    """For each store size N: the gold fact plus N−1 others (other personal facts, then
    distractors), gold attention mass per bundle (mean over heads), normalised attention entropy,
    and A's forced choice and strict hit under flat attention, topic top-k (k = 1, 4) and the
    oracle filter (gold only)."""
    lm, tok = model.backbone, model.tok
    rows = []
    for qn in range(n_queries):
        base = S.make_session(seed * 9973 + qn, n_identity=len(S.SLOTS), n_distractors=0)
        r = np.random.default_rng(seed * 9973 + qn)
        qi = int(r.integers(len(base.queries)))
        q, kw, gold_idx = base.queries[qi]
        gold = base.facts[gold_idx]
        others = [f for i, f in enumerate(base.facts) if i != gold_idx] + [
            S.DISTRACTORS[i] for i in r.permutation(len(S.DISTRACTORS))
        ]
        cands, ans = S.candidates_for(base.slots[qi]), base.answers[qi]
        prompt = S.prompt_for(None, q, style="question")
        ids = tok.encode(prompt)
        for n in n_values:
            facts = others[: n - 1]
            pos = int(r.integers(n))
            facts = facts[:pos] + [gold] + facts[pos:]
            store = model.write(facts)
            order = model.topic_rank(store, q)
            filters = {"flat": None, "top1": order[:1], "top4": order[:4], "oracle": [pos]}
            for fname, keep in filters.items():
                if n == 1 and fname != "flat":
                    continue
                prefix, w = model.prefix(store, prompt, keep)
                kept = list(range(n)) if keep is None else keep
                gi = kept.index(pos) if pos in kept else None
                row = {"N": n, "filter": fname, "query": qn}
                for b, wb in w.items():
                    row[f"gold_mass_{b}"] = 0.0 if gi is None else float(wb[:, gi].mean())
                    p = wb.clamp_min(1e-12)
                    row[f"entropy_{b}"] = (
                        float((-(p * p.log()).sum(-1) / max(math.log(len(kept)), 1e-12)).mean())
                        if len(kept) > 1
                        else 0.0
                    )
                lp = choice_logprobs(lm, tok, ids, cands, prefix=prefix)
                new = greedy(lm, ids, prefix=prefix, max_new=max_new, eos_id=tok.eos_id)
                row["choice"] = float(cands[int(lp.argmax())] == ans)
                row["strict"] = float(S.strict_hit(tok.decode(new), kw))
                row["chance"] = 1 / len(cands)
                rows.append(row)
    return rows


# ---------------------------------------------------------------- E4 invariance probes


@torch.no_grad()
def invariance(model: AMS, s1: S.Session, s2: S.Session, *, max_new: int) -> dict:
    """Mean pairwise cosine of the (flattened) prefixes of different queries on the same store,
    and the fraction of s1's questions whose greedy answer / forced choice changes when the store
    is swapped for s2's facts (counterfactual memory influence)."""
    lm, tok = model.backbone, model.tok
    st1, st2 = model.write(s1.facts), model.write(s2.facts)
    prefixes, changed, choice_changed = [], [], []
    for qi, (q, _, _) in enumerate(s1.queries):
        prompt = S.prompt_for(None, q, style="question")
        ids = tok.encode(prompt)
        p1, _ = model.prefix(st1, prompt)
        p2, _ = model.prefix(st2, prompt)
        prefixes.append(p1.flatten())
        changed.append(
            float(greedy(lm, ids, prefix=p1, max_new=max_new) != greedy(lm, ids, prefix=p2, max_new=max_new))
        )
        cands, _ = candidates(s1, qi)
        c1 = int(choice_logprobs(lm, tok, ids, cands, prefix=p1).argmax())
        c2 = int(choice_logprobs(lm, tok, ids, cands, prefix=p2).argmax())
        choice_changed.append(float(c1 != c2))
    P = torch.nn.functional.normalize(torch.stack(prefixes), dim=1)
    cos = P @ P.T
    off = cos[~torch.eye(len(P), dtype=torch.bool)]
    return {
        "prefix_cos": float(off.mean()),
        "swap_answer_changed": float(np.mean(changed)),
        "swap_choice_changed": float(np.mean(choice_changed)),
    }


# ---------------------------------------------------------------- E5 Kakeya audit


def synthetic_low_rank(seed: int, n: int = 100, d: int = 128, rank: int = 8, noise: float = 0.1) -> torch.Tensor:
    """The seed's invariant-5 test data: rank-8 signal plus 0.1 Gaussian noise."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, rank, generator=g) @ torch.randn(rank, d, generator=g) + noise * torch.randn(
        n, d, generator=g
    )


@torch.no_grad()
def kakeya_audit(model: AMS, texts: Sequence[str], n_values: Sequence[int], *, build_at: int = 8) -> list[dict]:
    """Per N: the registry built on the first ``build_at`` memories (never rebuilt, as coded)
    and fed the rest; median relative error vs ‖v‖ and vs ‖v − μ‖, in- and out-of-sample, for
    the topic set over ``h`` (set 0, time-routed) and the content-mean set (set 3); floats stored
    vs raw; the alignment error; and a rebuild on all N (in-sample) for comparison."""
    rows = []
    feats = []
    store = model.write(list(texts[: max(n_values)]))
    for i in range(len(store)):
        feats.append(
            {
                "h": store.h[i],
                "c": store.c[i],
                "ctx_pad": torch.cat(
                    [store.base["ctx"][i], torch.zeros(store.h.shape[1] - store.base["ctx"].shape[1])]
                ),
            }
        )
    axes = {b: model.axis(b).detach() for b in ("time", "topic", "ctx")}
    for n in n_values:
        reg = kakeya.KakeyaRegistry(axes, min_entries=build_at)
        for f in feats[:n]:
            reg.write(f)
        stored, raw = reg.floats()
        for si in (0, 3):
            kset = reg.sets[si]
            names = kakeya.ROUTES[si][1]
            X = torch.stack([reg.field(f, names) for f in feats[:n]])
            e_norm, e_cent = kakeya.relative_errors(kset, X)
            full = kakeya.KakeyaSet(X, axes[kakeya.ROUTES[si][0]], set_idx=si)
            r_norm, r_cent = kakeya.relative_errors(full, X)
            row = {
                "N": n,
                "set": si,
                "in_norm": float(e_norm[:build_at].median()),
                "in_centred": float(e_cent[:build_at].median()),
                "out_norm": float(e_norm[build_at:].median()) if n > build_at else float("nan"),
                "out_centred": float(e_cent[build_at:].median()) if n > build_at else float("nan"),
                "rebuilt_norm": float(r_norm.median()),
                "rebuilt_centred": float(r_cent.median()),
                "d_eff": kset.d_eff,
                "align_error": kset.align_error,
                "stored_floats": stored,
                "raw_floats": raw,
            }
            rows.append(row)
    return rows


# ---------------------------------------------------------------- E7 content-bias decoder


@torch.no_grad()
def content_bias_audit(
    lm, tok, sessions: Sequence[S.Session], betas: Sequence[float], background: Sequence[str], *, max_new: int
) -> list[dict]:
    """The no-learning decoder: question only, plus ``β·IDF`` on every token of the session's
    memories; scored by substring, word and strict hits and degeneracy."""
    idf_vec = idf([tok.encode(t) for t in background], lm.get_input_embeddings().weight.shape[0])
    rows = []
    for si, s in enumerate(sessions):
        mem = [tok.encode(f) for f in s.facts]
        for beta in betas:
            bias = content_bias(mem, idf_vec, beta)
            for q, kw, _ in s.queries:
                ids = tok.encode(S.prompt_for(None, q, style="question"))
                new = greedy(lm, ids, max_new=max_new, eos_id=tok.eos_id, bias=bias)
                rows.append(
                    {"session": si, "beta": beta, "answer": tok.decode(new), **S.score(tok.decode(new), new, kw)}
                )
    return rows
