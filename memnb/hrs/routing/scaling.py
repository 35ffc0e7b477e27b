"""Topic accuracy of engram cosine vs text length: the seed's "signal-to-noise scaling law".

HRS (book/appendix/hrs.md §5, first item) cut WikiText *training* articles into 512-token segments and
sentences, drew pairs (half same-article, half different), and chose the best fixed threshold on
cos(e_a, e_b) *on the evaluation pairs*: 97.3% at 512 tokens, 70.9% at sentence scale; an MLP on
8 pair features reached 97.3% / 71.5% ("a learned classifier cannot beat a fixed threshold").

Here topics are held-out plays (never seen by the backbone). For each text length L:

1. ``chunk_set``: non-overlapping L-token chunks of each play (evenly spaced, at most
   ``max_chunks`` per play), and their raw engrams (``engram.engrams``).
2. Each seed splits every play's chunks at random into a *fit* and an *eval* half, and draws
   balanced pairs inside each half (``pairs``): ``n_pairs`` same-play pairs whose starts are
   ≥ ``min_gap`` tokens apart (not the same scene) and ``n_pairs`` different-play pairs. Chance is
   50%; so is the majority class.
3. ``fit_threshold``: the accuracy-maximising rule "same iff cos ≥ t" on the fit pairs, scored on
   the eval pairs (the seed tuned t on the pairs it reported). AUROC of cos on the eval pairs is
   the threshold-free version.
4. Learned classifiers, fit on the fit pairs and scored on the eval pairs (standardised logistic
   regression, sklearn defaults): ``seed8`` on the seed's 8 pair features (cos, L2 distance,
   mean/std of a⊙b, mean/std of |a−b|, ‖a‖, ‖b‖ of raw engrams) and ``elementwise`` on
   [â⊙b̂, |â−b̂|] of unit engrams (2d features, a learned diagonal metric).
5. ``cluster_quality``: the eval chunks, shuffled, streamed through the TopicContextManager with
   τ_join = the fitted threshold; adjusted Rand index of clusters vs plays (0 = chance, 1 = the
   plays exactly) and the number of clusters.

``score_lengths`` runs 2-5 for every length, seed and encoder, plus a TF-IDF lexical control.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from memnb.eval.pooling import unit
from memnb.hrs.routing.engram import bag_of_tokens, piece_sums
from memnb.hrs.routing.topic_manager import TopicContextManager
from memnb.train import progress_enabled


def chunk_set(
    plays: dict[str, list[int]], length: int, max_chunks: int
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """(token lists, play index, start token) of ≤ ``max_chunks`` evenly spaced L-token chunks per play."""
    if length < 1 or max_chunks < 2:
        raise ValueError(f"need length >= 1 and max_chunks >= 2, got {length}, {max_chunks}")
    toks, labels, starts = [], [], []
    for p, ids in enumerate(plays.values()):
        all_starts = np.arange(0, len(ids) - length + 1, length)
        if len(all_starts) < 2:
            raise ValueError(f"a play of {len(ids)} tokens has < 2 chunks of {length}; use shorter lengths")
        keep = all_starts[
            np.unique(np.linspace(0, len(all_starts) - 1, min(max_chunks, len(all_starts))).round().astype(int))
        ]
        toks += [ids[s : s + length] for s in keep]
        labels += [p] * len(keep)
        starts += list(keep)
    return toks, np.array(labels), np.array(starts)


def length_engrams(
    model, plays: dict[str, list[int]], lengths: list[int], *, max_chunks: int, layer: int, window: int
) -> dict[int, tuple[list[list[int]], np.ndarray, np.ndarray, np.ndarray]]:
    """For each length: (chunks, raw engrams, play index, start) as ``engram.engrams`` would give,
    but every window-sized piece shared between lengths (chunks start at multiples of their
    length, so pieces of lengths that are multiples of ``window`` coincide) is read only once."""
    sets = {L: chunk_set(plays, L, max_chunks) for L in lengths}
    titles = list(plays)
    keys: dict[tuple[int, int, int], int] = {}
    for L, (_, labels, starts) in sets.items():
        for p, s in zip(labels, starts, strict=True):
            for o in range(s, s + L, window):
                keys.setdefault((int(p), int(o), min(window, s + L - o)), len(keys))
    pieces = [plays[titles[p]][o : o + n] for p, o, n in keys]
    sums, counts = piece_sums(model, pieces, layer=layer)
    out = {}
    for L, (toks, labels, starts) in sets.items():
        rows = [
            [keys[(int(p), int(o), min(window, s + L - o))] for o in range(s, s + L, window)]
            for p, s in zip(labels, starts, strict=True)
        ]
        e = np.stack([sums[r].sum(0) / counts[r].sum() for r in rows])
        out[L] = (toks, e, labels, starts)
    return out


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
        raise ValueError(f"only {n} balanced pairs available; lower min_gap or raise max_chunks")
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
    """The seed's 8 pair features of raw engrams (train_topic_classifier.py)."""
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


def _classifier_accuracy(features, e, fit, ev) -> float:
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
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
) -> dict[str, float]:
    """Every score of one length and one seed (see the module docstring); ``classifiers=False``
    skips the learned classifiers and the clustering (for the lexical control)."""
    rng = np.random.default_rng(seed)
    fit_idx, ev_idx = split_halves(labels, rng)
    fit = pairs(fit_idx, labels, starts, n_pairs=n_pairs, min_gap=min_gap, rng=rng)
    ev = pairs(ev_idx, labels, starts, n_pairs=n_pairs, min_gap=min_gap, rng=rng)
    u = unit(e)
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
            out["acc_seed8"] = _classifier_accuracy(seed8_features, e, fit, ev)
            out["acc_elementwise"] = _classifier_accuracy(elementwise_features, e, fit, ev)
        out.update(cluster_quality(e, labels, ev_idx, t, rng))
    return out


def score_lengths(
    sets: dict[str, dict[int, tuple]], seeds: list[int], *, vocab_size: int, n_pairs: int, min_gap: int
) -> list[dict]:
    """One row per (length, seed, features): ``evaluate_length`` of every encoder's engrams
    (``sets``: encoder name → ``length_engrams``), then of the TF-IDF token counts of the chunks
    (``features="tfidf"``, no classifiers), the lexical control."""
    first = next(iter(sets.values()))
    rows = []
    for L in tqdm(list(first), desc="lengths", disable=not progress_enabled()):
        toks, _, labels, starts = first[L]
        lexical = bag_of_tokens(toks, vocab_size)
        for seed in seeds:
            kw = {"n_pairs": n_pairs, "min_gap": min_gap, "seed": seed}
            for name, by_length in sets.items():
                _, e, _, _ = by_length[L]
                rows.append({"length": L, "seed": seed, "features": name, **evaluate_length(e, labels, starts, **kw)})
            tfidf = evaluate_length(lexical, labels, starts, classifiers=False, **kw)
            rows.append({"length": L, "seed": seed, "features": "tfidf", **tfidf})
    return rows
