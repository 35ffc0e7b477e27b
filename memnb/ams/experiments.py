"""AMS v4's experiments on the frozen pretrained reader: E1 (prefix norm and fluency), E2 (topic
geometry), E5 (the Kakeya audit), E7 (the keyword-spraying decoder).

Seed: book/appendix/ams.md §7. Sessions are fact sessions about invented people
(``memnb.data.tasks.pseudo_facts``); the reader's inputs and scores are ``memnb.ams.harness``'s.
Every function returns plain records (one dict per prompt, session or item) that the chapter
aggregates per seed.

- E1 (``prefix_norms``): on one model's weights, the prefix with its learned scale, with scale 1
  (LayerNorm only) and with the fixed 1/√D; the slot/token norm ratio ``‖p_s‖ / E‖e‖`` of each, and
  the distinct-token ratio and longest repeat of the greedy reply to the question alone (no stem,
  ``new`` tokens), with no prefix as the reader's own reference.
- E2 (``topic_geometry``): the memories' topic bases — mean and 95th percentile of the off-diagonal
  cosine, participation ratio ``(Σλ)²/Σλ²`` of their covariance — and whether the model's topic
  top-1 is the gold fact, beside BM25's top-1.
- E5 (``kakeya_audit``): the registry built on the first 8 memories, never rebuilt (as coded).
- E7 (``content_bias_audit``): no learning; the floor prompt, plus ``β·IDF(t)`` on the logit of
  every token that occurs in the session's facts (the seed's v3.46 content bias).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from memnb.ams import harness as H
from memnb.ams import kakeya
from memnb.ams.cross_bundle import norm_ratio
from memnb.ams.model import AMS
from memnb.ams.prefix import content_bias, idf
from memnb.ams.sessions import bm25_rank, degeneracy
from memnb.data.tasks.pseudo_facts import FactSession
from memnb.eval.reader import fact_prompt

# ---------------------------------------------------------------- E1 prefix norm


@torch.no_grad()
def prefix_norms(reader, model: AMS, sessions: Sequence[FactSession], *, new: int, batch: int = 16) -> list[dict]:
    """Per session and arm (``none``, ``ln``, ``learnable``): the slot/token norm ratio (mean over
    slots; ``inv_sqrt_d_ratio`` for the fixed 1/√D scale, not decoded) and the degeneracy of the
    greedy reply to the question alone."""
    wte = reader.model.get_input_embeddings().weight
    scale = float(model.cross.scale.detach())
    d = wte.shape[1]
    arms: dict[str, list[H.Item]] = {"none": [], "ln": [], "learnable": []}
    ratios: dict[str, list[float]] = {k: [] for k in (*arms, "inv_sqrt_d")}
    for s in sessions:
        prompt = fact_prompt(reader, (), s.question)
        p, _ = model.prefix(model.write(list(s.facts)), H.query_text(s))
        ln = p / scale
        for arm, pre in (("none", None), ("ln", ln), ("learnable", p)):
            arms[arm].append(H.Item(prompt, pre))
            ratios[arm].append(0.0 if pre is None else float(norm_ratio(pre, wte).mean()))
        ratios["inv_sqrt_d"].append(float(norm_ratio(ln / d**0.5, wte).mean()))  # ratio only: not decoded
    rows = []
    for arm, items in arms.items():
        replies, _ = H.decode(reader, items, new=new, batch=batch)
        for i, r in enumerate(replies):
            distinct, rep = degeneracy(reader.tokenizer(r, add_special_tokens=False).input_ids)
            rows.append(
                {"session": i, "arm": arm, "norm_ratio": ratios[arm][i], "inv_sqrt_d_ratio": ratios["inv_sqrt_d"][i],
                 "distinct": distinct, "max_repeat": float(rep), "reply": r, "scale": scale}
            )  # fmt: skip
    return rows


# ---------------------------------------------------------------- E2 topic geometry


def participation_ratio(X: torch.Tensor) -> float:
    """``(Σλ)² / Σλ²`` of the covariance eigenvalues of the rows of X (effective rank)."""
    lam = torch.linalg.eigvalsh(torch.cov(X.T.double())).clamp_min(0)
    return float(lam.sum() ** 2 / (lam**2).sum().clamp_min(1e-30))


def offdiag(X: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of ``X Xᵀ`` (pairwise cosines of unit rows)."""
    cos = X @ X.T
    return cos[~torch.eye(len(X), dtype=torch.bool)]


@torch.no_grad()
def topic_geometry(model: AMS, s: FactSession) -> dict:
    """Off-diagonal cosine (mean, 95th pct) and participation ratio of the session's topic bases;
    top-1 retrieval of the gold fact by the model's topic encoder and by BM25."""
    tb = model.write(list(s.facts)).base["topic"]
    off = offdiag(tb)
    gold = H.gold_index(s)
    return {
        "offdiag_mean": float(off.mean()),
        "offdiag_p95": float(off.quantile(0.95)),
        "pr": participation_ratio(tb),
        "top1": float(model.topic_rank(model.write(list(s.facts)), H.query_text(s))[0] == gold),
        "bm25_top1": float(bm25_rank(s.facts, s.question)[0] == gold),
    }


@torch.no_grad()
def planted_gap(model: AMS, fact: str, n: int = 7) -> float:
    """1 − mean off-diagonal topic cosine of a store of ``n`` copies of one fact (a planted collapse)."""
    return 1.0 - float(offdiag(model.write([fact] * n).base["topic"]).mean())


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
    reader, sessions: Sequence[FactSession], betas: Sequence[float], background: Sequence[str], *, new: int,
    batch: int = 16,
) -> list[dict]:  # fmt: skip
    """The no-learning decoder: the floor prompt (question and stem, no fact), plus ``β·IDF`` on every
    token of the session's facts; the seed's substring score, the strict score and degeneracy."""
    tok = reader.tokenizer
    enc = H.ReaderTok(tok).encode
    idf_vec = idf([enc(t) for t in background], reader.model.get_input_embeddings().weight.shape[0])
    rows = []
    for beta in betas:
        items = [H.Item(fact_prompt(reader, (), s.question, s.stem)) for s in sessions]
        bias = torch.stack([content_bias([enc(f) for f in s.facts], idf_vec, beta) for s in sessions])
        replies, logits = H.decode(reader, items, new=new, batch=batch, bias=bias)
        for i, (s, r) in enumerate(zip(sessions, replies, strict=True)):
            distinct, rep = degeneracy(tok(r, add_special_tokens=False).input_ids)
            sc = H.score(reader, r, logits[i], s)
            rows.append({"session": i, "beta": beta, "reply": r, "strict": sc["strict"], "substring": sc["substring"],
                         "distinct": distinct, "max_repeat": float(rep)})  # fmt: skip
    return rows
