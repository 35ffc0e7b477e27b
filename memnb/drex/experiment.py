"""Training and evaluation loops for the Drex recall probe (chapters 10–11).

``train_probe``: the seed's protocol (exp_47_1 / exp_48_1) — Adam at a constant lr
(``seed_protocol``, run by ``memnb.train.train``), batch 32, fresh task batches every step,
cross-entropy on the target value at the read position; then accuracy on ``n_eval`` fresh
sequences against the target and against a decoy (another in-context value), and the write
rate (Σ fire / (B (L−1))) at initialisation and after training on the same evaluation
sequences, plus the seed's own figure: the write rate averaged over all training batches
(``wr_train``; exp_47_1 reports that one). ``build_probe`` makes the model of ``cfg.arch``:
``RecallProbe`` or the seed's ``SeedRecallModel``.

``linear_probe``: the memory alone. The probe model is frozen at its random initialisation,
its memory read r (the input of the head) is computed for ``n_train`` + ``n_eval`` sequences,
and only a linear softmax head on standardised r is fitted (full batch, ``seed_protocol`` at
lr 0.03). Its accuracy says how much of the target is linearly readable from what the memory
returns.

``memory_norms``: ‖M_s‖_F and ‖M_e‖_F after each write position, averaged over a batch.

Every function seeds torch (``seed_everything``, single-threaded) and draws its task data from NumPy generators
keyed by (seed, purpose, L), so the same arguments give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from memnb.drex.probe import ProbeConfig, RecallProbe
from memnb.drex.seed_model import SeedRecallModel
from memnb.drex.task import make_recall
from memnb.ops.drex_memory import drex_memory, recency_weight
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, train

TRAIN, EVAL, PROBE = 0, 1, 2  # data-stream purposes
THREADS = 1  # the probe's ops are tiny: one thread is fastest (and deterministic)


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy vs the target and vs a decoy value, eval loss (nats), write rates (at
    initialisation, after training, and averaged over the training batches)."""

    acc: float
    acc_decoy: float
    loss: float
    wr_init: float
    wr: float
    wr_train: float


def build_probe(cfg: ProbeConfig) -> RecallProbe | SeedRecallModel:
    """The model of ``cfg.arch`` (``"probe"``: ``RecallProbe``; ``"exp47"``: the seed's model)."""
    return SeedRecallModel(cfg) if cfg.arch == "exp47" else RecallProbe(cfg)


def _need_probe(cfg: ProbeConfig, fn: str) -> None:
    if cfg.arch != "probe":
        raise ValueError(f"{fn} reads RecallProbe's memory directly: use arch='probe' (got {cfg.arch!r})")


def _rng(seed: int, purpose: int, length: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, length])


@torch.no_grad()
def evaluate(
    model: RecallProbe | SeedRecallModel, length: int, *, n_eval: int, seed: int, chunk: int = 512
) -> ProbeResult:
    """Accuracy, decoy accuracy, loss and write rate on ``n_eval`` fresh sequences."""
    batch = make_recall(n_eval, length, rng=_rng(seed, EVAL, length), layout=model.cfg.layout)
    logits, fires = [], []
    for i in range(0, n_eval, chunk):
        lo, f = model(batch.tokens[i : i + chunk])
        logits.append(lo)
        fires.append(f)
    lo, fire = torch.cat(logits), torch.cat(fires)
    pred = lo.argmax(-1)
    return ProbeResult(
        acc=(pred == batch.target).float().mean().item(),
        acc_decoy=(pred == batch.decoy).float().mean().item(),
        loss=F.cross_entropy(lo, batch.target).item(),
        wr_init=float("nan"),
        wr=fire.float().mean().item(),
        wr_train=float("nan"),
    )


def seed_protocol(steps: int, lr: float) -> TrainConfig:
    """The seed's optimiser (exp_47_1 / exp_48_1): Adam with torch's defaults, a constant lr, no
    clipping, no weight decay."""
    adam = {"optimizer": "adam", "betas": (0.9, 0.999), "weight_decay": 0.0}
    return TrainConfig(steps=steps, lr=lr, schedule="constant", warmup=0, grad_clip=None, **adam)


def _recall_loss(model: RecallProbe | SeedRecallModel, b, state):
    """Cross-entropy on the target at the read position; ``info`` carries the batch's write rate."""
    logits, fire = model(b.tokens)
    return F.cross_entropy(logits, b.target), state, {"wr": fire.float().mean()}


def _head_loss(head: torch.nn.Linear, batch: tuple[torch.Tensor, torch.Tensor], state):
    z, target = batch
    return F.cross_entropy(head(z), target), state, {}


def train_probe(
    cfg: ProbeConfig, *, length: int, steps: int, seed: int, batch: int = 32, lr: float = 3e-4, n_eval: int = 1920
) -> ProbeResult:
    """Train a fresh ``RecallProbe`` with the seed's protocol and evaluate it (module docstring)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    seed_everything(seed, threads=THREADS)
    model = build_probe(cfg)
    wr_init = evaluate(model, length, n_eval=n_eval, seed=seed).wr
    rng = _rng(seed, TRAIN, length)

    def fresh_batch(step: int):  # drawn in step order: a fresh task batch every step
        return make_recall(batch, length, rng=rng, layout=cfg.layout)

    desc = f"{cfg.memory} L={length}"
    history = train(model, fresh_batch, seed_protocol(steps, lr), loss_fn=_recall_loss, desc=desc) if steps else []
    res = evaluate(model, length, n_eval=n_eval, seed=seed)
    wr_train = sum(row["wr"] for row in history) / steps if steps else float("nan")
    return ProbeResult(res.acc, res.acc_decoy, res.loss, wr_init, res.wr, wr_train)


def linear_probe(
    cfg: ProbeConfig, *, length: int, seed: int, n_train: int = 2048, n_eval: int = 1024, head_steps: int = 300
) -> ProbeResult:
    """Fit a linear head on the frozen, randomly initialised memory's read (module docstring)."""
    _need_probe(cfg, "linear_probe")
    seed_everything(seed, threads=THREADS)
    model = RecallProbe(cfg).eval()
    data = make_recall(n_train + n_eval, length, rng=_rng(seed, PROBE, length), layout=cfg.layout)
    with torch.no_grad():
        parts = [model.read(data.tokens[i : i + 512]) for i in range(0, n_train + n_eval, 512)]
    r = torch.cat([p[0] for p in parts])
    fire = torch.cat([p[1] for p in parts])
    mu, sd = r[:n_train].mean(0), r[:n_train].std(0).clamp_min(1e-8)
    z = (r - mu) / sd
    head = torch.nn.Linear(z.shape[-1], cfg.vocab)
    if head_steps:  # full batch: the whole training set at every step
        full = (z[:n_train], data.target[:n_train])
        train(head, lambda step: full, seed_protocol(head_steps, lr=0.03), loss_fn=_head_loss, progress=False)
    with torch.no_grad():
        lo = head(z[n_train:])
    pred = lo.argmax(-1)
    wr = fire.float().mean().item()
    return ProbeResult(
        acc=(pred == data.target[n_train:]).float().mean().item(),
        acc_decoy=(pred == data.decoy[n_train:]).float().mean().item(),
        loss=F.cross_entropy(lo, data.target[n_train:]).item(),
        wr_init=wr,
        wr=wr,
        wr_train=wr,
    )


@torch.no_grad()
def memory_norms(cfg: ProbeConfig, *, length: int, seed: int, n: int = 64) -> np.ndarray:
    """``[L−1, 2]``: mean ‖M_s‖_F and ‖M_e‖_F after each write of the randomly initialised probe
    (the split memory; for ``single`` both columns are the one memory)."""
    _need_probe(cfg, "memory_norms")
    if cfg.memory == "none":
        raise ValueError("memory_norms needs a memory (memory='single' or 'split')")
    seed_everything(seed, threads=THREADS)
    model = RecallProbe(cfg).eval()
    tokens = make_recall(n, length, rng=_rng(seed, PROBE, length), layout=cfg.layout).tokens
    h = model.encode(tokens)[:, :-1]
    W_e = model.W_e if model.W_e is not None else model.W_s
    h_k = torch.cat([h.new_zeros(n, 1, h.shape[-1]), h[:, :-1]], 1) if cfg.layout == "kv" else h
    k_s, k_e = model.W_s(h_k), W_e(h_k)
    V_e = model.V_e if model.V_e is not None else model.V_s
    v_s = model.V_s(h) if model.V_s is not None else k_s
    v_e = V_e(h) if V_e is not None else k_e
    split = cfg.memory == "split"
    w = recency_weight(length - 1, seq_len=length) if split else torch.ones(length - 1, dtype=torch.float64)
    state, out = None, []
    for t in range(length - 1):
        s = slice(t, t + 1)
        res = drex_memory(
            k_s[:, s], k_e[:, s], v_sem=v_s[:, s], v_epi=v_e[:, s], eta=1.0 - cfg.alpha, thresh=cfg.thresh,
            gate=cfg.gate if split else "or", epi_weight=w[s], initial_state=state, impl="vectorised",
        )  # fmt: skip
        state = res.state
        out.append([state.sem.flatten(1).norm(dim=1).mean().item(), state.epi.flatten(1).norm(dim=1).mean().item()])
    return np.asarray(out)
