"""The book's frozen backbone, loaded from its cache or trained there first.

``load_backbone(profile)`` returns the GPT-2-style model of ``memnb.models.backbone`` trained on
the Shakespeare training split with the book's BPE (``fit_lm``, seed 0), cached under
``data/cache/backbone/<config hash>/`` in the ``save_pretrained`` format, loaded frozen.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from memnb import profiles
from memnb.cache import cached_dir
from memnb.models.backbone import BACKBONES, CausalLM, gpt2
from memnb.seeding import seed_everything
from memnb.train.lm import fit_lm
from memnb.train.loop import TrainConfig


def load_backbone(profile: str = profiles.DEFAULT_PROFILE, *, device: torch.device | str = "cpu"):
    """The frozen backbone for ``profile`` and its tokenizer: ``(model, tokenizer, info)``.

    ``info`` holds the config, the cache folder and the training history (per-step loss and
    the final validation loss).
    """
    from transformers import GPT2LMHeadModel

    from memnb.data import tokenizers

    cfg = BACKBONES[profiles.check_profile(profile)]
    tok = tokenizers.get_tokenizer("bpe", cfg.bpe_vocab)
    config = {"backbone": asdict(cfg), "tokenizer": tok.name}

    def build(folder: Path) -> None:
        seed_everything(cfg.seed)
        train_ids = tokenizers.encode_corpus("train", tok)
        val_ids = tokenizers.encode_corpus("validation", tok)
        model = gpt2(cfg, tok.vocab_size, tok.eos_id)
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
