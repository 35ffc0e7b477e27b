"""The frozen *reader* backbone AMS attaches to: the book's backbone taught the session format.

The seed's backbone (Qwen2.5-1.5B-Instruct) reads facts from its prompt: its full-history mode D
scores 100%. The book's backbone (``memnb.models.backbone``, Shakespeare only) has never seen a
"User: …\\nAssistant: …" exchange and cannot copy a fact from its prompt, so every mode would sit
at 0% and no comparison would mean anything. Following the reproduction plan of
book/appendix/ams.md §7 (sessions in the D and C prompt formats, so that the backbone learns to
read facts from its prompt), the backbone is fine-tuned once on random sessions built from the
**training** entity lists only (``sessions.make_session(heldout=False)``), in both prompt styles
("User: fact" history and "Context: fact" retrieval), with 1-8 facts per session, next-token
loss on every token plus the answer tokens' loss again, and with 70% of the entities replaced
by random pseudo-words so that the only way to answer is to copy from the prompt. It is then
frozen (``eval()``, no gradients) for the whole chapter; every
evaluation uses held-out entities it never saw in an answer. Cached like the backbone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from memnb.ams import sessions
from memnb.cache import cached_dir
from memnb.seeding import seed_everything
from memnb.train import TrainConfig, train
from memnb.train.backbone import load_backbone


@dataclass(frozen=True)
class ReaderConfig:
    steps: int
    batch_size: int = 8
    lr: float = 1e-3
    max_facts: int = 8
    seed: int = 0


CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"


def pseudo_word(r: np.random.Generator) -> str:
    """A random 2-3 syllable word ("Kobalu"): an entity only copying can answer."""
    w = "".join(r.choice(list(CONSONANTS)) + r.choice(list(VOWELS)) for _ in range(int(r.integers(2, 4))))
    return w.capitalize() if r.random() < 0.5 else w


def reader_example(seed: int, max_facts: int, p_pseudo: float = 0.7) -> tuple[str, str]:
    """One training example (prompt, answer): a train-entity session in a random style, one
    question. With probability ``p_pseudo`` every entity is replaced by a pseudo-word, so the
    answer cannot come from the prior and must be copied from the prompt."""
    r = np.random.default_rng(seed)
    n_total = int(r.integers(1, max_facts + 1))
    n_id = int(r.integers(1, min(n_total, len(sessions.SLOTS)) + 1))
    n_total = max(n_total, n_id)
    s = sessions.make_session(seed, n_identity=n_id, heldout=False, n_total=n_total)
    if r.random() < p_pseudo:
        for k, (_, _, gold) in enumerate(s.queries):
            new = pseudo_word(r)
            s.facts[gold] = s.facts[gold].replace(s.answers[k], new)
            s.answers[k] = new
    k = int(r.integers(len(s.queries)))
    q, _, gold = s.queries[k]
    style = "history" if r.random() < 0.5 else "context"
    facts = s.facts if style == "history" or r.random() < 0.5 else [s.facts[gold]]
    return sessions.prompt_for(facts, q, style=style), f" {s.answers[k]}.\n"


def reader_batch(tok, seed: int, step: int, cfg: ReaderConfig, n_positions: int):
    """``(inputs, targets, answer targets)`` ``[batch_size, width]`` of training step ``step``:
    every token is a target, the answer's tokens once more (``-100`` elsewhere); prompts longer
    than ``n_positions`` lose their left end."""
    pairs = [reader_example(10_000 * seed + step * cfg.batch_size + b, cfg.max_facts) for b in range(cfg.batch_size)]
    ids = [(tok.encode(p), tok.encode(a) + [tok.eos_id]) for p, a in pairs]
    ids = [(p[-(n_positions - len(a)) :], a) for p, a in ids]  # cut long prompts from the left
    width = max(len(p) + len(a) for p, a in ids)
    x = torch.full((len(ids), width), tok.pad_id)
    y = torch.full((len(ids), width), -100)
    ans = torch.full((len(ids), width), -100)
    for i, (p, a) in enumerate(ids):
        row = torch.tensor(p + a)
        x[i, : len(row)] = row
        y[i, : len(row)] = row
        ans[i, len(p) : len(row)] = row[len(p) :]
    return x, y, ans


def reader_loss(model, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], state):
    """Next-token cross-entropy on every token plus on the answer tokens (a Hugging Face LM)."""
    x, y, ans = batch
    logits = model(input_ids=x, attention_mask=(y != -100).long()).logits[:, :-1].flatten(0, 1)
    loss = F.cross_entropy(logits, y[:, 1:].flatten(), ignore_index=-100) + F.cross_entropy(
        logits, ans[:, 1:].flatten(), ignore_index=-100
    )
    return loss, state, {}


def train_config(cfg: ReaderConfig) -> TrainConfig:
    """The fine-tune's optimiser: AdamW with torch's betas, every parameter decayed (0.01), clip 1,
    a 20-step warmup ramp times a linear decay to a tenth of ``lr`` (``schedule="linear"``)."""
    adamw = {"betas": (0.9, 0.999), "weight_decay": 0.01, "decay_all": True}
    return TrainConfig(steps=cfg.steps, lr=cfg.lr, schedule="linear", warmup=20, min_lr_ratio=0.1, **adamw)


def _build(cfg: ReaderConfig, profile: str, folder: Path) -> None:
    model, tok, _ = load_backbone(profile)
    model.requires_grad_(True).train()
    seed_everything(cfg.seed, threads=1)
    npos = int(model.config.n_positions)
    history = train(
        model,
        lambda step: reader_batch(tok, cfg.seed, step, cfg, npos),
        train_config(cfg),
        loss_fn=reader_loss,
        desc="reader",
    )
    model.eval().save_pretrained(folder)
    losses = [round(row["train_loss"], 4) for row in history]
    (folder / "history.json").write_text(json.dumps({"loss": losses}))


def load_reader(profile: str, cfg: ReaderConfig):
    """``(model, tokenizer, info)``: the frozen reader for ``profile`` (built once, cached)."""
    from transformers import GPT2LMHeadModel

    _, tok, binfo = load_backbone(profile)
    config = {"reader": asdict(cfg), "backbone": binfo["config"], "profile": profile}
    folder = cached_dir("ams_reader", config, lambda f: _build(cfg, profile, f))
    model = GPT2LMHeadModel.from_pretrained(folder).eval()
    model.requires_grad_(False)
    return model, tok, {"config": asdict(cfg), "history": json.loads((folder / "history.json").read_text())}
