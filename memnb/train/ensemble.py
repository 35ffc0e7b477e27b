"""Seed ensembles: S same-shaped models trained in one batched forward/backward.

``train_ensemble(models, get_batches, cfg)`` trains ``models[s]`` on ``get_batches[s]`` for
``cfg.steps`` AdamW steps, all members at once: their parameters are stacked along a leading
member dimension (one flat buffer ``[S, P]``), the forward is ``torch.func.vmap`` over the
members of ``functional_call`` on one copy of the module, and one ``backward`` of the summed
member losses gives every member its own gradient (the members share no parameter, so the sum's
gradient with respect to member s's parameters is the gradient of member s's loss). Then, per
member and exactly as ``memnb.train.train`` does for one model:

- clipping: g_s ← g_s · min(1, c_s / (‖g_s‖ + 1e-6)), ‖g_s‖ the global 2-norm of member s's
  gradient (``torch.nn.utils.clip_grad_norm_``), c_s its ``grad_clip``;
- AdamW (PyTorch's, decoupled weight decay on parameters with ≥ 2 dimensions, none on the
  others, eps = 1e-8) with member s's own moments, step count and learning rate
  ``lr_at(step, cfg_s)`` (warmup + cosine) and each parameter its own step count t:
  θ ← θ(1 − η λ); m ← m + (1 − β₁)(g − m); v ← β₂ v + (1 − β₂) g²;
  θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps).

So member s's trajectory is the one ``train(models[s], get_batches[s], cfg_s)`` follows, up to
float rounding (``tests/test_train_ensemble.py``: S = 3 for 20 steps in float64, largest relative
parameter difference ≤ 1e-9). ``cfg`` may be one ``TrainConfig`` or one per member (S arms of one
shape with their own lr, warmup, weight decay, betas or clipping); ``steps`` must agree.

Scope: whole sequences, one optimiser step per batch (``segment_len=None``: no truncated BPTT,
whose per-member state would have to cross the vmap boundary), no dropout (a vmapped dropout
draws other random numbers than a solo run) and no checkpoints. A parameter that gets no
gradient at a step (Titans' key projection before its first chunk is written, say) is skipped
that step, weight decay and moments included, as PyTorch's AdamW skips it.
A layer runs under vmap if every op it calls has a batching rule; PyTorch 2.13 lacks the one for
the fused CPU attention kernel (``aten::_scaled_dot_product_flash_attention_for_cpu``) and would
loop over the members, so this module registers it (the members folded into the batch dimension;
outputs identical to per-member calls). Opt-in: nothing in the book trains this way by default.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from memnb.models.decoder import lm_loss
from memnb.train.loop import Batch, ProgressLog, TrainConfig, _evaluate, lr_at, progress_enabled

ADAM_EPS = 1e-8  # torch.optim.AdamW's default, which memnb.train.train uses
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s


def train_ensemble(
    models: Sequence[nn.Module],
    get_batches: Sequence[Callable[[int], Batch]],
    cfg: TrainConfig | Sequence[TrainConfig],
    *,
    evaluate: Callable[[nn.Module], dict] | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = lm_loss,
    desc: str = "ensemble",
) -> list[list[dict]]:
    """Train every member for ``steps`` optimiser steps in one batched pass per step; the trained
    weights are written back into ``models``. Returns one history per member, rows as
    ``train``'s: ``{"step", "lr", "train_loss"}`` plus ``evaluate(model)``'s metrics at every
    ``eval_every`` steps and at the end."""
    S = len(models)
    cfgs = list(cfg) if isinstance(cfg, Sequence) else [cfg] * S
    _check(models, get_batches, cfgs)
    steps = cfgs[0].steps
    _register_sdpa_vmap_rule()

    names = [n for n, p in models[0].named_parameters() if p.requires_grad]
    shapes = [models[0].get_parameter(n).shape for n in names]
    sizes = [math.prod(s) for s in shapes]
    frozen = {
        n: torch.stack([m.get_parameter(n).detach() for m in models])
        for n, p in models[0].named_parameters()
        if not p.requires_grad
    }
    buffers = {n: torch.stack([m.get_buffer(n) for m in models]) for n, _ in models[0].named_buffers()}
    flat = torch.stack([torch.cat([m.get_parameter(n).detach().reshape(-1) for n in names]) for m in models])
    flat.requires_grad_(True)
    exp_avg, exp_avg_sq = torch.zeros_like(flat), torch.zeros_like(flat)
    decays = [len(shape) >= 2 for shape in shapes]  # AdamW's weight decay: matrices and embeddings only
    taken = [0] * len(names)  # optimiser steps each parameter has taken
    base = copy.deepcopy(models[0]).to("meta")  # the structure only; weights come from `flat`

    def views() -> dict[str, torch.Tensor]:
        out, offset = {}, 0
        for name, shape, size in zip(names, shapes, sizes, strict=True):
            out[name] = flat[:, offset : offset + size].view(S, *shape)
            offset += size
        return out

    def member_loss(params: dict, bufs: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits, _ = functional_call(base, (params, bufs), (x,))
        return loss_fn(logits, y)

    batched_loss = vmap(member_loss, randomness="error")

    histories: list[list[dict]] = [[] for _ in range(S)]
    base.train()
    bar = tqdm(total=steps, desc=desc, leave=False, disable=not progress_enabled())
    log = ProgressLog(f"{desc} ({S} members)", steps)
    for step in range(steps):
        batches = [gb(step) for gb in get_batches]
        x = torch.stack([b[0] for b in batches]).to(flat.device)
        y = torch.stack([b[1] for b in batches]).to(flat.device)
        params = views()
        losses = batched_loss({**params, **frozen}, buffers, x, y)
        bad = [s for s, v in enumerate(losses.tolist()) if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{desc}: loss is not finite for member(s) {bad} at step {step}; lower the lr")
        grads = torch.autograd.grad(losses.sum(), list(params.values()), allow_unused=True)
        with torch.no_grad():
            g = [flat.new_zeros(S, n) if gr is None else gr.reshape(S, -1) for gr, n in zip(grads, sizes, strict=True)]
            g = torch.cat(g, dim=1)
            active = [gr is not None for gr in grads]  # like AdamW, skip a parameter that got no gradient
            taken = [n + a for n, a in zip(taken, active, strict=True)]
            lrs = [lr_at(step, c) for c in cfgs]
            _clip_(g, [c.grad_clip for c in cfgs])
            _adamw_(flat, g, exp_avg, exp_avg_sq, lrs, cfgs, taken, active, decays, sizes)
        values = losses.tolist()
        for s in range(S):
            histories[s].append({"step": step + 1, "lr": lrs[s], "train_loss": values[s]})
        bar.update(1)
        log.update(step + 1, sum(values) / S)
        due = cfgs[0].eval_every and (step + 1) % cfgs[0].eval_every == 0
        if evaluate is not None and (due or step + 1 == steps):
            _write_back(models, flat, names, shapes, sizes)
            for s, model in enumerate(models):
                histories[s][-1].update(_evaluate(model, evaluate))
    bar.close()
    _write_back(models, flat, names, shapes, sizes)
    return histories


def _clip_(g: torch.Tensor, max_norms: list[float]) -> None:
    """``clip_grad_norm_`` per member: row s of ``g [S, P]`` scaled by min(1, c_s / (‖g_s‖ + 1e-6))."""
    norm = torch.linalg.vector_norm(g, 2, dim=1, keepdim=True)
    g.mul_(torch.clamp(_column(max_norms, g) / (norm + CLIP_EPS), max=1.0))


def _adamw_(flat, g, exp_avg, exp_avg_sq, lrs, cfgs, taken, active, decays, sizes) -> None:
    """One AdamW step on ``flat [S, P]`` in the order of torch's single-tensor AdamW, each member
    with its own lr and betas, each parameter with its own step count ``taken``; parameters not
    ``active`` (no gradient this step) are left as they are, moments included."""
    b1, b2 = [c.betas[0] for c in cfgs], [c.betas[1] for c in cfgs]

    def per_param(rows: list[list[float]]) -> torch.Tensor:  # [S][n_params] -> [S, P]
        table = torch.tensor(rows, dtype=flat.dtype, device=flat.device)
        return table.repeat_interleave(torch.tensor(sizes, device=flat.device), dim=1)

    old = (flat.clone(), exp_avg.clone(), exp_avg_sq.clone()) if not all(active) else None
    keep = [[1 - lr * c.weight_decay if d else 1.0 for d in decays] for lr, c in zip(lrs, cfgs, strict=True)]
    flat.mul_(per_param(keep))
    exp_avg.lerp_(g, _column([1 - b for b in b1], flat))
    exp_avg_sq.mul_(_column(b2, flat)).add_(_column([1 - b for b in b2], flat) * g * g)
    bc2_sqrt = per_param([[(1 - b ** max(n, 1)) ** 0.5 for n in taken] for b in b2])
    denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(ADAM_EPS)
    step_size = per_param([[-(lr / (1 - b ** max(n, 1))) for n in taken] for lr, b in zip(lrs, b1, strict=True)])
    flat.add_(step_size * exp_avg / denom)
    if old is not None:
        mask = per_param([[float(a) for a in active]]).bool()
        for new, before in zip((flat, exp_avg, exp_avg_sq), old, strict=True):
            new.copy_(torch.where(mask, new, before))


def _column(values: list[float], like: torch.Tensor) -> torch.Tensor:
    """One value per member, ``[S, 1]``, to broadcast over ``[S, P]``."""
    return torch.tensor(values, dtype=like.dtype, device=like.device).unsqueeze(1)


def _check(models: Sequence[nn.Module], get_batches: Sequence, cfgs: list[TrainConfig]) -> None:
    S = len(models)
    if S < 1 or len(get_batches) != S or len(cfgs) != S:
        raise ValueError(
            f"need one batch stream and one config per member: {S} models, "
            f"{len(get_batches)} streams, {len(cfgs)} configs"
        )
    if len({c.steps for c in cfgs}) > 1 or len({c.eval_every for c in cfgs}) > 1:
        raise ValueError("members must share steps and eval_every")
    if any(c.segment_len is not None for c in cfgs):
        raise NotImplementedError("train_ensemble trains whole sequences (segment_len=None); use train() for TBPTT")
    if any(c.checkpoint_every for c in cfgs):
        raise NotImplementedError("train_ensemble keeps no checkpoints (checkpoint_every must be 0)")
    ref = [(n, p.shape, p.dtype, p.device, p.requires_grad) for n, p in models[0].named_parameters()]
    ref_buffers = [(n, b.shape, b.dtype) for n, b in models[0].named_buffers()]
    for s, m in enumerate(models[1:], start=1):
        same = [(n, p.shape, p.dtype, p.device, p.requires_grad) for n, p in m.named_parameters()] == ref
        same = same and [(n, b.shape, b.dtype) for n, b in m.named_buffers()] == ref_buffers
        if type(m) is not type(models[0]) or not same:
            raise ValueError(f"member {s} is not shaped like member 0 (same class, parameter names, shapes, dtypes)")
    for name, mod in models[0].named_modules():
        if isinstance(mod, nn.modules.dropout._DropoutNd) and mod.p > 0:
            raise ValueError(f"{name} is a dropout with p={mod.p}: a vmapped dropout cannot reproduce solo runs")


def _write_back(models: Sequence[nn.Module], flat: torch.Tensor, names, shapes, sizes) -> None:
    with torch.no_grad():
        for s, model in enumerate(models):
            offset = 0
            for name, shape, size in zip(names, shapes, sizes, strict=True):
                model.get_parameter(name).copy_(flat[s, offset : offset + size].view(shape))
                offset += size


_SDPA_RULE_REGISTERED = False
_LIB: torch.library.Library | None = None


def _register_sdpa_vmap_rule() -> None:
    """Give ``aten::_scaled_dot_product_flash_attention_for_cpu`` (PyTorch's fused CPU attention,
    which ``F.scaled_dot_product_attention`` picks for float CPU inputs) a vmap batching rule: the
    vmapped dimension is folded into the batch dimension and the kernel runs once. Without it
    vmap falls back to one kernel call per member (and warns). Registered once per process; only
    vmapped calls are affected."""
    global _SDPA_RULE_REGISTERED, _LIB
    if _SDPA_RULE_REGISTERED:
        return
    _LIB = torch.library.Library("aten", "IMPL")
    _LIB.impl("_scaled_dot_product_flash_attention_for_cpu", _flash_cpu_batched, "FuncTorchBatched")
    _SDPA_RULE_REGISTERED = True


def _flash_cpu_batched(q, k, v, dropout_p=0.0, is_causal=False, *, attn_mask=None, scale=None):
    from torch._C._functorch import _add_batch_dim
    from torch._functorch.autograd_function import unwrap_batched
    from torch._functorch.pyfunctorch import retrieve_current_functorch_interpreter

    interpreter = retrieve_current_functorch_interpreter()
    level, n = interpreter.level(), interpreter.batch_size()
    (q, k, v, mask), dims = unwrap_batched((q, k, v, attn_mask), level)

    def front(t: torch.Tensor, dim: int | None) -> torch.Tensor:  # [n, B, H, T, D]
        return t.movedim(dim, 0) if dim is not None else t.unsqueeze(0).expand(n, *t.shape)

    q, k, v = (front(t, d) for t, d in zip((q, k, v), dims[:3], strict=True))
    B = q.size(1)
    if mask is not None and dims[3] is not None:  # a per-member mask: broadcast to [n, B, H|1, T, S]
        mask = mask.movedim(dims[3], 0)
        mask = mask.reshape(n, *[1] * (5 - mask.dim()), *mask.shape[1:])
        mask = mask.expand(n, B, *mask.shape[2:]).reshape(n * B, *mask.shape[2:])
    elif mask is not None and mask.dim() == 4 and mask.size(0) != 1:  # a per-sequence mask, same for all
        mask = mask.unsqueeze(0).expand(n, *mask.shape).reshape(n * mask.size(0), *mask.shape[1:])
    fold = [t.reshape(n * B, *t.shape[2:]) for t in (q, k, v)]
    with torch._C._ExcludeDispatchKeyGuard(torch._C.DispatchKeySet(torch._C.DispatchKey.FuncTorchBatched)):
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            *fold, dropout_p, is_causal, attn_mask=mask, scale=scale
        )
    out, lse = out.reshape(n, B, *out.shape[1:]), lse.reshape(n, B, *lse.shape[1:])
    return _add_batch_dim(out, 0, level), _add_batch_dim(lse, 0, level)
