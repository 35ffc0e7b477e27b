"""Training a decoder on multi-query associative recall (MQAR; ``memnb.data.tasks.mqar``): the
pieces of the recall leaderboard (issue 16) and of its pilot (``memnb.leaderboard.mqar_pilot``).

One run (``MQARRun``) trains ``memnb.models.Decoder`` with one memory in every layer, optionally
behind a short causal convolution (``DecoderConfig.short_conv``), with the book's loop
(``memnb.train.train``: AdamW and gradient clipping; the book's schedule, linear warmup then
cosine decay to lr/10 at the last step, or a constant lr):

- **data**: step s draws a fresh batch ``make_mqar(batch_size, seed=h(seed, 0, s))``, a pure
  function of (seed, step), so every contender of one seed sees the same batches (paired);
- **loss**: the NLL of every query's value (``memnb.eval.nll.target_nll`` over the scored
  positions, −100 elsewhere), i.e. every query is supervised;
- **evaluation**: a held-out set (``eval_n`` examples from ``h(seed, 1)``, never a training
  batch): accuracy = the fraction of all queries whose argmax is the value, and the mean NLL;
  taken every ``eval_every`` steps and at the end, so a learning curve comes with every run.

The schedule matters on short budgets: in the pilot (d = 64, L = 64, kv = 4, short conv 2), 200
steps of the cosine schedule reached 0.11 held-out accuracy and 200 steps at a constant 3e-3
reached 0.87 (no warmup; the cosine lr is down to half its peak by step 116).

The memory names are the registry's (``memnb.layers.registry.MEMORIES``) plus two that are not
there (yet): ``attention_nope`` (full attention without positions) and ``gated_delta_rule``
(``memnb.layers.GatedDeltaNet``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn

from memnb.data.tasks.base import TaskBatch
from memnb.data.tasks.mqar import check_mqar, make_mqar
from memnb.eval.nll import target_nll, task_logits
from memnb.layers import CausalSelfAttention, GatedDeltaNet, registry
from memnb.layers.state import state_tensors
from memnb.models.decoder import Decoder, DecoderConfig
from memnb.train import TrainConfig, lm_objective, train

EXTRA_MIXERS: dict[str, Callable[[DecoderConfig, int], nn.Module]] = {
    "attention_nope": lambda c, i: CausalSelfAttention(c.d_model, c.n_heads, rope_base=None),
    "gated_delta_rule": lambda c, i: GatedDeltaNet(c.d_model, c.n_heads),
}


def mixer(name: str, segment_len: int = 64) -> Callable[[DecoderConfig, int], nn.Module]:
    """A ``Decoder`` mixer factory for ``name`` (a registry memory or one of ``EXTRA_MIXERS``)."""
    if name in EXTRA_MIXERS:
        return EXTRA_MIXERS[name]
    return registry.mixer(name, segment_len)


@dataclass(frozen=True)
class MQARRun:
    """Everything one MQAR training run depends on."""

    memory: str = "attention"
    short_conv: int = 0
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    seq_len: int = 64
    n_pairs: int = 4
    vocab_size: int = 128
    power_a: float = 0.01
    batch_size: int = 64
    lr: float = 3e-3
    schedule: str = "cosine"  # TrainConfig's: "cosine" (warmup, then down to lr/10 at the end) or "constant"
    warmup: int = 20
    weight_decay: float = 0.1
    steps: int = 200
    seed: int = 0
    eval_n: int = 512
    eval_every: int = 50
    segment_len: int = 64  # the registry's segment length for segmented memories

    def __post_init__(self) -> None:
        check_mqar(self.seq_len, self.n_pairs, self.vocab_size, self.power_a)
        if self.memory not in EXTRA_MIXERS:
            registry.check(self.memory)

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


def eval_set(run: MQARRun, **overrides) -> TaskBatch:
    """The held-out examples of ``run`` (``overrides``: e.g. a longer ``seq_len`` and more pairs)."""
    kw = {"seq_len": run.seq_len, "n_pairs": run.n_pairs, "vocab_size": run.vocab_size, "power_a": run.power_a}
    return make_mqar(run.eval_n, seed=_seed(run.seed, 1), **{**kw, **overrides})


@torch.no_grad()
def score(model: nn.Module, batch: TaskBatch) -> dict[str, float]:
    """``{"accuracy", "nll"}`` over every query of ``batch`` (argmax = value; NLL in nats)."""
    logits = task_logits(model, batch.inputs)
    mask = batch.answer_mask
    hits = (logits.argmax(-1) == batch.targets) & mask
    return {
        "accuracy": hits.sum().item() / mask.sum().item(),
        "nll": target_nll(logits, batch.targets, reduction="mean").item(),
    }


def state_floats(model: Decoder, seq_len: int) -> int:
    """Floats of recurrent state per sequence after ``seq_len`` tokens, summed over layers (for
    attention its KV cache; the short conv's last inputs included)."""
    with torch.no_grad():
        _, state = model(torch.zeros(1, seq_len, dtype=torch.long))
    return sum(t.numel() for t in state_tensors(state))


def train_mqar(run: MQARRun, *, progress: bool = False) -> dict:
    """Train one run; return its config, learning curve, final held-out scores and timings
    (wall seconds and this process's CPU seconds, ``time.process_time``)."""
    torch.manual_seed(run.seed)
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
    curve = [{k: r[k] for k in ("step", "train_loss", "accuracy", "nll")} for r in history if "accuracy" in r]
    return {
        "run": asdict(run),
        "params": model.num_params(),
        "state_floats": state_floats(model, run.seq_len),
        "curve": curve,
        "accuracy": curve[-1]["accuracy"],
        "nll": curve[-1]["nll"],
        "wall_s": wall,
        "cpu_s": cpu,
    }
