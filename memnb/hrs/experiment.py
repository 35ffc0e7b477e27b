"""Chapter 30's experiment: one engram arm × one seed, trained and measured
(chapter 30's 2×2 design; book/appendix/hrs.md §3).

Arms (injection path × engram source, ``memnb.hrs.model``):

    none          V17: no engram
    prepend_self  V16: window engram of the same sequence prepended to the causal sequence
    prepend_ema   prepend path, V18's EMA buffer as the source
    xattn_self    cross-attention path, V16's same-sequence window engram as the source
    xattn_ema     V18: EMA buffer read by gated cross-attention at the odd blocks
    xattn_const   V18 with the buffer replaced by one learned vector

Procedure for one (arm, seed):

1. ``seed_everything(seed)``; build the arm; train with ``memnb.train.train`` on random windows
   of ``seq_len`` training tokens drawn from ``seed`` (so every arm of a seed sees the same
   batches), AdamW, warmup + cosine.
2. Held-out loss (nats/token) on the first ``n_eval`` non-overlapping windows of ``seq_len``
   tokens of the validation stream (the same windows for every arm and seed), with the engram
   present, absent, shuffled across sequences and, for same-sequence engrams, restricted to
   past windows (what the model has when generating).
3. Causality probe (``memnb.hrs.probes``) on 8 of those windows, edit positions
   ``probe_positions``; cross-attention diagnostics on 16 of them; the gates.
4. Generations: ``n_samples`` windows of the validation stream drawn from ``seed``; prompt = the
   first ``prompt_len`` tokens, reference = the next ``gen_len`` true tokens; the model samples
   ``gen_len`` tokens (``memnb.hrs.sampling``, sampling seed = ``seed``) with the engram present
   and, for the arms in ``off_arms`` (V16 and V18, the seed's ON/OFF table), absent.
   ``mauve_by_seed`` scores generations against the references of the same seed
   (continuations only, the prompt stripped from both).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from memnb.data import encode_corpus, get_tokenizer
from memnb.eval.mauve import mauve_features, text_features
from memnb.eval.nll import total_nll
from memnb.hrs.model import EngramConfig, EngramLM
from memnb.hrs.probes import causality_probe, cross_attention_stats
from memnb.hrs.sampling import sample_batch
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, random_windows, train

ARMS: dict[str, tuple[str, str]] = {
    "none": ("none", "self"),
    "prepend_self": ("prepend", "self"),
    "prepend_ema": ("prepend", "ema"),
    "xattn_self": ("xattn", "self"),
    "xattn_ema": ("xattn", "ema"),
    "xattn_const": ("xattn", "const"),
}


@dataclass
class Setup:
    """Sizes shared by every arm (chapter parameters)."""

    d_model: int = 64
    n_layers: int = 4
    n_heads: int = 4
    seq_len: int = 128
    batch_size: int = 16
    steps: int = 300
    lr: float = 3e-3
    schedule: str = "cosine"  # memnb.train.TrainConfig.schedule
    weight_decay: float = 0.1
    window: int = 32
    per_window: int = 2
    n_slots: int = 32
    update_interval: int = 10
    momentum: float = 0.9
    engram_dropout: float = 0.1
    n_eval: int = 64
    probe_positions: tuple[int, ...] = ()  # () -> (window // 2, seq_len // 2, seq_len - 1)
    n_samples: int = 48  # 0: no generations (and no MAUVE)
    prompt_len: int = 48
    gen_len: int = 80
    temperature: float = 0.8
    top_k: int = 20
    off_arms: tuple[str, ...] = ("prepend_self", "xattn_ema")  # also sample with the engram absent

    def __post_init__(self) -> None:
        if self.prompt_len + self.gen_len > self.seq_len:
            raise ValueError(
                f"prompt_len + gen_len ({self.prompt_len + self.gen_len}) must fit in seq_len ({self.seq_len}): "
                "the models never saw longer contexts"
            )
        if self.seq_len % self.window:
            raise ValueError(f"seq_len ({self.seq_len}) must be a multiple of window ({self.window})")
        if not self.probe_positions:
            self.probe_positions = (self.window // 2, self.seq_len // 2, self.seq_len - 1)
        if not all(1 <= s < self.seq_len for s in self.probe_positions):
            raise ValueError(f"probe_positions must lie in [1, seq_len), got {self.probe_positions}")

    def model_config(self, arm: str, vocab_size: int) -> EngramConfig:
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; arms: {', '.join(ARMS)}")
        injection, source = ARMS[arm]
        return EngramConfig(
            vocab_size=vocab_size,
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            injection=injection,
            source=source,
            window=self.window,
            per_window=self.per_window,
            n_slots=self.n_slots,
            update_interval=self.update_interval,
            momentum=self.momentum,
            engram_dropout=self.engram_dropout,
        )


def eval_windows(ids: torch.Tensor, seq_len: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` non-overlapping (input, target) windows of ``seq_len`` tokens of ``ids``."""
    need = n * seq_len + 1
    if ids.numel() < need:
        raise ValueError(f"validation stream has {ids.numel()} tokens, {need} needed for n_eval={n}")
    x = ids[: n * seq_len].view(n, seq_len)
    y = ids[1 : n * seq_len + 1].view(n, seq_len)
    return x, y


def heldout_loss(model: EngramLM, x: torch.Tensor, y: torch.Tensor, engram: str, batch_size: int = 16) -> float:
    """Mean next-token NLL (nats/token) over the windows, engram in mode ``engram``: the total
    (``memnb.eval.nll.total_nll``) over the number of targets. Leaves the model in eval mode."""
    model.eval()
    return total_nll(model, x, y, batch_size=batch_size, engram=engram) / y.numel()


def generation_prompts(ids: torch.Tensor, setup: Setup, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(prompts ``[n, prompt_len]``, true continuations ``[n, gen_len]``) at windows drawn from ``seed``."""
    span = setup.prompt_len + setup.gen_len
    starts = np.sort(np.random.default_rng([seed, 30]).choice(ids.numel() - span, setup.n_samples, replace=False))
    win = torch.stack([ids[s : s + span] for s in starts])
    return win[:, : setup.prompt_len], win[:, setup.prompt_len :]


def run_arm(arm: str, seed: int, train_ids: torch.Tensor, val_ids: torch.Tensor, tokenizer, setup: Setup) -> dict:
    """Train ``arm`` with ``seed`` and measure it (module docstring, steps 1–4)."""
    seed_everything(seed, threads=None)
    model = EngramLM(setup.model_config(arm, tokenizer.vocab_size))
    tcfg = train_config(setup)
    t0 = time.perf_counter()
    history = train(
        model, random_windows(train_ids, setup.seq_len, setup.batch_size, seed), tcfg, desc=f"{arm} seed {seed}"
    )
    train_s = time.perf_counter() - t0
    x, y = eval_windows(val_ids, setup.seq_len, setup.n_eval)
    has_engram = ARMS[arm][0] != "none"
    modes = ["present", "absent", "shuffled"] if has_engram else ["present"]
    if has_engram and ARMS[arm][1] == "self":
        modes.append("past_windows")
    losses = {mode: heldout_loss(model, x, y, mode) for mode in modes}
    probe = causality_probe(model, x[:8], setup.probe_positions)
    xattn = cross_attention_stats(model, x[:16]) if ARMS[arm][0] == "xattn" else []
    t0 = time.perf_counter()
    generations = {} if setup.n_samples == 0 else _generate(model, arm, seed, val_ids, tokenizer, setup)
    return {
        "arm": arm,
        "seed": seed,
        "params": model.num_params(),
        "train_loss": [h["train_loss"] for h in history],
        "losses": losses,
        "probe": probe,
        "xattn": xattn,
        "gates": model.gates(),
        "generations": generations,
        "train_s": train_s,
        "generate_s": time.perf_counter() - t0,
        "setup": asdict(setup),
    }


def run_job(arm: str, seed: int, setup: Setup) -> dict:
    """``run_arm`` on the book's character-level Shakespeare (training and validation plays), on one
    torch thread: a job for ``memnb.parallel.run_jobs`` whose numbers do not depend on the worker count."""
    torch.set_num_threads(1)
    tok = get_tokenizer("char")
    return run_arm(arm, seed, encode_corpus("train", tok), encode_corpus("validation", tok), tok, setup)


def train_config(setup: Setup) -> TrainConfig:
    """The training run of every arm: AdamW at ``lr`` after a 5% warmup, ``schedule``, ``weight_decay``."""
    return TrainConfig(
        steps=setup.steps,
        lr=setup.lr,
        warmup=max(1, setup.steps // 20),
        schedule=setup.schedule,
        weight_decay=setup.weight_decay,
    )


def _generate(model: EngramLM, arm: str, seed: int, val_ids: torch.Tensor, tokenizer, setup: Setup) -> dict:
    prompts, _ = generation_prompts(val_ids, setup, seed)
    return {
        mode: [
            tokenizer.decode(row.tolist())
            for row in sample_batch(
                model, prompts, setup.gen_len, temperature=setup.temperature, top_k=setup.top_k, seed=seed, engram=mode
            )
        ]
        for mode in (["present", "absent"] if arm in setup.off_arms else ["present"])
    }


def references(val_ids: torch.Tensor, tokenizer, setup: Setup, seed: int) -> list[str]:
    """The true continuations of seed ``seed``'s generation prompts, decoded."""
    return [tokenizer.decode(row.tolist()) for row in generation_prompts(val_ids, setup, seed)[1]]


def mauve_by_seed(runs: list[dict], refs: dict[int, list[str]]) -> list[dict]:
    """MAUVE(references of the seed, generations) for every run and generation mode; k-means
    seeded with the run's seed. Rows: ``{"arm", "seed", "mode", "mauve"}``."""
    ref_feats = {seed: text_features(texts) for seed, texts in refs.items()}
    rows = []
    for run in runs:
        for mode, texts in run["generations"].items():
            score = mauve_features(ref_feats[run["seed"]], text_features(texts), seed=run["seed"])
            rows.append({"arm": run["arm"], "seed": run["seed"], "mode": mode, "mauve": score})
    return rows
