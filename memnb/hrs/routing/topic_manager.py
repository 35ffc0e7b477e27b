"""The seed's TopicContextManager: online clustering of texts by engram, and context assembly.

HRS ``topic_context.py`` (book/appendix/hrs.md §5), re-implemented:

- **Join.** A text's unit engram ê goes to the nearest centroid by cosine if that similarity is
  ≥ τ_join, else it opens a new cluster. The joined centroid is the renormalised running mean of
  its members' unit engrams, c ← normalise(((n−1)·c + ê)/n).
- **Auto-merge.** After every insertion, any two centroids with cosine ≥ τ_merge merge (the
  smaller into the larger, its members re-added one by one by the same running mean), until no
  pair qualifies. The seed used τ_merge = min(0.85, τ_join + 0.35) for cosines spread over
  [0, 1]; ``merge_threshold`` keeps its relative position for any τ_join,
  τ_merge = 1 − 0.3·(1 − τ_join) (= 0.85 at the seed's τ_join = 0.5).
- **Active slots.** A most-recently-used list of at most ``max_active`` clusters; the matched
  cluster moves to the front; the least recent is evicted from the list (clusters persist).
- **Context assembly.** A budget of ``budget`` tokens: active clusters get halving shares (MRU ½,
  the next ¼, …, the last the remainder); each contributes its most recent members, the oldest
  one tail-truncated to fit, in chronological order; older clusters first, the MRU cluster last.

The seed's benchmark called ``process_prompt`` (insert the prompt) *before* ``get_context``, so
the context always ended with the prompt itself, which was then appended again
(book/appendix/hrs.md §5, second item): ``insert`` + ``assemble`` reproduces that. The corrected
order is ``route`` (nearest cluster made MRU, nothing inserted) + ``assemble``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def merge_threshold(join: float) -> float:
    """τ_merge for a given τ_join (see the module docstring)."""
    return 1.0 - 0.3 * (1.0 - join)


@dataclass
class Cluster:
    centroid: np.ndarray  # unit vector
    members: list[int] = field(default_factory=list)  # item ids, in insertion order


class TopicContextManager:
    """Online topic clusters over items (unit engram, token list, optional label)."""

    def __init__(self, join: float, *, merge: float | None = None, max_active: int = 3, budget: int = 384) -> None:
        if not -1.0 <= join <= 1.0:
            raise ValueError(f"join is a cosine threshold in [-1, 1], got {join}")
        if max_active < 1 or budget < 1:
            raise ValueError(f"need max_active >= 1 and budget >= 1, got {max_active}, {budget}")
        self.join = float(join)
        self.merge = merge_threshold(join) if merge is None else float(merge)
        self.max_active = max_active
        self.budget = budget
        self.vectors: list[np.ndarray] = []
        self.tokens: list[list[int]] = []
        self.labels: list[object] = []
        self.clusters: dict[int, Cluster] = {}
        self.active: list[int] = []  # cluster ids, most recent first
        self._next_id = 0

    # --- clustering -------------------------------------------------------------------------
    def nearest(self, vector: np.ndarray) -> tuple[int | None, float]:
        """(id of the nearest centroid, its cosine) or (None, -inf) when there are no clusters."""
        if not self.clusters:
            return None, float("-inf")
        ids = list(self.clusters)
        sims = np.stack([self.clusters[c].centroid for c in ids]) @ _unit(vector)
        k = int(np.argmax(sims))
        return ids[k], float(sims[k])

    def insert(self, vector: np.ndarray, tokens: list[int], label: object = None) -> int:
        """Add an item (join or open a cluster), make its cluster MRU, auto-merge; its cluster id."""
        item = len(self.vectors)
        self.vectors.append(_unit(vector))
        self.tokens.append(list(tokens))
        self.labels.append(label)
        cid, sim = self.nearest(vector)
        if cid is None or sim < self.join:
            cid = self._next_id
            self._next_id += 1
            self.clusters[cid] = Cluster(self.vectors[item].copy(), [item])
        else:
            self._add_member(self.clusters[cid], item)
        self._touch(cid)
        return self._auto_merge(cid)

    def route(self, vector: np.ndarray) -> tuple[int | None, float]:
        """The corrected read: make the nearest cluster MRU without inserting anything."""
        cid, sim = self.nearest(vector)
        if cid is not None:
            self._touch(cid)
        return cid, sim

    def assignments(self) -> np.ndarray:
        """The cluster id of every item, in item order."""
        out = np.empty(len(self.vectors), dtype=int)
        for cid, c in self.clusters.items():
            out[c.members] = cid
        return out

    def majority_label(self, cid: int) -> object:
        """The most frequent label among a cluster's members (ties: the first seen)."""
        labels = [self.labels[i] for i in self.clusters[cid].members]
        return max(dict.fromkeys(labels), key=labels.count)

    # --- context ----------------------------------------------------------------------------
    def shares(self, n_active: int) -> list[int]:
        """Token budgets of the active clusters, MRU first: ½, ¼, …, the last the remainder."""
        out = [self.budget >> (i + 1) for i in range(n_active - 1)]
        return out + [self.budget - sum(out)]

    def assemble(self) -> list[int]:
        """The context: active clusters' most recent members within their shares, oldest cluster first."""
        if not self.active:
            return []
        parts = []
        for cid, share in zip(self.active, self.shares(len(self.active)), strict=True):
            picked: list[int] = []
            for item in reversed(self.clusters[cid].members):
                room = share - len(picked)
                if room <= 0:
                    break
                picked = self.tokens[item][-room:] + picked
            parts.append(picked)
        return [t for part in reversed(parts) for t in part]

    # --- internals --------------------------------------------------------------------------
    def _add_member(self, cluster: Cluster, item: int) -> None:
        n = len(cluster.members) + 1
        cluster.centroid = _unit(((n - 1) * cluster.centroid + self.vectors[item]) / n)
        cluster.members.append(item)

    def _touch(self, cid: int) -> None:
        self.active = [cid] + [c for c in self.active if c != cid]
        del self.active[self.max_active :]

    def _auto_merge(self, cid: int) -> int:
        """Merge qualifying pairs (closest first) until none is left; the id ``cid`` ended up in."""
        while len(self.clusters) > 1:
            ids = list(self.clusters)
            cents = np.stack([self.clusters[c].centroid for c in ids])
            sims = cents @ cents.T
            np.fill_diagonal(sims, -np.inf)
            i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
            if sims[i, j] < self.merge:
                return cid
            a, b = ids[i], ids[j]
            big, small = (a, b) if len(self.clusters[a].members) >= len(self.clusters[b].members) else (b, a)
            for item in self.clusters.pop(small).members:
                self._add_member(self.clusters[big], item)
            self.clusters[big].members.sort()
            self.active = list(dict.fromkeys(big if c == small else c for c in self.active))
            cid = big if cid == small else cid
        return cid


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / max(float(np.linalg.norm(v)), 1e-12)
