"""Topic accuracy of engram cosine vs text length: the seed's "signal-to-noise scaling law".

HRS (book/appendix/hrs.md §4.2) cut WikiText *training* articles into 512-token segments and
sentences, drew pairs (half same-article, half different), and chose the best fixed threshold on
cos(e_a, e_b) *on the evaluation pairs*: 97.3% at 512 tokens, 70.9% at sentence scale; an MLP
(8 → 32 → 32 → 1) on 8 pair features reached 97.3% / 71.5% ("a learned classifier cannot beat a
fixed threshold").

Here topics are plays, engrams come from the pretrained reader (``engram.prefix_engrams``), and for
each text length L:

1. ``anchored_chunks``: ``n_chunks`` anchors per play, ``stride`` tokens apart from the play's
   start; the L-token chunk at an anchor is its first L tokens, so every length compares the same
   places in the plays (same-play pairs are equally far apart at every length), and chunks of
   the longest length do not touch when ``stride`` exceeds it.
2. Each seed splits every play's anchors at random into a *fit* and an *eval* half, and draws
   balanced pairs inside each half (``pairs``): ``n_pairs`` same-play and ``n_pairs``
   different-play pairs. Chance is 50%; so is the majority class.
3. Cosines are taken after subtracting the mean engram of the fit half (no evaluation text in the
   centre). ``fit_threshold``: the accuracy-maximising rule "same iff cos ≥ t" on the fit pairs,
   scored on the eval pairs (the seed tuned t on the pairs it reported). AUROC of cos on the eval
   pairs is the threshold-free version.
4. Learned classifiers, fit on the fit pairs and scored on the eval pairs: ``mlp``, the seed's MLP
   (8 → 32 → 32 → 1, ReLU, Adam; sklearn's ``MLPClassifier`` on standardised features) on the
   seed's 8 pair features (cos, L2 distance, mean/std of a⊙b, mean/std of |a−b|, ‖a‖, ‖b‖ of the
   centred engrams); ``elementwise``, a logistic regression on [â⊙b̂, |â−b̂|] (a learned diagonal
   metric).
5. ``cluster_quality``: the eval chunks, shuffled, streamed through the TopicContextManager with
   τ_join = the fitted threshold; adjusted Rand index of clusters vs plays (0 = chance).

``score_lengths`` runs 2-5 for every length and seed, plus the TF-IDF lexical control (plain
cosines of the chunks' token-count vectors, threshold only).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from memnb.eval.pooling import unit
from memnb.hrs.routing.engram import bag_of_tokens
from memnb.hrs.routing.topic_manager import TopicContextManager

SEED_MLP = (32, 32)  # the seed's hidden layers: 8 -> 32 -> 32 -> 1 (1,377 parameters)


def anchored_chunks(
    plays: dict[str, list[int]], length: int, n_chunks: int, stride: int
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """(token lists, play index, anchor) of the ``length``-token chunks at ``n_chunks`` anchors
    0, stride, 2·stride, … of every play."""
    if length < 1 or n_chunks < 4 or stride < 1:
        raise ValueError(f"need length >= 1, n_chunks >= 4, stride >= 1; got {length}, {n_chunks}, {stride}")
    toks, labels, starts = [], [], []
    for p, (title, ids) in enumerate(plays.items()):
        need = (n_chunks - 1) * stride + length
        if len(ids) < need:
            raise ValueError(f"{title} has {len(ids):,} tokens; {n_chunks} chunks {stride} apart need {need:,}")
        for s in range(0, n_chunks * stride, stride):
            toks.append(ids[s : s + length])
            labels.append(p)
            starts.append(s)
    return toks, np.array(labels), np.array(starts)


def split_halves(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Chunk indices of the fit and eval halves (each play split at random, half and half)."""
    fit, ev = [], []
    for p in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == p))
        fit.append(idx[: len(idx) // 2])
        ev.append(idx[len(idx) // 2 :])
    return np.concatenate(fit), np.concatenate(ev)


def pairs(
    idx: np.ndarray, labels: np.ndarray, starts: np.ndarray, *, n_pairs: int, min_gap: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced pairs among chunks ``idx``: (a, b, same) with equal numbers of same and different."""
    a, b = np.triu_indices(len(idx), k=1)
    a, b = idx[a], idx[b]
    same = labels[a] == labels[b]
    ok_same = same & (np.abs(starts[a] - starts[b]) >= min_gap)
    cand_same, cand_diff = np.flatnonzero(ok_same), np.flatnonzero(~same)
    n = min(n_pairs, len(cand_same), len(cand_diff))
    if n < 10:
        raise ValueError(f"only {n} balanced pairs available; lower min_gap or raise n_chunks")
    pick = np.concatenate([rng.choice(cand_same, n, replace=False), rng.choice(cand_diff, n, replace=False)])
    return a[pick], b[pick], np.r_[np.ones(n, bool), np.zeros(n, bool)]


def fit_threshold(cos: np.ndarray, same: np.ndarray) -> float:
    """The t maximising accuracy of "same iff cos ≥ t" (midpoint between neighbouring values)."""
    order = np.argsort(cos)
    c, s = cos[order], same[order]
    # rule with t just above c[k-1]: predicts "different" for the first k pairs
    correct = np.r_[0, np.cumsum(~s)] + np.r_[np.cumsum(s[::-1])[::-1], 0]
    k = int(np.argmax(correct))
    if k == 0:
        return float(c[0] - 1e-9)
    if k == len(c):
        return float(c[-1] + 1e-9)
    return float((c[k - 1] + c[k]) / 2)


def seed8_features(ea: np.ndarray, eb: np.ndarray) -> np.ndarray:
    """The seed's 8 pair features (train_topic_classifier.py)."""
    ua, ub = unit(ea), unit(eb)
    prod, diff = ea * eb, np.abs(ea - eb)
    return np.column_stack(
        [
            (ua * ub).sum(1),
            np.linalg.norm(ea - eb, axis=1),
            prod.mean(1),
            prod.std(1),
            diff.mean(1),
            diff.std(1),
            np.linalg.norm(ea, axis=1),
            np.linalg.norm(eb, axis=1),
        ]
    )


def elementwise_features(ea: np.ndarray, eb: np.ndarray) -> np.ndarray:
    """[â⊙b̂, |â−b̂|] of unit engrams (symmetric in a, b)."""
    ua, ub = unit(ea), unit(eb)
    return np.hstack([ua * ub, np.abs(ua - ub)])


def _accuracy(clf, features, e, fit, ev) -> float:
    clf = make_pipeline(StandardScaler(), clf)
    clf.fit(features(e[fit[0]], e[fit[1]]), fit[2])
    return float(clf.score(features(e[ev[0]], e[ev[1]]), ev[2]))


def cluster_quality(
    e: np.ndarray, labels: np.ndarray, idx: np.ndarray, join: float, rng: np.random.Generator
) -> dict[str, float]:
    """ARI and cluster count of the online clustering of chunks ``idx`` (shuffled) at τ_join."""
    order = rng.permutation(idx)
    mgr = TopicContextManager(join)
    for i in order:
        mgr.insert(e[i], [], label=int(labels[i]))
    return {"ari": float(adjusted_rand_score(labels[order], mgr.assignments())), "n_clusters": len(mgr.clusters)}


def evaluate_length(
    e: np.ndarray,
    labels: np.ndarray,
    starts: np.ndarray,
    *,
    n_pairs: int,
    min_gap: int,
    seed: int,
    classifiers: bool = True,
    centre: bool = True,
) -> dict[str, float]:
    """Every score of one length and one seed (see the module docstring); ``classifiers=False``
    skips the learned classifiers and the clustering, ``centre=False`` takes plain cosines (both
    for the lexical control)."""
    rng = np.random.default_rng(seed)
    fit_idx, ev_idx = split_halves(labels, rng)
    fit = pairs(fit_idx, labels, starts, n_pairs=n_pairs, min_gap=min_gap, rng=rng)
    ev = pairs(ev_idx, labels, starts, n_pairs=n_pairs, min_gap=min_gap, rng=rng)
    c = e - e[fit_idx].mean(0) if centre else e  # centred on the fit half only
    u = unit(c)
    cos_fit = (u[fit[0]] * u[fit[1]]).sum(1)
    cos_ev = (u[ev[0]] * u[ev[1]]).sum(1)
    t = fit_threshold(cos_fit, fit[2])
    out = {
        "threshold": t,
        "acc_threshold": float(np.mean((cos_ev >= t) == ev[2])),
        "auroc": float(roc_auc_score(ev[2], cos_ev)),
        "cos_same": float(cos_ev[ev[2]].mean()),
        "cos_diff": float(cos_ev[~ev[2]].mean()),
        "n_eval_pairs": int(len(ev[2])),
    }
    if classifiers:
        with threadpool_limits(1):  # BLAS threads thrash on a loaded 2-core machine
            mlp = MLPClassifier(SEED_MLP, max_iter=2000, random_state=seed)
            out["acc_mlp"] = _accuracy(mlp, seed8_features, c, fit, ev)
            out["acc_elementwise"] = _accuracy(LogisticRegression(max_iter=2000), elementwise_features, c, fit, ev)
        out.update(cluster_quality(u, labels, ev_idx, t, rng))
    return out


def score_lengths(
    engrams: dict[int, np.ndarray],
    chunks: dict[int, list[list[int]]],
    labels: np.ndarray,
    starts: np.ndarray,
    seeds: list[int],
    *,
    vocab_size: int,
    n_pairs: int,
    min_gap: int,
) -> list[dict]:
    """One row per (length, seed, features): ``evaluate_length`` of the engrams (``features =
    "reader"``) and of the TF-IDF token counts of the same chunks (``"tfidf"``, no classifiers)."""
    rows = []
    for L, e in engrams.items():
        lexical = bag_of_tokens(chunks[L], vocab_size)
        for seed in seeds:
            kw = {"n_pairs": n_pairs, "min_gap": min_gap, "seed": seed}
            rows.append({"length": L, "seed": seed, "features": "reader", **evaluate_length(e, labels, starts, **kw)})
            tfidf = evaluate_length(lexical, labels, starts, classifiers=False, centre=False, **kw)
            rows.append({"length": L, "seed": seed, "features": "tfidf", **tfidf})
    return rows
