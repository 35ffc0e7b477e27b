"""The Kakeya codec of AMS v4 (seed ``kakeya/set.py``, ``registry.py``; book/appendix/ams.md §1 and §6).

**Build a set** on a field corpus ``X ∈ R^{N×d}``:

1. PCA: ``μ = mean(X)``, SVD of ``X − μ``; ``d_eff`` = smallest k with cumulative explained
   variance ≥ 0.99, clamped to ``[2, rank]``; ``B ∈ R^{d_eff×d}`` the top right-singular vectors.
2. "Alignment": ``M`` a fixed Gaussian ``/√d_base`` matrix (seeded ``100 + set_idx``),
   ``a = axis·M``, ``t_dir = normalize(B a)``. The alignment error ``|t_dir − normalize(Ba)|`` is
   therefore 0 by construction.
3. Perpendicular clustering: ``c = (X−μ)Bᵀ``, ``α = c·t_dir``, ``p = c − α t_dir``; spherical
   k-means (K = min(16, N), farthest-first init from item 0, empty clusters reseeded with the
   worst-fitted point, ≤ 100 iterations) on the normalised ``p``.

**Encode** ``v``: ``c = (v−μ)Bᵀ``, ``α = c·t_dir``, ``p = c − α t_dir``, ``seg = argmax C·p̂``,
``t = p·C_seg``, ``r = p − t C_seg``, keep the ``d_res = min(5, d_eff)`` largest ``|r_i|``.
**Decode**: ``v̂ = μ + (α t_dir + t C_seg + sparse(r)) B``.

**Registry**: the seed's four sets (time ← h; topic ← [h, content-embedding mean]; ctx ← ctx_base
zero-padded to D; topic ← content-embedding mean), built once when the store first holds
``min_entries = 8`` memories and never rebuilt: every later write is an out-of-sample encode.
Storage counts floats: per entry 3 scalars + d_res values + d_res indices per set; per set the
skeleton ``B``, ``μ``, the centers, ``t_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CompressedVec:
    set_idx: int
    seg: int
    alpha: float
    t: float
    res_vals: torch.Tensor
    res_idx: torch.Tensor


class KakeyaSet:
    def __init__(
        self,
        X: torch.Tensor,
        axis: torch.Tensor,
        *,
        set_idx: int = 0,
        variance_ratio: float = 0.99,
        K: int = 16,
        d_res: int = 5,
        max_iter: int = 100,
    ) -> None:
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"a Kakeya set needs a (N >= 2, d) corpus, got shape {tuple(X.shape)}")
        if not 0 < variance_ratio <= 1:
            raise ValueError(f"variance_ratio must be in (0, 1], got {variance_ratio}")
        X = X.double()
        self.set_idx = set_idx
        self.mu = X.mean(0)
        _, S, Vh = torch.linalg.svd(X - self.mu, full_matrices=False)
        var = S**2
        rank = int((S > 1e-10 * S[0].clamp_min(1e-30)).sum()) if S.numel() else 0
        cum = torch.cumsum(var, 0) / var.sum().clamp_min(1e-30)
        d_eff = int((cum < variance_ratio).sum()) + 1
        self.d_eff = max(2, min(d_eff, max(rank, 2), Vh.shape[0]))
        self.B = Vh[: self.d_eff]
        g = torch.Generator().manual_seed(100 + set_idx)
        M = torch.randn(axis.numel(), X.shape[1], generator=g, dtype=torch.float64) / axis.numel() ** 0.5
        target = self.B @ (axis.double() @ M)
        if target.norm() < 1e-8:
            self.t_dir = torch.zeros(self.d_eff, dtype=torch.float64)
            self.t_dir[0] = 1.0
            self.align_error = 1.0
        else:
            self.t_dir = target / target.norm()
            self.align_error = float((self.t_dir - target / target.norm()).norm())
        c = (X - self.mu) @ self.B.T
        perp = c - (c @ self.t_dir)[:, None] * self.t_dir
        self.centers = _spherical_kmeans(perp, min(K, X.shape[0]), max_iter)
        self.d_res = min(d_res, self.d_eff)

    def encode(self, v: torch.Tensor) -> CompressedVec:
        c = (v.double() - self.mu) @ self.B.T
        alpha = float(c @ self.t_dir)
        p = c - alpha * self.t_dir
        seg = int((self.centers @ torch.nn.functional.normalize(p, dim=0)).argmax())
        t = float(p @ self.centers[seg])
        r = p - t * self.centers[seg]
        idx = r.abs().topk(self.d_res).indices
        return CompressedVec(self.set_idx, seg, alpha, t, r[idx].clone(), idx)

    def decode(self, cv: CompressedVec) -> torch.Tensor:
        r = torch.zeros(self.d_eff, dtype=torch.float64)
        r[cv.res_idx] = cv.res_vals
        return (self.mu + (cv.alpha * self.t_dir + cv.t * self.centers[cv.seg] + r) @ self.B).float()

    def skeleton_floats(self) -> int:
        return self.B.numel() + self.mu.numel() + self.centers.numel() + self.t_dir.numel()

    def entry_floats(self) -> int:
        return 3 + 2 * self.d_res  # seg/alpha/t + residual values + residual indices


def _spherical_kmeans(P: torch.Tensor, K: int, max_iter: int) -> torch.Tensor:
    U = torch.nn.functional.normalize(P, dim=1)
    chosen = [0]
    for _ in range(1, K):  # farthest-first from item 0
        sim = (U @ U[chosen].T).max(1).values
        sim[chosen] = float("inf")
        chosen.append(int(sim.argmin()))
    C = U[chosen].clone()
    assign = None
    for _ in range(max_iter):
        sims = U @ C.T
        new = sims.argmax(1)
        for k in range(K):
            if not (new == k).any():  # reseed with the worst-fitted point
                worst = int(sims.max(1).values.argmin())
                new[worst] = k
                sims[worst] = -float("inf")
        C = torch.nn.functional.normalize(torch.stack([U[new == k].sum(0) for k in range(K)]), dim=1)
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
    return C


def relative_errors(kset: KakeyaSet, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row ‖decode(encode(v)) − v‖ / ‖v‖ (the seed's ratio) and / ‖v − μ‖ (centred)."""
    X = X.double()
    rec = torch.stack([kset.decode(kset.encode(v)).double() for v in X])
    err = (rec - X).norm(dim=1)
    return err / X.norm(dim=1).clamp_min(1e-12), err / (X - kset.mu).norm(dim=1).clamp_min(1e-12)


ROUTES = (("time", ("h",)), ("topic", ("h", "c")), ("ctx", ("ctx_pad",)), ("topic", ("c",)))


class KakeyaRegistry:
    """The seed's four routed sets, built once at ``min_entries`` and never rebuilt."""

    def __init__(self, axes: dict[str, torch.Tensor], *, min_entries: int = 8, **set_kw) -> None:
        if min_entries < 2:
            raise ValueError(f"min_entries must be >= 2, got {min_entries}")
        self.axes, self.min_entries, self.set_kw = axes, min_entries, set_kw
        self.sets: list[KakeyaSet] = []
        self.stash: list[dict[str, torch.Tensor]] = []
        self.handles: list[list[CompressedVec]] = []

    @staticmethod
    def field(fields: dict[str, torch.Tensor], names: tuple[str, ...]) -> torch.Tensor:
        return torch.cat([fields[n] for n in names])

    def write(self, fields: dict[str, torch.Tensor]) -> None:
        self.stash.append(fields)
        if not self.sets and len(self.stash) >= self.min_entries:
            for i, (bundle, names) in enumerate(ROUTES):
                X = torch.stack([self.field(f, names) for f in self.stash])
                self.sets.append(KakeyaSet(X, self.axes[bundle], set_idx=i, **self.set_kw))
            self.handles = [self._encode(f) for f in self.stash]
        elif self.sets:
            self.handles.append(self._encode(fields))

    def _encode(self, fields: dict[str, torch.Tensor]) -> list[CompressedVec]:
        return [s.encode(self.field(fields, names)) for s, (_, names) in zip(self.sets, ROUTES, strict=True)]

    def floats(self) -> tuple[int, int]:
        """(floats stored: skeletons + per-entry codes, raw floats of the same fields)."""
        if not self.sets:
            return 0, 0
        n = len(self.handles)
        stored = sum(s.skeleton_floats() + n * s.entry_floats() for s in self.sets)
        raw = n * sum(int(s.mu.numel()) for s in self.sets)
        return stored, raw
