"""Training a decoder on multi-query associative recall (MQAR; ``memnb.data.tasks.mqar``): one
run of chapter 50 (and of its pilot, ``memnb.leaderboard.mqar_pilot``).

One run (``MQARRun``) trains ``memnb.models.Decoder`` with one memory in every layer behind a
short causal convolution (``DecoderConfig.short_conv``, kernel 2 by default: a learned token
shift, as Zoology's short-convolution models have), with the book's loop (``memnb.train.train``:
AdamW, gradient clipping at 1, a constant lr or the book's warmup-then-cosine schedule):

- **data**: step s draws a fresh batch ``make_mqar(batch_size, seed=h(seed, 0, s))``, a pure
  function of (seed, step), so every contender of one seed sees the same batches (paired);
- **loss**: the NLL of every query's value (``memnb.eval.nll.target_nll`` over the scored
  positions, −100 elsewhere), i.e. every query is supervised;
- **evaluation**: a held-out set (``eval_n`` examples from ``h(seed, 1)``, never a training
  batch, the same for every contender of a seed): accuracy = the fraction of all queries whose
  argmax is the value, and the mean NLL; taken every ``steps / 8`` steps, so a learning curve of
  eight points comes with every run, and at the end at the training length and at each
  ``length_multiples`` × length with as many × pairs (Zoology's (64, 4) → (128, 8) → (256, 16));
- **convergence**: ``gain_last_quarter`` = accuracy at the end − accuracy at 3/4 of the steps
  (the chapter's "still climbing?" control);
- **cost**: ``state_floats`` (floats of recurrent state per sequence after ``seq_len`` tokens,
  summed over layers, the short convolution's buffer included; attention's is its KV cache) and
  ``train_flops_per_token`` (``torch.utils.flop_counter`` over one forward and backward pass of a
  ``[1, seq_len]`` batch, divided by its tokens: matmuls and attention, not elementwise ops).

Pilot (d = 64, L = 64, kv = 4, V = 320, batch 64, one seed, one thread; held-out accuracy after
the given steps; ``python -m memnb.leaderboard.mqar_pilot``), on which the chapter's defaults
were chosen:

    attention, no conv, lr 3e-3, V = 128, 2000 steps                   0.25 (= 1/kv: flat)
    attention, conv 2, cosine lr 3e-3, V = 128, 200 steps               0.11
    attention, conv 2, constant lr 3e-3, 300 / 400 steps                0.91 / 0.96
    attention, conv 2, constant lr 1e-2, 100 / 400 steps                0.91 / 0.99
    gated delta rule, conv 2, 4 heads, constant lr 1e-2, 800 steps      0.14 (climbing)
    gated delta rule, conv 2, 1 head,  constant lr 1e-2, 300 / 400      0.52 / 0.86
    Mamba-2, conv 2, constant lr 1e-2, V = 128, 400 steps               0.10 (climbing)

The memory names are the registry's (``memnb.layers.registry.MEMORIES``) plus two that are not
there: ``attention_nope`` (full attention without positions) and ``gated_delta_rule``
(``memnb.layers.GatedDeltaNet``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode, _FlopCounterMode

from memnb.data.tasks.base import TaskBatch
from memnb.data.tasks.mqar import check_mqar, make_mqar
from memnb.eval.nll import target_nll, task_logits
from memnb.layers import CausalSelfAttention, GatedDeltaNet, registry
from memnb.layers.state import state_tensors
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, lm_objective, train

EXTRA_MIXERS: dict[str, Callable[[DecoderConfig, int], nn.Module]] = {
    "attention_nope": lambda c, i: CausalSelfAttention(c.d_model, c.n_heads, rope_base=None),
    "gated_delta_rule": lambda c, i: GatedDeltaNet(c.d_model, c.n_heads),
}
CURVE_POINTS = 8  # evaluations during training: every steps / 8


def mixer(name: str, segment_len: int = 64) -> Callable[[DecoderConfig, int], nn.Module]:
    """A ``Decoder`` mixer factory for ``name`` (a registry memory or one of ``EXTRA_MIXERS``)."""
    if name in EXTRA_MIXERS:
        return EXTRA_MIXERS[name]
    return registry.mixer(name, segment_len)


def known_memory(name: str) -> bool:
    return name in EXTRA_MIXERS or name in registry.MEMORIES


@dataclass(frozen=True)
class MQARRun:
    """Everything one MQAR training run depends on."""

    memory: str = "attention"
    short_conv: int = 2
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 1
    seq_len: int = 64
    n_pairs: int = 4
    vocab_size: int = 320
    power_a: float = 0.01
    batch_size: int = 32
    lr: float = 1e-2
    schedule: str = "constant"  # TrainConfig's: "constant" or "cosine" (warmup, then down to lr/10)
    warmup: int = 0
    weight_decay: float = 0.0
    steps: int = 480
    seed: int = 0
    eval_n: int = 256
    length_multiples: tuple[int, ...] = (2, 4)  # generalisation: × seq_len with × n_pairs
    segment_len: int = 16  # the registry's segment length: the sliding window's width, other memories' segments

    def __post_init__(self) -> None:
        object.__setattr__(self, "length_multiples", tuple(self.length_multiples))
        check_mqar(self.seq_len, self.n_pairs, self.vocab_size, self.power_a)
        for m in self.length_multiples:
            check_mqar(m * self.seq_len, m * self.n_pairs, self.vocab_size, self.power_a)
        if not known_memory(self.memory):
            registry.check(self.memory)
        if self.steps < CURVE_POINTS or self.steps % CURVE_POINTS:
            raise ValueError(
                f"steps must be a positive multiple of {CURVE_POINTS} (the curve's points), got {self.steps}"
            )

    @property
    def eval_every(self) -> int:
        return self.steps // CURVE_POINTS

    def decoder(self) -> Decoder:
        cfg = DecoderConfig(self.vocab_size, self.d_model, self.n_layers, self.n_heads, short_conv=self.short_conv)
        return Decoder(cfg, mixer(self.memory, self.segment_len))


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def batches(run: MQARRun) -> Callable[[int], tuple[torch.Tensor, torch.Tensor]]:
    """``get_batch(step)``: a fresh MQAR batch, a pure function of ``(run.seed, step)``."""

    def get_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        b = make_mqar(
            run.batch_size,
            seed=_seed(run.seed, 0, step),
            seq_len=run.seq_len,
            n_pairs=run.n_pairs,
            vocab_size=run.vocab_size,
            power_a=run.power_a,
        )
        return b.inputs, b.targets

    return get_batch


def eval_set(run: MQARRun, multiple: int = 1) -> TaskBatch:
    """The held-out examples of ``run`` at ``multiple`` × its length and pairs."""
    return make_mqar(
        run.eval_n,
        seed=_seed(run.seed, 1, multiple),
        seq_len=multiple * run.seq_len,
        n_pairs=multiple * run.n_pairs,
        vocab_size=run.vocab_size,
        power_a=run.power_a,
    )


@torch.no_grad()
def score(model: nn.Module, batch: TaskBatch, chunk: int = 128) -> dict[str, float]:
    """``{"accuracy", "nll"}`` over every query of ``batch`` (argmax = value; NLL in nats),
    ``chunk`` examples at a time."""
    hits, nll, n = 0, 0.0, 0
    for i in range(0, len(batch.inputs), chunk):
        x, y = batch.inputs[i : i + chunk], batch.targets[i : i + chunk]
        logits = task_logits(model, x)
        mask = y != -100
        hits += ((logits.argmax(-1) == y) & mask).sum().item()
        nll += target_nll(logits, y, reduction="sum").item()
        n += mask.sum().item()
    return {"accuracy": hits / n, "nll": nll / n}


def state_floats(model: Decoder, seq_len: int) -> int:
    """Floats of recurrent state per sequence after ``seq_len`` tokens, summed over layers (for
    attention its KV cache; the short conv's last inputs included)."""
    with torch.no_grad():
        _, state = model(torch.zeros(1, seq_len, dtype=torch.long))
    return sum(t.numel() for t in state_tensors(state))


def train_flops_per_token(model: Decoder, run: MQARRun) -> float:
    """FLOPs of one forward and backward pass per token (counted, a ``[1, seq_len]`` batch)."""
    x, y = batches(run)(0)
    counter = FlopCounterMode(display=False)
    with _FlopCounterMode(counter):  # the dispatch mode alone: the module tracker breaks on some states
        logits, _ = model(x[:1])
        target_nll(logits, y[:1]).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / run.seq_len


def gain_last_quarter(curve: list[dict]) -> float:
    """Accuracy at the end minus accuracy at 3/4 of the steps (the curve has ``CURVE_POINTS``)."""
    at = {r["step"]: r["accuracy"] for r in curve}
    last = max(at)
    return at[last] - at[last * 3 // 4]


def train_mqar(run: MQARRun, *, progress: bool = False) -> dict:
    """Train one run; return its config, learning curve, held-out scores (training length and
    each multiple), state size, FLOPs and timings (wall seconds and this process's CPU seconds)."""
    seed_everything(run.seed, threads=None)
    model = run.decoder()
    held_out = eval_set(run)
    cfg = TrainConfig(
        run.steps,
        lr=run.lr,
        schedule=run.schedule,
        warmup=run.warmup,
        weight_decay=run.weight_decay,
        eval_every=run.eval_every,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    history = train(
        model,
        batches(run),
        cfg,
        loss_fn=lm_objective(target_nll),
        evaluate=lambda m: score(m, held_out),
        desc=f"mqar {run.memory}",
        progress=progress,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    model.eval()
    curve = [{k: r[k] for k in ("step", "train_loss", "accuracy", "nll")} for r in history if "accuracy" in r]
    longer = {m: score(model, eval_set(run, m)) for m in run.length_multiples}
    return {
        "run": asdict(run),
        "params": model.num_params(),
        "state_floats": state_floats(model, run.seq_len),
        "train_flops_per_token": train_flops_per_token(model, run),
        "curve": curve,
        "accuracy": curve[-1]["accuracy"],
        "nll": curve[-1]["nll"],
        "gain_last_quarter": gain_last_quarter(curve),
        "longer": {str(m): s["accuracy"] for m, s in longer.items()},
        "wall_s": wall,
        "cpu_s": cpu,
    }
