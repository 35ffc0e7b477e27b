"""The small frozen backbone: a GPT-2-style ``transformers`` model trained here, once.

Later chapters need a pretrained causal LM to attach memory to (AMS's prefix injection) and to
generate text for MAUVE (HRS). No pretrained weights may be downloaded, so the book trains its
own: ``transformers.GPT2LMHeadModel`` (Radford et al. 2019: learned absolute positions,
pre-LayerNorm blocks, GELU MLP, tied LM head) on the Shakespeare training split with the
book's byte-level BPE, seed 0. It is cached under ``data/cache/backbone/<config hash>/`` in
the ``save_pretrained`` format and loaded frozen (``eval()``, no gradients).

``load_backbone(profile)`` returns the cached model or trains it first ("load a checkpoint if
present, else train", as in uvadlc_notebooks), so any chapter can rely on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn

from memnb import profiles
from memnb.cache import cached_dir
from memnb.seeding import seed_everything
from memnb.train import TrainConfig


@dataclass(frozen=True)
class BackboneConfig:
    n_layer: int
    n_embd: int
    n_head: int
    n_positions: int
    bpe_vocab: int
    seq_len: int
    batch_size: int
    steps: int
    lr: float
    seed: int = 0


BACKBONES = {
    "ci": BackboneConfig(
        n_layer=2, n_embd=64, n_head=2, n_positions=128, bpe_vocab=1024, seq_len=64, batch_size=8, steps=30, lr=3e-3
    ),
    "cpu": BackboneConfig(
        n_layer=4,
        n_embd=128,
        n_head=4,
        n_positions=512,
        bpe_vocab=4096,
        seq_len=128,
        batch_size=16,
        steps=1000,
        lr=2e-3,
    ),
    "gpu": BackboneConfig(
        n_layer=8,
        n_embd=512,
        n_head=8,
        n_positions=1024,
        bpe_vocab=4096,
        seq_len=512,
        batch_size=32,
        steps=8000,
        lr=6e-4,
    ),
}


class CausalLM(nn.Module):
    """Adapter giving a ``transformers`` causal LM the memnb interface ``(idx, state) -> (logits, state)``.

    It is stateless (``state`` is always ``None``): each call sees only ``idx``, at most
    ``max_context`` tokens (the model's learned positions), and ``generate.sample`` re-feeds the
    context accordingly.
    """

    def __init__(self, hf_model: nn.Module) -> None:
        super().__init__()
        self.hf = hf_model
        self.max_context = int(hf_model.config.n_positions)

    def forward(self, idx: torch.Tensor, state=None):
        return self.hf(input_ids=idx).logits, None


def _gpt2(cfg: BackboneConfig, vocab_size: int, eos_id: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    conf = GPT2Config(
        vocab_size=vocab_size,
        n_positions=cfg.n_positions,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(conf)


def untrained_backbone(profile: str = profiles.DEFAULT_PROFILE, *, seed: int = 0):
    """The backbone's architecture at random initialisation (``seed``), frozen: a control for
    anything that attributes an effect to what the backbone learned."""
    from memnb.data import tokenizers

    cfg = BACKBONES[profiles.check_profile(profile)]
    tok = tokenizers.get_tokenizer("bpe", cfg.bpe_vocab)
    seed_everything(seed)
    model = _gpt2(cfg, tok.vocab_size, tok.eos_id).eval()
    model.requires_grad_(False)
    return model, tok


def load_backbone(profile: str = profiles.DEFAULT_PROFILE, *, device: torch.device | str = "cpu"):
    """The frozen backbone for ``profile`` and its tokenizer: ``(model, tokenizer, info)``.

    ``info`` holds the config, the cache folder and the training history (per-step loss and
    the final validation loss).
    """
    from transformers import GPT2LMHeadModel

    from memnb.data import tokenizers
    from memnb.lm import fit_lm

    cfg = BACKBONES[profiles.check_profile(profile)]
    tok = tokenizers.get_tokenizer("bpe", cfg.bpe_vocab)
    config = {"backbone": asdict(cfg), "tokenizer": tok.name}

    def build(folder: Path) -> None:
        seed_everything(cfg.seed)
        train_ids = tokenizers.encode_corpus("train", tok)
        val_ids = tokenizers.encode_corpus("validation", tok)
        model = _gpt2(cfg, tok.vocab_size, tok.eos_id)
        history = fit_lm(
            CausalLM(model).to(device),
            train_ids,
            val_ids,
            TrainConfig(steps=cfg.steps, lr=cfg.lr, warmup=max(1, cfg.steps // 20), eval_every=max(1, cfg.steps // 5)),
            seq_len=cfg.seq_len,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            val_tokens=64 * cfg.seq_len,
            desc="backbone",
        )
        model.cpu().save_pretrained(folder)
        (folder / "history.json").write_text(json.dumps(history))

    folder = cached_dir("backbone", config, build)
    model = GPT2LMHeadModel.from_pretrained(folder).to(device).eval()
    model.requires_grad_(False)
    info = {"config": asdict(cfg), "folder": str(folder), "history": json.loads((folder / "history.json").read_text())}
    return model, tok, info
